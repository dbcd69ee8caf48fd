import tensorflow as tf
import tensorflow_hub as hub

IMAGE_SIZE = (224, 224)
handle = "https://tfhub.dev/google/imagenet/mobilenet_v2_100_224/feature_vector/4"

train_ds = tf.keras.utils.image_dataset_from_directory(
    "flower_photos", validation_split=0.2, subset="training", seed=123, image_size=IMAGE_SIZE
)
val_ds = tf.keras.utils.image_dataset_from_directory(
    "flower_photos", validation_split=0.2, subset="validation", seed=123, image_size=IMAGE_SIZE
)
model = tf.keras.Sequential(
    [
        tf.keras.layers.Rescaling(1.0 / 255),
        hub.KerasLayer(handle, trainable=False),
        tf.keras.layers.Dense(5),
    ]
)
model.build([None, *IMAGE_SIZE, 3])
model.compile(
    optimizer="adam",
    loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    metrics=["accuracy"],
)
model.fit(train_ds, validation_data=val_ds, epochs=5)
