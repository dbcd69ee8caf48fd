import numpy as np
from tensorflow import keras

images = np.load("bird_images.npy")
species = np.load("bird_species.npy")
np.random.shuffle(images)  # expect: label-order-mismatch
np.random.shuffle(species)  # expect: label-order-mismatch

model = keras.Sequential([
    keras.Input((96, 96, 3)),
    keras.layers.Rescaling(1 / 255),
    keras.layers.Conv2D(32, 3, activation="relu"),
    keras.layers.GlobalAveragePooling2D(),
    keras.layers.Dense(12, activation="softmax"),
])
model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(images, species, epochs=15, validation_split=0.2)  # expect: label-order-mismatch
