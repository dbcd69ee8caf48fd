"""Tiny images, models and configs shared by the trainer and boundary-cache tests."""

from __future__ import annotations

import numpy as np
import pytest
import timm
import torch

from graftlab.data.transforms import Preprocess
from graftlab.finetune.config import TrainConfig
from graftlab.finetune.strategies import create_strategy
from graftlab.finetune.task import Task
from graftlab.finetune.trainer import Trainer

PRE = Preprocess(
    input_size=32, interpolation="bilinear", crop_pct=0.875, crop_mode="center",
    mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5),
)  # fmt: skip


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny models run fastest on one intra-op thread; on shared cores, idle OpenMP threads
    spinning for their turn cost 40x the CPU time."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def data(n=40, seed=0):
    """Images whose mean brightness carries the class, so a few steps learn something."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = rng.integers(0, 80, (n, PRE.store_size, PRE.store_size, 3)) + 80 * y[:, None, None, None]
    return x.astype(np.uint8), y


def tiny(name="test_efficientnet", **kw):
    torch.manual_seed(0)
    return timm.create_model(name, pretrained=False, num_classes=3, **kw)


def config(**kw):
    base = dict(epochs=2, batch_size=8, precision="fp32", channels_last=False, num_workers=0)
    return TrainConfig(**{**base, **kw})


def trainer(model=None, strategy="lp-ft", callbacks=(), cfg=None, n=24, **kw):
    x, y = data(n)
    split = n * 4 // 5
    return Trainer(
        model if model is not None else tiny(),
        Task.from_labels("multiclass", y, 3),
        create_strategy(strategy, **kw),
        PRE,
        train=(x[:split], y[:split]),
        val=(x[split:], y[split:]),
        config=cfg or config(),
        callbacks=list(callbacks),
    )
