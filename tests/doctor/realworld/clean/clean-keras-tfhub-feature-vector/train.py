"""Flower classification with a TF Hub feature vector as a frozen layer."""
import tensorflow as tf
import tensorflow_hub as hub

IMAGE_SIZE = (224, 224)
BATCH_SIZE = 32
model_handle = "https://tfhub.dev/google/imagenet/efficientnet_v2_imagenet1k_b0/feature_vector/2"

train_ds = tf.keras.utils.image_dataset_from_directory(
    "flower_photos",
    validation_split=0.2,
    subset="training",
    seed=123,
    image_size=IMAGE_SIZE,
    batch_size=1,
)
val_ds = tf.keras.utils.image_dataset_from_directory(
    "flower_photos",
    validation_split=0.2,
    subset="validation",
    seed=123,
    image_size=IMAGE_SIZE,
    batch_size=1,
)
class_names = tuple(train_ds.class_names)
train_size = train_ds.cardinality().numpy()
train_ds = train_ds.unbatch().batch(BATCH_SIZE)
train_ds = train_ds.repeat()
val_ds = val_ds.unbatch().batch(BATCH_SIZE)

# Hub image modules take float pixels in [0, 1].
normalization_layer = tf.keras.layers.Rescaling(1.0 / 255)
preprocessing_model = tf.keras.Sequential([normalization_layer])
preprocessing_model.add(tf.keras.layers.RandomRotation(40))
preprocessing_model.add(tf.keras.layers.RandomTranslation(0, 0.2))
preprocessing_model.add(tf.keras.layers.RandomTranslation(0.2, 0))
preprocessing_model.add(tf.keras.layers.RandomZoom(0.2, 0.2))
preprocessing_model.add(tf.keras.layers.RandomFlip(mode="horizontal"))
train_ds = train_ds.map(lambda images, labels: (preprocessing_model(images), labels))
val_ds = val_ds.map(lambda images, labels: (normalization_layer(images), labels))

model = tf.keras.Sequential(
    [
        tf.keras.layers.InputLayer(input_shape=IMAGE_SIZE + (3,)),
        hub.KerasLayer(model_handle, trainable=False),
        tf.keras.layers.Dropout(rate=0.2),
        tf.keras.layers.Dense(len(class_names), kernel_regularizer=tf.keras.regularizers.l2(0.0001)),
    ]
)
model.build((None,) + IMAGE_SIZE + (3,))
model.summary()

model.compile(
    optimizer=tf.keras.optimizers.SGD(learning_rate=0.005, momentum=0.9),
    loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    metrics=["accuracy"],
)
steps_per_epoch = train_size // BATCH_SIZE
validation_steps = val_ds.cardinality().numpy()
hist = model.fit(
    train_ds,
    epochs=5,
    steps_per_epoch=steps_per_epoch,
    validation_data=val_ds,
    validation_steps=validation_steps,
).history

x, y = next(iter(val_ds))
image = x[0, :, :, :]
prediction_scores = model.predict(tf.expand_dims(image, axis=0))
predicted_index = tf.argmax(prediction_scores, axis=-1).numpy()[0]
print("True label: " + class_names[int(y[0])])
print("Predicted label: " + class_names[predicted_index])
