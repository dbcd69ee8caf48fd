"""Leakage through nested folders and augmented copies made before a split (leak_rules)."""

from __future__ import annotations

from graftlab.doctor.script import check_script


def _leak(src: str) -> list:
    return [
        f
        for f in check_script(src, filename="post.py")
        if f.category == "data-leakage" and f.severity in ("error", "warning")
    ]


NESTED = """\
from torchvision import datasets
train_set = datasets.ImageFolder("{train}", transform=tf)
test_set = datasets.ImageFolder("data/images/test", transform=tf)
"""


def test_test_folder_inside_the_training_root():
    (f,) = _leak(NESTED.format(train="data/images"))
    assert f.code == "GL308" and "post.py:3:" in f.evidence
    assert _leak(NESTED.format(train="data/images/train")) == []


def test_keras_validation_folder_inside_the_training_folder():
    src = """\
from keras.preprocessing.image import ImageDataGenerator
gen = ImageDataGenerator(rescale=1 / 255)
train_gen = gen.flow_from_directory("dataset/", target_size=(64, 64))
val_gen = gen.flow_from_directory("dataset/validation", target_size=(64, 64))
"""
    assert _leak(src)
    assert _leak(src.replace('"dataset/"', '"dataset/train"')) == []


AUG_SPLIT = """\
import numpy as np
from sklearn.model_selection import train_test_split
data, labels = [], []
for img, y in samples:
    data.append(img)
    labels.append(y)
    data.append(blur_image(img))
    labels.append(y)
x_train, x_test, y_train, y_test = train_test_split(np.array(data), np.array(labels))
"""


def test_augmented_copies_made_before_the_split():
    (f,) = _leak(AUG_SPLIT)
    assert "before train_test_split" in f.title
    plain = AUG_SPLIT.replace("    data.append(blur_image(img))\n    labels.append(y)\n", "")
    assert _leak(plain) == []


def test_random_validation_share_reads_the_test_folder_named_inside_the_root():
    src = """\
from fastai.vision import *
flowers = "datasets/flowers"
dbunch = ImageDataBunch.from_folder(
    flowers, {split}, test="holdout", ds_tfms=get_transforms(), size=224
)
learn = cnn_learner(dbunch, models.resnet50, metrics=accuracy)
"""
    (f,) = _leak(src.format(split="valid_pct=0.25, seed=1"))
    assert "'datasets/flowers/holdout'" in f.title and "post.py:3:" in f.evidence
    # train/ and valid/ folders read by name: the test folder beside them is not read
    assert _leak(src.format(split='train="train", valid="valid"')) == []


def test_a_pair_dataset_split_at_random_but_not_image_label_tuples():
    pairs = """\
import torch
from torch.utils.data import random_split
ds = TripletFaces("faces/")
train_ds, val_ds = random_split(ds, [0.9, 0.1])
"""
    (f,) = _leak(pairs)
    assert "post.py:3:" in f.evidence and "post.py:4:" in f.evidence
    labelled = """\
import os
from torch.utils.data import random_split
samples = [(os.path.join(root, f), label_of(f)) for f in os.listdir(root)]
train_s, val_s = random_split(samples, [0.8, 0.2])
"""
    assert _leak(labelled) == []
