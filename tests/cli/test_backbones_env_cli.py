"""``graftlab backbones`` and ``graftlab env``: content, JSON, and one-line errors."""

from __future__ import annotations

import json

import pytest

import graftlab.cli.main as cli_main


@pytest.fixture
def run(cli, monkeypatch):
    """The shared runner (tests/conftest.py) with a wide terminal for the tables."""
    monkeypatch.setenv("COLUMNS", "200")
    return cli


def test_commands_are_registered_on_the_real_app():
    for name in ("backbones", "env"):
        assert cli_main.load_command(name).name == name


def test_backbones_table_lists_offline_models_first(run):
    code, out, _ = run("backbones")
    assert code == 0
    assert out.index("tf_efficientnet_lite0") < out.index("legacy_xception")
    for text in ("packaged", "efficientnet-lite0", "bicubic", "0.875", "299", "xception"):
        assert text in out
    assert "3 of 11 usable offline" in out


def test_backbones_json(run):
    code, out, _ = run("backbones", "--all", "--json")
    rows = json.loads(out)
    assert code == 0 and len(rows) > 1000
    assert rows[0]["name"] == "tf_efficientnet_lite0" and rows[0]["available_offline"]


def test_env_table_and_json(run):
    code, out, _ = run("env")
    assert code == 0
    for text in ("torch", "timm", "avx512_bf16", "tf_efficientnet_lite0", ".pth"):
        assert text in out
    code, out, _ = run("env", "--json")
    info = json.loads(out)
    assert code == 0 and info["versions"]["timm"] and "cpu" in info


@pytest.mark.parametrize("argv", [("backbones", "--bogus"), ("env", "--fast")])
def test_bad_option_is_one_line_and_exit_2(run, argv):
    code, _, err = run(*argv)
    assert code == 2
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and argv[1] in lines[0], err


def test_env_measure_prints_the_execution_choice(run, monkeypatch):
    import graftlab.hardware
    from graftlab.hardware import Execution

    seen = {}

    def fake_choose(model, input_size):
        seen["input_size"] = input_size
        return Execution("cpu", "bf16", True, {"fp32 NCHW": 0.5}, "bf16 channels_last: 5.0x")

    monkeypatch.setattr(graftlab.hardware, "choose_execution", fake_choose)
    code, out, _ = run("env", "--measure")
    assert code == 0 and "bf16 channels_last: 5.0x" in out and seen["input_size"] == 224
