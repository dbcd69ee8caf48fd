"""GL118: predictions on a data class of the script that shuffles its own samples when it is
built, scored against labels read apart (keras_sequence)."""

from __future__ import annotations

from graftlab.doctor.script import check_script

BLOG = """\
import numpy as np
from sklearn.metrics import accuracy_score
from tensorflow import keras

class DataGenerator(keras.utils.Sequence):
    def __init__(self, ids, labels, batch_size=32, shuffle=True):
        self.ids, self.labels = ids, labels
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.on_epoch_end()

    def on_epoch_end(self):
        self.indexes = np.arange(len(self.ids))
        if self.shuffle == True:
            np.random.shuffle(self.indexes)

    def __len__(self):
        return len(self.ids) // self.batch_size

    def __getitem__(self, i):
        idx = self.indexes[i * self.batch_size : (i + 1) * self.batch_size]
        return load([self.ids[k] for k in idx]), self.labels[idx]

test_gen = DataGenerator(test_ids, y_test)
pred = model.predict(test_gen)
print(accuracy_score(y_test[: len(pred)], pred.argmax(1)))
"""


def _labels(src: str) -> list:
    return [
        f
        for f in check_script(src, filename="post.py")
        if f.category == "label-order-mismatch" and f.severity in ("error", "warning")
    ]


def test_a_sequence_that_shuffles_in_its_constructor():
    (f,) = _labels(BLOG)
    assert f.code == "GL118" and f.severity == "error" and "shuffles its own" in f.title
    assert [f"post.py:{n}:" in f.evidence for n in (14, 24, 25, 26)] == [True] * 4
    kept = BLOG.replace(
        "DataGenerator(test_ids, y_test)", "DataGenerator(test_ids, y_test, shuffle=False)"
    )
    assert _labels(kept) == []
    by_position = BLOG.replace("(test_ids, y_test)", "(test_ids, y_test, 32, False)")
    assert _labels(by_position) == []


def test_shuffled_only_at_the_end_of_an_epoch_is_silent():
    later = BLOG.replace(
        "        self.on_epoch_end()\n", "        self.indexes = np.arange(len(ids))\n"
    )
    assert _labels(later) == []  # predict() reads the first order, which is the given one


def test_a_frame_sampled_in_the_constructor():
    src = """\
import pandas as pd
from sklearn.metrics import roc_auc_score
from tensorflow.keras.utils import Sequence

class Frames(Sequence):
    def __init__(self, df, shuffle=True):
        self.df = df.sample(frac=1.0) if shuffle else df

    def __len__(self):
        return len(self.df) // 32

    def __getitem__(self, i):
        return load(self.df.iloc[i * 32 : (i + 1) * 32])

test_df = pd.read_csv("test.csv")
pred = model.predict(Frames(test_df))
print(roc_auc_score(test_df["label"], pred))
"""
    (f,) = _labels(src)
    assert f.code == "GL118"
    assert _labels(src.replace("Frames(test_df)", "Frames(test_df, shuffle=False)")) == []
