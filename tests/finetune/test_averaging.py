"""The weight average (config.ema): what it averages, that the trainer validates, keeps and
saves it, and that a resumed run continues it exactly."""

import pytest
import torch

# Five validation images rarely cover three classes; sklearn says so on every epoch.
from _tiny import _one_thread, config, tiny, trainer  # noqa: F401 (_one_thread: fixture)
from test_trainer import Interrupt, Scripted

from graftlab.errors import ConfigError
from graftlab.finetune.averaging import WeightAverage, decay_for
from graftlab.finetune.callbacks import Checkpoint
from graftlab.finetune.config import TrainConfig, parse_value

pytestmark = pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")


def test_the_average_follows_the_steps_with_the_decay_and_skips_frozen_parameters():
    net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 1))
    net[1].requires_grad_(False)
    start = [p.detach().clone() for p in net.parameters()]
    avg = WeightAverage(net, decay=0.75)
    expect = [p.clone() for p in start[:2]]
    for step in range(3):
        with torch.no_grad():
            for p in net[0].parameters():
                p.add_(1.0 + step)
            net[1].weight.add_(5.0)  # frozen: changed by hand, never averaged
        avg.update()
        expect = [
            0.75 * e + 0.25 * p.detach() for e, p in zip(expect, net[0].parameters(), strict=True)
        ]
    got = avg.average()
    torch.testing.assert_close(got["0.weight"], expect[0])
    torch.testing.assert_close(got["0.bias"], expect[1])
    torch.testing.assert_close(got["1.weight"], start[2])


def test_swapping_twice_gives_back_the_training_weights():
    net = torch.nn.Linear(3, 2)
    avg = WeightAverage(net, decay=0.5)
    with torch.no_grad():
        net.weight.add_(2.0)
    avg.update()
    training = net.weight.detach().clone()
    avg.swap()
    torch.testing.assert_close(net.weight.detach(), avg.average()["weight"])
    assert not torch.equal(net.weight.detach(), training)
    torch.testing.assert_close(avg.training_weights()["weight"], training)
    with pytest.raises(RuntimeError, match="swapped"):
        avg.update()
    avg.swap()
    assert torch.equal(net.weight.detach(), training)


def test_decay_is_one_minus_one_over_the_time_constant():
    assert decay_for(0.2, 500) == (pytest.approx(1 - 1 / 100), 100)
    assert decay_for(0.1, 3) == (0.0, 1.0)  # a constant under one step: the last weights


def test_the_trainer_validates_and_keeps_the_average_and_steps_the_training_weights(tmp_path):
    script = Scripted([0.9, 0.1])
    # 2 steps an epoch: a time constant of the whole run's 4 steps (decay 0.75)
    t = trainer(callbacks=[script, Checkpoint(tmp_path)], cfg=config(lr=3e-3, ema=1.0)).fit()
    last = torch.load(tmp_path / "last.pt", weights_only=True)
    for k in last["ema"]:  # what epoch 2 validated is the average
        assert torch.equal(script.weights[1][k], last["ema"][k])
    moved = [k for k in last["ema"] if not torch.equal(last["ema"][k], last["model"][k])]
    assert moved  # the training weights are elsewhere
    final = t.model.state_dict()  # the best epoch (1): its average, not its training weights
    assert all(torch.equal(final[k], script.weights[0][k]) for k in final)


def test_without_the_average_the_validated_weights_are_the_last_steps(tmp_path):
    script = Scripted([0.1, 0.9])
    cfg = config(lr=3e-3, ema=None)
    t = trainer(callbacks=[script, Checkpoint(tmp_path)], cfg=cfg).fit()
    last = torch.load(tmp_path / "last.pt", weights_only=True)
    assert last["ema"] is None
    assert all(torch.equal(last["model"][k], script.weights[1][k]) for k in last["model"])
    assert "no average" in t.summary_


def test_the_average_changes_the_model_the_run_keeps():
    script = Scripted([0.1, 0.9])
    kept = trainer(callbacks=[script], cfg=config(lr=3e-3, ema=1.0)).fit().model.state_dict()
    last = trainer(cfg=config(lr=3e-3, ema=None)).fit().model.state_dict()
    assert not all(torch.equal(kept[k], last[k]) for k in kept)


def test_a_run_resumed_after_its_best_epoch_keeps_that_epochs_average(tmp_path):
    """The checkpoint of the best epoch does not store the best weights twice: on resume they
    are the checkpoint's average, not its training weights."""
    cfg = config(epochs=3, deterministic=True, lr=3e-3, ema=1.0)
    scores = [0.9, 0.1, 0.1]
    whole = trainer(callbacks=[Scripted(scores)], cfg=cfg).fit()
    with pytest.raises(KeyboardInterrupt):
        trainer(callbacks=[Scripted(scores), Checkpoint(tmp_path), Interrupt(1)], cfg=cfg).fit()
    resumed = trainer(callbacks=[Scripted(scores[1:]), Checkpoint(tmp_path)], cfg=cfg)
    resumed.resume(tmp_path / "last.pt")
    assert resumed.best_epoch_ == whole.best_epoch_ == 1
    a, b = whole.model.state_dict(), resumed.model.state_dict()
    for k in a:
        torch.testing.assert_close(b[k], a[k], rtol=0, atol=1e-6)


@pytest.mark.parametrize("bad", [0, 1.5, -0.1, "half", True])
def test_a_bad_ema_is_a_config_error_saying_what_it_takes(bad):
    with pytest.raises(ConfigError, match=r"'ema' must be a float in \(0, 1\].*none"):
        TrainConfig(ema=bad).validate()


def test_ema_from_the_command_line():
    assert parse_value("ema", "none") is None
    assert parse_value("ema", "0.3") == 0.3
    assert TrainConfig(ema=1).validate().ema == 1
