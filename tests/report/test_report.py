"""build_report: every section from a complete run, and a readable page from partial ones."""

import base64
import json
import re
import shutil

import numpy as np
import pytest
from _tinyrun import make_run

from graftlab.errors import ArtifactError
from graftlab.evaluation.metrics import full_metrics
from graftlab.report import build_report
from graftlab.report._runfiles import RunFiles
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


def test_complete_run_has_every_section_figure_and_number(full_run):
    path = build_report(full_run)
    page = path.read_text()
    assert path == full_run / "report.html"
    for sid in SECTIONS:
        assert f'<section id="{sid}">' in page
    images = _images(page)
    assert set(images) == {"fig-curves", "fig-confusion", "fig-reliability", "fig-mistakes"}
    assert all(png.startswith(b"\x89PNG\r\n\x1a\n") for png in images.values())
    assert sorted(p.name for p in (full_run / "plots").iterdir()) == [
        "confusion_matrix.png",
        "learning_curves.png",
        "mistakes.png",
        "reliability.png",
    ]
    assert (full_run / "plots" / "confusion_matrix.png").read_bytes() == images["fig-confusion"]

    # Test metrics are those of predictions/test.npz.
    with np.load(full_run / "predictions" / "test.npz") as d:
        m = full_metrics(d["probs"], d["labels"], ["cat", "dog", "fox"])
    assert f"{m['accuracy']:.4f}" in page and f"{m['ece']:.4f}" in page
    # Dataset, configuration, param groups, preprocessing, comparison, findings.
    assert "test_efficientnet" in page and "lp-ft" in page and "blocks.5" in page
    assert "bicubic" in page and "crop_pct" in page
    assert "fine-tuning raised val accuracy" in page and 'class="selected"' in page
    assert "GL301" in page and "BatchNorm statistics updated" in page
    assert "Noisy running statistics &lt;b&gt;." in page  # escaped, not markup
    for cls in ("cat", "dog", "fox"):
        assert f"<td>{cls}</td>" in page


def test_page_is_self_contained(full_run):
    page = build_report(full_run).read_text()
    assert not re.search(r'(src|href)\s*=\s*"(?!data:|#)', page)
    assert "url(" not in page and "@import" not in page and "<script" not in page
    assert "<link" not in page


def test_mistake_gallery_lists_the_most_confident_wrong_predictions(full_run):
    run = RunFiles.read(full_run)
    pred = run.predictions["test"]
    items = confident_mistakes(pred, run.classes, run.task, limit=3)
    wrong = pred.probs.argmax(1) != pred.labels
    assert len(items) == min(3, wrong.sum())
    top_conf = np.sort(pred.probs.max(1)[wrong])[::-1][:3]
    assert [i["confidence"] for i in items] == pytest.approx(top_conf.tolist())
    for item in items:
        assert item["true"] != item["pred"]
        assert item["true"] == run.classes[int(pred.labels[item["index"]])]


def test_probe_only_run_has_no_fine_tune_curves(tmp_path):
    run = make_run(tmp_path, lp_only=True)
    page = build_report(run).read_text()
    assert "Only the linear probe was fitted" in page
    assert "not run" in page  # finetune: null in summary.json
    assert "fig-curves" in page


def test_run_without_test_split_reports_validation_metrics(tmp_path):
    run = make_run(tmp_path, with_test=False)
    page = build_report(run).read_text()
    assert "Validation metrics (no test split)" in page
    assert "fig-confusion" in page


def test_missing_and_damaged_files_degrade_to_notes(full_run):
    for name in ("results.csv", "findings.json", "summary.json", "dataset.json"):
        (full_run / name).unlink()
    shutil.rmtree(full_run / "predictions")
    (full_run / "config.json").write_text("{not json")
    page = build_report(full_run).read_text()
    assert "None: the doctor reported no findings" in page
    assert "No training history (results.csv)" in page
    assert "config.json could not be read" in page
    assert "No predictions (predictions/test.npz)" in page
    assert "<img" not in page


def test_empty_directory_still_gets_a_page_and_a_missing_one_is_an_error(tmp_path):
    assert "Doctor" in build_report(tmp_path).read_text()
    with pytest.raises(ArtifactError, match="not a run directory"):
        build_report(tmp_path / "nope")


def test_multilabel_run_shows_per_label_decisions(full_run):
    meta = json.loads((full_run / "model" / "graftlab.json").read_text())
    meta["task"] = "multilabel"
    (full_run / "model" / "graftlab.json").write_text(json.dumps(meta))
    rng = np.random.default_rng(0)
    np.savez(
        full_run / "predictions" / "test.npz",
        probs=rng.random((6, 3)),
        labels=(rng.random((6, 3)) < 0.4).astype(int),
        paths=np.asarray(["a.png"] * 6),
    )
    page = build_report(full_run).read_text()
    assert "Per-label decisions at 0.5" in page and "mAP" in page
    assert "fig-confusion" not in page and "fig-reliability" in page


def test_rebuilding_removes_figures_the_run_no_longer_has(full_run):
    build_report(full_run)
    assert (full_run / "plots" / "learning_curves.png").exists()
    (full_run / "results.csv").unlink()
    build_report(full_run)
    assert not (full_run / "plots" / "learning_curves.png").exists()
    assert (full_run / "plots" / "confusion_matrix.png").exists()
