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
- ``whole``   issue 15: the whole ``graftlab train --strategy lp`` process as a user waits for
              it (interpreter start to exit, cold cache) against one bare bf16 + channels_last
              forward pass over the same pre-decoded train images (peers/bare_forward.py):
              target <= 1.3x, test-only steps (test features, test scoring) left out as in
              compare_peers.py. Each ``--src LABEL=PATH`` runs that code (PYTHONPATH) side by
              side, e.g. main exported with ``git archive`` against this checkout; wall and
              CPU seconds (all threads and child processes: steadier on a shared machine),
              the load average at start and end, and each step's seconds.

Prints one table of runs and one of targets (PASS / FAIL / n/a). Takes many minutes on 2 cores.

    python benchmarks/train_fashion_mnist.py --parts lp,lp2
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
PARTS = ("lp", "lp2", "lpft", "full", "resume", "whole")
TEST_ONLY_STEPS = ("features_test", "evaluate")  # serve only the test report
WHOLE_MAX = 1.3  # issue 15: whole process <= 1.3x one bare forward pass at 5,000 images
WHOLE_MAX_LARGE = 1.1  # ... and <= 1.1x at 50,000 (the scaling target)
LARGE_FROM = 50_000


def whole_target(n_images: int) -> float:
    """The issue's whole-process target for a bare pass over ``n_images``."""
    return WHOLE_MAX_LARGE if n_images >= LARGE_FROM else WHOLE_MAX


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


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def bare_forward(data: Path, out: Path) -> dict:
    """peers/bare_forward.py over the train folder (what graftlab splits into train and val)."""
    cmd = [sys.executable, str(ROOT / "peers" / "bare_forward.py"), "--data", str(data)]
    cmd += ["--split", "train", "--modes", "bf16+channels_last"]
    with open(out / "bare-forward.log", "w") as log:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=log, text=True, check=False)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("BENCH_RESULT ")), None)
    if line is None:
        raise SystemExit(f"bare_forward.py failed; see {out / 'bare-forward.log'}")
    r = json.loads(line[len("BENCH_RESULT ") :])
    mode = r["modes"][r["best_mode"]]
    return {"seconds": mode["seconds"], "cpu_seconds": mode["cpu_seconds"], "n": r["n_images"]}


def whole_process(label: str, src: str | None, data: Path, out: Path) -> dict:
    """One cold-cache ``graftlab train --strategy lp`` of the code under ``src``."""
    name = f"whole-{label}"
    cache = out / f"cache-{name}"
    shutil.rmtree(cache, ignore_errors=True)
    shutil.rmtree(out / "runs" / "train" / name, ignore_errors=True)
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = str(Path(src).resolve())
    args = common_args(name, data, out, "--strategy", "lp")
    args[args.index("--cache-dir") + 1] = str(cache)
    cpu0, start = children_cpu(), time.perf_counter()
    with open(out / f"{name}.log", "w") as log:
        code = subprocess.run(
            [sys.executable, "-m", "graftlab", *args], stdout=log, stderr=subprocess.STDOUT, env=env
        ).returncode
    wall, cpu = time.perf_counter() - start, children_cpu() - cpu0
    if code != 0:
        raise SystemExit(f"{name}: graftlab train exited {code}; see {out / f'{name}.log'}")
    summary = json.loads((out / "runs" / "train" / name / "summary.json").read_text())
    t, c = summary["timings"], summary.get("cpu_seconds") or {}
    return {
        "label": label,
        "src": src,
        "wall_s": wall,
        "cpu_s": cpu,
        "wall_less_test_s": wall - sum(t.get(k, 0.0) for k in TEST_ONLY_STEPS),
        # older code records no CPU per step: None rather than a guess
        "cpu_less_test_s": cpu - sum(c.get(k, 0.0) for k in TEST_ONLY_STEPS) if c else None,
        "outside_run_s": wall - t["total"],  # interpreter, imports, report (after "total")
        "timings": t,
        "cpu_seconds": c,
        "test_acc": summary["probe"]["test"]["accuracy"],
        "weight_decay": summary["probe_weight_decay"],
    }


def report_whole(bare: dict, rows: list[dict], load: tuple) -> None:
    print(
        f"\nwhole process, graftlab train --strategy lp vs one bare forward pass over "
        f"{bare['n']} images: bare {bare['seconds']:.1f} s wall, {bare['cpu_seconds']:.1f} s "
        f"CPU (mean of a pass before the runs and one after: "
        + ", ".join(f"{p['seconds']:.1f} s / {p['cpu_seconds']:.1f} s" for p in bare["passes"])
        + f"); load average at start {load[0]:.2f}, at end {load[1]:.2f}"
    )
    print(
        f"{'code':<10}{'wall s':>8}{'CPU s':>8}{'wall-test':>10}{'ratio':>7}"
        f"{'CPU-test':>9}{'CPU ratio':>10}{'test acc':>9}{'  target'}"
    )
    target = whole_target(bare["n"])
    for r in rows:
        ratio = r["wall_less_test_s"] / bare["seconds"]
        cpu_less = r["cpu_less_test_s"]
        cpu_ratio = f"{cpu_less / bare['cpu_seconds']:.2f}x" if cpu_less is not None else "-"
        print(
            f"{r['label']:<10}{r['wall_s']:>8.1f}{r['cpu_s']:>8.1f}{r['wall_less_test_s']:>10.1f}"
            f"{ratio:>6.2f}x{(f'{cpu_less:.1f}' if cpu_less is not None else '-'):>9}"
            f"{cpu_ratio:>10}{r['test_acc']:>9.4f}  {'PASS' if ratio <= target else 'FAIL'}"
            f" (<= {target}x)"
        )
    steps = sorted({k for r in rows for k in r["timings"]} - {"total"})
    print(f"\n{'step (wall s / CPU s)':<24}" + "".join(f"{r['label']:>18}" for r in rows))
    for step in [*steps, "outside_run"]:
        cells = []
        for r in rows:
            if step == "outside_run":
                cells.append(f"{r['outside_run_s']:.2f} / -")
                continue
            w, c = (r[key].get(step) for key in ("timings", "cpu_seconds"))
            cells.append(" / ".join("-" if v is None else f"{v:.2f}" for v in (w, c)))
        print(f"{step:<24}" + "".join(f"{x:>18}" for x in cells))
    same = len({(r["test_acc"], r["weight_decay"]) for r in rows}) == 1
    print(f"same probe and test accuracy in every run: {same}")


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
    parser.add_argument(
        "--n-test", type=int, default=None, help="a seeded subset of the test images (all)"
    )
    parser.add_argument(
        "--src",
        action="append",
        default=[],
        metavar="LABEL=PATH",
        help="whole: run the graftlab under PATH (repeat to compare; default this checkout)",
    )
    args = parser.parse_args()
    parts = [p for p in args.parts.split(",") if p]
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown parts {sorted(unknown)}; choose from {PARTS}")

    sys.path.insert(0, str(ROOT.parent / "src"))
    from graftlab.data.builtin import fashion_mnist_folders

    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    stem = f"fashion-mnist-{args.n_train}-s0" + (f"-t{args.n_test}" if args.n_test else "")
    data = fashion_mnist_folders(out / stem, args.n_train, seed=0, n_test=args.n_test)
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
        elif part == "whole":
            sources = [tuple(x.split("=", 1)) for x in args.src] or [("this", None)]
            load_start = os.getloadavg()[0]
            first = bare_forward(data, out)
            rows = [whole_process(label, src, data, out) for label, src in sources]
            # the bare pass before and after the runs: the load drifts on a shared machine
            last = bare_forward(data, out)
            bare = {
                "n": first["n"],
                "seconds": (first["seconds"] + last["seconds"]) / 2,
                "cpu_seconds": (first["cpu_seconds"] + last["cpu_seconds"]) / 2,
                "passes": [first, last],
            }
            results[part] = {"bare": bare, "runs": rows, "load": (load_start, os.getloadavg()[0])}
            report_whole(bare, rows, results[part]["load"])
            continue
        print(json.dumps(results[part]), flush=True)
    if set(results) - {"whole"}:
        report({k: v for k, v in results.items() if k != "whole"})
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
