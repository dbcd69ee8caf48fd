"""The same script written inside functions, methods and several files: values are followed."""

from __future__ import annotations

from graftlab.doctor.script import check_script

HELPER = """\
import torch


class Experiment:
    def run(self):
        print(torch.__version__)


Experiment().run()
"""

TRAIN = """\
import torch
from torch import nn


class Experiment:
    def run(self):
        net = nn.Sequential(nn.Linear(10, 3), nn.Softmax(dim=1))
        crit = nn.CrossEntropyLoss()
        opt = torch.optim.SGD(net.parameters(), lr=0.1)
        for x, y in loader:
            opt.zero_grad()
            crit(net(x), y).backward()
            opt.step()


Experiment().run()
"""


def _found(findings, category: str) -> bool:
    return any(f.category == category and f.severity in ("error", "warning") for f in findings)


def test_two_files_that_each_define_a_class_of_one_name_run_their_own_method(tmp_path):
    a, b = tmp_path / "helper.py", tmp_path / "train.py"
    a.write_text(HELPER)
    b.write_text(TRAIN)
    # train.py's Experiment().run() runs train.py's run(), not helper.py's
    assert _found(check_script([a, b]), "double-softmax")
    # and a method that no call of its own definition reaches is still read
    assert _found(check_script([b, a]), "double-softmax")


def test_a_function_defined_in_a_method_before_its_names_are_set_reads_them_when_called():
    src = """\
import torch
from torch import nn


class Job:
    def run(self, loader):
        def step(x, y):
            opt.zero_grad()
            crit(net(x), y).backward()
            opt.step()

        net = nn.Sequential(nn.Linear(10, 3), nn.Softmax(dim=1))
        crit = nn.CrossEntropyLoss()
        opt = torch.optim.SGD(net.parameters(), lr=0.1)
        for x, y in loader:
            step(x, y)


Job().run(None)
"""
    assert _found(check_script(src), "double-softmax")


def test_a_closure_in_main_reads_main_s_names_not_a_module_name_of_the_same_spelling():
    src = """\
import torch
from torch import nn

crit = nn.NLLLoss()


def main():
    net = nn.Sequential(nn.Linear(10, 3), nn.Softmax(dim=1))
    crit = nn.CrossEntropyLoss()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)

    def step(x, y):
        opt.zero_grad()
        crit(net(x), y).backward()
        opt.step()

    for x, y in loader:
        step(x, y)


main()
"""
    assert _found(check_script(src), "double-softmax")


def test_a_model_held_as_an_attribute_is_followed_to_its_call():
    src = """\
import types

import torch
import torchvision

state = types.SimpleNamespace()
state.net = torchvision.models.resnet50(weights="IMAGENET1K_V2")
state.net.eval()
out = state.net(torch.randn(8, 3, 512, 512))
"""
    found = [f for f in check_script(src) if f.category == "input-size-mismatch"]
    assert found and "512x512" in found[0].title


CLI = """\
import torch
from bench.metrics import scoring


def main(loader, crit):
    scoring.train_epoch(loader, crit)


main(loader, torch.nn.CrossEntropyLoss())
"""

SCORING = """\
import torch
from torch import nn


def train_epoch(loader, crit):
    net = nn.Sequential(nn.Linear(10, 3), nn.Softmax(dim=1))
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    for x, y in loader:
        opt.zero_grad()
        nn.CrossEntropyLoss()(net(x), y).backward()
        opt.step()
"""


def test_a_function_of_a_later_file_called_through_its_module_from_an_earlier_one(tmp_path):
    a, b = tmp_path / "cli.py", tmp_path / "scoring.py"
    a.write_text(CLI)
    b.write_text(SCORING)
    # cli.py runs first and calls scoring.train_epoch before scoring.py's definition is
    # read: the function is still read, as one no call reaches
    assert _found(check_script([a, b]), "double-softmax")
    assert _found(check_script([b, a]), "double-softmax")


def test_the_later_file_s_code_wrapped_in_its_own_main_is_read_too(tmp_path):
    a, b = tmp_path / "cli.py", tmp_path / "scoring.py"
    a.write_text(CLI)
    body = "".join(f"    {line}\n" if line else "\n" for line in SCORING.splitlines())
    b.write_text(f"def main():\n{body}\n\nmain()\n")
    assert _found(check_script([a, b]), "double-softmax")
