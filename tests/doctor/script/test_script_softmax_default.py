"""GL252: a softmax given as a constructor's or factory's default output activation, trained
with cross-entropy (graftlab.doctor.script.torch_softmax_default)."""

from __future__ import annotations

from graftlab.doctor.script import check_script


def _ds(src: str) -> list:
    return [
        f
        for f in check_script(src, filename="post.py")
        if f.category == "double-softmax" and f.severity in ("error", "warning")
    ]


LIBRARY = """\
import torch
import torch.nn as nn
class Base(nn.Module):
    def __init__(self, in_dim, num_classes, pred_activation=nn.Softmax(dim=1),
                 criterion=nn.CrossEntropyLoss()):
        super().__init__()
        self.criterion = criterion
        self.body = nn.Sequential(nn.Linear(in_dim, 64), nn.ReLU())
        self.tail = self._tail(64, num_classes, pred_activation)
    def _tail(self, d, k, act):
        layers = [nn.Linear(d, k)]
        if act is not None:
            layers.append(act)
        return nn.Sequential(*layers)
    def forward(self, x):
        return self.tail(self.body(x))
    def fit(self, loader):
        opt = torch.optim.Adam(self.parameters())
        for x, y in loader:
            loss = self.criterion(self(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
class Dense(Base):
    pass
net = Dense(784, 10{extra})
net.fit(loader)
"""


def test_a_softmax_default_left_in_place_under_a_default_cross_entropy_is_a_warning():
    (f,) = _ds(LIBRARY.format(extra=""))
    assert f.code == "GL252" and f.severity == "warning"
    assert "post.py:4:" in f.evidence and "post.py:5:" in f.evidence  # both defaults
    assert "post.py:26:" in f.evidence  # the caller that keeps the softmax
    assert "pred_activation" in f.title


def test_a_caller_that_passes_its_own_output_activation_is_silent():
    assert _ds(LIBRARY.format(extra=", pred_activation=None")) == []
    assert _ds(LIBRARY.format(extra=", None")) == []  # positionally
    assert _ds(LIBRARY.format(extra=", **options")) == []  # not shown: not assumed


def test_a_log_softmax_default_or_a_hidden_activation_is_silent():
    log = LIBRARY.format(extra="").replace("nn.Softmax(dim=1)", "nn.LogSoftmax(dim=1)")
    assert _ds(log) == []  # log_softmax under cross-entropy is idempotent
    hidden = LIBRARY.format(extra="").replace("pred_activation", "activation")
    assert _ds(hidden) == []  # a hidden layer's activation is another matter


def test_a_softmax_default_the_constructor_never_reads_is_silent():
    src = LIBRARY.format(extra="").replace(
        "self.tail = self._tail(64, num_classes, pred_activation)",
        "self.tail = self._tail(64, num_classes, None)",
    )
    assert _ds(src) == []


FACTORY = """\
import torch.nn as nn
import torch.nn.functional as F
def build_classifier(in_dim, num_classes, out_activation={default}):
    layers = [nn.Linear(in_dim, 128), nn.ReLU(), nn.Linear(128, num_classes)]
    if out_activation is not None:
        layers.append(Lambda(out_activation))
    return nn.Sequential(*layers)
model = build_classifier(512, 5)
criterion = {loss}
for x, y in loader:
    loss = criterion(model(x), y)
    loss.backward()
"""


def test_a_factory_default_softmax_with_the_scripts_cross_entropy_is_one_warning():
    found = _ds(FACTORY.format(default="F.softmax", loss="nn.CrossEntropyLoss()"))
    assert len(found) == 1 and found[0].code == "GL252"
    assert "post.py:3:" in found[0].evidence and "post.py:9:" in found[0].evidence
    # NLLLoss on probabilities is another mistake (GL203's), not a softmax applied twice
    assert _ds(FACTORY.format(default="F.softmax", loss="nn.NLLLoss()")) == []
    assert _ds(FACTORY.format(default="None", loss="nn.CrossEntropyLoss()")) == []


def test_a_module_softmax_already_reported_is_one_finding():
    src = """\
import torch.nn as nn
class Net(nn.Module):
    def __init__(self, num_classes=10, out_act=nn.Softmax(dim=1)):
        super().__init__()
        self.fc = nn.Linear(64, num_classes)
        self.out_act = out_act
    def forward(self, x):
        return self.out_act(self.fc(x))
model = Net()
criterion = nn.CrossEntropyLoss()
for x, y in loader:
    loss = criterion(model(x), y)
    loss.backward()
"""
    assert len(_ds(src)) == 1


SMP = """\
import torch
import torch.nn as nn
import segmentation_models_pytorch as smp
model = smp.Unet(encoder_name="resnet34", encoder_weights="imagenet", classes=3,
                 activation={act})
criterion = {loss}
optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
for images, masks in train_loader:
    loss = criterion(model(images), masks)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
"""


def test_a_softmax_passed_as_a_segmentation_models_activation_is_a_warning():
    (f,) = _ds(SMP.format(act='"softmax2d"', loss="nn.CrossEntropyLoss()"))
    assert f.code == "GL253" and f.severity == "warning"
    assert "post.py:5:" in f.evidence and "post.py:6:" in f.evidence
    assert _ds(SMP.format(act="None", loss="nn.CrossEntropyLoss()")) == []
    assert _ds(SMP.format(act='"softmax2d"', loss="nn.MSELoss()")) == []


def test_an_output_activation_keyword_reaches_a_pasted_class_only_if_it_reads_it():
    src = LIBRARY.format(extra=", pred_activation=nn.Softmax(dim=1)")
    (f,) = _ds(src)  # the default and the value passed are one cause
    assert f.code in ("GL252", "GL253") and "post.py:26:" in f.evidence
    ignored = src.replace(
        "self.tail = self._tail(64, num_classes, pred_activation)",
        "self.tail = self._tail(64, num_classes, None)",
    )
    assert _ds(ignored) == []
    hidden = """\
import torch.nn as nn
from mylib import ConvStack
body = ConvStack(channels=64, activation=nn.Softmax(dim=1))
criterion = nn.CrossEntropyLoss()
"""
    assert _ds(hidden) == []  # not an output activation by its name


def test_a_softmax_reaching_the_keyword_through_a_name_or_a_config_entry():
    src = """\
import torch.nn as nn
from zoo import build_classifier
cfg = {"backbone": "resnet18", "head_activation": %s}
model = build_classifier(cfg["backbone"], num_classes=4, head_activation=cfg["head_activation"])
criterion = nn.CrossEntropyLoss()
"""
    (f,) = _ds(src % '"softmax"')
    assert f.code == "GL253" and "post.py:3:" in f.evidence and "post.py:4:" in f.evidence
    assert _ds(src % "None") == []
    named = src.replace('cfg["head_activation"])', "act)").replace(
        "cfg = {", "act = nn.Softmax(dim=1)\ncfg = {"
    )
    assert [f.code for f in _ds(named % "None")] == ["GL253"]
