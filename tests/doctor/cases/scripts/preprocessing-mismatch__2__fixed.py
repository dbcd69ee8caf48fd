import tensorflow as tf
from tensorflow import keras

IMG_SIZE = 240
train_ds = keras.utils.image_dataset_from_directory(
    "cassava/train", validation_split=0.2, subset="training", seed=7,
    image_size=(IMG_SIZE, IMG_SIZE), batch_size=32)
val_ds = keras.utils.image_dataset_from_directory(
    "cassava/train", validation_split=0.2, subset="validation", seed=7,
    image_size=(IMG_SIZE, IMG_SIZE), batch_size=32)

augment = keras.Sequential([keras.layers.RandomFlip(), keras.layers.RandomRotation(0.15)])

inputs = keras.Input(shape=(IMG_SIZE, IMG_SIZE, 3))
x = augment(inputs)
# EfficientNet rescales inside the model: feed raw 0..255 pixels
base = keras.applications.EfficientNetB1(include_top=False, weights="imagenet",
                                         input_shape=(IMG_SIZE, IMG_SIZE, 3))
base.trainable = False
x = base(x, training=False)
x = keras.layers.GlobalAveragePooling2D()(x)
outputs = keras.layers.Dense(5, activation="softmax")(x)
model = keras.Model(inputs, outputs)
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(train_ds, validation_data=val_ds, epochs=10)
