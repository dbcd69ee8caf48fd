"""describe_environment and choose_execution: facts about the machine, choices by measurement."""

from __future__ import annotations

import json
import time

import pytest
import torch

from graftlab import hardware
from graftlab.backbones import create_backbone
from graftlab.errors import ConfigError
from graftlab.hardware import Execution, choose_execution, describe_environment


def test_describe_environment_reports_versions_cpu_and_offline_weights():
    env = describe_environment()
    json.dumps(env)  # JSON-able, for `graftlab env --json` and bug reports
    assert env["versions"]["torch"] == torch.__version__
    assert env["versions"]["timm"] and env["versions"]["torchvision"]
    assert env["torch"]["threads"] == torch.get_num_threads()
    assert set(env["cpu"]["flags"]) >= {"avx512f", "avx512_bf16", "amx_bf16"}
    assert env["cpu"]["bf16"] == hardware.cpu_supports_bf16()
    lite0 = env["offline_weights"]["tf_efficientnet_lite0"]
    assert lite0 and lite0.endswith(".pth")
    assert env["gpus"] == [] or "name" in env["gpus"][0]


@pytest.fixture(scope="module")
def tiny():
    return create_backbone("test_efficientnet", weights="none")


def test_choose_execution_measures_and_restores_the_model(tiny):
    tiny.train()
    start = time.perf_counter()
    ex = choose_execution(tiny, 64, device="cpu", batch_size=4)
    # Budget 4 s of timing; the slack is for a loaded machine (15-30 s at load 5 on 2 cores).
    assert time.perf_counter() - start < 40
    assert tiny.training and tiny.conv_stem.weight.is_contiguous()
    assert "\n" not in ex.reason
    if not hardware.cpu_supports_bf16():  # one candidate, fp32 NCHW: nothing to time
        assert (ex.dtype, ex.channels_last, ex.timings) == ("fp32", False, {})
        assert "no fast bf16" in ex.reason
        return
    assert "fp32 NCHW" in ex.timings and all(t > 0 for t in ex.timings.values())
    assert ex.reason.startswith(f"{ex.dtype} ")
    assert "fp32 channels_last" not in ex.timings  # inference: batch-invariant kernels only
    assert "bf16 channels_last" in ex.timings
    fp32 = ex.timings["fp32 NCHW"]
    bf16 = ex.timings["bf16 channels_last"]
    expected = "bf16" if bf16 <= fp32 * hardware._FP32_MARGIN else "fp32"
    assert ex.dtype == expected


def test_native_reduced_precision_wins_unless_fp32_is_clearly_faster(tiny, monkeypatch):
    monkeypatch.setattr(hardware, "_reduced_dtype", lambda device: "bf16")

    def choice(fp32: float, bf16: float, fp32_cl: float | None = None):
        timings = {"fp32 NCHW": fp32, "bf16 channels_last": bf16}
        if fp32_cl is not None:  # a candidate for training steps only
            timings["fp32 channels_last"] = fp32_cl
        monkeypatch.setattr(hardware, "_measure", lambda *a: timings)
        return choose_execution(tiny, 64, device="cpu", train=fp32_cl is not None)

    ex = choice(1.0, 0.2)
    assert (ex.dtype, ex.channels_last) == ("bf16", True)
    assert "5x fp32 NCHW" in ex.reason
    # A tie, or fp32 ahead by noise, keeps the native bf16 kernels ...
    assert choice(1.0, 1.1).dtype == "bf16"
    # ... but fp32 clearly faster wins.
    assert (choice(1.0, 1.5).dtype, choice(1.0, 1.5).channels_last) == ("fp32", False)
    # The fastest fp32 layout is the one bf16 is compared with.
    assert (choice(1.0, 1.0, fp32_cl=0.6).dtype, choice(1.0, 1.0, 0.6).channels_last) == (
        "fp32",
        True,
    )


def test_training_steps_are_measured_with_gradients(tiny):
    """train=True times forward + backward: on AVX512-BF16 CPUs without AMX the bf16 backward
    is slower than fp32 although the bf16 forward is faster."""
    tiny.eval()
    ex = choose_execution(tiny, 64, device="cpu", batch_size=4, train=True)
    assert "training step" in ex.reason and not tiny.training
    assert "fp32 channels_last" in ex.timings
    assert all(p.grad is None for p in tiny.parameters())


@pytest.mark.parametrize(
    ("override", "dtype", "channels_last"),
    [
        ("fp32", "fp32", False),
        ("bf16", "bf16", True),
        ({"dtype": "fp16", "channels_last": False}, "fp16", False),
    ],
)
def test_override_skips_the_measurement(tiny, monkeypatch, override, dtype, channels_last):
    monkeypatch.setattr(hardware, "_measure", lambda *a: pytest.fail("measured despite override"))
    ex = choose_execution(tiny, 64, device="cpu", override=override)
    assert (ex.dtype, ex.channels_last) == (dtype, channels_last)
    assert ex.reason == f"as configured ({dtype}, channels_last {channels_last})"


def test_bad_device_and_override_are_config_errors(tiny):
    with pytest.raises(ConfigError, match="Unknown dtype 'int8'"):
        choose_execution(tiny, 64, override="int8")
    with pytest.raises(ConfigError, match="Unknown device 'tpu'"):
        choose_execution(tiny, 64, device="tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match=r"cuda\.is_available"):
            choose_execution(tiny, 64, device="cuda")


def test_execution_autocast_and_prepare(tiny):
    x = torch.randn(2, 3, 64, 64)
    bf16 = Execution("cpu", "bf16", True)
    with torch.inference_mode(), bf16.autocast():
        assert bf16.prepare(tiny)(bf16.inputs(x)).dtype == torch.bfloat16
    assert tiny.conv_stem.weight.is_contiguous(memory_format=torch.channels_last)
    fp32 = Execution("cpu", "fp32", False)
    with torch.inference_mode(), fp32.autocast():
        assert fp32.prepare(tiny)(fp32.inputs(x)).dtype == torch.float32
    assert tiny.conv_stem.weight.is_contiguous()


@pytest.mark.parametrize(
    ("flags", "bf16", "train", "expected"),
    [
        ({"avx512_bf16"}, True, True, ("fp32", True)),  # no AMX: bf16 steps are slower
        ({"avx512_bf16"}, True, False, ("bf16", True)),  # but bf16 inference is faster
        ({"avx512_bf16", "amx_tile", "amx_bf16"}, True, True, ("bf16", True)),
        ({"avx2"}, False, True, ("fp32", True)),
        ({"avx2"}, False, False, ("fp32", False)),
    ],
)
def test_the_execution_is_decided_by_a_rule_on_cpu_features(
    monkeypatch, flags, bf16, train, expected
):
    monkeypatch.setattr(hardware, "_cpu_info", lambda: ("cpu", set(flags)))
    monkeypatch.setattr(hardware, "cpu_supports_bf16", lambda: bf16)
    monkeypatch.setattr(hardware, "_measure", lambda *a: pytest.fail("no timing in the rule"))
    ex = hardware.decide_execution("cpu", train=train)
    assert (ex.dtype, ex.channels_last) == expected and ex.reason.startswith("by rule")
    again = hardware.decide_execution("cpu", train=train)
    assert (again.dtype, again.channels_last) == expected  # the same answer every time


def test_decide_execution_keeps_what_is_configured_and_says_so():
    ex = hardware.decide_execution("cpu", train=True, precision="bf16", channels_last=False)
    assert (ex.dtype, ex.channels_last) == ("bf16", False)
    assert ex.reason == "as configured (precision bf16, channels_last False)"
    half = hardware.decide_execution("cpu", precision="fp32")
    assert half.dtype == "fp32" and "precision fp32 as configured" in half.reason
    assert "override" not in ex.reason + half.reason


def test_execution_round_trips_through_its_record():
    ex = Execution("cpu", "bf16", True, batch_size=16, reason="by rule")
    d = ex.to_dict()
    assert d["precision"] == "bf16" and d["batch_size"] == 16
    assert Execution.from_dict(d) == ex
    assert Execution.from_dict({}) == Execution("cpu", "fp32", False)
    assert ex.describe() == "cpu, bf16, channels_last"
    assert (
        ex.inference_batch(224) == 16 and Execution("cpu", "fp32", False).inference_batch(224) == 16
    )
