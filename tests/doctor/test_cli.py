"""``graftlab doctor`` and ``graftlab checks``: dispatch, output, exit codes; and list_checks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import graftlab.doctor as doctor
from graftlab.cli.main import run
from graftlab.doctor.findings import CATEGORIES, Finding

CASES = Path(__file__).parent / "cases" / "logs"
KEYS = ["code", "category", "severity", "title", "evidence", "explanation", "fix", "references"]
KEYS += ["causes"]


def graftlab(*argv):
    """Run the CLI; return its exit code."""
    try:
        run(list(map(str, argv)))
    except SystemExit as exc:
        return exc.code
    return 0


@pytest.fixture
def stub_script(monkeypatch):
    """Stand in for the script analyser (tested in test_script.py) and record its calls."""
    import graftlab.doctor.script as script

    calls = []

    def check_script(path, *, filename=None):
        calls.append(Path(path).name)
        return [Finding("GL101", "binary-loss-multiclass", "error", "bce", "x.py:3", "w", "f")]

    monkeypatch.setattr(script, "check_script", check_script)
    return calls


def test_buggy_log_prints_a_report_and_exits_1(capsys):
    assert graftlab("doctor", CASES / "binary-loss-multiclass__1__bug.log") == 1
    out = capsys.readouterr().out
    for text in (
        "ERROR",
        "GL401",
        "binary-loss-multiclass",
        "Evidence",
        "Why",
        "Fix",
        "categorical_crossentropy",
        "References",
        "Summary: 1 error, 0 warnings, 0 info",
    ):
        assert text in out, text


def test_fixed_log_exits_0(capsys):
    assert graftlab("doctor", CASES / "binary-loss-multiclass__1__fixed.log") == 0
    assert "no problems found" in capsys.readouterr().out


def test_json_has_exactly_the_finding_keys(capsys):
    assert graftlab("doctor", CASES / "overfitting__1__bug.csv", "--json") == 0  # a warning
    findings = json.loads(capsys.readouterr().out)
    assert [f["code"] for f in findings] == ["GL412"]
    assert all(list(f) == KEYS for f in findings)


def test_framework_option_changes_the_fix_and_is_validated(capsys):
    bug = CASES / "binary-loss-multiclass__1__bug.log"
    graftlab("doctor", bug, "--json", "--framework", "torch")
    assert "CrossEntropyLoss" in json.loads(capsys.readouterr().out)[0]["fix"]
    assert graftlab("doctor", bug, "--framework", "tf") == 2
    assert "--framework must be" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "No such file or directory"), ("just some notes\n", "no per-epoch training metrics")],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, content, message):
    target = tmp_path / "notes.txt"
    if content is not None:
        target.write_text(content)
    assert graftlab("doctor", target) == 2
    err = capsys.readouterr().err
    assert message in err and err.startswith("graftlab: error:") and "Traceback" not in err


def test_run_directory_reports_saved_findings_and_results(tmp_path, capsys):
    saved = Finding("GL601", "data-leakage", "warning", "dupes", "a == b", "why", "fix")
    (tmp_path / "findings.json").write_text(json.dumps([saved.to_dict()]))
    shutil.copy(CASES / "learning-rate__2__bug.csv", tmp_path / "results.csv")
    assert graftlab("doctor", tmp_path, "--json") == 0
    codes = [f["code"] for f in json.loads(capsys.readouterr().out)]
    assert codes[:2] == ["GL601", "GL413"]


def test_scripts_go_to_the_script_analyser_also_when_sniffed_by_content(
    tmp_path, capsys, stub_script
):
    py = tmp_path / "train.py"
    py.write_text("import keras\n")
    txt = tmp_path / "model_code.txt"
    txt.write_text("from keras.applications import VGG16\nbase = VGG16(include_top=True)\n")
    assert graftlab("doctor", py) == 1 and graftlab("doctor", txt) == 1
    assert stub_script == ["train.py", "model_code.txt"]
    assert "GL101" in capsys.readouterr().out


def test_notebook_code_and_its_printed_training_log_are_both_checked(tmp_path, capsys, stub_script):
    log = (CASES / "binary-loss-multiclass__1__bug.log").read_text()
    nb = {
        "cells": [
            {"cell_type": "code", "source": ["model.fit(...)"],
             "outputs": [{"output_type": "stream", "name": "stdout",
                          "text": log.splitlines(keepends=True)}]},
        ],
        "nbformat": 4, "nbformat_minor": 5, "metadata": {},
    }  # fmt: skip
    path = tmp_path / "notebook.ipynb"
    path.write_text(json.dumps(nb))
    assert graftlab("doctor", path, "--json") == 1
    found = json.loads(capsys.readouterr().out)
    assert [f["code"] for f in found] == ["GL101", "GL401"]
    assert found[1]["evidence"].startswith("in the notebook's printed output")


def test_list_of_checks_as_table_and_json(capsys):
    assert graftlab("checks") == 0
    out = capsys.readouterr().out
    assert "GL401" in out and "monitor" in out
    assert graftlab("doctor", "--list", "--json") == 0
    rows = json.loads(capsys.readouterr().out)
    assert {"GL401", "GL501", "GL601", "GL617"} <= {r["code"] for r in rows}


def test_doctor_without_target_says_what_to_give(capsys):
    assert graftlab("doctor") == 2
    assert "Give a TARGET" in capsys.readouterr().err


def test_list_checks_is_a_consistent_catalogue():
    rows = doctor.list_checks()
    assert len({r["code"] for r in rows}) == len(rows) >= 80
    for r in rows:
        assert set(r) == {"code", "category", "severity", "title", "where", "references"}
        assert r["category"] in CATEGORIES and r["severity"] in ("error", "warning", "info")
        assert r["title"] and isinstance(r["references"], list)
    assert {r["where"] for r in rows} == {"script", "log", "model", "preflight", "monitor"}
    by_where = {w: {r["code"][:3] for r in rows if r["where"] == w} for w in ("log", "model")}
    assert by_where == {"log": {"GL4"}, "model": {"GL5"}}
    assert {r["code"][:3] for r in rows if r["where"] == "script"} == {"GL1", "GL2", "GL3"}


def test_every_code_the_script_rules_emit_is_listed():
    """The bug this guards: list_checks() silently listed no script rule at all."""
    import re

    import graftlab.doctor.script as script

    emitted = set()
    for module in Path(script.__file__).parent.glob("*.py"):
        emitted |= set(re.findall(r"\"(GL\d{3})\"", module.read_text("utf-8")))
    listed = {r["code"]: r["where"] for r in doctor.list_checks()}
    assert len(emitted) >= 40
    assert {code: listed.get(code) for code in emitted} == dict.fromkeys(emitted, "script")


def test_every_code_the_log_checks_emit_is_listed_in_a_fresh_process():
    """The bug this guards: codes declared in the log check modules (GL435-GL439) were listed
    only when something had imported graftlab.doctor.logs before."""
    import os
    import re
    import subprocess
    import sys

    import graftlab.doctor.logs as logs

    emitted = set()
    for module in Path(logs.__file__).parent.glob("_log*.py"):
        emitted |= set(re.findall(r"\"(GL4\d{2})\"", module.read_text("utf-8")))
    code = "from graftlab.doctor import list_checks; print(*[r['code'] for r in list_checks()])"
    env = {**os.environ, "PYTHONPATH": str(Path(logs.__file__).parents[2])}  # this graftlab
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert len(emitted) >= 10 and emitted <= set(out.stdout.split())


def test_checks_command_lists_script_rules(capsys):
    assert graftlab("checks", "--json") == 0
    rows = {r["code"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["GL101"]["category"] == "binary-loss-multiclass"
    assert rows["GL230"]["where"] == "script"


def test_a_rule_cannot_emit_an_undeclared_code_or_another_category():
    from graftlab.doctor._checks import declare
    from graftlab.doctor.script._rules import Ctx, UndeclaredCheck
    from graftlab.doctor.script.parse import load_source

    ctx = Ctx.build(load_source("import keras\nmodel.fit(x)\n", None))
    with pytest.raises(UndeclaredCheck, match="GL198"):
        ctx.add("GL198", "other", "info", "t", [1], "why", "fix")
    with pytest.raises(UndeclaredCheck, match="declared as binary-loss-multiclass"):
        ctx.add("GL101", "other", "error", "t", [1], "why", "fix")
    ctx.add("GL101", "binary-loss-multiclass", "warning", "t", [2], "why", "fix")
    assert [f.code for f in ctx.findings] == ["GL101"]
    with pytest.raises(ValueError, match="already declared"):
        declare("GL101", "other", "error", "script", "another meaning")
    with pytest.raises(ValueError, match="unknown where"):
        declare("GL197", "other", "error", "elsewhere", "t")


def test_codes_in_findings_match_the_catalogue():
    """Every finding of the corpus uses its code's category from list_checks."""
    catalogue = {r["code"]: r for r in doctor.list_checks()}
    for path in CASES.glob("*__bug.*"):
        for f in doctor.check_log(path):
            assert catalogue[f.code]["category"] == f.category


# -- several targets, folders, untrusted input (issue 11 items 5 and 7, issue 15 item 2) -----

SCRIPTS = Path(__file__).parent / "cases" / "scripts"


def test_script_and_its_log_give_one_finding_with_both_as_evidence(capsys):
    script = SCRIPTS / "binary-loss-multiclass__1__bug.py"
    log = CASES / "binary-loss-multiclass__2__bug.log"
    assert graftlab("doctor", script, log, "--json") == 1
    found = json.loads(capsys.readouterr().out)
    same = [f for f in found if f["category"] == "binary-loss-multiclass"]
    assert len(same) == 1 and same[0]["target"] == str(script)
    assert f"Also GL416 in {log}" in same[0]["evidence"] and "bug.py:" in same[0]["evidence"]
    assert all(set(f) == {*KEYS, "target"} for f in found)


def test_merge_keeps_the_more_certain_severity_and_leaves_one_targets_findings_apart():
    from graftlab.doctor.combine import merge_targets

    def f(code, cat, sev):
        return Finding(code, cat, sev, f"t{code}", f"e{code}", "w", "x")

    pairs = merge_targets(
        [
            ("a.py", [f("GL302", "data-leakage", "warning"), f("GL216", "data-leakage", "error")]),
            ("b.log", [f("GL411", "data-leakage", "error"), f("GL410", "other", "info")]),
            ("c.log", [f("GL410", "other", "info")]),
        ]
    )
    assert [(t, x.code, x.severity) for t, x in pairs] == [
        ("a.py", "GL216", "error"),
        ("a.py", "GL302", "warning"),
        ("b.log", "GL410", "info"),
        ("c.log", "GL410", "info"),
    ]
    assert "Also GL411 in b.log" in pairs[0][1].evidence


def test_a_folder_is_walked_with_a_per_file_summary_and_throughput(tmp_path, capsys):
    shutil.copy(SCRIPTS / "binary-loss-multiclass__1__bug.py", tmp_path / "train.py")
    shutil.copy(CASES / "overfitting__2__bug.log", tmp_path / "run.log")
    (tmp_path / "notes.txt").write_text("to do: more data\n")
    for skipped in (".git", "venv", "node_modules"):
        (tmp_path / skipped).mkdir()
        shutil.copy(SCRIPTS / "binary-loss-multiclass__1__bug.py", tmp_path / skipped / "x.py")
    (tmp_path / "myenv").mkdir()
    (tmp_path / "myenv" / "pyvenv.cfg").write_text("home = /usr\n")
    shutil.copy(SCRIPTS / "binary-loss-multiclass__1__bug.py", tmp_path / "myenv" / "y.py")
    (tmp_path / "weights.log").write_bytes(b"\x00\x01" * 100)
    assert graftlab("doctor", tmp_path) == 1
    out = capsys.readouterr().out
    assert "Per file" in out and "files/s" in out
    assert "skipped:" in out and "binary" in out and "train.py" in out
    assert "x.py" not in out and "y.py" not in out
    assert "Summary: 2 of 4 files checked" in out
    assert graftlab("doctor", tmp_path, "--json") == 1
    found = json.loads(capsys.readouterr().out)
    assert {Path(f["target"]).name for f in found} == {"train.py", "run.log"}


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.py", b"", "is empty"),
        ("blank.log", b"\n  \n", "is empty"),
        ("model.h5", bytes(range(256)) * 64, "is a binary file"),
        ("train.log", b"\x89PNG\r\n\x1a\n" + bytes(4000), "is a binary file"),
        ("nb.ipynb", json.dumps({"cells": [{"cell_type": "markdown", "source": ["# x"]}],
                                 "nbformat": 4, "nbformat_minor": 5, "metadata": {}}).encode(),
         "no code cells"),
    ],
)  # fmt: skip
def test_unreadable_input_is_one_clean_line_and_exit_2(tmp_path, capsys, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    assert graftlab("doctor", path) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert message in err and err.startswith("graftlab: error:") and "\n" not in err
    assert not any(ord(c) < 32 for c in err + captured.out.replace("\n", ""))


def test_python2_file_says_one_consistent_thing(tmp_path, capsys):
    path = tmp_path / "old.py"
    path.write_text('import keras\nprint "start"\nmodel.fit(x, y)\n')
    assert graftlab("doctor", path, "--json") == 0
    [note] = json.loads(capsys.readouterr().out)
    assert note["code"] == "GL300" and "the rest was analysed" in note["title"]
    assert "no checks ran" not in note["explanation"]
    path.write_text('print "a"\nprint "b"\n')
    graftlab("doctor", path, "--json")
    [note] = json.loads(capsys.readouterr().out)
    assert "Nothing in the file could be analysed" in note["title"]
    assert "the rest was analysed" not in note["title"]


def test_a_5_mb_log_and_a_5_mb_script_end_in_seconds(tmp_path, capsys):
    import time

    epoch = (
        "45/45 [====] - 1s - loss: {l:.4f} - accuracy: 0.5 - val_loss: 0.7 - val_accuracy: 0.5\n"
    )
    lines = [f"Epoch {e}/50000\n" + epoch.format(l=1 / e) for e in range(1, 50001)]
    log = tmp_path / "huge.log"
    log.write_text("".join(lines)[:5_000_000])
    script = tmp_path / "huge.py"
    block = (SCRIPTS / "binary-loss-multiclass__1__bug.py").read_text()
    script.write_text((block + "\n") * (5_000_000 // len(block)))
    for path in (log, script):
        start = time.process_time()  # CPU, not wall: the bound is on work, not on the load
        graftlab("doctor", path, "--json")
        assert time.process_time() - start < 30
        found = json.loads(capsys.readouterr().out)
        assert any(f["code"] in ("GL418", "GL300", "GL398") for f in found)


def test_an_unreadable_file_among_several_targets_does_not_hide_the_others(tmp_path, capsys):
    notes = tmp_path / "output.log"
    notes.write_text("predictions written to out.csv\n")
    script = SCRIPTS / "binary-loss-multiclass__1__bug.py"
    assert graftlab("doctor", script, notes, "--json") == 1
    found = {f["code"]: f for f in json.loads(capsys.readouterr().out)}
    assert "GL101" in found and found["GL420"]["target"] == str(notes)
    assert "no per-epoch training metrics" in found["GL420"]["evidence"]
    assert graftlab("doctor", notes) == 2  # alone, it is an input error


def test_a_finding_prints_its_likely_cause_and_json_lists_it(tmp_path, capsys):
    log = tmp_path / "train.log"
    log.write_text(
        "Found 2100 images belonging to 7 classes.\n"
        + "".join(
            f"Epoch {i}/4\n66/66 [==============================] - 5s 80ms/step - loss: {v} - "
            f"accuracy: 0.1462 - val_loss: {v / 3:.4f} - val_accuracy: 0.1429\n"
            for i, v in enumerate([2131760.75, 17.30, 27.66, 13.33], 1)
        )
    )
    assert graftlab("doctor", log) == 1
    assert "Likely cause: learning-rate" in capsys.readouterr().out
    graftlab("doctor", log, "--json")
    [f] = [f for f in json.loads(capsys.readouterr().out) if f["severity"] != "info"]
    assert (f["category"], f["causes"]) == ("divergence", ["learning-rate"])
