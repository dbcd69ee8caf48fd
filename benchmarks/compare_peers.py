"""graftlab side by side with the tools users would pick instead, on one machine, one data set.

    python benchmarks/compare_peers.py            # full: 5,000 train + 10,000 test images
    python benchmarks/compare_peers.py --quick    # smoke test: 500 + 1,000 images, 1 epoch
    python benchmarks/compare_peers.py --reuse --skip fastai --strategies top-k,top-k-nocache

Runs each peer as its own process, one after another (benchmarks/peers/*.py; fastai in its
own venv, benchmarks/.venvs/fastai, which this script creates with setup_peers.sh when it is
missing), on Fashion-MNIST written as PNG class folders, with timm tf_efficientnet_lite0 and
its packaged ImageNet weights everywhere, 112 px, seed 0.

Shapes (``--shape``): ``fmnist5k`` (5,000 seeded training images, the official 10,000 test
images) and ``fmnist7x50`` (50 training images of each of 7 classes, all 7,000 official test
images of those classes).

Runners: ``bare-forward`` (one forward pass over the pre-decoded train folder, the images
graftlab's train and val splits come from, in the best of three precisions),
``graftlab-S`` for each S of ``--strategies``, ``plain-torch``, ``fastai-V`` for each V of
``--fastai-variants`` (``default`` is fastai's default recipe, ``lrfind`` the one its
documentation teaches), ``timm-train`` (timm's own train.py; needs its scripts, see
peers/timm_train_run.py). Each peer is scored the way it scores itself, in the precision it
trained in. A strategy is a ``graftlab train --strategy`` name or one of the
variants in ``GRAFTLAB_VARIANTS``: ``top-k-nocache`` (top-k with ``--boundary-cache off``)
and ``lp-fp32`` (lp with ``--precision fp32``). ``--skip`` takes prefixes of runner names.

Each result is kept in benchmarks/out/results/ (quick/ for --quick); ``--reuse`` takes a kept
result instead of rerunning that peer when it was made with the same settings (quick, image
size, seed) and, for results that record it, the same command line. Writes
benchmarks/out/compare[-SHAPE].json, .md and .png (the accuracy-vs-time curves of every
runner; -quick for --quick): a table of runners and a table of comparisons, each with the
issue's target and PASS/FAIL where it gives one.
"""

from __future__ import annotations

import argparse
import datetime
import functools
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

#: graftlab runners that are a strategy run with other options: name -> (strategy, options)
GRAFTLAB_VARIANTS = {
    "top-k-nocache": ("top-k", ["--boundary-cache", "off"]),
    "lp-fp32": ("lp", ["--precision", "fp32"]),
}
DEFAULT_STRATEGIES = "lp,lp-fp32,lp-ft,top-k,top-k-nocache"

# The targets.
LP_OVER_BARE_MAX = 1.3  # lp decode + extract + fit within 1.3x of one bare forward pass
BEST_PEER_TIME_SHARE_MAX = 1 / 2  # reach the best peer's final accuracy in 1/2 its wall time
BEST_PEER_GAIN_MIN = 1.0  # points above the best peer at the best peer's wall time
PEERS_RUNNERS = ("fastai-", "timm-train", "plain-torch")  # runner-name prefixes of the peers
TOPK_EPOCH_SPEEDUP_MIN = 3.0  # a top-k epoch 3x faster than a full fine-tuning epoch
NO_LOSS_POINTS = 0.3  # "no loss of accuracy": at most 0.3 points below


SHAPES = ("fmnist5k", "fmnist7x50")


@dataclass
class Settings:
    quick: bool
    image_size: int = 112
    seed: int = 0
    shape: str = "fmnist5k"
    peer_epochs: int = 5  # documented recipes (fastai lr_find, timm train.py): to convergence
    n_train: int = field(init=False)
    n_test: int | None = field(init=False)
    epochs: int = field(init=False)

    def __post_init__(self) -> None:
        # quick: enough to exercise every code path in a few minutes, not to compare numbers
        self.n_train, self.n_test, self.epochs = (500, 1000, 1) if self.quick else (5000, None, 3)
        if self.quick:
            self.peer_epochs = 1

    @property
    def stem(self) -> str:
        return (
            "compare"
            + ("" if self.shape == "fmnist5k" else f"-{self.shape}")
            + ("-quick" if self.quick else "")
        )


def write_data(s: Settings) -> Path:
    """The shared data set: graftlab's writer when it is importable, else the peers' own."""
    if s.shape == "fmnist7x50":
        return common.write_fashion_mnist_few(OUT / "data" / f"fashion-mnist-7x50-s{s.seed}")
    name = f"fashion-mnist-{s.n_train}-s{s.seed}" + (f"-t{s.n_test}" if s.n_test else "")
    root = OUT / "data" / name
    try:
        from graftlab.data.builtin import fashion_mnist_folders
    except ImportError:
        return common.write_fashion_mnist_folders(root, n_train=s.n_train, n_test=s.n_test)
    return fashion_mnist_folders(root, n_train=s.n_train, seed=s.seed, n_test=s.n_test)


def runner_commands(
    s: Settings,
    data: Path,
    strategies: list[str],
    fastai_variants: list[str],
    timm_lrs: tuple[str, ...] = ("1e-3",),
    timm_scales: tuple[str, ...] = (),
):
    """name -> command line, in the order they run."""
    common_args = ["--data", str(data), "--image-size", str(s.image_size)]
    seeded = [*common_args, "--seed", str(s.seed)]
    work = ["--workdir", str(OUT / "work")]
    py = sys.executable
    # The train folder holds the images graftlab splits into train and val: the bare pass
    # goes over the same ones, all of them.
    cmds = {"bare-forward": [py, str(PEERS / "bare_forward.py"), *common_args, "--split", "train"]}
    for name in strategies:
        strategy, extra = GRAFTLAB_VARIANTS.get(name, (name, []))
        cmds[f"graftlab-{name}"] = [
            py,
            str(PEERS / "graftlab_run.py"),
            *seeded,
            *work,
            "--strategy",
            strategy,
            "--epochs",
            # graftlab's default sizes its run from the data; quick runs one epoch
            str(s.epochs) if s.quick else "auto",
            *(["--label", name, "--", *extra] if extra else []),
        ]
    cmds["plain-torch"] = [
        py,
        str(PEERS / "plain_torch_run.py"),
        *seeded,
        "--epochs",
        str(s.epochs),
    ]
    for variant in fastai_variants:
        # the default recipe as fastai's README runs it; the documented one to convergence
        epochs = s.epochs if variant == "default" else s.peer_epochs
        cmds[f"fastai-{variant}"] = [
            str(FASTAI_PYTHON),
            str(PEERS / "fastai_run.py"),
            *seeded,
            *work,
            "--epochs",
            str(epochs),
            "--variant",
            variant,
        ]
    timm = [py, str(PEERS / "timm_train_run.py"), *seeded, *work, "--epochs", str(s.peer_epochs)]
    for i, lr in enumerate(timm_lrs):
        # the first rate is the recipe's own; the others are named by their rate
        label = "timm-train" if i == 0 else f"timm-train-lr{lr}"
        # the recipe's own rate is the runner's default: its command line stays as kept
        cmds[label] = timm + (["--lr", lr, "--label", label] if (i, lr) != (0, "1e-3") else [])
    for scale in timm_scales:  # the recipe's rate, a gentler crop than timm's ImageNet default
        label = f"timm-train-scale{scale}"
        cmds[label] = [*timm, "--lr", timm_lrs[0], "--scale-min", scale, "--label", label]
    return cmds


def run_one(name: str, cmd: list[str], settings: Settings, reuse: bool) -> dict:
    """Run one peer (or take its kept result) and return its result dict."""
    kept = OUT / "results" / ("quick" if settings.quick else "") / settings.shape / f"{name}.json"
    key = {
        "quick": settings.quick,
        "image_size": settings.image_size,
        "seed": settings.seed,
        "shape": settings.shape,
    }
    command = [Path(cmd[1]).name, *cmd[2:]]  # the script and its arguments
    if reuse and kept.exists():
        result = json.loads(kept.read_text())
        why_not = reuse_problem(name, result, key, command)
        if why_not is None:
            print(f"== {name}: kept result from {result['finished']}", flush=True)
            return result
        print(f"== {name}: kept result not reused ({why_not})", flush=True)
    if name.startswith("fastai") and not ensure_fastai_venv():
        return {"runner": name, "error": "no fastai venv: benchmarks/setup_peers.sh failed"}
    log_path = OUT / "logs" / settings.shape / f"{name}{'-quick' if settings.quick else ''}.log"
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
    result["command"] = command
    result["finished"] = datetime.datetime.now().isoformat(timespec="seconds")
    kept.parent.mkdir(parents=True, exist_ok=True)
    kept.write_text(json.dumps(result, indent=1))
    print(f"   {summary_line(result)}", flush=True)
    return result


@functools.cache  # once per run, however many fastai variants follow
def ensure_fastai_venv() -> bool:
    """Create benchmarks/.venvs/fastai with setup_peers.sh unless it is there and imports."""
    print("== fastai venv: checking (benchmarks/setup_peers.sh)", flush=True)
    proc = subprocess.run(["bash", str(HERE / "setup_peers.sh")], cwd=REPO, check=False)
    return proc.returncode == 0 and FASTAI_PYTHON.exists()


def reuse_problem(name: str, result: dict, key: dict, command: list[str]) -> str | None:
    """Why a kept result cannot stand in for a run now, or None when it can.

    Results kept before the command line was recorded are matched on the settings alone.
    """
    if "error" in result:
        return "it is an error"
    if result.get("settings") != key:
        return f"settings {result.get('settings')} differ from {key}"
    if result.get("command", command) != command:
        return "made with another command line"
    if name.startswith("graftlab") and "finetune_epoch_seconds" not in result:
        return "older format, without per-epoch seconds"
    if name.startswith("graftlab") and "epoch_weights_seconds" not in result:
        return "older format, without a curve point per fine-tuning epoch"
    return None


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


def curve_point_name(point: dict) -> str:
    """A graftlab curve point in words: its probe, a fine-tuning epoch, or the exported model."""
    images = f" ({point['test_images']:,} test images)" if point.get("test_images") else ""
    if point.get("phase") == "epoch":
        return f"epoch {point['epoch']}{images}"
    if point.get("phase") == "finetune":
        return f"exported model ({point.get('selected', '?')}){images}"
    return f"{point.get('phase', 'point')}{images}"


def verdict(ok: bool | None) -> str:
    return "" if ok is None else ("PASS" if ok else "FAIL")


def points(a: float, b: float) -> str:
    return f"{100 * (a - b):+.2f} pt"


def mean(xs: list[float]) -> float:
    return sum(xs) / len(xs)


def execution_label(e: dict | None) -> str:
    """``bf16 channels_last`` from a summary.json execution dict ('?' when unknown)."""
    if not e:
        return "?"
    return f"{e.get('precision', '?')} {'channels_last' if e.get('channels_last') else 'NCHW'}"


def bare_rows(ok: dict[str, dict]) -> list[tuple]:
    """lp end to end and feature extraction against one bare best-precision forward pass."""
    bare = ok.get("bare-forward")
    if not bare:
        return []
    ips = bare["images_per_second"]
    where = (
        f"bare: {bare['best_mode']}, {ips} img/s over {bare['n_images']} pre-decoded "
        f"{bare.get('split', 'test')} images"
    )
    rows = []
    lp = ok.get("graftlab-lp")
    if lp:
        n = lp["n_train"] + lp["n_val"]
        limit = n / ips
        t = lp["timings"]
        work = t["features_train"] + t["features_val"] + t["probe"]
        rows.append(
            (
                f"graftlab-lp decode+extract+fit / bare forward over the same {n} images",
                f"{work / limit:.2f}x",
                f"≤ {LP_OVER_BARE_MAX}x",
                verdict(work / limit <= LP_OVER_BARE_MAX),
                f"features train {t['features_train']:.1f} + val {t['features_val']:.1f} + "
                f"probe {t['probe']:.1f} = {work:.1f}s / {limit:.1f}s ({where})",
            )
        )
        rows.append(
            (
                "graftlab-lp whole process (imports, dataset check, report included) / "
                "bare forward",
                f"{lp['wall_seconds'] / limit:.2f}x",
                "- (the 1.3x is for the row above)",
                "",
                f"{lp['wall_seconds']:.1f}s (test-only steps excluded; of it, backbone "
                f"load and execution probe {t['backbone']:.1f}s) / {limit:.1f}s",
            )
        )
    for name in ("graftlab-lp", "graftlab-lp-fp32"):  # the other runners extract as lp does
        r = ok.get(name)
        if r and r.get("feature_images_per_second"):
            rows.append(
                (
                    f"{name} feature extraction (decoding included) / bare forward throughput",
                    f"{r['feature_images_per_second'] / ips:.2f}",
                    "-",
                    "",
                    f"{r['feature_images_per_second']} img/s "
                    f"({execution_label(r.get('execution'))}) / {ips} img/s",
                )
            )
    return rows


def precision_rows(ok: dict[str, dict]) -> list[tuple]:
    """Probe accuracy and feature throughput with and without reduced precision."""
    lp, fp32 = ok.get("graftlab-lp"), ok.get("graftlab-lp-fp32")
    if not (lp and fp32):
        return []
    how = f"lp {execution_label(lp.get('execution'))}, lp-fp32 "
    how += execution_label(fp32.get("execution"))
    a, b = (r.get("probe_test_accuracy", r["test_accuracy"]) for r in (lp, fp32))
    same = (lp.get("execution") or {}).get("precision") == "fp32"
    rows = [
        (
            "probe test accuracy: graftlab-lp (auto precision) - graftlab-lp-fp32",
            points(a, b),
            "-",
            "",
            f"{a:.4f} vs {b:.4f} ({how})" + ("; lp chose fp32 too" if same else ""),
        )
    ]
    fa, fb = lp.get("feature_images_per_second"), fp32.get("feature_images_per_second")
    if fa and fb:
        rows.append(
            (
                "feature throughput: graftlab-lp / graftlab-lp-fp32",
                f"{fa / fb:.2f}x",
                "-",
                "",
                f"{fa} vs {fb} img/s, decoding included ({how})",
            )
        )
    return rows


def top_k_rows(ok: dict[str, dict]) -> list[tuple]:
    """Top-k epochs against full fine-tuning epochs, and the boundary cache against none."""
    epochs = {
        n: r["finetune_epoch_seconds"]
        for n, r in ok.items()
        if n.startswith("graftlab") and r.get("finetune_epoch_seconds")
    }
    lpft, topk, nocache = (epochs.get(f"graftlab-{s}") for s in ("lp-ft", "top-k", "top-k-nocache"))

    def per_epoch(xs: list[float], name: str) -> str:
        train = execution_label(ok[f"graftlab-{name}"].get("train_execution"))
        return f"{mean(xs):.1f}s over {len(xs)} epoch{'s' if len(xs) > 1 else ''} ({train})"

    rows = []
    if lpft and topk:
        x = mean(lpft) / mean(topk)
        rows.append(
            (
                "lp-ft epoch / top-k epoch (mean seconds, train + val)",
                f"{x:.2f}x",
                f"≥ {TOPK_EPOCH_SPEEDUP_MIN:g}x",
                verdict(x >= TOPK_EPOCH_SPEEDUP_MIN),
                f"{per_epoch(lpft, 'lp-ft')} / {per_epoch(topk, 'top-k')}; top-k boundary cache: "
                f"{ok['graftlab-top-k'].get('boundary_cache', 'not in the log')}",
            )
        )
    if lpft and nocache:
        x = mean(lpft) / mean(nocache)
        rows.append(
            (
                "lp-ft epoch / top-k-nocache epoch (frozen part run every step)",
                f"{x:.2f}x",
                "- (reference)",
                "",
                f"{per_epoch(lpft, 'lp-ft')} / {per_epoch(nocache, 'top-k-nocache')}",
            )
        )
    if topk and nocache:
        rows.append(
            (
                "top-k-nocache epoch / top-k epoch (what the boundary cache saves)",
                f"{mean(nocache) / mean(topk):.2f}x",
                "-",
                "",
                f"{per_epoch(nocache, 'top-k-nocache')} / {per_epoch(topk, 'top-k')}",
            )
        )
    tk, nc = ok.get("graftlab-top-k"), ok.get("graftlab-top-k-nocache")
    if tk and tk.get("boundary_cache_built_seconds") is not None:
        build = tk["boundary_cache_built_seconds"]

        def step(r: dict, build: float = 0.0) -> str:
            # less the per-epoch weight files written only for the curve (graftlab_run.py)
            total = r["timings"]["finetune"] - r.get("epoch_weights_seconds", 0.0)
            rest = total - build - sum(r.get("finetune_epoch_seconds", []))
            return f"{total:.1f}s ({rest:.1f}s of it outside the epochs and the build)"

        how = f"whole fine-tuning step: top-k {step(tk, build)}"
        if nc:
            how += f", top-k-nocache {step(nc)}"
        if topk and nocache and mean(nocache) > mean(topk):
            how += f"; pays for itself after {build / (mean(nocache) - mean(topk)):.1f} epochs"
        rows.append(("top-k one-time boundary cache build", f"{build:.1f}s", "-", "", how))
    if tk and nc:
        a, b = tk.get("finetune_test_accuracy"), nc.get("finetune_test_accuracy")
        what = "fine-tuned model"
        if a is None or b is None:
            a, b, what = tk["test_accuracy"], nc["test_accuracy"], "selected model"
        rows.append(
            (
                f"top-k - top-k-nocache test accuracy ({what})",
                points(a, b),
                f"≥ -{NO_LOSS_POINTS} pt (no loss)",
                verdict(100 * (a - b) >= -NO_LOSS_POINTS - 1e-9),
                f"{a:.4f} vs {b:.4f}; selected: {tk['selected']} vs {nc['selected']}",
            )
        )
    return rows


def is_peer(name: str) -> bool:
    return name.startswith(PEERS_RUNNERS)


def peer_rows(ok: dict[str, dict]) -> list[tuple]:
    """graftlab's default (lp-ft) against the best peer, and every peer against the probe.

    The best peer is the one with the highest final test accuracy, each scored the way it
    scores itself. A peer that ends below graftlab's linear probe on the same frozen backbone
    is flagged: such a result is a benchmark to investigate, not a claim.
    """
    rows = []
    peers = {n: r for n, r in ok.items() if is_peer(n) and r.get("test_accuracy") is not None}
    default = ok.get("graftlab-lp-ft")
    if peers and default:
        best_name = max(peers, key=lambda n: peers[n]["test_accuracy"])
        best = peers[best_name]
        target = best["test_accuracy"]
        reach = common.time_to_accuracy(default["curve"], target)
        share = reach / best["wall_seconds"] if reach is not None else None
        point = next((p for p in default["curve"] if p["test_accuracy"] >= target), None)
        rows.append(
            (
                f"graftlab-lp-ft time to the best peer's ({best_name}) final accuracy / "
                f"{best_name} wall",
                f"{share:.3f}" if share is not None else "not reached",
                f"≤ 1/2 ({BEST_PEER_TIME_SHARE_MAX:.3f})",
                verdict(share is not None and share <= BEST_PEER_TIME_SHARE_MAX),
                f"{reach if reach is not None else '-'}s / {best['wall_seconds']}s "
                f"(accuracy {target:.4f}"
                + (f"; reached by graftlab's {curve_point_name(point)}" if point else "")
                + ")",
            )
        )
        at = accuracy_at(default, best["wall_seconds"])
        rows.append(
            (
                f"graftlab-lp-ft accuracy - {best_name} accuracy at {best_name}'s wall time",
                points(at, target) if at is not None else "graftlab not done",
                f"≥ +{BEST_PEER_GAIN_MIN:g} pt",
                verdict(at is not None and 100 * (at - target) >= BEST_PEER_GAIN_MIN - 1e-9),
                f"{at} vs {target:.4f} at {best['wall_seconds']}s",
            )
        )
    lp = ok.get("graftlab-lp")
    probe = lp.get("probe_test_accuracy", lp.get("test_accuracy")) if lp else None
    for name, r in peers.items():
        if probe is None:
            break
        below = r["test_accuracy"] < probe
        rows.append(
            (
                f"{name} final accuracy - graftlab linear probe (same frozen backbone)",
                points(r["test_accuracy"], probe),
                "≥ 0 (else investigate)",
                "INVESTIGATE" if below else "",
                f"{r['test_accuracy']:.4f} vs probe {probe:.4f}",
            )
        )
    return rows


def plot_curves(results: dict[str, dict], path: Path, title: str) -> None:
    """Test accuracy against wall seconds for every runner that has a curve."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    for name, r in results.items():
        curve = r.get("curve") or []
        if "error" in r or not curve:
            continue
        xs = [p["seconds"] for p in curve]
        ys = [p["test_accuracy"] for p in curve]
        style = "-o" if name.startswith("graftlab") else "--s"
        ax.plot(xs, ys, style, label=f"{name} ({r['test_accuracy']:.3f})", markersize=4)
    ax.set_xlabel("wall seconds to a trained model (2 CPU cores)")
    ax.set_ylabel("test accuracy (last point: full test set)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def ratios(results: dict[str, dict]) -> list[tuple[str, str, str, str, str]]:
    """(what, value, target, PASS/FAIL, how it is computed) for the issue's comparisons."""
    ok = {k: v for k, v in results.items() if "error" not in v}
    return bare_rows(ok) + precision_rows(ok) + top_k_rows(ok) + peer_rows(ok)


def execution_of(r: dict) -> str:
    """How a runner computed: graftlab's features [/ fine-tuning], bare-forward's best mode."""
    if "best_mode" in r:
        return r["best_mode"]
    if "execution" not in r:
        return ""
    feat, train = execution_label(r["execution"]), r.get("train_execution")
    if train and execution_label(train) != feat:
        return f"{feat} / train {execution_label(train)}"
    return feat


def peak_memory(r: dict) -> float:
    rss = r.get("peak_rss_mb", {})
    return max(rss.values()) if rss else float("nan")


def markdown(results: dict[str, dict], rows, settings: Settings, data: Path) -> str:
    machine = next((r["machine"] for r in results.values() if "machine" in r), {})
    lines = [
        f"# graftlab vs peers ({'quick' if settings.quick else 'full'})",
        "",
        f"- date: {datetime.date.today().isoformat()}",
        f"- data: {data.name} (shape {settings.shape}, Fashion-MNIST PNG class folders), "
        f"{settings.image_size} px, "
        f"seed {settings.seed}, backbone {common.BACKBONE} (packaged ImageNet weights)",
        f"- machine: {machine.get('cpu', '?')}, {machine.get('cpus', '?')} CPUs, "
        f"torch {machine.get('torch', '?')}",
        "",
        "| runner | wall s | test acc | img/s | epoch s | execution | peak RSS MB "
        "| CPU s, process | load (start→end) |",
        "| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | --- |",
    ]
    for name, r in results.items():
        if "error" in r:
            lines.append(f"| {name} | error: {r['error']} | | | | | | | |")
            continue
        epoch_ips = r.get("finetune_epoch_images_per_second")
        ips = (
            r.get("images_per_second")
            or (round(mean(epoch_ips), 1) if epoch_ips else None)
            or r.get("train_images_per_second")
            or r.get("feature_images_per_second")
            or ""
        )
        epoch = (
            f"{mean(r['finetune_epoch_seconds']):.1f}" if r.get("finetune_epoch_seconds") else ""
        )
        cpu = sum(r.get("cpu_seconds", {}).values())
        m = r.get("machine", {})
        load = f"{m.get('loadavg_start', ['?'])[0]}→{m.get('loadavg_end', ['?'])[0]}"
        acc = f"{r['test_accuracy']:.4f}" if r.get("test_accuracy") is not None else ""
        lines.append(
            f"| {name} | {r['wall_seconds']:.1f} | {acc} | {ips} | {epoch} | {execution_of(r)} | "
            f"{peak_memory(r):.0f} | {cpu:.0f} | {load} |"
        )
    lines += [
        "",
        "| comparison | value | target | verdict | from |",
        "| --- | ---: | --- | --- | --- |",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    lines += [
        "",
        "wall s: to a trained model (graftlab: the process less its test-only steps and the "
        "per-epoch weight files it writes for the curve). img/s: "
        "training images per second for fine-tuning runs (graftlab: mean over its epochs, "
        "from results.csv), forward images per second for bare-forward, feature images per "
        "second (decoding included) for graftlab lp runs. epoch s: mean seconds of a "
        "fine-tuning epoch (train + val) from graftlab's results.csv. execution: "
        "graftlab's features (and its fine-tuning, when measured apart), bare-forward's "
        "fastest mode. CPU s: the whole process, benchmark-only test scoring included. "
        "Accuracy differences in percentage points (pt).",
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
    parser.add_argument(
        "--skip",
        default="",
        help="comma list of runner-name prefixes: fastai,plain-torch,bare,graftlab-lp-ft,...",
    )
    parser.add_argument(
        "--strategies",
        default=DEFAULT_STRATEGIES,
        help="graftlab strategies and variants (" + ", ".join(GRAFTLAB_VARIANTS) + ")",
    )
    parser.add_argument(
        "--fastai-variants",
        default="default,lrfind",
        help="fastai recipes, comma list of default,lrfind,tuned,bf16,lrfind-frozen-bn,"
        "lrfind-mult5 (see peers/fastai_run.py)",
    )
    parser.add_argument(
        "--timm-lrs",
        default="1e-3",
        help="AdamW peak rates of timm's train.py, comma list: the first is the recipe's, "
        "each other one a runner timm-train-lrRATE",
    )
    parser.add_argument(
        "--timm-scales",
        default="",
        help="RandomResizedCrop smallest areas for further timm runners timm-train-scaleS, "
        "comma list (timm's default is 0.08)",
    )
    parser.add_argument("--shape", choices=SHAPES, default="fmnist5k")
    parser.add_argument(
        "--peer-epochs",
        type=int,
        default=5,
        help="epochs of the documented peer recipes (fastai lrfind, timm train.py)",
    )
    parser.add_argument("--image-size", type=int, default=112)
    parser.add_argument("--reuse", action="store_true", help="take kept results when present")
    args = parser.parse_args()

    settings = Settings(
        quick=args.quick, image_size=args.image_size, shape=args.shape, peer_epochs=args.peer_epochs
    )
    data = write_data(settings)
    cmds = runner_commands(
        settings,
        data,
        args.strategies.split(","),
        args.fastai_variants.split(","),
        tuple(args.timm_lrs.split(",")),
        tuple(x for x in args.timm_scales.split(",") if x),
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
    stem = settings.stem
    (OUT / f"{stem}.json").write_text(
        json.dumps({"results": results, "ratios": rows}, indent=1) + "\n"
    )
    (OUT / f"{stem}.md").write_text(md)
    plot_curves(results, OUT / f"{stem}.png", f"graftlab vs peers: {data.name}")
    print()
    print(md)


if __name__ == "__main__":
    main()
