"""Train a classifier head on a frozen TF Hub MobileNetV2 feature vector (flower photos).

TF Hub image models expect float pixels in [0, 1], so the pipeline rescales by 1/255 once,
inside the dataset map, for training and validation alike.
"""
import numpy as np
import tensorflow as tf
import tensorflow_hub as hub

IMAGE_SHAPE = (224, 224)
BATCH_SIZE = 32
FEATURE_URL = "https://tfhub.dev/google/tf2-preview/mobilenet_v2/feature_vector/4"

data_root = tf.keras.utils.get_file(
    "flower_photos",
    "https://storage.googleapis.com/download.tensorflow.org/example_images/flower_photos.tgz",
    untar=True,
)

train_ds = tf.keras.utils.image_dataset_from_directory(
    data_root, validation_split=0.2, subset="training", seed=123,
    image_size=IMAGE_SHAPE, batch_size=BATCH_SIZE,
)
val_ds = tf.keras.utils.image_dataset_from_directory(
    data_root, validation_split=0.2, subset="validation", seed=123,
    image_size=IMAGE_SHAPE, batch_size=BATCH_SIZE,
)
class_names = np.array(train_ds.class_names)

rescale = tf.keras.layers.Rescaling(1.0 / 255)
train_ds = train_ds.map(lambda x, y: (rescale(x), y)).cache().prefetch(tf.data.AUTOTUNE)
val_ds = val_ds.map(lambda x, y: (rescale(x), y)).cache().prefetch(tf.data.AUTOTUNE)

feature_extractor = hub.KerasLayer(FEATURE_URL, input_shape=IMAGE_SHAPE + (3,), trainable=False)

model = tf.keras.Sequential([
    feature_extractor,
    tf.keras.layers.Dense(len(class_names)),
])
model.summary()

model.compile(
    optimizer=tf.keras.optimizers.Adam(),
    loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    metrics=["accuracy"],
)

history = model.fit(
    train_ds,
    validation_data=val_ds,
    epochs=10,
    callbacks=[tf.keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=3, restore_best_weights=True)],
)

# predictions on one validation batch, with the class names in the dataset's order
images, labels = next(iter(val_ds))
logits = model.predict(images)
predicted = class_names[np.argmax(logits, axis=-1)]
print("batch accuracy:", np.mean(np.argmax(logits, axis=-1) == labels.numpy()))
print(predicted[:8])
