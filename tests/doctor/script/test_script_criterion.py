"""A criterion built but not called in the paste, judged against the one network it defines."""

from __future__ import annotations

from graftlab.doctor.script import check_script

NET = """\
import torch.nn as nn
class Scorer(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(20, 64), nn.ReLU())
        self.out = nn.Linear(64, 4)
        self.act = nn.Softmax(dim=1)
    def forward(self, x):
        {ending}
{extra}criterion = nn.{loss}()
"""


def _double(src: str) -> list:
    return [
        f
        for f in check_script(src, filename="post.py")
        if f.category == "double-softmax" and f.severity != "info"
    ]


def _src(ending="return self.act(self.out(self.body(x)))", extra="", loss="CrossEntropyLoss"):
    return NET.format(ending=ending, extra=extra, loss=loss)


def test_uncalled_cross_entropy_beside_a_softmax_network_is_a_warning_saying_what_is_inferred():
    (f,) = _double(_src())
    assert f.code == "GL201" and f.severity == "warning"
    assert "post.py:7:" in f.evidence and "post.py:10:" in f.evidence
    assert "inferred" in f.explanation and "Scorer" in f.title


def test_network_returning_logits_is_silent():
    assert _double(_src(ending="return self.out(self.body(x))")) == []


def test_softmax_only_in_eval_mode_is_left_alone():
    ending = "h = self.out(self.body(x))\n        return h if self.training else self.act(h)"
    assert [f for f in _double(_src(ending=ending)) if "is built for" in f.title] == []


def test_a_second_network_makes_the_pairing_unknown():
    other = (
        "class Critic(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.fc = nn.Linear(4, 2)\n"
        "    def forward(self, p):\n"
        "        return self.fc(p).softmax(dim=1)\n"
    )
    assert _double(_src(extra=other)) == []


def test_other_losses_are_not_this_rule():
    assert _double(_src(loss="MSELoss")) == []


def test_a_called_criterion_is_judged_once_by_the_loss_rules():
    src = _src() + "loss = criterion(Scorer()(x), y)\nloss.backward()\n"
    (f,) = _double(src)
    assert f.code == "GL201" and "is built for" not in f.title


def test_the_other_clashing_pairs_are_activation_loss_mismatches():
    sigmoid = _src(ending="return self.out(self.body(x)).sigmoid()", loss="BCEWithLogitsLoss")
    nll = _src(loss="NLLLoss")
    for src in (sigmoid, nll):
        (f,) = [
            f
            for f in check_script(src, filename="post.py")
            if f.category == "activation-loss-mismatch"
        ]
        assert f.code == "GL203" and f.severity == "warning" and "inferred" in f.explanation
    assert _double(sigmoid) == [] and _double(nll) == []
    log_softmax = "return F.log_softmax(self.out(self.body(x)), dim=1)"
    fine = "import torch.nn.functional as F\n" + _src(ending=log_softmax, loss="NLLLoss")
    assert not [f for f in check_script(fine) if f.severity != "info"]
