"""``graftlab evaluate | predict | export | report`` on a tiny run, through the real entry point."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest
import typer

import graftlab.cli.main as cli_main
from graftlab.cli import evaluate_cmd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "evaluation"))
from _tinyrun import make_run

JSON_KEYS = {
    "accuracy",
    "balanced_accuracy",
    "macro_f1",
    "top_k_accuracy",
    "per_class",
    "confusion_matrix",
    "ece",
    "log_loss",
    "n",
    "classes",
}


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    return make_run(tmp_path_factory.mktemp("cli"))


@pytest.fixture
def run(monkeypatch, capsys):
    """Call ``graftlab.cli.main.run`` on an app holding only these commands."""
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.callback()(lambda: None)
    evaluate_cmd.register(app)
    monkeypatch.setattr(cli_main, "app", app)

    def invoke(*argv: str) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as exit_info:
            cli_main.run([str(a) for a in argv])
            raise SystemExit(0)
        out = capsys.readouterr()
        return exit_info.value.code, out.out, out.err

    return invoke


def test_commands_are_registered_on_the_real_app():
    names = {c.name for c in cli_main.app.registered_commands}
    assert {"evaluate", "predict", "export", "report"} <= names


def test_evaluate_json_has_the_stable_keys_and_saves_its_files(run, tiny_run, tmp_path):
    code, out, err = run("evaluate", tiny_run, "--json", "--tta", "--project", tmp_path)
    assert code == 0, err
    result = json.loads(out)  # stdout holds the JSON object and nothing else
    assert set(result) >= JSON_KEYS
    assert result["n"] == 15 and result["classes"] == ["cat", "dog", "fox"]
    assert JSON_KEYS - {"per_class", "classes", "n"} <= set(result["tta"])
    saved = tmp_path / "evaluate" / "exp"
    assert json.loads((saved / "metrics.json").read_text())["accuracy"] == result["accuracy"]
    assert (saved / "reliability.png").stat().st_size > 0
    assert (saved / "confusion_matrix.png").stat().st_size > 0
    assert str(saved) in err


def test_evaluate_prints_tables(run, tiny_run, tmp_path):
    code, out, _ = run("evaluate", tiny_run, "--split", "val", "--project", tmp_path)
    assert code == 0
    assert "val split: 9 images" in out and "balanced accuracy" in out and "fox" in out


def test_predict_writes_csv_and_reports_the_corrupt_file(run, tiny_run, tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    folder = tiny_run.parent / "data" / "val"
    code, _, err = run(
        "predict",
        tiny_run,
        folder,
        bad,
        "--out",
        tmp_path / "p.csv",
        "--top-k",
        "2",
        "--batch-size",
        "4",
    )
    assert code == 0
    assert f"{bad}:" in err and "1 could not be read" in err and "Predicted 9" in err
    with open(tmp_path / "p.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 10
    assert [r["path"] for r in rows if r["error"]] == [str(bad)]
    assert all(r["prediction"] in ("cat", "dog", "fox") for r in rows if not r["error"])
    assert "top2_prob" in rows[0]


def test_predict_fails_when_nothing_could_be_predicted(run, tiny_run, tmp_path):
    code, out, err = run("predict", tiny_run, tmp_path / "nothing.jpg")
    assert code == 1
    assert "file not found" in err and "file not found" in out  # CSV on stdout has the row


def test_predict_refuses_an_unknown_output_format(run, tiny_run, tmp_path):
    code, _, err = run("predict", tiny_run, tmp_path, "--out", tmp_path / "p.xlsx")
    assert code == 2
    assert "graftlab: error: --out must end in .csv or .json" in err


def test_export_verify_prints_the_difference(run, tiny_run, tmp_path):
    code, out, err = run(
        "export", tiny_run, "--verify", "--opset", "17", "--out", tmp_path / "m.onnx"
    )
    assert code == 0, err
    assert f"Wrote {tmp_path / 'm.onnx'}" in out
    assert "uint8 NHWC batchx32x32x3" in out
    assert "verify: max |p_export - p_torch| = " in out and "vs graftlab predict" in out


def test_report_command_and_user_errors(run, tiny_run, tmp_path):
    code, out, _ = run("report", tiny_run)
    assert code == 0 and f"Wrote {tiny_run / 'report.html'}" in out
    code, _, err = run("evaluate", tmp_path / "no-such-run")
    assert code == 2 and "graftlab: error: No such run or model directory" in err
    code, _, err = run("export", tiny_run, "--format", "tflite")
    assert code == 2 and "Unknown export format 'tflite'" in err
