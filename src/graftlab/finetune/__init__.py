"""graftlab.finetune: the task, the linear probe, fine-tuning strategies and the trainer.

``Task`` fixes head, loss and metrics from the labels; ``LinearProbe`` fits the head on cached
features; strategies (``create_strategy``) say what trains at which learning rate; the
``Trainer`` runs one readable loop. ``run_training`` in :mod:`graftlab.train`, above this
package, strings them together with the data, the doctor and the artifact for ``graftlab
train`` and ``ImageClassifier.fit``; nothing here imports those.
"""

from graftlab.finetune.config import TrainConfig
from graftlab.finetune.probe import LinearProbe
from graftlab.finetune.strategies import create_strategy, list_strategies
from graftlab.finetune.task import Task
from graftlab.finetune.trainer import Trainer

__all__ = [
    "LinearProbe",
    "Task",
    "TrainConfig",
    "Trainer",
    "create_strategy",
    "list_strategies",
]
