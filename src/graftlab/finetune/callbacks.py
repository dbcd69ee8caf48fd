"""Everything optional in training is a callback: progress, early stopping, checkpoints, CSV log.

Hooks (Keras names): ``on_fit_start(trainer)``, ``on_epoch_start(trainer, epoch)``,
``on_before_backward(trainer, step, logs)``, ``on_batch_end(trainer, step, logs)``,
``on_epoch_end(trainer, epoch, logs)``, ``on_fit_end(trainer)``. ``epoch`` is the 0-based
index; ``logs["epoch"]`` and results.csv count from 1. Callbacks run in ``order`` (lower
first, then list order): :class:`BestWeights` first, so the others see this epoch's
``best_epoch_``; Checkpoint last, so that ``last.pt`` holds what the others decided (e.g.
``stop_training``). Doctor monitors subclass :class:`Callback` and append findings to
``trainer.findings``.

:func:`with_core_callbacks` adds :class:`BestWeights` and :class:`StopOnNaN` to any list
that has none of their kind: pass a subclass (another metric, a smoothed one) to replace one.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from tqdm.auto import tqdm

from graftlab._io import atomic_path, write_text
from graftlab.finetune.budget import MIN_PATIENCE

if TYPE_CHECKING:
    from graftlab.finetune.trainer import Trainer

logger = logging.getLogger("graftlab.finetune")

#: ``format`` of the ``weights/epoch-N.pt`` files (``save_every_epoch``).
EPOCH_FORMAT = "graftlab-epoch"

#: results.csv columns, in order (ARCHITECTURE.md).
CSV_COLUMNS = (
    "phase",
    "epoch",
    "lr",
    "train_loss",
    "train_accuracy",
    "val_loss",
    "val_accuracy",
    "val_balanced_accuracy",
    "val_macro_f1",
    "seconds",
    "images_per_second",
    "data_wait",
)


class Callback:
    """Base class; override the hooks you need."""

    order = 0

    def on_fit_start(self, trainer: Trainer) -> None:
        pass

    def on_epoch_start(self, trainer: Trainer, epoch: int) -> None:
        pass

    def on_before_backward(self, trainer: Trainer, step: int, logs: dict[str, Any]) -> None:
        """After the forward pass of a step (``logs``: ``loss``, ``size``); setting
        ``trainer.stop_now`` ends the epoch without applying the step."""

    def on_batch_end(self, trainer: Trainer, step: int, logs: dict[str, Any]) -> None:
        pass

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        pass

    def on_fit_end(self, trainer: Trainer) -> None:
        pass


class BestWeights(Callback):
    """Keep the weights of the epoch with the best validation metric; restore them at the end.

    Sets ``trainer.best_metric_``, ``best_epoch_`` and ``best_state_`` (which the checkpoint
    saves, so a resumed run keeps its best). Subclass and override :meth:`score` to select on
    something else (a smoothed metric, a loss negated).

    Args:
        monitor: Key of the epoch logs without ``val_`` (default: ``task.monitor``); higher
            is better.
        smooth: Judge each epoch by the mean of the metric over it and the ``smooth - 1``
            epochs before it. On a few dozen validation images the metric moves by whole
            images from epoch to epoch, and the single best epoch is mostly the luckiest.
    """

    order = -100

    def __init__(self, monitor: str | None = None, smooth: int = 1) -> None:
        self.monitor = monitor
        self.smooth = smooth

    def score(self, trainer: Trainer, logs: dict[str, Any]) -> float:
        """The number this epoch is judged by; NaN never counts as best."""
        key = f"val_{self.monitor or trainer.task.monitor}"
        value = float(logs.get(key, float("nan")))
        if self.smooth <= 1:
            return value
        past = [float(h.get(key, float("nan"))) for h in trainer.history_[: logs["epoch"] - 1]]
        window = [*past[-(self.smooth - 1) :], value]
        return float(sum(window) / len(window))

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        value = self.score(trainer, logs)
        if math.isfinite(value) and (trainer.best_metric_ is None or value > trainer.best_metric_):
            trainer.best_metric_, trainer.best_epoch_ = value, logs["epoch"]
            trainer.best_state_ = copy_state(trainer.model)

    def on_fit_end(self, trainer: Trainer) -> None:
        if trainer.best_state_ is not None:
            trainer.model.load_state_dict(trainer.best_state_)


class StopOnNaN(Callback):
    """End the run when the training loss is not finite, before the step is applied: a NaN
    step would poison every weight; the best epoch so far is what the run returns."""

    order = -100

    def on_before_backward(self, trainer: Trainer, step: int, logs: dict[str, Any]) -> None:
        if not math.isfinite(logs["loss"]):
            logger.error("loss is %s at step %d: stopping", logs["loss"], step)
            trainer.stop_training = trainer.stop_now = True


def with_core_callbacks(callbacks: Sequence[Callback]) -> list[Callback]:
    """``callbacks`` plus a :class:`BestWeights` and a :class:`StopOnNaN` unless one of that
    kind is there, sorted by ``order`` (stable: list order among equals)."""
    out = list(callbacks)
    for core in (StopOnNaN, BestWeights):
        if not any(isinstance(cb, core) for cb in out):
            out.append(core())
    return sorted(out, key=lambda cb: getattr(cb, "order", 0))


def copy_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The model's state on the CPU, detached from training."""
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


class ProgressBar(Callback):
    """A step bar per epoch counting images, so its rate is img/s and its ETA the epoch's,
    with the epoch's mean training loss so far and the lr. The Trainer also shows the
    boundary-cache build with a bar when this callback is enabled.

    Args:
        enabled: ``None`` shows the bar only on a terminal (tqdm's rule); ``graftlab.train``
            passes True, so a log file shows each epoch's progress as the feature bars do.
    """

    def __init__(self, enabled: bool | None = None) -> None:
        self.enabled = enabled
        self._bar: Any = None
        self._loss = (0.0, 0)

    def on_epoch_start(self, trainer: Trainer, epoch: int) -> None:
        self._loss = (0.0, 0)
        self._bar = tqdm(
            total=trainer.steps_per_epoch * trainer.config.batch_size,
            desc=f"epoch {epoch + 1}/{_epochs(trainer)}",
            unit="img",
            disable=None if self.enabled is None else not self.enabled,
            leave=False,
            dynamic_ncols=True,
        )

    def on_batch_end(self, trainer: Trainer, step: int, logs: dict[str, Any]) -> None:
        if self._bar is not None:
            total, n = self._loss
            self._loss = (total + logs["loss"] * logs["size"], n + logs["size"])
            self._bar.update(logs["size"])
            mean = self._loss[0] / max(self._loss[1], 1)
            self._bar.set_postfix(loss=f"{mean:.4f}", lr=f"{logs['lr']:.2e}", refresh=False)

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        monitor = trainer.task.monitor
        logger.info(
            "epoch %d/%d  train_loss %.4f  val_loss %.4f  val_%s %.4f  %.0f img/s  "
            "data wait %.0f%%  %.1fs",
            logs["epoch"],
            _epochs(trainer),
            logs["train_loss"],
            logs["val_loss"],
            monitor,
            logs.get(f"val_{monitor}", float("nan")),
            logs["images_per_second"],
            100 * logs["data_wait"],
            logs["seconds"],
        )

    def on_fit_end(self, trainer: Trainer) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class EarlyStopping(Callback):
    """Stop when the validation metric (``task.monitor``) has not improved for ``patience`` epochs.

    The best weights are restored by the Trainer whatever stops the run; this only saves time.
    It keeps no state of its own (it reads ``trainer.best_epoch_``), so a resumed run stops at
    the same epoch as an uninterrupted one.
    """

    def __init__(self, patience: int = 3, min_epochs: int = 0) -> None:
        """``min_epochs``: never stop before this many epochs (see :func:`default_callbacks`)."""
        self.patience = patience
        self.min_epochs = min_epochs

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        waited = logs["epoch"] - (trainer.best_epoch_ or 0)
        if waited >= self.patience and logs["epoch"] >= self.min_epochs:
            trainer.stop_training = True
            logger.info(
                "early stopping: val_%s has not improved for %d epochs (best %.4f at epoch %d)",
                trainer.task.monitor,
                waited,
                trainer.best_metric_,
                trainer.best_epoch_,
            )


class Checkpoint(Callback):
    """Write ``last.pt`` (everything needed to resume) and ``best.pt`` (weights) atomically;
    with ``every_epoch``, each epoch's weights too.

    Args:
        directory: Usually ``RUN/weights``.
        every_epoch: Also keep ``epoch-N.pt`` for every epoch N (from 1, as results.csv):
            ``{"format": "graftlab-epoch", "model", "epoch", "monitor", "metric", "time"}``,
            ``metric`` that epoch's own validation metric and ``time`` the Unix time at which
            the epoch and the callbacks before this one were done (the file's writing starts
            then; its modification time is when it ended). Written before ``last.pt``: a run
            killed in between redoes that epoch on ``--resume`` and writes the file again, so
            a resumed run has every epoch's file.
    """

    order = 100

    def __init__(self, directory: str | Path, every_epoch: bool = False) -> None:
        self.directory = directory
        self.every_epoch = every_epoch

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        directory = Path(self.directory)
        if self.every_epoch:
            weights = {
                "format": EPOCH_FORMAT,
                "model": trainer.model.state_dict(),
                "epoch": logs["epoch"],
                "monitor": trainer.task.monitor,
                "metric": float(logs.get(f"val_{trainer.task.monitor}", float("nan"))),
                "time": time.time(),
            }
            with atomic_path(directory / f"epoch-{logs['epoch']}.pt") as tmp:
                torch.save(weights, tmp)
        if trainer.best_epoch_ == logs["epoch"]:
            best = {
                "format": "graftlab-best",
                "model": trainer.model.state_dict(),
                "epoch": trainer.best_epoch_,
                "monitor": trainer.task.monitor,
                "metric": trainer.best_metric_,
            }
            with atomic_path(directory / "best.pt") as tmp:
                torch.save(best, tmp)
        with atomic_path(directory / "last.pt") as tmp:
            torch.save(trainer.checkpoint_state(), tmp)


class CSVLogger(Callback):
    """One row per epoch in ``results.csv``; the file is rewritten whole each time (atomic).

    Rows of other phases already in the file (e.g. the pipeline's ``probe`` row) are kept; rows
    of this phase are rebuilt from ``trainer.history_``, so a resumed run drops the epochs its
    checkpoint had not reached.

    Args:
        path: The CSV file.
        phase: Value of the ``phase`` column.
    """

    def __init__(self, path: str | Path, phase: str = "finetune") -> None:
        self.path = path
        self.phase = phase
        self._rows: list[dict[str, Any]] = []

    def on_fit_start(self, trainer: Trainer) -> None:
        path = Path(self.path)
        kept = []
        if path.exists():
            with open(path, newline="") as fh:
                kept = [r for r in csv.DictReader(fh) if r.get("phase") != self.phase]
        self._rows = kept + [self._row(logs) for logs in trainer.history_]
        self._write()

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        self._rows.append(self._row(logs))
        self._write()

    def _row(self, logs: dict[str, Any]) -> dict[str, Any]:
        row = {c: logs.get(c, "") for c in CSV_COLUMNS}
        row["phase"] = self.phase
        return {k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()}

    def _write(self) -> None:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(self._rows)
        write_text(self.path, buf.getvalue())


def default_callbacks(
    run_dir: str | Path | None, config: Any, progress: bool | None = None
) -> list[Callback]:
    """The standard set: progress bar (unless ``progress`` is False), early stopping (if
    configured), checkpoints and CSV log (when there is a run directory)."""
    callbacks: list[Callback] = [] if progress is False else [ProgressBar(progress)]
    smooth = getattr(config, "monitor_smoothing", 1)
    if isinstance(smooth, int) and smooth > 1:
        callbacks.append(BestWeights(smooth=smooth))
    patience = config.early_stopping_patience
    if patience == "auto":  # resolved by budget.plan in a run; a bare config: the minimum
        patience = MIN_PATIENCE
    if patience:
        # Not in the schedule's first half: warm-up and the peak lr are the large steps, and
        # validation dips there are those steps, not the end of learning (Fashion-MNIST 7 x 50,
        # dev draws 101 and 102: both runs stopped at epoch 4 of 11, at peak lr, and never
        # reached the low-lr half where a small set's fine-tuning settles).
        epochs = config.epochs if isinstance(config.epochs, int) else 0
        callbacks.append(EarlyStopping(patience, min_epochs=math.ceil(epochs / 2)))
    if run_dir is not None:
        every = bool(getattr(config, "save_every_epoch", False))
        callbacks += [
            Checkpoint(Path(run_dir) / "weights", every_epoch=every),
            CSVLogger(Path(run_dir) / "results.csv"),
        ]
    return callbacks


def _epochs(trainer: Any) -> Any:
    """The run's epochs: the resolved config's (``"auto"`` sized by the Trainer) when set up."""
    return getattr(trainer, "config_", trainer.config).epochs
