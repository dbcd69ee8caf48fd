"""How a model's parts meet: softmax returned by a definition, another library's cross-entropy,
and a head sized for pooled features placed after the backbone's own classifier."""

from __future__ import annotations

from graftlab.doctor.script import check_script


def _found(src: str, category: str) -> list:
    return [
        f
        for f in check_script(src, filename="post.py")
        if f.category == category and f.severity in ("error", "warning")
    ]


ZOO = """\
import torch
import torch.nn as nn
class Tiny(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.body = nn.Conv2d(3, 8, 3)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.out = nn.Linear(8, num_classes)
    def trunk(self, x):
        return self.pool(self.body(x))
    def scores(self, h):
        h = h.flatten(1)
        h = self.out(h)
        {last}
        return h
    def forward(self, x):
        h = self.trunk(x)
        h = self.scores(h)
        return h
def tiny(pretrained=True):
    model = Tiny()
    if pretrained:
        model.load_state_dict(torch.load("tiny.pth"))
    return model
"""


def test_definition_whose_forward_ends_in_a_softmax_method_is_a_warning():
    (f,) = _found(ZOO.format(last="h = nn.Softmax(dim=1)(h)"), "double-softmax")
    assert f.code == "GL206" and f.severity == "warning"
    assert "post.py:14:" in f.evidence and "inferred" in f.explanation
    assert _found(ZOO.format(last="h = h.softmax(dim=1)"), "double-softmax")


def test_definition_returning_logits_is_silent():
    assert _found(ZOO.format(last="pass"), "double-softmax") == []


def test_a_network_of_ones_own_without_loaded_weights_is_left_alone():
    src = ZOO.format(last="h = nn.Softmax(dim=1)(h)")
    src = src.replace('model.load_state_dict(torch.load("tiny.pth"))', "pass")
    assert _found(src, "double-softmax") == []


def test_definition_with_softmax_and_nll_on_its_log_is_left_to_the_loss_rules():
    src = ZOO.format(last="h = nn.Softmax(dim=1)(h)") + (
        "model = tiny()\nloss = nn.NLLLoss()(model(x).log(), y)\nloss.backward()\n"
    )
    assert [f for f in _found(src, "double-softmax") if f.code == "GL206"] == []


FOREIGN = """\
import torch
import torch.nn as nn
import torch.nn.functional as F
from somelib.losses import CrossEntropyLossX
class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(4, 16, batch_first=True)
        self.proj = nn.Linear(16, 3)
    def forward(self, seq):
        seq, _ = self.rnn(seq)
        out = self.proj(seq)
        {last}
def build():
    net = Tagger()
    return net
net = build()
ce = CrossEntropyLossX()
out = net(seq=batch)
value = ce(logits=out, labels=target)
"""


def test_a_libraries_cross_entropy_on_softmax_output_is_a_warning():
    (f,) = _found(FOREIGN.format(last="return F.softmax(out, dim=2)"), "double-softmax")
    assert f.code == "GL201" and f.severity == "warning"
    assert "CrossEntropyLossX" in f.explanation


def test_a_libraries_cross_entropy_on_logits_is_silent():
    assert _found(FOREIGN.format(last="return out"), "double-softmax") == []


def test_module_on_a_frameworks_own_base_class_is_followed():
    src = FOREIGN.format(last="return F.softmax(out, dim=2)").replace(
        "class Tagger(nn.Module):", "class Tagger(SomeFrameworkModule):"
    )
    assert _found(src, "double-softmax")


STACKED = """\
import torch.nn as nn
import torchvision.models as models
class Transfer(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = models.resnet50(pretrained=True)
        {edit}
        self.head = nn.Linear(2048, 5)
    def forward(self, x):
        feats = self.backbone(x)
        return self.head(feats)
"""


def test_linear_for_pooled_width_after_the_kept_classifier_is_an_error():
    (f,) = _found(STACKED.format(edit="pass"), "head-mismatch")
    assert f.code == "GL207" and f.severity == "error"
    assert "post.py:6:" in f.evidence and "post.py:8:" in f.evidence


def test_classifier_replaced_by_identity_is_silent():
    assert _found(STACKED.format(edit="self.backbone.fc = nn.Identity()"), "head-mismatch") == []


def test_sequential_of_whole_backbone_and_pooled_width_linear():
    src = """\
import torch.nn as nn
from torchvision import models
net = nn.Sequential(models.densenet121(pretrained=True), nn.Dropout(0.2), nn.Linear(1024, 4))
"""
    (f,) = _found(src, "head-mismatch")
    assert f.code == "GL207"
    fixed = src.replace("nn.Linear(1024, 4)", "nn.Linear(1000, 4)")
    assert _found(fixed, "head-mismatch") == []  # stacked on the logits: GL204's question
