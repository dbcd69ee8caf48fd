"""Fine-tune Keras ConvNeXt-Tiny on an image folder with tf.data.

Keras ConvNeXt models normalise their input inside the model (include_preprocessing=True),
so they are fed raw 0-255 pixels. Augmentation layers sit in the model and are only active
in training; the base runs in inference mode so its normalisation statistics stay fixed.
"""
import tensorflow as tf
from tensorflow import keras

IMG = (224, 224)
BATCH = 32
DATA_DIR = "data/plants"

train_ds = keras.utils.image_dataset_from_directory(
    f"{DATA_DIR}/train", image_size=IMG, batch_size=BATCH, shuffle=True, seed=1337
)
val_ds = keras.utils.image_dataset_from_directory(
    f"{DATA_DIR}/val", image_size=IMG, batch_size=BATCH, shuffle=False
)
assert train_ds.class_names == val_ds.class_names
num_classes = len(train_ds.class_names)
train_ds = train_ds.prefetch(tf.data.AUTOTUNE)
val_ds = val_ds.prefetch(tf.data.AUTOTUNE)

augment = keras.Sequential(
    [keras.layers.RandomFlip("horizontal"), keras.layers.RandomRotation(0.1), keras.layers.RandomZoom(0.1)],
    name="augment",
)

base = keras.applications.ConvNeXtTiny(include_top=False, weights="imagenet", input_shape=IMG + (3,))
base.trainable = False

inputs = keras.Input(shape=IMG + (3,))
x = augment(inputs)
x = base(x, training=False)
x = keras.layers.GlobalAveragePooling2D()(x)
x = keras.layers.Dropout(0.2)(x)
outputs = keras.layers.Dense(num_classes, activation="softmax")(x)
model = keras.Model(inputs, outputs)

model.compile(
    optimizer=keras.optimizers.Adam(1e-3),
    loss=keras.losses.SparseCategoricalCrossentropy(),
    metrics=["accuracy"],
)
model.fit(train_ds, validation_data=val_ds, epochs=8)

base.trainable = True
model.compile(
    optimizer=keras.optimizers.AdamW(learning_rate=1e-5, weight_decay=1e-4),
    loss=keras.losses.SparseCategoricalCrossentropy(),
    metrics=["accuracy"],
)
model.fit(
    train_ds,
    validation_data=val_ds,
    epochs=10,
    callbacks=[keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=3, restore_best_weights=True)],
)
print(dict(zip(model.metrics_names, model.evaluate(val_ds))))
