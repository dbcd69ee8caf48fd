"""Linear warm-up then cosine decay, applied to every parameter group by its ``base_lr``.

Written out (as in nanoGPT) instead of ``torch.optim.lr_scheduler.LambdaLR`` because gradual
unfreezing adds parameter groups mid-run, which LambdaLR cannot follow: here each step sets
``lr = base_lr * factor(step)`` for whatever groups the optimizer holds at that moment.
"""

from __future__ import annotations

import math

import torch


def warmup_cosine(step: int, total_steps: int, warmup_steps: int, min_ratio: float = 0.0) -> float:
    """Learning-rate multiplier at ``step`` (0-based): linear warm-up, then cosine to ``min_ratio``.

    The first step already has a non-zero rate, ``1 / (warmup_steps + 1)``, so no step is wasted.
    """
    if step < warmup_steps:
        return (step + 1) / (warmup_steps + 1)
    decay_steps = max(1, total_steps - warmup_steps)
    progress = min(1.0, (step - warmup_steps) / decay_steps)
    return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


class WarmupCosine:
    """Sets every group's ``lr`` from its ``base_lr`` before each optimizer step.

    Args:
        optimizer: The optimizer whose groups carry ``base_lr`` (strategies set it).
        total_steps: Optimizer steps of the whole run.
        warmup_steps: Steps of linear warm-up.
        min_ratio: Final multiplier of the cosine.
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        total_steps: int,
        warmup_steps: int,
        min_ratio: float = 0.0,
    ) -> None:
        self.optimizer = optimizer
        self.total_steps = total_steps
        self.warmup_steps = warmup_steps
        self.min_ratio = min_ratio
        self.step_count = 0

    def factor(self) -> float:
        return warmup_cosine(self.step_count, self.total_steps, self.warmup_steps, self.min_ratio)

    def apply(self) -> float:
        """Set the learning rates for the coming step; returns the multiplier."""
        factor = self.factor()
        for group in self.optimizer.param_groups:
            group["lr"] = group.get("base_lr", group["lr"]) * factor
        return factor

    def step(self) -> None:
        """Advance to the next step (call after ``optimizer.step()``)."""
        self.step_count += 1

    def state_dict(self) -> dict:
        return {
            "step_count": self.step_count,
            "total_steps": self.total_steps,
            "warmup_steps": self.warmup_steps,
            "min_ratio": self.min_ratio,
        }

    def load_state_dict(self, state: dict) -> None:
        self.step_count = int(state["step_count"])
        self.total_steps = int(state["total_steps"])
        self.warmup_steps = int(state["warmup_steps"])
        self.min_ratio = float(state["min_ratio"])
