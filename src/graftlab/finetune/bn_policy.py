"""BatchNorm frozen or re-estimated, decided from the user's own images.

A BatchNorm layer normalises with the running mean and variance of its pretraining data. On
images whose statistics sit far from those (greyscale line drawings, a white background,
microscopy), every normalised activation is shifted and scaled wrongly, and keeping the
statistics frozen keeps that error; re-estimating them (``bn="train"``: batch statistics while
fine-tuning, running statistics updated) removes it at the price of batch noise.

The measurement: a forward pass of the pretrained network, in eval mode, over a sample of the
training images, recording each BN layer's input mean and variance per channel; the distance
of a layer is the mean over channels of the KL divergence between the Gaussians N(target) and
N(running), and the run's distance the median over layers (a few layers near the stem move
far on any new data; the median says whether the whole network is displaced).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import nn

from graftlab.finetune.budget import Decision

#: Median per-layer KL (nats per channel) from which BN statistics are re-estimated.
#: Measured with lite0 at 112 px on 128 training images (benchmarks/data_shapes.py data):
#: Fashion-MNIST 0.22-0.25, MNIST 0.37, inverted edge maps of digits 0.36. On the last two and
#: on Fashion-MNIST 7x50, statistics re-estimated on the user's images (AdaBN, 512 images)
#: made the features worse, not better: 5-fold CV probe accuracy 0.894 -> 0.795 (edge maps),
#: 0.837 -> 0.743 (Fashion-MNIST). So every domain measured here keeps the pretrained
#: statistics; the threshold sits ~3x above the largest value seen.
SHIFT_THRESHOLD = 1.0
#: Images in the measurement: enough for per-channel means and variances at every layer.
SAMPLE_IMAGES = 128


def bn_shift(
    model: nn.Module,
    images: Any,
    preprocess: Any,
    *,
    sample: int = SAMPLE_IMAGES,
    batch_size: int = 32,
    seed: int = 0,
) -> dict[str, Any]:
    """How far the BN input statistics of ``images`` (uint8 (N,S,S,3)) sit from the running ones.

    Returns ``{"median_kl": ..., "mean_kl": ..., "layers": n, "images": m}``; ``layers`` is 0
    (and the distances NaN) for a network without BatchNorm. The model is left as it was.
    """
    layers = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not layers:
        return {"median_kl": float("nan"), "mean_kl": float("nan"), "layers": 0, "images": 0}
    n = len(images)
    idx = np.sort(np.random.default_rng(seed).choice(n, min(n, sample), replace=False))
    sums: dict[int, list[torch.Tensor]] = {i: [] for i in range(len(layers))}

    def hook(i: int):
        def record(module: nn.Module, inputs: tuple, _out: Any) -> None:
            x = inputs[0].detach().float()
            dims = [0, 2, 3] if x.ndim == 4 else [0]
            count = x.numel() / x.shape[1]
            sums[i].append(
                torch.stack([x.sum(dims), (x * x).sum(dims), torch.full_like(x.sum(dims), count)])
            )

        return record

    handles = [m.register_forward_hook(hook(i)) for i, m in enumerate(layers)]
    was_training = model.training
    device = next(model.parameters()).device
    model.eval()
    try:
        with torch.inference_mode():
            for start in range(0, len(idx), batch_size):
                u8 = np.ascontiguousarray(np.asarray(images[idx[start : start + batch_size]]))
                x = preprocess.eval_batch(torch.from_numpy(u8)).to(device)
                model(x)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    kls = []
    for i, m in enumerate(layers):
        s = torch.stack(sums[i]).sum(0)
        mean = s[0] / s[2]
        var = (s[1] / s[2] - mean * mean).clamp_min(0) + m.eps
        rm, rv = m.running_mean.float().cpu(), m.running_var.float().cpu() + m.eps
        mean, var = mean.cpu(), var.cpu()
        kl = 0.5 * (var / rv + (mean - rm) ** 2 / rv - 1 - torch.log(var / rv))
        kls.append(float(kl.mean()))
    return {
        "median_kl": float(np.median(kls)),
        "mean_kl": float(np.mean(kls)),
        "layers": len(kls),
        "images": len(idx),
    }


def decide(shift: dict[str, Any], threshold: float = SHIFT_THRESHOLD) -> Decision:
    """``bn: auto -> frozen | train`` with the measured distance as the reason."""
    value = shift["median_kl"]
    if not shift["layers"] or not math.isfinite(value):
        return Decision("bn", "auto", "frozen", "the backbone has no BatchNorm layers")
    if value >= threshold:
        return Decision(
            "bn",
            "auto",
            "train",
            f"the training images' BN input statistics sit far from the pretrained ones "
            f"(median KL {value:.2f} >= {threshold:g} over {shift['layers']} layers, "
            f"{shift['images']} images): re-estimated while fine-tuning",
        )
    return Decision(
        "bn",
        "auto",
        "frozen",
        f"the training images' BN input statistics are close to the pretrained ones "
        f"(median KL {value:.2f} < {threshold:g} over {shift['layers']} layers, "
        f"{shift['images']} images): pretrained statistics kept",
    )
