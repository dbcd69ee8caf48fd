"""Normalize with statistics of [0, 1] pixels applied to a 0..255 tensor made by hand (GL239).
Written from the general shape, not from a post."""

from __future__ import annotations

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
