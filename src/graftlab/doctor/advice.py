"""Why a fine-tuning run ended worse than its linear probe, from the run's own history.

``graftlab.train`` falls back to the probe when fine-tuning ends worse on validation and
quotes :func:`likely_cause` in the summary. The rules read only what every run records (the
per-epoch history of ``results.csv`` and the config), so they also apply to a finished run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def likely_cause(
    history: Sequence[dict[str, Any]],
    config: Any,
    *,
    monitor: str,
    init_head: str,
    probe_metric: float,
    imbalance: float = 1.0,
    num_classes: int | None = None,
) -> str:
    """One sentence naming the most likely reason fine-tuning lost to the probe, with the fix.

    Args:
        history: One dict per finished epoch (``Trainer.history_``: ``train_loss``,
            ``train_accuracy``, ``val_<metric>``, ...).
        config: The run's TrainConfig (``lr``, ``strategy``, ``unfreeze``, ``bn``).
        monitor: The validation metric the run selects on (``Task.monitor``).
        init_head: ``"probe"`` or ``"random"``: how the strategy initialised the head.
        probe_metric: The probe's value of ``monitor`` on validation.
        imbalance: Largest / smallest class count of the train split (1 when balanced).
        num_classes: K, to recognise a balanced accuracy of 1/K (one class predicted).
    """
    m = f"val_{monitor}"
    if not history:
        return "no epoch finished; check the training log."
    first = history[0].get(m, float("nan"))
    last = history[-1]
    if not np.isfinite(last.get("train_loss", np.nan)):
        if not isinstance(config.lr, int | float):  # "auto", never resolved
            return "the loss diverged (the learning rate is too high for this model)."
        return (
            f"the loss diverged (lr {config.lr:g} too high for this model); "
            f"retry with --lr {config.lr / 10:g}."
        )
    collapsed = [
        h["epoch"]
        for h in history
        if num_classes and abs(h.get("val_balanced_accuracy", np.nan) - 1 / num_classes) < 1e-6
    ]
    if imbalance >= 3 and collapsed:
        weighted = (
            "loss was class-weighted"
            if config.class_weights != "none"
            else ("loss was not class-weighted (--class-weights none)")
        )
        return (
            f"a majority-class collapse, from the data's balance, not the learning rate: the "
            f"train split is imbalanced {imbalance:.0f}:1 and in epoch(s) "
            f"{', '.join(map(str, collapsed[:5]))} every validation image was predicted as one "
            f"class (balanced accuracy 1/{num_classes}); the {weighted}. Use --class-weights "
            "auto or balanced, more images of the rare class, or keep the probe."
        )
    if init_head == "random":
        return (
            "the head started at random (strategy 'full'): its large early gradients "
            "distort the pretrained features; use --strategy lp-ft."
        )
    fewer = (
        "--unfreeze 1" if config.strategy == "top-k" and config.unfreeze > 1 else "--strategy top-k"
    )
    if first < probe_metric - 0.01:
        alternative = "" if config.strategy == "top-k" else f" or {fewer}"
        lower = (
            f"retry with --lr {config.lr / 3:.1g}"
            if isinstance(config.lr, int | float)
            else "retry with a lower --lr"
        )
        rate = f" {config.lr:g}" if isinstance(config.lr, int | float) else ""
        return (
            f"the first epoch already lost {100 * (probe_metric - first):.1f} points: the "
            f"learning rate{rate} is likely too high for the pretrained layers; "
            f"{lower}{alternative}."
        )
    gap = last.get("train_accuracy", np.nan) - last.get("val_accuracy", np.nan)
    if np.isfinite(gap) and gap > 0.1:
        trained = "the top stages" if config.strategy == "top-k" else "the whole network"
        return (
            f"overfitting (train accuracy {last['train_accuracy']:.3f} vs val "
            f"{last['val_accuracy']:.3f}): too few images to adapt {trained}; "
            f"use {fewer}, --augment light or strong, or more data."
        )
    if config.bn == "train":
        return (
            "BatchNorm statistics were updated by small batches of the new domain "
            "(--bn train); retry with --bn frozen."
        )
    return (
        "the frozen features already fit this data as well as it can be fitted with "
        f"{len(history)} epoch(s); more epochs or a lower --lr may help, or keep the probe."
    )
