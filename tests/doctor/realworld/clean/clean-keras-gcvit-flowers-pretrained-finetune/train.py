"""Fine-tune an ImageNet-pretrained Global Context ViT (GCViT-Tiny) on tf_flowers with Keras.

The GCViT model class is the one built in the keras.io example (module gcvit.py here); its
pretrained ImageNet weights are loaded before the head is replaced. Images are resized to
224x224 and normalised with the ImageNet mean/std the weights were trained with, for training,
validation and test alike; only the training split is shuffled and randomly flipped.
"""
import tensorflow as tf
import tensorflow_datasets as tfds
from tensorflow import keras

from gcvit import GCViT

IMAGE_SIZE = (224, 224)
BATCH_SIZE = 32
EPOCHS = 5
MEAN = 255 * tf.constant([0.485, 0.456, 0.406], dtype=tf.float32)
STD = 255 * tf.constant([0.229, 0.224, 0.225], dtype=tf.float32)
AUTO = tf.data.AUTOTUNE


def preprocess(image, label):
    image = tf.cast(image, tf.float32)
    image = tf.image.resize(image, IMAGE_SIZE)
    image = (image - MEAN) / STD
    return image, label


def augment(image, label):
    image = tf.image.random_flip_left_right(image)
    return image, label


(train_ds, val_ds, test_ds), info = tfds.load(
    "tf_flowers",
    split=["train[:60%]", "train[60%:80%]", "train[80%:]"],
    as_supervised=True,
    with_info=True,
)
num_classes = info.features["label"].num_classes

train_ds = (
    train_ds.shuffle(1000)
    .map(preprocess, num_parallel_calls=AUTO)
    .map(augment, num_parallel_calls=AUTO)
    .batch(BATCH_SIZE)
    .prefetch(AUTO)
)
val_ds = val_ds.map(preprocess, num_parallel_calls=AUTO).batch(BATCH_SIZE).prefetch(AUTO)
test_ds = test_ds.map(preprocess, num_parallel_calls=AUTO).batch(BATCH_SIZE).prefetch(AUTO)

config = {
    "window_size": (7, 7, 14, 7),
    "embed_dim": 64,
    "depths": (2, 2, 6, 2),
    "num_heads": (2, 4, 8, 16),
}
ckpt_path = keras.utils.get_file(
    "gcvitxxtiny.keras",
    "https://github.com/awsaf49/gcvit-tf/releases/download/v1.1.6/gcvitxxtiny.keras",
)
model = GCViT(**config, num_classes=1000)
model(tf.zeros((1, *IMAGE_SIZE, 3)))  # build before loading the ImageNet weights
model.load_weights(ckpt_path)
model.reset_classifier(num_classes=num_classes, head_act="softmax")

model.compile(
    loss=keras.losses.SparseCategoricalCrossentropy(),
    optimizer=keras.optimizers.Adam(learning_rate=1e-4),
    metrics=["accuracy"],
)
history = model.fit(train_ds, validation_data=val_ds, epochs=EPOCHS)
loss, acc = model.evaluate(test_ds)
print(f"test loss {loss:.4f}, test accuracy {acc:.4f}")
