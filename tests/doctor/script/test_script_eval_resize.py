"""A pretrained ImageNet classifier evaluated on images stretched to its input size (GL241).
Written from the general shape, not from a post."""

from __future__ import annotations

from graftlab.doctor.script import check_script

MEASURE = """\
import tensorflow as tf
from tensorflow.keras.applications import resnet50

ds = tf.keras.utils.image_dataset_from_directory(
    "imagenet/val", label_mode="categorical", image_size=(224, 224), shuffle=False
)
ds = ds.map(lambda x, y: (resnet50.preprocess_input(x), y))
net = resnet50.ResNet50(weights="imagenet")
net.compile(loss="categorical_crossentropy", metrics=["accuracy"])
print(net.evaluate(ds))
"""


def _stretched(source: str):
    return [f for f in check_script(source) if f.code == "GL241"]


def test_a_pretrained_classifier_measured_on_stretched_images_is_a_warning():
    (f,) = _stretched(MEASURE)
    assert f.severity == "warning" and f.category == "preprocessing-mismatch"


def test_crop_to_aspect_ratio_keeps_the_shape():
    cropped = MEASURE.replace("shuffle=False\n", "shuffle=False, crop_to_aspect_ratio=True\n")
    assert not _stretched(cropped)


def test_a_model_trained_on_the_same_stream_adapts_to_it():
    trained = MEASURE.replace(
        "print(net.evaluate(ds))", "net.fit(ds, epochs=3)\nprint(net.evaluate(ds))"
    )
    assert not _stretched(trained)


def test_a_backbone_without_its_imagenet_top_is_not_measured_against_published_accuracy():
    features = MEASURE.replace('weights="imagenet")', 'weights="imagenet", include_top=False)')
    assert not _stretched(features)
