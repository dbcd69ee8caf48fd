"""torchvision Inception v3 / GoogLeNet rebuilt without transform_input for evaluation (GL132)."""

from __future__ import annotations

import pytest

from graftlab.doctor.script import check_script

TRAIN = """\
import torch
import torch.nn as nn
from torchvision import models

net = models.inception_v3(pretrained=True)
net.fc = nn.Linear(net.fc.in_features, 4)
opt = torch.optim.SGD(net.parameters(), lr=0.001, momentum=0.9)
for x, y in loader:
    opt.zero_grad()
    out, aux = net(x)
    nn.functional.cross_entropy(out, y).backward()
    opt.step()
torch.save(net.state_dict(), "ft.pth")
"""
EVAL = """\
clf = models.inception_v3()
clf.fc = nn.Linear(clf.fc.in_features, 4)
clf.load_state_dict(torch.load("ft.pth"))
clf.eval()
"""


def _found(*sources, tmp_path=None):
    if tmp_path is None:
        return [f for f in check_script("\n".join(sources)) if f.code == "GL132"]
    paths = []
    for i, text in enumerate(sources):
        paths.append(tmp_path / f"part{i}.py")
        paths[-1].write_text(text)
    return [f for f in check_script(paths) if f.code == "GL132"]


def test_one_file_rebuilding_the_network_plainly_for_the_fine_tuned_weights_is_an_error():
    [f] = _found(TRAIN + EVAL)
    assert (f.category, f.severity) == ("train-eval-preprocessing-mismatch", "error")
    assert "inception_v3()" in f.title and "transform_input" in f.title
    assert ":5:" in f.evidence and ":14:" in f.evidence and ":16:" in f.evidence


def test_a_training_file_and_an_evaluation_file_given_together_is_a_warning(tmp_path):
    [f] = _found(
        TRAIN,
        "import torch\nimport torch.nn as nn\nfrom torchvision import models\n" + EVAL,
        tmp_path=tmp_path,
    )
    assert f.severity == "warning" and "inferred" in f.explanation


@pytest.mark.parametrize(
    "evaluation",
    [
        EVAL.replace("models.inception_v3()", "models.inception_v3(pretrained=True)"),
        EVAL.replace("models.inception_v3()", "models.inception_v3(transform_input=True)"),
        EVAL.replace('clf.load_state_dict(torch.load("ft.pth"))\n', ""),
        EVAL.replace("inception_v3", "resnet50"),
    ],
    ids=["pretrained-too", "flag-set", "nothing-loaded", "resnet"],
)
def test_the_same_flag_no_loaded_weights_or_another_network_say_nothing(evaluation):
    assert _found(TRAIN + evaluation) == []


def test_a_model_trained_from_scratch_and_rebuilt_the_same_way_says_nothing():
    assert _found(TRAIN.replace("pretrained=True", "pretrained=False") + EVAL) == []
