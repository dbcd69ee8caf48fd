"""evaluate(): its numbers are those of predict()'s output, and labels are matched by name."""

import csv
import shutil

import numpy as np
import pytest
from PIL import Image
from sklearn import metrics as skm

from graftlab.data import load_dataset
from graftlab.errors import DataError
from graftlab.evaluation import evaluate, predict, write_predictions


def _probs_from_csv(path, classes):
    """Rebuild the (N, K) probability matrix from predict's CSV (top-k = all classes)."""
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    probs = np.zeros((len(rows), len(classes)))
    for i, row in enumerate(rows):
        for j in range(1, len(classes) + 1):
            probs[i, classes.index(row[f"top{j}_class"])] = float(row[f"top{j}_prob"])
    return [r["path"] for r in rows], probs


@pytest.mark.filterwarnings("ignore:The y_prob values do not sum to one")  # float32 rows
def test_evaluate_equals_sklearn_on_predict_output(tiny_run, tmp_path):
    ds = load_dataset(tiny_run.parent / "data", progress=False)
    result = evaluate(tiny_run, ds, split="test")

    rows = predict(tiny_run, ds.paths("test"), top_k=len(ds.classes))
    write_predictions(rows, tmp_path / "preds.csv")
    paths, probs = _probs_from_csv(tmp_path / "preds.csv", ds.classes)
    assert paths == ds.paths("test")
    y = ds.labels("test")
    pred = probs.argmax(1)
    assert result["n"] == len(y) == 15
    assert result["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert result["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, pred))
    assert result["macro_f1"] == pytest.approx(skm.f1_score(y, pred, average="macro"))
    assert result["log_loss"] == pytest.approx(skm.log_loss(y, probs, labels=[0, 1, 2]), abs=1e-6)
    assert result["confusion_matrix"] == skm.confusion_matrix(y, pred).tolist()
    assert [p["recall"] for p in result["per_class"]] == pytest.approx(
        skm.recall_score(y, pred, average=None)
    )
    assert result["classes"] == ds.classes
    assert result["split"] == "test"
    assert result["skipped"] == []


def test_default_data_is_the_runs_manifest(tiny_run):
    ds = load_dataset(tiny_run.parent / "data", progress=False)
    assert evaluate(tiny_run)["accuracy"] == evaluate(tiny_run, ds)["accuracy"]
    assert evaluate(tiny_run, split="val")["n"] == 9


def test_tta_is_reported_separately_and_averages_the_flipped_image(tiny_run):
    result = evaluate(tiny_run, split="test", tta=True)
    plain = evaluate(tiny_run, split="test")
    assert "tta" not in plain
    assert set(result["tta"]) >= {"accuracy", "ece", "log_loss", "confusion_matrix"}
    assert result["accuracy"] == plain["accuracy"]
    # A flip changes a random network's probabilities, so TTA numbers are not a copy.
    assert result["tta"]["log_loss"] != pytest.approx(plain["log_loss"], abs=1e-9)


def test_labels_are_matched_to_the_models_classes_by_name(tiny_run, tmp_path):
    # A folder with only dog and fox numbers them 0 and 1; the model calls them 1 and 2.
    root = tmp_path / "two"
    for cls in ("dog", "fox"):
        shutil.copytree(tiny_run.parent / "data" / "test" / cls, root / cls)
    subset = evaluate(tiny_run, root, split="all")
    full = evaluate(tiny_run, split="test")
    assert subset["n"] == 10
    assert subset["per_class"][1]["recall"] == full["per_class"][1]["recall"]
    assert subset["per_class"][2]["recall"] == full["per_class"][2]["recall"]
    assert subset["per_class"][0]["support"] == 0


def test_data_with_an_unknown_class_is_refused(tiny_run, tmp_path):
    root = tmp_path / "other"
    for cls in ("dog", "wolf"):
        (root / cls).mkdir(parents=True)
        for i in range(2):
            Image.new("RGB", (40, 40), (i * 50, 90, 20)).save(root / cls / f"{i}.png")
    with pytest.raises(DataError, match="not trained on: wolf"):
        evaluate(tiny_run, root, split="all")


def test_an_image_that_became_unreadable_is_skipped_and_listed(tiny_run, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(tiny_run.parent / "data" / "test", data)
    ds = load_dataset(data, val_fraction=0, test_fraction=0, progress=False)
    broken = ds.paths()[0]
    with open(broken, "wb") as fh:
        fh.write(b"\x89PNG\r\n\x1a\n garbage")
    result = evaluate(tiny_run, ds, split="all")
    assert result["n"] == 14
    assert [s["path"] for s in result["skipped"]] == [broken]
    assert "corrupt" in result["skipped"][0]["reason"] or "image" in result["skipped"][0]["reason"]


def test_evaluate_reproduces_the_numbers_of_the_training_run(tiny_run):
    from graftlab.evaluation._inference import as_artifact, predict_files
    from graftlab.evaluation.metrics import full_metrics

    with np.load(tiny_run / "predictions" / "test.npz") as saved:
        probs, labels, paths = saved["probs"], saved["labels"], [str(p) for p in saved["paths"]]
    art = as_artifact(tiny_run)
    # Same preprocessing and the run's stored execution (bf16 where it was measured faster).
    # Up to a few fp32 ulps: oneDNN's fp32 kernels (measured faster for this tiny model) block
    # the work by batch size, and predict batches the files differently from the run (on an
    # Intel AMX machine one probability in 45 moved by 1.6e-6 relative). A preprocessing or
    # precision mismatch moves them by 1e-3 or more.
    np.testing.assert_allclose(predict_files(art, paths).probs, probs, rtol=1e-5, atol=1e-6)
    result = evaluate(tiny_run)
    expected = full_metrics(probs, labels, art.classes, art.task.kind)
    for key in ("accuracy", "balanced_accuracy", "macro_f1", "n"):
        assert result[key] == expected[key], key
    for key in ("ece", "log_loss"):  # computed from probabilities equal up to the last bit
        assert result[key] == pytest.approx(expected[key], rel=1e-5), key
    assert result["confusion_matrix"] == expected["confusion_matrix"]
