import numpy as np
from tensorflow import keras

x_train = np.load("x_train.npy")
y_train = np.load("y_train.npy")
x_train = keras.applications.mobilenet.preprocess_input(x_train)

base = keras.applications.MobileNet(include_top=False, weights="imagenet", pooling="avg",
                                    input_shape=(224, 224, 3))
base.trainable = False
model = keras.Sequential([base, keras.layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
stop = keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=3)  # expect: monitor-metric-missing
model.fit(x_train, y_train, epochs=100, batch_size=64, callbacks=[stop])  # expect: monitor-metric-missing
