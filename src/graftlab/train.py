"""A training run, data to run directory, the same for ``graftlab train`` and the Python API.

This module sits above every package it strings together (data, doctor, backbones, features,
finetune, artifacts, report), so none of them needs to import another upwards. Each step is
a function that returns a small dataclass, in the order :func:`run_training` calls them:

1. :func:`load_data`: the data (or a Dataset), its manifest, classes and summary in the run.
2. :func:`preflight`: the doctor's checks; an error stops the run with its fix.
3. :func:`build_model`: backbone, the one Preprocess every phase uses (the image-size
   override is stored once: features, fine-tuning, evaluation, the artifact), execution.
4. :func:`compute_features`: features of every split (decoded once into the image cache,
   pooled features cached), near-duplicates across splits.
5. :func:`fit_probe`: LinearProbe on the train features, L2 chosen on val; a ``probe`` row in
   results.csv.
6. :func:`fine_tune`: when the strategy trains the backbone, the head from the probe (LP-FT)
   or random (full), then ``Trainer.fit``.
   :func:`interpolate`: the weights halfway between the probe's model and the fine-tuned
   one (WiSE-FT), a third candidate, scored on val.
7. :func:`select_model`: on validation only, paired image by image. Fine-tuning never returns
   a model worse on validation than the probe it started from; if it ends worse, the summary
   says so and why (:func:`graftlab.doctor.advice.likely_cause`) and the probe is the model.
8. :func:`score_test`: the test split, once, at the end, for reporting only.
9. :func:`write_run`: predictions/, model/ (the artifact), summary.json, findings.json, and
   the report.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import json
import logging
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.console import Console
from rich.table import Table

from graftlab import distributed
from graftlab._io import atomic_path, write_json, write_text
from graftlab._paths import cache_dir as cache_root
from graftlab._paths import finish_run_dir, new_run_dir, undo_run_dir
from graftlab.artifacts import save_artifact
from graftlab.backbones import create_backbone
from graftlab.data import Dataset, load_dataset
from graftlab.data.image_cache import ImageCache
from graftlab.data.transforms import Preprocess
from graftlab.doctor.advice import likely_cause
from graftlab.doctor.monitors import default_monitors
from graftlab.doctor.preflight import near_duplicates, run_preflight
from graftlab.errors import ConfigError, DataError
from graftlab.features import (
    dataset_features,
    extract_features,
    head_logits,
    weights_fingerprint,
)
from graftlab.finetune import bn_policy, budget
from graftlab.finetune import selection as noise
from graftlab.finetune.budget import Decision
from graftlab.finetune.callbacks import CSV_COLUMNS, default_callbacks
from graftlab.finetune.config import TrainConfig
from graftlab.finetune.imbalance import binary_curves, class_weight_decision, per_class_recall
from graftlab.finetune.probe import LinearProbe
from graftlab.finetune.strategies import Strategy, strategy_from_config
from graftlab.finetune.task import Task, imbalance_ratio
from graftlab.finetune.trainer import Trainer, load_checkpoint
from graftlab.hardware import Execution, auto_batch_size, decide_execution

logger = logging.getLogger("graftlab.train")

#: The fine-tuned model's weight in the interpolated candidate (``interpolate="auto"``, which
#: adds it only when validation is small: selection.small_validation): the midpoint, WiSE-FT's
#: default. Derived on small-validation dev runs only; on Fashion-MNIST 5k (751 validation
#: images, reported draw 1) it was exported and lost 1.8 pt to the fine-tuned model, so
#: larger validation splits keep the two-way choice. On 7 dev runs of
#: benchmarks/data_shapes.py (binary-coat and binary-shirt draws 101-103, fmnist7x50 draw
#: 101) the midpoint's test metric was the
#: probe's +3.9 pt on average and +0.9 in the worst run, against +2.3 and -1.5 for the
#: two-way choice; 0.25 gave +3.4 (worst +0.7), 0.75 +3.7 (worst +0.6). That was before the
#: weight average (``ema``); with it the averaged end wins ties (_select_with_interpolation).
INTERPOLATE_ALPHA = 0.5
_DATA_CATEGORIES = {"data-leakage", "label-order-mismatch", "trivial-accuracy", "no-shuffle"}
_SPLITS = ("train", "val", "test")


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
    trainer: Trainer | None = None


# -- step results ---------------------------------------------------------------------------
@dataclass
class RunData:
    """Step 1: the dataset and the task its labels define."""

    dataset: Dataset
    task: Task
    seconds: float
    decisions: list[Decision] = field(default_factory=list)


@dataclass
class BuiltModel:
    """Step 3: the backbone, its preprocessing, the strategy and the inference execution."""

    model: torch.nn.Module
    preprocess: Preprocess
    strategy: Strategy
    execution: Execution
    seconds: float


@dataclass
class SplitFeatures:
    """Step 4: pooled features of the usable images of each split, and their labels.

    Attributes:
        X, y: Features and labels of the decodable images, per split.
        keep: Per split, which images of the dataset decoded (the others take no part).
        cached: Per split, whether the features came from the cache.
        seconds: Per split, wall time.
        findings: Near-duplicate findings across splits.
    """

    X: dict[str, np.ndarray]
    y: dict[str, np.ndarray]
    keep: dict[str, np.ndarray]
    cached: dict[str, bool]
    seconds: dict[str, float]
    findings: list = field(default_factory=list)


@dataclass
class Scores:
    """Logits of a model on a split, with the task's loss and metrics."""

    logits: np.ndarray
    loss: float
    metrics: dict


@dataclass
class ProbeStep:
    """Step 5: the fitted probe (its head is now the model's) and its validation scores."""

    probe: LinearProbe
    val: Scores
    seconds: float
    cv: int | None = None


@dataclass
class FineTuneStep:
    """Step 6: the finished Trainer, its validation scores and the backbone before it."""

    trainer: Trainer
    val: Scores
    execution: Execution
    pretrained: dict[str, torch.Tensor]
    seconds: float
    config: TrainConfig | None = None
    bn_seconds: float = 0.0
    y_val: np.ndarray | None = None


@dataclass
class Interpolation:
    """Step 6b: the weights ``(1 - alpha) * probe model + alpha * fine-tuned model`` (WiSE-FT)
    and their validation scores."""

    alpha: float
    state: dict[str, torch.Tensor]
    val: Scores
    seconds: float


@dataclass
class Selection:
    """Step 7: ``"probe"``, ``"finetune"`` or ``"interpolated"``, and why."""

    selected: str
    reason: str
    comparison: noise.Comparison | None = None


@dataclass
class TestStep:
    """Step 8: validation and test metrics of the candidates, the selected model's logits."""

    metrics: dict
    logits: dict[str, np.ndarray]
    seconds: float


class StepClock:
    """CPU seconds of the run's steps (``summary.json`` ``cpu_seconds``) beside their wall time.

    CPU counts every thread of this process and its finished child processes (the image
    decoders): on a shared machine it is the steadier figure, where wall time measures the
    other jobs as much as the run.
    """

    def __init__(self) -> None:
        self.start = cpu_seconds()
        self.cpu: dict[str, float] = {}
        self.wall: dict[str, float] = {}

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        t, c = time.perf_counter(), cpu_seconds()
        try:
            yield
        finally:
            self.wall[name] = time.perf_counter() - t
            self.cpu[name] = cpu_seconds() - c


def cpu_seconds() -> float:
    """User + system seconds of this process and of its children that have ended."""
    try:
        import resource
    except ImportError:  # not a Unix: this process alone
        return time.process_time()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


# -- the run --------------------------------------------------------------------------------
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
    recorded_execution: dict | None = None,
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
        recorded_execution: A run's ``execution.json``: precision, memory format, batch
            sizes and threads to use again where the config says ``"auto"``.
    """
    t_start = time.perf_counter()
    config = (config or TrainConfig()).validate()
    existed = run_dir is not None and Path(run_dir).exists()
    with distributed.session(config.device):
        run = distributed.on_main(lambda: _make_run_dir(run_dir, project, name))
        try:
            result = _run_training(
                data,
                config,
                t_start=t_start,
                run=run,
                callbacks=callbacks,
                cache_dir=cache_dir,
                strict=strict,
                resume=resume,
                progress=progress and distributed.is_main(),
                verbose=verbose and distributed.is_main(),
                report=report,
                recorded_execution=recorded_execution,
            )
        except BaseException as exc:
            # A run that failed before its first checkpoint leaves no expN behind; one with a
            # checkpoint is kept for --resume, marked FAILED. A given directory is never removed.
            if distributed.is_main():
                undo_run_dir(run, exc, existed=existed, keep_if=("weights/last.pt",))
            raise
        if distributed.is_main():
            finish_run_dir(run)
        return result


def _make_run_dir(run_dir: Any, project: Any, name: str | None) -> Path:
    """The run directory (rank 0 picks and creates it; the other ranks are told its path)."""
    run = Path(run_dir) if run_dir is not None else new_run_dir(project, "train", name)
    run.mkdir(parents=True, exist_ok=True)
    return run


def _run_training(
    data: Any,
    config: TrainConfig,
    *,
    t_start: float,
    run: Path,
    callbacks: Sequence[Any],
    cache_dir: str | os.PathLike | None,
    strict: bool,
    resume: bool,
    progress: bool,
    verbose: bool,
    report: bool,
    recorded_execution: dict | None,
) -> TrainResult:
    """:func:`run_training` on every rank of a distributed run (or the one process)."""
    distributed.check_shared({"run directory": run, "cache": cache_root(cache_dir)})
    torch.manual_seed(config.seed)
    clock = StepClock()

    with clock.step("data"):
        data_step = load_data(data, config, run, strict=strict, progress=progress)
    config = plan_training(config, data_step)
    with clock.step("preflight"):
        findings = preflight(data_step.dataset, config, run)
    with clock.step("backbone"):
        built = build_model(config, run, recorded_execution)
    feats = compute_features(
        built, data_step.dataset, cache_dir, strict=strict, progress=progress, clock=clock
    )
    findings += feats.findings
    with clock.step("probe"):
        probe = fit_probe(built, data_step.task, feats, run)
    if probe.cv:
        data_step.decisions.append(
            Decision(
                "probe L2",
                "chosen on val",
                f"{probe.cv}-fold CV over train + val",
                f"{len(feats.y['val'])} validation images, fewer than "
                f"{noise.SMALL_VAL_IMAGES} or fewer than {noise.SMALL_VAL_PER_CLASS} in a "
                f"class: weight_decay {probe.probe.weight_decay_:g} by out-of-fold log loss; "
                "val still judges the probe",
            )
        )
    ft = None
    if built.strategy.trains_backbone:
        with clock.step("finetune"):
            ft = fine_tune(
                built,
                data_step,
                feats,
                config,
                run,
                callbacks=callbacks,
                resume=resume,
                progress=progress,
                cache_dir=cache_dir,
                recorded=recorded_execution,
            )
        findings += list(ft.trainer.findings)
    mid = None
    if ft is not None:
        with clock.step("interpolate"):
            mid = interpolate(built, data_step, feats, ft, config, cache_dir)
    selection = select_model(
        data_step.task,
        built.strategy,
        ft.config if ft is not None else config,
        probe.val,
        ft,
        mid,
        imbalance=imbalance_ratio(feats.y["train"], data_step.task.num_outputs)
        if data_step.task.kind != "multilabel"
        else 1.0,
    )
    with clock.step("evaluate"):
        test = score_test(built, data_step, feats, probe, ft, mid, selection, cache_dir, progress)

    timings = {"data": data_step.seconds, "backbone": built.seconds}
    timings.update({f"features_{s}": t for s, t in feats.seconds.items()})
    timings["near_duplicates"] = clock.wall["near_duplicates"]
    timings["probe"] = probe.seconds
    if ft is not None:
        timings["finetune"] = ft.seconds
        if ft.bn_seconds:
            timings["bn_measure"] = ft.bn_seconds
    if mid is not None:
        timings["interpolate"] = mid.seconds
    timings["evaluate"] = test.seconds
    summary = distributed.on_main(
        lambda: write_run(
            run,
            config,
            data_step,
            built,
            feats,
            probe,
            ft,
            mid,
            selection,
            test,
            findings,
            timings,
            t_start=t_start,
            report=report,
            clock=clock,
        )
    )
    result = TrainResult(
        run,
        summary,
        built.model,
        data_step.task,
        list(data_step.dataset.classes),
        built.preprocess,
        built.execution,
        probe.probe,
        ft.trainer if ft is not None else None,
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
    has_checkpoint = (run / "weights" / "last.pt").is_file()
    if has_checkpoint:
        load_checkpoint(run / "weights" / "last.pt")  # refused here, not after the features
    else:
        logger.warning("%s has no weights/last.pt; training again from the start.", run)
    config = TrainConfig.from_dict(json.loads((run / "config.json").read_text()))
    dataset = Dataset.load_manifest(run / "manifest.csv")
    recorded = read_execution_record(run)
    return run_training(
        dataset,
        config,
        run_dir=run,
        resume=has_checkpoint,
        recorded_execution=recorded,
        **kwargs,
    )


def read_execution_record(run: Path) -> dict | None:
    """A run's ``execution.json`` (what it computed with), or None when it has none."""
    path = Path(run) / "execution.json"
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"Cannot read {path}: {exc}. Delete it to decide again.") from None
    return record if isinstance(record, dict) else None


# -- 1-3: data, preflight, model ------------------------------------------------------------
def load_data(
    data: Any, config: TrainConfig, run: Path, *, strict: bool, progress: bool
) -> RunData:
    """The dataset (loaded and split, or as given) and its task; saved with the run so it can
    be repeated on exactly these images."""
    t = time.perf_counter()
    ds = distributed.on_main(lambda: _dataset(data, config, run, strict=strict, progress=progress))
    task = Task.from_dataset(
        ds, class_weights=config.class_weights, label_smoothing=label_smoothing(config, ds)
    )
    sizes = ", ".join(f"{len(ds.paths(sp))} {sp}" for sp in ds.splits)
    logger.info(
        "data: %s, %d classes, %s task; run directory %s", sizes, len(ds.classes), task.kind, run
    )
    return RunData(ds, task, time.perf_counter() - t)


def _dataset(data: Any, config: TrainConfig, run: Path, *, strict: bool, progress: bool) -> Dataset:
    """Load and check the data and save it with the run (rank 0 of a distributed run: the
    others receive the Dataset, so files are scanned and hashed once)."""
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
    ds.save_manifest(run / "manifest.csv")
    write_json(run / "dataset.json", ds.summary())
    write_json(run / "config.json", config.to_dict())
    return ds


def plan_training(config: TrainConfig, data: RunData) -> TrainConfig:
    """The config with every option left to ``"auto"`` that the data decide now (epochs,
    augmentation, patience, warm-up) resolved; the class-weight and budget decisions, with
    their reasons, go to ``data.decisions`` (summary.json, the printed summary, the log)."""
    ds, task = data.dataset, data.task
    if task.kind != "multilabel":
        decided = class_weight_decision(task, ds.labels("train"), config.class_weights)
        if decided is not None:
            data.decisions.append(decided)
    small_val = noise.small_validation(ds.labels("val"), task.kind)
    config, planned = budget.plan(config, len(ds.paths("train")), small_val=small_val)
    data.decisions += planned
    for d in data.decisions:
        logger.info("%s", d)
    return config


def label_smoothing(config: TrainConfig, ds: Any) -> float:
    """The configured smoothing; by default 0.1 for softmax tasks and none for multi-label."""
    if config.label_smoothing is not None:
        return float(config.label_smoothing)
    return 0.0 if ds.task == "multilabel" else 0.1


def preflight(ds: Dataset, config: TrainConfig, run: Path) -> list:
    """The doctor's checks before training; the first error stops the run with its fix."""
    return distributed.on_main(lambda: _preflight(ds, config, run))


def _preflight(ds: Dataset, config: TrainConfig, run: Path) -> list:
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


def build_model(config: TrainConfig, run: Path, recorded: dict | None = None) -> BuiltModel:
    """The strategy, the backbone, the one Preprocess every phase uses, and the execution
    (``recorded``: the run's execution.json, whose choices a resumed or repeated run keeps)."""
    t = time.perf_counter()
    strategy = strategy_from_config(config)
    with distributed.main_first():  # weights fetched once into a shared cache
        model = create_backbone(config.backbone, weights=config.weights)
    preprocess = Preprocess.from_model(model, image_size=config.image_size)
    if distributed.is_main():
        write_json(run / "preprocess.json", preprocess.to_dict())
    execution = resolve_execution(
        config, preprocess.input_size, recorded=(recorded or {}).get("features")
    )
    threads = pin_threads((recorded or {}).get("threads"))
    _record_execution(run, features=execution, threads=threads)
    seconds = time.perf_counter() - t
    source = (getattr(model, "graftlab_weights", None) or {}).get("source")
    logger.info(
        "backbone: %s (%s weights); preprocessing %s", config.backbone, source, preprocess.to_dict()
    )
    logger.info("execution: %s (%s)", execution.describe(), execution.reason)
    return BuiltModel(model, preprocess, strategy, execution, seconds)


def resolve_execution(
    config: TrainConfig,
    input_size: int,
    *,
    train: bool = False,
    recorded: dict | None = None,
) -> Execution:
    """Device, autocast dtype, memory format and batch size of a phase of the run.

    What the config sets is kept; what it leaves ``"auto"`` comes from ``recorded`` (the
    run's ``execution.json`` entry, when resuming or rerunning it), else from this machine's
    rule (:func:`graftlab.hardware.decide_execution`: no timing, so the same machine always
    trains the same way). A recorded choice that the rule would not make here is printed.
    Training records the training batch size; inference its own (``auto_batch_size``).
    """
    precision, channels_last = config.precision, config.channels_last
    if recorded is not None:
        before = Execution.from_dict(recorded)
        precision = before.dtype if precision == "auto" else precision
        channels_last = before.channels_last if channels_last == "auto" else channels_last
    ex = decide_execution(
        config.device, train=train, precision=precision, channels_last=channels_last
    )
    if recorded is not None:
        rule = decide_execution(
            config.device,
            train=train,
            precision=config.precision,
            channels_last=config.channels_last,
        )
        ex.reason = f"{ex.dtype}, channels_last {ex.channels_last}: as the run recorded"
        if (rule.dtype, rule.channels_last) != (ex.dtype, ex.channels_last):
            ex.reason += f"; this machine's rule would pick {rule.dtype} ({rule.reason})"
            logger.warning("%s execution: %s", "training" if train else "inference", ex.reason)
    if train:
        ex.batch_size = config.batch_size
    else:
        ex.batch_size = (recorded or {}).get("batch_size") or auto_batch_size(input_size, ex.device)
    return ex


def pin_threads(recorded: int | None) -> int:
    """Use the recorded number of intra-op threads (a float reduction's result depends on how
    it is split), printing a change; the number in use."""
    if recorded and recorded != torch.get_num_threads():
        logger.warning(
            "threads: %d as the run recorded (this process had %d)",
            recorded,
            torch.get_num_threads(),
        )
        torch.set_num_threads(int(recorded))
    return torch.get_num_threads()


def _record_execution(run: Path, **entries: Any) -> None:
    """Add phases (``features``, ``train``: Execution) and ``threads`` to execution.json
    (rank 0; a distributed run also records its world, for the report and a resume)."""
    if not distributed.is_main():
        return
    here = distributed.world()
    if here.size > 1:
        entries["world"] = here.to_dict()
    path = run / "execution.json"
    record = json.loads(path.read_text()) if path.is_file() else {}
    for key, value in entries.items():
        record[key] = value.to_dict() if isinstance(value, Execution) else value
    write_json(path, record)


# -- 4-6: features, probe, fine-tuning -------------------------------------------------------
def compute_features(
    built: BuiltModel,
    ds: Dataset,
    cache_dir: str | os.PathLike | None,
    *,
    strict: bool,
    progress: bool,
    clock: StepClock | None = None,
) -> SplitFeatures:
    """Features of every split, from the cache when nothing they depend on changed."""
    clock = clock or StepClock()
    fingerprint = weights_fingerprint(built.model)
    splits = [s for s in _SPLITS if s in ds.splits]
    X, y, keep, cached, seconds = {}, {}, {}, {}, {}
    for split in splits:
        with clock.step(f"features_{split}"):
            f = dataset_features(
                built.model,
                built.preprocess,
                ds.paths(split),
                ds.hashes(split),
                execution=built.execution,
                cache_root=cache_dir,
                progress=progress,
                desc=f"features {split}",
                weights=fingerprint,
                distributed=True,
            )
        keep[split], cached[split], seconds[split] = f.ok, f.cached, f.seconds
        X[split] = f.features[f.ok]  # undecodable images take no part
        y[split] = ds.labels(split)[f.ok]
        how = "from the cache" if f.cached else f"{len(f.ok) / max(f.seconds, 1e-9):.0f} img/s"
        logger.info("features %s: %s, %s in %.1f s", split, f.features.shape, how, f.seconds)
    feats = SplitFeatures(X, y, keep, cached, seconds)
    with clock.step("near_duplicates"):
        feats.findings = _near_duplicates(feats, ds, strict=strict)
    return feats


def _near_duplicates(feats: SplitFeatures, ds: Dataset, *, strict: bool) -> list:
    """Val/test images nearly identical to a training image in feature space (doctor check).

    Hash checks in preflight catch exact copies; this catches re-encoded or resized ones.
    Similarity is a heuristic, so its findings stop the run only with ``strict``.
    """
    paths = {s: _kept_paths(ds, s, feats.keep) for s in feats.X}
    # Every rank holds the same features; rank 0 checks them and tells the others.
    findings = distributed.on_main(lambda: list(near_duplicates(feats.X, paths_by_split=paths)))
    for f in findings:
        if strict and f.severity == "error":
            raise DataError(f"[{f.code}] {f.title}: {f.evidence}. Fix: {f.fix}")
        logger.warning("[%s] %s: %s", f.code, f.title, f.evidence)
    return findings


def fit_probe(built: BuiltModel, task: Task, feats: SplitFeatures, run: Path) -> ProbeStep:
    """The head fitted on frozen features, L2 chosen on val; it becomes the model's head."""
    t = time.perf_counter()
    X, y = feats.X, feats.y
    cv = noise.CV_FOLDS if noise.small_validation(y["val"], task.kind) else None
    # Fitted once, on rank 0; the other ranks receive the fitted probe.
    probe = distributed.on_main(
        lambda: LinearProbe(task).fit(X["train"], y["train"], val=(X["val"], y["val"]), cv=cv)
    )
    seconds = time.perf_counter() - t
    logger.info(
        "linear probe: weight_decay %g chosen on val from %d values in %.1f s",
        probe.weight_decay_,
        len(probe.path_),
        seconds,
    )
    built.model.reset_classifier(task.num_outputs)
    probe.init_classifier(built.model.get_classifier())
    val = scores(task, head_logits(built.model, X["val"]), y["val"])
    if distributed.is_main():
        _write_probe_row(run / "results.csv", task, probe, feats, val, seconds)
    return ProbeStep(probe, val, seconds, cv)


def fine_tune(
    built: BuiltModel,
    data: RunData,
    feats: SplitFeatures,
    config: TrainConfig,
    run: Path,
    *,
    callbacks: Sequence[Any] = (),
    resume: bool = False,
    progress: bool = True,
    cache_dir: str | os.PathLike | None = None,
    recorded: dict | None = None,
) -> FineTuneStep:
    """Train the backbone with the strategy, from the probe's head (or a random one)."""
    model, task, strategy = built.model, data.task, built.strategy
    pretrained = {k: v.detach().clone() for k, v in model.state_dict().items()}
    if strategy.init_head == "random":
        torch.manual_seed(config.seed)
        model.reset_classifier(task.num_outputs)
    t = time.perf_counter()
    images = {
        s: split_images(data.dataset, s, feats.keep, built.preprocess, cache_dir, progress)
        for s in ("train", "val")
    }
    execution = resolve_execution(
        config, built.preprocess.input_size, train=True, recorded=(recorded or {}).get("train")
    )
    bn_seconds = 0.0
    if config.bn == "auto":
        # Measured on the pretrained network, before any step changes it.
        tb = time.perf_counter()
        decided = distributed.on_main(
            lambda: bn_policy.decide(bn_policy.bn_shift(model, images["train"], built.preprocess))
        )
        bn_seconds = time.perf_counter() - tb
        data.decisions.append(decided)
        logger.info("%s", decided)
        config = dataclasses.replace(config, bn=decided.value)
        built.strategy = strategy = strategy_from_config(config)
    _record_execution(run, train=execution)
    here = distributed.world()
    if here.size > 1:
        rule = distributed.lr_rule(config.batch_size, config.lr, here)
        logger.info(
            "distributed fine-tuning: %d processes (%s), global batch %d = %d per rank x %d, "
            "lr %g as configured (%s)",
            here.size,
            here.backend,
            rule["global_batch"],
            rule["per_rank_batch"],
            here.size,
            config.lr,
            rule["rule"],
        )
    # Rank 0 writes weights/ and results.csv; the other ranks train without writing.
    standard = default_callbacks(run if here.is_main else None, config, progress=progress)
    cbs = standard + list(default_monitors()) + list(callbacks)
    last = run / "weights" / "last.pt"
    trainer = Trainer(
        model,
        task,
        strategy,
        built.preprocess,
        train=(images["train"], feats.y["train"]),
        val=(images["val"], feats.y["val"]),
        config=config,
        run_dir=run,
        callbacks=cbs,
        resume_from=last if resume and last.is_file() else None,
        cache_dir=cache_dir,
        execution=execution,
    ).fit()
    seconds = time.perf_counter() - t
    val = scores(task, model_logits(model, images["val"], built), feats.y["val"])
    return FineTuneStep(
        trainer, val, execution, pretrained, seconds, config, bn_seconds, feats.y["val"]
    )


def interpolation_alpha(config: TrainConfig, strategy: Any) -> float | None:
    """The fine-tuned model's weight in the interpolated candidate, or None for no candidate."""
    if config.interpolate is None or strategy.init_head != "probe":
        return None  # halfway between a random head and the probe's is no model
    return INTERPOLATE_ALPHA if config.interpolate == "auto" else float(config.interpolate)


def interpolate(
    built: BuiltModel,
    data: RunData,
    feats: SplitFeatures,
    ft: FineTuneStep,
    config: TrainConfig,
    cache_dir: str | os.PathLike | None,
) -> Interpolation | None:
    """The weights between the probe's model and the fine-tuned one, scored on validation.

    Fine-tuning from the probe's head moves the weights a short way from a model that is
    already good, and on a few hundred images the end of that way fits the training images'
    noise. The point halfway is one model of the same size (no ensemble at prediction time)
    that keeps what the fine-tuning learnt and the pretrained features it would distort (WiSE-FT,
    Wortsman et al. 2022). Leaves the fine-tuned weights in ``built.model``.
    """
    config = ft.config or config
    alpha = interpolation_alpha(config, built.strategy)
    if alpha is None or data.task.kind == "multilabel":  # no paired rule for mAP (yet)
        return None
    if config.interpolate == "auto":
        n_val = len(feats.y["val"])
        small = noise.small_validation(feats.y["val"], data.task.kind)
        data.decisions.append(
            Decision(
                "interpolate",
                "auto",
                f"{alpha:g}" if small else "none",
                f"{n_val} validation images, fewer than {noise.SMALL_VAL_IMAGES} or fewer than "
                f"{noise.SMALL_VAL_PER_CLASS} in a class: validation cannot tell the probe and "
                "the fine-tuned model apart, the weights halfway between them compete too"
                if small
                else f"{n_val} validation images tell the probe and the fine-tuned model apart: "
                "the two compete alone (the halfway weights cost 1.8 pt on Fashion-MNIST 5k)",
            )
        )
        logger.info("%s", data.decisions[-1])
        if not small:
            return None
    t = time.perf_counter()
    model = built.model
    tuned = {k: v.detach().clone() for k, v in model.state_dict().items()}
    state = mix_weights(ft.pretrained, tuned, alpha)
    model.load_state_dict(state)
    u8 = split_images(data.dataset, "val", feats.keep, built.preprocess, cache_dir, False)
    val = scores(data.task, model_logits(model, u8, built), feats.y["val"])
    model.load_state_dict(tuned)
    return Interpolation(alpha, state, val, time.perf_counter() - t)


def mix_weights(
    start: dict[str, torch.Tensor], end: dict[str, torch.Tensor], alpha: float
) -> dict[str, torch.Tensor]:
    """``(1 - alpha) * start + alpha * end`` for every floating tensor (weights, BatchNorm
    statistics); integer buffers (BatchNorm's step counters) are ``end``'s."""
    return {
        k: torch.lerp(start[k], v, alpha) if v.is_floating_point() else v.clone()
        for k, v in end.items()
    }


def split_images(ds, split, keep, preprocess, cache_dir, progress) -> np.ndarray:
    """Decoded uint8 squares (N, S, S, 3) of a split's usable images, from the image cache."""
    with distributed.main_first():  # a missing entry is decoded by rank 0 alone
        u8, _ = ImageCache(cache_dir).get(ds.paths(split), ds.hashes(split), preprocess, progress)
    return u8 if keep[split].all() else u8[keep[split]]


def model_logits(model: torch.nn.Module, u8: np.ndarray, built: BuiltModel) -> np.ndarray:
    """Logits of ``model``: pooled features under the run's execution, the head in fp32."""
    feats = extract_features(
        model, u8, built.preprocess, execution=built.execution, progress=False, distributed=True
    )
    return head_logits(model, feats)


def scores(task: Task, logits: np.ndarray, y: np.ndarray) -> Scores:
    """Logits as float32 with the task's loss and metrics on labels ``y``."""
    lg = torch.from_numpy(np.asarray(logits, dtype=np.float32))
    return Scores(
        lg.numpy(),
        float(task.loss(lg, torch.from_numpy(np.asarray(y)))),
        task.metrics(task.probs(lg).numpy(), y),
    )


# -- 7-8: selection and test -----------------------------------------------------------------
def select_model(
    task: Task,
    strategy: Any,
    config: TrainConfig,
    probe_val: Scores,
    ft: FineTuneStep | None,
    mid: Interpolation | None = None,
    *,
    imbalance: float = 1.0,
) -> Selection:
    """Pick the model on validation, image by image (:func:`graftlab.finetune.selection.compare`):
    the fine-tuned model where it beats the interpolated one beyond noise, else the interpolated
    one unless it is worse than the probe beyond noise; without an interpolated candidate,
    fine-tuning only where it is better than the probe beyond noise, a tie to the probe.
    Explain a fallback."""
    m = task.monitor
    if ft is None:
        return Selection(
            "probe",
            f"strategy {config.strategy!r} trains only the head: the linear probe is the model.",
        )
    if mid is not None and task.kind != "multilabel":
        averaged = (ft.config or config).ema is not None
        chosen = _select_with_interpolation(task, probe_val, ft, mid, averaged=averaged)
        if chosen is not None:
            return chosen
    if task.kind == "multilabel":  # no per-image correctness: the monitored mAP decides
        p, f = probe_val.metrics[m], ft.val.metrics[m]
        if f > p or (f == p and ft.val.loss <= probe_val.loss):
            return Selection("finetune", f"fine-tuning val {m} {f:.4f} vs the probe's {p:.4f}.")
        diff = None
    else:
        c = noise.compare(
            task.probs(torch.from_numpy(ft.val.logits)).numpy(),
            task.probs(torch.from_numpy(probe_val.logits)).numpy(),
            ft.y_val,
            m,
        )
        if c.winner == "finetune":
            return Selection("finetune", c.reason[0].upper() + c.reason[1:], c)
        diff = c.diff
        if diff >= 0:
            return Selection(
                "probe",
                f"Fine-tuning did not beat the linear probe beyond noise ({c.reason[:-1]}): a "
                "tie goes to the simpler model, so the exported model is the probe (pretrained "
                "backbone + probe head).",
                c,
            )
    cause = likely_cause(
        ft.trainer.history_,
        config,
        monitor=m,
        init_head=strategy.init_head,
        probe_metric=probe_val.metrics[m],
        imbalance=imbalance,
        num_classes=task.num_outputs,
    )
    worse = c.reason[:-1] if diff is not None else f"val {m} {ft.val.metrics[m]:.4f}"
    return Selection(
        "probe",
        f"Fine-tuning ended worse on validation than the linear probe it started from "
        f"({worse}), so the exported model is the probe (pretrained backbone + probe head). "
        f"Likely cause: {cause}",
        c if diff is not None else None,
    )


def _select_with_interpolation(
    task: Task, probe_val: Scores, ft: FineTuneStep, mid: Interpolation, *, averaged: bool
) -> Selection | None:
    """Fine-tuned vs interpolated, then interpolated vs probe; None when the interpolated
    model is worse than the probe beyond noise (the two-way rule then explains the fallback).

    ``averaged``: the fine-tuned model is the average of its steps (``ema``). Then a tie goes to
    it: it is exported unless validation shows it worse than the interpolated model or the
    probe beyond noise. On the dev draws of benchmarks/data_shapes.py (7 x 50, 10 x 20, both
    10:1 binary pairs, the far shape; session 17) the averaged end was above the halfway
    weights on test in most runs (README of benchmarks, "Session 17"), where the halfway
    weights had been chosen on every tie. The last step's weights (``--ema none``) must beat
    the halfway weights beyond noise, as before the average.
    """
    m = task.monitor

    def probs(s: Scores) -> np.ndarray:
        return task.probs(torch.from_numpy(s.logits)).numpy()

    end = noise.compare(probs(ft.val), probs(mid.val), ft.y_val, m)
    c = noise.compare(probs(ft.val), probs(probe_val), ft.y_val, m)
    vs_mid = end.reason.split(": ", 1)[1][:-1]
    if averaged and end.diff >= -noise.Z * end.se and c.diff >= -noise.Z * c.se:
        return Selection(
            "finetune",
            f"The fine-tuned model (the average of its steps) is not worse than the "
            f"interpolated one (alpha {mid.alpha:g}) beyond noise ({vs_mid}) nor than the "
            f"probe ({c.reason.split(': ', 1)[1][:-1]}): a tie goes to the fine-tuned average.",
            c,
        )
    if not averaged and end.diff > noise.Z * end.se and c.winner == "finetune":
        return Selection(
            "finetune",
            f"The fine-tuned model beats the interpolated one (alpha {mid.alpha:g}) beyond "
            f"noise ({vs_mid}) and the probe ({c.reason.split(': ', 1)[1]}",
            c,
        )
    c = noise.compare(probs(mid.val), probs(probe_val), ft.y_val, m)
    if c.diff < -noise.Z * c.se:
        return None
    ft_side = (
        "worse than them or the probe beyond noise"
        if averaged
        else "not better than them beyond noise"
    )
    return Selection(
        "interpolated",
        f"The weights halfway between the probe model and the fine-tuned model (alpha "
        f"{mid.alpha:g}) are not worse than the probe beyond noise and the fine-tuned model "
        f"is {ft_side} (vs the probe: {c.reason.split(': ', 1)[1]}), "
        "so the exported model is the interpolated one: it keeps the pretrained features that "
        "fine-tuning on few images distorts.",
        c,
    )


def score_test(
    built: BuiltModel,
    data: RunData,
    feats: SplitFeatures,
    probe: ProbeStep,
    ft: FineTuneStep | None,
    mid: Interpolation | None,
    selection: Selection,
    cache_dir: str | os.PathLike | None,
    progress: bool,
) -> TestStep:
    """The test split, once, for reporting; nothing is chosen with it. Leaves the selected
    model in ``built.model`` (eval mode)."""
    t = time.perf_counter()
    task, model, selected = data.task, built.model, selection.selected
    has_test = "test" in feats.X
    metrics: dict = {"probe": {"val": probe.val.metrics, "test": None}, "finetune": None}
    chosen = {"finetune": ft, "interpolated": mid}.get(selected) or probe
    logits = {"val": chosen.val.logits}
    if mid is not None:
        metrics["interpolated"] = {"val": mid.val.metrics, "test": None, "alpha": mid.alpha}
    if ft is not None:
        metrics["finetune"] = {"val": ft.val.metrics, "test": None}
        if has_test:
            test_u8 = split_images(
                data.dataset, "test", feats.keep, built.preprocess, cache_dir, progress
            )
            logits["test"] = model_logits(model, test_u8, built)
            metrics["finetune"]["test"] = scores(task, logits["test"], feats.y["test"]).metrics
            if selected == "interpolated":  # the exported model's own test figure
                model.load_state_dict(mid.state)
                logits["test"] = model_logits(model, test_u8, built)
                metrics["interpolated"]["test"] = scores(
                    task, logits["test"], feats.y["test"]
                ).metrics
    if selected == "interpolated":
        model.load_state_dict(mid.state)
    if selected == "probe" and ft is not None:
        model.load_state_dict(ft.pretrained)  # the backbone the probe was fitted on + probe head
    model.eval()
    if has_test:
        # The probe's test logits through the model's head when it is the exported model, so
        # predictions/test.npz is exactly what the artifact predicts.
        X_test = feats.X["test"]
        probe_test = (
            head_logits(model, X_test)
            if selected == "probe"
            else probe.probe.decision_function(X_test)
        )
        metrics["probe"]["test"] = scores(task, probe_test, feats.y["test"]).metrics
        if selected == "probe":
            logits["test"] = probe_test
    return TestStep(metrics, logits, time.perf_counter() - t)


# -- 9: the run's files ---------------------------------------------------------------------
def write_run(
    run: Path,
    config: TrainConfig,
    data: RunData,
    built: BuiltModel,
    feats: SplitFeatures,
    probe: ProbeStep,
    ft: FineTuneStep | None,
    mid: Interpolation | None,
    selection: Selection,
    test: TestStep,
    findings: list,
    timings: dict[str, float],
    *,
    t_start: float,
    report: bool = True,
    clock: StepClock | None = None,
) -> dict:
    """predictions/, model/ (the artifact), summary.json, findings.json, report; the summary."""
    ds, task, model = data.dataset, data.task, built.model
    input_size = built.preprocess.input_size
    (run / "predictions").mkdir(exist_ok=True)
    for split, lg in test.logits.items():
        probs = task.probs(torch.from_numpy(lg)).numpy().astype(np.float32)
        paths = np.array(_kept_paths(ds, split, feats.keep))
        _save_npz(
            run / "predictions" / f"{split}.npz", probs=probs, labels=feats.y[split], paths=paths
        )
    save_artifact(
        run / "model",
        model,
        task=task,
        classes=ds.classes,
        preprocess=built.preprocess,
        extra={
            "execution": execution_dict(built.execution, input_size),
            "selected": selection.selected,
        },
    )
    timings["total"] = time.perf_counter() - t_start
    cpu = dict(clock.cpu) if clock is not None else {}
    if clock is not None:
        cpu["total"] = cpu_seconds() - clock.start
    summary = {
        **test.metrics,
        "selected": selection.selected,
        "reason": selection.reason,
        "monitor": task.monitor,
        "task": task.kind,
        "classes": list(ds.classes),
        "strategy": config.strategy,
        "backbone": getattr(model, "graftlab_name", config.backbone),
        "weights": dict(getattr(model, "graftlab_weights", {}) or {}),
        "execution": execution_dict(built.execution, input_size),
        "train_execution": ft.execution.to_dict() if ft is not None else None,
        "threads": torch.get_num_threads(),
        "distributed": distributed.lr_rule(config.batch_size, config.lr),
        "decisions": [d.to_dict() for d in data.decisions],
        "comparison": selection.comparison.to_dict() if selection.comparison else None,
        "probe_cv": probe.probe.cv_,
        "probe_path": probe.probe.path_,
        "probe_weight_decay": probe.probe.weight_decay_,
        "features_cached": feats.cached,
        "skipped_images": {s: int((~k).sum()) for s, k in feats.keep.items()},
        "timings": {k: round(v, 3) for k, v in timings.items()},
        # CPU seconds of the same steps, all threads and the decoding processes (the steadier
        # figure on a shared machine); "total" from the start of the run to here
        "cpu_seconds": {k: round(v, 3) for k, v in cpu.items()},
        "run_dir": str(run),
    }
    summary.update(_reliability(task, list(ds.classes), test, feats))
    write_json(run / "summary.json", summary)
    write_json(
        run / "findings.json", [f.to_dict() if hasattr(f, "to_dict") else f for f in findings]
    )
    if report:
        from graftlab.report import build_report  # matplotlib: only when a report is built

        build_report(run)
    return summary


def _reliability(task: Task, classes: list[str], test: TestStep, feats: SplitFeatures) -> dict:
    """Per-class recall of the selected model (val, test), a 95% interval of its test figure,
    and for two classes the ROC and PR curves with the decision threshold."""
    if task.kind == "multilabel":
        return {}
    out: dict[str, Any] = {"per_class_recall": {}}
    for split, lg in test.logits.items():
        probs = task.probs(torch.from_numpy(lg)).numpy()
        out["per_class_recall"][split] = per_class_recall(probs, feats.y[split], classes)
        if split == "test":
            out["test_interval"] = noise.test_interval(probs, feats.y[split], task.monitor)
        if task.kind == "binary":
            out.setdefault("binary", {})[split] = binary_curves(probs, feats.y[split], classes)
    return out


def execution_dict(execution: Execution, input_size: int) -> dict:
    """The execution as the artifact and summary.json record it, batch size resolved."""
    batch = execution.inference_batch(input_size)
    return dataclasses.replace(execution, batch_size=batch).to_dict()


def _kept_paths(ds: Dataset, split: str, keep: dict[str, np.ndarray]) -> list[str]:
    return [p for p, k in zip(ds.paths(split), keep[split], strict=True) if k]


def _write_probe_row(
    path: Path, task: Task, probe: LinearProbe, feats: SplitFeatures, val: Scores, seconds: float
) -> None:
    """The probe's row in results.csv (``phase=probe``, epoch 0); other phases' rows are kept."""
    train = scores(task, probe.decision_function(feats.X["train"]), feats.y["train"])
    acc = "accuracy" if task.kind != "multilabel" else "exact_match"
    row = {
        "phase": "probe",
        "epoch": 0,
        "lr": "",
        "train_loss": train.loss,
        "train_accuracy": train.metrics[acc],
        "val_loss": val.loss,
        "val_accuracy": val.metrics[acc],
        "val_balanced_accuracy": val.metrics.get("balanced_accuracy", ""),
        "val_macro_f1": val.metrics["macro_f1"],
        "seconds": seconds,
        "images_per_second": len(feats.X["train"]) / max(seconds, 1e-9),
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
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **arrays)


def print_summary(summary: dict) -> None:
    """The final table: probe and fine-tune metrics side by side, the choice, the run dir."""
    console = Console(stderr=False)
    for d in summary.get("decisions") or []:
        console.print(f"{d['option']}: {d['asked']} -> {d['value']} ({d['reason']})")
    recall = (summary.get("per_class_recall") or {}).get("test") or (
        summary.get("per_class_recall") or {}
    ).get("val")
    if recall and summary.get("monitor") == "balanced_accuracy":
        console.print("per-class recall: " + ", ".join(f"{k} {v:.3f}" for k, v in recall.items()))
    probe, ft = summary["probe"], summary.get("finetune") or {}
    metrics = [k for k, v in probe["val"].items() if isinstance(v, float)]
    table = Table(title=f"{summary['backbone']} · {summary['strategy']} · {summary['task']}")
    table.add_column("metric")
    columns = [(ph, sp) for ph in ("probe", "finetune", "interpolated") for sp in ("val", "test")]
    shown = [(ph, sp) for ph, sp in columns if (summary.get(ph) or {}).get(sp)]
    for ph, sp in shown:
        table.add_column(
            f"{ph} {sp}", justify="right", style="bold" if ph == summary["selected"] else None
        )
    for metric in metrics:
        table.add_row(metric, *[f"{summary[ph][sp][metric]:.4f}" for ph, sp in shown])
    console.print(table)
    colour = "yellow" if ft and summary["selected"] == "probe" else "green"
    console.print(f"[{colour}]selected: {summary['selected']}[/] - {summary['reason']}")
    ci = summary.get("test_interval")
    if ci:
        console.print(
            f"test {ci['metric']} {ci['value']:.4f}, 95% interval {ci['low']:.3f}-{ci['high']:.3f} "
            f"on {ci['n']} images"
        )
    t = summary["timings"]
    cached = ", ".join(
        f"{s}{' (cached)' if c else ''}" for s, c in summary["features_cached"].items()
    )
    console.print(f"features: {cached}; total {t['total']:.1f} s")
    console.print(
        f"run directory: [bold]{summary['run_dir']}[/]  (model in {summary['run_dir']}/model)"
    )
