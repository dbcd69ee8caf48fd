"""timm peer: the ``train.py`` script a timm user runs, with its fine-tuning flags.

timm's ``train.py`` and ``validate.py`` live in timm's repository, not in the pip package:
pass the folder that holds them with ``--timm-scripts`` (default ``$GRAFTLAB_TIMM_SCRIPTS``,
else ``benchmarks/out/timm``), taken from the timm release that is installed (see
benchmarks/README.md). The runner

1. splits the train folder into ``train/`` and ``validation/`` (symlinks, seeded, 15% held out
   per class, as every runner holds out) and links ``test/`` beside them;
2. runs ``train.py`` on the CPU with the packaged ImageNet weights as ``--pretrained-path``
   (timm adapts the classifier to ``--num-classes``), AdamW, cosine schedule with warm-up,
   label smoothing, channels_last, fp32, timm's default training augmentation; timm keeps
   the checkpoint that is best on validation (``model_best.pth.tar``);
3. scores that checkpoint on the test split with timm's own ``validate.py`` (fp32): the
   reported test accuracy is timm's own number.

The clock runs from this process's start to the last epoch's checkpoint. The accuracy-vs-time
curve takes each epoch's checkpoint (its file time is when that epoch ended) and scores it
afterwards, off the clock, on the fixed 2,000-image test subset every runner uses.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import _common as common

CLOCK = common.Clock()
import time  # noqa: E402

START = time.time()  # wall-clock epoch, to compare with checkpoint file times
import numpy as np  # noqa: E402
import torch  # noqa: E402

HERE = Path(__file__).resolve().parent
DEFAULT_SCRIPTS = HERE.parent / "out" / "timm"


def split_folder(data: Path, work: Path, seed: int) -> Path:
    """``train/`` + ``validation/`` (seeded, per class) and ``test/``, as symlinks."""
    root = work / f"timm-data-{data.name}-s{seed}"
    if (root / "done").exists():
        return root
    rng = np.random.default_rng(seed)
    for cls in sorted(p.name for p in (data / "train").iterdir() if p.is_dir()):
        files = sorted((data / "train" / cls).iterdir())
        n_val = round(len(files) * common.VAL_FRACTION)
        order = rng.permutation(len(files))
        for rank, i in enumerate(order):
            split = "validation" if rank < n_val else "train"
            dst = root / split / cls / files[i].name
            dst.parent.mkdir(parents=True, exist_ok=True)
            if not dst.exists():
                dst.symlink_to(files[i].resolve())
    if not (root / "test").exists():
        (root / "test").symlink_to((data / "test").resolve())
    (root / "done").write_text("")
    return root


def packaged_weights(work: Path) -> Path:
    """The packaged ImageNet weights under timm's parameter names, as a file timm can load."""
    path = work / f"{common.BACKBONE}_packaged.pth"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(common.create_lite0(1000).state_dict(), path)
    return path


def score_checkpoint(path: Path, num_classes: int, loader) -> float:
    """Test accuracy of one epoch's checkpoint, fp32 channels_last as it trained."""
    import timm

    model = timm.create_model(common.BACKBONE, num_classes=num_classes)
    state = torch.load(path, map_location="cpu", weights_only=False)["state_dict"]
    model.load_state_dict(state)
    return common.test_accuracy(model, loader, channels_last=True)


def test_loader(root: Path, image_size: int, model_cfg: dict, indices: list[int] | None):
    """timm's own eval transform (resize, centre crop, normalise) over the test folder."""
    from timm.data import create_transform
    from torchvision import datasets

    tfm = create_transform(
        image_size,
        interpolation=model_cfg["interpolation"],
        mean=model_cfg["mean"],
        std=model_cfg["std"],
        crop_pct=model_cfg["crop_pct"],
    )
    ds = datasets.ImageFolder(root / "test", transform=tfm)
    if indices is not None:
        ds = torch.utils.data.Subset(ds, indices)
    return torch.utils.data.DataLoader(ds, batch_size=256), len(ds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="root with train/ and test/")
    parser.add_argument("--image-size", type=int, default=112)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--lr", type=float, default=1e-3, help="AdamW peak lr")
    parser.add_argument("--label", default="timm-train", help="the runner's name in the results")
    parser.add_argument(
        "--scale-min",
        type=float,
        default=None,
        help="RandomResizedCrop's smallest area (train.py --scale MIN 1); default: timm's 0.08",
    )
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", type=Path, default=Path("benchmarks/out/work"))
    parser.add_argument(
        "--timm-scripts",
        type=Path,
        default=Path(os.environ.get("GRAFTLAB_TIMM_SCRIPTS", DEFAULT_SCRIPTS)),
        help="folder with timm's train.py and validate.py",
    )
    args = parser.parse_args()
    train_py, validate_py = args.timm_scripts / "train.py", args.timm_scripts / "validate.py"
    if not (train_py.is_file() and validate_py.is_file()):
        sys.exit(
            f"timm_train_run: no train.py/validate.py in {args.timm_scripts}; put the scripts "
            "of the installed timm release there (see benchmarks/README.md)"
        )

    CLOCK.pause()  # benchmark plumbing: a timm user has the folders and weights already
    plumbing_start = time.time()
    work = args.workdir.resolve()
    root = split_folder(args.data, work, args.seed)
    weights = packaged_weights(work)
    classes = sorted(p.name for p in (root / "train").iterdir())
    out = work / "timm-output"
    experiment = f"lite0-{args.image_size}-s{args.seed}-e{args.epochs}-lr{args.lr:g}"
    if args.scale_min is not None:
        experiment += f"-scale{args.scale_min:g}"
    if (out / experiment).exists():
        import shutil

        shutil.rmtree(out / experiment)
    plumbing = time.time() - plumbing_start
    CLOCK.resume()

    def on_clock(path: Path) -> float:
        """Seconds from process start to when ``path`` was written, less the plumbing."""
        return path.stat().st_mtime - START - plumbing

    cmd = [
        sys.executable,
        str(train_py),
        str(root),
        "--train-split", "train", "--val-split", "validation",
        "--model", common.BACKBONE,
        "--pretrained", "--pretrained-path", str(weights),
        "--num-classes", str(len(classes)),
        "--img-size", str(args.image_size),
        "--batch-size", str(args.batch_size),
        "--opt", "adamw", "--lr", str(args.lr), "--weight-decay", "0.05",
        "--sched", "cosine", "--epochs", str(args.epochs), "--warmup-epochs", "1",
        "--smoothing", "0.1",
        "--device", "cpu", "--no-prefetcher", "--channels-last",
        "--workers", str(args.workers), "--log-interval", "50",
        "--seed", str(args.seed),
        "--checkpoint-hist", str(args.epochs),
        "--output", str(out), "--experiment", experiment,
    ]  # fmt: skip
    if args.scale_min is not None:
        cmd += ["--scale", str(args.scale_min), "1.0"]
    common.log("running " + " ".join(cmd[1:]))
    proc = subprocess.run(cmd, cwd=args.timm_scripts, stdout=sys.stderr, stderr=sys.stderr)
    if proc.returncode != 0:
        sys.exit(f"timm_train_run: train.py exited {proc.returncode}")
    run_dir = out / experiment
    epochs = sorted(
        run_dir.glob("checkpoint-*.pth.tar"), key=lambda p: int(p.stem.split("-")[1][:-4])
    )
    wall = on_clock(epochs[-1]) if epochs else CLOCK.elapsed()
    CLOCK.pause()

    # timm's own evaluation of the checkpoint it selected on validation, on the test split.
    results_file = run_dir / "test_results.json"
    val_cmd = [
        sys.executable, str(validate_py), str(root), "--split", "test",
        "--model", common.BACKBONE, "--num-classes", str(len(classes)),
        "--img-size", str(args.image_size), "--checkpoint", str(run_dir / "model_best.pth.tar"),
        "--device", "cpu", "--no-prefetcher", "--channels-last", "--workers", str(args.workers),
        "--batch-size", "256", "--results-file", str(results_file), "--results-format", "json",
    ]  # fmt: skip
    proc = subprocess.run(val_cmd, cwd=args.timm_scripts, stdout=sys.stderr, stderr=sys.stderr)
    if proc.returncode != 0:
        sys.exit(f"timm_train_run: validate.py exited {proc.returncode}")
    timm_test = json.loads(results_file.read_text())
    timm_test = timm_test[0] if isinstance(timm_test, list) else timm_test

    # The curve: each epoch's checkpoint, scored off the clock.
    import timm

    cfg = timm.data.resolve_model_data_config(timm.create_model(common.BACKBONE))
    n_test_all = sum(1 for _ in (root / "test").rglob("*.png"))
    subset = common.curve_subset(list(range(n_test_all)))
    summary = {int(r["epoch"]): r for r in csv.DictReader((run_dir / "summary.csv").open())}
    curve = []
    for i, ckpt in enumerate(epochs):
        epoch = int(ckpt.stem.split("-")[1][:-4])
        last = i == len(epochs) - 1
        loader, n = test_loader(root, args.image_size, cfg, None if last else subset)
        row = summary.get(epoch, {})
        point = {
            "epoch": epoch + 1,
            "seconds": round(on_clock(ckpt), 2),
            "train_loss": round(float(row.get("train_loss", "nan")), 4),
            "val_accuracy": round(float(row.get("eval_top1", "nan")) / 100, 4),
            "test_accuracy": round(score_checkpoint(ckpt, len(classes), loader), 4),
            "test_images": n,
        }
        curve.append(point)
        common.log(f"epoch {point}")

    n_train = sum(1 for _ in (root / "train").rglob("*.png"))
    common.emit(
        {
            "runner": args.label,
            "recipe": (
                f"timm train.py --pretrained-path (packaged) --opt adamw --lr {args.lr} "
                f"--weight-decay 0.05 --sched cosine --warmup-epochs 1 --epochs {args.epochs} "
                f"--smoothing 0.1 --batch-size {args.batch_size} --img-size {args.image_size} "
                "--channels-last, fp32, "
                + (
                    f"timm's default augmentation with --scale {args.scale_min:g} 1"
                    if args.scale_min is not None
                    else "timm's default augmentation"
                )
                + "; best on validation"
            ),
            "n_train": n_train,
            "n_val": sum(1 for _ in (root / "validation").rglob("*.png")),
            "n_test": n_test_all,
            "image_size": args.image_size,
            "wall_seconds": round(wall, 2),
            "train_images_per_second": round(n_train * len(epochs) / wall, 1),
            # timm's own validate.py on its validation-selected checkpoint
            "test_accuracy": round(float(timm_test["top1"]) / 100, 4),
            "curve": curve,
        }
    )


if __name__ == "__main__":
    main()
