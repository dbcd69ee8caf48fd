"""GL140 (keras_partial_load): a model restored for prediction through a weight loader told to
leave out its classifier layer, with nothing that trains the classifier afterwards."""

from __future__ import annotations

from graftlab.doctor.script import check_script

RESTORE = """\
import numpy as np
from keras.layers import Dense, Input, GlobalAveragePooling1D, Embedding
from keras.models import Model


def copy_weights(net, path, skip=()):
    import h5py
    with h5py.File(path, "r") as f:
        for layer in net.layers:
            if layer.name in skip:
                continue
            layer.set_weights([f[layer.name][k][()] for k in f[layer.name].attrs["weight_names"]])


def build(n_out, path=None):
    x = Input(shape=(40,))
    h = GlobalAveragePooling1D()(Embedding(20000, 128)(x))
    y = Dense(n_out, activation="softmax", name="clf")(h)
    net = Model(x, y)
    if path:
        copy_weights(net, path, skip=["clf"])
    return net


scorer = build(5, "tuned/weights.h5")
print(np.argmax(scorer.predict(tokens), axis=1))
"""


def _found(src: str) -> list:
    return [f for f in check_script(src, filename="post.py") if f.code == "GL140"]


def test_restored_for_prediction_with_the_classifier_skipped():
    (f,) = _found(RESTORE)
    assert (f.severity, f.category) == ("warning", "head-mismatch")
    assert "'clf'" in f.title and "copy_weights()" in f.title
    for line in (21, 18, 26):
        assert f"post.py:{line}:" in f.evidence
    assert "Inferred" in f.explanation


def test_a_library_loader_is_read_from_its_names_and_says_so():
    src = """\
from keras.layers import Dense
from mylib import build_encoder, load_specific_weights
net = build_encoder(out=Dense(6, activation="softmax", name="softmax"))
load_specific_weights(net, "final.h5", exclude_names=["softmax"])
print(net.predict(x))
"""
    (f,) = _found(src)
    assert "not in the code shown" in f.explanation


def test_fine_tuning_after_the_partial_load_or_a_full_load_is_silent():
    # the transfer recipe: pretrained body, new head, then training
    assert (
        _found(
            RESTORE.replace("scorer = build", "scorer = build").replace(
                "print(np.argmax", "scorer.fit(tokens, labels, epochs=3)\nprint(np.argmax"
            )
        )
        == []
    )
    assert _found(RESTORE.replace('skip=["clf"]', "skip=()")) == []
    # a skipped layer that is not the classifier
    assert _found(RESTORE.replace('skip=["clf"]', 'skip=["embedding"]')) == []
    # a loader that reads the list but skips nothing
    assert (
        _found(RESTORE.replace("                continue\n", "                print(layer.name)\n"))
        == []
    )
