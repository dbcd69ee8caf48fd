"""The doctor: names the root cause of a failing transfer-learning run, with evidence and a fix.

- ``check_script(path_or_source)``: static analysis of a Keras / PyTorch training script.
- ``check_log(path_or_text)``: a training log (Keras output, CSV logs, PyTorch prints).
- ``check_run(run_dir)``: a graftlab run directory (its findings and results.csv).
- ``check_model(model, batch, loss_fn, optimizer)``: one forward/backward pass of a torch model.
- ``run_preflight(dataset)``: leakage, tiny classes, imbalance before training.
- ``list_checks()``: every check with its code, category, severity and where it runs.

Every function returns :class:`Finding` objects. Submodules load on first use, so that
``import graftlab.doctor`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

from graftlab.doctor.findings import CATEGORIES, Finding, exit_code

__all__ = [
    "CATEGORIES",
    "Finding",
    "check_log",
    "check_model",
    "check_run",
    "check_script",
    "exit_code",
    "list_checks",
    "run_preflight",
]

_LAZY = {
    "check_log": "graftlab.doctor.logs",
    "check_run": "graftlab.doctor.logs",
    "check_model": "graftlab.doctor.model_check",
    "run_preflight": "graftlab.doctor.preflight",
}


def check_script(path_or_source: Any, *, filename: str | None = None) -> list[Finding]:
    """Static analysis of a training script or notebook; see :mod:`graftlab.doctor.script`."""
    from graftlab.doctor.script import check_script as _check_script

    return _check_script(path_or_source, filename=filename)


def list_checks() -> list[dict]:
    """Every doctor check: ``code``, ``category``, ``severity``, ``title``, ``where``,
    ``references``, in code order.

    ``where`` is ``script``, ``log``, ``model``, ``preflight`` or ``monitor``. The script analyser
    and the log checks are imported first because their modules may declare codes of their own.
    """
    import graftlab.doctor.logs  # log check modules declare their codes on import
    import graftlab.doctor.script  # noqa: F401  (rule modules declare their codes on import)
    from graftlab.doctor._checks import catalogue

    return catalogue()


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'graftlab.doctor' has no attribute {name!r}")
