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


UNNAMED = """\
def run(m, a, b, c, d, G):
    g1 = G(rotation_range=20, horizontal_flip=True)
    g2 = G(rotation_range=0, horizontal_flip=False)
    s1 = {train}.flow(a, b, batch_size=16)
    s2 = {val}.flow(c, d, batch_size=16)
    m.fit(s1, validation_data=s2, epochs=10)
"""


def test_roles_read_from_use_when_the_names_say_nothing():
    # fit trains on s1 and validates on s2: g2 is the evaluation generator, and the training
    # stream drawn from it skips g1's augmentation
    (f,) = _found(UNNAMED.format(train="g2", val="g2"), "augmentation-phase")
    assert f.code == "GL321" and "s1 is built with g2, not with g1" in f.title
    assert "inferred from how the data is used" in f.explanation
    assert _found(UNNAMED.format(train="g1", val="g2"), "augmentation-phase") == []
    assert _found(UNNAMED.format(train="g1", val="g2"), "augmented-evaluation") == []


def test_by_use_the_augmenting_object_is_the_training_one():
    # g1 builds both streams: it is the training generator used for validation, not the
    # validation one used for training
    src = UNNAMED.format(train="g1", val="g1")
    assert _found(src, "augmentation-phase") == []
    (f,) = _found(src, "augmented-evaluation")
    assert f.code == "GL322" and "s2 is built with g1" in f.title


def test_a_training_loop_gives_the_torch_datasets_their_roles():
    src = """\
import torch
from torch.utils.data import DataLoader
from mylib import PairedTransform, SegSet
t1 = PairedTransform(size=256, flip=0.5)
t2 = PairedTransform(size=256, flip=0)
d1 = SegSet(args.first, {t})
d2 = SegSet(args.second, t2)
l1 = DataLoader(d1, batch_size=8, shuffle=True)
l2 = DataLoader(d2, batch_size=1)
for epoch in range(10):
    for x, y in l1:
        loss = crit(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        for x, y in l2:
            score(net(x), y)
"""
    (f,) = _found(src.format(t="t2"), "augmentation-phase")
    assert f.code == "GL321" and "d1 is built with t2, not with t1" in f.title
    assert _found(src.format(t="t1"), "augmentation-phase") == []
