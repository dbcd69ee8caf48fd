"""graftlab.doctor.monitors: trainer callbacks that report a failing run while it trains."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

from graftlab.doctor import monitors as M


class FakePreprocess:
    def eval_batch(self, u8):
        return u8.permute(0, 3, 1, 2).float() / 127.5 - 1.0


def fake_trainer(model=None, *, k=3, val_labels=None, predict=None, strategy=None, train=None):
    val_labels = np.asarray(val_labels if val_labels is not None else [0, 1, 2] * 4)
    images = np.random.default_rng(0).integers(0, 255, (len(val_labels), 8, 8, 3), np.uint8)
    return SimpleNamespace(
        model=model,
        task=SimpleNamespace(num_outputs=k, kind="multiclass"),
        strategy=strategy,
        preprocess=FakePreprocess(),
        train=train if train is not None else (images, val_labels),
        val=(images, val_labels),
        predict_proba=predict,
        findings=[],
        stop_training=False,
    )


def one_hot_probs(pred, k=3):
    return np.eye(k, dtype=np.float32)[np.asarray(pred)]


def test_default_monitors_are_trainer_callbacks():
    from graftlab.finetune.callbacks import Callback

    monitors = M.default_monitors()
    assert len({type(m) for m in monitors}) == 6
    assert all(isinstance(m, Callback) for m in monitors)


# -- predictions ---------------------------------------------------------------------------


def test_constant_predictions_for_two_epochs_stop_training_with_the_class():
    t = fake_trainer(predict=lambda x: one_hot_probs([1] * len(x)))
    mon = M.ConstantPredictionMonitor()
    logs = {"val_accuracy": 1 / 3, "val_balanced_accuracy": 1 / 3}
    mon.on_epoch_end(t, 0, {**logs, "epoch": 1})
    assert t.findings == [] and not t.stop_training  # one epoch can be a fluke
    mon.on_epoch_end(t, 1, {**logs, "epoch": 2})
    [f] = t.findings
    assert (f.code, f.category, f.severity) == ("GL611", "trivial-accuracy", "error")
    assert "class 1" in f.title and "epoch 2" in f.evidence
    assert t.stop_training
    mon.on_epoch_end(t, 2, {**logs, "epoch": 3})
    assert len(t.findings) == 1  # reported once


def test_varied_predictions_and_a_balanced_accuracy_off_one_over_k_are_fine():
    def never(x):
        raise AssertionError("balanced accuracy already rules a single class out")

    t = fake_trainer(predict=never)
    mon = M.ConstantPredictionMonitor()
    for e in range(3):
        mon.on_epoch_end(t, e, {"val_balanced_accuracy": 0.62})
    t2 = fake_trainer(predict=lambda x: one_hot_probs(np.arange(len(x)) % 3))
    for e in range(3):
        mon.on_epoch_end(t2, e, {"val_balanced_accuracy": 1 / 3})
    assert t.findings == t2.findings == []


def test_val_probs_in_the_logs_are_used_directly_and_stop_can_be_disabled():
    t = fake_trainer()
    mon = M.ConstantPredictionMonitor(patience=1, stop=False)
    mon.on_epoch_end(t, 0, {"val_probs": one_hot_probs([2, 2, 2])})
    assert [f.code for f in t.findings] == ["GL611"] and not t.stop_training


def test_accuracy_at_the_majority_share_or_chance():
    t = fake_trainer(val_labels=[0] * 6 + [1] * 3 + [2] * 1)
    mon = M.TrivialAccuracyMonitor()
    mon.on_epoch_end(t, 0, {"val_accuracy": 0.6})
    mon.on_epoch_end(t, 1, {"val_accuracy": 0.7})  # moved: the streak restarts
    mon.on_epoch_end(t, 2, {"val_accuracy": 0.6})
    assert t.findings == []
    mon.on_epoch_end(t, 3, {"val_accuracy": 0.6})
    [f] = t.findings
    assert f.code == "GL612" and "majority share 6/10 = 0.6000 (class 0)" in f.title
    t = fake_trainer(k=4)
    mon = M.TrivialAccuracyMonitor()
    for e in range(2):
        mon.on_epoch_end(t, e, {"val_accuracy": 0.25})
    assert "chance 1/4" in t.findings[0].title


# -- loss and gradients --------------------------------------------------------------------


def test_first_batch_loss_far_above_ln_k_once():
    t = fake_trainer(k=3)
    mon = M.InitLossMonitor()
    mon.on_batch_end(t, 1, {"loss": 5.0})
    mon.on_batch_end(t, 2, {"loss": 9.0})
    [f] = t.findings
    assert (f.code, f.severity) == ("GL613", "warning") and "4.6x ln(3)" in f.title
    assert not t.stop_training
    t = fake_trainer(k=3)
    M.InitLossMonitor().on_batch_end(t, 1, {"loss": 1.2})
    M.InitLossMonitor().on_batch_end(t, 57, {"loss": 9.0})  # a resumed run
    assert t.findings == []


def test_non_finite_gradient_norm_stops_training():
    t = fake_trainer()
    M.GradientMonitor().on_batch_end(t, 7, {"loss": 1.0, "grad_norm": float("inf"), "lr": 0.1})
    [f] = t.findings
    assert (f.code, f.category, f.severity) == ("GL614", "divergence", "error")
    assert t.stop_training and "step 7" in f.title


def test_gradient_norm_jump_against_the_recent_median_read_from_the_model():
    model = nn.Linear(4, 3)
    t = fake_trainer(model)
    mon = M.GradientMonitor()
    for step in range(1, 11):
        model.weight.grad = torch.full_like(model.weight, 0.1)
        mon.on_batch_end(t, step, {"loss": 1.0})
    assert t.findings == []
    model.weight.grad = torch.full_like(model.weight, 100.0)
    mon.on_batch_end(t, 11, {"loss": 1.0})
    [f] = t.findings
    assert f.code == "GL615" and "1000x the recent median" in f.title


# -- BatchNorm and features ----------------------------------------------------------------


def bn_model():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(3, 6, 3), nn.BatchNorm2d(6), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(6, 3),
    )  # fmt: skip
    with torch.no_grad():
        model[-1].weight.mul_(10)
        model[1].running_mean.fill_(2.0)  # statistics from another domain
    return model


def labels_from_train_mode(model, trainer):
    x, _ = M._probe(trainer, "train")
    model.train()
    with torch.no_grad():
        y = model(x).argmax(1).numpy()
    model.eval()
    model[1].running_mean.fill_(2.0)
    model[1].running_var.fill_(1.0)
    return y


@pytest.mark.parametrize("bn_policy", ["train", "frozen"])
def test_bn_mode_gap_only_when_the_strategy_trains_batchnorm(bn_policy):
    model = bn_model()

    class Strategy:
        def set_train_mode(self, m):
            m.train()
            if bn_policy == "frozen":
                m[1].eval()

    rng = np.random.default_rng(1)
    images = rng.integers(0, 255, (32, 8, 8, 3), np.uint8)
    t = fake_trainer(model, strategy=Strategy(), train=(images, np.zeros(32, int)))
    t.train = (images, labels_from_train_mode(model, t))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    M.BNModeGapMonitor().on_epoch_end(t, 0, {"val_accuracy": 0.5})
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert not model.training
    if bn_policy == "frozen":
        assert t.findings == []
    else:
        [f] = t.findings
        assert (f.code, f.category) == ("GL616", "batchnorm")
        assert "100% accuracy with BatchNorm in train mode" in f.title


def test_linear_cka():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 10, generator=g)
    rotation, _ = torch.linalg.qr(torch.randn(10, 10, generator=g))
    assert M.linear_cka(x, 3 * x @ rotation) == pytest.approx(1.0)
    assert M.linear_cka(x, torch.randn(64, 10, generator=g)) < 0.4
    assert math.isnan(M.linear_cka(np.ones((5, 3)), np.ones((5, 3))))


class TimmLike(nn.Module):
    """The part of timm's contract the drift monitor uses."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.body = nn.Linear(8 * 8 * 3, 16)
        self.fc = nn.Linear(16, 3)

    def forward_features(self, x):
        return self.body(x.flatten(1))[:, :, None, None]

    def forward_head(self, x, pre_logits=False):
        x = x.mean((2, 3))
        return x if pre_logits else self.fc(x)

    def get_classifier(self):
        return self.fc

    def forward(self, x):
        return self.forward_head(self.forward_features(x))


@pytest.mark.parametrize(("noise", "reported"), [(0.01, False), (10.0, True)])
def test_feature_drift_in_the_first_epoch_after_unfreezing(noise, reported):
    model = TimmLike()
    t = fake_trainer(model, val_labels=np.arange(16) % 3)
    mon = M.FeatureDriftMonitor()
    model.body.requires_grad_(False)
    mon.on_epoch_start(t, 0)  # backbone frozen: nothing to compare yet
    assert mon._reference is None
    model.body.requires_grad_(True)
    mon.on_epoch_start(t, 1)
    with torch.no_grad():
        model.body.weight.add_(noise * torch.randn_like(model.body.weight))
    mon.on_epoch_end(t, 1, {"epoch": 2, "lr": 1e-3, "val_accuracy": 0.5})
    assert (mon.cka_ < 0.6) is reported
    assert [f.code for f in t.findings] == (["GL617"] if reported else [])


def test_feature_drift_after_a_probe_head_is_reported_only_when_predictions_got_worse():
    """A run that starts from the probe's head (graftlab's LP-FT) and changes its features
    while predicting the same images as well is adapting, not wrecked (issue 14: GL617 told a
    run that rose from 0.932 to 0.987 to use LP-FT, which it did)."""
    probe_start = SimpleNamespace(init_head="probe")

    def run(labels_from_new_features: bool) -> list:
        model = TimmLike()
        noise = 10 * torch.randn(
            model.body.weight.shape, generator=torch.Generator().manual_seed(1)
        )
        u8 = np.random.default_rng(0).integers(0, 255, (16, 8, 8, 3), np.uint8)
        x = FakePreprocess().eval_batch(torch.from_numpy(u8))
        with torch.no_grad():
            before = model(x).argmax(1).numpy()
            model.body.weight.add_(noise)
            after = model(x).argmax(1).numpy()
            model.body.weight.sub_(noise)
        t = fake_trainer(model, strategy=probe_start)
        t.val = (u8, after if labels_from_new_features else before)
        mon = M.FeatureDriftMonitor()
        mon.on_epoch_start(t, 0)
        with torch.no_grad():
            model.body.weight.add_(noise)
        mon.on_epoch_end(t, 0, {"epoch": 1, "lr": 1e-3, "val_accuracy": 0.9})
        assert mon.cka_ < 0.6
        return t.findings

    assert run(labels_from_new_features=True) == []  # every image right after the epoch
    (finding,) = run(labels_from_new_features=False)  # right before, wrong after
    assert finding.code == "GL617"
    assert "started from the probe's head" in finding.explanation
    assert "graftlab train DATA" in finding.fix and "LP-FT: fit the head" not in finding.fix


# -- inside the real trainer ---------------------------------------------------------------


def test_monitors_run_inside_the_graftlab_trainer():
    trainer_mod = pytest.importorskip("graftlab.finetune.trainer")
    timm = pytest.importorskip("timm")
    from graftlab.data.transforms import Preprocess
    from graftlab.finetune.config import TrainConfig
    from graftlab.finetune.strategies import create_strategy
    from graftlab.finetune.task import Task

    pre = Preprocess(
        input_size=32, interpolation="bilinear", crop_pct=0.875, crop_mode="center",
        mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5),
    )  # fmt: skip
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 24)
    x = rng.integers(0, 80, (24, pre.store_size, pre.store_size, 3)) + 80 * y[:, None, None, None]
    torch.manual_seed(0)
    model = timm.create_model("test_efficientnet", pretrained=False, num_classes=3)
    with torch.no_grad():
        model.get_classifier().bias.copy_(torch.tensor([0.0, 0.0, 40.0]))  # confidently "2"
    t = trainer_mod.Trainer(
        model, Task.from_labels("multiclass", y, 3), create_strategy("full"), pre,
        train=(x[:12].astype(np.uint8), y[:12]), val=(x[12:].astype(np.uint8), y[12:]),
        config=TrainConfig(epochs=1, batch_size=6, precision="fp32", channels_last=False,
                           num_workers=0),
        callbacks=M.default_monitors(),
    )  # fmt: skip
    t.fit()
    assert "GL613" in [f.code for f in t.findings]
    assert all(f.code.startswith("GL6") for f in t.findings)
