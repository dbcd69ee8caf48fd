"""``run_training``: data → probe → fine-tune → selection → artifact, the same for CLI and API.

The steps, numbered as in the code:

1. Load the data (or take a Dataset) and save its manifest, classes and summary in the run.
2. Preflight doctor checks; an error stops the run with its fix.
3. Backbone and its Preprocess (the image-size override is stored once and used by every
   phase: features, fine-tuning, evaluation, the artifact).
4. Features of every split (decoded once into the image cache, pooled features cached).
5. LinearProbe on the train features, L2 chosen on val; a ``probe`` row in results.csv.
6. If the strategy trains the backbone: head from the probe (LP-FT) or random (full),
   ``Trainer.fit``.
7. Selection on validation only: fine-tuning never returns a model worse on validation than
   the probe it started from. If it ends worse, the summary says so and why, and the probe
   (pretrained backbone + probe head) is the model.
8. The test split, once, at the end, for reporting only.
9. predictions/, model/ (the artifact), summary.json, findings.json, then the report.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from graftlab._io import stable_hash, write_json
from graftlab._paths import new_run_dir
from graftlab.errors import ConfigError, DataError
from graftlab.features import dataset_features, describe, extract_features, head_logits
from graftlab.features.extract import auto_batch_size
from graftlab.finetune.config import TrainConfig
from graftlab.finetune.probe import LinearProbe
from graftlab.finetune.task import Task
from graftlab.hardware import Execution, choose_execution

logger = logging.getLogger("graftlab.finetune")

_DATA_CATEGORIES = {"data-leakage", "label-order-mismatch", "trivial-accuracy", "no-shuffle"}


@dataclass
class TrainResult:
    """What a run produced.

    Attributes:
        run_dir: The run directory.
        summary: The contents of ``summary.json``.
        model: The selected model (eval mode), also saved in ``run_dir/model``.
        task, classes, preprocess: What the artifact needs.
        execution: Device and precision every prediction of this run used.
        probe: The fitted :class:`LinearProbe`.
        trainer: The Trainer, or None when the strategy does not train the backbone.
    """

    run_dir: Path
    summary: dict
    model: torch.nn.Module
    task: Task
    classes: list[str]
    preprocess: Any
    execution: Execution
    probe: LinearProbe
    trainer: Any = None


def run_training(
    data: Any,
    config: TrainConfig | None = None,
    *,
    run_dir: str | os.PathLike | None = None,
    project: str | os.PathLike = "runs",
    name: str | None = None,
    callbacks: Sequence[Any] = (),
    cache_dir: str | os.PathLike | None = None,
    strict: bool = False,
    resume: bool = False,
    progress: bool = True,
    verbose: bool = True,
    report: bool = True,
) -> TrainResult:
    """Train a classifier on ``data`` and write a complete run directory.

    Args:
        data: A folder, a CSV, or a :class:`graftlab.data.Dataset`.
        config: The run's :class:`TrainConfig` (defaults when None).
        run_dir: Write here; default ``project/train/name`` (``exp``, ``exp2``, ...).
        callbacks: Extra Trainer callbacks, after the standard ones.
        cache_dir: Root of the image and feature caches.
        strict: Refuse undecodable images instead of skipping them, and stop when val/test
            images are near-duplicates of training images in feature space.
        resume: Continue ``run_dir`` from ``weights/last.pt`` (see :func:`resume_training`).
        progress: Show progress bars.
        verbose: Print the final summary.
        report: Build plots and report.html (``graftlab.report``) at the end.
    """
    t_start = time.perf_counter()
    config = (config or TrainConfig()).validate()
    timings: dict[str, float] = {}
    run = Path(run_dir) if run_dir is not None else new_run_dir(project, "train", name)
    run.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(config.seed)

    # 1. Data, saved with the run so it can be repeated on exactly these images.
    t = time.perf_counter()
    ds = _load_data(data, config, strict=strict, progress=progress)
    ds.save_manifest(run / "manifest.csv")
    write_json(run / "dataset.json", ds.summary())
    write_json(run / "config.json", config.to_dict())
    task = Task.from_dataset(
        ds, class_weights=config.class_weights, label_smoothing=_label_smoothing(config, ds)
    )
    timings["data"] = time.perf_counter() - t
    sizes = ", ".join(f"{len(ds.paths(sp))} {sp}" for sp in ds.splits)
    logger.info(
        "data: %s, %d classes, %s task; run directory %s", sizes, len(ds.classes), task.kind, run
    )

    # 2. Preflight: errors stop here, with the fix.
    findings = _preflight(ds, config, run)

    # 3. Backbone and the one Preprocess every phase uses.
    t = time.perf_counter()
    from graftlab.backbones import create_backbone
    from graftlab.data.transforms import Preprocess
    from graftlab.finetune.strategies import strategy_from_config

    strategy = strategy_from_config(config)
    model = create_backbone(config.backbone, weights=config.weights)
    preprocess = Preprocess.from_model(model, image_size=config.image_size)
    write_json(run / "preprocess.json", preprocess.to_dict())
    execution = resolve_execution(model, config, preprocess.input_size, cache_dir)
    timings["backbone"] = time.perf_counter() - t
    source = (getattr(model, "graftlab_weights", None) or {}).get("source")
    logger.info(
        "backbone: %s (%s weights); preprocessing %s", config.backbone, source, preprocess.to_dict()
    )
    logger.info("execution: %s (%s)", describe(execution), execution.reason)

    # 4. Features of every split, from the cache when nothing they depend on changed.
    from graftlab.features import weights_fingerprint

    fingerprint = weights_fingerprint(model)
    splits = [s for s in ("train", "val", "test") if s in ds.splits]
    feats, cached = {}, {}
    for split in splits:
        f = dataset_features(
            model,
            preprocess,
            ds.paths(split),
            ds.hashes(split),
            execution=execution,
            cache_root=cache_dir,
            progress=progress,
            desc=f"features {split}",
            weights=fingerprint,
        )
        feats[split], cached[split] = f, f.cached
        timings[f"features_{split}"] = f.seconds
        how = "from the cache" if f.cached else f"{len(f.ok) / max(f.seconds, 1e-9):.0f} img/s"
        logger.info("features %s: %s, %s in %.1f s", split, f.features.shape, how, f.seconds)
    labels = {s: ds.labels(s) for s in splits}
    keep = {s: feats[s].ok for s in splits}  # undecodable images take no part
    X = {s: feats[s].features[keep[s]] for s in splits}
    y = {s: labels[s][keep[s]] for s in splits}
    findings += _near_duplicates(X, ds, keep, strict=strict)

    # 5. The linear probe: the head fitted on frozen features, L2 chosen on val.
    t = time.perf_counter()
    probe = LinearProbe(task).fit(X["train"], y["train"], val=(X["val"], y["val"]))
    timings["probe"] = time.perf_counter() - t
    logger.info(
        "linear probe: weight_decay %g chosen on val from %d values in %.1f s",
        probe.weight_decay_,
        len(probe.path_),
        timings["probe"],
    )
    model.reset_classifier(task.num_outputs)
    probe.init_classifier(model.get_classifier())
    probe_val = _scores(task, head_logits(model, X["val"]), y["val"])
    _write_probe_row(run / "results.csv", task, probe, X, y, probe_val, timings["probe"])

    # 6. Fine-tuning, when the strategy trains the backbone.
    trainer, ft_val, train_execution = None, None, None
    if strategy.trains_backbone:
        pretrained = {k: v.detach().clone() for k, v in model.state_dict().items()}
        if strategy.init_head == "random":
            torch.manual_seed(config.seed)
            model.reset_classifier(task.num_outputs)
        t = time.perf_counter()
        images = {
            s: _images(ds, s, keep, preprocess, cache_dir, progress) for s in ("train", "val")
        }
        train_execution = resolve_execution(
            model, config, preprocess.input_size, cache_dir, train=True
        )
        trainer = _fine_tune(
            model,
            task,
            strategy,
            preprocess,
            images,
            y,
            config,
            train_execution,
            run,
            callbacks=callbacks,
            resume=resume,
            progress=progress,
            cache_dir=cache_dir,
        )
        timings["finetune"] = time.perf_counter() - t
        findings += list(trainer.findings)
        ft_val = _scores(task, _logits(model, images["val"], preprocess, execution), y["val"])

    # 7. Selection on validation only.
    selected, reason = _select(task, strategy, config, probe_val, ft_val, trainer)

    # 8. The test split, once, for reporting; nothing is chosen with it.
    t = time.perf_counter()
    metrics = {"probe": {"val": probe_val["metrics"], "test": None}, "finetune": None}
    logits = {"val": (ft_val if selected == "finetune" else probe_val)["logits"]}
    if ft_val is not None:
        metrics["finetune"] = {"val": ft_val["metrics"], "test": None}
        if "test" in splits:
            test_u8 = _images(ds, "test", keep, preprocess, cache_dir, progress)
            logits["test"] = _logits(model, test_u8, preprocess, execution)
            metrics["finetune"]["test"] = _scores(task, logits["test"], y["test"])["metrics"]
    if selected == "probe" and trainer is not None:
        model.load_state_dict(pretrained)  # the backbone the probe was fitted on + probe head
    model.eval()
    if "test" in splits:
        # The probe's test logits through the model's head when it is the exported model, so
        # predictions/test.npz is exactly what the artifact predicts.
        probe_test = (
            head_logits(model, X["test"])
            if selected == "probe"
            else probe.decision_function(X["test"])
        )
        metrics["probe"]["test"] = _scores(task, probe_test, y["test"])["metrics"]
        if selected == "probe":
            logits["test"] = probe_test
    timings["evaluate"] = time.perf_counter() - t

    # 9. Predictions, artifact, summary, findings, report.
    from graftlab.artifacts import save_artifact

    for split, lg in logits.items():
        probs = task.probs(torch.from_numpy(lg)).numpy().astype(np.float32)
        paths = np.array([p for p, k in zip(ds.paths(split), keep[split], strict=True) if k])
        (run / "predictions").mkdir(exist_ok=True)
        _save_npz(run / "predictions" / f"{split}.npz", probs=probs, labels=y[split], paths=paths)
    save_artifact(
        run / "model",
        model,
        task=task,
        classes=ds.classes,
        preprocess=preprocess,
        extra={
            "execution": _execution_dict(execution, preprocess.input_size),
            "selected": selected,
        },
    )
    timings["total"] = time.perf_counter() - t_start
    summary = {
        **metrics,
        "selected": selected,
        "reason": reason,
        "monitor": task.monitor,
        "task": task.kind,
        "classes": list(ds.classes),
        "strategy": config.strategy,
        "backbone": getattr(model, "graftlab_name", config.backbone),
        "weights": dict(getattr(model, "graftlab_weights", {}) or {}),
        "execution": _execution_dict(execution, preprocess.input_size),
        "train_execution": (
            _execution_dict(train_execution, preprocess.input_size) if trainer is not None else None
        ),
        "probe_path": probe.path_,
        "probe_weight_decay": probe.weight_decay_,
        "features_cached": cached,
        "skipped_images": {s: int((~keep[s]).sum()) for s in splits},
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "run_dir": str(run),
    }
    write_json(run / "summary.json", summary)
    write_json(
        run / "findings.json", [f.to_dict() if hasattr(f, "to_dict") else f for f in findings]
    )
    if report:
        _build_report(run)
    result = TrainResult(
        run, summary, model, task, list(ds.classes), preprocess, execution, probe, trainer
    )
    if verbose:
        print_summary(summary)
    return result


def resume_training(run_dir: str | os.PathLike, **kwargs: Any) -> TrainResult:
    """Continue an interrupted run from ``RUN/weights/last.pt`` with its saved config and data."""
    run = Path(run_dir)
    if not (run / "config.json").is_file() or not (run / "manifest.csv").is_file():
        raise ConfigError(
            f"{run} is not a graftlab run directory (no config.json / manifest.csv). "
            "Pass the folder printed by `graftlab train`, e.g. runs/train/exp."
        )
    import json

    from graftlab.data import Dataset

    config = TrainConfig.from_dict(json.loads((run / "config.json").read_text()))
    dataset = Dataset.load_manifest(run / "manifest.csv")
    has_checkpoint = (run / "weights" / "last.pt").is_file()
    if not has_checkpoint:
        logger.warning("%s has no weights/last.pt; training again from the start.", run)
    return run_training(dataset, config, run_dir=run, resume=has_checkpoint, **kwargs)


def resolve_execution(
    model: torch.nn.Module,
    config: TrainConfig,
    image_size: int,
    cache_root: str | os.PathLike | None = None,
    *,
    train: bool = False,
) -> Execution:
    """Device, autocast dtype and memory format: as configured, the rest measured once.

    ``train=True`` measures training steps instead of inference passes: the two can disagree
    (see :mod:`graftlab.hardware`), so fine-tuning and feature extraction each get their own.

    A measurement on a busy machine can flip between two close candidates from one run to the
    next; since precision is part of the feature-cache key, a flip would rebuild every
    feature. So the measured choice is kept in ``<cache>/execution/`` per machine, model,
    input size and thread count, and reused (``graftlab cache clear --kind execution``
    measures again).
    """
    import json
    import platform

    from graftlab._paths import cache_dir

    override: dict[str, Any] = {}
    if config.precision != "auto":
        override["dtype"] = config.precision
    if config.channels_last != "auto":
        override["channels_last"] = bool(config.channels_last)
    if len(override) == 2:
        return choose_execution(
            model, image_size, device=config.device, override=override, train=train
        )
    device = "cuda" if config.device == "auto" and torch.cuda.is_available() else config.device
    key = stable_hash(
        {
            "model": getattr(model, "graftlab_name", type(model).__name__),
            "size": image_size,
            "device": device,
            "override": override,
            "train": train,
            "machine": [platform.machine(), platform.processor(), os.cpu_count()],
            "threads": torch.get_num_threads(),
            "torch": torch.__version__,
        }
    )[:24]
    path = cache_dir(cache_root) / "execution" / f"{key}.json"
    try:
        saved = json.loads(path.read_text())
        return Execution(**{k: saved[k] for k in ("device", "dtype", "channels_last", "reason")})
    except (OSError, ValueError, KeyError, TypeError):
        pass
    chosen = choose_execution(
        model,
        image_size,
        device=config.device,
        batch_size=config.batch_size,
        override=override or None,
        train=train,
    )
    write_json(path, chosen.to_dict())
    return chosen


# -- steps --------------------------------------------------------------------------------
def _label_smoothing(config: TrainConfig, ds: Any) -> float:
    """The configured smoothing; by default 0.1 for softmax tasks and none for multi-label."""
    if config.label_smoothing is not None:
        return float(config.label_smoothing)
    return 0.0 if ds.task == "multilabel" else 0.1


def _load_data(data: Any, config: TrainConfig, *, strict: bool, progress: bool) -> Any:
    from graftlab.data import Dataset, load_dataset

    if isinstance(data, Dataset):
        ds = data
    else:
        ds = load_dataset(
            data,
            val_fraction=config.val_fraction,
            test_fraction=config.test_fraction,
            seed=config.seed,
            strict=strict,
            progress=progress,
        )
    for split in ("train", "val"):
        if split not in ds.splits:
            raise DataError(
                f"The data has no {split!r} split ({ds.source}). Training needs images to learn "
                f"from and a validation split to choose the model; give a {split}/ folder or "
                f"set val_fraction > 0."
            )
    return ds


def _preflight(ds: Any, config: TrainConfig, run: Path) -> list:
    try:
        from graftlab.doctor.preflight import run_preflight
    except ImportError:
        return []
    findings = list(run_preflight(ds, config))
    write_json(run / "findings.json", [f.to_dict() for f in findings])
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        first = errors[0]
        cls = DataError if first.category in _DATA_CATEGORIES else ConfigError
        more = f" ({len(errors) - 1} more in {run / 'findings.json'})" if len(errors) > 1 else ""
        raise cls(f"[{first.code}] {first.title}: {first.evidence}. Fix: {first.fix}{more}")
    for f in findings:
        logger.warning("[%s] %s: %s", f.code, f.title, f.fix)
    return findings


def _images(ds, split, keep, preprocess, cache_dir, progress) -> np.ndarray:
    """Decoded uint8 squares (N, S, S, 3) of a split's usable images, from the image cache."""
    from graftlab.data.image_cache import ImageCache

    u8, _ = ImageCache(cache_dir).get(ds.paths(split), ds.hashes(split), preprocess, progress)
    return u8 if keep[split].all() else u8[keep[split]]


def _near_duplicates(X: dict, ds: Any, keep: dict, *, strict: bool) -> list:
    """Val/test images nearly identical to a training image in feature space (doctor check).

    Hash checks in preflight catch exact copies; this catches re-encoded or resized ones.
    Similarity is a heuristic, so its findings stop the run only with ``strict``.
    """
    try:
        from graftlab.doctor.preflight import near_duplicates
    except ImportError:
        return []
    paths = {s: [p for p, k in zip(ds.paths(s), keep[s], strict=True) if k] for s in X}
    findings = list(near_duplicates(X, paths_by_split=paths))
    for f in findings:
        if strict and f.severity == "error":
            raise DataError(f"[{f.code}] {f.title}: {f.evidence}. Fix: {f.fix}")
        logger.warning("[%s] %s: %s", f.code, f.title, f.evidence)
    return findings


def _fine_tune(
    model,
    task,
    strategy,
    preprocess,
    images,
    y,
    config,
    execution,
    run,
    *,
    callbacks,
    resume,
    progress,
    cache_dir=None,
):
    from graftlab.finetune.callbacks import ProgressBar, default_callbacks
    from graftlab.finetune.trainer import Trainer

    trainer_config = dataclasses.replace(
        config,
        device=execution.device,
        precision=execution.dtype,
        channels_last=execution.channels_last,
    )
    cbs = default_callbacks(run, trainer_config) + _monitors() + list(callbacks)
    if not progress:
        cbs = [cb for cb in cbs if not isinstance(cb, ProgressBar)]
    last = run / "weights" / "last.pt"
    trainer = Trainer(
        model,
        task,
        strategy,
        preprocess,
        train=(images["train"], y["train"]),
        val=(images["val"], y["val"]),
        config=trainer_config,
        run_dir=run,
        callbacks=cbs,
        resume_from=last if resume and last.is_file() else None,
        cache_dir=cache_dir,
    )
    return trainer.fit()


def _monitors() -> list:
    try:
        from graftlab.doctor.monitors import default_monitors
    except ImportError:
        return []
    return list(default_monitors())


def _logits(model, u8: np.ndarray, preprocess, execution) -> np.ndarray:
    """Logits of ``model``: pooled features under ``execution``, the head in fp32."""
    feats = extract_features(model, u8, preprocess, execution=execution, progress=False)
    return head_logits(model, feats)


def _scores(task: Task, logits: np.ndarray, y: np.ndarray) -> dict:
    lg = torch.from_numpy(np.asarray(logits, dtype=np.float32))
    return {
        "logits": lg.numpy(),
        "loss": float(task.loss(lg, torch.from_numpy(np.asarray(y)))),
        "metrics": task.metrics(task.probs(lg).numpy(), y),
    }


def _select(task, strategy, config, probe_val, ft_val, trainer) -> tuple[str, str]:
    """Pick the model on validation; explain a fallback to the probe."""
    m = task.monitor
    if ft_val is None:
        return "probe", (
            f"strategy {config.strategy!r} trains only the head: the linear probe is the model."
        )
    p, f = probe_val["metrics"][m], ft_val["metrics"][m]
    if f > p:
        return "finetune", f"fine-tuning improved val {m} from {p:.4f} (probe) to {f:.4f}."
    if f == p and ft_val["loss"] <= probe_val["loss"]:
        return "finetune", (
            f"fine-tuning matched the probe's val {m} ({p:.4f}) with a lower val loss "
            f"({ft_val['loss']:.4f} vs {probe_val['loss']:.4f})."
        )
    if f < p:
        worse = f"val {m} {f:.4f} vs {p:.4f}"
    else:
        worse = (
            f"the same val {m} {f:.4f} but a higher val loss, {ft_val['loss']:.4f} vs "
            f"{probe_val['loss']:.4f}"
        )
    return "probe", (
        f"Fine-tuning ended worse on validation than the linear probe it started from "
        f"({worse}), so the exported model is the probe (pretrained backbone + probe head). "
        f"Likely cause: {_likely_cause(task, strategy, config, trainer, p)}"
    )


def _likely_cause(task, strategy, config, trainer, probe_metric: float) -> str:
    history = trainer.history_ if trainer is not None else []
    m = f"val_{task.monitor}"
    if not history:
        return "no epoch finished; check the training log."
    first = history[0].get(m, float("nan"))
    last = history[-1]
    if not np.isfinite(last.get("train_loss", np.nan)):
        return (
            f"the loss diverged (lr {config.lr:g} too high for this model); "
            f"retry with --lr {config.lr / 10:g}."
        )
    if strategy.init_head == "random":
        return (
            "the head started at random (strategy 'full'): its large early gradients "
            "distort the pretrained features; use --strategy lp-ft."
        )
    fewer = (
        "--unfreeze 1" if config.strategy == "top-k" and config.unfreeze > 1 else "--strategy top-k"
    )
    if first < probe_metric - 0.01:
        alternative = "" if config.strategy == "top-k" else f" or {fewer}"
        return (
            f"the first epoch already lost {100 * (probe_metric - first):.1f} points: the "
            f"learning rate {config.lr:g} is likely too high for the pretrained layers; "
            f"retry with --lr {config.lr / 3:.1g}{alternative}."
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


# -- files --------------------------------------------------------------------------------
def _write_probe_row(path: Path, task, probe, X, y, val: dict, seconds: float) -> None:
    """The probe's row in results.csv (``phase=probe``, epoch 0); other phases' rows are kept."""
    import csv
    import io

    from graftlab._io import write_text
    from graftlab.finetune.callbacks import CSV_COLUMNS

    train = _scores(task, probe.decision_function(X["train"]), y["train"])
    acc = "accuracy" if task.kind != "multilabel" else "exact_match"
    row = {
        "phase": "probe",
        "epoch": 0,
        "lr": "",
        "train_loss": train["loss"],
        "train_accuracy": train["metrics"][acc],
        "val_loss": val["loss"],
        "val_accuracy": val["metrics"][acc],
        "val_balanced_accuracy": val["metrics"].get("balanced_accuracy", ""),
        "val_macro_f1": val["metrics"]["macro_f1"],
        "seconds": seconds,
        "images_per_second": len(X["train"]) / max(seconds, 1e-9),
        "data_wait": 0.0,
    }
    kept = []
    if path.exists():
        with open(path, newline="") as fh:
            kept = [r for r in csv.DictReader(fh) if r.get("phase") != "probe"]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    fmt = {k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()}
    writer.writerows([fmt, *kept])
    write_text(path, buf.getvalue())


def _save_npz(path: Path, **arrays: np.ndarray) -> None:
    from graftlab._io import atomic_path

    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **arrays)


def _execution_dict(execution: Execution, input_size: int) -> dict:
    return {
        "device": execution.device,
        "precision": execution.dtype,
        "channels_last": execution.channels_last,
        "batch_size": auto_batch_size(input_size, execution.device),
    }


def _build_report(run: Path) -> None:
    try:
        from graftlab.report import build_report
    except ImportError:
        return
    build_report(run)


def print_summary(summary: dict) -> None:
    """The final table: probe and fine-tune metrics side by side, the choice, the run dir."""
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=False)
    probe, ft = summary["probe"], summary.get("finetune") or {}
    metrics = [k for k, v in probe["val"].items() if isinstance(v, float)]
    table = Table(title=f"{summary['backbone']} · {summary['strategy']} · {summary['task']}")
    table.add_column("metric")
    columns = [("probe", "val"), ("probe", "test"), ("finetune", "val"), ("finetune", "test")]
    shown = [(ph, sp) for ph, sp in columns if (summary.get(ph) or {}).get(sp)]
    for ph, sp in shown:
        table.add_column(
            f"{ph} {sp}", justify="right", style="bold" if ph == summary["selected"] else None
        )
    for metric in metrics:
        table.add_row(metric, *[f"{summary[ph][sp][metric]:.4f}" for ph, sp in shown])
    console.print(table)
    colour = "green" if summary["selected"] == "finetune" or not ft else "yellow"
    console.print(f"[{colour}]selected: {summary['selected']}[/] - {summary['reason']}")
    t = summary["timings"]
    cached = ", ".join(
        f"{s}{' (cached)' if c else ''}" for s, c in summary["features_cached"].items()
    )
    console.print(f"features: {cached}; total {t['total']:.1f} s")
    console.print(
        f"run directory: [bold]{summary['run_dir']}[/]  (model in {summary['run_dir']}/model)"
    )
