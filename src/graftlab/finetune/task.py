"""The one place where output units, activation, loss and metrics come from.

Every mismatch of DESIGN.md section 1 (binary cross-entropy on one-hot multiclass labels, a
one-unit softmax, accuracy measured per output unit) needs two of these to be chosen
independently. Here they are chosen together, from the labels, and cannot disagree.

Binary tasks use a two-unit softmax with cross-entropy, not one sigmoid unit:

- one code path for every single-label task (loss, probabilities, metrics, the probe, export);
- ``probs`` has a calibrated column for *both* classes, so ``argmax``, per-class metrics and
  the report treat binary exactly like multiclass;
- output units == number of classes, always, so the artifact's head spec is never ambiguous.

The extra unit costs one row of weights; the model is mathematically the same family (the
softmax of two logits is the sigmoid of their difference).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from graftlab.errors import ConfigError, DataError, did_you_mean
from graftlab.evaluation.metrics import classification_metrics

KINDS = ("multiclass", "binary", "multilabel")
CLASS_WEIGHTS = ("none", "auto", "balanced")
#: Largest / smallest class count of the train split from which a softmax task is treated as
#: imbalanced (class-weighted loss and probe, checkpoints and selection on balanced accuracy).
#: Below it inverse-frequency weights are within 0.5x-1.5x of 1 and change little; at 10:1
#: (shirt 273 vs T-shirt 27) the unweighted fine-tune predicted the majority class for every
#: image (balanced accuracy 0.50), the weighted one 0.77 (issue 12).
IMBALANCE_RATIO = 3.0


@dataclass
class Task:
    """What the head predicts and how it is trained and scored.

    Attributes:
        kind: ``multiclass``, ``binary`` or ``multilabel``.
        num_outputs: Output units; equals the number of classes for every kind.
        class_weights: Per-class loss weights (softmax tasks) or per-label positive weights
            (multi-label), or ``None`` for an unweighted loss.
        label_smoothing: Cross-entropy label smoothing (softmax tasks only).
        monitor_metric: The validation metric that picks checkpoints, the probe's L2 and the
            final model; ``None`` = the kind's (``mAP`` multi-label, else ``accuracy``).
    """

    kind: str
    num_outputs: int
    class_weights: tuple[float, ...] | None = None
    label_smoothing: float = 0.0
    monitor_metric: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(
                f"Task kind must be one of {', '.join(KINDS)}. Got {self.kind!r}."
                + did_you_mean(self.kind, KINDS)
            )
        if self.kind == "binary" and self.num_outputs != 2:
            raise ConfigError(
                f"A binary task has exactly 2 output units (a 2-way softmax). "
                f"Got num_outputs={self.num_outputs}."
            )
        if self.num_outputs < 2 and self.kind != "multilabel":
            raise DataError(
                f"A {self.kind} task needs at least 2 classes. Got {self.num_outputs}. "
                "Add images of a second class."
            )
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ConfigError(f"'label_smoothing' must be in [0, 1). Got {self.label_smoothing}.")
        if self.label_smoothing and self.kind == "multilabel":
            raise ConfigError("Label smoothing applies to softmax tasks, not to multilabel.")
        if self.class_weights is not None and len(self.class_weights) != self.num_outputs:
            raise ConfigError(
                f"class_weights has {len(self.class_weights)} entries for "
                f"{self.num_outputs} classes."
            )
        allowed = ("mAP",) if self.kind == "multilabel" else ("accuracy", "balanced_accuracy")
        if self.monitor_metric is not None and self.monitor_metric not in allowed:
            raise ConfigError(
                f"A {self.kind} task is monitored on {' or '.join(allowed)}. "
                f"Got {self.monitor_metric!r}." + did_you_mean(str(self.monitor_metric), allowed)
            )

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def from_dataset(
        cls, ds: Any, *, class_weights: str = "none", label_smoothing: float = 0.0
    ) -> Task:
        """The task of a :class:`graftlab.data.Dataset`; class weights from its train split."""
        train = ds.subset("train") if any(r.split == "train" for r in ds.records) else ds
        return cls.from_labels(
            ds.task,
            train.labels(),
            len(ds.classes),
            class_weights=class_weights,
            label_smoothing=label_smoothing,
        )

    @classmethod
    def from_labels(
        cls,
        kind: str,
        y: np.ndarray,
        num_classes: int,
        *,
        class_weights: str = "none",
        label_smoothing: float = 0.0,
    ) -> Task:
        """The task for labels ``y``: indices (N,) or a 0/1 matrix (N, K) for multi-label.

        ``class_weights``: ``"balanced"`` = inverse frequency always; ``"auto"`` = inverse
        frequency, and balanced accuracy as the monitor, when the labels are imbalanced
        (:func:`imbalance_ratio` >= :data:`IMBALANCE_RATIO`; multi-label tasks are left
        unweighted: their mAP is already per label); ``"none"`` = never.
        """
        if class_weights not in CLASS_WEIGHTS:
            raise ConfigError(
                f"'class_weights' must be one of {', '.join(CLASS_WEIGHTS)}. "
                f"Got {class_weights!r}." + did_you_mean(str(class_weights), CLASS_WEIGHTS)
            )
        y = np.asarray(y)
        imbalanced = kind != "multilabel" and imbalance_ratio(y, num_classes) >= IMBALANCE_RATIO
        weights, monitor = None, None
        if class_weights == "balanced" or (class_weights == "auto" and imbalanced):
            weights = tuple(float(w) for w in balanced_weights(kind, y, num_classes))
        if imbalanced and class_weights != "none":
            monitor = "balanced_accuracy"
        return cls(kind, num_classes, weights, label_smoothing, monitor)

    # -- head, loss, probabilities, metrics --------------------------------------------------
    @property
    def activation(self) -> str:
        return "sigmoid" if self.kind == "multilabel" else "softmax"

    @property
    def monitor(self) -> str:
        """The validation metric that picks checkpoints, the probe's L2 and the final model."""
        if self.monitor_metric is not None:
            return self.monitor_metric
        return "mAP" if self.kind == "multilabel" else "accuracy"

    def head_spec(self, in_features: int) -> dict:
        return {
            "type": "linear",
            "in_features": int(in_features),
            "out_features": self.num_outputs,
            "activation": self.activation,
        }

    def loss(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Mean loss of ``logits`` (N, K) against indices (N,) or a 0/1 matrix (N, K)."""
        if logits.shape[-1] != self.num_outputs:
            raise ValueError(
                f"logits have {logits.shape[-1]} units, the task has {self.num_outputs}"
            )
        weight = self._weight_tensor(logits)
        if self.kind == "multilabel":
            return F.binary_cross_entropy_with_logits(
                logits.float(), y.to(logits.device, torch.float32), pos_weight=weight
            )
        return F.cross_entropy(
            logits.float(),
            y.to(logits.device, torch.long),
            weight=weight,
            label_smoothing=self.label_smoothing,
        )

    def probs(self, logits: torch.Tensor) -> torch.Tensor:
        """float32 probabilities, computed in float64: vectorised float32 kernels round an
        element differently depending on its position in the tensor, so one image's
        probabilities would depend on what else was in the batch."""
        x = logits.double()
        p = torch.sigmoid(x) if self.kind == "multilabel" else x.softmax(dim=-1)
        return p.float()

    def metrics(self, probs: np.ndarray, y: np.ndarray) -> dict:
        return classification_metrics(probs, y, self.kind)

    def monitor_value(self, metrics: dict) -> float:
        return float(metrics[self.monitor])

    # -- persistence ----------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "num_outputs": self.num_outputs,
            "class_weights": list(self.class_weights) if self.class_weights else None,
            "label_smoothing": self.label_smoothing,
            "monitor": self.monitor_metric,  # None: the kind's default
        }

    @classmethod
    def from_dict(cls, d: dict) -> Task:
        weights = d.get("class_weights")
        return cls(
            d["kind"],
            int(d["num_outputs"]),
            tuple(weights) if weights else None,
            float(d.get("label_smoothing", 0.0)),
            d.get("monitor"),  # absent in artifacts written before the monitor was stored
        )

    def _weight_tensor(self, like: torch.Tensor) -> torch.Tensor | None:
        if self.class_weights is None:
            return None
        return torch.tensor(self.class_weights, dtype=torch.float32, device=like.device)


def imbalance_ratio(y: np.ndarray, num_classes: int) -> float:
    """Largest over smallest class count of label indices ``y`` (classes absent from ``y``
    are left out: they have nothing to weight); 1.0 for a single class."""
    counts = np.bincount(np.asarray(y).astype(np.int64).ravel(), minlength=num_classes)
    present = counts[counts > 0]
    return float(present.max() / present.min()) if len(present) > 1 else 1.0


def balanced_weights(kind: str, y: np.ndarray, num_classes: int) -> np.ndarray:
    """Inverse-frequency weights, normalised so the average training sample weighs 1.

    Softmax tasks: ``w_k = N / (K * n_k)`` (scikit-learn's "balanced"); a class absent from
    the training split gets weight 1 rather than infinity. Multi-label: the positive weight
    of label ``k`` is ``n_negative / n_positive``, so positives and negatives of each label
    contribute equally to its binary cross-entropy.
    """
    if kind == "multilabel":
        y = y.reshape(len(y), num_classes).astype(np.float64)
        pos = y.sum(axis=0)
        neg = len(y) - pos
        return np.where(pos > 0, neg / np.maximum(pos, 1), 1.0)
    counts = np.bincount(y.astype(np.int64), minlength=num_classes).astype(np.float64)
    present = counts > 0
    weights = np.ones(num_classes)
    weights[present] = len(y) / (present.sum() * counts[present])
    return weights
