"""ResNet50V2 feature extraction then fine-tuning, with the BatchNormalization layers of the base
left frozen in the second phase and a low learning rate."""
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

IMG = 224
train_ds, val_ds = keras.utils.image_dataset_from_directory(
    "images",
    validation_split=0.2,
    subset="both",
    seed=42,
    image_size=(IMG, IMG),
    batch_size=32,
    label_mode="categorical",
)
num_classes = len(train_ds.class_names)
train_ds = train_ds.prefetch(tf.data.AUTOTUNE)
val_ds = val_ds.prefetch(tf.data.AUTOTUNE)

augment = keras.Sequential([layers.RandomFlip("horizontal"), layers.RandomRotation(0.05)])
base = keras.applications.ResNet50V2(include_top=False, weights="imagenet", input_shape=(IMG, IMG, 3))
base.trainable = False

inputs = keras.Input((IMG, IMG, 3))
x = augment(inputs)
x = keras.applications.resnet_v2.preprocess_input(x)
x = base(x, training=False)
x = layers.GlobalAveragePooling2D()(x)
x = layers.Dropout(0.2)(x)
outputs = layers.Dense(num_classes, activation="softmax")(x)
model = keras.Model(inputs, outputs)

model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="categorical_crossentropy", metrics=["accuracy"])
model.fit(train_ds, validation_data=val_ds, epochs=10)

base.trainable = True
for layer in base.layers:
    if isinstance(layer, layers.BatchNormalization):
        layer.trainable = False
for layer in base.layers[:-30]:
    layer.trainable = False
model.compile(optimizer=keras.optimizers.Adam(1e-5), loss="categorical_crossentropy", metrics=["accuracy"])
model.fit(
    train_ds,
    validation_data=val_ds,
    epochs=10,
    callbacks=[keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=3, restore_best_weights=True)],
)
model.save("resnet50v2_finetuned.keras")
