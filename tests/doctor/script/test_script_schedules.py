"""GL255: an epoch-sized learning-rate schedule stepped after every batch
(graftlab.doctor.script.torch_schedules)."""

from __future__ import annotations

import pytest

from graftlab.doctor.script import check_script

LOOP = """\
import torch
from torch.optim import lr_scheduler
from torchvision import models

net = models.efficientnet_b0(weights="DEFAULT")
n_epochs = 24
optimizer = torch.optim.AdamW(net.parameters(), lr=3e-4)
schedule = {schedule}
for ep in range(n_epochs):
    net.train()
    for xb, yb in train_dl:
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(xb), yb)
        loss.backward()
        optimizer.step()
{inner}{outer}"""

INNER = "        schedule.step()\n"
OUTER = "    schedule.step()\n"


def _gl151(src: str) -> list:
    return [f for f in check_script(src, filename="post.py") if f.code == "GL255"]


@pytest.mark.parametrize(
    "schedule",
    [
        "lr_scheduler.StepLR(optimizer, step_size=n_epochs // 3, gamma=0.1)",
        "lr_scheduler.StepLR(optimizer, 7, gamma=0.1)",
        "lr_scheduler.MultiStepLR(optimizer, milestones=[8, 16], gamma=0.1)",
        "lr_scheduler.CosineAnnealingLR(optimizer, T_max=n_epochs)",
        "lr_scheduler.ExponentialLR(optimizer, gamma=0.9)",
    ],
)
def test_an_epoch_sized_schedule_stepped_in_the_batch_loop_is_reported(schedule):
    (f,) = _gl151(LOOP.format(schedule=schedule, inner=INNER, outer=""))
    assert f.severity == "warning" and f.category == "learning-rate"
    assert "post.py:8: schedule = " in f.evidence and "post.py:16: schedule.step()" in f.evidence
    assert "after the batch loop" in f.fix


def test_the_same_schedule_stepped_once_per_epoch_is_silent():
    schedule = "lr_scheduler.StepLR(optimizer, step_size=n_epochs // 3, gamma=0.1)"
    assert _gl151(LOOP.format(schedule=schedule, inner="", outer=OUTER)) == []


@pytest.mark.parametrize(
    "schedule",
    [
        "lr_scheduler.CosineAnnealingLR(optimizer, T_max=n_epochs * len(train_dl))",
        "lr_scheduler.StepLR(optimizer, step_size=5000, gamma=0.5)",
        "lr_scheduler.MultiStepLR(optimizer, milestones=[20000, 40000])",
        "lr_scheduler.OneCycleLR(optimizer, max_lr=1e-3, total_steps=n_epochs * len(train_dl))",
        "lr_scheduler.ExponentialLR(optimizer, gamma=0.9999)",
        "lr_scheduler.CosineAnnealingLR(optimizer, T_max=50)",
    ],
)
def test_schedules_sized_in_steps_or_meant_per_batch_are_silent(schedule):
    assert _gl151(LOOP.format(schedule=schedule, inner=INNER, outer="")) == []


def test_a_step_told_the_epoch_is_silent():
    schedule = "lr_scheduler.StepLR(optimizer, step_size=8)"
    src = LOOP.format(schedule=schedule, inner="        schedule.step(ep)\n", outer="")
    assert _gl151(src) == []


def test_a_batch_loop_inside_a_function_called_per_epoch_is_followed():
    src = """\
import torch
from torch.optim.lr_scheduler import StepLR

def one_epoch(model, loader, opt, sched):
    for inputs, labels in loader:
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(inputs), labels).backward()
        opt.step()
        sched.step()

opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
sched = StepLR(opt, step_size=args.epochs // 2)
for epoch in range(args.epochs):
    one_epoch(model, train_loader, opt, sched)
"""
    (f,) = _gl151(src)
    assert "post.py:12: sched = StepLR(" in f.evidence and "post.py:9: sched.step()" in f.evidence


def test_a_single_loop_over_iterations_is_silent():
    src = """\
import torch
from torch.optim.lr_scheduler import StepLR
opt = torch.optim.SGD(model.parameters(), lr=0.01)
sched = StepLR(opt, step_size=30)
for it, (x, y) in enumerate(loader):
    opt.zero_grad()
    torch.nn.functional.mse_loss(model(x), y).backward()
    opt.step()
    sched.step()
"""
    assert _gl151(src) == []


def test_a_step_after_the_batch_loop_inside_a_phase_loop_is_silent():
    src = """\
import torch
from torch.optim import lr_scheduler

def fit(model, optimizer, scheduler, epochs=25):
    for epoch in range(epochs):
        for phase in ["train", "val"]:
            model.train(phase == "train")
            for inputs, labels in loaders[phase]:
                optimizer.zero_grad()
                with torch.set_grad_enabled(phase == "train"):
                    loss = criterion(model(inputs), labels)
                    if phase == "train":
                        loss.backward()
                        optimizer.step()
            if phase == "train":
                scheduler.step()

opt = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9)
fit(model, opt, lr_scheduler.StepLR(opt, step_size=7, gamma=0.1))
"""
    assert _gl151(src) == []
