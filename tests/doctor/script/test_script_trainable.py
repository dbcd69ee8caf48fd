"""Freezes and unfreezes that do not take effect (trainable_rules)."""

from __future__ import annotations

from graftlab.doctor.script import check_script


def _tr(src: str) -> list:
    return [
        f
        for f in check_script(src, filename="post.py")
        if f.category == "trainable-not-applied" and f.severity in ("error", "warning")
    ]


UNDONE = """\
import torch
from torchvision import models
model = models.resnet50(weights="DEFAULT")
for name, p in model.named_parameters():
    if not name.startswith("fc"):
        p.requires_grad = False
for p in model.parameters():
    p.requires_grad = True
opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01)
for x, y in loader:
    opt.zero_grad()
    torch.nn.functional.cross_entropy(model(x), y).backward()
    opt.step()
"""


def test_freeze_undone_before_training():
    (f,) = _tr(UNDONE)
    assert f.code == "GL229" and "post.py:8:" in f.evidence
    # unfreeze everything, then freeze: the right order
    right = UNDONE.replace(
        'for name, p in model.named_parameters():\n    if not name.startswith("fc"):\n'
        "        p.requires_grad = False\nfor p in model.parameters():\n"
        "    p.requires_grad = True\n",
        "for p in model.parameters():\n    p.requires_grad = True\n"
        'for name, p in model.named_parameters():\n    if not name.startswith("fc"):\n'
        "        p.requires_grad = False\n",
    )
    assert _tr(right) == []


def test_unfreezing_after_a_first_training_phase_is_fine():
    two_phase = (
        UNDONE.replace("for p in model.parameters():\n    p.requires_grad = True\n", "")
        + "for p in model.parameters():\n    p.requires_grad = True\n"
        + "opt = torch.optim.SGD(model.parameters(), lr=1e-4)\n"
    )
    assert [f for f in _tr(two_phase) if f.code == "GL229"] == []


EMPTIED = """\
import torch
freeze = ["model.0.", "model.1."]
freeze = []
for k, v in model.named_parameters():
    v.requires_grad = True
    if any(x in k for x in freeze):
        v.requires_grad = False
"""


def test_freeze_list_emptied_before_use():
    (f,) = _tr(EMPTIED)
    assert "emptied" in f.title
    assert _tr(EMPTIED.replace("freeze = []\n", "")) == []


GROUPS = """\
import torch
import torch.nn as nn
class Tracker(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, 64, 3), nn.ReLU())
        self.down = nn.ConvTranspose2d(768, 256, 1, 1)
        self.head = nn.Linear(256, 2)
    def forward(self, x):
        return self.head(self.down(self.backbone(x)).mean((2, 3)))
model = Tracker()
groups = [{"params": model.backbone.parameters(), "lr": 1e-4}]
groups.append({"params": model.head.parameters(), "lr": 1e-3})
optimizer = torch.optim.SGD(groups, momentum=0.9)
"""


def test_a_layer_left_out_of_the_parameter_groups():
    (f,) = _tr(GROUPS)
    assert "down" in f.title
    fixed = GROUPS.replace(
        "optimizer =", 'groups.append({"params": model.down.parameters()})\noptimizer ='
    )
    assert _tr(fixed) == []


def test_freeze_list_set_in_either_branch_is_not_emptied():
    src = """\
if args.freeze:
    freeze = ["model.0.", "model.1."]
else:
    freeze = []
for k, v in model.named_parameters():
    v.requires_grad = not any(x in k for x in freeze)
"""
    assert _tr("import torch\n" + src) == []


def test_freeze_or_unfreeze_in_two_branches_is_a_choice():
    src = """\
import torch
if args.linear_probe:
    for name, p in model.named_parameters():
        if not name.startswith("fc"):
            p.requires_grad = False
else:
    for p in model.parameters():
        p.requires_grad = True
opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01)
for x, y in loader:
    opt.zero_grad()
    torch.nn.functional.cross_entropy(model(x), y).backward()
    opt.step()
"""
    assert _tr(src) == []


def test_requires_grad_on_a_known_module_is_an_error_and_on_tensors_nothing():
    base = (
        "import torch\nfrom torchvision import models\nmodel = models.vit_b_16(weights='DEFAULT')\n"
    )
    (f,) = [f for f in check_script(base + "model.requires_grad = False\n") if f.code == "GL229"]
    assert f.severity == "error" and "not on its parameters" in f.title
    for fine in (
        "images.requires_grad = True\n",
        "model.class_token.requires_grad = False\n",
        "model.heads.head.weight.requires_grad = False\n",
        "for p in model.parameters():\n    p.requires_grad = False\n",
    ):
        assert not [f for f in check_script(base + fine) if f.code == "GL229"], fine


PRECOMPUTED = """\
from fastai.conv_learner import *
md = ImageClassifierData.from_paths(PATH, tfms=tfms_from_model(resnet34, 224))
clf = ConvLearner.pretrained(resnet34, md, precompute=True)
clf.fit(0.01, 3)
{between}clf.freeze_to(-2)
clf.fit([1e-4, 1e-3, 1e-2], 2, cycle_len=1)
"""


def test_unfreezing_a_learner_that_still_reads_precomputed_activations():
    found = [
        f
        for f in check_script(PRECOMPUTED.format(between=""), filename="nb.py")
        if f.category == "trainable-not-applied"
    ]
    assert [f.code for f in found] == ["GL319"] and found[0].severity == "warning"
    assert "nb.py:3:" in found[0].evidence and "nb.py:5:" in found[0].evidence
    fixed = check_script(PRECOMPUTED.format(between="clf.precompute = False\n"))
    assert "GL319" not in {f.code for f in fixed}


KEPT_FEATURES = """\
import torch
import torch.nn as nn
import timm
encoder = timm.create_model("convnext_tiny", pretrained=True, num_classes=0)
encoder.requires_grad_(False)
bank = []
with torch.no_grad():
    for imgs, _ in img_loader:
        bank.append(encoder(imgs))
bank = torch.cat(bank)
clf = nn.Linear(768, 12)
encoder.requires_grad_(True)
opt = torch.optim.SGD([*encoder.parameters(), *clf.parameters()], lr=1e-3)
for step in range(500):
    idx = torch.randint(0, len(bank), (64,))
    {line}
    opt.zero_grad()
    out.backward()
    opt.step()
"""


def test_unfreezing_an_encoder_whose_outputs_were_kept():
    stale = "out = nn.functional.cross_entropy(clf(bank[idx]), labels[idx])"
    (f,) = _tr(KEPT_FEATURES.format(line=stale))
    assert f.code == "GL319" and "post.py:9:" in f.evidence and "post.py:12:" in f.evidence
    # the encoder runs on the images again after the unfreeze: it is trained
    fresh = "out = nn.functional.cross_entropy(clf(encoder(images[idx])), labels[idx])"
    assert _tr(KEPT_FEATURES.format(line=fresh)) == []
