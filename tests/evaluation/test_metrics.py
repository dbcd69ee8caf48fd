"""full_metrics: the numbers of `graftlab evaluate` and the report agree with scikit-learn."""

import numpy as np
import pytest
from sklearn import metrics as skm

from graftlab.evaluation.metrics import classification_metrics, full_metrics


def _probs(n, k, seed=0):
    return np.random.default_rng(seed).dirichlet(np.full(k, 0.6), size=n)


@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")
def test_multiclass_numbers_match_sklearn_with_a_class_absent_from_y():
    k = 7
    probs = _probs(300, k)
    y = np.random.default_rng(1).integers(0, k - 1, size=300)  # class 6 never occurs
    pred = probs.argmax(1)
    m = full_metrics(probs, y, [f"c{i}" for i in range(k)], "multiclass")
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert m["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, pred))
    macro = skm.f1_score(y, pred, average="macro", zero_division=0)  # classes in y or pred
    assert m["macro_f1"] == pytest.approx(macro)
    assert m["top_k"] == 5
    assert m["top_k_accuracy"] == pytest.approx(
        skm.top_k_accuracy_score(y, probs, k=5, labels=range(k))
    )
    assert m["log_loss"] == pytest.approx(skm.log_loss(y, probs, labels=range(k)))
    p, r, f, s = skm.precision_recall_fscore_support(y, pred, labels=range(k), zero_division=0)
    assert [c["precision"] for c in m["per_class"]] == pytest.approx(p)
    assert [c["recall"] for c in m["per_class"]] == pytest.approx(r)
    assert [c["f1"] for c in m["per_class"]] == pytest.approx(f)
    assert [c["support"] for c in m["per_class"]] == list(s)
    assert m["confusion_matrix"] == skm.confusion_matrix(y, pred, labels=range(k)).tolist()
    assert [c["class"] for c in m["per_class"]] == m["classes"] == [f"c{i}" for i in range(k)]
    assert m["n"] == 300


@pytest.mark.filterwarnings("ignore:A single label was found")
def test_macro_averages_leave_out_classes_absent_from_labels_and_predictions():
    # Five classes, only one in the data, all right: once accuracy 1.0 but macro-F1 0.20.
    probs = np.tile([0.9, 0.025, 0.025, 0.025, 0.025], (8, 1))
    y = np.zeros(8, dtype=int)
    for m in (full_metrics(probs, y, None, "multiclass"), classification_metrics(probs, y)):
        assert m["accuracy"] == 1.0 and m["balanced_accuracy"] == 1.0 and m["macro_f1"] == 1.0
    m = full_metrics(probs, y, None, "multiclass")
    assert m["macro_f1_classes"] == 1 and "occur in the labels or the predictions" in m["averaging"]
    # A wrong prediction into an absent class does count against it.
    probs[0] = [0.0, 0.9, 0.05, 0.025, 0.025]
    m = full_metrics(probs, y, None, "multiclass")
    assert m["macro_f1_classes"] == 2 and m["macro_f1"] == pytest.approx(
        skm.f1_score(y, probs.argmax(1), average="macro", zero_division=0)
    )
    ml = full_metrics(
        np.tile([0.9, 0.1, 0.1], (4, 1)), np.tile([1, 0, 0], (4, 1)), None, "multilabel"
    )
    assert ml["macro_f1"] == 1.0 and ml["macro_f1_classes"] == 1


def test_headline_numbers_equal_the_training_loops_metrics():
    probs, y = _probs(120, 4, seed=3), np.random.default_rng(4).integers(0, 4, size=120)
    full = full_metrics(probs, y, None, "multiclass")
    short = classification_metrics(probs, y, "multiclass")
    for key, value in short.items():
        assert full[key] == pytest.approx(value), key


def test_top_k_is_absent_with_five_classes_or_fewer():
    m = full_metrics(_probs(20, 5), np.arange(20) % 5, None, "multiclass")
    assert m["top_k"] is None
    assert m["top_k_accuracy"] is None


def test_binary_uses_the_two_column_softmax_like_multiclass():
    probs = _probs(50, 2, seed=5)
    y = np.random.default_rng(6).integers(0, 2, size=50)
    m = full_metrics(probs, y, ["neg", "pos"], "binary")
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y, probs.argmax(1)))
    assert np.asarray(m["confusion_matrix"]).sum() == 50


def test_multilabel_per_label_numbers_and_map_match_sklearn():
    rng = np.random.default_rng(7)
    y = (rng.random((80, 4)) < 0.35).astype(int)
    probs = np.round(rng.random((80, 4)), 1)  # rounded: ties exercise the AP definition
    m = full_metrics(probs, y, ["a", "b", "c", "d"], "multilabel")
    pred = (probs >= 0.5).astype(int)
    assert m["mAP"] == pytest.approx(skm.average_precision_score(y, probs, average="macro"))
    assert m["exact_match"] == pytest.approx(skm.accuracy_score(y, pred))
    assert m["hamming_accuracy"] == pytest.approx(1 - skm.hamming_loss(y, pred))
    assert m["macro_f1"] == pytest.approx(skm.f1_score(y, pred, average="macro", zero_division=0))
    assert m["log_loss"] == pytest.approx(
        np.mean([skm.log_loss(y[:, j], probs[:, j], labels=[0, 1]) for j in range(4)])
    )
    tn, fp, fn, tp = skm.multilabel_confusion_matrix(y, pred)[2].ravel()
    assert m["confusion_matrix"][2] == [[tn, fp], [fn, tp]]
    assert [p["support"] for p in m["per_label"]] == y.sum(0).tolist()
    assert classification_metrics(probs, y, "multilabel")["mAP"] == pytest.approx(m["mAP"])


def test_wrong_shapes_are_refused_with_the_shapes_in_the_message():
    with pytest.raises(ValueError, match=r"3 class names for 4"):
        full_metrics(_probs(5, 4), np.zeros(5, int), ["a", "b", "c"])
    with pytest.raises(ValueError, match=r"labels must be in \[0, 4\)"):
        full_metrics(_probs(5, 4), np.array([0, 1, 2, 3, 4]))


@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")
@pytest.mark.parametrize("seed", range(12))
def test_training_metrics_equal_sklearn_to_the_last_bit(seed):
    # The training loop and the probe's L2 choice read these numbers: numpy in place of
    # scikit-learn must not move a single bit, or a tie would be broken differently.
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 12))
    n = int(rng.integers(5, 400))
    probs = _probs(n, k, seed=seed)
    # some seeds leave classes out of y, so that they occur only among the predictions
    y = rng.integers(0, max(1, k - seed % 3), size=n)
    pred = probs.argmax(1)
    m = classification_metrics(probs, y, "binary" if k == 2 else "multiclass")
    assert m["accuracy"] == skm.accuracy_score(y, pred)
    assert m["balanced_accuracy"] == skm.balanced_accuracy_score(y, pred)
    assert m["macro_f1"] == skm.f1_score(y, pred, average="macro", zero_division=0)


def test_multilabel_training_metrics_still_match_sklearn():
    rng = np.random.default_rng(7)
    probs = rng.random((60, 4))
    y = (rng.random((60, 4)) < 0.4).astype(int)
    y[:, 3] = 0  # a label with no positives takes no part in mAP
    m = classification_metrics(probs, y, "multilabel")
    present = y.sum(0) > 0
    pred = (probs >= 0.5).astype(int)
    assert m["mAP"] == skm.average_precision_score(y[:, present], probs[:, present])
    assert m["per_label_f1"] == list(skm.f1_score(y, pred, average=None, zero_division=0))
