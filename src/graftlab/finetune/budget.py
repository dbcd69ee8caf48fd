"""The training budget in optimizer steps, sized from the data: what ``"auto"`` resolves to.

A fixed number of epochs is a different amount of training for every dataset: 3 epochs of
4,249 images at batch 32 are 396 optimizer steps, 3 epochs of 238 images are 21. The budget
here grows with the square root of the training images, ``steps ~ 6 * sqrt(n)``, pinned to the
measured point (3 epochs on 4,249 Fashion-MNIST images: 0.900 test accuracy, more epochs did
not pay), so a small set gets many passes over each image and a large one less than three:

==========  ======  ============  =====  =======
train imgs  epochs  steps (b=32)  aug    peak lr
==========  ======  ============  =====  =======
140         17      68            light  8.5e-4
238         13      91            light  9.7e-4
850         7       182           none   1.3e-3
4,249       3       396           none   2e-3
20,000      1       625           none   2e-3
==========  ======  ============  =====  =======

The peak learning rate shrinks with the fourth root of the training images below the reference
point: the many passes of a small set are smaller steps, but not as small as keeping
``lr * epochs`` constant would make them (the square root, the rule before the weight average):
with the average of the steps (``--ema``, the default) validated and exported, the noise of the
larger steps is averaged out and on the dev draws of ``benchmarks/data_shapes.py`` twice the
square-root rate gained 3.7 points of balanced accuracy on the 10:1 binary shape and 1.5 points
on 10 x 20, and tied on 7 x 50 (``benchmarks/dev/lr``). Without the average (``--ema none``) the
square root stays the rule.

Each resolved value comes with its reason (:class:`Decision`), written to the summary and
printed, so a user sees ``epochs: auto -> 13 (238 training images ...)``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

#: The measured point the budget is pinned to: LP-FT on Fashion-MNIST 5k (4,249 train images
#: after the validation split) reaches 0.900 test accuracy in 3 epochs (config.py's lr note).
REFERENCE_IMAGES = 4249
REFERENCE_EPOCHS = 3
#: More than 30 passes over 20 images per class only overfits them further; the best epoch
#: is restored anyway, so the cap bounds the time, not the result.
MAX_EPOCHS = 30
#: From this many passes over each image augmentation pays: a 3-epoch run loses with it
#: (Fashion-MNIST 5k: none 0.899, light 0.894), a 15-epoch run on 7 x 34 images gains
#: (0.794 with light against 0.743 for 3 epochs without, issue 12).
AUGMENT_FROM_EPOCHS = 8
#: Warm-up never shorter than this share of the run: half an epoch is 66 of 396 steps on
#: 4,249 images (1/6), but 4 of 99 on 294 images, and there the first epoch of LP-FT threw
#: the probe's head away (Fashion-MNIST 7 x 42, val accuracy 0.34 after epoch 1 from the
#: probe's 0.84; train loss 3.1 against ln 7 = 1.9).
WARMUP_FRACTION = 1 / 6
#: The head's peak learning rate at the reference point (config.py's lr note). Below it the
#: rate shrinks as sqrt(n / REFERENCE_IMAGES), the inverse of the epochs' growth: at 2e-3 on
#: 294 images (Fashion-MNIST 7 x 42, dev draws 101 and 102) the second epoch, at peak lr,
#: dropped validation accuracy from the probe's 0.82-0.93 to 0.52-0.64 and the fine-tuned
#: model ended 5-8 points below the probe on test; at 5e-4 it ended 3 points above it.
REFERENCE_LR = 2e-3
#: How the peak lr shrinks below the reference point when the weight average is on (the
#: default): ``(n / 4249) ** 0.25``. The square root (each image receiving the reference
#: point's summed learning rate) was measured before the average; with it, twice that rate
#: gained on the small dev shapes and lost nowhere (benchmarks/dev/lr).
LR_POWER = 0.25
#: Epochs averaged when validation is small (config.monitor_smoothing).
SMOOTH_EPOCHS = 3
#: Early stopping waits a quarter of the run, at least this many epochs; it is off when
#: validation is small (a few dozen images move the smoothed metric by whole images, and on
#: the 7 x 50 dev draws stopping at the schedule's half cost 0.3 pt on average, up to 1.5).
MIN_PATIENCE = 3


@dataclass(frozen=True)
class Decision:
    """One option the run chose for itself: ``option: asked -> value (reason)``."""

    option: str
    asked: Any
    value: Any
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def __str__(self) -> str:
        return f"{self.option}: {self.asked} -> {self.value} ({self.reason})"


def auto_epochs(n_train: int) -> int:
    """Epochs for ``n_train`` images: ``3 * sqrt(4249 / n)``, rounded, within [1, 30]."""
    raw = REFERENCE_EPOCHS * math.sqrt(REFERENCE_IMAGES / max(n_train, 1))
    return int(min(MAX_EPOCHS, max(1, round(raw))))


def auto_lr(n_train: int, *, averaged: bool = True) -> float:
    """Peak head lr for ``n_train`` images: 2e-3, times ``(n / 4249) ** LR_POWER`` below 4,249
    images, or the square root for a run without the weight average (``averaged=False``);
    two significant digits, so the printed value is the one used."""
    power = LR_POWER if averaged else 0.5
    lr = REFERENCE_LR * min(1.0, (max(n_train, 1) / REFERENCE_IMAGES) ** power)
    return float(f"{lr:.2g}")


def plan(config: Any, n_train: int, *, small_val: bool = False) -> tuple[Any, list[Decision]]:
    """Resolve the budget's ``"auto"`` options of ``config`` for ``n_train`` training images.

    Returns a copy of the config with ``lr``, ``epochs``, ``augment``,
    ``early_stopping_patience``, ``warmup_steps`` and ``monitor_smoothing`` resolved, and the
    decisions taken (options given explicitly are kept and not listed). ``small_val``: the
    validation split is too small to pick an epoch by itself
    (:func:`graftlab.finetune.selection.small_validation`).
    """
    decisions: list[Decision] = []
    if config.monitor_smoothing == "auto" and small_val:
        config = dataclasses.replace(config, monitor_smoothing=SMOOTH_EPOCHS)
        decisions.append(
            Decision(
                "monitor_smoothing",
                "auto",
                SMOOTH_EPOCHS,
                f"a small validation split: the best epoch is judged on the mean of "
                f"{SMOOTH_EPOCHS} epochs' metric, not on one epoch's luckiest images",
            )
        )
    epochs = config.epochs
    steps_per_epoch = max(1, n_train // config.batch_size)
    if epochs == "auto":
        epochs = auto_epochs(n_train)
        decisions.append(
            Decision(
                "epochs",
                "auto",
                epochs,
                f"{n_train} training images at batch {config.batch_size}: "
                f"{epochs * steps_per_epoch} optimizer steps; 3 epochs at {REFERENCE_IMAGES} "
                f"images, more passes for fewer images (3 * sqrt({REFERENCE_IMAGES} / n))",
            )
        )
    if config.lr == "auto":
        averaged = config.ema is not None
        lr = auto_lr(n_train, averaged=averaged)
        config = dataclasses.replace(config, lr=lr)
        if lr >= REFERENCE_LR:
            why = f"{REFERENCE_LR:g}, measured best at {REFERENCE_IMAGES} images and kept above"
        elif averaged:
            why = (
                f"{REFERENCE_LR:g} * ({n_train} / {REFERENCE_IMAGES}) ** {LR_POWER:g}: more "
                "passes over fewer images take smaller steps, and the weight average smooths "
                "what is left of their noise"
            )
        else:
            why = (
                f"{REFERENCE_LR:g} * sqrt({n_train} / {REFERENCE_IMAGES}): the epochs grow as "
                f"sqrt({REFERENCE_IMAGES} / n), so without the weight average each image "
                "receives the same summed learning rate as at the reference point"
            )
        decisions.append(Decision("lr", "auto", lr, why))
    augment = config.augment
    if augment == "auto":
        augment = "light" if epochs >= AUGMENT_FROM_EPOCHS else "none"
        why = "at least" if augment == "light" else "fewer than"
        decisions.append(
            Decision(
                "augment",
                "auto",
                augment,
                f"each image is seen {epochs} times, {why} {AUGMENT_FROM_EPOCHS}",
            )
        )
    patience = config.early_stopping_patience
    if patience == "auto" and small_val:
        patience = None
        decisions.append(
            Decision(
                "early_stopping_patience",
                "auto",
                "none",
                "a small validation split: every epoch runs and the best averaged weights by "
                "the smoothed metric are kept; on such splits stopping ended runs whose "
                "weights were still improving (benchmarks/dev/ema)",
            )
        )
    elif patience == "auto":
        patience = max(MIN_PATIENCE, math.ceil(epochs / 4))
        if patience < epochs:
            decisions.append(
                Decision(
                    "early_stopping_patience",
                    "auto",
                    patience,
                    f"a quarter of {epochs} epochs, at least {MIN_PATIENCE}",
                )
            )
    warmup = config.warmup_steps
    if warmup is None:
        total = epochs * steps_per_epoch
        by_epochs = round(config.warmup_epochs * steps_per_epoch)
        warmup = max(by_epochs, round(WARMUP_FRACTION * total)) if by_epochs else 0
        if warmup != by_epochs:
            decisions.append(
                Decision(
                    "warmup_steps",
                    f"{config.warmup_epochs:g} epochs = {by_epochs} steps",
                    warmup,
                    f"at least 1/6 of the {total} steps: a few steps of warm-up let the "
                    "first large updates of a small set undo the probe's head",
                )
            )
    smoothing = 1 if config.monitor_smoothing == "auto" else config.monitor_smoothing
    resolved = dataclasses.replace(
        config,
        monitor_smoothing=smoothing,
        epochs=epochs,
        augment=augment,
        early_stopping_patience=patience,
        warmup_steps=warmup,
    )
    return resolved, decisions


def resolved(config: Any, n_train: int) -> Any:
    """``config`` with every budget ``"auto"`` resolved for ``n_train`` images (no reasons):
    for code that builds a Trainer without the pipeline."""
    return plan(config, n_train)[0]
