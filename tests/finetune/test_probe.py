"""LinearProbe: a correct, fast head on frozen features."""

import numpy as np
import pytest
import torch

from graftlab.errors import ConfigError, DataError
from graftlab.finetune import probe as probe_module
from graftlab.finetune.probe import LinearProbe
from graftlab.finetune.task import Task


def _blobs(n, k=3, d=20, sep=3.0, seed=0, offset=5.0, scale=4.0):
    """Separable classes in features with a large offset and scale, like ReLU features."""
    rng = np.random.default_rng(seed)
    centers = np.random.default_rng(123).normal(size=(k, d)) * sep
    y = rng.integers(0, k, n)
    X = offset + scale * (centers[y] + rng.normal(size=(n, d)))
    return X.astype(np.float32), y


def test_params_stored_unchanged_and_learned_state_has_underscores():
    grid = (1.0, 0.1)
    probe = LinearProbe("multiclass", weight_decays=grid, max_iter=7)
    assert probe.weight_decays is grid and probe.max_iter == 7
    assert not hasattr(probe, "coef_")
    X, y = _blobs(150)
    assert probe.fit(X, y) is probe
    assert probe.coef_.shape == (3, 20) and probe.intercept_.shape == (3,)
    assert list(probe.classes_) == [0, 1, 2]
    assert probe.weight_decay_ in grid
    assert pytest.approx(1 / (probe.weight_decay_ * 150)) == probe.C_


def test_beats_chance_on_separable_data():
    X, y = _blobs(300)
    Xt, yt = _blobs(300, seed=1)
    probe = LinearProbe(weight_decays=(1e-1, 1e-2, 1e-3)).fit(X, y, val=_blobs(100, seed=2))
    assert (probe.predict(Xt) == yt).mean() > 0.95
    proba = probe.predict_proba(Xt)
    assert proba.shape == (300, 3) and np.allclose(proba.sum(1), 1, atol=1e-5)
    assert probe.score(Xt, yt)["accuracy"] > 0.95


def _few_rows_many_dims(n: int, d: int = 200):
    """Noisy training rows and clean validation rows: without L2 the probe overfits."""
    rng = np.random.default_rng(0)
    w = rng.normal(size=d)
    X = rng.normal(size=(n, d)).astype(np.float32)
    y = (X @ w + 3 * rng.normal(size=n) > 0).astype(int)
    Xv = rng.normal(size=(400, d)).astype(np.float32)
    return X, y, Xv, (Xv @ w > 0).astype(int)


def test_strength_is_chosen_on_validation():
    X, y, Xv, yv = _few_rows_many_dims(40)
    grid = (10.0, 1e-6)
    probe = LinearProbe("binary", weight_decays=grid).fit(X, y, val=(Xv, yv))
    by_wd = {p["weight_decay"]: p for p in probe.path_}
    best = max(grid, key=lambda wd: (by_wd[wd]["val_accuracy"], -by_wd[wd]["val_loss"]))
    assert probe.weight_decay_ == best
    # Selecting on the flipped labels must choose differently: the choice depends on val.
    flipped = LinearProbe("binary", weight_decays=grid).fit(X, y, val=(Xv, 1 - yv))
    assert {probe.weight_decay_, flipped.weight_decay_} == set(grid)


def test_path_stops_once_validation_has_peaked():
    # Validation peaks at a strong L2 and falls after it.
    X, y, Xv, yv = _few_rows_many_dims(60)
    val = (Xv, yv)
    grid = (10.0, 3.0, 1.0, 0.3, 0.1, 0.03, 0.01, 0.003, 1e-3, 3e-4)

    walked = LinearProbe("binary", weight_decays=grid, patience=None).fit(X, y, val=val)
    early = LinearProbe("binary", weight_decays=grid).fit(X, y, val=val)

    assert len(walked.path_) == len(grid)
    assert 1 <= len(early.path_) < len(grid)  # it stopped, two points after its best
    assert early.weight_decay_ == early.path_[-3]["weight_decay"]
    assert early.weight_decay_ == walked.weight_decay_  # the one peak is not missed
    with pytest.raises(ConfigError, match="'patience'"):
        LinearProbe(patience=0).fit(X, y, val=val)


def test_standardisation_fold_is_exact():
    # Raw features with a large offset and scale, and the same features standardised by hand:
    # the optimisation problems are the same, so the folded head on raw features must give
    # the logits of the head fitted on standardised ones.
    X, y = _blobs(200, offset=50.0, scale=30.0)
    Xs = ((X - X.mean(0)) / X.std(0)).astype(np.float32)
    raw = LinearProbe(weight_decays=(1e-2,)).fit(X, y)
    std = LinearProbe(weight_decays=(1e-2,)).fit(Xs, y)
    assert np.abs(raw.coef_).max() < np.abs(std.coef_).max()  # the scale was folded in
    np.testing.assert_allclose(raw.decision_function(X), std.decision_function(Xs), atol=2e-3)
    # A raw-feature nn.Linear initialised from the probe gives the probe's logits.
    linear = torch.nn.Linear(20, 3)
    raw.init_classifier(linear)
    with torch.no_grad():
        np.testing.assert_allclose(
            linear(torch.from_numpy(X)).numpy(), raw.decision_function(X), rtol=1e-5, atol=1e-4
        )


def test_multilabel_uses_independent_sigmoids():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 10)).astype(np.float32)
    Y = np.stack([X[:, 0] > 0, X[:, 1] > 0, X[:, 0] + X[:, 1] > 0], axis=1).astype(int)
    probe = LinearProbe("multilabel").fit(X, Y)
    assert probe.predict(X).shape == (300, 3)
    assert (probe.predict(X) == Y).mean() > 0.95
    assert probe.score(X, Y)["mAP"] > 0.95


def test_task_class_weights_shift_the_decision_towards_the_rare_class():
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(0, 1, (180, 2)), rng.normal(1, 1, (20, 2))]).astype(np.float32)
    y = np.array([0] * 180 + [1] * 20)
    plain = LinearProbe(Task.from_labels("binary", y, 2), weight_decays=(1e-2,)).fit(X, y)
    weighted = LinearProbe(
        Task.from_labels("binary", y, 2, class_weights="auto"), weight_decays=(1e-2,)
    ).fit(X, y)
    assert weighted.predict(X).sum() > plain.predict(X).sum()


def test_head_from_probe_must_match_the_classifier():
    probe = LinearProbe(weight_decays=(1e-2,)).fit(*_blobs(60))
    with pytest.raises(ConfigError, match="reset_classifier\\(3\\)"):
        probe.init_classifier(torch.nn.Linear(20, 5))


def test_input_mistakes_are_clear():
    X, y = _blobs(30)
    with pytest.raises(DataError, match="one-hot"):
        LinearProbe().fit(X, np.eye(3)[y])
    with pytest.raises(DataError, match="rows"):
        LinearProbe().fit(X, y[:10])
    with pytest.raises(ConfigError, match="not fitted"):
        LinearProbe().predict(X)


@pytest.mark.parametrize(
    "task",
    [
        Task("multiclass", 3, label_smoothing=0.1),
        Task("multiclass", 3, class_weights=(0.5, 1.0, 2.0), label_smoothing=0.1),
        Task("multilabel", 3, class_weights=(1.0, 3.0, 0.5)),
    ],
)
def test_written_out_gradient_is_autograds(task):
    # The probe's objective takes its gradient in W and b by hand (for speed); it must be the
    # gradient of the documented objective, for every loss the task can define.
    from graftlab.finetune.probe import _objective

    rng = np.random.default_rng(0)
    X = torch.from_numpy(rng.normal(size=(50, 7)))
    y = torch.from_numpy(
        rng.integers(0, 2, (50, 3)).astype(np.float64)
        if task.kind == "multilabel"
        else rng.integers(0, 3, 50)
    )
    W = torch.from_numpy(rng.normal(size=(3, 7))).requires_grad_()
    b = torch.from_numpy(rng.normal(size=3)).requires_grad_()
    expected = task.loss(X @ W.T + b, y) + 0.5 * 0.3 * (W * W).sum()
    expected.backward()
    with torch.no_grad():
        loss, grad_W, grad_b = _objective(W, b, X, y, task, 0.3)
    assert float(loss) == pytest.approx(float(expected.detach()), rel=1e-6)
    np.testing.assert_allclose(grad_W, W.grad, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(grad_b, b.grad, rtol=1e-5, atol=1e-7)


def test_walk_at_a_loose_tolerance_then_the_chosen_point_refined():
    X, y = _blobs(400, d=30, sep=1.0)
    val = _blobs(150, d=30, sep=1.0, seed=3)
    grid = (1e-1, 1e-2, 1e-3)
    probe = LinearProbe(weight_decays=grid, patience=None).fit(X, y, val=val)
    loose = LinearProbe(weight_decays=grid, tol=1e-3, patience=None).fit(X, y, val=val)
    assert probe.refined_["iterations"] >= 1
    assert loose.refined_ is None  # as loose as the walk: nothing to refine
    assert loose.weight_decay_ == probe.weight_decay_
    # The refined head is the head a direct fit at the chosen strength gives, to tolerance,
    # and nearer to it than the walk's own solution was.
    direct = LinearProbe(weight_decays=(probe.weight_decay_,), tol=1e-6).fit(X, y, val=val)
    assert direct.refined_ is None  # one strength: fitted to tol at once
    refined_gap = np.abs(probe.predict_proba(X) - direct.predict_proba(X)).max()
    walk_gap = np.abs(loose.predict_proba(X) - direct.predict_proba(X)).max()
    assert refined_gap < 1e-2 and refined_gap < walk_gap / 2


def test_a_small_step_along_the_walk_is_still_fitted(monkeypatch):
    # From 1e-2 to 9e-3 the warm start's gradient is already under the walk's loose tolerance:
    # stopping there would rank the previous point's head under the new strength's name.
    X, y = _blobs(2000, d=30, sep=1.0)
    val = _blobs(300, d=30, sep=1.0, seed=3)
    fitted = LinearProbe(weight_decays=(9e-3,), tol=1e-7).fit(X, y, val=val).path_[0]
    walked = LinearProbe(weight_decays=(1e-2, 9e-3), patience=None).fit(X, y, val=val).path_
    assert walked[1]["iterations"] > 1
    assert abs(walked[1]["val_loss"] - fitted["val_loss"]) < 1e-4
    monkeypatch.setattr(probe_module, "PATH_REDUCTION", 1e9)  # the tolerance alone
    unfitted = LinearProbe(weight_decays=(1e-2, 9e-3), patience=None).fit(X, y, val=val).path_
    assert unfitted[1]["iterations"] == 1
    assert abs(unfitted[1]["val_loss"] - fitted["val_loss"]) > 1e-3
