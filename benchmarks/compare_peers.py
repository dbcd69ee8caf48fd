"""graftlab side by side with the tools users would pick instead, on one machine, one data set.

    python benchmarks/compare_peers.py            # full: 5,000 train + 10,000 test images
    python benchmarks/compare_peers.py --quick    # smoke test: 500 + 1,000 images, 1 epoch

Runs each peer as its own process, one after another (benchmarks/peers/*.py; fastai in the
venv that benchmarks/setup_peers.sh creates), on Fashion-MNIST written as PNG class folders,
with timm tf_efficientnet_lite0 and its packaged ImageNet weights everywhere, 112 px, seed 0.
Each result is kept in benchmarks/out/results/ (quick/ for --quick); ``--reuse`` takes a kept
result instead of rerunning that peer (same settings only). Writes benchmarks/out/compare.json
and compare.md (compare-quick.* for --quick).
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUT = HERE / "out"
PEERS = HERE / "peers"
FASTAI_PYTHON = HERE / ".venvs" / "fastai" / "bin" / "python"
sys.path.insert(0, str(PEERS))
import _common as common  # noqa: E402


@dataclass
class Settings:
    quick: bool
    image_size: int = 112
    seed: int = 0
    n_train: int = field(init=False)
    n_test: int | None = field(init=False)
    epochs: int = field(init=False)

    def __post_init__(self) -> None:
        # quick: enough to exercise every code path in a few minutes, not to compare numbers
        self.n_train, self.n_test, self.epochs = (500, 1000, 1) if self.quick else (5000, None, 3)


def write_data(s: Settings) -> Path:
    """The shared data set: graftlab's writer when it is importable, else the peers' own."""
    name = f"fashion-mnist-{s.n_train}-s{s.seed}" + (f"-t{s.n_test}" if s.n_test else "")
    root = OUT / "data" / name
    try:
        from graftlab.data.builtin import fashion_mnist_folders
    except ImportError:
        return common.write_fashion_mnist_folders(root, n_train=s.n_train, n_test=s.n_test)
    return fashion_mnist_folders(root, n_train=s.n_train, seed=s.seed, n_test=s.n_test)


def runner_commands(s: Settings, data: Path, strategies: list[str], fastai_variants: list[str]):
    """name -> command line, in the order they run."""
    common_args = ["--data", str(data), "--image-size", str(s.image_size)]
    seeded = [*common_args, "--seed", str(s.seed)]
    work = ["--workdir", str(OUT / "work")]
    py = sys.executable
    cmds = {
        "bare-forward": [
            py,
            str(PEERS / "bare_forward.py"),
            *common_args,
            "--limit",
            "500" if s.quick else "2000",
        ]
    }
    for strategy in strategies:
        cmds[f"graftlab-{strategy}"] = [
            py,
            str(PEERS / "graftlab_run.py"),
            *seeded,
            *work,
            "--strategy",
            strategy,
            "--epochs",
            str(s.epochs),
        ]
    cmds["plain-torch"] = [
        py,
        str(PEERS / "plain_torch_run.py"),
        *seeded,
        "--epochs",
        str(s.epochs),
    ]
    for variant in fastai_variants:
        cmds[f"fastai-{variant}"] = [
            str(FASTAI_PYTHON),
            str(PEERS / "fastai_run.py"),
            *seeded,
            *work,
            "--epochs",
            str(s.epochs),
            "--variant",
            variant,
        ]
    return cmds


def run_one(name: str, cmd: list[str], settings: Settings, reuse: bool) -> dict:
    """Run one peer (or take its kept result) and return its result dict."""
    kept = OUT / "results" / ("quick" if settings.quick else "") / f"{name}.json"
    key = {"quick": settings.quick, "image_size": settings.image_size, "seed": settings.seed}
    if reuse and kept.exists():
        result = json.loads(kept.read_text())
        if result.get("settings") == key and "error" not in result:
            print(f"== {name}: kept result from {result['finished']}", flush=True)
            return result
    if name.startswith("fastai") and not FASTAI_PYTHON.exists():
        return {"runner": name, "error": "no fastai venv: run benchmarks/setup_peers.sh first"}
    log_path = OUT / "logs" / f"{name}{'-quick' if settings.quick else ''}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    print(f"== {name}: running (log: {log_path.relative_to(REPO)})", flush=True)
    with log_path.open("w") as log:
        proc = subprocess.run(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=log, text=True)
        log.write(proc.stdout)
    lines = [x for x in proc.stdout.splitlines() if x.startswith(common.RESULT_PREFIX)]
    if not lines:
        return {
            "runner": name,
            "error": f"exited {proc.returncode} without a result; see {log_path}",
        }
    result = json.loads(lines[-1][len(common.RESULT_PREFIX) :])
    result["settings"] = key
    result["finished"] = datetime.datetime.now().isoformat(timespec="seconds")
    kept.parent.mkdir(parents=True, exist_ok=True)
    kept.write_text(json.dumps(result, indent=1))
    print(f"   {summary_line(result)}", flush=True)
    return result


def summary_line(r: dict) -> str:
    if "error" in r:
        return f"{r['runner']}: ERROR {r['error']}"
    acc = r.get("test_accuracy")
    return f"{r['runner']}: {r['wall_seconds']:.1f}s" + (f", test acc {acc:.4f}" if acc else "")


# --- comparison ---------------------------------------------------------------------------


def accuracy_at(result: dict, seconds: float) -> float | None:
    """Test accuracy of the last curve point reached within ``seconds`` (None if none)."""
    reached = [p for p in result.get("curve", []) if p["seconds"] <= seconds]
    return reached[-1]["test_accuracy"] if reached else None


def ratios(results: dict[str, dict]) -> list[tuple[str, str, str]]:
    """(what, value, how it is computed) for the comparisons the issue asks for."""
    ok = {k: v for k, v in results.items() if "error" not in v}
    rows = []
    bare = ok.get("bare-forward")
    for name, r in ok.items():
        if not name.startswith("graftlab") or not bare:
            continue
        n = r["n_train"] + r["n_val"]
        limit = n / bare["images_per_second"]
        if name == "graftlab-lp":
            rows.append(
                (
                    "graftlab lp wall / bare forward over the same images",
                    f"{r['wall_seconds'] / limit:.2f}x",
                    f"{r['wall_seconds']:.1f}s / ({n} img / {bare['images_per_second']} img/s)",
                )
            )
        if r.get("feature_images_per_second"):
            rows.append(
                (
                    f"{name} feature extraction / bare forward throughput",
                    f"{r['feature_images_per_second'] / bare['images_per_second']:.2f}",
                    f"{r['feature_images_per_second']} / {bare['images_per_second']} img/s "
                    f"(graftlab's includes decoding; bare: {bare['best_mode']})",
                )
            )
    for peer_name in ("fastai-default", "fastai-tuned", "plain-torch"):
        peer = ok.get(peer_name)
        if not peer:
            continue
        for name, r in ok.items():
            if not name.startswith("graftlab"):
                continue
            target = peer["test_accuracy"]
            reach = common.time_to_accuracy(r["curve"], target)
            rows.append(
                (
                    f"{name} time to {peer_name}'s final accuracy / {peer_name} wall",
                    f"{reach / peer['wall_seconds']:.3f}" if reach is not None else "not reached",
                    f"{reach if reach is not None else '-'}s / {peer['wall_seconds']}s "
                    f"(target {target:.4f})",
                )
            )
            at = accuracy_at(r, peer["wall_seconds"])
            rows.append(
                (
                    f"{name} accuracy - {peer_name} accuracy at {peer_name}'s wall time",
                    f"{at - target:+.4f}" if at is not None else "graftlab not done",
                    f"{at} vs {target:.4f} at {peer['wall_seconds']}s",
                )
            )
    return rows


def peak_memory(r: dict) -> float:
    rss = r.get("peak_rss_mb", {})
    return max(rss.values()) if rss else float("nan")


def markdown(results: dict[str, dict], rows, settings: Settings, data: Path) -> str:
    machine = next((r["machine"] for r in results.values() if "machine" in r), {})
    lines = [
        f"# graftlab vs peers ({'quick' if settings.quick else 'full'})",
        "",
        f"- date: {datetime.date.today().isoformat()}",
        f"- data: {data.name} (Fashion-MNIST PNG class folders), {settings.image_size} px, "
        f"seed {settings.seed}, backbone {common.BACKBONE} (packaged ImageNet weights)",
        f"- machine: {machine.get('cpu', '?')}, {machine.get('cpus', '?')} CPUs, "
        f"torch {machine.get('torch', '?')}",
        "",
        "| runner | wall s | test acc | img/s | peak RSS MB | CPU s, process | load (start→end) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for name, r in results.items():
        if "error" in r:
            lines.append(f"| {name} | error: {r['error']} | | | | | |")
            continue
        ips = (
            r.get("images_per_second")
            or r.get("train_images_per_second")
            or r.get("feature_images_per_second")
            or ""
        )
        cpu = sum(r.get("cpu_seconds", {}).values())
        m = r.get("machine", {})
        load = f"{m.get('loadavg_start', ['?'])[0]}→{m.get('loadavg_end', ['?'])[0]}"
        acc = f"{r['test_accuracy']:.4f}" if r.get("test_accuracy") is not None else ""
        lines.append(
            f"| {name} | {r['wall_seconds']:.1f} | {acc} | {ips} | {peak_memory(r):.0f} | "
            f"{cpu:.0f} | {load} |"
        )
    lines += ["", "| comparison | value | from |", "| --- | ---: | --- |"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    lines += [
        "",
        "img/s: training images per second for fine-tuning runs, forward images per second for "
        "bare-forward, feature images per second (decoding included) for graftlab-lp. CPU s: "
        "the whole process, benchmark-only test scoring included.",
        "",
        "Recipes:",
        "",
    ]
    lines += [f"- {n}: {r['recipe']}" for n, r in results.items() if "recipe" in r]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="500/1,000 images, 1 epoch")
    parser.add_argument("--skip", default="", help="comma list: fastai,plain-torch,graftlab,...")
    parser.add_argument("--strategies", default="lp,lp-ft,top-k", help="graftlab strategies")
    parser.add_argument("--fastai-variants", default="default", help="default,tuned")
    parser.add_argument("--image-size", type=int, default=112)
    parser.add_argument("--reuse", action="store_true", help="take kept results when present")
    args = parser.parse_args()

    settings = Settings(quick=args.quick, image_size=args.image_size)
    data = write_data(settings)
    cmds = runner_commands(
        settings, data, args.strategies.split(","), args.fastai_variants.split(",")
    )
    skip = [s for s in args.skip.split(",") if s]
    results = {}
    for name, cmd in cmds.items():
        if any(name.startswith(s) for s in skip):
            continue
        results[name] = run_one(name, cmd, settings, args.reuse)

    rows = ratios(results)
    md = markdown(results, rows, settings, data)
    OUT.mkdir(exist_ok=True)
    stem = "compare-quick" if args.quick else "compare"
    (OUT / f"{stem}.json").write_text(
        json.dumps({"results": results, "ratios": rows}, indent=1) + "\n"
    )
    (OUT / f"{stem}.md").write_text(md)
    print()
    print(md)


if __name__ == "__main__":
    main()
