"""``graftlab evaluate | predict | export | report`` on a tiny run, through the real entry point."""

from __future__ import annotations

import csv
import json

import pytest
from _kit import make_image_tree

import graftlab.cli.main as cli_main

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


def test_commands_are_registered_on_the_real_app():
    for name in ("evaluate", "predict", "export", "report"):
        assert cli_main.load_command(name).name == name


def test_evaluate_json_has_the_stable_keys_and_saves_its_files(cli, tiny_run, tmp_path):
    code, out, err = cli("evaluate", tiny_run, "--json", "--tta", "--project", tmp_path)
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


def test_evaluate_prints_tables(cli, tiny_run, tmp_path):
    code, out, _ = cli("evaluate", tiny_run, "--split", "val", "--project", tmp_path)
    assert code == 0
    assert "The val split of the run's data: 9 images" in out
    assert "balanced accuracy" in out and "fox" in out


def test_evaluate_says_it_scores_the_runs_test_split(cli, tiny_run, tmp_path):
    for data in ((), (tiny_run,), (tiny_run.parent / "data",)):
        code, out, err = cli("evaluate", tiny_run, *data, "--json", "--project", tmp_path)
        assert code == 0, err
        result = json.loads(out)
        assert result["split"] == "test" and result["n"] == 15
        assert "Scored the test split of" in err and "15 images" in err
        assert result["scored"].startswith("the test split of")


def test_evaluate_on_new_data_scores_every_image_and_says_so(cli, tiny_run, tmp_path):
    # Once it silently scored a made-up 15% "test split" of the new folder.
    new = make_image_tree(tmp_path / "new", {"train": 4}, seed=7)  # 12 unseen images
    code, out, err = cli("evaluate", tiny_run, new, "--project", tmp_path)
    assert code == 0, err
    assert f"Every image of {new}: 12 images" in out
    code, out, err = cli("evaluate", tiny_run, new, "--json", "--project", tmp_path)
    result = json.loads(out)
    assert result["split"] == "all" and result["n"] == 12 and "every image" in result["scored"]


def test_predict_writes_csv_and_reports_the_corrupt_file(cli, tiny_run, tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    folder = tiny_run.parent / "data" / "val"
    code, _, err = cli(
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


def test_predict_fails_when_nothing_could_be_predicted(cli, tiny_run, tmp_path):
    code, out, err = cli("predict", tiny_run, tmp_path / "nothing.jpg")
    assert code == 1
    assert "file not found" in err and "file not found" in out  # CSV on stdout has the row


def test_predict_refuses_an_unknown_output_format(cli, tiny_run, tmp_path):
    code, _, err = cli("predict", tiny_run, tmp_path, "--out", tmp_path / "p.xlsx")
    assert code == 2
    assert "graftlab: error: --out must end in .csv or .json" in err


def test_export_verify_prints_the_difference(cli, tiny_run, tmp_path):
    code, out, err = cli(
        "export", tiny_run, "--verify", "--opset", "17", "--out", tmp_path / "m.onnx"
    )
    assert code == 0, err
    assert f"Wrote {tmp_path / 'm.onnx'}" in out
    assert "uint8 NHWC batchx32x32x3" in out
    assert "verify: max |p_export - p_torch| = " in out and "vs graftlab predict" in out


def test_report_command_and_user_errors(cli, tiny_run, run_copy, tmp_path):
    code, out, _ = cli("report", run_copy)
    assert code == 0 and f"Wrote {run_copy / 'report.html'}" in out
    code, _, err = cli("evaluate", tmp_path / "no-such-run")
    assert code == 2 and "graftlab: error: No such run or model directory" in err
    code, _, err = cli("export", tiny_run, "--format", "tflite")
    assert code == 2 and "Unknown export format 'tflite'" in err


def test_cache_clear_cannot_break_a_run(cli, run_copy, tmp_path):
    code, out, err = cli("cache", "clear")
    assert code == 0, err
    code, out, err = cli("evaluate", run_copy, "--json", "--project", tmp_path)
    assert code == 0, err
    assert json.loads(out)["n"] == 15
    code, out, err = cli("report", run_copy)
    assert code == 0, err


def test_a_run_whose_images_are_gone_gets_one_line_and_keeps_its_report(cli, run_copy, tmp_path):
    report = (run_copy / "report.html").read_bytes()
    for png in (run_copy.parent / "data").rglob("*.png"):
        png.unlink()
    code, _, err = cli("evaluate", run_copy, "--project", tmp_path)
    assert code == 2 and "None of the 15 images of the test split" in err and "exist" in err
    assert err.count("\n") <= 2 and "Traceback" not in err
    assert not (tmp_path / "evaluate").exists()
    code, _, err = cli("report", run_copy)
    assert code == 2 and "Kept" in err and "--force" in err
    assert (run_copy / "report.html").read_bytes() == report


def test_export_without_the_export_extra_names_the_install_command(
    cli, tiny_run, tmp_path, monkeypatch
):
    # Right after the README's plain install: 58 lines of traceback, no hint.
    import sys

    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # find_spec: not installed
    code, _, err = cli("export", tiny_run, "--verify", "--out", tmp_path / "m.onnx")
    assert code == 2 and "Traceback" not in err
    assert [line for line in err.splitlines() if not line.startswith("Exporting")] == [
        err.splitlines()[-1]
    ]  # one error line after the command's first line
    assert 'pip install -c constraints.txt -e ".[export]"' in err and "onnxruntime" in err
    assert not (tmp_path / "m.onnx").exists()
    from graftlab.artifacts.export import export
    from graftlab.errors import SetupError

    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(SetupError, match=r"ONNX export needs onnx"):
        export(tiny_run, "onnx", tmp_path / "m.onnx")


def test_a_read_only_output_folder_is_one_line(cli, tiny_run, tmp_path):
    import os

    if os.geteuid() == 0:
        project = "/sys/graftlab-test-runs"  # refused even to root (EPERM)
    else:
        project = tmp_path / "ro" / "runs"
        (tmp_path / "ro").mkdir()
        (tmp_path / "ro").chmod(0o555)
    code, _, err = cli("evaluate", tiny_run, "--project", project)
    assert code == 2 and "Traceback" not in err
    assert f"Cannot write {project}" in err and "--project DIR" in err
    code, _, err = cli("export", tiny_run, "--format", "torchscript", "--out", f"{project}/m.pt")
    assert code == 2 and "Cannot write" in err


def test_predict_exits_1_when_an_input_matches_nothing(cli, tiny_run, tmp_path):
    real = tiny_run.parent / "data" / "test" / "cat"
    code, _, err = cli(
        "predict", tiny_run, real, tmp_path / "typo.jpg", "--out", tmp_path / "p.csv"
    )
    assert code == 1 and "typo.jpg: file not found" in err and "Predicted 5" in err
    with open(tmp_path / "p.csv", newline="") as fh:
        assert len(list(csv.DictReader(fh))) == 6  # the predictions are still written
    code, _, err = cli("predict", tiny_run, f"{tmp_path}/*.nothing")
    assert code == 1 and "no file matches this pattern" in err
