"""GL110 "two scalings": correct programs that once read as two (keras_pre).

Each test has the misread program and the same program with a real second scaling, which must
still be reported.
"""

from __future__ import annotations

from graftlab.doctor.script import check_script

HEAD = """\
import numpy as np
from keras.applications.vgg16 import VGG16, preprocess_input
from keras.preprocessing.image import ImageDataGenerator
from keras.layers import Dense, Flatten
from keras.models import Model
base = VGG16(weights="imagenet", include_top=False, input_shape=(224, 224, 3))
model = Model(base.input, Dense(2, activation="softmax")(Flatten()(base.output)))
"""


def _pixels(src: str) -> list:
    return [
        (f.severity, f.title)
        for f in check_script(HEAD + src, filename="post.py")
        if f.code == "GL110"
    ]


SIDE_VALUE = """\
def to_display(img):
    return img / 255.

def prep(img):
    out = preprocess_input(img)
    shown = to_display(img)
    return out

gen = ImageDataGenerator(preprocessing_function=prep).flow_from_directory("data/train")
model.fit(gen, epochs=3)
"""


def test_a_scaling_of_another_value_inside_the_function_is_not_applied():
    assert _pixels(SIDE_VALUE) == []
    # the scaled copy is what the function returns: two scalings
    assert _pixels(
        SIDE_VALUE.replace(
            "out = preprocess_input(img)", "out = preprocess_input(img)\n    out = to_display(out)"
        )
    ) == [("error", "VGG16 expects 'caffe' preprocessing but gets two scalings")]


def test_a_plot_of_a_scaled_copy_is_not_applied():
    plotted = SIDE_VALUE.replace("shown = to_display(img)", "plt.imshow(img / 255.)")
    assert _pixels(plotted) == []


ALTERNATIVES = """\
PRETRAINED = True
datagen = ImageDataGenerator(
    preprocessing_function=lambda x: preprocess_input(x) if PRETRAINED else x / 255.
)
gen = datagen.flow_from_directory("data/train")
model.fit(gen, epochs=3)
"""


def test_one_scaling_or_the_other_of_a_conditional_expression_is_not_two():
    assert _pixels(ALTERNATIVES) == []
    both = ALTERNATIVES.replace(
        "preprocess_input(x) if PRETRAINED else x / 255.", "preprocess_input(x) / 255."
    )
    assert [s for s, _ in _pixels(both)] == ["error"]


BATCHES = """\
model.load_weights("best.h5")
datagen = ImageDataGenerator(preprocessing_function=preprocess_input)
test_gen = datagen.flow_from_directory("data/test", shuffle=False)
for x_batch, y_batch in test_gen:
    p = model.predict(x_batch)
    break
"""


def test_batches_drawn_from_a_generator_carry_its_preprocessing():
    assert _pixels(BATCHES) == []  # once read as raw pixels: the keyword was not followed
    raw = BATCHES.replace("preprocessing_function=preprocess_input", "horizontal_flip=False")
    assert [s for s, _ in _pixels(raw)] == ["warning"]


DECODERS = """\
import tensorflow as tf

def read_tfrecord(example):
    features = {{"image": tf.io.FixedLenFeature([], tf.string)}}
    example = tf.io.parse_single_example(example, features)
    image = tf.image.decode_jpeg(example["image"], channels=3)
    image = tf.cast(image, tf.float32) / 255.0
    return tf.reshape(image, [192, 192, 3])

def serving_preprocess(bytes_input):
    decoded = tf.io.decode_jpeg(bytes_input, channels=3)
    decoded = tf.image.convert_image_dtype(decoded, tf.float32)
    resized = tf.image.resize(decoded, size=(192, 192))
    return {serve}

train = tf.data.TFRecordDataset(files).map(read_tfrecord).batch(32)
model.fit(train, epochs=5)
"""


def test_a_serving_decoder_that_scales_twice_against_the_training_one():
    found = [
        f
        for f in check_script(DECODERS.format(serve="resized / 255.0"), filename="post.py")
        if f.code == "GL131"
    ]
    (f,) = found
    assert f.severity == "warning" and "serving_preprocess()" in f.title
    assert "post.py:12:" in f.evidence and "post.py:14:" in f.evidence
    fixed = check_script(DECODERS.format(serve="resized"), filename="post.py")
    assert not [f for f in fixed if f.code == "GL131"]
