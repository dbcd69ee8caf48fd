"""Fine-tune a pretrained EfficientNetV2 backbone on cats vs dogs with KerasCV."""
import keras
import keras_cv
import tensorflow as tf
import tensorflow_datasets as tfds

BATCH_SIZE = 32
IMAGE_SIZE = (224, 224)
AUTOTUNE = tf.data.AUTOTUNE
NUM_CLASSES = 2

(train_ds, eval_ds), info = tfds.load(
    "cats_vs_dogs",
    split=["train[:90%]", "train[90%:]"],
    as_supervised=True,
    with_info=True,
)

resizing = keras_cv.layers.Resizing(*IMAGE_SIZE, crop_to_aspect_ratio=True)


def package_inputs(image, label):
    return {"images": image, "labels": tf.one_hot(label, NUM_CLASSES)}


augmenter = keras.Sequential(
    [
        keras_cv.layers.RandomFlip(),
        keras_cv.layers.RandomCropAndResize(
            target_size=IMAGE_SIZE,
            crop_area_factor=(0.8, 1.0),
            aspect_ratio_factor=(0.9, 1.1),
        ),
    ]
)


def preprocess_train(inputs):
    inputs["images"] = augmenter(inputs["images"])
    return inputs


def preprocess_eval(inputs):
    inputs["images"] = resizing(inputs["images"])
    return inputs


def unpackage(inputs):
    return inputs["images"], inputs["labels"]


train_ds = (
    train_ds.map(package_inputs, num_parallel_calls=AUTOTUNE)
    .shuffle(1000)
    .ragged_batch(BATCH_SIZE)
    .map(preprocess_train, num_parallel_calls=AUTOTUNE)
    .map(unpackage, num_parallel_calls=AUTOTUNE)
    .prefetch(AUTOTUNE)
)
eval_ds = (
    eval_ds.map(package_inputs, num_parallel_calls=AUTOTUNE)
    .ragged_batch(BATCH_SIZE)
    .map(preprocess_eval, num_parallel_calls=AUTOTUNE)
    .map(unpackage, num_parallel_calls=AUTOTUNE)
    .prefetch(AUTOTUNE)
)

# The preset's backbone includes its own input rescaling; the classifier head ends in softmax.
model = keras_cv.models.ImageClassifier.from_preset(
    "efficientnetv2_b0_imagenet",
    num_classes=NUM_CLASSES,
)
model.compile(
    loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.1),
    optimizer=keras.optimizers.SGD(learning_rate=0.01, momentum=0.9),
    metrics=["accuracy"],
)
model.fit(train_ds, validation_data=eval_ds, epochs=5)
model.evaluate(eval_ds)
