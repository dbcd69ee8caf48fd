"""Calibration: does a predicted probability of 0.8 come true 80% of the time?

Expected calibration error (ECE, Guo et al. 2017) bins predictions by confidence into equal-width
bins over (0, 1] and averages, weighted by bin size, the gap between the accuracy and the mean
confidence of each bin. The per-bin numbers are the reliability diagram.
"""

from __future__ import annotations

import numpy as np

#: Number of equal-width confidence bins; 15 is the value of Guo et al. and most papers since,
#: so graftlab's ECE can be compared with published numbers.
N_BINS = 15


def reliability_bins(confidence: np.ndarray, correct: np.ndarray, n_bins: int = N_BINS) -> dict:
    """Per-bin counts, mean confidence and accuracy for a reliability diagram.

    Bin ``b`` holds confidences in ``(b / n_bins, (b + 1) / n_bins]``; a confidence of exactly 0
    falls in the first bin.

    Args:
        confidence: Probability given to the predicted outcome, shape ``(N,)``.
        correct: Whether that outcome happened, shape ``(N,)``, 0/1 or bool.
        n_bins: Number of equal-width bins.

    Returns:
        ``{"edges": (n_bins + 1,), "count": (n_bins,), "confidence": (n_bins,),
        "accuracy": (n_bins,)}`` as lists; mean confidence and accuracy are ``None`` in empty bins.
    """
    confidence = np.asarray(confidence, dtype=np.float64).ravel()
    correct = np.asarray(correct, dtype=np.float64).ravel()
    if confidence.shape != correct.shape:
        raise ValueError(f"confidence {confidence.shape} and correct {correct.shape} differ")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    # right=True puts a value equal to an upper edge in the bin below it: bins are (lo, hi].
    idx = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, n_bins - 1)
    count = np.bincount(idx, minlength=n_bins)
    conf_sum = np.bincount(idx, weights=confidence, minlength=n_bins)
    acc_sum = np.bincount(idx, weights=correct, minlength=n_bins)
    nonempty = count > 0
    mean_conf = np.where(nonempty, conf_sum / np.maximum(count, 1), np.nan)
    mean_acc = np.where(nonempty, acc_sum / np.maximum(count, 1), np.nan)
    return {
        "edges": edges.tolist(),
        "count": count.astype(int).tolist(),
        "confidence": [None if np.isnan(v) else float(v) for v in mean_conf],
        "accuracy": [None if np.isnan(v) else float(v) for v in mean_acc],
    }


def expected_calibration_error(
    probs: np.ndarray, y: np.ndarray, task: str = "multiclass", n_bins: int = N_BINS
) -> float:
    """ECE of predicted probabilities against labels.

    Single-label tasks use the top-1 confidence and whether the top-1 class is right. Multi-label
    tasks treat each (image, label) pair as one binary prediction with confidence
    ``max(p, 1 - p)``, so the number answers the same question for every task.

    Args:
        probs: ``(N, K)`` probabilities.
        y: ``(N,)`` class indices, or ``(N, K)`` 0/1 for multi-label.
        task: ``multiclass``, ``binary`` or ``multilabel``.
        n_bins: Number of equal-width confidence bins.
    """
    confidence, correct = confidence_and_correct(probs, y, task)
    if confidence.size == 0:
        return float("nan")
    bins = reliability_bins(confidence, correct, n_bins)
    count = np.asarray(bins["count"], dtype=np.float64)
    conf = np.nan_to_num(np.asarray(bins["confidence"], dtype=np.float64))
    acc = np.nan_to_num(np.asarray(bins["accuracy"], dtype=np.float64))
    return float(np.sum(count / count.sum() * np.abs(acc - conf)))


def confidence_and_correct(
    probs: np.ndarray, y: np.ndarray, task: str = "multiclass"
) -> tuple[np.ndarray, np.ndarray]:
    """The (confidence, correct) pairs that ECE and the reliability diagram are built from."""
    probs = np.asarray(probs, dtype=np.float64)
    y = np.asarray(y)
    if task == "multilabel":
        p = probs.ravel()
        truth = y.ravel().astype(bool)
        return np.maximum(p, 1.0 - p), ((p >= 0.5) == truth).astype(np.float64)
    return probs.max(axis=1), (probs.argmax(axis=1) == y).astype(np.float64)
