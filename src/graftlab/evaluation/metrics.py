"""Classification metrics that match the task; the one place the training loop and evaluation
get their numbers from."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, balanced_accuracy_score, f1_score


def classification_metrics(probs: np.ndarray, y: np.ndarray, task: str = "multiclass") -> dict:
    """Headline metrics for predicted probabilities ``probs`` (N, K) against labels ``y``.

    Multiclass and binary: ``y`` holds class indices (N,); returns accuracy, balanced accuracy
    and macro-F1. Multi-label: ``y`` is a 0/1 matrix (N, K); returns per-label F1 at 0.5,
    their macro mean and mAP (mean average precision over labels present in ``y``).
    """
    probs = np.asarray(probs, dtype=np.float64)
    y = np.asarray(y)
    if task == "multilabel":
        pred = (probs >= 0.5).astype(int)
        per_label_f1 = f1_score(y, pred, average=None, zero_division=0)
        present = y.sum(axis=0) > 0
        ap = (
            average_precision_score(y[:, present], probs[:, present], average="macro")
            if present.any()
            else float("nan")
        )
        return {
            "exact_match": float((pred == y).all(axis=1).mean()),
            "macro_f1": float(np.mean(per_label_f1)),
            "per_label_f1": [float(v) for v in per_label_f1],
            "mAP": float(ap),
        }
    pred = probs.argmax(axis=1)
    labels = np.arange(probs.shape[1])
    return {
        "accuracy": float((pred == y).mean()),
        "balanced_accuracy": float(balanced_accuracy_score(y, pred)),
        "macro_f1": float(f1_score(y, pred, labels=labels, average="macro", zero_division=0)),
    }
