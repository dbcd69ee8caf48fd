"""Callbacks on their own, driven by a stand-in trainer (no training: milliseconds)."""

import csv
from types import SimpleNamespace

import pytest
import torch

from graftlab.finetune.callbacks import (
    CSV_COLUMNS,
    Callback,
    Checkpoint,
    CSVLogger,
    EarlyStopping,
    ProgressBar,
    default_callbacks,
)
from graftlab.finetune.config import TrainConfig


def logs(epoch, **kw):
    row = {c: 0.5 for c in CSV_COLUMNS if c != "phase"}
    row.update(epoch=epoch, images_per_second=100.0, **kw)
    return row


def fake_trainer(history=(), best_epoch=None):
    model = torch.nn.Linear(2, 3)
    return SimpleNamespace(
        model=model,
        task=SimpleNamespace(monitor="accuracy"),
        config=TrainConfig(epochs=3, batch_size=4),
        steps_per_epoch=2,
        history_=list(history),
        best_epoch_=best_epoch,
        best_metric_=0.9,
        stop_training=False,
        checkpoint_state=lambda: {"format": "graftlab-train-state", "model": model.state_dict()},
    )


def read(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_csv_logger_writes_the_documented_columns_each_epoch(tmp_path):
    path, trainer, cb = tmp_path / "results.csv", fake_trainer(), None
    cb = CSVLogger(path)
    cb.on_fit_start(trainer)
    assert read(path) == [] and path.read_text().strip() == ",".join(CSV_COLUMNS)
    cb.on_epoch_end(trainer, 0, logs(1, val_accuracy=0.25))
    cb.on_epoch_end(trainer, 1, logs(2, val_accuracy=0.75, extra_metric=3.0))
    rows = read(path)
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [(r["phase"], r["epoch"], r["val_accuracy"]) for r in rows] == [
        ("finetune", "1", "0.25"),
        ("finetune", "2", "0.75"),
    ]


def test_csv_logger_keeps_other_phases_and_rebuilds_its_own_from_history(tmp_path):
    path = tmp_path / "results.csv"
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=CSV_COLUMNS)
        w.writeheader()
        w.writerow({"phase": "probe", "epoch": 0, "val_accuracy": 0.6})
        # Rows written after the checkpoint a run resumes from must go.
        for e in (1, 2, 3):
            w.writerow({"phase": "finetune", "epoch": e})
    CSVLogger(path).on_fit_start(fake_trainer(history=[logs(1), logs(2)]))
    assert [(r["phase"], r["epoch"]) for r in read(path)] == [
        ("probe", "0"),
        ("finetune", "1"),
        ("finetune", "2"),
    ]


def test_early_stopping_counts_epochs_since_the_best():
    cb, trainer = EarlyStopping(patience=2), fake_trainer(best_epoch=2)
    cb.on_epoch_end(trainer, 2, logs(3))
    assert not trainer.stop_training
    cb.on_epoch_end(trainer, 3, logs(4))
    assert trainer.stop_training


def test_checkpoint_writes_last_always_and_best_on_the_best_epoch(tmp_path):
    trainer = fake_trainer(best_epoch=1)
    cb = Checkpoint(tmp_path / "weights")
    cb.on_epoch_end(trainer, 0, logs(1))
    best = torch.load(tmp_path / "weights" / "best.pt", weights_only=True)
    assert best["epoch"] == 1 and best["monitor"] == "accuracy"
    best_time = (tmp_path / "weights" / "best.pt").stat().st_mtime_ns
    with torch.no_grad():
        trainer.model.weight.add_(1.0)
    cb.on_epoch_end(trainer, 1, logs(2))  # not the best epoch: best.pt untouched
    assert (tmp_path / "weights" / "best.pt").stat().st_mtime_ns == best_time
    last = torch.load(tmp_path / "weights" / "last.pt", weights_only=True)
    assert torch.equal(last["model"]["weight"], trainer.model.weight)
    assert sorted(p.name for p in (tmp_path / "weights").iterdir()) == ["best.pt", "last.pt"]


def test_checkpoint_runs_after_the_other_callbacks():
    assert Checkpoint("w").order > Callback.order
    assert EarlyStopping().order < Checkpoint("w").order


def test_progress_bar_counts_images_and_shows_loss(capsys):
    trainer, bar = fake_trainer(), ProgressBar(enabled=True)
    bar.on_epoch_start(trainer, 0)
    for step in (1, 2):
        bar.on_batch_end(trainer, step, {"loss": 0.1234, "size": 4, "lr": 1e-3})
    text = bar._bar.format_meter(**bar._bar.format_dict)
    assert "8/8" in text and "img/s" in text and "loss=0.1234" in text
    bar.on_epoch_end(trainer, 0, logs(1, train_loss=0.1, val_loss=0.2, data_wait=0.1))
    assert bar._bar is None
    assert "epoch 1/3" in capsys.readouterr().err


@pytest.mark.parametrize(("run_dir", "patience"), [(None, None), ("run", 3)])
def test_default_callbacks(run_dir, patience, tmp_path):
    cfg = TrainConfig(early_stopping_patience=patience)
    kinds = [type(c).__name__ for c in default_callbacks(run_dir and tmp_path, cfg)]
    if run_dir is None:
        assert kinds == ["ProgressBar"]
    else:
        assert kinds == ["ProgressBar", "EarlyStopping", "Checkpoint", "CSVLogger"]
