"""Classification metrics that match the task; the one place the training loop and evaluation
get their numbers from.

Numpy only for single-label tasks, with scikit-learn's definitions and arithmetic (the tests
pin equality): importing scikit-learn (with scipy and pandas) cost ``graftlab train`` about
1 s of start-up on two cores for three numbers. Multi-label mAP still comes from scikit-learn,
imported when a multi-label task is scored.
"""

from __future__ import annotations

import numpy as np

#: How the macro averages treat classes, stated with every result (``full_metrics``).
AVERAGING = (
    "Macro-F1 averages the classes that occur in the labels or the predictions; balanced "
    "accuracy (and mAP) the classes that occur in the labels. Classes absent from both do "
    "not count: a split without them is not scored as failing on them."
)


def classification_metrics(probs: np.ndarray, y: np.ndarray, task: str = "multiclass") -> dict:
    """Headline metrics for predicted probabilities ``probs`` (N, K) against labels ``y``.

    Multiclass and binary: ``y`` holds class indices (N,); returns accuracy, balanced accuracy
    and macro-F1. Multi-label: ``y`` is a 0/1 matrix (N, K); returns per-label F1 at 0.5,
    their macro mean and mAP (mean average precision over labels present in ``y``).
    """
    probs = np.asarray(probs, dtype=np.float64)
    y = np.asarray(y)
    if task == "multilabel":
        from sklearn.metrics import average_precision_score, f1_score

        pred = (probs >= 0.5).astype(int)
        per_label_f1 = f1_score(y, pred, average=None, zero_division=0)
        present = y.sum(axis=0) > 0
        seen = present | (pred.sum(axis=0) > 0)
        ap = (
            average_precision_score(y[:, present], probs[:, present], average="macro")
            if present.any()
            else float("nan")
        )
        return {
            "exact_match": float((pred == y).all(axis=1).mean()),
            "macro_f1": float(np.mean(per_label_f1[seen])) if seen.any() else 0.0,
            "per_label_f1": [float(v) for v in per_label_f1],
            "mAP": float(ap),
        }
    pred = probs.argmax(axis=1)
    recall, f1, present, seen = _recall_f1(y, pred, probs.shape[1])
    return {
        "accuracy": float((pred == y).mean()),
        # Mean recall over the classes in y; macro-F1 over the classes in y or pred (AVERAGING).
        "balanced_accuracy": float(np.mean(recall[present])),
        "macro_f1": float(np.mean(f1[seen])),
    }


def _recall_f1(y: np.ndarray, pred: np.ndarray, k: int) -> tuple[np.ndarray, ...]:
    """Per-class recall and F1 of class indices, and the masks of the classes in ``y`` and in
    ``y`` or ``pred``, computed as scikit-learn's ``balanced_accuracy_score`` and ``f1_score``
    compute them (same divisions, same order), so the averages agree to the last bit."""
    labels = np.asarray(y, dtype=np.int64)
    k = max(k, int(labels.max()) + 1 if labels.size else 0)
    cm = np.bincount(labels * k + pred, minlength=k * k).reshape(k, k)
    tp, support, predicted = np.diag(cm), cm.sum(axis=1), cm.sum(axis=0)
    present, seen = support > 0, (support + predicted) > 0
    recall = tp[present] / support[present]
    f1 = np.zeros(k)
    f1[seen] = (2.0 * tp[seen]) / (support[seen].astype(np.float64) + predicted[seen])
    full_recall = np.zeros(k)
    full_recall[present] = recall
    return full_recall, f1, present, seen


def full_metrics(
    probs: np.ndarray, y: np.ndarray, classes: list[str] | None = None, task: str = "multiclass"
) -> dict:
    """Every number ``graftlab evaluate`` and the run report show, from probabilities alone.

    Numpy in, JSON-able dict out; no model, no torch. The keys are stable (scripts parse
    ``graftlab evaluate --json``):

    * all tasks: ``task``, ``n``, ``classes``, ``macro_f1`` (over the ``macro_f1_classes``
      classes that occur in ``y`` or the predictions), ``confusion_matrix``, ``ece`` (15
      bins), ``reliability`` (the per-bin numbers of the reliability diagram), ``log_loss``,
      ``averaging`` (:data:`AVERAGING`, the rule of the macro averages, in words).
    * multiclass and binary: ``accuracy``, ``balanced_accuracy``, ``top_k`` (5 when there are
      more than 5 classes, else ``None``), ``top_k_accuracy`` (``None`` when ``top_k`` is),
      ``per_class`` (list of ``{"class", "precision", "recall", "f1", "support"}`` in class
      order) and ``confusion_matrix`` (rows = true class, columns = predicted class).
    * multilabel: ``exact_match``, ``hamming_accuracy``, ``mAP``, ``per_label`` (as
      ``per_class`` plus ``average_precision``), ``per_label_f1`` and ``confusion_matrix``
      as one ``[[tn, fp], [fn, tp]]`` per label (threshold 0.5).

    Args:
        probs: ``(N, K)`` predicted probabilities (softmax rows, or sigmoid outputs).
        y: ``(N,)`` class indices, or an ``(N, K)`` 0/1 matrix for multi-label.
        classes: The K class names; ``"0"``, ``"1"``... when omitted.
        task: ``multiclass``, ``binary`` or ``multilabel``.
    """
    from graftlab.evaluation.calibration import (
        confidence_and_correct,
        expected_calibration_error,
        reliability_bins,
    )

    probs = np.asarray(probs, dtype=np.float64)
    y = np.asarray(y)
    if probs.ndim != 2:
        raise ValueError(f"probs must be (N, K); got shape {probs.shape}")
    n, k = probs.shape
    classes = [str(c) for c in classes] if classes is not None else [str(i) for i in range(k)]
    if len(classes) != k:
        raise ValueError(f"{len(classes)} class names for {k} probability columns")
    conf, correct = confidence_and_correct(probs, y, task)
    out: dict = {"task": task, "n": int(n), "classes": classes}
    if task == "multilabel":
        out.update(_multilabel_metrics(probs, y.astype(np.int64), classes))
    else:
        out.update(_single_label_metrics(probs, y.astype(np.int64), classes))
    out["ece"] = expected_calibration_error(probs, y, task) if n else float("nan")
    out["reliability"] = reliability_bins(conf, correct)
    out["log_loss"] = _log_loss(probs, y, task) if n else float("nan")
    out["averaging"] = AVERAGING
    return out


def _prf(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> tuple[np.ndarray, ...]:
    """Precision, recall and F1 per class; 0 where a denominator is 0 (sklearn zero_division=0)."""
    tp, fp, fn = (np.asarray(a, dtype=np.float64) for a in (tp, fp, fn))
    precision = np.divide(tp, tp + fp, out=np.zeros_like(tp), where=(tp + fp) > 0)
    recall = np.divide(tp, tp + fn, out=np.zeros_like(tp), where=(tp + fn) > 0)
    denom = 2 * tp + fp + fn
    f1 = np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)
    return precision, recall, f1


def _single_label_metrics(probs: np.ndarray, y: np.ndarray, classes: list[str]) -> dict:
    n, k = probs.shape
    if y.shape != (n,):
        raise ValueError(f"labels must be (N,) = ({n},) class indices; got shape {y.shape}")
    if n and (y.min() < 0 or y.max() >= k):
        raise ValueError(f"labels must be in [0, {k}); got {y.min()}..{y.max()}")
    pred = probs.argmax(axis=1)
    cm = np.zeros((k, k), dtype=np.int64)
    np.add.at(cm, (y, pred), 1)
    tp = np.diag(cm)
    support = cm.sum(axis=1)
    precision, recall, f1 = _prf(tp, cm.sum(axis=0) - tp, support - tp)
    present = support > 0
    seen = present | (cm.sum(axis=0) > 0)  # in the labels or the predictions
    top_k = 5 if k > 5 else None
    top_k_acc = None
    if top_k is not None and n:
        top = np.argsort(-probs, axis=1, kind="stable")[:, :top_k]
        top_k_acc = float((top == y[:, None]).any(axis=1).mean())
    return {
        "accuracy": float(tp.sum() / n) if n else float("nan"),
        # Mean recall over the classes that occur in y, as scikit-learn defines it.
        "balanced_accuracy": float(recall[present].mean()) if present.any() else float("nan"),
        "macro_f1": float(f1[seen].mean()) if seen.any() else float("nan"),
        "macro_f1_classes": int(seen.sum()),
        "top_k": top_k,
        "top_k_accuracy": top_k_acc,
        "per_class": [
            {
                "class": c,
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, c in enumerate(classes)
        ],
        "confusion_matrix": cm.tolist(),
    }


def _multilabel_metrics(probs: np.ndarray, y: np.ndarray, classes: list[str]) -> dict:
    if y.shape != probs.shape:
        raise ValueError(f"multi-label y must be (N, K) = {probs.shape}; got shape {y.shape}")
    pred = (probs >= 0.5).astype(np.int64)
    tp = ((pred == 1) & (y == 1)).sum(axis=0)
    fp = ((pred == 1) & (y == 0)).sum(axis=0)
    fn = ((pred == 0) & (y == 1)).sum(axis=0)
    tn = ((pred == 0) & (y == 0)).sum(axis=0)
    precision, recall, f1 = _prf(tp, fp, fn)
    ap = [_average_precision(y[:, j], probs[:, j]) for j in range(probs.shape[1])]
    present = [a for a, s in zip(ap, y.sum(axis=0), strict=True) if s > 0]
    n = len(y)
    seen = (tp + fn + fp) > 0  # labels that occur in y or are predicted
    return {
        "exact_match": float((pred == y).all(axis=1).mean()) if n else float("nan"),
        "hamming_accuracy": float((pred == y).mean()) if n else float("nan"),
        "macro_f1": float(f1[seen].mean()) if seen.any() else 0.0,
        "macro_f1_classes": int(seen.sum()),
        "mAP": float(np.mean(present)) if present else float("nan"),
        "per_label_f1": [float(v) for v in f1],
        "per_label": [
            {
                "class": c,
                "precision": float(precision[j]),
                "recall": float(recall[j]),
                "f1": float(f1[j]),
                "support": int(tp[j] + fn[j]),
                "average_precision": None if np.isnan(ap[j]) else float(ap[j]),
            }
            for j, c in enumerate(classes)
        ],
        "confusion_matrix": [
            [[int(tn[j]), int(fp[j])], [int(fn[j]), int(tp[j])]] for j in range(len(classes))
        ],
    }


def _average_precision(y: np.ndarray, score: np.ndarray) -> float:
    """Area under the step precision-recall curve, ties grouped (scikit-learn's definition)."""
    n_pos = int(y.sum())
    if n_pos == 0:
        return float("nan")
    order = np.argsort(-score, kind="mergesort")
    score, y = score[order], y[order]
    # The last index of each group of equal scores: one threshold per distinct score.
    last = np.r_[np.flatnonzero(np.diff(score)), len(score) - 1]
    tps = np.cumsum(y)[last]
    precision = tps / (last + 1)
    recall = tps / n_pos
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def _log_loss(probs: np.ndarray, y: np.ndarray, task: str) -> float:
    """Mean negative log-likelihood, probabilities clipped to [eps, 1 - eps] as in scikit-learn."""
    eps = np.finfo(np.float64).eps
    p = np.clip(probs, eps, 1 - eps)
    if task == "multilabel":
        y = y.astype(np.float64)
        return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
    return float(-np.mean(np.log(p[np.arange(len(y)), y.astype(np.int64)])))
