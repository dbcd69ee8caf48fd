"""Normalize with statistics of [0, 1] pixels applied to a 0..255 tensor made by hand (GL239).
Written from the general shape, not from a post."""

from __future__ import annotations

import pytest

from graftlab.doctor.script import check_script

BY_HAND = """\
import cv2
import torch
import torchvision
from torchvision import transforms

normalise = transforms.Compose([
    transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
])
model = torchvision.models.resnet50(weights="IMAGENET1K_V2").eval()

frame = cv2.imread("shelf.jpg")
frame = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
x = torch.from_numpy(frame).permute(2, 0, 1).float()
with torch.no_grad():
    print(model(normalise(x).unsqueeze(0)).argmax(1))
"""


def _raw_normalize(source: str):
    return [f for f in check_script(source) if f.code == "GL239"]


def test_normalize_on_a_hand_made_0_255_tensor_is_an_error():
    (f,) = _raw_normalize(BY_HAND)
    assert f.severity == "error" and f.category == "preprocessing-mismatch"


def test_dividing_by_255_first_is_correct():
    scaled = BY_HAND.replace(".float()\n", ".float() / 255.0\n")
    assert not _raw_normalize(scaled)


def test_normalize_with_statistics_of_0_255_pixels_is_correct():
    wide = BY_HAND.replace("[0.485, 0.456, 0.406]", "[123.675, 116.28, 103.53]").replace(
        "[0.229, 0.224, 0.225]", "[58.395, 57.12, 57.375]"
    )
    assert not _raw_normalize(wide)


def test_a_conversion_inside_the_pipeline_before_normalize_is_correct():
    converted = BY_HAND.replace(
        "    transforms.Normalize(",
        "    transforms.ConvertImageDtype(torch.float),\n    transforms.Normalize(",
    ).replace(".permute(2, 0, 1).float()", ".permute(2, 0, 1)")
    assert not _raw_normalize(converted)


# A uint8 tensor made inside the Compose and cast to float without scaling: the same cause.
CAST_IN_COMPOSE = {
    "v2-todtype-without-scale": (
        "v2.Compose([v2.ToImage(), v2.RandomResizedCrop(224), v2.ToDtype(torch.float32),\n"
        "            v2.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])",
        ("v2.ToDtype(torch.float32)", "v2.ToDtype(torch.float32, scale=True)"),
    ),
    "piltotensor-then-lambda-float": (
        "transforms.Compose([transforms.Resize(256), transforms.PILToTensor(),\n"
        "                    transforms.Lambda(lambda img: img.to(torch.float32)),\n"
        "                    transforms.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))])",
        (
            "transforms.Lambda(lambda img: img.to(torch.float32))",
            "transforms.Lambda(lambda img: img.to(torch.float32) / 255)",
        ),
    ),
    "piltotensor-then-todtype-keyword-false": (
        "transforms.Compose([transforms.PILToTensor(),\n"
        "                    transforms.ToDtype(dtype=torch.float32, scale=False),\n"
        "                    transforms.Normalize(mean=[0.5, 0.5, 0.5], std=[0.5, 0.5, 0.5])])",
        ("scale=False", "scale=True"),
    ),
}


def _in_script(compose: str) -> str:
    return (
        "import torch\nfrom torchvision import datasets, models, transforms\n"
        "from torchvision.transforms import v2\n"
        f"train_tf = {compose}\n"
        'train_ds = datasets.ImageFolder("data/train", transform=train_tf)\n'
        'model = models.resnet50(weights="DEFAULT")\n'
    )


@pytest.mark.parametrize("name", CAST_IN_COMPOSE)
def test_a_cast_to_float_without_scaling_before_normalize(name):
    compose, _ = CAST_IN_COMPOSE[name]
    (f,) = _raw_normalize(_in_script(compose))
    assert f.severity == "error"


@pytest.mark.parametrize("name", CAST_IN_COMPOSE)
def test_a_cast_that_scales_stays_silent(name):
    compose, (bug, fix) = CAST_IN_COMPOSE[name]
    assert not _raw_normalize(_in_script(compose.replace(bug, fix)))
