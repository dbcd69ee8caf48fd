"""Inference-mode scores that jump while training-mode scores hold still.

A model whose training accuracy is above 0.9 from its first epoch and stays there predicts its
training batches well in training mode. If the same run's validation accuracy (inference mode,
images of the same kind) drops to chance or below in one epoch and reaches 0.9 or more in
another, what moves is not what the model learned but what inference mode computes with:
BatchNormalization's moving statistics. They are what a frozen backbone's BatchNorm layers
still update in Keras 2.1-2.2 (``trainable=False`` did not stop the training-mode batch
statistics), what few steps at momentum 0.99 leave far from the data's, and what a plain
PyTorch loop without ``model.eval()`` replaces by each validation batch's own.

A validation set of a handful of images jumps by itself; the rule needs accuracies that are not
multiples of 1/n for a small n and, where the log says, a validation set of 50 images or more.
"""

from __future__ import annotations

import re

from graftlab.doctor import _checks as fixes
from graftlab.doctor._checks import REFS, declare, make
from graftlab.doctor._logmodes import _mode_causes
from graftlab.doctor._logparse import ParsedLog
from graftlab.doctor._logutil import _cites, _finite, _fmt
from graftlab.doctor.findings import Finding

declare(
    "GL454",
    "batchnorm",
    "warning",
    "log",
    "Training accuracy holds above 0.9 while validation accuracy jumps between chance and 0.9+",
)

#: Training mode: at least this accuracy in every epoch of the phase.
STEADY = 0.9
#: Inference mode: at or below this in one epoch (chance for two classes, below it for more)...
LOW = 0.5
#: ... and at least this in two others.
HIGH = 0.9
#: A printed evaluation after training: ``test accuracy: 0.5``, ``Test acc = 0.50``.
_EVAL_ACC = re.compile(
    r"^\s*(?:test|eval(?:uation)?)[ _]?acc(?:uracy)?\s*[:=;]\s*([01](?:\.\d+)?)\s*$", re.I
)


def _coarse(values: list[float], largest: int = 20) -> bool:
    """True when every value is a multiple of 1/n for some n <= ``largest``: few images."""
    return any(all(abs(v * n - round(v * n)) < 1e-3 for v in values) for n in range(1, largest + 1))


def validation_swings(log: ParsedLog, broken: set[int]) -> list[Finding]:
    """GL454: training accuracy >= 0.9 in every epoch while validation accuracy falls to 0.5 or
    below in one epoch and reaches 0.9 or more in two others."""
    if log.val_size is not None and log.val_size < 50:
        return []
    for rows in log.phases():
        phase = rows[0].phase
        if phase in broken:
            continue
        train, val = _finite(rows, "train_accuracy"), _finite(rows, "val_accuracy")
        if len(train) < 4 or len(val) < 4 or min(v for _, v in train) < STEADY:
            continue
        values = [v for _, v in val]
        if min(values) > LOW or sum(v >= HIGH for v in values) < 2 or _coarse(values):
            continue
        broken.add(phase)
        after = [
            (i, float(m[1]))
            for i, line in enumerate(log.lines, 1)
            if i > rows[-1].line and (m := _EVAL_ACC.match(line))
        ]
        tail = "".join(
            f"\n  line {i:>3} | evaluation after training: accuracy {_fmt(a)}" for i, a in after[:1]
        )
        lo_row, lo = min(val, key=lambda p: p[1])
        return [
            make(
                "GL454",
                title=f"Training accuracy stays {_fmt(min(v for _, v in train))} or above while "
                f"validation accuracy jumps between {_fmt(lo)} and {_fmt(max(values))}",
                evidence=_cites(rows, "train_accuracy", "train_loss", "val_accuracy", "val_loss")
                + tail
                + f"\ninferred: epoch {lo_row.epoch} scores {_fmt(lo)} in inference mode while "
                "training mode scores above 0.9: the modes, not the weights, differ",
                explanation=(
                    "Training accuracy is high from the first epoch and steady: the weights "
                    "predict the training batches. Validation images of the same kind are "
                    "predicted at chance in one epoch and almost perfectly in another. A model "
                    "that overfits loses validation accuracy gradually; one whose inference "
                    "differs from its training swings like this. In inference mode "
                    "BatchNormalization uses its moving statistics instead of the batch's: a "
                    "frozen backbone whose BatchNorm layers still run in training mode during "
                    "fit() (Keras 2.1-2.2 with trainable=False) trains the head on features "
                    "that inference never produces, and moving averages updated over few steps "
                    "jump from epoch to epoch. An evaluation after training then lands at "
                    "chance too."
                ),
                fix=fixes.fix_batchnorm(log.framework or "keras"),
                references=[REFS["keras-ft"], REFS["bn"]],
                causes=_mode_causes(log),
            )
        ]
    return []
