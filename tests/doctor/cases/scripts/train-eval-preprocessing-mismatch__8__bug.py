# MobileNetV2 on 64x64 satellite tiles stored as .npy arrays.
import numpy as np
from tensorflow import keras


def fix(arr):
    return arr / 127.5 - 1.0


xa = fix(np.load("tiles_a.npy").astype("float32"))
ya = keras.utils.to_categorical(np.load("labels_a.npy"), 10)

base = keras.applications.MobileNetV2(input_shape=(64, 64, 3), include_top=False, weights="imagenet")
base.trainable = False
net = keras.Sequential([base, keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(10, activation="softmax")])
net.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
net.fit(xa, ya, epochs=10, validation_split=0.1)

xb = np.load("tiles_b.npy").astype("float32")
pred = net.predict(xb).argmax(1)  # expect: train-eval-preprocessing-mismatch
print((pred == np.load("labels_b.npy")).mean())
