"""Multi-label tagging (several tags per image): independent sigmoid outputs with binary
cross-entropy, which is the right pairing when the labels are not mutually exclusive."""
import numpy as np
import pandas as pd
import tensorflow as tf
from tensorflow.keras import layers
from tensorflow.keras.applications import ResNet50
from tensorflow.keras.applications.resnet50 import preprocess_input

IMG_SIZE = 224
df = pd.read_csv("labels.csv")  # columns: filename, tags ("sky cloud water")
tags = sorted({t for row in df["tags"] for t in row.split()})
tag_index = {t: i for i, t in enumerate(tags)}


def multi_hot(row):
    y = np.zeros(len(tags), dtype="float32")
    for t in row.split():
        y[tag_index[t]] = 1.0
    return y


y = np.stack(df["tags"].map(multi_hot).to_list())
paths = ("images/" + df["filename"]).to_numpy()
rng = np.random.default_rng(0)
order = rng.permutation(len(paths))
split = int(0.8 * len(paths))
train_idx, val_idx = order[:split], order[split:]


def load(path, label):
    image = tf.io.decode_jpeg(tf.io.read_file(path), channels=3)
    image = tf.image.resize(image, (IMG_SIZE, IMG_SIZE))
    return preprocess_input(image), label


def make_ds(idx, training):
    ds = tf.data.Dataset.from_tensor_slices((paths[idx], y[idx]))
    if training:
        ds = ds.shuffle(len(idx), seed=0)
    ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE)
    if training:
        ds = ds.map(lambda x, t: (tf.image.random_flip_left_right(x), t))
    return ds.batch(32).prefetch(tf.data.AUTOTUNE)


train_ds, val_ds = make_ds(train_idx, True), make_ds(val_idx, False)

base = ResNet50(include_top=False, weights="imagenet", pooling="avg")
base.trainable = False
model = tf.keras.Sequential([base, layers.Dropout(0.3), layers.Dense(len(tags), activation="sigmoid")])
model.compile(
    optimizer=tf.keras.optimizers.Adam(1e-3),
    loss="binary_crossentropy",
    metrics=[
        tf.keras.metrics.BinaryAccuracy(name="binary_accuracy"),
        tf.keras.metrics.AUC(multi_label=True, name="auc"),
    ],
)
model.fit(train_ds, validation_data=val_ds, epochs=15)
