"""Tiny images, a tiny saved model and a synthetic run directory for the evaluation, export,
report and CLI tests; everything builds in about a second on one CPU core.

The run directory follows ARCHITECTURE.md ("Run directory written by graftlab train"), with
predictions made by the saved model itself so that thumbnails, labels and probabilities agree.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import timm
import torch
from PIL import Image

from graftlab.artifacts.artifact import save_artifact
from graftlab.data import load_dataset
from graftlab.data.transforms import Preprocess
from graftlab.finetune.task import Task

ARCH = "test_efficientnet"  # timm's 0.3M-parameter test model: random weights, no download
INPUT_SIZE = 32
CLASSES = ("cat", "dog", "fox")
_COLOURS = {"cat": (200, 60, 40), "dog": (40, 160, 60), "fox": (50, 70, 210)}


def make_image_tree(root: Path, counts: dict[str, int] | None = None, seed: int = 0) -> Path:
    """``root/{train,val,test}/<class>/<i>.png``: noisy colour fields, 40x48 pixels."""
    counts = counts or {"train": 4, "val": 3, "test": 5}
    rng = np.random.default_rng(seed)
    for split, n in counts.items():
        for cls in CLASSES:
            folder = root / split / cls
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(n):
                base = np.asarray(_COLOURS[cls], dtype=np.float64)
                pixels = base + rng.normal(0, 45, size=(40, 48, 3))
                Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(folder / f"{i}.png")
    return root


def make_model(num_classes: int = len(CLASSES), seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    model = timm.create_model(ARCH, pretrained=False, num_classes=num_classes).eval()
    model.graftlab_name = ARCH
    model.graftlab_weights = {"source": "random", "path": None, "sha256": None}
    return model


def make_artifact(
    path: Path, classes: tuple[str, ...] = CLASSES, task: str = "multiclass", seed: int = 0
) -> Path:
    """Save a random ``test_efficientnet`` artifact at ``path`` with the real save function."""
    model = make_model(len(classes), seed)
    pre = Preprocess.from_model(model, image_size=INPUT_SIZE)
    save_artifact(path, model, task=Task(task, len(classes)), classes=list(classes), preprocess=pre)
    return path


def make_run(root: Path, *, lp_only: bool = False, with_test: bool = True) -> Path:
    """A run directory with every file the report reads (see the module docstring)."""
    from graftlab.evaluation._inference import as_artifact, predict_files

    data = make_image_tree(root / "data", None if with_test else {"train": 4, "val": 3})
    ds = load_dataset(data, test_fraction=0.15 if with_test else 0.0, progress=False)
    run = root / "run"
    run.mkdir(parents=True)
    ds.save_manifest(run / "manifest.csv")
    (run / "dataset.json").write_text(json.dumps(ds.summary()))
    make_artifact(run / "model", tuple(ds.classes))
    art = as_artifact(run)
    (run / "preprocess.json").write_text(json.dumps(art.preprocess.to_dict()))
    config = {
        "backbone": ARCH,
        "weights": "random",
        "strategy": "lp" if lp_only else "lp-ft",
        "image_size": INPUT_SIZE,
        "epochs": 3,
        "lr": 3e-4,
        "layer_decay": 0.7,
        "bn": "frozen",
        "augment": "light",
        "seed": 0,
        "param_groups": [
            {"name": "head", "lr": 3e-4, "params": 387, "weight_decay": 0.05},
            {"name": "blocks.5", "lr": 2.1e-4, "params": 48000, "weight_decay": 0.05},
        ],
    }
    (run / "config.json").write_text(json.dumps(config))
    rows = [_row("probe", 1, 1.05, 0.55, 1.1, 0.5)]
    if not lp_only:
        rows += [
            _row("finetune", e, 1.0 - 0.2 * e, 0.6 + 0.1 * e, 1.05 - 0.15 * e, 0.55 + 0.1 * e)
            for e in (1, 2, 3)
        ]
    with open(run / "results.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    (run / "predictions").mkdir()
    for split in ("val", "test") if with_test else ("val",):
        paths = ds.paths(split)
        probs = predict_files(art, paths).probs
        np.savez(
            run / "predictions" / f"{split}.npz",
            probs=probs,
            labels=ds.labels(split),
            paths=np.asarray(paths),
        )
    probe = {"val": {"accuracy": 0.5, "macro_f1": 0.45}, "test": {"accuracy": 0.47}}
    finetune = (
        None
        if lp_only
        else {"val": {"accuracy": 0.8, "macro_f1": 0.78}, "test": {"accuracy": 0.73}}
    )
    (run / "summary.json").write_text(
        json.dumps(
            {
                "probe": probe,
                "finetune": finetune,
                "selected": "probe" if lp_only else "finetune",
                "reason": "fine-tuning raised val accuracy from 0.50 to 0.80",
                "timings": {"features_s": 1.5, "probe_s": 0.2, "finetune_s": 12.0},
            }
        )
    )
    (run / "findings.json").write_text(
        json.dumps(
            [
                {
                    "code": "GL301",
                    "category": "batchnorm",
                    "severity": "warning",
                    "title": "BatchNorm statistics updated with batches of 4",
                    "evidence": "batch_size=4, bn=train",
                    "explanation": "Noisy running statistics <b>.",
                    "fix": "graftlab train DATA --bn frozen",
                    "references": ["https://arxiv.org/abs/1502.03167"],
                }
            ]
        )
    )
    return run


def _row(phase, epoch, train_loss, train_acc, val_loss, val_acc) -> dict:
    return {
        "phase": phase,
        "epoch": epoch,
        "lr": 3e-4,
        "train_loss": train_loss,
        "train_accuracy": train_acc,
        "val_loss": val_loss,
        "val_accuracy": val_acc,
        "val_balanced_accuracy": val_acc,
        "val_macro_f1": val_acc - 0.02,
        "seconds": 1.0,
        "images_per_second": 100.0,
        "data_wait": 0.01,
    }
