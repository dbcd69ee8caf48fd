"""graftlab peer: ``graftlab train DATA --strategy S`` as a user runs it, from a cold cache.

The command runs in a subprocess with its own empty cache directory, so decoding and feature
extraction are on the clock. Results come from the run's ``summary.json`` (accuracies and
per-step timings) and ``manifest.csv`` (split sizes).

Wall time is the subprocess's, less the steps that only serve the test report (test features
and the final evaluation), so it is comparable with the peers' time to a trained model.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import _common as common

TEST_ONLY_STEPS = ("features_test", "evaluate")


def graftlab_executable() -> str:
    """The ``graftlab`` script beside this interpreter, else the one on PATH."""
    beside = Path(sys.executable).with_name("graftlab")
    return str(beside) if beside.exists() else (shutil.which("graftlab") or "graftlab")


def check_cli(exe: str, needed: tuple[str, ...]) -> str | None:
    """Why ``graftlab train`` cannot run yet, or None when it has every option we pass."""
    try:
        out = subprocess.run(
            [exe, "train", "--help"], capture_output=True, text=True, timeout=120, check=False
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="root with train/ and test/")
    parser.add_argument("--strategy", default="lp-ft", help="lp | lp-ft | top-k | ...")
    parser.add_argument("--image-size", type=int, default=112)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", type=Path, default=Path("benchmarks/out/work"))
    parser.add_argument("extra", nargs="*", help="more `graftlab train` options, after --")
    args = parser.parse_args()

    exe = graftlab_executable()
    options = {
        "--strategy": args.strategy,
        "--image-size": str(args.image_size),
        "--epochs": str(args.epochs),
        "--seed": str(args.seed),
        "--project": str(args.workdir / "runs"),
        "--name": f"graftlab-{args.strategy}",
    }
    problem = check_cli(exe, tuple(options))
    if problem:
        fail(args.strategy, problem)

    run_dir = args.workdir / "runs" / "train" / options["--name"]
    cache = args.workdir / f"cache-{args.strategy}"
    for stale in (run_dir, cache):
        shutil.rmtree(stale, ignore_errors=True)
    command = [exe, "train", str(args.data), *[x for kv in options.items() for x in kv]]
    command += args.extra
    env = {**os.environ, "GRAFTLAB_CACHE": str(cache)}
    common.log(" ".join(command))
    start = time.perf_counter()
    proc = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    process_seconds = time.perf_counter() - start
    sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
    summary_path = run_dir / "summary.json"
    if proc.returncode != 0 or not summary_path.exists():
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        fail(args.strategy, f"graftlab train exited {proc.returncode}: {' | '.join(tail)}")

    summary = json.loads(summary_path.read_text())
    t = summary["timings"]
    overhead = process_seconds - t["total"]  # interpreter start and imports
    wall = process_seconds - sum(t.get(k, 0.0) for k in TEST_ONLY_STEPS)
    sizes = split_sizes(run_dir / "manifest.csv")
    probe_seconds = overhead + sum(
        t.get(k, 0.0) for k in ("data", "backbone", "features_train", "features_val", "probe")
    )
    curve = [
        {
            "phase": "probe",
            "seconds": round(probe_seconds, 2),
            "val_accuracy": summary["probe"]["val"]["accuracy"],
            "test_accuracy": summary["probe"]["test"]["accuracy"],
        }
    ]
    if summary.get("finetune"):
        curve.append(
            {
                "phase": "finetune",
                "seconds": round(wall, 2),
                "val_accuracy": summary["finetune"]["val"]["accuracy"],
                "test_accuracy": summary["finetune"]["test"]["accuracy"],
            }
        )
    selected = summary[summary["selected"]]
    feature_seconds = t.get("features_train", 0.0) + t.get("features_val", 0.0)
    n_epochs = args.epochs if summary.get("finetune") else 0
    common.emit(
        {
            "runner": f"graftlab-{args.strategy}",
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
            "train_images_per_second": round(sizes["train"] * n_epochs / t["finetune"], 1)
            if n_epochs and t.get("finetune")
            else None,
            "test_accuracy": selected["test"]["accuracy"],
            "curve": curve,
            # the subprocess is this runner's only child: its peak is graftlab's peak
            "peak_rss_mb": {"graftlab": common.peak_rss_mb()["largest_child"]},
        }
    )


if __name__ == "__main__":
    main()
