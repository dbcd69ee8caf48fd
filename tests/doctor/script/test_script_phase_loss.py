"""tf.data augmentation cached after its first draw; sigmoid units under categorical CE."""

from __future__ import annotations

from graftlab.doctor.script import check_script


def _cats(src: str, category: str) -> list:
    return [
        f
        for f in check_script(src, filename="post.py")
        if f.category == category and f.severity in ("error", "warning")
    ]


PIPE = """\
import tensorflow as tf
def augment(img, label):
    img = tf.image.random_flip_left_right(img)
    return img, label
def load(img, label):
    return tf.image.resize(img, (160, 160)) / 255.0, label
flip = tf.keras.layers.RandomFlip("horizontal")
{pipe}
model.fit(train_ds, epochs=10)
"""


def test_random_map_before_cache():
    for pipe in (
        "train_ds = raw.map(load).map(augment).cache().batch(32)",
        "aug = raw.map(lambda x, y: (tf.image.random_crop(x, (150, 150, 3)), y))\n"
        "train_ds = aug.cache().shuffle(100).batch(32)",
        "def jitter(x, y):\n    return flip(x), y\ntrain_ds = raw.map(jitter).cache().batch(32)",
    ):
        assert _cats(PIPE.format(pipe=pipe), "augmentation-phase"), pipe


def test_augmentation_after_cache_is_silent():
    for pipe in (
        "train_ds = raw.map(load).cache().map(augment).batch(32)",
        "train_ds = raw.map(load).cache().shuffle(100).batch(32)",
    ):
        assert _cats(PIPE.format(pipe=pipe), "augmentation-phase") == [], pipe


HEAD = """\
import tensorflow as tf
class Clf:
    def __init__(self, loss="{loss}", activation="{act}"):
        self.loss = loss
        self.activation = activation
    def build(self, n_classes):
        inp = tf.keras.layers.Input((32,))
        out = tf.keras.layers.Dense(n_classes, activation=self.activation)(inp)
        model = tf.keras.Model(inp, out)
        model.compile(loss=self.loss, optimizer="adam", metrics=["accuracy"])
        return model
"""


def test_sigmoid_units_with_categorical_crossentropy():
    bug = HEAD.format(loss="categorical_crossentropy", act="sigmoid")
    (f,) = _cats(bug, "activation-loss-mismatch")
    assert f.severity == "warning"
    assert (
        _cats(
            HEAD.format(loss="categorical_crossentropy", act="softmax"), "activation-loss-mismatch"
        )
        == []
    )
    assert (
        _cats(HEAD.format(loss="binary_crossentropy", act="sigmoid"), "activation-loss-mismatch")
        == []
    )


OLD = """\
from keras.models import Sequential
from keras.layers.core import Dense, Activation, TimeDistributedDense
from keras.layers.recurrent import LSTM
model = Sequential()
model.add(LSTM(64, 128))
model.add({dense})
model.add(Activation("softmax"))
model.compile(loss="{loss}", optimizer="rmsprop")
model.fit(X, y, nb_epoch=5)
"""


def test_keras_0_and_1_dense_signatures():
    one = OLD.format(dense="Dense(128, 1)", loss="categorical_crossentropy")
    assert _cats(one, "single-unit-softmax")
    kw = OLD.format(dense="Dense(output_dim=1)", loss="categorical_crossentropy")
    assert _cats(kw, "single-unit-softmax")
    many = OLD.format(dense="Dense(128, 40)", loss="binary_crossentropy")
    assert _cats(many, "binary-loss-multiclass")
    ok = OLD.format(dense="Dense(128, 40)", loss="categorical_crossentropy")
    assert _cats(ok, "single-unit-softmax") == []
    assert _cats(ok, "binary-loss-multiclass") == []
    modern = OLD.format(dense="Dense(40, 'relu')", loss="categorical_crossentropy")
    assert _cats(modern, "single-unit-softmax") == []


def test_time_distributed_dense_of_keras_0():
    seq = OLD.replace("model.add(LSTM(64, 128))", "model.add(LSTM(64, 128, return_sequences=True))")
    bug = seq.format(dense="TimeDistributedDense(128, 40)", loss="binary_crossentropy")
    assert _cats(bug, "binary-loss-multiclass")
    ok = seq.format(dense="TimeDistributedDense(128, 40)", loss="categorical_crossentropy")
    assert _cats(ok, "binary-loss-multiclass") == []


ENCODED = """\
import numpy as np
import pandas as pd
from tensorflow import keras
from sklearn.preprocessing import LabelBinarizer, MultiLabelBinarizer, OneHotEncoder
enc = {enc}
y = {y}
model = keras.Sequential([keras.layers.Dense(64, activation="relu"),
                          keras.layers.Dense(n_out, activation="sigmoid")])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
model.fit(X, y, epochs=10)
"""


def test_one_hot_labels_from_encoders_under_binary_loss():
    for enc, y in (
        ("LabelBinarizer()", "enc.fit_transform(labels)"),
        ("OneHotEncoder(sparse_output=False)", "enc.fit_transform(labels.reshape(-1, 1))"),
        ("None", "pd.get_dummies(df.label).values"),
    ):
        assert _cats(ENCODED.format(enc=enc, y=y), "binary-loss-multiclass"), enc
    multi = ENCODED.format(enc="MultiLabelBinarizer()", y="enc.fit_transform(tag_lists)")
    assert _cats(multi, "binary-loss-multiclass") == []


BN_SUB = """\
import keras
class FrozenBN(keras.layers.BatchNormalization):
    def __init__(self, freeze, *args, **kwargs):
        self.freeze = freeze
        super(FrozenBN, self).__init__(*args, **kwargs)
    def call(self, inputs, training=None):
        return super(FrozenBN, self).call(inputs, training={flag})
"""


def test_python2_style_super_in_a_batchnorm_subclass():
    (f,) = _cats(BN_SUB.format(flag="(not self.freeze)"), "batchnorm")
    assert f.severity == "warning"
    assert _cats(BN_SUB.format(flag="training"), "batchnorm") == []
    assert _cats(BN_SUB.format(flag="False"), "batchnorm") == []
