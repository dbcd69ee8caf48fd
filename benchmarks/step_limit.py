"""graftlab's fine-tuning epoch and ``predict`` against their limit (issue 15, item 4).

    python benchmarks/step_limit.py                  # Fashion-MNIST 5k: about 12 minutes
    python benchmarks/step_limit.py --n-train 1000 --n-predict 2000   # about 3 minutes

epoch    ``graftlab train --strategy lp-ft --augment none`` on N Fashion-MNIST training images
         (at 5,000 the default recipe: 3 epochs, no augmentation). Its fine-tuning epochs'
         training time (results.csv: training images / images per second, so validation is
         not counted) against a bare loop of the same steps: the same model, the same
         strategy's parameter groups and BatchNorm mode, AdamW, label-smoothed cross-entropy,
         gradient clipping at the run's max norm, its batch size, precision and memory format
         (the run's execution.json), over the run's training images decoded, normalised and
         laid out before the clock starts. What the ratio charges graftlab for: preparing
         batches from the image cache, the learning-rate schedule, the monitors and metrics.
predict  ``graftlab.predict`` (what ``graftlab predict`` runs) over M official test image
         files against a bare forward pass of the same model over the same images decoded
         and normalised beforehand, in the execution the artifact stores and its batch size.
         What the ratio charges: decoding and resizing the files, batching, the head in
         float64, top-k rows. graftlab runs the model with BatchNorm folded into the
         convolutions (graftlab.features.fold); the bare pass runs it as stored.

The bare loop trains two epochs right after the run (their mean is the reference; the run's
first epoch is left out, it warms up kernels); ``predict`` runs ``--rounds`` times, each between
two bare forward passes (the mean of the two is its reference; the median ratio is reported),
so drift on a shared machine falls on both sides.
Targets: <= 1.2x each. Writes benchmarks/out/step_limit.{json,md}.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
TARGET = 1.2


def graftlab_run(data: Path, out: Path, epochs: int) -> Path:
    """One cold-cache lp-ft run; returns its run directory."""
    name = "step-limit"
    run = out / "runs" / "train" / name
    shutil.rmtree(run, ignore_errors=True)
    shutil.rmtree(out / "cache", ignore_errors=True)
    cmd = [sys.executable, "-m", "graftlab", "train", str(data), "--strategy", "lp-ft"]
    cmd += ["--epochs", str(epochs), "--augment", "none", "--image-size", "112", "--seed", "0"]
    cmd += ["--project", str(out / "runs"), "--name", name, "--cache-dir", str(out / "cache")]
    with open(out / f"{name}.log", "w") as log:
        code = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT).returncode
    if code != 0:
        raise SystemExit(f"graftlab train exited {code}; see {out / f'{name}.log'}")
    return run


def epoch_seconds(run: Path) -> list[float]:
    """Training seconds of each fine-tuning epoch (validation excluded), from results.csv."""
    n = json.loads((run / "dataset.json").read_text())["split_sizes"]["train"]
    with open(run / "results.csv") as f:
        rows = list(csv.DictReader(f))
    return [n / float(r["images_per_second"]) for r in rows if r.get("phase") == "finetune"]


def train_images(run: Path, preprocess, channels_last: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """The run's training images, decoded and normalised as its epochs see them."""
    with open(run / "manifest.csv") as f:
        rows = list(csv.DictReader(f))
    classes = json.loads((run / "classes.json").read_text())["classes"]
    train = [r for r in rows if r["split"] == "train"]
    u8 = np.stack([preprocess.load(r["path"]) for r in train])
    y = torch.as_tensor([classes.index(r["label"]) for r in train], dtype=torch.long)
    x = preprocess.eval_batch(torch.from_numpy(u8), channels_last=channels_last)
    return x, y


def bare_epochs(run: Path, x: torch.Tensor, y: torch.Tensor, rounds: int) -> list[float]:
    """The same optimizer steps as the run's fine-tuning epoch, nothing around them."""
    from graftlab.artifacts import load_artifact
    from graftlab.finetune.config import TrainConfig
    from graftlab.finetune.strategies import strategy_from_config
    from graftlab.hardware import Execution

    config = TrainConfig.from_file(run / "config.json")
    summary = json.loads((run / "summary.json").read_text())
    bn = next(
        (d["value"] for d in summary.get("decisions", []) if d.get("option") == "bn"), "frozen"
    )
    lr = next(
        (d["value"] for d in summary.get("decisions", []) if d.get("option") == "lr"), config.lr
    )
    config = TrainConfig.from_dict({**config.to_dict(), "bn": bn})
    execution = Execution.from_dict(
        json.loads((run / "execution.json").read_text())["train"]
    ).available()
    model = load_artifact(run).model
    model.to(execution.device)
    if execution.channels_last:
        model.to(memory_format=torch.channels_last)
    strategy = strategy_from_config(config)
    strategy.freeze_before_training(model)  # requires_grad as the trainer sets it
    strategy.set_train_mode(model)
    groups = strategy.param_groups(model, float(lr), config.weight_decay)
    opt = torch.optim.AdamW(groups, lr=float(lr), weight_decay=config.weight_decay)
    params = [p for g in opt.param_groups for p in g["params"]]
    bs, smoothing = config.batch_size, config.label_smoothing
    smoothing = 0.1 if smoothing is None else smoothing
    steps = len(y) // bs  # drop_last, as the trainer

    def step(i: int) -> None:
        xb, yb = x[i * bs : (i + 1) * bs], y[i * bs : (i + 1) * bs]
        with execution.autocast():
            logits = model(xb)
            loss = torch.nn.functional.cross_entropy(logits.float(), yb, label_smoothing=smoothing)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if config.max_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(params, config.max_grad_norm)
        opt.step()

    for i in range(min(3, steps)):  # warm-up: first-call kernel selection
        step(i)
    out = []
    for _ in range(rounds):
        t = time.perf_counter()
        for i in range(steps):
            step(i)
        out.append(time.perf_counter() - t)
    return out


def predict_pair(run: Path, paths: list[str], rounds: int) -> dict:
    """graftlab.predict over the files ``rounds`` times, each between two bare passes over
    them pre-decoded."""
    from graftlab.evaluation._inference import as_artifact, execution_of
    from graftlab.evaluation.predict import predict

    artifact = as_artifact(run)
    execution = execution_of(artifact)
    prep = artifact.preprocess
    batch = execution.inference_batch(prep.input_size)
    x = prep.eval_batch(
        torch.from_numpy(np.stack([prep.load(p) for p in paths])),
        channels_last=execution.channels_last,
    )
    model = artifact.model.eval()
    if execution.channels_last:
        model.to(memory_format=torch.channels_last)

    @torch.inference_mode()
    def bare() -> float:
        model(x[:batch])  # warm-up
        t = time.perf_counter()
        for i in range(0, len(x), batch):
            with execution.autocast():
                model(execution.inputs(x[i : i + batch]))
        return time.perf_counter() - t

    predict(run, paths[:batch])  # warm-up: loading, first-call kernels
    bares, ours = [bare()], []
    for _ in range(rounds):
        t = time.perf_counter()
        rows = predict(run, paths)
        ours.append(time.perf_counter() - t)
        bares.append(bare())
        if any(r["error"] for r in rows):
            raise SystemExit("predict reported errors on the benchmark's images")
    # Each predict against the mean of the bare passes either side of it; the median of those.
    ratios = [o / ((a + b) / 2) for o, a, b in zip(ours, bares, bares[1:], strict=False)]
    return {
        "n": len(paths),
        "batch": batch,
        "execution": execution.describe(),
        "graftlab_s": ours,
        "bare_s": bares,
        "ratios": ratios,
        "ratio": float(np.median(ratios)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n-train", type=int, default=5000, help="images graftlab splits")
    parser.add_argument("--n-predict", type=int, default=10000, help="test files to predict")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2, help="predict runs, each between bares")
    parser.add_argument("--out", type=Path, default=OUT / "step_limit")
    args = parser.parse_args()

    from graftlab.data.builtin import fashion_mnist_folders

    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    data = fashion_mnist_folders(
        out / f"fashion-mnist-{args.n_train}-s0", args.n_train, seed=0, n_test=None
    )
    load_start = os.getloadavg()[0]
    print("== epoch: graftlab lp-ft run", flush=True)
    run = graftlab_run(data, out, args.epochs)
    ours = epoch_seconds(run)

    from graftlab.artifacts import load_artifact
    from graftlab.hardware import Execution

    artifact = load_artifact(run)
    train_ex = Execution.from_dict(json.loads((run / "execution.json").read_text())["train"])
    x, y = train_images(run, artifact.preprocess, train_ex.channels_last)
    print(f"== epoch: bare loop over {len(y)} pre-decoded images", flush=True)
    bare = bare_epochs(run, x, y, rounds=2)
    n_train = len(y)
    del x, y
    # The run's first epoch warms up kernels and the page cache; its later ones are steady.
    ours_steady = ours[1:] or ours
    epoch = {
        "n_train": n_train,
        "graftlab_epochs_s": ours,
        "bare_epochs_s": bare,
        "execution": train_ex.describe(),
        "ratio": float(np.median(ours_steady)) / float(np.mean(bare)),
    }
    print("== predict", flush=True)
    test = sorted(str(p) for p in (data / "test").rglob("*.png"))
    rng = np.random.default_rng(0)
    paths = [test[i] for i in sorted(rng.choice(len(test), args.n_predict, replace=False))]
    pred = predict_pair(run, paths, args.rounds)

    result = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="minutes"),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"torch {torch.__version__}",
        "load": [round(load_start, 2), round(os.getloadavg()[0], 2)],
        "epoch": epoch,
        "predict": pred,
    }
    verdict = {k: "PASS" if result[k]["ratio"] <= TARGET else "FAIL" for k in ("epoch", "predict")}
    lines = [
        f"# Step and predict against their limit ({result['date']})",
        "",
        f"- {result['machine']}; load average {result['load'][0]} at start, "
        f"{result['load'][1]} at end; lite0 at 112 px, Fashion-MNIST",
        "",
        "| what | graftlab s | bare s | ratio | target | verdict |",
        "| --- | ---: | ---: | ---: | --- | --- |",
        f"| fine-tuning epoch, training part ({epoch['execution']}) | "
        f"{np.median(ours_steady):.1f} (epochs: {', '.join(f'{s:.1f}' for s in ours)}) | "
        f"{', '.join(f'{s:.1f}' for s in bare)} | {epoch['ratio']:.2f}x | <= {TARGET}x | "
        f"{verdict['epoch']} |",
        f"| predict, {pred['n']} files ({pred['execution']}, batch {pred['batch']}) | "
        f"{', '.join(f'{s:.1f}' for s in pred['graftlab_s'])} | "
        f"{', '.join(f'{s:.1f}' for s in pred['bare_s'])} (before, between, after) | "
        f"{pred['ratio']:.2f}x (median of {', '.join(f'{r:.2f}' for r in pred['ratios'])}) | "
        f"<= {TARGET}x | {verdict['predict']} |",
    ]
    md = "\n".join(lines) + "\n"
    OUT.mkdir(exist_ok=True)
    (OUT / "step_limit.json").write_text(json.dumps(result, indent=1) + "\n")
    (OUT / "step_limit.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
