# Handwritten digits from phone photos; more data by making altered copies of each photo.
import glob

import cv2
import numpy as np
from sklearn.model_selection import train_test_split
from tensorflow import keras


def a(img):
    return cv2.GaussianBlur(img, (5, 5), 0)


def b(img):
    return np.clip(img + np.random.normal(0, 8, img.shape), 0, 255)


X, Y = [], []
for path in glob.glob("digits/*/*.jpg"):
    img = cv2.resize(cv2.imread(path), (224, 224)).astype("float32")
    for f in (None, a, b):  # expect: data-leakage
        X.append(img if f is None else f(img))
        Y.append(int(path.split("/")[-2]))
x_tr, x_te, y_tr, y_te = train_test_split(np.array(X), np.array(Y), test_size=0.2)  # expect: data-leakage

base = keras.applications.ResNet50(include_top=False, pooling="avg", input_shape=(224, 224, 3))
base.trainable = False
net = keras.Sequential([keras.layers.Lambda(keras.applications.resnet50.preprocess_input), base,
                        keras.layers.Dense(10, activation="softmax")])
net.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
net.fit(x_tr, y_tr, epochs=10, validation_data=(x_te, y_te))
