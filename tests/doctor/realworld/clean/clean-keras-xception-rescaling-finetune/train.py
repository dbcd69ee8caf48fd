"""Fine-tune Xception on a folder of images: frozen base first, then the whole model at a low rate."""
import keras
from keras import layers

IMAGE_SIZE = (299, 299)
BATCH_SIZE = 32
NUM_CLASSES = 5

train_ds, val_ds = keras.utils.image_dataset_from_directory(
    "flowers",
    validation_split=0.2,
    subset="both",
    seed=1337,
    image_size=IMAGE_SIZE,
    batch_size=BATCH_SIZE,
    label_mode="int",
)

augmentation = keras.Sequential(
    [layers.RandomFlip("horizontal"), layers.RandomRotation(0.1)],
    name="augmentation",
)

base_model = keras.applications.Xception(
    weights="imagenet", input_shape=IMAGE_SIZE + (3,), include_top=False
)
base_model.trainable = False

inputs = keras.Input(shape=IMAGE_SIZE + (3,))
x = augmentation(inputs)
# Xception expects inputs in [-1, 1]: one layer does the whole mapping from [0, 255].
x = layers.Rescaling(scale=1 / 127.5, offset=-1)(x)
# training=False keeps the base's BatchNormalization layers in inference mode, also after
# the base is unfrozen below.
x = base_model(x, training=False)
x = layers.GlobalAveragePooling2D()(x)
x = layers.Dropout(0.2)(x)
outputs = layers.Dense(NUM_CLASSES, activation="softmax")(x)
model = keras.Model(inputs, outputs)
model.summary()

model.compile(
    optimizer=keras.optimizers.Adam(),
    loss=keras.losses.SparseCategoricalCrossentropy(),
    metrics=[keras.metrics.SparseCategoricalAccuracy()],
)
model.fit(train_ds, epochs=20, validation_data=val_ds)

# Fine-tuning: unfreeze the base, recompile so the change takes effect, and use a low rate.
base_model.trainable = True
model.compile(
    optimizer=keras.optimizers.Adam(1e-5),
    loss=keras.losses.SparseCategoricalCrossentropy(),
    metrics=[keras.metrics.SparseCategoricalAccuracy()],
)
model.fit(train_ds, epochs=10, validation_data=val_ds)
model.evaluate(val_ds)
