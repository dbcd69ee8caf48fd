import numpy as np
from PIL import Image
from tensorflow import keras

IMG = (180, 180)
train_ds = keras.utils.image_dataset_from_directory("data/train", image_size=IMG, batch_size=32)
model = keras.Sequential([
    keras.layers.Rescaling(1.0 / 255, input_shape=IMG + (3,)),
    keras.layers.Conv2D(32, 3, activation="relu"),
    keras.layers.MaxPooling2D(),
    keras.layers.Flatten(),
    keras.layers.Dense(3, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(train_ds, epochs=10)


def classify(path):
    img = Image.open(path).convert("RGB").resize(IMG[::-1])
    x = np.expand_dims(np.asarray(img, dtype="float32"), 0)
    return train_ds.class_names[int(np.argmax(model.predict(x)))]


print(classify("cat.jpg"))
