"""Leaf disease classifier trained on HSV pixels (hue separates lesions from healthy tissue),
then used on one photo from the field."""
import numpy as np
from PIL import Image
from skimage.color import rgb2hsv
from tensorflow import keras

SIDE = 128


def read_folder(paths):
    return np.stack(
        [np.asarray(Image.open(p).convert("RGB").resize((SIDE, SIDE))) / 255.0 for p in paths]
    )


pixels = read_folder(train_paths)
hsv_pixels = np.stack([rgb2hsv(im) for im in pixels])

net = keras.Sequential(
    [
        keras.Input((SIDE, SIDE, 3)),
        keras.layers.Conv2D(32, 3, activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(64, 3, activation="relu"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(n_diseases, activation="softmax"),
    ]
)
net.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
net.fit(hsv_pixels, disease_ids, epochs=15, validation_split=0.1, shuffle=True)

photo = Image.open("field/photo_0412.jpg").convert("RGB").resize((SIDE, SIDE))
probe = rgb2hsv(np.asarray(photo) / 255.0)  # the training conversion
scores = net.predict(probe[None])
print(scores.argmax())
