"""What a run did, in the report's words: the settings it used (with the values the defaults
resolved to), the settings that did not apply, its parameter groups, and the label smoothing
its losses include.

``config.json`` stores what was asked (``label_smoothing: null``, ``precision: auto``); the
model's ``graftlab.json``, ``summary.json`` and ``weights/last.pt`` store what was used.
"""

from __future__ import annotations

import inspect
import math
from typing import Any

from graftlab.report._runfiles import RunFiles

#: Settings that only fine-tuning reads: a run that fitted the linear probe alone ignores them.
FINETUNE_ONLY = (
    "epochs",
    "batch_size",
    "lr",
    "layer_decay",
    "weight_decay",
    "warmup_epochs",
    "warmup_steps",
    "max_grad_norm",
    "augment",
    "bn",
    "unfreeze",
    "early_stopping_patience",
    "boundary_cache",
    "views",
    "compile",
    "num_workers",
    "save_every_epoch",
)
#: Fine-tuning settings that belong to strategies (``strategy_from_config`` passes each only
#: to the strategies whose constructor takes it).
STRATEGY_OPTIONS = ("bn", "layer_decay", "unfreeze")


def finetuned(run: RunFiles) -> bool:
    """Whether fine-tuning ran (rows in results.csv, or a fine-tune entry in summary.json)."""
    if any((r.get("phase") or "") == "finetune" for r in run.results or []):
        return True
    return isinstance((run.summary or {}).get("finetune"), dict)


def label_smoothing(run: RunFiles) -> float | None:
    """The smoothing the run's losses used (the model's task), None when not recorded."""
    spec = (run.model_meta or {}).get("task_spec") or {}
    value = spec.get("label_smoothing")
    return float(value) if isinstance(value, int | float) else None


def smoothed_loss_floor(epsilon: float, k: int, task: str) -> float:
    """The smallest loss a model can reach on smoothed targets: their entropy."""
    if epsilon <= 0:
        return 0.0
    if task == "multilabel":
        p = 1 - epsilon / 2
        return -(p * math.log(p) + (1 - p) * math.log(1 - p))
    top, rest = 1 - epsilon + epsilon / k, epsilon / k
    return -(top * math.log(top) + (k - 1) * rest * math.log(rest))


def settings(run: RunFiles) -> tuple[dict[str, Any], dict[str, str]]:
    """``(used, not_applied)``: the value of every setting the run used, defaults resolved to
    what they became; and for each setting that did not apply, why."""
    cfg = dict(run.config or {})
    summary = run.summary or {}
    spec = (run.model_meta or {}).get("task_spec") or {}
    used = dict(cfg)
    eps = label_smoothing(run)
    if eps is not None:
        default = cfg.get("label_smoothing") is None
        used["label_smoothing"] = f"{eps:g}" + (" (the default for this task)" if default else "")
    if "class_weights" in spec:
        weights = spec["class_weights"]
        if isinstance(weights, list) and run.classes and len(weights) == len(run.classes):
            text = ", ".join(f"{c} {w:.3g}" for c, w in zip(run.classes, weights, strict=True))
            used["class_weights"] = f"{cfg.get('class_weights', '')}: {text}".lstrip(": ")
        elif weights is None:
            used["class_weights"] = "none"
    for key, field in (("precision", "precision"), ("channels_last", "channels_last")):
        if cfg.get(key) == "auto":
            used[key] = "auto → " + _executions(summary, field)
    not_applied: dict[str, str] = {}
    if not finetuned(run):
        why = (
            "the linear probe trains no backbone"
            if cfg.get("strategy") == "lp"
            else "fine-tuning did not run"
        )
        not_applied.update({k: why for k in FINETUNE_ONLY if k in cfg})
    else:
        accepted = _strategy_options(str(cfg.get("strategy", "")))
        if accepted is not None:
            for key in STRATEGY_OPTIONS:
                if key in cfg and key not in accepted:
                    not_applied[key] = f"strategy {cfg['strategy']} does not take it"
        if cfg.get("warmup_steps") is not None:
            not_applied["warmup_epochs"] = "warmup_steps is set"
    for key in not_applied:
        used.pop(key, None)
    if used.get("early_stopping_patience", "") is None:
        used["early_stopping_patience"] = "off"
    if used.get("warmup_steps", "") is None:
        used.pop("warmup_steps")  # warmup_epochs says it
    return used, not_applied


def _executions(summary: dict, field: str) -> str:
    parts = []
    for key, what in (("execution", "features"), ("train_execution", "fine-tuning")):
        ex = summary.get(key)
        if isinstance(ex, dict) and field in ex:
            parts.append(f"{ex[field]} ({what})")
    return ", ".join(parts) or "not recorded"


def _strategy_options(name: str) -> set[str] | None:
    """The strategy options ``name`` takes; None for a strategy this version does not know."""
    from graftlab.finetune.strategies import STRATEGIES

    if name not in STRATEGIES.names():
        return None
    return set(inspect.signature(STRATEGIES.get(name).__init__).parameters)


def param_groups(run: RunFiles) -> tuple[list[dict], int | None] | None:
    """The optimizer's parameter groups as fine-tuning used them, and the number of frozen
    parameters: from ``summary.json``'s ``param_groups`` when the run wrote them, else from
    the optimizer state in ``weights/last.pt``. None when neither holds them."""
    groups = (run.summary or {}).get("param_groups")
    if isinstance(groups, list) and all(isinstance(g, dict) for g in groups):
        return groups, None
    path = run.root / "weights" / "last.pt"
    if not path.is_file():
        return None
    import torch

    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        state, model = ckpt["optimizer"]["param_groups"], ckpt["model"]
        rows, trained = [], set()
        for g in state:
            names = list(g.get("param_names") or [])
            trained.update(names)
            rows.append(
                {
                    "name": g.get("name", "?"),
                    "lr": g.get("base_lr", g.get("initial_lr", g.get("lr"))),
                    "params": sum(model[n].numel() for n in names if n in model),
                    "weight_decay": g.get("weight_decay"),
                }
            )
    except Exception as exc:  # any damage: the report is still written, with this note
        run.problems.append(f"weights/last.pt: parameter groups not readable ({exc}).")
        return None
    frozen = sum(
        t.numel()
        for n, t in model.items()
        if n not in trained and t.is_floating_point() and "running_" not in n
    )
    return rows, frozen


def inputs(run: RunFiles) -> set[str]:
    """What the report was built from; a rebuild with less would be a worse report."""
    have = {
        name
        for name, value in (
            ("config", run.config),
            ("dataset", run.dataset),
            ("model", run.model_meta),
            ("results", run.results),
            ("summary", run.summary),
            ("findings", run.findings),
        )
        if value is not None
    }
    have |= {f"predictions/{s}" for s in run.predictions}
    pred = run.predictions.get("test") or run.predictions.get("val")
    if pred is not None and pred.paths and any(image_exists(p) for p in pred.paths[:50]):
        have.add("images")
    return have


def image_exists(path: str) -> bool:
    from pathlib import Path

    try:
        return Path(path).is_file()
    except OSError:
        return False
