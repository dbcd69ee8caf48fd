"""The training loop: ``fit`` = ``setup``, then ``train_epoch`` and ``validate`` per epoch.

Batches are cut from decoded uint8 squares (``np.memmap`` (N,S,S,3) from the image cache) and
turned into network input by ``preprocess.train_batch`` / ``eval_batch``, so no image is
decoded twice. When the strategy keeps the lower stages frozen for the whole run, their output
is computed once and cached (:mod:`~graftlab.finetune.boundary`) and the epochs train only the
top from it. Everything else is a callback: the best weights by the task's validation
metric are kept and restored at the end by ``BestWeights``, a non-finite loss stops the run
through ``StopOnNaN``; ``weights/last.pt`` (the :class:`~graftlab.finetune.callbacks.Checkpoint`
callback) holds everything needed to continue a killed run exactly where it stopped.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import pickle
import random
import re
import time
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from graftlab import distributed
from graftlab.errors import ArtifactError, ConfigError, DataError
from graftlab.finetune import budget
from graftlab.finetune.averaging import WeightAverage, decay_for
from graftlab.finetune.boundary import ActivationBank, cache_frozen_part
from graftlab.finetune.callbacks import (
    Callback,
    ProgressBar,
    copy_state,
    default_callbacks,
    with_core_callbacks,
)
from graftlab.finetune.config import TrainConfig
from graftlab.finetune.schedule import WarmupCosine
from graftlab.hardware import Execution, decide_execution

logger = logging.getLogger("graftlab.finetune")
_dist = distributed  # `distributed` is also a keyword of _evaluate
_ONE = distributed.World()

CHECKPOINT_FORMAT = "graftlab-train-state"
# Options that may differ between a run and its resumption without changing what it computes
# (save_every_epoch only adds files; checkpoints from before it existed do not record it).
_RESUME_FREE = {
    "device",
    "num_workers",
    "early_stopping_patience",
    "precision",
    "channels_last",
    "compile",
    "save_every_epoch",
}


class Trainer:
    """Fine-tune ``model`` on decoded images with a strategy; see ARCHITECTURE.md.

    Args:
        model: A timm model whose classifier has ``task.num_outputs`` units.
        task: Loss, probabilities, metrics and the monitored metric (:class:`Task`).
        strategy: What trains at which lr (:func:`create_strategy`).
        preprocess: Has ``train_batch(u8, augment, generator)`` and ``eval_batch(u8)``.
        train: ``(images, labels)``: uint8 (N,S,S,3) array or memmap, labels (N,) or (N,K).
        val: The same for the validation split; picks the best epoch.
        config: The run's :class:`TrainConfig` (defaults if None).
        run_dir: Where the default callbacks write ``weights/`` and ``results.csv``.
        callbacks: ``None`` = :func:`default_callbacks`; a list = exactly those. Either way
            the core callbacks (:func:`~graftlab.finetune.callbacks.with_core_callbacks`:
            best weights, stop on a non-finite loss) are added unless the list has one of
            their kind, which then replaces it.
        resume_from: A ``last.pt`` to continue from (see :meth:`resume`).
        cache_dir: Root of the graftlab cache, where activations at the freeze boundary go.
        execution: How to compute (``graftlab.train`` passes the run's); None, or when
            resuming: the config's where set, the checkpoint's, else this machine's rule.

    Attributes:
        history_: One dict per finished epoch (the results.csv row, plus every val metric).
        best_metric_, best_epoch_, best_state_: Best validation metric, its epoch (from 1)
            and the weights then (kept by the ``BestWeights`` callback; None before).
        config_: The resolved config (device, precision, ... no longer "auto").
        boundary_: The frozen part's cached output (:mod:`~graftlab.finetune.boundary`) the
            epochs train from, or None when the frozen part runs every step.
        ema_: The :class:`~graftlab.finetune.averaging.WeightAverage` of the weights
            (``config.ema``), swapped into the model to validate, keep and save each epoch;
            None when off.
        findings: Doctor findings appended by monitor callbacks.
        stop_training: Set by a callback to end the run after the current epoch.
        stop_now: Set by an ``on_before_backward`` callback to end the epoch before the
            current step is applied.
    """

    def __init__(
        self,
        model: nn.Module,
        task: Any,
        strategy: Any,
        preprocess: Any,
        *,
        train: tuple[Any, Any],
        val: tuple[Any, Any],
        config: TrainConfig | None = None,
        run_dir: str | os.PathLike | None = None,
        callbacks: Sequence[Callback] | None = None,
        resume_from: str | os.PathLike | None = None,
        cache_dir: str | os.PathLike | None = None,
        execution: Execution | None = None,
    ) -> None:
        self.model = model
        self.task = task
        self.strategy = strategy
        self.preprocess = preprocess
        self.train = train
        self.val = val
        self.config = config
        self.run_dir = run_dir
        self.callbacks = callbacks
        self.resume_from = resume_from
        self.cache_dir = cache_dir
        self.execution = execution
        self.findings: list[Any] = []
        self.stop_training = False
        self.stop_now = False
        self.history_: list[dict[str, Any]] = []
        self.best_metric_: float | None = None
        self.best_epoch_: int | None = None
        self.best_state_: dict[str, torch.Tensor] | None = None
        self.optimizer: torch.optim.Optimizer | None = None
        self.ema_: WeightAverage | None = None

    def resume(self, path: str | os.PathLike) -> Trainer:
        """Continue the run whose ``last.pt`` is ``path`` and finish it; returns self."""
        self.resume_from = path
        return self.fit()

    def fit(self) -> Trainer:
        """Train, validate each epoch, restore the best weights; returns self.

        :meth:`setup` builds everything (config, data, execution, seeds, optimizer, resumed
        state, boundary cache); each epoch is :meth:`train_epoch` then :meth:`validate`.
        What is done with the numbers (keep the best weights, stop on NaN or early, write
        checkpoints and results.csv, the doctor's monitors) is the callbacks'.
        """
        determinism = (
            torch.are_deterministic_algorithms_enabled(),
            torch.is_deterministic_algorithms_warn_only_enabled(),
            torch.backends.cudnn.benchmark,
        )
        try:
            callbacks = self.setup()
            for cb in callbacks:
                cb.on_fit_start(self)
            for epoch in range(self.epoch_, self.config_.epochs):
                if self.stop_training:
                    break
                t_epoch = time.perf_counter()
                train_logs = self.train_epoch(epoch, callbacks)
                if self.ema_ is not None:  # validate, keep and save the averaged weights
                    self.ema_.swap()
                val_logs, val_probs = self.validate()
                logs = {
                    "epoch": epoch + 1,
                    "lr": max(g["lr"] for g in self.optimizer.param_groups),
                    "train_loss": train_logs["train_loss"],
                    "train_accuracy": train_logs["train_accuracy"],
                    **val_logs,
                    "seconds": time.perf_counter() - t_epoch,
                    "images_per_second": train_logs["images_per_second"],
                    "data_wait": train_logs["data_wait"],
                }
                self.history_.append(logs)
                self.epoch_ = epoch + 1
                # The probabilities go to the callbacks (doctor monitors), not into history_.
                epoch_logs = {**logs, "val_probs": val_probs}
                for cb in callbacks:
                    cb.on_epoch_end(self, epoch, epoch_logs)
                if self.world_.size > 1:
                    # A monitor reads its rank's own batch losses: one rank's stop stops all.
                    self.stop_training = distributed.any_rank(self.stop_training)
                if self.ema_ is not None:  # the steps go on from the training weights
                    self.ema_.swap()
            self.model.eval()
            for cb in callbacks:
                cb.on_fit_end(self)  # BestWeights (first) restores the best epoch's weights
        finally:
            torch.use_deterministic_algorithms(determinism[0], warn_only=determinism[1])
            torch.backends.cudnn.benchmark = determinism[2]
        return self

    def setup(self) -> list[Callback]:
        """Everything an epoch needs; returns the callbacks in the order they run."""
        # 1. Check the config and the data; read the checkpoint to resume from.
        config = (self.config if self.config is not None else TrainConfig()).validate()
        x_train, y_train = _check_split("train", self.train)
        x_val, y_val = _check_split("val", self.val)
        config = budget.resolved(config, len(y_train))  # "auto" epochs, augment, patience
        saved = _load_checkpoint(self.resume_from, config) if self.resume_from else None
        given = (
            default_callbacks(self.run_dir, config) if self.callbacks is None else self.callbacks
        )
        callbacks = with_core_callbacks(given)
        model, strategy = self.model, self.strategy

        # 2. Execution: device, autocast dtype, memory format (configured, resumed or by rule).
        # A resumed run computes as its checkpoint did, whatever it is given now.
        given = self.execution if saved is None else None
        ex = self.execution_ = given or _execution(config, saved)
        device, precision, channels_last = ex.torch_device, ex.dtype, ex.channels_last
        ex.prepare(model)

        # 3. Seeds everywhere; determinism.
        _seed_everything(config.seed)
        if config.deterministic:
            torch.use_deterministic_algorithms(True, warn_only=True)
            torch.backends.cudnn.benchmark = False
        self._generator = torch.Generator().manual_seed(config.seed)
        self.history_, self.best_metric_, self.best_epoch_ = [], None, None
        self.best_state_ = None
        self.stop_training = self.stop_now = False

        # 4. The strategy freezes and groups; AdamW and warm-up + cosine over all steps.
        # Distributed: batch_size stays the global batch, each rank takes its share of it.
        self.world_ = distributed.world()
        if self.world_.size > 1:
            distributed.per_rank_batch(config.batch_size, self.world_.size)
        n_train, bs = len(y_train), config.batch_size
        self.steps_per_epoch = max(1, n_train // bs)  # drop_last: no tiny last batch for BN
        warmup = config.warmup_steps
        if warmup is None:
            warmup = round(config.warmup_epochs * self.steps_per_epoch)
        if saved is not None:
            strategy.load_state_dict(saved["strategy"])
        strategy.freeze_before_training(model)
        groups = strategy.param_groups(model, config.lr, config.weight_decay)
        self.optimizer = torch.optim.AdamW(groups, lr=config.lr, weight_decay=config.weight_decay)
        total_steps = config.epochs * self.steps_per_epoch
        self.schedule = WarmupCosine(self.optimizer, total_steps, warmup)
        self.ema_ = None
        if config.ema is not None:
            self.ema_ = WeightAverage(model, decay_for(config.ema, total_steps)[0])
        self.scaler = torch.amp.GradScaler(
            device.type, enabled=precision == "fp16" and device.type == "cuda"
        )
        workers = self._n_workers = _workers(config.num_workers, device)
        self.config_ = dataclasses.replace(
            config,
            device=str(device),
            precision=precision,
            channels_last=channels_last,
            num_workers=workers,
            warmup_steps=warmup,
        )

        # 5. Resume: weights, optimizer, schedule, strategy, RNGs, history, best so far.
        self.epoch_, self.step_, self.n_train_ = 0, 0, n_train
        if saved is not None:
            self.epoch_, self.step_ = self._restore(saved, n_train)

        # 6. A part frozen for the whole run runs once: its output is cached at the boundary
        # (by rank 0 of a distributed run; the others read the entry it wrote).
        bar = next((cb for cb in callbacks if isinstance(cb, ProgressBar)), None)
        if self.world_.size > 1 and device.type == "cuda" and strategy.bn == "train":
            # BatchNorm statistics that train are averaged over every rank's share of the batch,
            # as one process computes them over the whole batch (CUDA only: SyncBatchNorm has
            # no CPU kernel, so Gloo runs keep per-rank statistics).
            distributed.sync_batchnorm(model)
        with distributed.main_first():
            self.boundary_, boundary_note = cache_frozen_part(
                model,
                strategy,
                self.preprocess,
                (x_train, x_val),
                self.config_,
                execution=ex,
                cache_root=self.cache_dir,
                progress=(bar.enabled if bar is not None else False) and self.world_.is_main,
            )
        cached = self.boundary_
        self._forward = cached.upper if cached is not None else model
        self._train_forward = self._ddp_wrapped()
        if config.compile:
            # After freezing and caching, so the graph is the part that trains; the weights
            # stay those of `model` (checkpoints and the best state keep their names).
            self._forward = torch.compile(self._forward)
            self._train_forward = (
                torch.compile(self._train_forward) if self.world_.size > 1 else self._forward
            )
        self._train_x, self._val_x = (
            (cached.train, cached.val) if cached is not None else (x_train, x_val)
        )
        self._y_train, self._y_val = y_train, y_val

        # 7. Say what was built.
        self.summary_ = self._describe(
            ex.reason, n_train, len(y_val), x_train, workers, boundary_note
        )
        logger.info("%s", self.summary_)
        return callbacks

    def train_epoch(self, epoch: int, callbacks: Sequence[Callback] = ()) -> dict[str, float]:
        """One pass over the training set, shuffled by the seeded generator; the epoch's
        train_loss, train_accuracy, images_per_second and data_wait."""
        model, task, strategy = self.model, self.task, self.strategy
        # The strategy may unfreeze; frozen parts and BN go back to eval mode.
        n_groups = len(self.optimizer.param_groups)
        strategy.on_epoch_start(model, self.optimizer, epoch)
        here = self.world_
        if len(self.optimizer.param_groups) != n_groups:
            logger.info("epoch %d: %s", epoch + 1, strategy.describe(model, self.optimizer))
            if here.size > 1:  # DDP syncs the parameters that trained when it was built
                self._train_forward = self._ddp_wrapped()
                if self.config_.compile:
                    self._train_forward = torch.compile(self._train_forward)
        if here.size > 1:
            # Dropout and drop-path draw from each rank's own stream, set per epoch so that a
            # resumed run (checkpoints end epochs) draws what an uninterrupted one does.
            torch.manual_seed(self.config_.seed + 1_000_003 * (epoch + 1) + here.rank)
        strategy.set_train_mode(model)
        for cb in callbacks:
            cb.on_epoch_start(self, epoch)
        t_epoch = time.perf_counter()

        bs, n_train, y_train = self.config_.batch_size, self.n_train_, self._y_train
        # Every rank draws the same order and seeds (one generator, one seed), so the global
        # batches are those of one process; each rank takes every size-th image of each
        # (DistributedSampler's rule, applied per batch: the batches do not depend on the
        # number of processes, and a run resumes with another number).
        order = torch.randperm(n_train, generator=self._generator).numpy()
        seeds = torch.randint(2**62, (self.steps_per_epoch,), generator=self._generator)
        batches = [
            order[i * bs : (i + 1) * bs][here.rank :: here.size]
            for i in range(self.steps_per_epoch)
        ]
        trainable = [p for g in self.optimizer.param_groups for p in g["params"]]
        jobs = [
            (self._train_x, y_train, idx, int(s) + here.rank, True)
            for idx, s in zip(batches, seeds, strict=True)
        ]
        loss_sum, seen, wait, train_probs, train_y = 0.0, 0, 0.0, [], []
        ex = self.execution_
        max_norm = self.config_.max_grad_norm
        self.stop_now = False
        for (xb, yb), waited in self._prefetch(jobs, self._n_workers):
            wait += waited
            self.schedule.apply()
            with ex.autocast():
                logits = self._train_forward(self._inputs(xb))
                loss = task.loss(logits, yb.to(ex.device))
            loss_value = loss.item()
            for cb in callbacks:
                cb.on_before_backward(self, self.step_, {"loss": loss_value, "size": len(yb)})
            if here.size > 1:  # one rank's NaN stops every rank before the gradient exchange
                self.stop_now = distributed.any_rank(self.stop_now)
            if self.stop_now:  # e.g. StopOnNaN: this step is not applied
                break
            self.optimizer.zero_grad(set_to_none=True)
            self.scaler.scale(loss).backward()
            batch_logs = {"size": len(yb)}
            if max_norm is not None:
                self.scaler.unscale_(self.optimizer)
                # The norm before clipping: the doctor's gradient monitor reads it.
                norm = torch.nn.utils.clip_grad_norm_(trainable, max_norm)
                batch_logs["grad_norm"] = float(norm)
            self.scaler.step(self.optimizer)
            self.scaler.update()
            self.schedule.step()
            if self.ema_ is not None:
                self.ema_.update()
            self.step_ += 1
            loss_sum += loss_value * len(yb)
            seen += len(yb)
            train_probs.append(task.probs(logits.detach()).cpu().numpy())
            train_y.append(yb.numpy())
            lr = max(g["lr"] for g in self.optimizer.param_groups)
            for cb in callbacks:
                cb.on_batch_end(self, self.step_, {"loss": loss_value, "lr": lr, **batch_logs})
        seconds = time.perf_counter() - t_epoch
        right = _correct(train_probs, train_y, task.kind)
        if here.size > 1 and strategy.bn == "train":
            # Running statistics that trained on each rank's share: their mean, everywhere,
            # so validation and the checkpoint see one model.
            _dist.average_buffers(model)
        if here.size > 1:  # the epoch's figures over every rank's images
            loss_sum, seen, right, wait = distributed.all_sum([loss_sum, seen, right, wait])
            wait /= here.size
        return {
            "train_loss": loss_sum / max(seen, 1),
            "train_accuracy": right / seen if seen else float("nan"),
            "images_per_second": seen / max(seconds, 1e-9),
            "data_wait": wait / max(seconds, 1e-9),
        }

    def validate(self) -> tuple[dict[str, float], np.ndarray]:
        """Validation in eval mode, no gradients: ``val_loss`` and every scalar ``val_*``
        metric of the task, and the probabilities."""
        val_loss, val_probs = self._evaluate(
            self._val_x, self._y_val, self._forward, distributed=True
        )
        metrics = self.task.metrics(val_probs, self._y_val)
        if self.task.monitor not in metrics:
            raise ConfigError(
                f"The task monitors {self.task.monitor!r}, which its metrics do not report "
                f"(they have {', '.join(metrics)}). Fix Task.monitor."
            )
        scalars = {f"val_{k}": float(v) for k, v in metrics.items() if np.isscalar(v)}
        return {"val_loss": val_loss, **scalars}, val_probs

    # -- inference ----------------------------------------------------------------------------
    def predict_proba(self, images: Any) -> np.ndarray:
        """Probabilities (N, K) float32 for uint8 images, in eval mode with the run's precision."""
        x = np.asarray(images) if not isinstance(images, np.ndarray) else images
        return self._evaluate(x, None)[1]

    def _evaluate(
        self,
        x: Any,
        y: np.ndarray | None,
        forward: nn.Module | None = None,
        *,
        distributed: bool = False,
    ) -> tuple[float, np.ndarray]:
        """Loss and probabilities of ``forward`` (the model) on images or cached activations.

        ``distributed``: every rank evaluates its share of whole batches and all get every
        probability (the same batches as one process).
        """
        forward = forward if forward is not None else self.model
        ex = self._execution_or_fp32()
        self.model.eval()
        bs = 2 * (self.config.batch_size if self.config is not None else 64)
        here = self.world_ if distributed else _ONE
        rows = _dist.shard(len(x), bs, here) if here.size > 1 else range(len(x))
        jobs = [
            (x, y, np.arange(i, min(i + bs, rows.stop)), 0, False)
            for i in range(rows.start, rows.stop, bs)
        ]
        loss_sum, probs = 0.0, []
        with torch.inference_mode():
            for (xb, yb), _ in self._prefetch(jobs, getattr(self, "_n_workers", 0)):
                with ex.autocast():
                    logits = forward(self._inputs(xb))
                if yb is not None:
                    loss_sum += self.task.loss(logits, yb.to(ex.device)).item() * len(yb)
                probs.append(self.task.probs(logits).float().cpu().numpy())
        out = np.concatenate(probs) if probs else np.zeros((0, self.task.num_outputs), np.float32)
        if here.size > 1:
            out = _dist.gather_rows(out.astype(np.float32))
            loss_sum = _dist.all_sum([loss_sum])[0]
        return loss_sum / max(len(x), 1), out.astype(np.float32)

    def _ddp_wrapped(self) -> nn.Module:
        """The forward that trains: the model (or its part above the boundary) itself in one
        process; in DistributedDataParallel, which averages gradients over ranks, in several."""
        if self.world_.size == 1:
            return self._forward
        return _dist.wrap_ddp(self._forward, self.execution_.torch_device)

    # -- batches --------------------------------------------------------------------------------
    def _prepare(self, x: Any, y: Any, idx: np.ndarray, seed: int, train: bool) -> tuple:
        idx = np.sort(idx)  # ascending reads from the memmap
        if isinstance(x, ActivationBank):  # the frozen part's output: one cached view each
            batch = x.batch(idx, seed if train else None)
        elif train:
            u8 = torch.from_numpy(np.ascontiguousarray(x[idx]))
            generator = torch.Generator().manual_seed(seed)  # per batch: same with any workers
            batch = self.preprocess.train_batch(
                u8, augment=self.config_.augment, generator=generator
            )
        else:
            batch = self.preprocess.eval_batch(torch.from_numpy(np.ascontiguousarray(x[idx])))
        if _pins_memory(self._execution_or_fp32()):
            # Page-locked in the batch thread, so the copy in _inputs runs asynchronously.
            batch = batch.pin_memory()
        return batch, (None if y is None else torch.from_numpy(np.asarray(y[idx])))

    def _prefetch(self, jobs: list[tuple], workers: int) -> Iterator[tuple[tuple, float]]:
        """Yield (prepared batch, seconds the loop waited for it), ``workers`` threads ahead."""
        if workers == 0:
            for job in jobs:
                t = time.perf_counter()
                out = self._prepare(*job)
                yield out, time.perf_counter() - t
            return
        with ThreadPoolExecutor(workers, thread_name_prefix="graftlab-batches") as pool:
            pending = deque(pool.submit(self._prepare, *j) for j in jobs[: workers + 1])
            upcoming = iter(jobs[workers + 1 :])
            while pending:
                t = time.perf_counter()
                out = pending.popleft().result()
                waited = time.perf_counter() - t
                job = next(upcoming, None)
                if job is not None:
                    pending.append(pool.submit(self._prepare, *job))
                yield out, waited

    def _inputs(self, x: torch.Tensor) -> torch.Tensor:
        """A batch on the run's device, in its memory format where the batch is an image map."""
        ex = self._execution_or_fp32()
        return ex.inputs(x, non_blocking=_pins_memory(ex))

    def _execution_or_fp32(self) -> Execution:
        """The run's execution; before ``fit``, fp32 where the model's parameters are."""
        ex = getattr(self, "execution_", None)
        if ex is None:
            device = str(next(self.model.parameters()).device)
            ex = self.execution_ = Execution(device, "fp32", False)
        return ex

    # -- checkpoints ------------------------------------------------------------------------------
    def checkpoint_state(self) -> dict[str, Any]:
        """Everything needed to continue exactly after the last finished epoch (``last.pt``)."""
        numpy_state = np.random.get_state()
        return {
            "format": CHECKPOINT_FORMAT,
            "version": 1,
            "epoch": self.epoch_,
            "step": self.step_,
            "n_train": self.n_train_,
            # The weights the steps continue from; the average (validated, kept) beside them.
            "model": self._training_state(),
            "ema": None if self.ema_ is None else self.ema_.average(),
            # The best weights are the current ones when this epoch is the best: not stored twice.
            "best_model": None if self.best_epoch_ == self.epoch_ else self.best_state_,
            "optimizer": self.optimizer.state_dict(),
            "schedule": self.schedule.state_dict(),
            "scaler": self.scaler.state_dict(),
            "strategy": self.strategy.state_dict(),
            "rng": {
                "torch": torch.get_rng_state(),
                "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
                "numpy": {
                    "keys": torch.from_numpy(numpy_state[1].astype(np.int64)),
                    "pos": int(numpy_state[2]),
                    "has_gauss": int(numpy_state[3]),
                    "cached_gaussian": float(numpy_state[4]),
                },
                "python": random.getstate(),
                "data": self._generator.get_state(),
            },
            "best_metric": self.best_metric_,
            "best_epoch": self.best_epoch_,
            "history": self.history_,
            "stop_training": self.stop_training,
            "config": dataclasses.asdict(self.config_),
            # Batches do not depend on it (global batch = batch_size), so a run resumes with
            # another number of processes; recorded for the log and the report.
            "world_size": self.world_.size,
        }

    def _training_state(self) -> dict[str, torch.Tensor]:
        """The model's state with the weights the optimizer steps (not the average swapped in
        to validate)."""
        state = self.model.state_dict()
        if self.ema_ is not None and self.ema_.swapped:
            state = {**state, **self.ema_.training_weights()}
        return state

    def _restore(self, saved: dict[str, Any], n_train: int) -> tuple[int, int]:
        if saved["n_train"] != n_train:
            raise DataError(
                f"The checkpoint was trained on {saved['n_train']} images, this run has "
                f"{n_train}. Resume with the run's own data (its manifest.csv)."
            )
        try:
            self.model.load_state_dict(saved["model"])
            self.optimizer.load_state_dict(saved["optimizer"])
            if self.ema_ is not None:
                self.ema_.load_average(saved["ema"])
        except (RuntimeError, ValueError, KeyError, TypeError) as exc:
            raise ArtifactError(
                f"The checkpoint does not fit this model and strategy: {exc}. Resume with the "
                "backbone, strategy and config the run was started with (its config.json)."
            ) from exc
        self.schedule.load_state_dict(saved["schedule"])
        self.scaler.load_state_dict(saved["scaler"])
        rng = saved["rng"]
        torch.set_rng_state(rng["torch"])
        if rng["cuda"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(rng["cuda"])
        n = rng["numpy"]
        keys = n["keys"].numpy().astype(np.uint32)
        np.random.set_state(("MT19937", keys, n["pos"], n["has_gauss"], n["cached_gaussian"]))
        random.setstate(_as_tuple(rng["python"]))
        self._generator.set_state(rng["data"])
        self.history_ = [dict(h) for h in saved["history"]]
        self.best_metric_, self.best_epoch_ = saved["best_metric"], saved["best_epoch"]
        self.stop_training = bool(saved["stop_training"])
        best = saved["best_model"]
        if best is not None:
            self.best_state_ = dict(best)
        else:  # the best epoch is the last one: its weights are the average when there is one
            self.best_state_ = copy_state(self.model)
            if self.ema_ is not None:
                avg = self.ema_.average()
                self.best_state_.update(
                    {n: t.detach().to("cpu", copy=True) for n, t in avg.items()}
                )
        if self.best_epoch_ is None:
            self.best_state_ = None
        logger.info("resumed after epoch %d (step %d)", saved["epoch"], saved["step"])
        was = int(saved.get("world_size", 1))
        if was != self.world_.size:
            logger.info(
                "the checkpoint was written by %d process(es), this run has %d: the same global "
                "batch of %d and the same batch order continue (the last bits of the numbers "
                "may differ: gradients are summed in another order)",
                was,
                self.world_.size,
                self.config_.batch_size,
            )
        return int(saved["epoch"]), int(saved["step"])

    def _describe(
        self, how: str, n_train: int, n_val: int, x: Any, workers: int, boundary: str
    ) -> str:
        cfg, model = self.config_, self.model
        name = getattr(model, "graftlab_name", type(model).__name__)
        pre = self.preprocess.to_dict() if hasattr(self.preprocess, "to_dict") else self.preprocess
        dropped = n_train - self.steps_per_epoch * cfg.batch_size
        return "\n".join(
            [
                f"model: {name}, {sum(p.numel() for p in model.parameters()):,} parameters",
                f"execution: {cfg.device}, precision {cfg.precision}, channels_last "
                f"{cfg.channels_last}{', torch.compile' if cfg.compile else ''} ({how})",
                f"data: {n_train} train images ({'x'.join(map(str, x.shape[1:]))} uint8) in "
                f"{self.steps_per_epoch} batches of {cfg.batch_size}/epoch"
                + (
                    f" ({dropped} left out per epoch, a different set each epoch)"
                    if dropped > 0
                    else ""
                )
                + f", {n_val} val images; augment {cfg.augment!r}; {workers} batch thread(s)",
                f"preprocessing: {pre}",
                f"boundary cache: {boundary}",
                f"optimizer: AdamW, warm-up {cfg.warmup_steps} steps then cosine to 0 over "
                f"{cfg.epochs * self.steps_per_epoch} steps; grad clip {cfg.max_grad_norm}",
                _describe_average(cfg.ema, cfg.epochs * self.steps_per_epoch),
                self.strategy.describe(model, self.optimizer),
                *self._describe_world(),
            ]
        )

    def _describe_world(self) -> list[str]:
        here, cfg = self.world_, self.config_
        if here.size == 1:
            return []
        return [
            f"distributed: {here.size} processes ({here.backend}), DistributedDataParallel; "
            f"global batch {cfg.batch_size} = {cfg.batch_size // here.size} per rank x "
            f"{here.size}, lr as configured; BatchNorm statistics "
            + (
                "frozen"
                if self.strategy.bn != "train"
                else "synchronised (SyncBatchNorm)"
                if cfg.device.startswith("cuda")
                else "per rank, averaged after each epoch (no SyncBatchNorm on CPUs)"
            )
        ]


# -- helpers ---------------------------------------------------------------------------------
def _describe_average(fraction: float | None, total_steps: int) -> str:
    if fraction is None:
        return "weights: the last step's (no average)"
    decay, tau = decay_for(fraction, total_steps)
    return (
        f"weights: exponential moving average over the steps (time constant {tau:.0f} steps, "
        f"{fraction:g} of the run; decay {decay:.4f}), validated, kept and exported"
    )


def _check_split(name: str, split: Any) -> tuple[Any, np.ndarray]:
    try:
        x, y = split
    except (TypeError, ValueError):
        raise DataError(
            f"{name!r} must be a pair (uint8 images, labels). Got {type(split).__name__}."
        ) from None
    shape, dtype = getattr(x, "shape", None), getattr(x, "dtype", None)
    if shape is None or len(shape) != 4 or dtype != np.uint8:
        raise DataError(
            f"{name} images must be a uint8 array (N, S, S, 3), as the image cache returns. "
            f"Got dtype {dtype} and shape {shape}."
        )
    y = np.asarray(y)
    if len(y) != shape[0] or shape[0] == 0:
        raise DataError(
            f"{name} has {shape[0]} images and {len(y)} labels; they must match and be > 0."
        )
    return x, y


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """A ``last.pt`` (or the run directory holding it), read with ``weights_only=True``.

    Raises:
        ArtifactError: One line, for a missing or unreadable file, a pickle of Python
            objects (never unpickled: that can run code), or a file that is not a graftlab
            training checkpoint (``best.pt`` holds weights only).
    """
    path = Path(path)
    if path.is_dir():  # a run directory or its weights folder
        path = next(
            (p for p in (path / "weights" / "last.pt", path / "last.pt") if p.exists()), path
        )
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        needs = re.search(r"GLOBAL ([\w.]+)", str(exc))
        what = f"a pickle of Python objects ({needs.group(1)})" if needs else "not a torch file"
        raise ArtifactError(
            f"Cannot resume from {path}: it is {what}, not a graftlab checkpoint of plain "
            "tensors; graftlab never unpickles objects (that can run code). Resume from the "
            "weights/last.pt that graftlab train wrote, or start a new run."
        ) from None
    except (OSError, RuntimeError, EOFError, ValueError) as exc:
        raise ArtifactError(
            f"Cannot resume from {path} ({type(exc).__name__}: {str(exc).splitlines()[0]}). "
            "Point to RUN/weights/last.pt of an interrupted run."
        ) from None
    if not isinstance(saved, dict) or saved.get("format") != CHECKPOINT_FORMAT:
        raise ArtifactError(
            f"{path} is not a training checkpoint (best.pt holds weights only). "
            "Resume from RUN/weights/last.pt."
        )
    return saved


def _load_checkpoint(path: str | os.PathLike, config: TrainConfig) -> dict[str, Any]:
    saved = load_checkpoint(path)
    ours = dataclasses.asdict(config)
    changed = [
        f"{k}: {saved['config'].get(k)!r} -> {v!r}"
        for k, v in ours.items()
        if k not in _RESUME_FREE and k != "warmup_steps" and saved["config"].get(k) != v
    ]
    if config.warmup_steps is not None and config.warmup_steps != saved["config"]["warmup_steps"]:
        changed.append(
            f"warmup_steps: {saved['config']['warmup_steps']!r} -> {config.warmup_steps!r}"
        )
    if changed:
        raise ConfigError(
            "Cannot resume exactly with a different configuration ("
            + "; ".join(changed)
            + "). Resume with the run's config.json, or start a new run."
        )
    return saved


def _execution(config: TrainConfig, saved: dict | None) -> Execution:
    """Device, autocast dtype and memory format: the config's where set, else the checkpoint's
    (a resumed run computes as it started), else this machine's rule (``decide_execution``)."""
    precision, channels_last = config.precision, config.channels_last
    ruled = decide_execution(config.device, train=True)
    if saved is None:
        return decide_execution(
            config.device, train=True, precision=precision, channels_last=channels_last
        )
    if precision == "auto":
        precision = saved["config"]["precision"]
    if channels_last == "auto":
        channels_last = saved["config"]["channels_last"]
    ex = decide_execution(
        config.device, train=True, precision=precision, channels_last=channels_last
    )
    ex.reason = f"{ex.dtype}, channels_last {ex.channels_last} from the checkpoint"
    if (ruled.dtype, ruled.channels_last) != (ex.dtype, ex.channels_last):
        ex.reason += f" (this machine's rule would pick {ruled.dtype}: {ruled.reason})"
        logger.warning("execution: %s", ex.reason)
    return ex


def _workers(num_workers: int | str, device: torch.device) -> int:
    if num_workers != "auto":
        return int(num_workers)
    if device.type == "cpu":
        # Batches are prepared in the training thread: torch ops in a second thread start a
        # second OpenMP team that takes the cores from the step (lp-ft epoch 8.6-9.6 s with
        # one batch thread vs 6.7-8.2 s without, 424 images at 112 px on 2 cores).
        return 0
    return min(4, max(1, (os.cpu_count() or 1) // 2))


def _pins_memory(execution: Execution) -> bool:
    """Image batches go to page-locked memory only when they are copied to a CUDA device."""
    return execution.torch_device.type == "cuda"


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device


def _correct(probs: list[np.ndarray], y: list[np.ndarray], kind: str) -> int:
    """Training images predicted right (multi-label: every label right)."""
    if not probs:
        return 0
    p, y = np.concatenate(probs), np.concatenate(y)
    if kind == "multilabel":
        return int(((p >= 0.5) == (y > 0.5)).all(axis=1).sum())
    return int((p.argmax(axis=1) == y).sum())


def _as_tuple(v: Any) -> Any:
    """random.setstate wants the nested tuples that a save/load round trip turns into lists."""
    return tuple(_as_tuple(i) for i in v) if isinstance(v, list | tuple) else v
