"""graftlab: transfer learning that is right by construction, and a doctor for runs that are not.

The dozen names a user needs are importable from here; they load lazily so that
``import graftlab`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "create_backbone": "graftlab.backbones",
    "list_backbones": "graftlab.backbones",
    "load_dataset": "graftlab.data",
    "create_strategy": "graftlab.finetune",
    "list_strategies": "graftlab.finetune",
    "LinearProbe": "graftlab.finetune",
    "ImageClassifier": "graftlab.classifier",
    "load": "graftlab.classifier",
    "doctor": "graftlab.doctor",
    "GraftlabError": "graftlab.errors",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        module = importlib.import_module(_EXPORTS[name])
        return module if name == "doctor" else getattr(module, name)
    raise AttributeError(f"module 'graftlab' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
