"""A pretrained part 'frozen' by .eval() alone (issue 11): eval() fixes BatchNorm and Dropout,
not the weights. Written from the general shape, not from a post."""

from __future__ import annotations

from graftlab.doctor.script import check_script

STAGED = """\
import torch
import torch.nn as nn
import torchvision


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = torchvision.models.resnet18(weights="IMAGENET1K_V1")
        self.encoder.fc = nn.Identity()
        self.classifier = nn.Linear(512, 7)

    def forward(self, x):
        return self.classifier(self.encoder(x))


net = Net()
opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
loss_fn = nn.CrossEntropyLoss()
for epoch in range(20):
    net.train()
    if epoch < freeze_epochs:
        net.encoder.eval()
    for images, targets in train_loader:
        loss = loss_fn(net(images), targets)
        opt.zero_grad()
        loss.backward()
        opt.step()
"""


def _eval_only(source: str):
    return [f for f in check_script(source) if f.code == "GL229" and ".eval() only" in f.title]


def test_a_stage_that_freezes_the_encoder_with_eval_only_is_reported():
    (f,) = _eval_only(STAGED)
    assert f.severity == "warning" and "net.encoder" in f.title


def test_a_comment_saying_freeze_is_the_same_intent():
    commented = STAGED.replace(
        "    if epoch < freeze_epochs:\n        net.encoder.eval()",
        "    net.encoder.eval()  # keep the encoder frozen",
    )
    assert _eval_only(commented)


def test_requires_grad_false_on_the_encoder_is_a_real_freeze():
    frozen = STAGED.replace(
        "        net.encoder.eval()",
        "        net.encoder.eval()\n        net.encoder.requires_grad_(False)",
    )
    assert not _eval_only(frozen)


def test_fine_tuning_with_batchnorm_statistics_fixed_is_not_a_freeze():
    # eval() with no word of freezing: BatchNorm kept in inference mode while the weights
    # train, a correct recipe for small batches
    bn_fixed = STAGED.replace(
        "    if epoch < freeze_epochs:\n        net.encoder.eval()", "    net.encoder.eval()"
    )
    assert not _eval_only(bn_fixed)


def test_an_optimizer_over_the_head_only_leaves_the_encoder_fixed():
    head_only = STAGED.replace("net.parameters(), lr=0.01", "net.classifier.parameters(), lr=0.01")
    assert not _eval_only(head_only)
