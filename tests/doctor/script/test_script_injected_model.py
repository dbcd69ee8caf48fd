"""A model reached through a parameter (issue 11, item 3): a trainer class whose loss is a
constructor parameter's default, called on a ``model`` argument, with several modules in the
paste; the one whose forward() takes the call's inputs is taken. Written from the general
shape, not from a post."""

from __future__ import annotations

from graftlab.doctor.script import check_script

TRAINER = """\
import torch
from torch import nn


class Encoder(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        return torch.relu(self.proj(x))


class PairScorer(nn.Module):
    def __init__(self, enc, n_classes):
        super().__init__()
        self.enc = enc
        self.out = nn.Linear(2 * 64, n_classes)
        self.norm = nn.Softmax(dim=1)

    def forward(self, left, right):
        both = torch.cat([self.enc(left), self.enc(right)], dim=1)
        return self.norm(self.out(both))


class Loop:
    def __init__(self, criterion=nn.CrossEntropyLoss(), lr=1e-3):
        self.criterion = criterion
        self.lr = lr

    def epoch(self, model, pairs, opt):
        model.train()
        for left, right, y in pairs:
            opt.zero_grad()
            loss = self.criterion(model(left, right), y)
            loss.backward()
            opt.step()
"""


def _double(source: str):
    return [f for f in check_script(source) if f.code == "GL201"]


def test_softmax_output_into_a_default_cross_entropy_through_a_model_argument_is_found():
    (f,) = _double(TRAINER)
    # which module ``model`` is was inferred from forward()'s inputs: a warning that says so
    assert f.severity == "warning" and "Inferred" in f.explanation


def test_logits_from_the_same_model_are_not_reported():
    logits = TRAINER.replace("return self.norm(self.out(both))", "return self.out(both)")
    assert not _double(logits)


def test_a_default_loss_that_takes_probabilities_is_not_a_double_softmax():
    nll = TRAINER.replace("nn.Softmax(dim=1)", "nn.LogSoftmax(dim=1)").replace(
        "nn.CrossEntropyLoss()", "nn.NLLLoss()"
    )
    assert not _double(nll)
