"""What the tests share: tiny image trees, a tiny model, a real tiny run, the CLI runner.

One generator of images and one way to make a run, so that a test of the report, the
evaluation or the CLI reads files written by the code a user runs (``ImageClassifier.fit``,
the same pipeline as ``graftlab train``), never a hand-written imitation of them.
Importable from any test as ``_kit`` (``tests/`` is on ``sys.path`` through its conftest).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

ARCH = "test_efficientnet"  # timm's 0.3M-parameter test model: random weights, no download
INPUT_SIZE = 32
CLASSES = ("cat", "dog", "fox")
#: Far-apart colours, so that a mixed-up label shows in decoded pixels and a model learns fast.
COLOURS = [(200, 30, 30), (30, 200, 30), (30, 30, 200), (200, 200, 30), (30, 200, 200)]
_CLASS_COLOURS = {"cat": (200, 60, 40), "dog": (40, 160, 60), "fox": (50, 70, 210)}
#: Settings of every tiny run: seconds on one CPU core, nothing downloaded, nothing measured.
TINY = {
    "weights": "none",
    "image_size": INPUT_SIZE,
    "batch_size": 8,
    "precision": "fp32",
    "channels_last": False,
    "early_stopping_patience": None,
}


# -- images ---------------------------------------------------------------------------------
def save_image(path: Path, size: tuple[int, int] = (8, 6), colour=(128, 64, 32), **kw) -> Path:
    """Write a small one-colour RGB image to ``path`` (format from the extension)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path, **kw)
    return path


def make_class_tree(root: Path, counts: dict[str, int], ext: str = ".png") -> Path:
    """``root/<class>/<i>.png``: ``counts[class]`` one-colour images per class."""
    for k, (name, n) in enumerate(counts.items()):
        for i in range(n):
            save_image(root / name / f"{i:03d}{ext}", colour=COLOURS[k % len(COLOURS)])
    return root


def make_image_tree(
    root: Path,
    counts: dict[str, int] | None = None,
    seed: int = 0,
    classes: tuple[str, ...] = CLASSES,
) -> Path:
    """``root/<split>/<class>/<i>.png``: noisy colour fields of 40x48 pixels, a colour per
    class; ``counts`` maps split to images per class (default train 4, val 3, test 5; the
    split ``""`` gives ``root/<class>/``, no split). A different ``seed`` gives different
    files (other hashes), for "new data"."""
    counts = counts or {"train": 4, "val": 3, "test": 5}
    rng = np.random.default_rng(seed)
    for split, n in counts.items():
        for k, cls in enumerate(classes):
            folder = root / split / cls
            folder.mkdir(parents=True, exist_ok=True)
            base = np.asarray(_CLASS_COLOURS.get(cls, COLOURS[k % len(COLOURS)]), np.float64)
            for i in range(n):
                pixels = base + rng.normal(0, 45, size=(40, 48, 3))
                Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(folder / f"{i}.png")
    return root


# -- models and runs ------------------------------------------------------------------------
def make_model(num_classes: int = len(CLASSES), seed: int = 0) -> Any:
    """A random ``test_efficientnet`` with the attributes ``create_backbone`` sets."""
    import timm
    import torch

    torch.manual_seed(seed)
    model = timm.create_model(ARCH, pretrained=False, num_classes=num_classes).eval()
    model.graftlab_name = ARCH
    model.graftlab_weights = {"source": "random", "path": None, "sha256": None}
    return model


def make_artifact(
    path: Path, classes: tuple[str, ...] = CLASSES, task: str = "multiclass", seed: int = 0
) -> Path:
    """Save a random ``test_efficientnet`` artifact at ``path`` with the real save function."""
    from graftlab.artifacts.artifact import save_artifact
    from graftlab.data.transforms import Preprocess
    from graftlab.finetune.task import Task

    model = make_model(len(classes), seed)
    pre = Preprocess.from_model(model, image_size=INPUT_SIZE)
    save_artifact(path, model, task=Task(task, len(classes)), classes=list(classes), preprocess=pre)
    return path


def train_run(
    root: Path,
    *,
    strategy: str = "lp-ft",
    counts: dict[str, int] | None = None,
    report: bool = True,
    **config: Any,
) -> Path:
    """A real run directory: ``ImageClassifier.fit`` (the pipeline of ``graftlab train``) on
    :func:`make_image_tree` data under ``root/data``; returns ``root/run``.

    Default: LP-FT for 2 epochs with the default label smoothing, train 4 / val 3 / test 5
    images per class, report built; about 2 seconds on one core.
    """
    import torch

    from graftlab.classifier import ImageClassifier

    data = make_image_tree(root / "data", counts)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny models: extra threads only spin on a shared machine
    try:
        clf = ImageClassifier(ARCH, strategy=strategy, **{**TINY, "epochs": 2, **config})
        clf.fit(data, run_dir=root / "run", progress=False, report=report)
    finally:
        torch.set_num_threads(threads)
    return root / "run"


def copy_run(run: Path, dest: Path) -> Path:
    """Copy ``run`` and the data beside it (``run.parent``) to ``dest``; point the copy's
    manifest and predictions at the copied images. Returns the copied run directory."""
    import shutil

    old, new = str(run.parent), str(dest)
    shutil.copytree(run.parent, dest)
    copied = dest / run.name
    manifest = copied / "manifest.csv"
    manifest.write_text(manifest.read_text().replace(old, new))
    for npz in (copied / "predictions").glob("*.npz"):
        with np.load(npz) as d:
            arrays = {k: d[k] for k in d.files}
        arrays["paths"] = np.asarray([p.replace(old, new) for p in arrays["paths"].tolist()])
        np.savez(npz, **arrays)
    return copied


# -- the command line -----------------------------------------------------------------------
def cli_runner(capsys: Any) -> Callable[..., tuple[int, str, str]]:
    """``invoke(*argv) -> (exit code, stdout, stderr)`` through the real entry point."""
    import pytest

    from graftlab.cli.main import run

    def invoke(*argv: Any) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as exit_info:
            run([str(a) for a in argv])
            raise SystemExit(0)
        out = capsys.readouterr()
        return exit_info.value.code, out.out, out.err

    return invoke
