"""What this machine is, and how a model runs on it: the one :class:`Execution`.

An ``Execution`` (device, autocast dtype, memory format, inference batch size) is what every
phase computes with: feature extraction, the Trainer, the boundary cache, evaluation and the
saved model. A run records it (``to_dict``) and reads it back (``from_dict``).

:func:`decide_execution` picks it by a fixed rule from the hardware's features, so the same
machine always trains the same way (a timing on a shared machine is noise, and precision
changes the numbers):

* CUDA: bf16 autocast where the GPU has bf16, else fp16 (with a loss scaler); channels_last.
* CPU, inference: bf16 + channels_last with native bf16 kernels (AVX512-BF16 or AMX: 1.4-1.5x
  faster than fp32 for a forward pass), else fp32 NCHW.
* CPU, training: bf16 + channels_last only with AMX; without it a bf16 training step is
  1.2-1.5x slower than fp32, so fp32 + channels_last (faster than NCHW for convnets).

``choose_execution()`` measures instead (``graftlab env --measure``, benchmarks): it times the
candidates and keeps the fastest, for when the rule is to be checked on a new machine.
``describe_environment()`` feeds ``graftlab env`` and bug reports.
"""

from __future__ import annotations

import contextlib
import copy as copy_module
import dataclasses
import importlib.metadata
import os
import platform
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import torch

from graftlab.errors import ConfigError

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
_CPU_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_tile", "amx_bf16")
_MEASURE_BUDGET_S = 4.0  # total time spent timing candidates, warm-up passes included
_FP32_MARGIN = 1.25  # fp32 must beat native bf16/fp16 by this much to be chosen over it


@dataclass
class Execution:
    """How to run a model: device, autocast dtype, memory format, batch size, and why."""

    device: str  # "cpu" or "cuda[:i]"
    dtype: str  # autocast dtype: "fp32" (no autocast), "bf16" or "fp16"
    channels_last: bool  # NHWC memory format for the model and its inputs
    timings: dict[str, float] = field(default_factory=dict)  # seconds per measured batch
    reason: str = ""  # one line, for logs and the run report
    batch_size: int | None = None  # images per batch (inference: None = auto_batch_size)

    @property
    def torch_dtype(self) -> torch.dtype:
        return DTYPES[self.dtype]

    @property
    def autocast_dtype(self) -> torch.dtype | None:
        """The dtype of autocast regions; None for fp32 (no autocast)."""
        return None if self.dtype == "fp32" else DTYPES[self.dtype]

    @property
    def torch_device(self) -> torch.device:
        return torch.device(self.device)

    @property
    def memory_format(self) -> torch.memory_format:
        return torch.channels_last if self.channels_last else torch.contiguous_format

    @contextlib.contextmanager
    def autocast(self) -> Iterator[None]:
        """Run the enclosed forward passes in this execution's dtype (no-op for fp32)."""
        if self.dtype == "fp32":
            yield
            return
        with torch.autocast(self.torch_device.type, dtype=self.torch_dtype):
            yield

    def prepare(self, model: torch.nn.Module) -> torch.nn.Module:
        """Move ``model`` to this device and memory format (in place) and return it."""
        return model.to(device=self.device, memory_format=self.memory_format)

    def inputs(self, x: torch.Tensor, non_blocking: bool = True) -> torch.Tensor:
        """Move a batch to this device; an NCHW image batch also to this memory format."""
        fmt = self.memory_format if x.ndim == 4 else torch.contiguous_format
        return x.to(device=self.device, memory_format=fmt, non_blocking=non_blocking)

    def inference_batch(self, input_size: int) -> int:
        """Images per inference batch: the recorded one, else :func:`auto_batch_size`."""
        return self.batch_size or auto_batch_size(input_size, self.device)

    def describe(self) -> str:
        """``"cpu, bf16, channels_last"``: part of every feature-cache key."""
        return f"{self.device}, {self.dtype}" + (", channels_last" if self.channels_last else "")

    def available(self) -> Execution:
        """This execution, on the CPU when it names CUDA and there is none (a saved model
        moved to another machine)."""
        if self.device.startswith("cuda") and not torch.cuda.is_available():
            # The GPU's batch size is no guide for a CPU: back to auto_batch_size.
            return dataclasses.replace(
                self, device="cpu", batch_size=None, reason="no CUDA here: on the CPU"
            )
        return self

    def to_dict(self) -> dict[str, Any]:
        """What a run and a saved model record (``precision`` is the autocast dtype)."""
        out = {
            "device": self.device,
            "precision": self.dtype,
            "channels_last": self.channels_last,
            "batch_size": self.batch_size,
            "reason": self.reason,
        }
        if self.timings:
            out["timings"] = dict(self.timings)
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Execution:
        """Read back :meth:`to_dict` (also the older ``dtype`` key); fp32 on the CPU when
        nothing was recorded."""
        return cls(
            str(d.get("device", "cpu")),
            str(d.get("precision", d.get("dtype", "fp32"))),
            bool(d.get("channels_last", False)),
            timings=dict(d.get("timings") or {}),
            reason=str(d.get("reason", "")),
            batch_size=d.get("batch_size"),
        )


#: Images per inference batch at 112 px: large enough that per-call overhead does not show.
DEFAULT_BATCH_SIZE = 64


def auto_batch_size(input_size: int, device: str = "cpu") -> int:
    """Images per inference batch: the same pixels per batch as 64 images of 112 px on a CPU.

    A CPU runs a batch fastest while its activations stay in cache: lite0 at 224 px extracts
    96 img/s in batches of 16 against 51-59 img/s in batches of 64 on two cores. GPUs want
    large batches, so they keep ``DEFAULT_BATCH_SIZE``.
    """
    if not str(device).startswith("cpu"):
        return DEFAULT_BATCH_SIZE
    return max(8, min(DEFAULT_BATCH_SIZE, round(DEFAULT_BATCH_SIZE * (112 / input_size) ** 2)))


def decide_execution(
    device: str = "auto",
    *,
    train: bool = False,
    precision: str = "auto",
    channels_last: bool | str = "auto",
) -> Execution:
    """The execution for this machine by the rule of this module's docstring; ``precision``
    and ``channels_last`` other than ``"auto"`` are kept as given. No timing: the same
    machine always gets the same answer.

    Raises:
        ConfigError: Unknown device or precision, or CUDA requested without a GPU.
    """
    dev = _resolve_device(device)
    forced = _parse_override(
        {k: v for k, v in (("dtype", precision), ("channels_last", channels_last)) if v != "auto"}
    )
    phase = "training" if train else "inference"
    if dev != "cpu":
        dtype, cl = _reduced_dtype(dev), True
        why = f"{dtype} autocast on CUDA" + ("" if dtype == "bf16" else " (the GPU has no bf16)")
    elif train and cpu_has_amx():
        dtype, cl, why = "bf16", True, "bf16 training on a CPU with AMX"
    elif train:
        dtype, cl = "fp32", True
        why = (
            "fp32 training on a CPU without AMX (bf16 steps are slower there)"
            if cpu_supports_bf16()
            else "fp32 training on a CPU without bf16 kernels"
        )
    elif cpu_supports_bf16():
        dtype, cl, why = "bf16", True, "bf16 inference on a CPU with native bf16 kernels"
    else:
        dtype, cl, why = "fp32", False, "fp32 inference on a CPU without bf16 kernels"
    given = [f"{'precision' if k == 'dtype' else k} {v}" for k, v in forced.items()]
    dtype, cl = forced.get("dtype", dtype), forced.get("channels_last", cl)
    if len(forced) == 2:
        why = f"as configured ({', '.join(given)})"
    elif forced:
        why = f"{', '.join(given)} as configured; the rest by rule: {why}"
    else:
        why = f"by rule for {phase}: {why}"
    return Execution(dev, dtype, cl, reason=why)


def cpu_has_amx() -> bool:
    """True when the CPU has AMX tiles with bf16 (Sapphire Rapids and later)."""
    flags = _cpu_info()[1]
    return "amx_tile" in flags and "amx_bf16" in flags


def choose_execution(
    model: torch.nn.Module,
    input_size: int,
    device: str = "auto",
    batch_size: int = 32,
    override: str | dict | None = None,
    train: bool = False,
) -> Execution:
    """Pick device, autocast dtype and memory format for ``model``, by a quick measurement.

    Times fp32 (NCHW, and channels_last for training) against bf16 (fp16 on GPUs without
    bf16) with channels_last on a small batch, within a few seconds; native reduced precision
    is kept unless fp32 is clearly faster. The model ends where it started (device, memory format,
    train/eval mode).

    Args:
        model: The model to run.
        input_size: Side of the square inputs.
        device: ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"`` or ``"cuda:i"``.
        batch_size: The batch size the run will use; the measurement uses at most 8 on a
            CPU and 32 on a GPU of it.
        override: ``"fp32"``, ``"bf16"`` or ``"fp16"`` (channels_last with reduced precision),
            or a dict ``{"dtype": ..., "channels_last": ...}``; keys left out are measured.
        train: Time training steps (forward and backward in train mode) instead of
            inference passes: what a fine-tuning run spends its time on.

    Raises:
        ConfigError: Unknown device or dtype, or CUDA requested without a GPU.
    """
    dev = _resolve_device(device)
    forced = _parse_override(override)
    if "dtype" in forced and "channels_last" in forced:
        given = f"{forced['dtype']}, channels_last {forced['channels_last']}"
        return Execution(
            dev, forced["dtype"], forced["channels_last"], reason=f"as configured ({given})"
        )

    fast = _reduced_dtype(dev)
    # fp32 channels_last only for training, where it beats bf16 on CPUs without AMX; inference
    # keeps the two candidates whose predictions the exact-reproduction tests cover.
    candidates = [("fp32", False), ("fp32", True)] if train else [("fp32", False)]
    if fast is not None:
        candidates.append((fast, True))
    if "dtype" in forced:
        candidates = [(forced["dtype"], c) for c in (False, True)]
    elif "channels_last" in forced:
        candidates = [(d, forced["channels_last"]) for d, _ in candidates]
    candidates = list(dict.fromkeys(candidates))
    if len(candidates) == 1:
        dtype, cl = candidates[0]
        why = f"{'CUDA' if dev != 'cpu' else 'this CPU'} has no fast bf16; fp32"
        return Execution(dev, dtype, cl, reason=why)

    n = max(1, min(batch_size, 32 if dev != "cpu" else 16))
    timings = _measure(model, dev, input_size, n, candidates, train)
    base = timings.get(_label("fp32", False))
    best = min(timings, key=timings.get)
    reduced = [k for k in timings if not k.startswith("fp32")]
    # This device has native reduced-precision kernels, which are the known-fast choice;
    # keep them unless fp32 is clearly faster: one timing on a shared machine is noisy.
    close = len(reduced) == 1 and timings[reduced[0]] <= timings[best] * _FP32_MARGIN
    if best.startswith("fp32") and close:
        best = reduced[0]
    dtype, cl = next((d, c) for d, c in candidates if _label(d, c) == best)
    parts = [f"{k} {v * 1000:.0f} ms" for k, v in timings.items()]
    speed = (
        f"{base / timings[best]:.2g}x fp32 NCHW; " if base and best != _label("fp32", False) else ""
    )
    what = "training step" if train else "batch"
    reason = f"{best}: {speed}{', '.join(parts)} per {what} of {n} at {input_size}px on {dev}"
    return Execution(dev, dtype, cl, timings=timings, reason=reason)


def _label(dtype: str, channels_last: bool) -> str:
    return f"{dtype} {'channels_last' if channels_last else 'NCHW'}"


def _resolve_device(device: str) -> str:
    device = str(device).strip().lower()
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu":
        return "cpu"
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ConfigError(
                f"device={device!r} but torch.cuda.is_available() is False (torch "
                f"{torch.__version__}, CUDA build {torch.version.cuda}). Use device='cpu'."
            )
        return device
    raise ConfigError(f"Unknown device {device!r}; use 'auto', 'cpu', 'cuda' or 'cuda:N'.")


def _parse_override(override: str | dict | None) -> dict:
    if override is None:
        return {}
    if isinstance(override, str):
        override = {"dtype": override, "channels_last": override.strip().lower() != "fp32"}
    if not isinstance(override, dict) or set(override) - {"dtype", "channels_last"}:
        raise ConfigError(
            "'override' must be 'fp32', 'bf16', 'fp16' or a dict with keys 'dtype' and/or "
            f"'channels_last'. Got {override!r}."
        )
    out = dict(override)
    if "dtype" in out:
        out["dtype"] = str(out["dtype"]).strip().lower()
        if out["dtype"] not in DTYPES:
            raise ConfigError(f"Unknown dtype {override['dtype']!r}; use fp32, bf16 or fp16.")
    if "channels_last" in out:
        out["channels_last"] = bool(out["channels_last"])
    return out


def _reduced_dtype(device: str) -> str | None:
    """The reduced precision worth trying on ``device``, or None."""
    if device != "cpu":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return "bf16" if cpu_supports_bf16() else None


def cpu_supports_bf16() -> bool:
    """True when oneDNN has native bf16 kernels here (AVX512-BF16 or AMX)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        flags = _cpu_info()[1]
        return "avx512_bf16" in flags or "amx_bf16" in flags


def _measure(model, device, input_size, n, candidates, train=False) -> dict[str, float]:
    """Seconds per batch (``train``: per forward + backward step) for each (dtype,
    channels_last): the median of interleaved passes.

    Each candidate runs on its own copy of the model, and the candidates take turns, so a
    burst of load from other jobs on a shared machine slows all of them alike instead of
    deciding the choice. The median over the turns, not the minimum: with another job on the
    cores, one lucky pass of one candidate made fp32 look 1.5x faster than bf16 for
    inference, where it is 1.4x slower.
    """
    was_training = model.training
    model.eval()
    x = torch.randn(n, 3, input_size, input_size, device=device)
    runs = []
    try:
        for dtype, cl in candidates:
            ex = Execution(device, dtype, cl)
            copy = ex.prepare(copy_module.deepcopy(model)).train(train)
            runs.append((_label(dtype, cl), ex, copy, ex.inputs(x)))
        passes: dict[str, list[float]] = {label: [] for label, *_ in runs}
        start = time.perf_counter()
        grad = contextlib.nullcontext() if train else torch.inference_mode()
        with grad:
            for turn in range(9):  # turns 0-1 warm up: oneDNN builds its kernels there
                for label, ex, copy, xin in runs:
                    t0 = time.perf_counter()
                    with ex.autocast():
                        out = copy(xin)
                    if train:
                        out.float().square().mean().backward()
                        copy.zero_grad(set_to_none=True)
                    if device != "cpu":
                        torch.cuda.synchronize(device)
                    if turn >= 2:
                        passes[label].append(time.perf_counter() - t0)
                if turn >= 4 and time.perf_counter() - start > _MEASURE_BUDGET_S * (1 + train):
                    break
    finally:
        model.train(was_training)
    return {label: statistics.median(times) for label, times in passes.items()}


# --- environment report --------------------------------------------------------------------


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _cpu_info() -> tuple[str, set[str]]:
    model, flags = platform.processor() or platform.machine(), set()
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            if key.strip() == "model name" and value.strip():
                model = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
            if flags and model:
                break
    return model, flags


def describe_environment() -> dict[str, Any]:
    """Versions, CPU and GPU, and where offline weights were found; JSON-able."""
    from graftlab import __version__
    from graftlab._paths import cache_dir
    from graftlab.backbones.packaged import PACKAGED, packaged_file

    cpu_model, flags = _cpu_info()
    gpus = []
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(i)
            gpus.append(
                {
                    "name": props.name,
                    "memory_gb": round(props.total_memory / 2**30, 1),
                    "capability": f"{props.major}.{props.minor}",
                }
            )
    weights = {}
    for name in PACKAGED:
        path = packaged_file(name)
        weights[name] = str(path) if path else None
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": {
            "graftlab": __version__,
            "torch": torch.__version__,
            "torchvision": _version("torchvision"),
            "timm": _version("timm"),
            "numpy": _version("numpy"),
            "pillow": _version("pillow"),
            "safetensors": _version("safetensors"),
        },
        "torch": {
            "threads": torch.get_num_threads(),
            "interop_threads": torch.get_num_interop_threads(),
            "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "mkldnn": torch.backends.mkldnn.is_available(),
            "cuda_build": torch.version.cuda,
        },
        "cpu": {
            "model": cpu_model,
            "cores": os.cpu_count(),
            "flags": {f: f in flags for f in _CPU_FLAGS},
            "amx": "amx_tile" in flags and "amx_bf16" in flags,
            "bf16": cpu_supports_bf16(),
        },
        "gpus": gpus,
        "offline_weights": weights,
        "hf_hub_offline": os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0"),
        "cache_dir": str(cache_dir()),
    }
