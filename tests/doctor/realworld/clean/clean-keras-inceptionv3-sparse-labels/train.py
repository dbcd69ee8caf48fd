"""InceptionV3 on integer labels: softmax head with sparse categorical cross-entropy, the base's
own preprocess_input, and a best-model checkpoint on validation accuracy."""
import tensorflow as tf
from tensorflow.keras import layers
from tensorflow.keras.applications.inception_v3 import InceptionV3, preprocess_input

IMG_SIZE = (299, 299)
train_ds = tf.keras.utils.image_dataset_from_directory(
    "dataset/train", image_size=IMG_SIZE, batch_size=32, label_mode="int", shuffle=True, seed=7
)
val_ds = tf.keras.utils.image_dataset_from_directory(
    "dataset/val", image_size=IMG_SIZE, batch_size=32, label_mode="int", shuffle=False
)
class_names = train_ds.class_names
assert class_names == val_ds.class_names, "train and val folders must name the same classes"
num_classes = len(class_names)

augment = tf.keras.Sequential([layers.RandomFlip("horizontal"), layers.RandomZoom(0.1)])
train_ds = train_ds.map(lambda x, y: (augment(x, training=True), y)).prefetch(tf.data.AUTOTUNE)
val_ds = val_ds.prefetch(tf.data.AUTOTUNE)

base = InceptionV3(include_top=False, weights="imagenet", input_shape=IMG_SIZE + (3,))
base.trainable = False

inputs = tf.keras.Input(shape=IMG_SIZE + (3,))
x = preprocess_input(inputs)
x = base(x, training=False)
x = layers.GlobalAveragePooling2D()(x)
x = layers.Dropout(0.3)(x)
outputs = layers.Dense(num_classes, activation="softmax")(x)
model = tf.keras.Model(inputs, outputs)

model.compile(
    optimizer=tf.keras.optimizers.Adam(1e-3),
    loss="sparse_categorical_crossentropy",
    metrics=["accuracy"],
)
callbacks = [
    tf.keras.callbacks.ModelCheckpoint(
        "inception_best.keras", monitor="val_accuracy", mode="max", save_best_only=True
    ),
    tf.keras.callbacks.EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True),
    tf.keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.2, patience=2),
]
model.fit(train_ds, validation_data=val_ds, epochs=30, callbacks=callbacks)
print(model.evaluate(val_ds, return_dict=True))
