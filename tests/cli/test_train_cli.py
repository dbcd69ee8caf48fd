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
        (["--lr", "3"], "'lr' must be a float in (0, 1]. Got lr=3.0. Did you mean 3e-3?"),
        (["--strategy", "lpft"], "Unknown strategy 'lpft'. Did you mean 'lp-ft'"),
        (["--augment", "lite"], "'augment' must be one of 'auto', 'none', 'light', 'strong'."),
        (["--epochs", "0"], "'epochs' must be a positive integer. Got epochs=0."),
        (["--epochs", "2.5"], "'epochs' must be a positive integer. Got epochs=2.5."),
        (
            ["--class-weights", "inverse"],
            "'class_weights' must be one of 'auto', 'none', 'balanced'.",
        ),
        (["--device", "gpu"], "'device' must be 'auto', 'cpu', 'cuda' or 'cuda:N'."),
        (["--image-size", "16"], "'image_size' must be an integer >= 32 or None"),
        (["--boundary-cache", "sometimes"], "'boundary_cache' must be 'auto', true or false."),
        (["--views", "0"], "'views' must be a positive integer. Got views=0."),
        (["--layer-decay", "7"], "'layer_decay' must be a float in (0, 1]. Got layer_decay=7.0."),
        (["weight_decay=-1"], "'weight_decay' must be a float >= 0"),
        (["--warmup-steps", "-2"], "'warmup_steps' must be an integer >= 0 or None"),
        (["epocs=3"], "Unknown training option 'epocs' in 'epocs=3'. Did you mean 'epochs'"),
        (["--unfreeze", "1"], "'unfreeze' does not apply to strategy 'lp-ft'"),
    ],
)
def test_bad_options_give_one_line_and_exit_2(cli, data, tmp_path, args, message):
    code, _, err = cli("train", data, "--project", tmp_path / "runs", *args)
    assert code == 2
    assert err.startswith("graftlab: error: ") and message in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "runs").exists()  # nothing is written for a rejected command


@pytest.mark.parametrize(("args", "value"), [((), False), (("--save-every-epoch",), True)])
def test_save_every_epoch_reaches_the_config(cli, data, monkeypatch, args, value):
    seen = []
    monkeypatch.setattr(
        "graftlab.train.run_training", lambda data, config, **kw: seen.append(config)
    )
    code, _, err = cli("train", data, *args)
    assert code == 0, err
    assert seen[0].save_every_epoch is value


@pytest.mark.parametrize(("option", "value"), [("on", True), ("off", False), ("auto", "auto")])
def test_boundary_cache_and_views_reach_the_config(cli, data, tmp_path, monkeypatch, option, value):
    seen = []
    monkeypatch.setattr(
        "graftlab.train.run_training", lambda data, config, **kw: seen.append(config)
    )
    code, _, err = cli("train", data, "--boundary-cache", option, "--views", "2")
    assert code == 0, err
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


def test_every_config_field_is_an_option_with_its_comment_and_default(cli, monkeypatch):
    """The options are generated from TrainConfig: none can go stale or be missing."""
    import dataclasses

    from graftlab.finetune.config import TrainConfig

    monkeypatch.setenv("COLUMNS", "250")  # option names in full, not cut with an ellipsis
    code, out, _ = cli("train", "--help")
    assert code == 0
    text = " ".join(out.split())
    for f in dataclasses.fields(TrainConfig):
        assert "--" + f.name.replace("_", "-") in text, f.name
    help_of = TrainConfig.field_help()
    assert help_of["layer_decay"].startswith("per timm coarse stage")
    assert help_of["early_stopping_patience"].startswith("epochs without a better smoothed")


@pytest.mark.parametrize("kind", ["json", "yaml", "run"])
def test_config_file_options_and_key_value_overrides_build_one_config(
    cli, data, tmp_path, monkeypatch, kind
):
    seen = []
    monkeypatch.setattr(
        "graftlab.train.run_training", lambda data, config, **kw: seen.append((config, kw))
    )
    if kind == "json":
        path = tmp_path / "c.json"
        path.write_text('{"epochs": 7, "lr": 0.001, "layer_decay": 0.5}')
    elif kind == "yaml":
        path = tmp_path / "c.yaml"
        path.write_text("epochs: 7\nlr: 0.001\nlayer_decay: 0.5\n")
    else:  # a run's own config.json, with the execution it recorded beside it
        from graftlab.finetune.config import TrainConfig

        path = tmp_path / "run"
        path.mkdir()
        config = TrainConfig(epochs=7, lr=1e-3, layer_decay=0.5)
        (path / "config.json").write_text(json.dumps(config.to_dict()))
        (path / "execution.json").write_text('{"train": {"precision": "fp32"}, "threads": 1}')
    code, _, err = cli(
        "train", data, "--config", path, "--weight-decay", "0.01", "warmup_steps=5", "epochs=2"
    )
    assert code == 0, err
    config, kw = seen[0]
    assert (config.epochs, config.lr, config.layer_decay) == (2, 1e-3, 0.5)
    assert (config.weight_decay, config.warmup_steps) == (0.01, 5)
    assert (kw["recorded_execution"] is not None) == (kind == "run")


def test_a_bad_config_file_is_one_line(cli, data, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("epochs: [unclosed\n")
    code, _, err = cli("train", data, "--config", bad)
    assert code == 2 and "is not valid YAML/JSON" in err and len(err.strip().splitlines()) == 1
    unknown = tmp_path / "unknown.json"
    unknown.write_text('{"epoch": 3}')
    code, _, err = cli("train", data, "--config", unknown)
    assert code == 2 and "Unknown training option 'epoch'" in err and "'epochs'" in err
