"""`graftlab train`, `strategies`, `cache`: one error line and exit 2 for mistakes."""

import json

import numpy as np
import pytest
from PIL import Image

import graftlab.cli.main as cli_main


@pytest.fixture
def cli(capsys):
    def invoke(*argv: str) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as exit_info:
            cli_main.run([str(a) for a in argv])
            raise SystemExit(0)
        out = capsys.readouterr()
        return exit_info.value.code, out.out, out.err

    return invoke


@pytest.fixture
def data(tmp_path):
    rng = np.random.default_rng(0)
    for k, name in enumerate(["a", "b"]):
        (tmp_path / "data" / name).mkdir(parents=True)
        for i in range(10):
            img = (rng.integers(0, 50, (16, 16, 3)) + 180 * k).astype(np.uint8)
            Image.fromarray(img).save(tmp_path / "data" / name / f"{i}.png")
    return tmp_path / "data"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--lr", "3"], "'--lr' must be in (0, 1]. Got 3. Did you mean 3e-3?"),
        (["--strategy", "lpft"], "Unknown strategy 'lpft' for '--strategy'. Did you mean 'lp-ft'"),
        (["--augment", "lite"], "'--augment' must be one of none, light, strong. Got 'lite'."),
        (["--epochs", "0"], "'--epochs' must be an integer >= 1. Got 0."),
        (["--class-weights", "balanced"], "'--class-weights' must be one of auto, none."),
        (["--device", "gpu"], "'--device' must be one of auto, cpu, cuda."),
        (["--image-size", "4"], "'--image-size' must be at least 32 pixels."),
        (["--boundary-cache", "yes"], "'--boundary-cache' must be one of auto, on, off."),
        (["--views", "0"], "'--views' must be an integer >= 1. Got 0."),
        (["--unfreeze", "1"], "'unfreeze' does not apply to strategy 'lp-ft'"),
    ],
)
def test_bad_options_give_one_line_and_exit_2(cli, data, tmp_path, args, message):
    code, _, err = cli("train", data, "--project", tmp_path / "runs", *args)
    assert code == 2
    assert err.startswith("graftlab: error: ") and message in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "runs").exists()  # nothing is written for a rejected command


@pytest.mark.parametrize(("option", "value"), [("on", True), ("off", False), ("auto", "auto")])
def test_boundary_cache_and_views_reach_the_config(cli, data, tmp_path, monkeypatch, option, value):
    seen = []
    monkeypatch.setattr(
        "graftlab.train.run_training", lambda data, config, **kw: seen.append(config)
    )
    code, _, _ = cli("train", data, "--boundary-cache", option, "--views", "2")
    assert code == 0 and seen[0].boundary_cache == value and seen[0].views == 2


def test_missing_or_bad_data_and_bad_resume_are_one_line(cli, tmp_path):
    code, _, err = cli("train")
    assert code == 2 and "Missing DATA" in err and len(err.strip().splitlines()) == 1
    code, _, err = cli("train", tmp_path / "nowhere", "--project", tmp_path / "runs")
    assert code == 2 and err.startswith("graftlab: error: ")
    code, _, err = cli("train", "--resume", tmp_path)
    assert code == 2 and "not a graftlab run directory" in err


def test_strategies_lists_every_registered_strategy(cli):
    from graftlab.finetune import list_strategies

    code, out, _ = cli("strategies")
    assert code == 0
    for name in list_strategies():
        assert name in out
    assert "LP-FT" in out  # with a description


def test_train_writes_a_run_and_cache_commands_report_it(cli, data, tmp_path):
    cache = tmp_path / "cache"
    code, out, err = cli(
        "train",
        data,
        "--backbone",
        "test_efficientnet",
        "--weights",
        "none",
        "--strategy",
        "lp",
        "--image-size",
        "32",
        "--precision",
        "fp32",
        "--project",
        tmp_path / "runs",
        "--name",
        "tiny",
        "--cache-dir",
        cache,
    )
    assert code == 0, err
    run = tmp_path / "runs" / "train" / "tiny"
    summary = json.loads((run / "summary.json").read_text())
    assert summary["selected"] == "probe" and "run directory" in out
    assert json.loads((run / "config.json").read_text())["image_size"] == 32

    code, out, _ = cli("cache", "info", "--cache-dir", cache)
    assert code == 0 and "features" in out and "images" in out
    code, out, _ = cli("cache", "clear", "--kind", "features", "--cache-dir", cache)
    assert code == 0 and "cleared features" in out
    assert not (cache / "features").exists() and (cache / "images").exists()
    code, _, err = cli("cache", "clear", "--kind", "feature", "--cache-dir", cache)
    assert code == 2 and "Did you mean 'features'" in err


def test_train_option_defaults_are_the_config_defaults():
    """The CLI states its defaults for --help; they must be TrainConfig's, not a copy gone stale."""
    import inspect

    from graftlab.cli.train_cmd import train
    from graftlab.finetune.config import TrainConfig

    config = TrainConfig()
    params = inspect.signature(train).parameters
    for name in ("backbone", "weights", "strategy", "epochs", "batch_size", "lr", "augment"):
        assert params[name].default == getattr(config, name), name
    for name in ("bn", "unfreeze", "views", "class_weights", "seed", "device", "precision"):
        assert params[name].default == getattr(config, name), name


@pytest.mark.parametrize("content", ["object", "garbage"])
def test_resume_from_a_checkpoint_that_is_not_plain_tensors_is_one_line(cli, tmp_path, content):
    import argparse

    import torch

    run = tmp_path / "runs" / "train" / "r"
    (run / "weights").mkdir(parents=True)
    (run / "config.json").write_text("{}")
    (run / "manifest.csv").write_text("path,label,split\n")  # refused before it is read
    last = run / "weights" / "last.pt"
    if content == "object":
        torch.save({"format": "graftlab-train-state", "x": argparse.Namespace(lr=0.1)}, last)
    else:
        last.write_bytes(b"not a checkpoint at all")
    code, _, err = cli("train", "--resume", run)
    assert code == 2 and err.startswith("graftlab: error: Cannot resume from")
    assert len(err.strip().splitlines()) == 1 and "weights_only=False" not in err
    if content == "object":
        assert "argparse.Namespace" in err and "never unpickles" in err
