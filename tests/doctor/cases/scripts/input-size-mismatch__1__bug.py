import tensorflow as tf
from tensorflow.keras.applications.xception import Xception, preprocess_input
from tensorflow.keras.preprocessing.image import ImageDataGenerator

IMG_SHAPE = (299, 299, 3)

train_gen = ImageDataGenerator(preprocessing_function=preprocess_input, horizontal_flip=True)
val_gen = ImageDataGenerator(preprocessing_function=preprocess_input)
train = train_gen.flow_from_directory("monkeys/training", target_size=(229, 229), batch_size=32)  # expect: input-size-mismatch
val = val_gen.flow_from_directory("monkeys/validation", target_size=(299, 299), batch_size=32)  # expect: input-size-mismatch

base = Xception(weights="imagenet", include_top=False, input_shape=IMG_SHAPE)  # expect: input-size-mismatch
base.trainable = False
inputs = tf.keras.Input(shape=IMG_SHAPE)
x = base(inputs, training=False)
x = tf.keras.layers.GlobalAveragePooling2D()(x)
outputs = tf.keras.layers.Dense(10, activation="softmax")(x)
model = tf.keras.Model(inputs, outputs)
model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
model.fit(train, validation_data=val, epochs=10)
