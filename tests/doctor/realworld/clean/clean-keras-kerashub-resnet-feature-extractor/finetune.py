"""Two-phase transfer learning with a Keras Hub image classifier preset on a folder of images."""
import keras
import keras_hub
import tensorflow as tf

IMAGE_SIZE = (224, 224)
BATCH_SIZE = 32

train_ds, val_ds = keras.utils.image_dataset_from_directory(
    "data/plants",
    validation_split=0.2,
    subset="both",
    seed=1337,
    image_size=IMAGE_SIZE,
    batch_size=BATCH_SIZE,
    label_mode="int",
)
num_classes = len(train_ds.class_names)
train_ds = train_ds.prefetch(tf.data.AUTOTUNE)
val_ds = val_ds.prefetch(tf.data.AUTOTUNE)

# The preset bundles its ImageClassifierPreprocessor (resizing and the backbone's own
# normalisation), so raw 0-255 images go in, in training and in prediction alike.
classifier = keras_hub.models.ImageClassifier.from_preset(
    "resnet_50_imagenet",
    num_classes=num_classes,
)

# Phase 1: train the new head only.
classifier.backbone.trainable = False
classifier.compile(
    optimizer=keras.optimizers.Adam(1e-3),
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    metrics=["sparse_categorical_accuracy"],
)
classifier.fit(train_ds, validation_data=val_ds, epochs=5)

# Phase 2: unfreeze, recompile so the change takes effect, fine-tune with a small rate.
classifier.backbone.trainable = True
classifier.compile(
    optimizer=keras.optimizers.Adam(1e-5),
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    metrics=["sparse_categorical_accuracy"],
)
classifier.fit(
    train_ds,
    validation_data=val_ds,
    epochs=5,
    callbacks=[keras.callbacks.EarlyStopping(monitor="val_sparse_categorical_accuracy", patience=2, restore_best_weights=True)],
)
print(classifier.evaluate(val_ds, return_dict=True))
