"""The order a training loader's sampler gives: a sampler that keeps the stored order."""

from __future__ import annotations

from graftlab.doctor.script import check_script

SRC = """\
import torch
from torch.utils.data import DataLoader, DistributedSampler, SequentialSampler, TensorDataset
signals = TensorDataset(torch.randn(512, 12), torch.arange(512) % 3)
order = {sampler}
{name} = DataLoader(signals, batch_size=32, sampler=order)
"""


def _no_shuffle(src: str) -> list:
    return [
        f
        for f in check_script(src, filename="post.py")
        if f.category == "no-shuffle" and f.severity != "info"
    ]


def test_sequential_sampler_for_training_is_a_warning_citing_sampler_and_loader():
    (f,) = _no_shuffle(SRC.format(sampler="SequentialSampler(signals)", name="train_loader"))
    assert f.code == "GL217" and f.severity == "warning"  # the stored order may not be sorted
    assert "post.py:4:" in f.evidence and "post.py:5:" in f.evidence


def test_distributed_sampler_shuffles_by_default_and_when_asked():
    for sampler in ("DistributedSampler(signals)", "DistributedSampler(signals, shuffle=True)"):
        assert _no_shuffle(SRC.format(sampler=sampler, name="train_loader")) == []
    bug = SRC.format(sampler="DistributedSampler(signals, shuffle=False)", name="train_loader")
    assert _no_shuffle(bug)


def test_an_ordered_sampler_for_evaluation_is_right():
    assert _no_shuffle(SRC.format(sampler="SequentialSampler(signals)", name="val_loader")) == []


def test_a_loader_iterated_only_to_extract_features_is_left_alone():
    src = SRC.format(sampler="SequentialSampler(signals)", name="train_loader") + (
        "feats = []\n"
        "with torch.no_grad():\n"
        "    for x, _ in train_loader:\n"
        "        feats.append(encoder(x))\n"
    )
    assert _no_shuffle(src) == []


FOLDER_LOADER = """\
import torch
from torch.utils.data import DataLoader
from torchvision.datasets import ImageFolder
pictures = ImageFolder("pics/train", transform=tf)
batches = DataLoader(pictures, 16, False)
for epoch in range(4):
    for x, y in batches:
        opt.zero_grad()
        loss_fn(net(x), y).backward()
        opt.step()
"""


def test_shuffle_given_as_the_third_positional_argument():
    (f,) = _no_shuffle(FOLDER_LOADER)
    assert f.code == "GL217" and f.severity == "error" and "post.py:5:" in f.evidence
    assert _no_shuffle(FOLDER_LOADER.replace("16, False)", "16, True)")) == []


LOADER_FACTORY = """\
from torch.utils.data import DataLoader
from torchvision import datasets

def loader_for(folder, batch, shuffle=False):
    return DataLoader(datasets.ImageFolder(folder, transform=tf), batch_size=batch, shuffle=shuffle)

train_dl = loader_for("pics/train", 32)
val_dl = loader_for("pics/val", 32)
for epoch in range(3):
    for x, y in train_dl:
        opt.zero_grad()
        loss_fn(net(x), y).backward()
        opt.step()
"""


def test_a_loader_factory_left_at_its_unshuffled_default_for_training():
    (f,) = _no_shuffle(LOADER_FACTORY)
    assert f.code == "GL217" and "post.py:5:" in f.evidence
    # the training call asks for shuffling, validation keeps the default
    fixed = LOADER_FACTORY.replace('("pics/train", 32)', '("pics/train", 32, shuffle=True)')
    assert _no_shuffle(fixed) == []
    positional = LOADER_FACTORY.replace('("pics/train", 32)', '("pics/train", 32, True)')
    assert _no_shuffle(positional) == []
