"""benchmarks/peers/graftlab_run.py: the graftlab curve's per-epoch points and their times."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest
import torch
from _kit import make_image_tree

from graftlab.finetune.config import TrainConfig
from graftlab.train import run_training

PEERS = Path(__file__).resolve().parents[2] / "benchmarks" / "peers"


@pytest.fixture(scope="module")
def runner():
    sys.path.insert(0, str(PEERS))  # the runner imports its neighbour _common
    try:
        spec = importlib.util.spec_from_file_location("graftlab_run", PEERS / "graftlab_run.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(PEERS))


def test_each_epoch_is_timed_without_the_earlier_epoch_files_writing(runner):
    # (epoch, writing began, writing ended), in any order; the process started at 50
    written = [(2, 110.0, 113.0), (1, 100.0, 104.0), (3, 120.0, 121.0)]
    seconds, extra = runner.on_the_clock(written, start=50.0)
    assert seconds == {1: 50.0, 2: 56.0, 3: 63.0}  # 110 - 50 - 4; 120 - 50 - 4 - 3
    assert extra == 8.0  # all three files: out of the run's wall time
    # test features extracted before the fine-tuning are off the clock, as in the wall time
    seconds, _ = runner.on_the_clock(written, start=50.0, test_only=20.0)
    assert seconds == {1: 30.0, 2: 36.0, 3: 43.0}


def test_epoch_points_are_graftlabs_own_scores_of_each_epochs_weights(runner, tmp_path):
    data = make_image_tree(tmp_path / "data", {"train": 10, "test": 4})
    config = TrainConfig(
        backbone="test_efficientnet",
        weights="none",
        image_size=32,
        epochs=2,
        batch_size=8,
        precision="fp32",
        channels_last=False,
        early_stopping_patience=None,
        save_every_epoch=True,
    )
    quiet = {"progress": False, "verbose": False, "report": False}
    run = run_training(data, config, run_dir=tmp_path / "run", **quiet).run_dir
    kept = runner.epoch_files(run / "weights")
    assert [n for n, _ in kept] == [1, 2]
    scored = runner.score_on_subset(run, data / "test", kept)
    assert scored["images"] == 4 * len(list((data / "test").iterdir()))  # all: under 2,000
    # The fine-tuned model the run scored on its test split is its best epoch's weights:
    # the same number through the runner (classes matched by name, the run's execution).
    summary = json.loads((run / "summary.json").read_text())
    best = torch.load(run / "weights" / "best.pt", weights_only=True)["epoch"]
    assert scored["accuracy"][best] == pytest.approx(summary["finetune"]["test"]["accuracy"])


def test_the_cli_check_finds_long_options_off_a_terminal(runner, monkeypatch):
    # rich cuts "--save-every-epoch" to "--save-every-epo…" at 80 columns: the runner would
    # refuse to run, saying graftlab has no such option
    monkeypatch.delenv("COLUMNS", raising=False)
    exe = runner.graftlab_executable()
    assert runner.check_cli(exe, ("--save-every-epoch", "--early-stopping-patience")) is None
    assert "--no-such-option" in runner.check_cli(exe, ("--no-such-option",))
