"""Callbacks on their own, driven by a stand-in trainer (no training: milliseconds)."""

import csv
import time
from types import SimpleNamespace

import pytest
import torch

from graftlab.finetune.callbacks import (
    CSV_COLUMNS,
    BestWeights,
    Callback,
    Checkpoint,
    CSVLogger,
    EarlyStopping,
    ProgressBar,
    StopOnNaN,
    default_callbacks,
    with_core_callbacks,
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
        best_metric_=0.9 if best_epoch else None,
        best_state_=None,
        stop_training=False,
        stop_now=False,
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


def test_early_stopping_waits_for_the_second_half_of_the_schedule():
    cb, trainer = EarlyStopping(patience=2, min_epochs=6), fake_trainer(best_epoch=1)
    for epoch in range(3, 6):  # 2-4 epochs without improvement, but within the first half
        cb.on_epoch_end(trainer, epoch - 1, logs(epoch))
        assert not trainer.stop_training
    cb.on_epoch_end(trainer, 5, logs(6))
    assert trainer.stop_training
    (stop,) = [
        c
        for c in default_callbacks(None, TrainConfig(epochs=11, early_stopping_patience=3))
        if isinstance(c, EarlyStopping)
    ]
    assert (stop.patience, stop.min_epochs) == (3, 6)


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


def test_checkpoint_keeps_each_epochs_weights_when_asked(tmp_path):
    trainer = fake_trainer(best_epoch=1)
    cb = Checkpoint(tmp_path / "weights", every_epoch=True)
    weights = []
    for epoch, accuracy in enumerate([0.6, 0.7]):
        before = time.time()
        cb.on_epoch_end(trainer, epoch, logs(epoch + 1, val_accuracy=accuracy))
        weights.append(trainer.model.weight.detach().clone())
        with torch.no_grad():
            trainer.model.weight.add_(1.0)
        saved = torch.load(tmp_path / "weights" / f"epoch-{epoch + 1}.pt", weights_only=True)
        assert (saved["format"], saved["epoch"], saved["monitor"]) == (
            "graftlab-epoch",
            epoch + 1,
            "accuracy",
        )
        assert saved["metric"] == accuracy  # the epoch's own metric, not the best one
        # the time the epoch was done: the writing starts then and the file's mtime ends it
        mtime = (tmp_path / "weights" / f"epoch-{epoch + 1}.pt").stat().st_mtime
        assert before <= saved["time"] <= mtime + 0.01
    for epoch, w in enumerate(weights, 1):
        saved = torch.load(tmp_path / "weights" / f"epoch-{epoch}.pt", weights_only=True)
        assert torch.equal(saved["model"]["weight"], w)  # each epoch's own weights
    names = sorted(p.name for p in (tmp_path / "weights").iterdir())
    assert names == ["best.pt", "epoch-1.pt", "epoch-2.pt", "last.pt"]


def test_default_callbacks_keep_every_epoch_only_when_configured(tmp_path):
    for every in (False, True):
        cfg = TrainConfig(save_every_epoch=every)
        (cb,) = [c for c in default_callbacks(tmp_path, cfg) if isinstance(c, Checkpoint)]
        assert cb.every_epoch is every


def test_best_weights_keeps_the_best_epoch_and_restores_it_at_the_end():
    trainer, cb = fake_trainer(), BestWeights()
    for epoch, accuracy in enumerate([0.5, 0.8, float("nan"), 0.7]):
        with torch.no_grad():
            trainer.model.weight.fill_(epoch)
        cb.on_epoch_end(trainer, epoch, logs(epoch + 1, val_accuracy=accuracy))
    assert (trainer.best_epoch_, trainer.best_metric_) == (2, 0.8)
    cb.on_fit_end(trainer)
    assert torch.all(trainer.model.weight == 1.0)  # the weights of epoch 2


def test_best_weights_can_judge_by_another_score():
    class LowestLoss(BestWeights):
        def score(self, trainer, logs):
            return -logs["val_loss"]

    trainer, cb = fake_trainer(), LowestLoss()
    for epoch, loss in enumerate([0.9, 0.3, 0.5]):
        cb.on_epoch_end(trainer, epoch, logs(epoch + 1, val_loss=loss))
    assert trainer.best_epoch_ == 2


def test_stop_on_nan_stops_before_the_step_only_when_the_loss_is_not_finite():
    trainer, cb = fake_trainer(), StopOnNaN()
    cb.on_before_backward(trainer, 3, {"loss": 0.7, "size": 4})
    assert not trainer.stop_now and not trainer.stop_training
    cb.on_before_backward(trainer, 4, {"loss": float("inf"), "size": 4})
    assert trainer.stop_now and trainer.stop_training


def test_core_callbacks_are_added_unless_one_of_their_kind_replaces_them():
    kinds = [type(cb) for cb in with_core_callbacks([Checkpoint("w")])]
    assert kinds == [StopOnNaN, BestWeights, Checkpoint]  # best weights before the checkpoint

    class Smoothed(BestWeights):
        pass

    mine = Smoothed()
    cbs = with_core_callbacks([mine])
    assert mine in cbs and sum(isinstance(cb, BestWeights) for cb in cbs) == 1


def test_checkpoint_runs_after_the_other_callbacks():
    assert Checkpoint("w").order > Callback.order
    assert EarlyStopping().order < Checkpoint("w").order


def test_progress_bar_counts_images_and_shows_loss(capsys):
    trainer, bar = fake_trainer(), ProgressBar(enabled=True)
    bar.on_epoch_start(trainer, 0)
    for step in (1, 2):
        bar.on_batch_end(trainer, step, {"loss": 0.1234, "size": 4, "lr": 1e-3})
    text = bar._bar.format_meter(**bar._bar.format_dict)
    assert "8/8" in text and "img/s" in text and "loss=0.1234" in text and "<" in text  # ETA
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


def test_progress_false_drops_the_bar_and_true_shows_it_off_a_terminal():
    cfg = TrainConfig()
    assert not any(isinstance(c, ProgressBar) for c in default_callbacks(None, cfg, False))
    bar = default_callbacks(None, cfg, True)[0]
    assert isinstance(bar, ProgressBar) and bar.enabled is True
