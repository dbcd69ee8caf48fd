"""Which data is training, validation or test, read from how it is used when names say nothing."""

from __future__ import annotations

from graftlab.doctor.script import check_script


def _found(src: str, category: str) -> list:
    return [
        f
        for f in check_script(src, filename="post.py")
        if f.category == category and f.severity in ("error", "warning")
    ]


def test_tfds_data_is_known_by_what_fit_does_with_it():
    src = """\
import tensorflow as tf
import tensorflow_datasets as tfds

a = tfds.load("tf_flowers", split="train", as_supervised=True)
b = tfds.load("tf_flowers", split="train[80%:]", as_supervised=True)
a = a.batch(32)
b = b.batch(32)
m = tf.keras.Sequential([tf.keras.layers.Flatten(), tf.keras.layers.Dense(5)])
m.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
m.fit(a, validation_data=b, epochs=5)
"""
    assert _found(src, "data-leakage")
    assert not _found(src.replace("train[80%:]", "validation"), "data-leakage")


def test_a_transform_stored_by_tuple_assignment_is_the_dataset_s_transform():
    src = """\
import torchvision.transforms as T
from torch.utils.data import DataLoader, Dataset

aug = T.Compose([T.RandomResizedCrop(224), T.RandomHorizontalFlip(), T.ToTensor()])


class Leaves(Dataset):
    def __init__(self, rows, fn):
        self.rows, self.transform = rows, fn

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, i):
        return self.transform(self.rows[i][0]), self.rows[i][1]


a = Leaves(read("train.csv"), aug)
b = Leaves(read("valid.csv"), aug)
"""
    assert _found(src, "augmented-evaluation")


def test_an_unnamed_transform_takes_the_role_of_the_folder_it_reads():
    src = """\
import torch
from torchvision import datasets, transforms

norm = transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
v0 = transforms.Compose([transforms.RandomResizedCrop(224), transforms.ToTensor(), norm])
v1 = transforms.Compose([transforms.Resize((299, 299)), transforms.ToTensor(), norm])
v2 = datasets.ImageFolder("cars/train", transform=v0)
v3 = datasets.ImageFolder("cars/test", transform=v1)
"""
    assert _found(src, "input-size-mismatch")


def test_a_sequence_calls_the_augmentation_it_stored_under_another_name():
    src = """\
import albumentations as A
import numpy as np
from keras.utils import Sequence

aug = A.Compose([A.HorizontalFlip(p=0.5), A.ShiftScaleRotate()])


class Batches(Sequence):
    def __init__(self, x, y, fn=None):
        self.x, self.y, self.transform = x, y, fn

    def __len__(self):
        return len(self.x) // 32

    def __getitem__(self, i):
        xb = self.x[i * 32 : (i + 1) * 32]
        if self.transform is not None:
            xb = np.stack([self.transform(image=im)["image"] for im in xb])
        return xb, self.y[i * 32 : (i + 1) * 32]


model.fit(Batches(xa, ya, fn=aug), validation_data=Batches(xb, yb, fn=aug), epochs=10)
"""
    assert _found(src, "augmented-evaluation")
    assert not _found(
        src.replace("validation_data=Batches(xb, yb, fn=aug)", "validation_data=Batches(xb, yb)"),
        "augmented-evaluation",
    )
