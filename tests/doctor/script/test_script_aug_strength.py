"""Training augmentation that leaves little of the image (GL248): a random crop of a small
part of the resized image, or hue jitter that recolours it."""

from __future__ import annotations

from graftlab.doctor.script import check_script

TRANSFORMS = """\
from torchvision import datasets, transforms
train_tf = transforms.Compose([
    transforms.Resize((96, 160)),
    transforms.RandomHorizontalFlip(),
    transforms.RandomCrop({crop}),
    transforms.ColorJitter(0.3, 0.3, 0.3, {hue}),
    transforms.ToTensor(),
])
eval_tf = transforms.Compose([transforms.Resize((96, 160)), transforms.ToTensor()])
birds = datasets.ImageFolder("birds/train", transform=train_tf)
"""


def _strong(src: str) -> list:
    return [f for f in check_script(src, filename="post.py") if f.code == "GL248"]


def test_a_crop_of_a_fifth_of_the_image_is_a_warning_with_the_arithmetic():
    (f,) = _strong(TRANSFORMS.format(crop="(40, 64)", hue="0.05"))
    assert f.severity == "warning" and f.category == "other"
    assert "40x64" in f.title and "96x160" in f.title and "17%" in f.title
    assert "post.py:5:" in f.evidence and "inferred" in f.explanation


def test_hue_jitter_past_a_third_of_the_circle_is_one_finding_with_the_crop():
    (f,) = _strong(TRANSFORMS.format(crop="(40, 64)", hue="(-0.4, 0.4)"))
    assert "0.4" in f.title and "post.py:6:" in f.evidence
    assert _strong(TRANSFORMS.format(crop="(88, 150)", hue="0.45"))


def test_usual_crops_and_colour_jitter_are_silent():
    assert _strong(TRANSFORMS.format(crop="(88, 150)", hue="0.1")) == []
    assert _strong(TRANSFORMS.format(crop="64", hue="0.05")) == []  # 64x64 of 96x160: 27%
