"""What a run decides for itself from its data: budget, imbalance, noise-aware choices, BN."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from graftlab.errors import ConfigError
from graftlab.finetune import bn_policy, budget, selection
from graftlab.finetune.config import TrainConfig
from graftlab.finetune.imbalance import binary_curves, class_weight_decision, per_class_recall
from graftlab.finetune.probe import LinearProbe
from graftlab.finetune.task import Task, imbalance_ratio


# -- budget ---------------------------------------------------------------------------------
def test_auto_epochs_keep_the_measured_point_and_grow_for_small_sets():
    assert budget.auto_epochs(4249) == 3  # Fashion-MNIST 5k: today's measured recipe
    assert budget.auto_epochs(238) == 13  # 7 classes x 34
    assert budget.auto_epochs(140) == 17  # 10 classes x 14
    assert budget.auto_epochs(20_000) == 1
    assert budget.auto_epochs(3) == budget.MAX_EPOCHS
    # More images never get more passes, and never fewer optimizer steps.
    sizes = [50, 140, 238, 850, 4249, 20_000, 100_000]
    epochs = [budget.auto_epochs(n) for n in sizes]
    steps = [e * max(1, n // 32) for e, n in zip(epochs, sizes, strict=True)]
    assert epochs == sorted(epochs, reverse=True)
    assert steps == sorted(steps)


def test_plan_resolves_auto_and_says_why():
    cfg, decisions = budget.plan(TrainConfig(), 238)
    assert (cfg.epochs, cfg.augment, cfg.early_stopping_patience) == (13, "light", 4)
    text = [str(d) for d in decisions]
    assert text[0].startswith("epochs: auto -> 13 (238 training images at batch 32: 91 ")
    assert text[1].startswith("lr: auto -> 0.00097 (0.002 * (238 / 4249) ** 0.25")
    assert text[2] == "augment: auto -> light (each image is seen 13 times, at least 8)"
    assert cfg.lr == 0.00097
    big, _ = budget.plan(TrainConfig(), 4249)
    assert (big.epochs, big.augment, big.early_stopping_patience, big.lr) == (3, "none", 3, 2e-3)
    assert budget.plan(TrainConfig(), 50_000)[0].lr == 2e-3


def test_no_early_stopping_on_a_small_validation_split():
    cfg, decisions = budget.plan(TrainConfig(), 238, small_val=True)
    assert cfg.early_stopping_patience is None
    said = [str(d) for d in decisions if d.option == "early_stopping_patience"]
    assert said and said[0].startswith("early_stopping_patience: auto -> none (a small valid")
    assert budget.plan(TrainConfig(), 238)[0].early_stopping_patience == 4
    given = budget.plan(TrainConfig(early_stopping_patience=2), 238, small_val=True)[0]
    assert given.early_stopping_patience == 2


def test_auto_lr_without_the_average_keeps_the_summed_rate_of_the_reference_point():
    """Without the weight average each image receives the reference point's summed rate."""
    for n in (140, 294, 850, 2000):
        lr = budget.auto_lr(n, averaged=False)
        total = lr * budget.REFERENCE_EPOCHS * (budget.REFERENCE_IMAGES / n) ** 0.5
        assert total == pytest.approx(budget.REFERENCE_LR * budget.REFERENCE_EPOCHS, rel=0.03)


def test_auto_lr_with_the_average_shrinks_by_the_fourth_root():
    assert budget.auto_lr(255) == pytest.approx(2 * budget.auto_lr(255, averaged=False), rel=0.03)
    assert budget.auto_lr(140) == 0.00085 and budget.auto_lr(850) == 0.0013
    assert budget.auto_lr(4249) == budget.auto_lr(20000) == budget.REFERENCE_LR
    smaller = [budget.auto_lr(n) for n in (100, 300, 1000, 3000)]
    assert smaller == sorted(smaller) and smaller[-1] < budget.REFERENCE_LR


def test_the_lr_decision_says_which_rule_and_follows_the_average():
    cfg, decisions = budget.plan(TrainConfig(), 255)
    said = [str(d) for d in decisions if d.option == "lr"]
    assert cfg.lr == 0.00099 and said[0].startswith("lr: auto -> 0.00099 (0.002 * (255 / 4249)")
    cfg, decisions = budget.plan(TrainConfig(ema=None), 255)
    said = [str(d) for d in decisions if d.option == "lr"]
    assert cfg.lr == 0.00049 and "sqrt(255 / 4249)" in said[0]


def test_plan_keeps_what_the_user_set():
    cfg, decisions = budget.plan(TrainConfig(epochs=5, augment="strong", lr=1e-3), 100)
    assert (cfg.epochs, cfg.augment, cfg.lr) == (5, "strong", 1e-3)
    assert [d.option for d in decisions] == ["early_stopping_patience"] or decisions == []
    assert budget.plan(TrainConfig(epochs=10), 100)[0].augment == "light"


def test_config_accepts_auto_and_refuses_nonsense():
    TrainConfig().validate()
    with pytest.raises(ConfigError, match="'epochs' must be a positive integer"):
        TrainConfig(epochs="many").validate()
    with pytest.raises(ConfigError, match="Did you mean 'auto'"):
        TrainConfig(bn="atuo").validate()


# -- imbalance --------------------------------------------------------------------------------
def test_auto_class_weights_only_when_imbalanced():
    balanced = np.array([0] * 10 + [1] * 8 + [2] * 12)
    skewed = np.array([0] * 30 + [1] * 3)
    plain = Task.from_labels("multiclass", balanced, 3, class_weights="auto")
    assert plain.class_weights is None and plain.monitor == "accuracy"
    weighted = Task.from_labels("binary", skewed, 2, class_weights="auto")
    assert weighted.class_weights == pytest.approx((33 / 60, 33 / 6))
    assert weighted.monitor == "balanced_accuracy"
    forced = Task.from_labels("multiclass", balanced, 3, class_weights="balanced")
    assert forced.class_weights is not None and forced.monitor == "accuracy"
    off = Task.from_labels("binary", skewed, 2, class_weights="none")
    assert off.class_weights is None and off.monitor == "accuracy"
    assert Task.from_dict(weighted.to_dict()) == weighted
    assert imbalance_ratio(skewed, 3) == 10.0  # an absent class is not a ratio of infinity


def test_monitor_must_fit_the_kind():
    with pytest.raises(ConfigError, match="monitored on mAP"):
        Task("multilabel", 3, monitor_metric="accuracy")
    assert Task("binary", 2, monitor_metric="balanced_accuracy").monitor == "balanced_accuracy"


def test_class_weight_decision_names_the_ratio():
    y = np.array([0] * 30 + [1] * 3)
    task = Task.from_labels("binary", y, 2, class_weights="auto")
    d = class_weight_decision(task, y, "auto")
    assert d.value == "inverse frequency" and "10.0 >= 3" in d.reason
    assert class_weight_decision(task, y, "none") is None


def test_per_class_recall_and_binary_curves_expose_a_majority_collapse():
    y = np.array([0] * 90 + [1] * 10)
    always_major = np.tile([0.8, 0.2], (100, 1))
    recall = per_class_recall(always_major, y, ["shirt", "tshirt"])
    assert recall == {"shirt": 1.0, "tshirt": 0.0}
    rng = np.random.default_rng(0)
    score = np.clip(0.3 + 0.4 * (y == 1) + rng.normal(0, 0.15, 100), 0, 1)
    curves = binary_curves(np.stack([1 - score, score], 1), y, ["shirt", "tshirt"])
    assert curves["positive_class"] == "tshirt" and curves["threshold"] == 0.5
    assert 0.9 < curves["roc_auc"] <= 1.0
    roc = curves["roc"]
    assert roc["fpr"][0] == 0.0 and roc["tpr"][-1] == 1.0
    assert len(roc["fpr"]) == len(roc["tpr"]) <= 101
    assert len(curves["pr"]["precision"]) == len(curves["pr"]["threshold"])


# -- decisions that respect noise -----------------------------------------------------------------
def _probs(pred: np.ndarray, k: int, conf: float = 0.8) -> np.ndarray:
    p = np.full((len(pred), k), (1 - conf) / (k - 1))
    p[np.arange(len(pred)), pred] = conf
    return p


def test_one_image_on_56_is_a_tie_and_goes_to_the_probe():
    y = np.repeat(np.arange(7), 8)
    probe_pred = y.copy()
    probe_pred[:12] = (y[:12] + 1) % 7  # 44/56 right
    ft_pred = probe_pred.copy()
    ft_pred[0] = y[0]  # one more image right: 45/56
    c = selection.compare(_probs(ft_pred, 7), _probs(probe_pred, 7), y)
    assert c.winner == "probe" and "tie" in c.reason
    assert c.diff == pytest.approx(1 / 56)


def test_a_clear_gain_picks_finetune_and_a_clear_loss_the_probe():
    y = np.repeat(np.arange(7), 8)
    probe_pred = y.copy()
    probe_pred[:16] = (y[:16] + 1) % 7
    c = selection.compare(_probs(y, 7), _probs(probe_pred, 7), y)
    assert c.winner == "finetune" and c.diff > c.se
    c = selection.compare(_probs(probe_pred, 7), _probs(y, 7), y)
    assert c.winner == "probe" and "worse beyond noise" in c.reason


def test_better_probabilities_on_a_tie_pick_finetune():
    # Same argmax on every image (an accuracy tie), but the fine-tuned model is surer where it
    # is right: its Brier score is better by more than Z_BRIER standard errors.
    y = np.repeat(np.arange(7), 8)
    pred = y.copy()
    pred[:8] = (y[:8] + 1) % 7
    conf = np.where(pred == y, 0.95, 0.5)
    ft = np.stack([_probs(pred[i : i + 1], 7, c)[0] for i, c in enumerate(conf)])
    c = selection.compare(ft, _probs(pred, 7, 0.8), y)
    assert c.diff == 0 and c.brier_diff > selection.Z_BRIER * c.brier_se
    assert c.winner == "finetune" and "Brier" in c.reason
    c = selection.compare(_probs(pred, 7, 0.8), ft, y)
    assert c.winner == "probe"


def test_balanced_accuracy_comparison_weights_the_rare_class():
    y = np.array([0] * 50 + [1] * 5)
    probe_pred = np.zeros(55, dtype=int)  # every rare image missed
    ft_pred = y.copy()
    ft_pred[:3] = 1  # three common images lost, every rare one found
    acc = selection.compare(_probs(ft_pred, 2), _probs(probe_pred, 2), y, "accuracy")
    bal = selection.compare(_probs(ft_pred, 2), _probs(probe_pred, 2), y, "balanced_accuracy")
    assert acc.diff == pytest.approx(2 / 55)
    assert bal.diff == pytest.approx(0.5 - 3 / 100) and bal.winner == "finetune"


def test_wilson_interval_and_test_interval():
    lo, hi = selection.wilson_interval(45, 50)
    assert lo == pytest.approx(0.7864, abs=1e-3) and hi == pytest.approx(0.9565, abs=1e-3)
    assert selection.wilson_interval(0, 10)[0] == 0.0
    y = np.repeat([0, 1], 500)
    small = selection.test_interval(_probs(y, 2), y[:], "balanced_accuracy")
    assert small["value"] == 1.0 and small["low"] < 1.0
    wide = selection.test_interval(_probs(y[:40], 2), y[:40], "accuracy")
    narrow = selection.test_interval(_probs(y, 2), y, "accuracy")
    assert wide["high"] - wide["low"] > narrow["high"] - narrow["low"]


def test_small_validation_thresholds():
    assert selection.small_validation(np.repeat(np.arange(7), 8), "multiclass")
    assert selection.small_validation(np.array([0] * 400 + [1] * 10), "binary")
    assert not selection.small_validation(np.repeat(np.arange(10), 75), "multiclass")


def test_probe_cross_validation_chooses_on_train_plus_val_and_fits_on_train():
    rng = np.random.default_rng(0)
    y = np.tile(np.arange(3), 30)
    X = (rng.normal(0, 1, (90, 40)) + 1.5 * np.eye(3, 40)[y]).astype(np.float32)
    probe = LinearProbe("multiclass").fit(X[:60], y[:60], val=(X[60:], y[60:]), cv=5)
    assert len(probe.cv_) == 8 and probe.cv_[0]["folds"] == 5
    best = min(probe.cv_, key=lambda p: p["cv_loss"])
    assert probe.weight_decay_ == best["weight_decay"]
    refit = LinearProbe("multiclass", weight_decays=(probe.weight_decay_,)).fit(X[:60], y[:60])
    np.testing.assert_allclose(probe.coef_, refit.coef_, rtol=1e-4, atol=1e-5)
    with pytest.raises(ConfigError, match="needs val"):
        LinearProbe("multiclass").fit(X, y, cv=5)


# -- BN policy ------------------------------------------------------------------------------
class _Pre:
    def eval_batch(self, u8: torch.Tensor) -> torch.Tensor:
        return u8.permute(0, 3, 1, 2).float() / 255.0


def _bn_net() -> nn.Module:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.BatchNorm2d(4))
    for bn in (net[1], net[3]):
        bn.momentum = None  # a cumulative average: the exact statistics of what it saw
    net.train()
    rng = np.random.default_rng(0)
    with torch.no_grad():  # running statistics of "pretraining" images: mid-grey noise
        for _ in range(20):
            net(torch.from_numpy(rng.integers(100, 156, (16, 3, 8, 8)) / 255.0).float())
    return net.eval()


def test_bn_shift_is_small_on_the_pretraining_distribution_and_large_far_from_it():
    net = _bn_net()
    rng = np.random.default_rng(1)
    near = rng.integers(100, 156, (64, 8, 8, 3)).astype(np.uint8)
    far = np.where(rng.random((64, 8, 8, 3)) < 0.9, 255, 0).astype(np.uint8)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    s_near = bn_policy.bn_shift(net, near, _Pre(), sample=64)
    s_far = bn_policy.bn_shift(net, far, _Pre(), sample=64)
    assert s_near["layers"] == 2 and s_near["images"] == 64
    assert s_near["median_kl"] < 0.1 < 1.0 < s_far["median_kl"]
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    assert not net.training
    assert bn_policy.decide(s_near).value == "frozen"
    assert bn_policy.decide(s_far).value == "train"
    plain = nn.Sequential(nn.Conv2d(3, 2, 3))
    none = bn_policy.bn_shift(plain, near, _Pre())
    assert none["layers"] == 0 and bn_policy.decide(none).value == "frozen"


# -- the run's own advice -----------------------------------------------------------------
def test_majority_class_collapse_is_explained_as_imbalance_not_learning_rate():
    from types import SimpleNamespace

    from graftlab.doctor.monitors import ConstantPredictionMonitor

    def trainer(y_train, weights=None):
        task = Task("binary", 2, weights)
        return SimpleNamespace(
            task=task, train=(None, np.array(y_train)), val=None, findings=[], stop_training=False
        )

    always_zero = {"val_probs": np.tile([0.9, 0.1], (6, 1))}
    skewed = trainer([0] * 30 + [1] * 3)
    ConstantPredictionMonitor(patience=1).on_epoch_end(skewed, 0, {**always_zero, "epoch": 1})
    [f] = skewed.findings
    assert "imbalanced 10:1" in f.title and "not the learning rate" in f.explanation
    assert "--class-weights auto" in f.fix
    weighted = trainer([0] * 30 + [1] * 3, (0.55, 5.5))
    ConstantPredictionMonitor(patience=1).on_epoch_end(weighted, 0, {**always_zero, "epoch": 1})
    assert "already class-weighted" in weighted.findings[0].fix
    balanced = trainer([0] * 10 + [1] * 9)
    ConstantPredictionMonitor(patience=1).on_epoch_end(balanced, 0, {**always_zero, "epoch": 1})
    assert "imbalanced" not in balanced.findings[0].title
    assert "Lower the learning rate" in balanced.findings[0].fix


def test_likely_cause_blames_imbalance_for_a_collapse_on_imbalanced_data():
    from graftlab.doctor.advice import likely_cause

    history = [
        {"epoch": 1, "val_balanced_accuracy": 0.5, "val_accuracy": 0.5, "train_loss": 0.4},
        {"epoch": 2, "val_balanced_accuracy": 0.5, "val_accuracy": 0.5, "train_loss": 0.3},
    ]
    cfg = TrainConfig(class_weights="none")
    kw = dict(monitor="balanced_accuracy", init_head="probe", probe_metric=0.7, num_classes=2)
    text = likely_cause(history, cfg, imbalance=10.0, **kw)
    assert "majority-class collapse" in text and "10:1" in text and "learning rate" in text
    assert "not class-weighted" in text
    assert "collapse" not in likely_cause(history, cfg, imbalance=1.2, **kw)
