"""What an imbalanced run decides and reports: class weights, per-class recall, ROC and PR.

Accuracy on a 10:1 split rewards predicting the majority class (0.91 for a model that never
sees the minority); per-class recall shows it at once, so it is reported first, and for two
classes the summary carries the ROC and precision-recall curves and the decision threshold
(the report draws them from ``summary.json``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from graftlab.finetune.budget import Decision
from graftlab.finetune.task import IMBALANCE_RATIO, Task, imbalance_ratio

#: Points kept per curve in summary.json: enough to draw it, small enough to read the file.
CURVE_POINTS = 101


def class_weight_decision(task: Task, y_train: np.ndarray, asked: str) -> Decision | None:
    """The ``class_weights: auto -> ...`` line, or None when nothing was decided."""
    if asked != "auto" or task.kind == "multilabel":
        return None
    ratio = imbalance_ratio(y_train, task.num_outputs)
    if task.class_weights is None:
        return Decision(
            "class_weights",
            "auto",
            "none",
            f"the train split is balanced enough (largest/smallest class {ratio:.1f} < "
            f"{IMBALANCE_RATIO:g}); accuracy is the monitor",
        )
    weights = ", ".join(f"{w:.2f}" for w in task.class_weights)
    return Decision(
        "class_weights",
        "auto",
        "inverse frequency",
        f"the train split is imbalanced (largest/smallest class {ratio:.1f} >= "
        f"{IMBALANCE_RATIO:g}): loss and probe weighted [{weights}], checkpoints, early "
        f"stopping and the final choice on balanced accuracy",
    )


def per_class_recall(probs: np.ndarray, y: np.ndarray, classes: list[str]) -> dict[str, float]:
    """Recall of every class (the share of its images predicted as it), in class order."""
    pred = np.asarray(probs).argmax(1)
    y = np.asarray(y)
    return {
        name: float((pred[y == k] == k).mean()) if (y == k).any() else float("nan")
        for k, name in enumerate(classes)
    }


def binary_curves(probs: np.ndarray, y: np.ndarray, classes: list[str]) -> dict[str, Any]:
    """ROC and PR curves of a two-class split, the positive class being the rarer one.

    The decision threshold is the one the model applies (argmax of two probabilities: 0.5 on
    the positive class's probability); the curves show what another threshold would trade.
    """
    from sklearn.metrics import (
        average_precision_score,
        precision_recall_curve,
        roc_auc_score,
        roc_curve,
    )

    y = np.asarray(y).astype(np.int64)
    counts = np.bincount(y, minlength=2)
    positive = int(np.argmin(counts)) if counts.min() > 0 else 1
    score = np.asarray(probs, np.float64)[:, positive]
    truth = (y == positive).astype(np.int64)
    out: dict[str, Any] = {
        "positive_class": classes[positive],
        "threshold": 0.5,
        "n_positive": int(truth.sum()),
        "n_negative": int(len(truth) - truth.sum()),
    }
    if truth.min() == truth.max():  # one class only: no curve exists
        return out
    fpr, tpr, thr = roc_curve(truth, score)
    precision, recall, pthr = precision_recall_curve(truth, score)
    keep = _thin(len(fpr))
    pkeep = _thin(len(precision))
    at = score >= 0.5
    out.update(
        {
            "roc_auc": float(roc_auc_score(truth, score)),
            "average_precision": float(average_precision_score(truth, score)),
            "at_threshold": {
                "tpr": float(at[truth == 1].mean()),
                "fpr": float(at[truth == 0].mean()),
                "precision": float(truth[at].mean()) if at.any() else float("nan"),
            },
            "roc": {
                "fpr": _r(fpr[keep]),
                "tpr": _r(tpr[keep]),
                "threshold": _r(np.minimum(thr[keep], 1.0)),
            },
            "pr": {
                "precision": _r(precision[pkeep]),
                "recall": _r(recall[pkeep]),
                "threshold": _r(np.append(pthr, 1.0)[pkeep]),
            },
        }
    )
    return out


def _thin(n: int) -> np.ndarray:
    """Indices of at most CURVE_POINTS points, first and last included."""
    if n <= CURVE_POINTS:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, CURVE_POINTS).round().astype(int))


def _r(a: np.ndarray) -> list[float]:
    return [round(float(v), 5) for v in a]
