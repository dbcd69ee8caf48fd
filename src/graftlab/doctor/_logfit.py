"""A training set learnt by heart, seen in a paste of the last epochs only.

The overfitting checks of :mod:`graftlab.doctor.logs` read the turn: validation loss bottoms
out and rises while training loss keeps falling, or the accuracy gap opens up. People often
paste only the end of a long run (``Epoch 46/50`` to ``50/50``), where nothing turns any more:
training accuracy sits at 0.99-1.00, validation accuracy sits 20 points or more below it and
does not improve, and the validation loss is many times the training loss. That state is the
end of overfitting. Validation at chance is left to the checks that name its causes (label
order, preprocessing, inference mode): a memorising model still beats chance on validation.
"""

from __future__ import annotations

from graftlab.doctor import _checks as fixes
from graftlab.doctor._checks import REFS, make
from graftlab.doctor._logrows import ParsedLog
from graftlab.doctor._logutil import _cites, _fmt, _phase_label
from graftlab.doctor.findings import Finding

#: The window read: the last epochs of a phase.
WINDOW = 5
#: Training accuracy this high has learnt (nearly) every training image.
TRAIN_MEMORISED = 0.97
#: Validation this far below it, in every epoch of the window.
GAP = 0.20
#: Validation loss at least this many times the training loss, when both are logged.
LOSS_RATIO = 3.0


def memorised(log: ParsedLog, fw: str, broken: set[int]) -> list[Finding]:
    """GL412 from the end state: the last epochs of a phase at ~100% on training, 20+ points
    lower on validation, validation not improving (and its loss a multiple of training's)."""
    for rows in log.phases():
        phase = rows[0].phase
        if phase in broken:
            continue
        window = [r for r in rows if "train_accuracy" in r.values and "val_accuracy" in r.values]
        window = window[-WINDOW:]
        if len(window) < 3:
            continue
        train = [r.values["train_accuracy"] for r in window]
        val = [r.values["val_accuracy"] for r in window]
        gaps = [t - v for t, v in zip(train, val, strict=True)]
        if min(train) < TRAIN_MEMORISED or min(gaps) < GAP:
            continue
        if val[-1] > max(val[:-1]) + 0.01:
            continue  # validation still improves: not the end of the run's learning
        k = log.num_classes if log.num_classes and log.num_classes >= 2 else 2
        if min(val) < 1 / k + 0.10:
            continue  # near chance: a broken validation, named by other checks
        last = window[-1].values
        ratio = ""
        if "train_loss" in last and "val_loss" in last:
            if last["val_loss"] < LOSS_RATIO * max(last["train_loss"], 1e-8):
                continue
            losses = [r.values["val_loss"] for r in window if "val_loss" in r.values]
            if len(losses) >= 3 and losses[-1] < 0.95 * losses[0]:
                continue  # validation loss still falling clearly
            ratio = (
                f"; val_loss {_fmt(last['val_loss'])} is "
                f"{last['val_loss'] / max(last['train_loss'], 1e-8):.0f}x the training loss"
            )
        gap = sum(gaps) / len(gaps)
        return [
            make(
                "GL412",
                title=(
                    f"Training set memorised: training accuracy {_fmt(train[-1])}, validation "
                    f"{_fmt(val[-1])} and not improving over the last {len(window)} epochs"
                    + _phase_label(log, phase)
                ),
                evidence=_cites(window, "train_accuracy", "val_accuracy", "train_loss", "val_loss")
                + f"\nvalidation accuracy is {gap:.2f} below training on average{ratio}; "
                f"chance is 1/{k} = {1 / k:.2f}, so the model does generalise, only far less "
                "than it fits",
                explanation=(
                    "The model classifies nearly every training image correctly and a far "
                    "smaller share of validation images, and more epochs no longer change "
                    "that: it has learnt the training images themselves rather than what "
                    "separates the classes. The log shows the end of the run; the turn, where "
                    "validation stopped improving, came earlier (an earlier checkpoint is "
                    "better). Common with a small data set, many trainable layers and no "
                    "augmentation."
                ),
                fix=fixes.fix_overfitting(fw),
                references=[REFS["early-stopping"]],
            )
        ]
    return []
