"""GL242: the image predicted is made a tensor by hand, without the ToTensor/Normalize the
training images go through (torch_pixels)."""

from __future__ import annotations

from graftlab.doctor.script import check_script

HAND_MADE = """\
import numpy as np
import torch
from PIL import Image
from torchvision import datasets, transforms
norm = transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
train_tf = transforms.Compose([transforms.Resize((224, 224)), transforms.ToTensor(), norm])
train_set = datasets.ImageFolder("data/train", transform=train_tf)
img = np.array(Image.open("x.jpg").convert("RGB").resize((224, 224)), dtype=np.float32)
x = torch.from_numpy(img).permute(2, 0, 1).unsqueeze(0)
with torch.no_grad():
    print(model(x).argmax(1))
"""


def _inputs(src: str) -> list:
    return [
        f
        for f in check_script(src, filename="post.py")
        if f.category == "train-eval-preprocessing-mismatch" and f.severity != "info"
    ]


def test_raw_pixels_predicted_by_a_network_trained_on_to_tensor():
    (f,) = _inputs(HAND_MADE)
    assert f.code == "GL242" and f.severity == "warning" and "inferred" in f.explanation
    assert [f"post.py:{n}:" in f.evidence for n in (6, 8, 9, 11)] == [True] * 4
    through = HAND_MADE.replace(
        "x = torch.from_numpy(img).permute(2, 0, 1).unsqueeze(0)",
        'x = train_tf(Image.open("x.jpg").convert("RGB")).unsqueeze(0)',
    )
    assert _inputs(through) == []


def test_divided_by_255_but_not_normalised():
    unit = HAND_MADE.replace("dtype=np.float32)", "dtype=np.float32) / 255.0")
    (f,) = _inputs(unit)
    assert "skips the Normalize" in f.title
    plain = unit.replace(", norm])", "])")
    assert _inputs(plain) == []  # training did not normalise either: the same inputs


def test_a_network_built_in_the_script_makes_it_an_error():
    built = HAND_MADE.replace(
        "train_set = ",
        "model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(150528, 2))\ntrain_set = ",
    )
    (f,) = _inputs(built)
    assert f.severity == "error" and "inferred" not in f.explanation
