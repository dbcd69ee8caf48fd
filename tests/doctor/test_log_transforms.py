"""graftlab.doctor._logtransforms: printed pipelines where training crops and evaluation
squashes the whole frame to a square."""

from __future__ import annotations

import pytest

from graftlab.doctor.logs import check_log

EPOCHS = "".join(
    f"epoch [{e}/20] batch [5/5] loss {2.1 - e * 0.05:.4f} acc {40 + e:.4f} lr 2.000000e-03\n"
    for e in range(1, 21, 4)
)


def run(train_steps, test_steps, header="Building transform_{}"):
    out = "Loading dataset: Aircraft\n" + header.format("train") + "\n"
    out += "".join(f"+ {s}\n" for s in train_steps)
    out += header.format("test") + "\n" + "".join(f"+ {s}\n" for s in test_steps)
    return out + "Loading CLIP (backbone: ViT-B/16)\n" + EPOCHS + "* accuracy: 31.20%\n"


TRAIN = [
    "random resized crop (size=(224, 224), scale=(0.08, 1.0))",
    "random flip",
    "to torch tensor of range [0, 1]",
    "normalization (mean=[0.481, 0.458, 0.408])",
]


def _squash(text):
    return [f for f in check_log(text) if f.code == "GL449"]


def test_a_test_pipeline_that_resizes_both_sides_without_a_crop():
    [f] = _squash(run(TRAIN, ["resize to 224x224", "to torch tensor of range [0, 1]"]))
    assert (f.category, f.severity) == ("train-eval-preprocessing-mismatch", "warning")
    assert "resize to 224x224" in f.evidence and "random resized crop" in f.evidence
    assert "CenterCrop(224)" in f.fix


def test_other_headers_and_a_printed_resize_with_a_size_tuple():
    text = run(TRAIN, ["Resize(size=(256, 256))"], header="{} transforms:")
    assert len(_squash(text)) == 1


@pytest.mark.parametrize(
    "test_steps",
    [
        ["resize the smaller edge to 224", "224x224 center crop", "to torch tensor"],
        ["resize to 256x256", "center crop (size=(224, 224))"],
        ["to torch tensor of range [0, 1]"],
    ],
)
def test_an_evaluation_that_crops_or_does_not_resize_is_silent(test_steps):
    assert _squash(run(TRAIN, test_steps)) == []


def test_training_that_squashes_too_is_consistent():
    train = ["resize to 224x224", "random flip", "to torch tensor of range [0, 1]"]
    assert _squash(run(train, ["resize to 224x224"])) == []
