import tensorflow as tf
from tensorflow.keras import layers, models
from tensorflow.keras.applications import VGG16
from tensorflow.keras.applications.vgg16 import preprocess_input
from tensorflow.keras.preprocessing.image import ImageDataGenerator

IMG_SHAPE = (224, 224, 3)

train_gen = ImageDataGenerator(preprocessing_function=preprocess_input, horizontal_flip=True)
val_gen = ImageDataGenerator(preprocessing_function=preprocess_input)
train_data = train_gen.flow_from_directory("chest_xray/train", target_size=(224, 224),
                                           class_mode="binary", batch_size=32)
val_data = val_gen.flow_from_directory("chest_xray/val", target_size=(224, 224),
                                       class_mode="binary", batch_size=32)

conv_base = VGG16(weights="imagenet", include_top=False, input_shape=IMG_SHAPE)
conv_base.trainable = False

model = models.Sequential()
model.add(conv_base)
model.add(layers.Flatten())
model.add(layers.Dense(256, activation="relu"))
model.add(layers.Dense(1, activation="sigmoid"))

model.compile(loss="binary_crossentropy", optimizer=tf.keras.optimizers.RMSprop(learning_rate=2e-5),
              metrics=["accuracy"])
history = model.fit(train_data, epochs=20, validation_data=val_data)

