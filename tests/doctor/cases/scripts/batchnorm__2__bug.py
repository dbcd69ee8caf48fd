import tensorflow as tf
from tensorflow.keras.applications import EfficientNetB0
from tensorflow.keras.preprocessing.image import ImageDataGenerator

gen = ImageDataGenerator(horizontal_flip=True, validation_split=0.1)
train = gen.flow_from_directory("cells", target_size=(224, 224), batch_size=4, subset="training")
val = ImageDataGenerator(validation_split=0.1).flow_from_directory(
    "cells", target_size=(224, 224), batch_size=4, subset="validation")

effnet = EfficientNetB0(include_top=False, weights="imagenet", input_shape=(224, 224, 3), pooling="avg")
effnet.trainable = False
model = tf.keras.models.Sequential([  # expect: batchnorm
    effnet,
    tf.keras.layers.Dropout(0.3),
    tf.keras.layers.Dense(train.num_classes, activation="softmax"),
])
model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
model.fit(train, validation_data=val, epochs=5)

for layer in effnet.layers[-40:]:
    layer.trainable = True  # expect: batchnorm
model.compile(optimizer=tf.keras.optimizers.Adam(1e-5), loss="categorical_crossentropy",
              metrics=["accuracy"])
model.fit(train, validation_data=val, epochs=10)
