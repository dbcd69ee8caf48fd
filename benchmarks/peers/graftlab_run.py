"""graftlab peer: ``graftlab train DATA --strategy S`` as a user runs it, from a cold cache.

    python graftlab_run.py --data DATA --strategy top-k --label top-k-nocache \
        -- --boundary-cache off

The command runs in a subprocess with its own empty cache directory, so decoding and feature
extraction are on the clock. Options after ``--`` go to ``graftlab train`` as they are;
``--label`` names the runner (``graftlab-LABEL``), its run directory and its cache, so two
runs of one strategy with different options do not overwrite each other. Results come from
the run's ``summary.json`` (accuracies and per-step timings), ``results.csv`` (seconds of
each fine-tuning epoch), ``manifest.csv`` (split sizes) and graftlab's log (the execution the
fine-tuning used and the boundary cache line, ``... (built in X s)``, when there is one).

The run keeps each fine-tuning epoch's weights (``--save-every-epoch``). Wall time is the
subprocess's, less the steps that only serve the test report (test features and the final
evaluation) and less the writing of those per-epoch files, so it is comparable with the peers'
time to a trained model.

The accuracy-vs-time curve: the probe, each fine-tuning epoch, and the exported model. After
the process has ended (off the clock), each epoch's weights are loaded into the run's model by
graftlab itself (``graftlab.load(RUN, weights=...)``: the run's preprocessing, and the
precision and memory format graftlab predicts in) and scored on the fixed test subset every
runner uses for its intermediate points (``common.curve_subset``); the probe and the exported
model are scored on the whole test set by the run itself (summary.json).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import _common as common
import torch

TEST_ONLY_STEPS = ("features_test", "evaluate")


def graftlab_executable() -> str:
    """The ``graftlab`` script beside this interpreter, else the one on PATH."""
    beside = Path(sys.executable).with_name("graftlab")
    return str(beside) if beside.exists() else (shutil.which("graftlab") or "graftlab")


def check_cli(exe: str, needed: tuple[str, ...]) -> str | None:
    """Why ``graftlab train`` cannot run yet, or None when it has every option we pass."""
    # rich cuts long option names (--save-every-epoch) with an ellipsis at its default 80
    # columns off a terminal
    env = {**os.environ, "COLUMNS": "250"}
    try:
        out = subprocess.run(
            [exe, "train", "--help"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env=env,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"cannot run {exe}: {exc}"
    text = out.stdout + out.stderr
    if out.returncode != 0:
        return f"`graftlab train --help` failed (exit {out.returncode}): {text.strip()[-300:]}"
    missing = [opt for opt in needed if opt not in text]
    if missing:
        return f"`graftlab train` has no option {', '.join(missing)} yet"
    return None


def fail(strategy: str, message: str) -> None:
    common.log(f"graftlab {strategy}: {message}")
    common.emit({"runner": f"graftlab-{strategy}", "error": message})
    sys.exit(3)


def split_sizes(manifest: Path) -> Counter:
    with manifest.open(newline="") as f:
        return Counter(row["split"] for row in csv.DictReader(f))


def finetune_epochs(results_csv: Path) -> list[dict]:
    """Seconds (train + validation), train img/s and validation accuracy of each fine-tuning
    epoch in results.csv."""
    if not results_csv.exists():
        return []
    with results_csv.open(newline="") as f:
        rows = [r for r in csv.DictReader(f) if r.get("phase") == "finetune"]
    return [
        {
            "epoch": int(r["epoch"]),
            "seconds": round(float(r["seconds"]), 3),
            "images_per_second": round(float(r["images_per_second"]), 2),
            "val_accuracy": float(r["val_accuracy"]) if r.get("val_accuracy") else None,
        }
        for r in rows
    ]


def epoch_files(weights: Path) -> list[tuple[int, Path]]:
    """``(N, path)`` of each ``epoch-N.pt`` that ``--save-every-epoch`` wrote, in epoch order."""
    found = (re.fullmatch(r"epoch-(\d+)\.pt", p.name) for p in weights.glob("epoch-*.pt"))
    return sorted((int(m.group(1)), weights / m.group(0)) for m in found if m)


def on_the_clock(
    written: list[tuple[int, float, float]], start: float, test_only: float = 0.0
) -> tuple[dict, float]:
    """When each epoch ended on the run's clock, and the seconds spent writing the epoch files.

    ``written``: ``(epoch, began, ended)`` per epoch file, Unix times: ``began`` is the file's
    own ``time`` (graftlab's Checkpoint takes it when the epoch, its validation and the
    callbacks before the checkpoint are done, then writes the file), ``ended`` its mtime (the
    writing done, fsync included). ``start``: the Unix time the process was started.
    ``test_only``: seconds of test-only steps done before the fine-tuning (the test split's
    features, extracted with the other splits'), out of the clock as in the wall time.

    Why file times and not the fine-tuning start plus results.csv's epoch seconds: those
    seconds cover the epochs' training and validation only, not the work before the first
    epoch (the BN measurement, the boundary cache build, the trainer's setup) nor the
    checkpoints and monitors between epochs, all of which the user waits for. From the process
    start to ``began`` is everything up to that epoch, imports included; only the earlier
    epoch files' writing is taken out, as it is out of the run's wall time: the option exists
    for this curve, a default run does not write them.
    """
    seconds, extra = {}, 0.0
    for epoch, began, ended in sorted(written):
        seconds[epoch] = began - start - test_only - extra
        extra += max(0.0, ended - began)
    return seconds, extra


def score_on_subset(run_dir: Path, test_dir: Path, epochs: list[tuple[int, Path]]) -> dict:
    """Test accuracy of each epoch's weights on ``common.curve_subset`` of the test folder.

    graftlab rebuilds and runs the model (``graftlab.load`` with ``weights``): the run's
    preprocessing and inference execution, as ``graftlab predict`` would. Classes are matched
    by name. Runs after the process, off the clock.
    """
    import graftlab

    paths, labels = common.list_images(test_dir)
    classes = sorted(p.name for p in test_dir.iterdir() if p.is_dir())  # list_images' order
    keep = common.curve_subset(list(range(len(paths))))
    images, truth = [paths[i] for i in keep], [classes[labels[i]] for i in keep]
    out = {}
    for epoch, path in epochs:
        predicted = graftlab.load(run_dir, weights=path).predict(images)
        out[epoch] = sum(p == t for p, t in zip(predicted, truth, strict=True)) / len(truth)
    return {"accuracy": out, "images": len(keep)}


def without_redraws(text: str) -> str:
    """graftlab's output with each progress bar's redraws (``\\r``) reduced to its last state."""
    last = (next((x for x in reversed(ln.split("\r")) if x.strip()), "") for ln in text.split("\n"))
    return "\n".join(line for line in last if line) + "\n"


def from_log(text: str) -> dict:
    """What only graftlab's log says: the boundary cache and the fine-tuning's execution.

    The log goes through rich, which wraps long lines, so whitespace is collapsed first.
    """
    flat = re.sub(r"\s+", " ", text)
    out: dict = {}
    # the trainer's summary line, not the INFO line about fewer views that may precede it
    note = re.search(r"boundary cache: ((?:(?!boundary cache:).){0,300}?) optimizer: ", flat)
    if note:
        out["boundary_cache"] = note.group(1).strip()
        built = re.search(r"\((built|reused) in ([0-9.]+) s\)", note.group(1))
        if built:
            out["boundary_cache_" + built.group(1) + "_seconds"] = float(built.group(2))
    train = re.search(r"execution: (\S+), precision (\S+), channels_last (True|False)", flat)
    if train:
        out["train_execution"] = {
            "device": train.group(1),
            "precision": train.group(2),
            "channels_last": train.group(3) == "True",
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="root with train/ and test/")
    parser.add_argument("--strategy", default="lp-ft", help="lp | lp-ft | top-k | ...")
    parser.add_argument("--image-size", type=int, default=112)
    parser.add_argument(
        "--epochs", default="auto", help="an integer, or auto: graftlab's default, sized by data"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", type=Path, default=Path("benchmarks/out/work"))
    parser.add_argument(
        "--label", default=None, help="runner name graftlab-LABEL (default: the strategy)"
    )
    parser.add_argument("extra", nargs="*", help="more `graftlab train` options, after --")
    args = parser.parse_args()
    label = args.label or args.strategy

    exe = graftlab_executable()
    options = {
        "--strategy": args.strategy,
        "--image-size": str(args.image_size),
        "--epochs": str(args.epochs),
        "--seed": str(args.seed),
        "--project": str(args.workdir / "runs"),
        "--name": f"graftlab-{label}",
    }
    # every fine-tuning epoch's weights, for the curve; their writing is taken off the clock
    flags = ["--save-every-epoch"]
    needed = (*options, *flags, *[x for x in args.extra if x.startswith("--")])
    problem = check_cli(exe, needed)
    if problem:
        fail(label, problem)

    run_dir = args.workdir / "runs" / "train" / options["--name"]
    cache = args.workdir / f"cache-{label}"
    for stale in (run_dir, cache):
        shutil.rmtree(stale, ignore_errors=True)
    command = [exe, "train", str(args.data), *[x for kv in options.items() for x in kv]]
    command += flags + args.extra
    # COLUMNS: rich wraps graftlab's log at 80 columns when it is not a terminal
    env = {**os.environ, "GRAFTLAB_CACHE": str(cache), "COLUMNS": "200"}
    common.log(" ".join(command))
    start_unix, start = time.time(), time.perf_counter()  # Unix time: to compare with files
    proc = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    process_seconds = time.perf_counter() - start
    sys.stderr.write(without_redraws(proc.stdout) + without_redraws(proc.stderr))
    summary_path = run_dir / "summary.json"
    if proc.returncode != 0 or not summary_path.exists():
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        fail(label, f"graftlab train exited {proc.returncode}: {' | '.join(tail)}")

    summary = json.loads(summary_path.read_text())
    t = summary["timings"]
    sizes = split_sizes(run_dir / "manifest.csv")
    epochs = finetune_epochs(run_dir / "results.csv")
    kept = epoch_files(run_dir / "weights")
    if summary.get("finetune") and [n for n, _ in kept] != [e["epoch"] for e in epochs]:
        fail(label, f"epoch files {[n for n, _ in kept]} do not match results.csv's epochs")
    written = []
    for n, path in kept:
        began = torch.load(path, map_location="cpu", weights_only=True)["time"]
        written.append((n, began, path.stat().st_mtime))
    # the test features come before the probe and the fine-tuning; "evaluate" after them
    test_first = t.get("features_test", 0.0)
    epoch_seconds, epoch_weights_seconds = on_the_clock(written, start_unix, test_first)
    overhead = process_seconds - t["total"]  # interpreter start and imports
    wall = process_seconds - sum(t.get(k, 0.0) for k in TEST_ONLY_STEPS) - epoch_weights_seconds
    probe_seconds = overhead + sum(
        t.get(k, 0.0) for k in ("data", "backbone", "features_train", "features_val", "probe")
    )
    curve = [
        {
            "phase": "probe",
            "seconds": round(probe_seconds, 2),
            "val_accuracy": summary["probe"]["val"]["accuracy"],
            "test_accuracy": summary["probe"]["test"]["accuracy"],
            "test_images": sizes["test"],
        }
    ]
    selected = summary[summary["selected"]]
    if summary.get("finetune"):
        common.log(
            f"scoring {len(kept)} epochs' weights on the curve's test subset (off the clock)"
        )
        scored = score_on_subset(run_dir, args.data / "test", kept)
        val = {e["epoch"]: e["val_accuracy"] for e in epochs}
        for n, _ in kept:
            curve.append(
                {
                    "phase": "epoch",
                    "epoch": n,
                    "seconds": round(epoch_seconds[n], 2),
                    "val_accuracy": val[n],
                    "test_accuracy": round(scored["accuracy"][n], 4),
                    "test_images": scored["images"],
                }
            )
            common.log(f"epoch {curve[-1]}")
        # the run's end is the model it exports (the fine-tuned one, the probe, or the weights
        # halfway between them on a small validation split), as test_accuracy below
        curve.append(
            {
                "phase": "finetune",
                "seconds": round(wall, 2),
                "selected": summary["selected"],
                "val_accuracy": selected["val"]["accuracy"],
                "test_accuracy": selected["test"]["accuracy"],
                "test_images": sizes["test"],
            }
        )
    feature_seconds = t.get("features_train", 0.0) + t.get("features_val", 0.0)
    # epochs run, not asked for: auto sizes them, early stopping may end sooner
    n_epochs = len(epochs) if summary.get("finetune") else 0
    finetune = summary.get("finetune") or {}
    common.emit(
        {
            "runner": f"graftlab-{label}",
            "strategy": args.strategy,
            "extra_options": args.extra,
            "recipe": " ".join(["graftlab train DATA", *command[3:]]),
            "n_train": sizes["train"],
            "n_val": sizes["val"],
            "n_test": sizes["test"],
            "image_size": args.image_size,
            "process_seconds": round(process_seconds, 2),
            "wall_seconds": round(wall, 2),
            "timings": t,
            "execution": summary.get("execution"),
            "selected": summary["selected"],
            "reason": summary.get("reason"),
            "feature_images_per_second": round((sizes["train"] + sizes["val"]) / feature_seconds, 1)
            if feature_seconds
            else None,
            # the fine-tuning step less the per-epoch weight files it wrote for the curve
            "epoch_weights_seconds": round(epoch_weights_seconds, 2),
            "train_images_per_second": round(
                sizes["train"] * n_epochs / (t["finetune"] - epoch_weights_seconds), 1
            )
            if n_epochs and t.get("finetune")
            else None,
            "test_accuracy": selected["test"]["accuracy"],
            "probe_test_accuracy": summary["probe"]["test"]["accuracy"],
            "finetune_test_accuracy": (finetune.get("test") or {}).get("accuracy"),
            # seconds of each fine-tuning epoch (train + val) from results.csv; the one-time
            # boundary cache build happens before epoch 1 and is not in them
            "finetune_epoch_seconds": [e["seconds"] for e in epochs],
            "finetune_epoch_images_per_second": [e["images_per_second"] for e in epochs],
            **from_log(proc.stdout + "\n" + proc.stderr),
            "curve": curve,
            # the subprocess is this runner's only child: its peak is graftlab's peak
            "peak_rss_mb": {"graftlab": common.peak_rss_mb()["largest_child"]},
        }
    )


if __name__ == "__main__":
    main()
