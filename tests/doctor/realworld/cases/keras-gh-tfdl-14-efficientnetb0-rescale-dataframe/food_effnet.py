import pandas as pd
import tensorflow as tf
from tensorflow.keras import layers
from tensorflow.keras.preprocessing.image import ImageDataGenerator

IMG_SIZE = (224, 224)

train_df = pd.read_csv("food_train.csv")
test_df = pd.read_csv("food_test.csv")

train_datagen = ImageDataGenerator(rescale=1/255.)
test_datagen = ImageDataGenerator(rescale=1/255.)

train_data = train_datagen.flow_from_dataframe(train_df,
                                               x_col="filepath",
                                               y_col="label",
                                               target_size=IMG_SIZE,
                                               batch_size=32,
                                               class_mode="categorical")
test_data = test_datagen.flow_from_dataframe(test_df,
                                             x_col="filepath",
                                             y_col="label",
                                             target_size=IMG_SIZE,
                                             batch_size=32,
                                             class_mode="categorical",
                                             shuffle=False)

base_model = tf.keras.applications.EfficientNetB0(include_top=False)
base_model.trainable = False

inputs = layers.Input(shape=(224, 224, 3), name="input_layer")
x = base_model(inputs)
x = layers.GlobalAveragePooling2D(name="global_average_pooling_layer")(x)
outputs = layers.Dense(10, activation="softmax", name="output_layer")(x)
model_0 = tf.keras.Model(inputs, outputs)

model_0.compile(loss="categorical_crossentropy",
                optimizer=tf.keras.optimizers.Adam(),
                metrics=["accuracy"])

history_0 = model_0.fit(train_data,
                        epochs=5,
                        steps_per_epoch=len(train_data),
                        validation_data=test_data,
                        validation_steps=int(0.25 * len(test_data)))
