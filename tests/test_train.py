"""graftlab.train: the run directory, the probe fallback rule, resume."""

import csv
import json

import numpy as np
import pytest
import torch
from PIL import Image

from graftlab.artifacts import load_artifact
from graftlab.errors import ConfigError
from graftlab.finetune.config import TrainConfig
from graftlab.finetune.task import Task
from graftlab.finetune.trainer import Trainer
from graftlab.train import (
    FineTuneStep,
    Interpolation,
    Scores,
    Selection,
    mix_weights,
    resume_training,
    run_training,
    select_model,
)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Three colour classes, 12 images each: tiny, but a real folder of real PNG files."""
    root = tmp_path_factory.mktemp("colours")
    rng = np.random.default_rng(0)
    for k, name in enumerate(["blue", "green", "red"]):
        (root / name).mkdir()
        for i in range(12):
            a = rng.integers(0, 90, (20, 20, 3)).astype(np.uint8)
            a[..., 2 - k] += 140
            Image.fromarray(a).save(root / name / f"{i}.png")
    return root


QUIET = {"progress": False, "verbose": False, "report": False}


def _config(**kw):
    base = dict(
        backbone="test_efficientnet",
        weights="none",
        image_size=32,
        epochs=1,
        batch_size=8,
        precision="fp32",
        channels_last=False,
        early_stopping_patience=None,
    )
    return TrainConfig(**{**base, **kw})


def _rows(run):
    with open(run / "results.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def test_run_directory_has_every_file_of_the_contract(data, tmp_path):
    result = run_training(data, _config(), run_dir=tmp_path / "run", **QUIET)
    run = result.run_dir
    for name in (
        "config.json",
        "preprocess.json",
        "manifest.csv",
        "classes.json",
        "dataset.json",
        "results.csv",
        "summary.json",
        "findings.json",
        "weights/last.pt",
        "weights/best.pt",
        "model/model.safetensors",
        "model/graftlab.json",
        "predictions/val.npz",
        "predictions/test.npz",
    ):
        assert (run / name).is_file(), name
    assert not list((run / "weights").glob("epoch-*"))  # only with save_every_epoch
    summary = json.loads((run / "summary.json").read_text())
    assert summary["selected"] in ("probe", "finetune", "interpolated") and summary["reason"]
    assert summary["interpolated"]["alpha"] == 0.5 and "accuracy" in summary["interpolated"]["val"]
    assert set(summary["probe"]) == {"val", "test"} and set(summary["finetune"]) == {"val", "test"}
    assert summary["probe"]["val"]["accuracy"] > 0.5  # beats chance (1/3) on easy colours
    assert {"features_train", "probe", "finetune", "total"} <= set(summary["timings"])
    # CPU seconds beside wall time, per step: the steadier figure on a shared machine
    cpu = summary["cpu_seconds"]
    steps = {"data", "backbone", "features_train", "near_duplicates", "probe", "finetune"}
    assert steps <= set(cpu) and all(v >= 0 for v in cpu.values())
    assert cpu["total"] >= sum(cpu[k] for k in steps) - 0.01 and cpu["features_train"] > 0
    phases = [r["phase"] for r in _rows(run)]
    assert phases == ["probe", "finetune"]
    # The image-size override reaches every phase: preprocessing file, artifact, predictions.
    assert json.loads((run / "preprocess.json").read_text())["input_size"] == 32
    art = load_artifact(run)
    assert art.preprocess.input_size == 32 and art.classes == ["blue", "green", "red"]
    val = np.load(run / "predictions" / "val.npz")
    assert val["probs"].shape == (len(val["labels"]), 3) and len(val["paths"]) == len(val["labels"])
    assert TrainConfig.from_dict(json.loads((run / "config.json").read_text())) == _config()


def test_finetune_that_ends_worse_exports_the_probe_and_says_why(data, tmp_path, monkeypatch):
    seen = {}

    def harmful_fit(self):
        # A fine-tune that wrecks the backbone and swaps the head's rows.
        seen["stem"] = self.model.conv_stem.weight.detach().clone()
        with torch.no_grad():
            self.model.conv_stem.weight.mul_(-3.0)
            head = self.model.get_classifier()
            head.weight.copy_(head.weight.roll(1, dims=0))
            head.bias.copy_(head.bias.roll(1, dims=0))
        self.history_ = [
            {
                "epoch": 1,
                "train_loss": 0.5,
                "train_accuracy": 0.9,
                "val_loss": 2.0,
                "val_accuracy": 0.1,
            }
        ]
        return self

    monkeypatch.setattr(Trainer, "fit", harmful_fit)
    result = run_training(data, _config(), run_dir=tmp_path / "run", **QUIET)
    s = result.summary
    assert s["selected"] == "probe"
    assert "worse on validation" in s["reason"] and "Likely cause" in s["reason"]
    assert s["finetune"]["val"]["accuracy"] < s["probe"]["val"]["accuracy"]
    # The exported model is the pretrained backbone with the probe head.
    art = load_artifact(result.run_dir)
    assert torch.equal(art.model.conv_stem.weight, seen["stem"])
    weight, bias = result.probe.head_weights()
    assert torch.equal(art.model.get_classifier().weight, weight)
    assert torch.equal(art.model.get_classifier().bias, bias)
    val = np.load(result.run_dir / "predictions" / "val.npz")
    assert (val["probs"].argmax(1) == val["labels"]).mean() == s["probe"]["val"]["accuracy"]


def test_a_finetune_of_its_last_step_that_changes_nothing_exports_the_halfway_weights(
    data, tmp_path, monkeypatch
):
    seen = {}

    def small_fit(self):
        seen["stem"] = self.model.conv_stem.weight.detach().clone()
        seen["head"] = self.model.get_classifier().weight.detach().clone()
        with torch.no_grad():
            self.model.conv_stem.weight.add_(1e-3)  # predictions do not move: a tie everywhere
        self.history_ = [{"epoch": 1, "train_loss": 0.5, "val_loss": 0.5, "val_accuracy": 0.9}]
        return self

    monkeypatch.setattr(Trainer, "fit", small_fit)
    result = run_training(data, _config(ema=None), run_dir=tmp_path / "run", **QUIET)
    s = result.summary
    assert s["selected"] == "interpolated" and "halfway" in s["reason"]
    assert s["interpolated"]["test"] is not None and s["interpolated"]["alpha"] == 0.5
    art = load_artifact(result.run_dir)
    assert torch.allclose(art.model.conv_stem.weight, seen["stem"] + 0.5e-3, atol=1e-6)
    assert not torch.allclose(art.model.conv_stem.weight, seen["stem"] + 1e-3, atol=1e-4)
    assert torch.equal(art.model.get_classifier().weight, seen["head"])
    val = np.load(result.run_dir / "predictions" / "val.npz")
    acc = (val["probs"].argmax(1) == val["labels"]).mean()
    assert acc == pytest.approx(s["interpolated"]["val"]["accuracy"])


def test_auto_interpolation_only_when_validation_is_small():
    from types import SimpleNamespace

    from graftlab.train import interpolate

    task = Task("multiclass", 3)
    strategy = SimpleNamespace(init_head="probe")

    def run(n_val):
        data = SimpleNamespace(task=task, decisions=[])
        feats = SimpleNamespace(y={"val": np.arange(n_val) % 3})
        built = SimpleNamespace(strategy=strategy)  # no model: a large split returns first
        ft = SimpleNamespace(config=_config(interpolate="auto"))
        return interpolate(built, data, feats, ft, _config(), None), data.decisions

    mid, (decision,) = run(600)
    assert mid is None and decision.option == "interpolate" and decision.value == "none"
    assert "600 validation images" in decision.reason
    with pytest.raises(AttributeError):  # small: it goes on to build the halfway weights
        run(60)


def test_mix_weights_is_linear_and_keeps_integer_counters():
    start = {"w": torch.zeros(3), "n": torch.tensor(0)}
    end = {"w": torch.full((3,), 2.0), "n": torch.tensor(7)}
    mixed = mix_weights(start, end, 0.25)
    assert torch.equal(mixed["w"], torch.full((3,), 0.5)) and int(mixed["n"]) == 7


def _select_three(ft_right: int, mid_right: int, **config) -> Selection:
    """select_model on 60 validation images of 3 classes, the probe right on 45."""
    task = Task("multiclass", 3)
    y = np.arange(60) % 3

    def logits(right: int) -> np.ndarray:
        pred = np.where(np.arange(60) < right, y, (y + 1) % 3)
        return 4.0 * np.eye(3, dtype=np.float32)[pred]

    class Strategy:
        init_head = "probe"

    class FakeTrainer:
        history_ = ({"val_accuracy": 0.6, "train_accuracy": 0.7, "train_loss": 1.0},)

    probe = Scores(logits(45), 0.5, {"accuracy": 0.75})
    ft = FineTuneStep(FakeTrainer, Scores(logits(ft_right), 0.4, {}), None, {}, 0.0, y_val=y)
    mid = Interpolation(0.5, {}, Scores(logits(mid_right), 0.4, {}), 0.0)
    return select_model(task, Strategy, _config(**config), probe, ft, mid)


def test_last_step_weights_lose_ties_to_the_interpolated_candidate():
    assert _select_three(47, 46, ema=None).selected == "interpolated"  # ties: halfway weights
    assert _select_three(60, 46, ema=None).selected == "finetune"  # beats both beyond noise
    assert _select_three(60, 30, ema=None).selected == "finetune"
    worse = _select_three(20, 20, ema=None)  # both worse than the probe: the probe
    assert worse.selected == "probe" and "worse on validation" in worse.reason


def test_the_averaged_fine_tuned_model_wins_ties_and_loses_when_worse_beyond_noise():
    tie = _select_three(47, 46)  # the default: the fine-tuned weights are the steps' average
    assert tie.selected == "finetune" and "a tie goes to the fine-tuned average" in tie.reason
    assert _select_three(44, 46).selected == "finetune"  # a few images: noise
    below_mid = _select_three(30, 46)  # worse than the halfway weights beyond noise
    assert below_mid.selected == "interpolated" and "worse than them" in below_mid.reason
    worse = _select_three(20, 20)
    assert worse.selected == "probe" and "worse on validation" in worse.reason


def test_interpolate_option_is_checked():
    TrainConfig(interpolate=None).validate()
    TrainConfig(interpolate=0.3).validate()
    with pytest.raises(ConfigError, match="'interpolate' must be"):
        TrainConfig(interpolate=1.5).validate()
    with pytest.raises(ConfigError, match="starts from a random head"):
        TrainConfig(strategy="full", interpolate=0.5).validate()
    TrainConfig(strategy="full").validate()  # "auto" simply has no candidate there


def test_selection_is_paired_on_validation_and_a_tie_goes_to_the_probe():
    task = Task("multiclass", 3)
    y = np.arange(30) % 3

    def logits(right: int) -> np.ndarray:
        """Confident logits, right on the first ``right`` images."""
        pred = np.where(np.arange(30) < right, y, (y + 1) % 3)
        return 4.0 * np.eye(3, dtype=np.float32)[pred]

    probe = Scores(logits(24), 0.5, {"accuracy": 0.80})

    class Strategy:
        init_head = "probe"

    class FakeTrainer:
        history_ = ({"val_accuracy": 0.6, "train_accuracy": 0.7, "train_loss": 1.0},)

    def ft(right):
        val = Scores(logits(right), 0.4, {"accuracy": right / 30})
        return FineTuneStep(FakeTrainer, val, None, {}, 0.0, y_val=y)

    def select(finetuned, **config):
        return select_model(task, Strategy, _config(**config), probe, finetuned)

    better = select(ft(30))
    assert better.selected == "finetune" and better.comparison.diff == pytest.approx(0.2)
    tie = select(ft(24))  # the same images right: a tie goes to the simpler model
    assert tie.selected == "probe" and "tie goes to the simpler model" in tie.reason
    worse = select(ft(12), lr=3e-3)
    assert worse.selected == "probe" and "learning rate 0.003 is likely too high" in worse.reason
    assert select(None, strategy="lp").selected == "probe"


def test_lp_strategy_skips_the_trainer(data, tmp_path, monkeypatch):
    monkeypatch.setattr(Trainer, "fit", lambda self: pytest.fail("lp must not fine-tune"))
    result = run_training(data, _config(strategy="lp"), run_dir=tmp_path / "run", **QUIET)
    assert result.summary["selected"] == "probe" and result.summary["finetune"] is None
    assert [r["phase"] for r in _rows(result.run_dir)] == ["probe"]


def test_save_every_epoch_keeps_each_epochs_weights_that_load_and_predict(data, tmp_path):
    import graftlab

    config = _config(epochs=2, save_every_epoch=True)
    run = run_training(data, config, run_dir=tmp_path / "run", **QUIET).run_dir
    files = sorted(p.name for p in (run / "weights").iterdir())
    assert files == ["best.pt", "epoch-1.pt", "epoch-2.pt", "last.pt"]
    images = [str(p) for p in sorted(data.rglob("*.png"))[::6]]
    models = {n: graftlab.load(run, weights=f"epoch-{n}") for n in (1, 2)}
    head = {n: m.model_.get_classifier().weight for n, m in models.items()}
    assert not torch.equal(head[1], head[2])  # two epochs, two models
    probs = {n: m.predict_proba(images) for n, m in models.items()}
    best = torch.load(run / "weights" / "best.pt", weights_only=True)["epoch"]
    by_best = graftlab.load(run, weights=run / "weights" / "best.pt").predict_proba(images)
    np.testing.assert_array_equal(probs[best], by_best)


def test_resume_continues_an_interrupted_run(data, tmp_path):
    class Killed(Exception):
        pass

    from graftlab.finetune.callbacks import Callback

    class KillAtEpoch2(Callback):
        def on_epoch_start(self, trainer, epoch):
            if epoch == 1:
                raise Killed

    config = _config(epochs=2)
    with pytest.raises(Killed):
        run_training(data, config, run_dir=tmp_path / "run", callbacks=[KillAtEpoch2()], **QUIET)
    assert not (tmp_path / "run" / "summary.json").exists()
    resumed = resume_training(tmp_path / "run", **QUIET)
    assert [r["epoch"] for r in _rows(resumed.run_dir)] == ["0", "1", "2"]
    full = run_training(data, config, run_dir=tmp_path / "full", **QUIET)
    a = np.load(resumed.run_dir / "predictions" / "val.npz")["probs"]
    b = np.load(full.run_dir / "predictions" / "val.npz")["probs"]
    np.testing.assert_allclose(a, b, atol=1e-5)


def test_multilabel_csv_trains_sigmoid_heads_scored_by_map(tmp_path):
    rng = np.random.default_rng(0)
    rows = ["path,label"]
    for i in range(30):
        red, blue = i % 2, (i // 2) % 2
        a = rng.integers(0, 60, (20, 20, 3)).astype(np.uint8)
        a[..., 0] += 180 * red
        a[..., 2] += 180 * blue
        Image.fromarray(a).save(tmp_path / f"{i}.png")
        labels = [n for n, on in (("red", red), ("blue", blue)) if on] or ["none"]
        rows.append(f"{i}.png," + "|".join(labels))
    (tmp_path / "labels.csv").write_text("\n".join(rows) + "\n")
    result = run_training(
        tmp_path / "labels.csv", _config(strategy="lp"), run_dir=tmp_path / "run", **QUIET
    )
    s = result.summary
    assert s["task"] == "multilabel" and s["monitor"] == "mAP"
    assert "mAP" in s["probe"]["val"] and len(s["probe"]["val"]["per_label_f1"]) == 3
    art = load_artifact(result.run_dir)
    assert art.meta["head"]["activation"] == "sigmoid" and art.meta["head"]["out_features"] == 3
    val = np.load(result.run_dir / "predictions" / "val.npz")
    assert val["probs"].shape == val["labels"].shape == (len(val["paths"]), 3)


def test_the_run_records_its_execution_and_a_resume_keeps_it(data, tmp_path, monkeypatch):
    import graftlab.train as train

    config = _config(epochs=1, precision="auto", channels_last="auto", batch_size=4)
    result = run_training(data, config, run_dir=tmp_path / "run", **QUIET)
    record = json.loads((tmp_path / "run" / "execution.json").read_text())
    rule = train.decide_execution("cpu", train=True)
    assert record["train"]["precision"] == rule.dtype and record["threads"] >= 1
    assert record["train"]["batch_size"] == 4  # the training batch, not the inference one
    s = result.summary
    assert s["train_execution"]["batch_size"] == 4 and s["threads"] == record["threads"]
    assert "override" not in s["train_execution"]["reason"]
    # Nothing was configured: the trainer's own account says the rule chose, not the config.
    assert "by rule for training" in result.trainer.summary_
    assert "as configured" not in result.trainer.summary_
    # The machine's rule changes (another CPU): a resumed run keeps what it recorded, says so.
    other = "bf16" if rule.dtype == "fp32" else "fp32"
    monkeypatch.setattr(train, "decide_execution", _forcing(train.decide_execution, other))
    again = train.resolve_execution(config, 32, train=True, recorded=record["train"])
    assert again.dtype == rule.dtype and f"rule would pick {other}" in again.reason


def _forcing(decide, dtype):
    def forced(device, *, train=False, precision="auto", channels_last="auto"):
        return decide(
            device,
            train=train,
            precision=dtype if precision == "auto" else precision,
            channels_last=channels_last,
        )

    return forced


def test_near_duplicates_are_recorded_and_stop_the_run_only_when_strict(
    data, tmp_path, monkeypatch
):
    import graftlab.train as train
    from graftlab.doctor.findings import Finding
    from graftlab.errors import DataError

    seen = {}

    def fake(features_by_split, paths_by_split=None, **kw):
        seen["splits"] = {s: len(f) for s, f in features_by_split.items()}
        return [
            Finding("GL999", "data-leakage", "error", "near-duplicates", "3 of 6", "why", "fix")
        ]

    monkeypatch.setattr(train, "near_duplicates", fake)
    config = _config(strategy="lp")
    result = run_training(data, config, run_dir=tmp_path / "a", **QUIET)
    n_val = len(np.load(tmp_path / "a" / "predictions" / "val.npz")["labels"])
    assert set(seen["splits"]) == {"train", "val", "test"} and seen["splits"]["val"] == n_val
    codes = [f["code"] for f in json.loads((result.run_dir / "findings.json").read_text())]
    assert "GL999" in codes
    with pytest.raises(DataError, match="GL999"):
        run_training(data, config, run_dir=tmp_path / "b", strict=True, **QUIET)


def test_a_failed_run_leaves_no_run_directory_and_one_with_a_checkpoint_is_marked(data, tmp_path):
    """Issue 14: every failed `train` used to leave an expN directory behind."""
    from graftlab.errors import DataError

    one_class = tmp_path / "one"
    (one_class / "only").mkdir(parents=True)
    for i in range(4):
        Image.fromarray(np.full((20, 20, 3), 9 * i, np.uint8)).save(one_class / "only" / f"{i}.png")
    with pytest.raises(DataError):
        run_training(one_class, _config(), project=tmp_path / "runs", **QUIET)
    assert not (tmp_path / "runs" / "train" / "exp").exists()

    class Boom(RuntimeError):
        pass

    from graftlab.finetune.callbacks import Callback

    class FailAfterFirstEpoch(Callback):
        order = 200  # after the checkpoint of the epoch is written

        def on_epoch_end(self, trainer, epoch, logs):
            raise Boom("disk on fire")

    with pytest.raises(Boom):
        run_training(
            data,
            _config(epochs=2),
            project=tmp_path / "runs",
            callbacks=[FailAfterFirstEpoch()],
            **QUIET,
        )
    run = tmp_path / "runs" / "train" / "exp"
    assert (run / "weights" / "last.pt").is_file()
    assert (run / "FAILED").read_text().startswith("Boom: disk on fire")
    resume_training(run, **QUIET)
    assert not (run / "FAILED").exists() and (run / "summary.json").is_file()
