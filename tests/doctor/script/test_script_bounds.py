"""The script analyser on hostile or odd input: it must end quickly with a clear result.

A script is untrusted input. The constant folder used to evaluate ``"a" * 10**9`` (seconds,
gigabytes); a 5 MB paste or a binary file must not take minutes.

Bounds are on the CPU time of this process (``time.process_time``), not the wall clock: on a
shared 2-core machine at load 5 the 5 MB paste took 10.4 s of wall time, over its bound, for
the same work. They catch blowups, not speed (benchmarks/doctor_recall.py measures that).
"""

from __future__ import annotations

import json
import time

import pytest

from graftlab.doctor.script import check_script
from graftlab.doctor.script._fold import MAX_ITEMS
from graftlab.doctor.script.flow import Program
from graftlab.doctor.script.parse import MAX_CODE_CHARS, load_source

SCRIPT = """\
import torch
import torch.nn as nn
import torch.nn.functional as F

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(512, 10)

    def forward(self, x):
        return F.softmax(self.fc(x), dim=1)

net = Net()
criterion = nn.CrossEntropyLoss()
for x, y in loader:
    loss = criterion(net(x), y)
    loss.backward()
"""


def _timed(source, **kw):
    t = time.process_time()
    findings = check_script(source, **kw)
    return findings, time.process_time() - t


@pytest.mark.parametrize(
    "expr",
    ['"a" * 10**9', "10**10**10", "[0] * 10**9", '"b" * 10**5 * 10**5', "2 ** 10**8", "1 << 10**9"],
)
def test_folding_a_huge_value_gives_up_instead_of_computing_it(expr):
    src = f"n = {expr}\nclass_names = [n, n]\nprint(class_names[i])\nm = n\n"
    prog = Program(load_source(src).tree)
    ev = prog.events[-1]
    t = time.process_time()
    value = prog.const(ev.node.value, ev.idx + 1, 0)
    assert time.process_time() - t < 0.5
    assert not value  # UNKNOWN is falsy and is not a giant value
    _, seconds = _timed(src)
    assert seconds < 2


def test_small_values_are_still_folded():
    src = "size = 224\nshape = (size, size, 3)\npath = 'data' + '/' + 'train'\nn = 2 ** 10\n"
    prog = Program(load_source(src).tree)
    end = len(prog.events)
    names = {ev.node.targets[0].id: ev.node.value for ev in prog.events}
    assert prog.const(names["shape"], end, 0) == (224, 224, 3)
    assert prog.const(names["path"], end, 0) == "data/train"
    assert prog.const(names["n"], end, 0) == 1024
    assert prog.const(load_source(f"x = 'a' * {MAX_ITEMS}").tree.body[0].value, 1, 0) == (
        "a" * MAX_ITEMS
    )


def test_a_5_mb_file_ends_in_seconds_and_says_what_was_read(tmp_path):
    path = tmp_path / "huge.py"
    path.write_text((SCRIPT + "\n") * (5_000_000 // len(SCRIPT)))
    findings, seconds = _timed(path)
    assert seconds < 10
    assert any(f.code == "GL201" for f in findings)  # what was read is analysed
    (note,) = [f for f in findings if f.code == "GL300"]
    assert f"{MAX_CODE_CHARS:,} characters" in note.explanation
    assert "the rest was not" in note.explanation


def test_a_large_file_with_broken_lines_is_repaired_block_by_block():
    broken = "\n".join(
        ('print "epoch", i' if k % 50 == 0 else line)
        for k, line in enumerate((SCRIPT * 300).split("\n"))
    )
    findings, seconds = _timed(broken)
    assert seconds < 10
    assert any(f.code == "GL201" for f in findings)
    assert any(f.code == "GL300" and "could not be parsed" in f.explanation for f in findings)


def test_deeply_nested_expressions_are_left_out_not_crashed_on():
    src = (
        "x = " + "(" * 300 + "1" + ")" * 300 + "\n"
        "y = " + "1 + " * 20_000 + "1\n"
        "w = " + "-" * 5_000 + "1\n" + SCRIPT
    )
    findings, seconds = _timed(src)
    assert seconds < 5
    assert any(f.code == "GL201" for f in findings)
    assert not [f for f in findings if f.code == "GL399"]


def test_binary_empty_and_codeless_inputs_get_a_clear_note(tmp_path):
    binary = tmp_path / "weights.py"
    binary.write_bytes(bytes(range(256)) * 4000)
    empty = tmp_path / "empty.py"
    empty.write_text("")
    notebook = tmp_path / "notes.ipynb"
    notebook.write_text(json.dumps({"nbformat": 4, "cells": [{"cell_type": "markdown"}]}))
    for path, words in (
        (binary, "not a text file"),
        (empty, "no Python statements"),
        (notebook, "no code cells"),
    ):
        findings, seconds = _timed(path)
        assert seconds < 2
        assert [f.code for f in findings] == ["GL300"], path.name
        assert words in findings[0].explanation


def test_the_check_budget_is_cpu_time_and_stops_the_checks_with_a_note(monkeypatch):
    from graftlab.doctor.script import _rules

    def waiting(ctx):  # wall time, as when the machine is busy with other work: not counted
        time.sleep(0.4)

    def busy(ctx):  # this process's CPU time: counted
        end = time.process_time() + 0.5
        while time.process_time() < end:
            pass

    ctx = _rules.Ctx.build(load_source(SCRIPT))
    monkeypatch.setitem(_rules.CHECKS._entries, "waiting", waiting)
    assert not [f for f in _rules.run_checks(ctx, budget_s=0.25) if f.code == "GL398"]
    monkeypatch.setitem(_rules.CHECKS._entries, "busy", busy)
    findings = _rules.run_checks(_rules.Ctx.build(load_source(SCRIPT)), budget_s=0.25)
    (note,) = [f for f in findings if f.code == "GL398"]
    assert "1 of" in note.title and "did not run" in note.title
