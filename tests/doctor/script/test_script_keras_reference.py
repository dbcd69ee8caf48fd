"""A loaded Keras model scored on arrays prepared one way and given new photos prepared
another: the evaluated arrays stand in for the training it is not shown with."""

from __future__ import annotations

from graftlab.doctor.script import check_script

LOADED = """\
import numpy as np
from tensorflow import keras
from tensorflow.keras.applications import mobilenet_v2

x_val = mobilenet_v2.preprocess_input(np.load("val_images.npy").astype("float32"))
y_val = np.load("val_labels.npy")
clf = keras.models.load_model("flowers.keras")
print(clf.evaluate(x_val, y_val))

photo = keras.utils.load_img("garden.jpg", target_size=(224, 224))
batch = np.expand_dims(keras.utils.img_to_array(photo), 0)
{prep}
print(clf.predict(batch).argmax())
"""


def _mismatch(src: str) -> list:
    return [
        f
        for f in check_script(src, filename="post.py")
        if f.category == "train-eval-preprocessing-mismatch" and f.severity != "info"
    ]


def test_photo_prepared_unlike_the_evaluated_arrays_is_a_warning_naming_the_inferred_link():
    (f,) = _mismatch(LOADED.format(prep="batch = batch / 255.0"))
    assert f.code == "GL112" and f.severity == "warning"
    assert "post.py:5:" in f.evidence and "post.py:13:" in f.evidence
    assert "Inferred" in f.explanation and "scored on, x_val (line 8)" in f.explanation


def test_photo_prepared_like_the_evaluated_arrays_is_silent():
    assert _mismatch(LOADED.format(prep="batch = mobilenet_v2.preprocess_input(batch)")) == []


def test_evaluation_on_another_model_says_nothing_about_this_one():
    src = LOADED.format(prep="batch = batch / 255.0").replace(
        "print(clf.evaluate(", "print(keras.models.load_model('old.keras').evaluate("
    )
    assert _mismatch(src) == []


def test_arrays_given_to_predict_serve_as_the_reference_too():
    src = LOADED.format(prep="batch = batch / 255.0").replace(
        "print(clf.evaluate(x_val, y_val))", "print((clf.predict(x_val).argmax(1) == y_val).mean())"
    )
    (f,) = _mismatch(src)
    assert f.severity == "warning" and "scored on, x_val" in f.explanation
