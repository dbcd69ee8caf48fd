"""
Title: Retrieving similar products with a ResNet50 embedding
Description: fine-tune a pretrained ResNet50 to embed product photos.
"""
import os

os.environ["KERAS_BACKEND"] = "tensorflow"

import keras
from keras import layers
import tensorflow as tf

EDGE = 200
BATCH = 24


def read_photo(path):
    data = tf.io.read_file(path)
    img = tf.image.decode_jpeg(data, channels=3)
    return tf.image.resize(img, (EDGE, EDGE))


def make_pairs_stream(anchor_paths, positive_paths):
    a = tf.data.Dataset.from_tensor_slices(anchor_paths).map(read_photo)
    b = tf.data.Dataset.from_tensor_slices(positive_paths).map(read_photo)
    return tf.data.Dataset.zip((a, b)).shuffle(512).batch(BATCH)


"""
## Embedding network

The backbone is ResNet50 with ImageNet weights; only its last stage is fine-tuned.
"""

trunk = keras.applications.ResNet50(
    weights="imagenet", input_shape=(EDGE, EDGE, 3), include_top=False
)
for layer in trunk.layers:
    layer.trainable = layer.name.startswith("conv5_")

photo_in = keras.Input((EDGE, EDGE, 3))
scaled = layers.Rescaling(scale=1.0 / 127.5, offset=-1.0)(photo_in)
feat = trunk(scaled)
feat = layers.GlobalAveragePooling2D()(feat)
feat = layers.Dense(256, activation="relu")(feat)
feat = layers.BatchNormalization()(feat)
vec = layers.Dense(128)(feat)
embedder = keras.Model(photo_in, vec, name="embedder")
