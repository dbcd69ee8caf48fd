"""GL110 from a model's own preprocessing steps: a Rescaling layer (or preprocess_input on the
input tensor) placed before a pretrained backbone reaches it whatever data the model is given,
so a convention the backbone was not trained on is reported even with no fit() shown."""

from __future__ import annotations

import pytest

from graftlab.doctor.script import check_script


def _gl110(src: str) -> list:
    return [
        (f.severity, f.title)
        for f in check_script(src, filename="post.py")
        if f.code == "GL110" and f.severity in ("error", "warning")
    ]


FUNCTIONAL = """\
import keras
from keras import layers
base = keras.applications.{app}(weights="imagenet", include_top=False, input_shape=(160, 160, 3))
pixels = keras.Input((160, 160, 3))
h = {step}(pixels)
h = base(h)
h = layers.GlobalAveragePooling2D()(h)
scores = layers.Dense(6, activation="softmax")(h)
clf = keras.Model(pixels, scores)
"""


@pytest.mark.parametrize(
    "app, step, want, got",
    [
        ("ResNet50", "layers.Rescaling(1.0 / 127.5, offset=-1.0)", "caffe", "tf"),
        ("VGG16", "layers.Rescaling(1 / 255.0)", "caffe", "unit"),
        ("EfficientNetB0", "layers.Rescaling(scale=1.0 / 255)", "raw", "unit"),
    ],
)
def test_a_rescaling_layer_before_a_backbone_of_another_convention_is_a_warning(
    app, step, want, got
):
    (f,) = _gl110(FUNCTIONAL.format(app=app, step=step))
    assert f == ("warning", f"{app} expects {want!r} preprocessing but gets {got!r}")


@pytest.mark.parametrize(
    "app, step",
    [
        ("MobileNetV2", "layers.Rescaling(1.0 / 127.5, offset=-1.0)"),
        ("ResNet50", "keras.applications.resnet50.preprocess_input"),
        ("EfficientNetB0", "layers.Identity()"),
    ],
)
def test_the_backbones_own_convention_inside_the_model_is_silent(app, step):
    assert _gl110(FUNCTIONAL.format(app=app, step=step)) == []


def test_a_rescaling_after_the_backbone_is_not_its_preprocessing():
    src = FUNCTIONAL.format(app="ResNet50", step="keras.applications.resnet50.preprocess_input")
    src = src.replace(
        "h = layers.GlobalAveragePooling2D()(h)",
        "h = layers.Rescaling(1.0 / 127.5, offset=-1.0)(h)\nh = layers.GlobalAveragePooling2D()(h)",
    )
    assert _gl110(src) == []


def test_the_same_rescaling_before_a_network_trained_from_scratch_is_silent():
    src = FUNCTIONAL.format(app="ResNet50", step="layers.Rescaling(1.0 / 127.5, offset=-1.0)")
    src = src.replace('weights="imagenet"', "weights=None")
    assert _gl110(src) == []


SEQUENTIAL = """\
import tensorflow as tf
trunk = tf.keras.applications.Xception(include_top=False, weights="imagenet", pooling="avg")
trunk.trainable = False
net = tf.keras.Sequential([
    tf.keras.layers.Rescaling({scale}),
    trunk,
    tf.keras.layers.Dense(3, activation="softmax"),
])
net.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
net.fit(images, labels, epochs=4)
"""


def test_a_sequential_rescaling_reaches_the_backbone_even_when_the_data_is_not_shown():
    (f,) = _gl110(SEQUENTIAL.format(scale="1.0 / 255"))
    assert f == ("warning", "Xception expects 'tf' preprocessing but gets 'unit'")
    assert _gl110(SEQUENTIAL.format(scale="1.0 / 127.5, offset=-1")) == []
