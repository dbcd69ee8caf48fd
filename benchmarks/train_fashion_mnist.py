"""The "training that is right by construction" measurement on real data, on this machine.

Fashion-MNIST as class folders: 5,000 training images drawn with a fixed seed (graftlab makes
the validation split from them) and the 10,000 official test images; the packaged
tf_efficientnet_lite0 at --image-size 112. Every run is ``graftlab train`` in a subprocess, as
a user runs it. Parts (``--parts``, default all, in this order):

- ``lp``      cold (empty) cache: test accuracy >= 0.85 and end to end < 180 s, decoding and
              extraction included;
- ``lp2``     the same command again: every split's features come from the cache;
- ``lpft``    ``--strategy lp-ft --epochs 3``: test accuracy >= 0.90 (features cached again);
- ``full``    ``--strategy full --epochs 3``, same seed: lp-ft must beat it by >= 1 point;
- ``resume``  lp-ft killed with SIGKILL during epoch 2, then ``--resume``: test accuracy
              within 0.3 points of the uninterrupted ``lpft`` run.

Prints one table of runs and one of targets (PASS / FAIL / n/a). Takes many minutes on 2 cores.

    python benchmarks/train_fashion_mnist.py --parts lp,lp2
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
PARTS = ("lp", "lp2", "lpft", "full", "resume")


def graftlab(*args: str, log: Path) -> subprocess.Popen:
    """Start ``python -m graftlab ARGS`` with output to ``log``."""
    fh = open(log, "w")  # noqa: SIM115 - closed by the caller through wait()
    return subprocess.Popen(
        [sys.executable, "-m", "graftlab", *args], stdout=fh, stderr=subprocess.STDOUT
    )


def train(name: str, data: Path, out: Path, *extra: str) -> dict:
    """Run ``graftlab train`` to the end; return its summary plus the wall time."""
    shutil.rmtree(out / "runs" / "train" / name, ignore_errors=True)  # else it becomes name2
    args = common_args(name, data, out, *extra)
    start = time.perf_counter()
    proc = graftlab(*args, log=out / f"{name}.log")
    code = proc.wait()
    wall = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f"{name}: graftlab train exited {code}; see {out / f'{name}.log'}")
    return {**read_summary(out / "runs" / "train" / name), "wall_s": wall}


def common_args(name: str, data: Path, out: Path, *extra: str) -> list[str]:
    return [
        "train",
        str(data),
        "--image-size",
        "112",
        "--seed",
        "0",
        "--project",
        str(out / "runs"),
        "--name",
        name,
        "--cache-dir",
        str(out / "cache"),
        *extra,
    ]


def read_summary(run: Path) -> dict:
    s = json.loads((run / "summary.json").read_text())
    chosen = s[s["selected"]]
    return {
        "name": run.name,
        "strategy": s["strategy"],
        "selected": s["selected"],
        "val_acc": chosen["val"]["accuracy"],
        "test_acc": chosen["test"]["accuracy"],
        "probe_test_acc": s["probe"]["test"]["accuracy"],
        "cached": all(s["features_cached"].values()),
        "timings": s["timings"],
    }


def killed_and_resumed(data: Path, out: Path, epochs: int) -> dict:
    """lp-ft killed by SIGKILL a few seconds into epoch 2, then resumed with --resume."""
    name = "killed"
    run = out / "runs" / "train" / name
    shutil.rmtree(run, ignore_errors=True)
    args = common_args(name, data, out, "--strategy", "lp-ft", "--epochs", str(epochs))
    start = time.perf_counter()
    proc = graftlab(*args, log=out / f"{name}.log")
    last = run / "weights" / "last.pt"
    while proc.poll() is None and not _finished_epochs(run) >= 1:
        time.sleep(1)
    while proc.poll() is None and not last.exists():
        time.sleep(0.5)
    time.sleep(15)  # well inside epoch 2
    if proc.poll() is not None:
        raise SystemExit("the run ended before it could be killed; use more --epochs")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    killed_after = _finished_epochs(run)
    resumed = graftlab(
        "train",
        "--resume",
        str(run),
        "--cache-dir",
        str(out / "cache"),
        log=out / f"{name}-resume.log",
    )
    if resumed.wait() != 0:
        raise SystemExit(f"--resume failed; see {out / f'{name}-resume.log'}")
    return {
        **read_summary(run),
        "wall_s": time.perf_counter() - start,
        "killed_after_epochs": killed_after,
    }


def _finished_epochs(run: Path) -> int:
    path = run / "results.csv"
    if not path.exists():
        return 0
    with open(path, newline="") as fh:
        return sum(1 for row in csv.DictReader(fh) if row["phase"] == "finetune")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "train_fashion_mnist")
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma list of {PARTS}")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--n-train", type=int, default=5000)
    args = parser.parse_args()
    parts = [p for p in args.parts.split(",") if p]
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown parts {sorted(unknown)}; choose from {PARTS}")

    sys.path.insert(0, str(ROOT.parent / "src"))
    from graftlab.data.builtin import fashion_mnist_folders

    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    data = fashion_mnist_folders(out / f"fashion-mnist-{args.n_train}-s0", args.n_train, seed=0)
    ep = str(args.epochs)
    results: dict[str, dict] = {}
    for part in parts:
        print(f"== {part}", flush=True)
        if part == "lp":
            shutil.rmtree(out / "cache", ignore_errors=True)  # cold: decoding + extraction timed
            results[part] = train("lp", data, out, "--strategy", "lp")
        elif part == "lp2":
            results[part] = train("lp2", data, out, "--strategy", "lp")
        elif part == "lpft":
            results[part] = train("lpft", data, out, "--strategy", "lp-ft", "--epochs", ep)
        elif part == "full":
            results[part] = train("full", data, out, "--strategy", "full", "--epochs", ep)
        elif part == "resume":
            results[part] = killed_and_resumed(data, out, args.epochs)
        print(json.dumps(results[part]), flush=True)
    report(results)
    (out / "results.json").write_text(json.dumps(results, indent=2))


def report(results: dict[str, dict]) -> None:
    print(
        f"\n{'run':<8}{'strategy':<9}{'selected':<10}{'val acc':>9}{'test acc':>9}"
        f"{'wall s':>9}{'features':>10}"
    )
    for key, r in results.items():
        print(
            f"{key:<8}{r['strategy']:<9}{r['selected']:<10}{r['val_acc']:>9.4f}"
            f"{r['test_acc']:>9.4f}{r['wall_s']:>9.1f}{'cached' if r['cached'] else 'built':>10}"
        )

    def target(label: str, needs: tuple[str, ...], check) -> None:
        ok = "n/a" if any(n not in results for n in needs) else ("PASS" if check() else "FAIL")
        print(f"  {ok:<5}{label}")

    r = results
    print("\ntargets")
    target("lp: test accuracy >= 0.85", ("lp",), lambda: r["lp"]["test_acc"] >= 0.85)
    target("lp: end to end < 180 s (cold cache)", ("lp",), lambda: r["lp"]["wall_s"] < 180)
    target("lp: second train reuses the feature cache", ("lp2",), lambda: r["lp2"]["cached"])
    target("lp-ft: reuses the feature cache", ("lpft",), lambda: r["lpft"]["cached"])
    target(
        "lp-ft --epochs 3: test accuracy >= 0.90", ("lpft",), lambda: r["lpft"]["test_acc"] >= 0.90
    )
    target(
        "lp-ft beats full by >= 1 point",
        ("lpft", "full"),
        lambda: r["lpft"]["test_acc"] - r["full"]["test_acc"] >= 0.01,
    )
    target(
        "SIGKILL in epoch 2 + --resume within 0.3 points",
        ("lpft", "resume"),
        lambda: abs(r["resume"]["test_acc"] - r["lpft"]["test_acc"]) <= 0.003,
    )


if __name__ == "__main__":
    main()
