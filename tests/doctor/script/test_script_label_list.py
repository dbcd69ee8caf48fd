"""A labels= list for Keras' folder loader in another order than its files (GL146)."""

from __future__ import annotations

from graftlab.doctor.script import check_script


def _labels(src: str) -> list:
    return [
        f
        for f in check_script(src, filename="post.py")
        if f.category == "label-order-mismatch" and f.severity in ("error", "warning")
    ]


WALK = """\
import os
import tensorflow as tf
tags = []
for folder, _, names in os.walk("xray"):
    for name in names:
        tags.append(1 if name.startswith("pneu") else 0)
train = tf.keras.utils.image_dataset_from_directory("xray", labels=tags, image_size=(96, 96))
model.fit(train, epochs=4)
"""

GLOB = """\
import glob
from tensorflow import keras
paths = LISTING
marks = [int("defect" in p) for p in paths]
ds = keras.utils.image_dataset_from_directory("parts", labels=marks, label_mode="binary")
"""


def test_labels_listed_in_file_system_order():
    (f,) = _labels(WALK)
    assert f.code == "GL146" and "post.py:4:" in f.evidence and "post.py:7:" in f.evidence
    for listing in ('glob.glob("parts/*.png")', 'glob.glob("parts/**/*.png", recursive=True)'):
        (f,) = _labels(GLOB.replace("LISTING", listing))
        assert f.code == "GL146", listing


def test_sorted_paths_or_inferred_labels_are_silent():
    assert _labels(GLOB.replace("LISTING", 'sorted(glob.glob("parts/*.png"))')) == []
    inferred = WALK.replace("labels=tags", 'labels="inferred"')
    assert _labels(inferred) == []
