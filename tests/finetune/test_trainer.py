"""The Trainer: BN policy, frozen parts in eval mode, best-weight restore, early stopping,
results.csv, and exact resumption of a killed run. Tiny models, 32 px images, seconds."""

import csv

import numpy as np
import pytest
import torch

# Five validation images rarely cover three classes; sklearn says so on every epoch.
from _tiny import PRE, _one_thread, config, data, tiny, trainer  # noqa: F401 (_one_thread: fixture)

from graftlab.errors import ArtifactError, ConfigError, DataError
from graftlab.finetune.callbacks import CSV_COLUMNS, Callback, Checkpoint, CSVLogger, EarlyStopping

pytestmark = pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")


class Scripted(Callback):
    """Replaces the task's validation metric by a script, and records the weights each epoch."""

    def __init__(self, accuracies):
        self.accuracies = accuracies
        self.weights = []

    def on_fit_start(self, trainer):
        real = trainer.task.metrics
        values = iter(self.accuracies)
        trainer.task.metrics = lambda p, y: {**real(p, y), "accuracy": next(values)}

    def on_epoch_end(self, trainer, epoch, logs):
        self.weights.append({k: v.clone() for k, v in trainer.model.state_dict().items()})


def running_means(model):
    return [m.running_mean.clone() for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]


def test_fit_returns_self_with_history_and_best_epoch():
    t = trainer()
    assert t.fit() is t
    assert [h["epoch"] for h in t.history_] == [1, 2]
    assert set(CSV_COLUMNS) - {"phase"} <= set(t.history_[0])
    assert t.best_epoch_ in (1, 2)
    assert t.best_metric_ == max(h["val_accuracy"] for h in t.history_)
    assert 0.0 <= t.history_[0]["data_wait"] <= 1.0
    assert t.history_[0]["images_per_second"] > 0
    assert not t.model.training  # handed back in eval mode


def test_training_lowers_the_loss():
    t = trainer(cfg=config(epochs=4, lr=3e-3)).fit()
    assert t.history_[-1]["train_loss"] < t.history_[0]["train_loss"]


@pytest.mark.parametrize("bn", ["frozen", "train"])
def test_bn_running_statistics_frozen_or_updated(bn):
    model = tiny()
    before = running_means(model)
    trainer(model, bn=bn, cfg=config(epochs=1)).fit()
    after = running_means(model)
    unchanged = all(torch.equal(a, b) for a, b in zip(before, after, strict=True))
    assert unchanged == (bn == "frozen")


def test_frozen_stages_run_in_eval_mode_during_training():
    seen = []

    class Spy(Callback):
        def on_batch_end(self, trainer, step, logs):
            m = trainer.model
            seen.append((m.blocks[0].training, m.blocks[4].training, m.bn1.training))

    model = tiny()
    trainer(model, strategy="top-k", unfreeze=1, bn="train", callbacks=[Spy()]).fit()
    assert seen and set(seen) == {(False, True, False)}
    assert not model.conv_stem.weight.requires_grad


def test_dropout_is_active_in_training_and_off_in_validation():
    model = tiny(drop_rate=0.5)
    modes = []

    class Spy(Callback):
        def on_batch_end(self, trainer, step, logs):
            modes.append(trainer.model.training)

    trainer(model, callbacks=[Spy()], cfg=config(epochs=1)).fit()
    assert modes and all(modes)
    x, _ = data(8)
    t = trainer(model)
    p1, p2 = t.predict_proba(x), t.predict_proba(x)
    np.testing.assert_array_equal(p1, p2)  # eval mode: deterministic


def test_the_best_epoch_weights_are_restored():
    script = Scripted([0.5, 0.9, 0.1])
    t = trainer(callbacks=[script], cfg=config(epochs=3, lr=3e-3)).fit()
    assert t.best_epoch_ == 2 and t.best_metric_ == 0.9
    final = t.model.state_dict()
    assert all(torch.equal(final[k], script.weights[1][k]) for k in final)
    assert not all(torch.equal(final[k], script.weights[2][k]) for k in final)


def test_best_checkpoint_file_holds_the_best_epoch(tmp_path):
    script = Scripted([0.5, 0.9, 0.1])
    t = trainer(callbacks=[script, Checkpoint(tmp_path)], cfg=config(epochs=3)).fit()
    best = torch.load(tmp_path / "best.pt", weights_only=True)
    assert best["epoch"] == 2 and best["metric"] == 0.9
    assert all(torch.equal(best["model"][k], script.weights[1][k]) for k in best["model"])
    last = torch.load(tmp_path / "last.pt", weights_only=True)
    assert last["epoch"] == 3
    # The epoch's validated weights are the average; the steps continue from "model".
    assert all(torch.equal(last["ema"][k], script.weights[2][k]) for k in last["ema"])
    assert not all(torch.equal(last["model"][k], script.weights[2][k]) for k in last["ema"])
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp files
    assert t.best_epoch_ == 2


def test_a_non_finite_loss_stops_the_run_before_the_step_and_keeps_the_best_weights():
    class NaNAtStep(Callback):
        """The loss of the given step (counted over the run) becomes NaN."""

        def __init__(self, step):
            self.step, self.weights = step, None

        def on_fit_start(self, trainer):
            real, calls = trainer.task.loss, []

            def loss(logits, y):
                value = real(logits, y)
                if torch.is_inference_mode_enabled():  # validation
                    return value
                calls.append(1)
                return value * float("nan") if len(calls) == self.step else value

            trainer.task.loss = loss

        def on_before_backward(self, trainer, step, logs):
            if not np.isfinite(logs["loss"]):
                self.weights = {k: v.clone() for k, v in trainer.model.state_dict().items()}

    spy = NaNAtStep(5)  # 2 steps per epoch: the first step of epoch 3
    t = trainer(callbacks=[spy], cfg=config(epochs=4)).fit()
    assert t.stop_training and [h["epoch"] for h in t.history_] == [1, 2, 3]
    assert t.step_ == 4  # the NaN step was not applied
    assert all(torch.isfinite(v).all() for v in spy.weights.values() if v.is_floating_point())
    assert t.best_epoch_ in (1, 2, 3)


def test_best_weights_callback_can_be_swapped():
    from graftlab.finetune.callbacks import BestWeights

    class LowestLoss(BestWeights):
        def score(self, trainer, logs):
            return -logs["val_loss"]

    t = trainer(callbacks=[LowestLoss()], cfg=config(epochs=3, lr=3e-3)).fit()
    losses = [h["val_loss"] for h in t.history_]
    assert t.best_epoch_ == 1 + int(np.argmin(losses))


def test_early_stopping_ends_the_run_after_patience_epochs():
    t = trainer(
        callbacks=[Scripted([0.9, 0.1, 0.2, 0.3, 0.4]), EarlyStopping(2)], cfg=config(epochs=5)
    )
    t.fit()
    assert [h["epoch"] for h in t.history_] == [1, 2, 3]
    assert t.stop_training and t.best_epoch_ == 1


def test_results_csv_has_the_documented_columns(tmp_path):
    path = tmp_path / "results.csv"
    trainer(callbacks=[CSVLogger(path)]).fit()
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [r["phase"] for r in rows] == ["finetune", "finetune"]
    assert [r["epoch"] for r in rows] == ["1", "2"]
    assert all(r[c] != "" for r in rows for c in CSV_COLUMNS)


class Interrupt(Callback):
    """Kills the run when the given epoch is about to start (as a crash or Ctrl-C would)."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_start(self, trainer, epoch):
        if epoch == self.epoch:
            raise KeyboardInterrupt


def test_a_resumed_run_ends_with_the_same_weights_as_an_uninterrupted_one(tmp_path):
    # gradual: the strategy's state (unfrozen stages, added groups) must survive too;
    # dropout and augmentation: the torch RNG and the data generator must.
    cfg = config(epochs=3, deterministic=True, lr=3e-3, augment="light")
    make = lambda cbs: trainer(tiny(drop_rate=0.3), "gradual", cbs, cfg)  # noqa: E731
    whole = make([Checkpoint(tmp_path / "a"), CSVLogger(tmp_path / "a.csv")]).fit()
    with pytest.raises(KeyboardInterrupt):
        make([Checkpoint(tmp_path / "b"), CSVLogger(tmp_path / "b.csv"), Interrupt(1)]).fit()
    assert torch.load(tmp_path / "b" / "last.pt", weights_only=True)["epoch"] == 1
    resumed = make([Checkpoint(tmp_path / "b"), CSVLogger(tmp_path / "b.csv")])
    resumed.resume(tmp_path / "b" / "last.pt")

    a = torch.load(tmp_path / "a" / "last.pt", weights_only=True)
    b = torch.load(tmp_path / "b" / "last.pt", weights_only=True)
    assert a["epoch"] == b["epoch"] == 3
    for part in ("model", "ema"):
        for key in a[part]:
            torch.testing.assert_close(b[part][key], a[part][key], rtol=0, atol=1e-6)
    assert [h["val_loss"] for h in resumed.history_] == [h["val_loss"] for h in whole.history_]
    assert resumed.best_epoch_ == whole.best_epoch_
    assert (tmp_path / "a.csv").read_text().count("\n") == (tmp_path / "b.csv").read_text().count(
        "\n"
    )


def test_a_resumed_run_has_every_epochs_weights_as_an_uninterrupted_one(tmp_path):
    cfg = config(epochs=3, deterministic=True, lr=3e-3, save_every_epoch=True)
    make = lambda d, *more: trainer(  # noqa: E731
        callbacks=[Checkpoint(d, every_epoch=True), *more], cfg=cfg
    )
    make(tmp_path / "a").fit()
    with pytest.raises(KeyboardInterrupt):
        make(tmp_path / "b", Interrupt(1)).fit()
    assert sorted(p.name for p in (tmp_path / "b").glob("epoch-*")) == ["epoch-1.pt"]
    make(tmp_path / "b").resume(tmp_path / "b" / "last.pt")
    for n in (1, 2, 3):
        a = torch.load(tmp_path / "a" / f"epoch-{n}.pt", weights_only=True)
        b = torch.load(tmp_path / "b" / f"epoch-{n}.pt", weights_only=True)
        assert a["epoch"] == b["epoch"] == n
        for key in a["model"]:
            torch.testing.assert_close(b["model"][key], a["model"][key], rtol=0, atol=1e-6)
    last = torch.load(tmp_path / "b" / "last.pt", weights_only=True)
    # The epoch's file holds the weights validated: the average (the steps go on from "model").
    assert all(torch.equal(last["ema"][k], b["model"][k]) for k in last["ema"])


def test_a_checkpoint_written_before_save_every_epoch_existed_still_resumes(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        trainer(callbacks=[Checkpoint(tmp_path), Interrupt(1)]).fit()
    state = torch.load(tmp_path / "last.pt", weights_only=True)
    del state["config"]["save_every_epoch"]  # as an older graftlab wrote it
    torch.save(state, tmp_path / "last.pt")
    resumed = trainer(callbacks=[Checkpoint(tmp_path, every_epoch=True)]).resume(
        tmp_path / "last.pt"
    )
    assert resumed.epoch_ == 2 and (tmp_path / "epoch-2.pt").is_file()
    assert not (tmp_path / "epoch-1.pt").exists()  # epoch 1 ran before the option


def test_resume_without_the_data_order_state_would_differ(tmp_path):
    """Guards the test above: dropping the data generator's state changes the result."""
    cfg = config(epochs=2, deterministic=True, lr=3e-3)
    make = lambda cbs: trainer(tiny(), "lp-ft", cbs, cfg)  # noqa: E731
    whole = make([]).fit()
    with pytest.raises(KeyboardInterrupt):
        make([Checkpoint(tmp_path), Interrupt(1)]).fit()
    state = torch.load(tmp_path / "last.pt", weights_only=True)
    state["rng"]["data"] = torch.Generator().manual_seed(123).get_state()
    torch.save(state, tmp_path / "last.pt")
    resumed = make([]).resume(tmp_path / "last.pt")
    assert resumed.history_[-1]["train_loss"] != whole.history_[-1]["train_loss"]


def test_resume_with_another_config_is_refused(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        trainer(callbacks=[Checkpoint(tmp_path), Interrupt(1)], cfg=config(lr=2e-3)).fit()
    with pytest.raises(ConfigError, match=r"lr: 0.002 -> 0.01"):
        trainer(cfg=config(lr=1e-2)).resume(tmp_path / "last.pt")


def test_resume_from_best_pt_is_refused_with_a_pointer_to_last(tmp_path):
    trainer(callbacks=[Checkpoint(tmp_path)], cfg=config(epochs=1)).fit()
    with pytest.raises(ArtifactError, match=r"RUN/weights/last\.pt"):
        trainer().resume(tmp_path / "best.pt")


def test_images_that_are_not_uint8_squares_are_a_data_error():
    t = trainer()
    t.train = (np.zeros((8, 36, 36, 3), np.float32), np.zeros(8, int))
    with pytest.raises(DataError, match="uint8"):
        t.fit()
    t.train = (np.zeros((8, 36, 36, 3), np.uint8), np.zeros(7, int))
    with pytest.raises(DataError, match="8 images and 7 labels"):
        t.fit()


def test_bad_config_is_a_config_error_saying_what_to_do():
    with pytest.raises(ConfigError, match=r"Got lr=3\. Did you mean 3e-3\?"):
        trainer(cfg=config(lr=3)).fit()


def test_predict_proba_gives_probabilities_in_eval_mode():
    t = trainer().fit()
    x, _ = data(5)
    p = t.predict_proba(x)
    assert p.shape == (5, 3) and p.dtype == np.float32
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)


def test_bf16_autocast_runs_on_cpu():
    t = trainer(cfg=config(epochs=1, precision="bf16", channels_last=True)).fit()
    assert t.config_.precision == "bf16" and t.config_.channels_last is True
    assert np.isfinite(t.history_[0]["train_loss"])


def test_background_batch_threads_give_the_same_run_as_none():
    runs = [trainer(cfg=config(epochs=1, num_workers=w, deterministic=True)).fit() for w in (0, 2)]
    assert runs[0].history_[0]["train_loss"] == runs[1].history_[0]["train_loss"]


def test_summary_says_what_was_built():
    t = trainer(strategy="top-k", unfreeze=1).fit()
    text = t.summary_
    assert "precision fp32" in text and "channels_last False" in text
    assert "warm-up" in text and "BatchNorm: frozen" in text and "head" in text
    assert "preprocessing:" in text and "'input_size': 32" in text
    assert "frozen (eval mode)" in text


def test_auto_precision_and_memory_format_are_resolved_and_recorded():
    t = trainer(cfg=config(epochs=1, precision="auto", channels_last="auto")).fit()
    assert t.config_.precision in ("fp32", "bf16", "fp16")
    assert isinstance(t.config_.channels_last, bool) and t.config_.device == "cpu"
    assert f"precision {t.config_.precision}" in t.summary_


def test_a_non_finite_loss_stops_the_run_before_it_poisons_the_weights():
    t = trainer(cfg=config(epochs=3))
    real, calls = t.task.loss, []

    def loss(logits, y):
        calls.append(1)
        value = real(logits, y)
        return value * float("nan") if len(calls) == 2 and logits.requires_grad else value

    t.task.loss = loss
    t.fit()
    assert t.stop_training and [h["epoch"] for h in t.history_] == [1]
    assert all(torch.isfinite(p).all() for p in t.model.parameters())


def test_learning_rate_warms_up_then_follows_a_cosine():
    lrs = []

    class Spy(Callback):
        def on_batch_end(self, trainer, step, logs):
            lrs.append(logs["lr"])

    t = trainer(callbacks=[Spy()], cfg=config(epochs=2, lr=1e-3, warmup_steps=2)).fit()
    assert t.steps_per_epoch == 2
    assert lrs == pytest.approx([1e-3 / 3, 2e-3 / 3, 1e-3, 0.5e-3])


@pytest.mark.parametrize(("strategy", "kw"), [("lp-ft", {}), ("top-k", {"unfreeze": 1})])
def test_compile_wraps_exactly_the_part_that_trains(monkeypatch, strategy, kw):
    compiled = []

    def fake_compile(module):  # records what would be compiled and runs it eagerly
        compiled.append(module)
        return module

    monkeypatch.setattr(torch, "compile", fake_compile)
    t = trainer(strategy=strategy, cfg=config(compile=True), **kw).fit()
    expected = t.boundary_.upper if t.boundary_ is not None else t.model
    assert compiled == [expected]
    assert (t.boundary_ is not None) == (strategy == "top-k")
    assert "torch.compile" in t.summary_.splitlines()[1]  # the execution line says so
    assert all(not k.startswith("_orig_mod") for k in t.model.state_dict())

    compiled.clear()
    assert "torch.compile" not in trainer(strategy=strategy, **kw).fit().summary_
    assert compiled == []


def test_compile_must_be_a_bool():
    with pytest.raises(ConfigError, match="'compile'"):
        config(compile="yes").validate()


def test_batches_are_pinned_only_for_a_cuda_device():
    from graftlab.finetune.trainer import _pins_memory
    from graftlab.hardware import Execution

    assert _pins_memory(Execution("cuda:0", "bf16", True))
    assert not _pins_memory(Execution("cpu", "fp32", False))
