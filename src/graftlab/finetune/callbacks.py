"""Everything optional in training is a callback: progress, early stopping, checkpoints, CSV log.

Hooks (Keras names): ``on_fit_start(trainer)``, ``on_epoch_start(trainer, epoch)``,
``on_batch_end(trainer, step, logs)``, ``on_epoch_end(trainer, epoch, logs)``,
``on_fit_end(trainer)``. ``epoch`` is the 0-based index; ``logs["epoch"]`` and results.csv
count from 1. Callbacks run in ``order`` (lower first, then list order): Checkpoint runs last so
that ``last.pt`` holds what the others decided (e.g. ``stop_training``). Doctor monitors
subclass :class:`Callback` and append findings to ``trainer.findings``.
"""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from tqdm.auto import tqdm

from graftlab._io import atomic_path, write_text

if TYPE_CHECKING:
    from graftlab.finetune.trainer import Trainer

logger = logging.getLogger("graftlab.finetune")

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

    def on_batch_end(self, trainer: Trainer, step: int, logs: dict[str, Any]) -> None:
        pass

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        pass

    def on_fit_end(self, trainer: Trainer) -> None:
        pass


class ProgressBar(Callback):
    """A tqdm bar per epoch counting images, so its rate is img/s and its ETA is the epoch's.

    Args:
        enabled: ``None`` shows the bar only on a terminal (tqdm's rule).
    """

    def __init__(self, enabled: bool | None = None) -> None:
        self.enabled = enabled
        self._bar: Any = None

    def on_epoch_start(self, trainer: Trainer, epoch: int) -> None:
        self._bar = tqdm(
            total=trainer.steps_per_epoch * trainer.config.batch_size,
            desc=f"epoch {epoch + 1}/{trainer.config.epochs}",
            unit="img",
            disable=None if self.enabled is None else not self.enabled,
            leave=False,
            dynamic_ncols=True,
        )

    def on_batch_end(self, trainer: Trainer, step: int, logs: dict[str, Any]) -> None:
        if self._bar is not None:
            self._bar.update(logs["size"])
            self._bar.set_postfix(loss=f"{logs['loss']:.4f}", lr=f"{logs['lr']:.2e}")

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        monitor = trainer.task.monitor
        logger.info(
            "epoch %d/%d  train_loss %.4f  val_loss %.4f  val_%s %.4f  %.0f img/s  "
            "data wait %.0f%%  %.1fs",
            logs["epoch"],
            trainer.config.epochs,
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

    def __init__(self, patience: int = 3) -> None:
        self.patience = patience

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        waited = logs["epoch"] - (trainer.best_epoch_ or 0)
        if waited >= self.patience:
            trainer.stop_training = True
            logger.info(
                "early stopping: val_%s has not improved for %d epochs (best %.4f at epoch %d)",
                trainer.task.monitor,
                waited,
                trainer.best_metric_,
                trainer.best_epoch_,
            )


class Checkpoint(Callback):
    """Write ``last.pt`` (everything needed to resume) and ``best.pt`` (weights) atomically.

    Args:
        directory: Usually ``RUN/weights``.
    """

    order = 100

    def __init__(self, directory: str | Path) -> None:
        self.directory = directory

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        directory = Path(self.directory)
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


def default_callbacks(run_dir: str | Path | None, config: Any) -> list[Callback]:
    """The standard set: progress bar, early stopping (if configured), checkpoints and CSV log
    (when there is a run directory)."""
    callbacks: list[Callback] = [ProgressBar()]
    if config.early_stopping_patience:
        callbacks.append(EarlyStopping(config.early_stopping_patience))
    if run_dir is not None:
        callbacks += [
            Checkpoint(Path(run_dir) / "weights"),
            CSVLogger(Path(run_dir) / "results.csv"),
        ]
    return callbacks
