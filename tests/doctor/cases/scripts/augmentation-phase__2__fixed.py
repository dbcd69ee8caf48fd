import numpy as np
import tensorflow as tf
from tensorflow.keras.applications.resnet50 import ResNet50, preprocess_input
from tensorflow.keras.preprocessing.image import ImageDataGenerator

plain = ImageDataGenerator(preprocessing_function=preprocess_input)
train_flow = plain.flow_from_directory("parts/train", target_size=(224, 224), shuffle=False,
                                       class_mode="sparse", batch_size=64)
backbone = ResNet50(include_top=False, weights="imagenet", pooling="avg", input_shape=(224, 224, 3))
feats = backbone.predict(train_flow)
labels = train_flow.classes

head = tf.keras.Sequential([tf.keras.layers.Dense(4, activation="softmax", input_shape=(2048,))])
head.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
head.fit(feats, labels, epochs=30)

aug = ImageDataGenerator(preprocessing_function=preprocess_input)  # same as the feature phase
aug_flow = aug.flow_from_directory("parts/train", target_size=(224, 224), class_mode="sparse",
                                   batch_size=16)
inputs = tf.keras.Input((224, 224, 3))
outputs = head(backbone(inputs, training=False))
model = tf.keras.Model(inputs, outputs)
backbone.trainable = True
for layer in backbone.layers[:-30]:
    layer.trainable = False
model.compile(optimizer=tf.keras.optimizers.Adam(1e-5), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
model.fit(aug_flow, epochs=10)
