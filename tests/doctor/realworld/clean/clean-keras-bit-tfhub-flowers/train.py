"""Fine-tune a BigTransfer (BiT-M R50x1) backbone from TF Hub on tf_flowers.

BiT models take float images in [0, 1]; the new head is a zero-initialised Dense layer
trained together with the backbone at a small SGD learning rate (the BiT-HyperRule).
"""
import tensorflow as tf
import tensorflow_datasets as tfds
import tensorflow_hub as hub
from tensorflow import keras

SEED = 42
RESIZE_TO = 384
CROP_TO = 224
BATCH_SIZE = 64
STEPS_PER_EPOCH = 10
NUM_CLASSES = 5
SCHEDULE_BOUNDARIES = [200, 300, 400]
SCHEDULE_LENGTH = 500

tf.keras.utils.set_random_seed(SEED)

train_ds, val_ds = tfds.load("tf_flowers", split=["train[:85%]", "train[85%:]"], as_supervised=True)


def to_unit_range(image, label):
    return tf.image.convert_image_dtype(image, tf.float32), label


def augment(image, label):
    image = tf.image.resize(image, (RESIZE_TO, RESIZE_TO))
    image = tf.image.random_crop(image, (CROP_TO, CROP_TO, 3), seed=SEED)
    image = tf.image.random_flip_left_right(image, seed=SEED)
    return image, label


def center(image, label):
    image = tf.image.resize(image, (RESIZE_TO, RESIZE_TO))
    image = tf.image.resize_with_crop_or_pad(image, CROP_TO, CROP_TO)
    return image, label


train_pipeline = (
    train_ds.map(to_unit_range, num_parallel_calls=tf.data.AUTOTUNE)
    .shuffle(10 * BATCH_SIZE, seed=SEED)
    .repeat()
    .map(augment, num_parallel_calls=tf.data.AUTOTUNE)
    .batch(BATCH_SIZE)
    .prefetch(tf.data.AUTOTUNE)
)
val_pipeline = (
    val_ds.map(to_unit_range, num_parallel_calls=tf.data.AUTOTUNE)
    .map(center, num_parallel_calls=tf.data.AUTOTUNE)
    .batch(BATCH_SIZE)
    .prefetch(tf.data.AUTOTUNE)
)


class BiTClassifier(keras.Model):
    def __init__(self, num_classes, hub_url="https://tfhub.dev/google/bit/m-r50x1/1"):
        super().__init__()
        self.backbone = hub.KerasLayer(hub_url, trainable=True)
        self.head = keras.layers.Dense(num_classes, kernel_initializer="zeros")

    def call(self, images):
        return self.head(self.backbone(images))


model = BiTClassifier(NUM_CLASSES)

lr_schedule = keras.optimizers.schedules.PiecewiseConstantDecay(
    boundaries=SCHEDULE_BOUNDARIES, values=[0.003, 0.0003, 0.00003, 0.000003]
)
optimizer = keras.optimizers.SGD(learning_rate=lr_schedule, momentum=0.9)

model.compile(
    optimizer=optimizer,
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    metrics=["accuracy"],
)

callbacks = [
    keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=2, restore_best_weights=True),
]
history = model.fit(
    train_pipeline,
    epochs=SCHEDULE_LENGTH // STEPS_PER_EPOCH,
    steps_per_epoch=STEPS_PER_EPOCH,
    validation_data=val_pipeline,
    callbacks=callbacks,
)

loss, acc = model.evaluate(val_pipeline)
print(f"validation accuracy: {acc:.3f}")
