"""Arrays built class by class that reach Keras unshuffled (keras_blocks: GL144, GL145)."""

from __future__ import annotations

from graftlab.doctor.script import check_script


def _no_shuffle(src: str) -> list:
    return [
        f
        for f in check_script(src, filename="post.py")
        if f.category == "no-shuffle" and f.severity in ("error", "warning")
    ]


NESTED_LOOPS = """\
import glob
import numpy as np
import cv2
images, targets = [], []
for k, kind in enumerate(["rust", "scab", "healthy"]):
    for path in glob.glob(f"apples/{kind}/*.jpg"):
        images.append(cv2.resize(cv2.imread(path), (128, 128)))
        targets.append(k)
images = np.asarray(images, dtype="float32") / 255
targets = np.asarray(targets)
BETWEEN
model.fit(images, targets, epochs=15, validation_split=0.25)
"""

DICT_LOOPS = """\
import os
import numpy as np
from PIL import Image
codes = {"ant": 0, "bee": 1}
pix, lab = [], []
for name, code in codes.items():
    folder = os.path.join("insects", name)
    for f in sorted(os.listdir(folder)):
        pix.append(np.array(Image.open(os.path.join(folder, f))))
        lab.append(code)
model.fit(np.array(pix), np.array(lab), validation_split=0.1, epochs=4)
"""

JOINED_BLOCKS = """\
import numpy as np
from tensorflow import keras
cats = np.load("cats.npy")
dogs = np.load("dogs.npy")
x = np.concatenate([cats, dogs])
y = LABELS
model.fit(x, y, batch_size=16, epochs=8, validation_split=0.2)
"""


def test_labels_built_class_by_class_then_split_by_keras():
    for src in (NESTED_LOOPS.replace("BETWEEN", ""), DICT_LOOPS):
        (f,) = _no_shuffle(src)
        assert f.code == "GL144" and f.severity == "warning"
        assert "END of the arrays" in f.explanation
    for labels in (
        "np.concatenate([np.zeros(len(cats)), np.ones(len(dogs))])",
        "np.array([0] * len(cats) + [1] * len(dogs))",
        "np.hstack((np.full(len(cats), 0), np.full(len(dogs), 1)))",
    ):
        (f,) = _no_shuffle(JOINED_BLOCKS.replace("LABELS", labels))
        assert f.code == "GL144" and "post.py:6:" in f.evidence, labels


def test_shuffled_or_split_arrays_and_per_file_labels_are_silent():
    for between in (
        "order = np.random.permutation(len(targets))\n"
        "images, targets = images[order], targets[order]\n",
        "from sklearn.utils import shuffle\nimages, targets = shuffle(images, targets)\n",
    ):
        assert _no_shuffle(NESTED_LOOPS.replace("BETWEEN", between)) == []
    # validation given apart: nothing is taken from the end
    held_out = NESTED_LOOPS.replace("BETWEEN", "").replace(
        "validation_split=0.25", "validation_data=(x_val, y_val)"
    )
    assert _no_shuffle(held_out) == []
    # one loop over files, each label read from its own file: no class blocks to speak of
    per_file = """\
import numpy as np
import pandas as pd
table = pd.read_csv("labels.csv")
xs, ys = [], []
for row in table.itertuples():
    xs.append(load(row.path))
    ys.append(row.label)
model.fit(np.array(xs), np.array(ys), validation_split=0.2)
"""
    assert _no_shuffle(per_file) == []


SLICES = """\
import numpy as np
import tensorflow as tf
xs, ys = [], []
for label, cls in enumerate(sorted(tf.io.gfile.listdir("fruit"))):
    for p in tf.io.gfile.glob(f"fruit/{cls}/*.png"):
        xs.append(p)
        ys.append(label)
train_ds = tf.data.Dataset.from_tensor_slices((xs, ys))
train_ds = train_ds.map(decode)SHUFFLE.batch(32).prefetch(2)
model.fit(train_ds, epochs=6)
"""


def test_a_tf_data_pipeline_of_class_blocks_without_shuffle():
    (f,) = _no_shuffle(SLICES.replace("SHUFFLE", ""))
    assert f.code == "GL145" and "post.py:8:" in f.evidence and "post.py:10:" in f.evidence
    assert _no_shuffle(SLICES.replace("SHUFFLE", ".shuffle(1000)")) == []
