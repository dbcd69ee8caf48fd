"""Training data built from the object named for evaluation, and the other way round."""

from __future__ import annotations

from graftlab.doctor.script import check_script


def _found(src: str, category: str) -> list:
    return [
        f
        for f in check_script(src, filename="post.py")
        if f.category == category and f.severity in ("error", "warning")
    ]


TORCH = """\
import torch
from torch.utils.data import DataLoader
from mylib import PairedTransform, SegSet
tf_train = PairedTransform(size=256, flip=0.5)
tf_val = PairedTransform(size=256, flip=0)
train_set = SegSet("data/train", {train_tf})
val_set = SegSet("data/val", {val_tf})
train_loader = DataLoader(train_set, batch_size=8, shuffle=True)
"""


def test_training_set_built_with_the_validation_transform_is_a_warning():
    (f,) = _found(TORCH.format(train_tf="tf_val", val_tf="tf_val"), "augmentation-phase")
    assert f.code == "GL321" and f.severity == "warning"
    assert "post.py:6:" in f.evidence and "inferred from the names" in f.explanation


def test_each_set_with_its_own_transform_is_silent():
    src = TORCH.format(train_tf="tf_train", val_tf="tf_val")
    assert _found(src, "augmentation-phase") == []
    assert _found(src, "augmented-evaluation") == []


def test_validation_set_built_with_the_training_transform():
    src = TORCH.format(train_tf="tf_train", val_tf="tf_train")
    (f,) = _found(src, "augmented-evaluation")
    assert f.code == "GL322" and "post.py:7:" in f.evidence


GENERATORS = """\
def train(model, x_tr, y_tr, x_va, y_va, Gen):
    gen = Gen(rotation_range=30, horizontal_flip=True)
    gen_val = Gen(rotation_range=0, horizontal_flip=False)
    train_data = {source}.flow(x_tr, y_tr, batch_size=16)
    val_data = gen_val.flow(x_va, y_va, batch_size=16)
    model.fit(train_data, validation_data=val_data, epochs=10)
"""


def test_training_stream_drawn_from_the_validation_generator():
    (f,) = _found(GENERATORS.format(source="gen_val"), "augmentation-phase")
    assert f.code == "GL321" and "gen_val" in f.title
    assert _found(GENERATORS.format(source="gen"), "augmentation-phase") == []


def test_two_identical_objects_are_not_a_swap():
    src = GENERATORS.format(source="gen_val").replace(
        "rotation_range=0, horizontal_flip=False", "rotation_range=30, horizontal_flip=True"
    )
    assert _found(src, "augmentation-phase") == []
