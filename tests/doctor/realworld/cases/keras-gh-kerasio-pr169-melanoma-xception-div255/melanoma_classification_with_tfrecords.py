"""
Title: How to train a Keras model on TFRecord files (melanoma classification)
"""
import tensorflow as tf
from functools import partial
from tensorflow import keras

AUTOTUNE = tf.data.experimental.AUTOTUNE
GCS_PATH = "gs://kds-b38ce1b823c3ae623f5691483dbaa0f0363f04b0d6a90b63cf69946e"
BATCH_SIZE = 64
IMAGE_SIZE = [1024, 1024]

FILENAMES = tf.io.gfile.glob(GCS_PATH + "/tfrecords/train*.tfrec")
split_ind = int(0.9 * len(FILENAMES))
TRAINING_FILENAMES, VALID_FILENAMES = FILENAMES[:split_ind], FILENAMES[split_ind:]


def decode_image(image):
    image = tf.image.decode_jpeg(image, channels=3)
    image = tf.cast(image, tf.float32) / 255.0
    image = tf.reshape(image, [*IMAGE_SIZE, 3])
    return image


def read_tfrecord(example, labeled):
    fmt = {"image": tf.io.FixedLenFeature([], tf.string)}
    if labeled:
        fmt["target"] = tf.io.FixedLenFeature([], tf.int64)
    example = tf.io.parse_single_example(example, fmt)
    image = decode_image(example["image"])
    if labeled:
        return image, tf.cast(example["target"], tf.int32)
    return image


def get_dataset(filenames, labeled=True):
    ds = tf.data.TFRecordDataset(filenames)
    ds = ds.map(partial(read_tfrecord, labeled=labeled), num_parallel_calls=AUTOTUNE)
    return ds.shuffle(2048).prefetch(buffer_size=AUTOTUNE).batch(BATCH_SIZE)


train_dataset = get_dataset(TRAINING_FILENAMES)
valid_dataset = get_dataset(VALID_FILENAMES)


def make_model():
    base_model = tf.keras.applications.Xception(
        input_shape=(*IMAGE_SIZE, 3), include_top=False, weights="imagenet"
    )
    base_model.trainable = False

    inputs = tf.keras.layers.Input([*IMAGE_SIZE, 3])
    x = base_model(inputs)
    x = tf.keras.layers.GlobalAveragePooling2D()(x)
    x = tf.keras.layers.Dense(8, activation="relu")(x)
    x = tf.keras.layers.Dropout(0.7)(x)
    output = tf.keras.layers.Dense(1, activation="sigmoid")(x)

    model = tf.keras.Model(inputs=inputs, outputs=output)
    model.compile(
        optimizer=tf.keras.optimizers.Adam(learning_rate=1e-3),
        loss="binary_crossentropy",
        metrics=tf.keras.metrics.AUC(name="auc"),
    )
    return model


model = make_model()
history = model.fit(train_dataset, epochs=2, validation_data=valid_dataset)
