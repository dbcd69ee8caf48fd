"""graftlab.finetune: the task, the linear probe, fine-tuning strategies and the trainer.

``Task`` fixes head, loss and metrics from the labels; ``LinearProbe`` fits the head on cached
features; strategies (``create_strategy``) say what trains at which learning rate; the
``Trainer`` runs one readable loop. ``run_training`` in :mod:`graftlab.train`, above this
package, strings them together with the data, the doctor and the artifact for ``graftlab
train`` and ``ImageClassifier.fit``; nothing here imports those.
"""

from __future__ import annotations

import importlib
from typing import Any

# Loaded on first use: TrainConfig (which the CLI reads to build its options) must not pull
# in torch through the trainer.
_EXPORTS = {
    "LinearProbe": "graftlab.finetune.probe",
    "Task": "graftlab.finetune.task",
    "TrainConfig": "graftlab.finetune.config",
    "Trainer": "graftlab.finetune.trainer",
    "create_strategy": "graftlab.finetune.strategies",
    "list_strategies": "graftlab.finetune.strategies",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'graftlab.finetune' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
