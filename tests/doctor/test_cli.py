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
    assert graftlab("doctor", tmp_path / "..") == 2  # a folder that is not a run


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
