"""build_report on real runs (``_kit.train_run``): every section, what the run did, and a
report that is never replaced by a worse one."""

import base64
import json
import os
import re
import stat

import numpy as np
import pytest
import torch
from _kit import train_run

from graftlab.errors import ArtifactError
from graftlab.evaluation.metrics import full_metrics
from graftlab.report import build_report
from graftlab.report._runfiles import Predictions
from graftlab.report.html import confident_mistakes

SECTIONS = (
    "overview",
    "dataset",
    "configuration",
    "curves",
    "comparison",
    "evaluation",
    "mistakes",
    "findings",
)


def _images(page: str) -> dict[str, bytes]:
    found = re.findall(r'<img id="([\w-]+)" alt="[^"]*" src="data:image/png;base64,([^"]+)"', page)
    return {i: base64.b64decode(data) for i, data in found}


def test_complete_run_has_every_section_figure_and_number(run_copy):
    path = build_report(run_copy)
    page = path.read_text()
    assert path == run_copy / "report.html"
    for sid in SECTIONS:
        assert f'<section id="{sid}">' in page
    images = _images(page)
    assert {"fig-curves", "fig-probe", "fig-confusion", "fig-reliability"} <= set(images)
    assert all(png.startswith(b"\x89PNG\r\n\x1a\n") for png in images.values())
    assert (run_copy / "plots" / "confusion_matrix.png").read_bytes() == images["fig-confusion"]
    # Test metrics are those of predictions/test.npz, and say which split and how many images.
    with np.load(run_copy / "predictions" / "test.npz") as d:
        m = full_metrics(d["probs"], d["labels"], ["cat", "dog", "fox"])
    assert f"{m['accuracy']:.4f}" in page and f"{m['ece']:.4f}" in page
    assert f"Headline (test split, {m['n']} images)" in page
    assert f"The test split: <b>{m['n']} images</b>" in page and "Classes absent" in page
    config = json.loads((run_copy / "config.json").read_text())
    assert config["backbone"] in page and config["strategy"] in page
    assert "bicubic" in page and "crop_pct" in page
    summary = json.loads((run_copy / "summary.json").read_text())
    assert summary["reason"].split(" (")[0] in page and 'class="selected"' in page
    for finding in json.loads((run_copy / "findings.json").read_text()):
        assert finding["code"] in page
    for cls in ("cat", "dog", "fox"):
        assert f"<td>{cls}</td>" in page


def test_parameter_groups_are_those_the_trainer_used(run_copy):
    # Once fed only by a hand-written config key that nothing in src wrote.
    page = build_report(run_copy).read_text()
    ckpt = torch.load(run_copy / "weights" / "last.pt", map_location="cpu", weights_only=True)
    groups = ckpt["optimizer"]["param_groups"]
    assert len(groups) > 2
    section = page[page.index("Parameter groups (fine-tuning)") : page.index("Preprocessing")]
    for g in groups:
        size = sum(ckpt["model"][n].numel() for n in g["param_names"])
        assert f"<td>{g['name']}</td>" in section and f">{size:,}<" in section


def test_label_smoothing_is_shown_and_the_two_losses_explained(run_copy):
    # Used by default (0.1) but shown as "–": config.json stores None for "the default".
    assert json.loads((run_copy / "config.json").read_text())["label_smoothing"] is None
    page = build_report(run_copy).read_text()
    assert "<th>label_smoothing</th><td>0.1 (the default for this task)</td>" in page
    assert "include label smoothing (ε = 0.1)" in page and "0.291, not 0" in page  # 3 classes
    assert "aims at a confidence of 0.933" in page


def test_probe_only_run_shows_the_probe_path_and_only_settings_that_applied(lp_run):
    page = build_report(lp_run).read_text()
    images = _images(page)
    assert "fig-curves" not in images  # no one-point "learning curve" on an axis from -1 to 1
    assert "fig-probe" in images and "strong to weak" in page
    assert "Only the linear probe was fitted" in page
    assert "not run" in page  # finetune: null in summary.json
    applied = page[page.index("<h3>Training</h3>") : page.index("Not used by this run")]
    unused = page[page.index("Not used by this run") : page.index("All settings")]
    for key in ("epochs", "lr", "layer_decay", "bn", "augment"):
        assert f"<th>{key}</th>" not in applied and f"<td>{key}</td>" in unused
    assert "the linear probe trains no backbone" in unused
    assert "<th>label_smoothing</th>" in applied and "<th>backbone</th>" in applied


def test_strategy_options_a_strategy_does_not_take_are_listed_as_unused(run_copy):
    page = build_report(run_copy).read_text()  # lp-ft: unfreeze is top-k's
    unused = page[page.index("Not used by this run") :]
    assert "<td>unfreeze</td>" in unused and "strategy lp-ft does not take it" in unused


def test_run_without_test_split_reports_validation_metrics(tmp_path):
    run = train_run(tmp_path, strategy="lp", counts={"train": 4, "val": 3}, test_fraction=0.0)
    page = build_report(run).read_text()
    assert "Validation metrics (no test split)" in page and "Headline (validation split, 9" in page
    assert "fig-confusion" in page


def test_a_report_is_not_replaced_by_a_worse_one(run_copy):
    # `graftlab cache clear` once removed a demo's images; `graftlab report` then overwrote
    # the good report with placeholders.
    build_report(run_copy)
    good = (run_copy / "report.html").read_bytes()
    mistakes = (run_copy / "plots" / "confusion_matrix.png").read_bytes()
    for png in (run_copy.parent / "data").rglob("*.png"):
        png.unlink()
    (run_copy / "results.csv").unlink()
    with pytest.raises(ArtifactError, match=r"built from images, results, .*--force"):
        build_report(run_copy)
    assert (run_copy / "report.html").read_bytes() == good
    assert (run_copy / "plots" / "confusion_matrix.png").read_bytes() == mistakes
    page = build_report(run_copy, force=True).read_text()
    assert "No training history (results.csv)" in page


def test_missing_and_damaged_files_degrade_to_notes(run_copy):
    for name in ("results.csv", "findings.json", "summary.json", "dataset.json", "report.html"):
        (run_copy / name).unlink()
    for npz in (run_copy / "predictions").iterdir():
        npz.unlink()
    (run_copy / "config.json").write_text("{not json")
    page = build_report(run_copy).read_text()
    assert "None: the doctor reported no findings" in page
    assert "No training history (results.csv)" in page
    assert "config.json could not be read" in page
    assert "No predictions (predictions/test.npz)" in page
    assert "<img" not in page


def test_findings_are_escaped_not_markup(run_copy):
    finding = {"code": "GL301", "severity": "warning", "title": "t", "explanation": "Noisy <b>."}
    (run_copy / "findings.json").write_text(json.dumps([finding]))
    page = build_report(run_copy).read_text()
    assert "Noisy &lt;b&gt;." in page and "Noisy <b>." not in page


def test_page_is_self_contained(run_copy):
    page = build_report(run_copy).read_text()
    assert not re.search(r'(src|href)\s*=\s*"(?!data:|#)', page)
    assert "url(" not in page and "@import" not in page and "<script" not in page
    assert "<link" not in page


def test_mistake_gallery_lists_the_most_confident_wrong_predictions():
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(3), size=40)
    labels = rng.integers(0, 3, size=40)
    pred = Predictions("test", probs, labels, [f"{i}.png" for i in range(40)])
    classes = ["cat", "dog", "fox"]
    items = confident_mistakes(pred, classes, "multiclass", limit=3)
    wrong = probs.argmax(1) != labels
    top_conf = np.sort(probs.max(1)[wrong])[::-1][:3]
    assert [i["confidence"] for i in items] == pytest.approx(top_conf.tolist())
    for item in items:
        assert item["true"] != item["pred"] == classes[probs[item["index"]].argmax()]
        assert item["true"] == classes[int(labels[item["index"]])]


def test_empty_directory_still_gets_a_page_and_a_missing_one_is_an_error(tmp_path):
    assert "Doctor" in build_report(tmp_path).read_text()
    with pytest.raises(ArtifactError, match="not a run directory"):
        build_report(tmp_path / "nope")


def test_multilabel_run_shows_per_label_decisions(run_copy):
    meta = json.loads((run_copy / "model" / "graftlab.json").read_text())
    meta["task"] = "multilabel"
    meta["task_spec"]["kind"] = "multilabel"
    (run_copy / "model" / "graftlab.json").write_text(json.dumps(meta))
    rng = np.random.default_rng(0)
    np.savez(
        run_copy / "predictions" / "test.npz",
        probs=rng.random((6, 3)),
        labels=(rng.random((6, 3)) < 0.4).astype(int),
        paths=np.asarray(["a.png"] * 6),
    )
    page = build_report(run_copy, force=True).read_text()
    assert "Per-label decisions at 0.5" in page and "mAP" in page
    assert "fig-confusion" not in page and "fig-reliability" in page


def test_rebuilding_removes_figures_the_run_no_longer_has(run_copy):
    build_report(run_copy)
    assert (run_copy / "plots" / "learning_curves.png").exists()
    (run_copy / "results.csv").unlink()
    build_report(run_copy, force=True)
    assert not (run_copy / "plots" / "learning_curves.png").exists()
    assert (run_copy / "plots" / "confusion_matrix.png").exists()


def test_run_files_are_readable_under_the_users_umask(tiny_run):
    # Every run file was 0600 (mkstemp in the atomic writer).
    mask = os.umask(0)
    os.umask(mask)
    for name in (
        "config.json",
        "summary.json",
        "manifest.csv",
        "report.html",
        "model/graftlab.json",
    ):
        assert stat.S_IMODE((tiny_run / name).stat().st_mode) == 0o666 & ~mask, name
