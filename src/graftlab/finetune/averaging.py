"""The fine-tuned weights as an exponential moving average of the steps' (Polyak averaging).

At peak learning rate the weights of the last step are one noisy point of a trajectory; their
running average is a better model at any moment of the run and no worse at its end (timm's
``--model-ema``, Polyak and Juditsky 1992). :class:`WeightAverage` keeps that average beside
the parameters; the trainer swaps it in to validate, keep and save each epoch's model and swaps
the training weights back to continue.
"""

from __future__ import annotations

import torch
from torch import nn


class WeightAverage:
    """An exponential moving average of ``model``'s floating-point parameters.

    The average starts at the weights the run starts from (for LP-FT, the probe's model), so
    early in the run it stays near that model instead of following the first noisy steps.

    Args:
        model: The network whose parameters are averaged (buffers, e.g. BatchNorm running
            statistics, are not: they are themselves running averages).
        decay: Weight of the old average at each step, ``1 - 1 / time constant in steps``.
    """

    def __init__(self, model: nn.Module, decay: float) -> None:
        named = [(n, p) for n, p in model.named_parameters() if p.is_floating_point()]
        self.decay = float(decay)
        self.names = [n for n, _ in named]
        self.params = [p for _, p in named]
        # The average while the training weights are in the model; the training weights
        # while the average is in it (swapped).
        self.other = [p.detach().clone() for p in self.params]
        self.swapped = False

    @torch.no_grad()
    def update(self) -> None:
        """One step: move the average towards the parameters that train (others are equal)."""
        if self.swapped:
            raise RuntimeError("update() while the average is swapped in")
        trains = [i for i, p in enumerate(self.params) if p.requires_grad]
        if trains:
            avg = [self.other[i] for i in trains]
            now = [self.params[i].detach() for i in trains]
            torch._foreach_lerp_(avg, now, 1.0 - self.decay)

    @torch.no_grad()
    def swap(self) -> None:
        """Exchange the model's parameters with what is held beside them (in place)."""
        for p, o in zip(self.params, self.other, strict=True):
            held = p.detach().clone()
            p.copy_(o)
            o.copy_(held)
        self.swapped = not self.swapped

    def average(self) -> dict[str, torch.Tensor]:
        """The averaged parameters by name (references, wherever they are now)."""
        return dict(zip(self.names, self.params if self.swapped else self.other, strict=True))

    def training_weights(self) -> dict[str, torch.Tensor]:
        """The parameters the optimizer steps, by name (references)."""
        return dict(zip(self.names, self.other if self.swapped else self.params, strict=True))

    def load_average(self, average: dict[str, torch.Tensor]) -> None:
        """Set the average (from a checkpoint), with the training weights in the model."""
        if self.swapped:
            raise RuntimeError("load_average() while the average is swapped in")
        missing = [n for n in self.names if n not in average]
        if missing:
            raise KeyError(f"no average for {len(missing)} parameter(s), e.g. {missing[0]!r}")
        with torch.no_grad():
            for name, held in zip(self.names, self.other, strict=True):
                held.copy_(average[name])


def decay_for(fraction: float, total_steps: int) -> tuple[float, float]:
    """The decay whose time constant is ``fraction`` of the run's steps, and that constant."""
    tau = max(1.0, fraction * total_steps)
    return 1.0 - 1.0 / tau, tau
