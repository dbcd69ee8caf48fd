"""How graftlab's steps scale: time and peak memory as the data and the image size grow.

    python benchmarks/scaling.py            # 1k, 5k, 20k images at 112 px; 96/160/224 px at 5k
    python benchmarks/scaling.py --quick    # 200, 500, 1k images; 64/96/128 px at 500

Steps, each timed on a cold cache in a fresh process per configuration:
  dataset     load_dataset on a CSV of the images (scan, decode check + sha256 of every
              file, stratified splits) and the doctor's preflight checks on the manifest
  decode      ImageCache.get: PNG decode, resize, centre square into the memmap cache
  features    extract_features under the execution graftlab picks for this machine
  probe       LinearProbe.fit on the train features, L2 chosen on a 15% validation split
  duplicates  the doctor's near-duplicate check: val and test features against every train
              feature (15% + 15% against 70% of the images, as in graftlab train); at most
              2,000 images of each held-out split, a random sample beyond that, so it grows
              linearly (comparing them all would grow with the square of the data)

Then the near-duplicate check alone on random features of 20k, 50k and 200k images (its cost
depends on the shapes only), sampled as graftlab runs it and, up to 50k, exact.

Prints a table and, per step, the log-log slope of time against images and against pixels
per image (1 = linear), over all points and between the two largest (fixed costs flatten the
first); slopes above 1.15 are flagged as worse than linear. Writes
benchmarks/out/scaling.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
STEPS = ("dataset", "decode", "features", "probe", "duplicates")
WORSE_THAN_LINEAR = 1.15  # slopes this far above 1 are beyond timing noise on a shared CPU
MIN_SECONDS = 2.0  # a step that never takes longer is timer noise on a shared CPU


class PeakRSS:
    """Peak resident memory of this process while the block runs, sampled every 10 ms."""

    def __enter__(self) -> PeakRSS:
        self.start = self.peak = _rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, _rss_mb())

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_mb())

    @property
    def added_mb(self) -> float:
        return round(self.peak - self.start, 1)


def _rss_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def write_pool(n: int, seed: int) -> list[tuple[str, int]]:
    """(path, label) of ``n`` Fashion-MNIST training images as PNG class folders, shuffled."""
    from graftlab.data.builtin import fashion_mnist_folders

    root = fashion_mnist_folders(OUT / "data" / f"scaling-{n}-s{seed}", n_train=n, seed=seed)
    classes = sorted(p.name for p in (root / "train").iterdir() if p.is_dir())
    items = [
        (str(p), k)
        for k, c in enumerate(classes)
        for p in sorted((root / "train" / c).glob("*.png"))
    ]
    order = np.random.default_rng(seed).permutation(len(items))
    return [items[i] for i in order]


def measure_one(n: int, size: int, seed: int) -> dict:
    """Run every step on the first ``n`` pool images at ``size`` px (cold caches)."""
    import torch

    from graftlab.backbones import create_backbone
    from graftlab.data import load_dataset
    from graftlab.data.image_cache import ImageCache
    from graftlab.data.transforms import Preprocess
    from graftlab.doctor.preflight import near_duplicates, run_preflight
    from graftlab.features import extract_features
    from graftlab.finetune.probe import LinearProbe
    from graftlab.hardware import decide_execution

    pool = write_pool(max(n, 1000), seed)[:n]
    paths = [p for p, _ in pool]
    y = np.array([k for _, k in pool])
    model = create_backbone("tf_efficientnet_lite0")
    preprocess = Preprocess.from_model(model, image_size=size)
    execution = decide_execution()  # what graftlab train uses for features here
    result = {"n": n, "size": size, "execution": execution.reason, "steps": {}}

    with tempfile.TemporaryDirectory(dir=OUT) as cache_root:
        csv = Path(cache_root) / "images.csv"
        csv.write_text("path,label\n" + "".join(f"{p},{k}\n" for p, k in pool))
        with PeakRSS() as mem:
            t = time.perf_counter()
            ds = load_dataset(csv, allow_outside=True, progress=False)
            run_preflight(ds)
            result["steps"]["dataset"] = {"seconds": time.perf_counter() - t, "mb": mem}
        by_path = {str(Path(q).resolve()): h for q, h in zip(ds.paths(), ds.hashes(), strict=True)}
        hashes = [by_path[str(Path(q).resolve())] for q in paths]
        with PeakRSS() as mem:
            t = time.perf_counter()
            images, _ = ImageCache(cache_root).get(paths, hashes, preprocess, progress=False)
            result["steps"]["decode"] = {"seconds": time.perf_counter() - t, "mb": mem}
        with PeakRSS() as mem:
            t = time.perf_counter()
            feats = extract_features(model, images, preprocess, execution=execution, progress=False)
            result["steps"]["features"] = {"seconds": time.perf_counter() - t, "mb": mem}
        n_val = max(10, int(0.15 * n))
        with PeakRSS() as mem:
            t = time.perf_counter()
            LinearProbe("multiclass").fit(feats[n_val:], y[n_val:], val=(feats[:n_val], y[:n_val]))
            result["steps"]["probe"] = {"seconds": time.perf_counter() - t, "mb": mem}
        n_held = 2 * n_val  # val and test, as graftlab train's default 15% + 15%
        with PeakRSS() as mem:
            t = time.perf_counter()
            near_duplicates(
                {"train": feats[n_held:], "val": feats[:n_val], "test": feats[n_val:n_held]}
            )
            result["steps"]["duplicates"] = {"seconds": time.perf_counter() - t, "mb": mem}
    for step in result["steps"].values():
        step["seconds"] = round(step["seconds"], 2)
        step["mb"] = step["mb"].added_mb
    result["images_per_second"] = round(n / result["steps"]["features"]["seconds"], 1)
    result["torch_threads"] = torch.get_num_threads()
    result["loadavg"] = [round(x, 2) for x in os.getloadavg()]
    return result


def duplicates_at_scale(counts: list[int], exact_up_to: int) -> list[dict]:
    """The near-duplicate check on random 1280-d features of ``n`` images (70/15/15 splits).

    Beyond the pipeline's sizes: its cost depends on the shapes only. Sampled (the default,
    at most 2,000 images of each held-out split) and, up to ``exact_up_to`` images, exact.
    """
    import torch

    from graftlab.doctor.preflight import near_duplicates

    rows = []
    for n in counts:
        g = torch.Generator().manual_seed(n)
        feats = torch.rand(n, 1280, generator=g)  # pooled features are non-negative
        held = int(0.15 * n)
        splits = {"train": feats[2 * held :], "val": feats[:held], "test": feats[held : 2 * held]}
        row = {"n": n}
        for name, cap in (("sampled", 2000), ("exact", None)):
            if cap is None and n > exact_up_to:
                continue
            t = time.perf_counter()
            near_duplicates(splits, max_queries=cap)
            row[f"{name}_seconds"] = round(time.perf_counter() - t, 2)
        rows.append(row)
        print(f"   duplicates at {n} images: {row}", flush=True)
    return rows


def slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of log(y) against log(x)."""
    return float(np.polyfit(np.log(xs), np.log(np.maximum(ys, 1e-3)), 1)[0])


def markdown(rows: list[dict], slopes: dict) -> str:
    longest = {step: max(r["steps"][step]["seconds"] for r in rows) for step in STEPS}
    lines = [
        "| images | px | "
        + " | ".join(f"{step} s" for step in STEPS)
        + " | features img/s | "
        + " | ".join(f"{step} MB" for step in STEPS)
        + " | load |",
        "| ---: | ---: | " + " | ".join(["---:"] * (2 * len(STEPS) + 2)) + " |",
    ]
    for r in rows:
        s = r["steps"]
        seconds = " | ".join(str(s[step]["seconds"]) for step in STEPS)
        mb = " | ".join(str(s[step]["mb"]) for step in STEPS)
        lines.append(
            f"| {r['n']} | {r['size']} | {seconds} | {r['images_per_second']} | {mb} "
            f"| {r['loadavg'][0]} |"
        )
    lines += [
        "",
        "| step | slope vs images (all, last two) | slope vs pixels/image (all, last two) | flag |",
        "| --- | ---: | ---: | --- |",
    ]
    for step, fits in slopes.items():
        worse = [name for name, v in fits.items() if v > WORSE_THAN_LINEAR]
        flag = "worse than linear: " + ", ".join(worse) if worse else "ok"
        if longest[step] < MIN_SECONDS:
            flag = f"under {MIN_SECONDS:g} s: too fast to judge"
        lines.append(
            f"| {step} | {fits['images']:.2f}, {fits['images_last_two']:.2f} | "
            f"{fits['pixels']:.2f}, {fits['pixels_last_two']:.2f} | {flag} |"
        )
    return "\n".join(lines) + "\n"


def duplicates_markdown(rows: list[dict]) -> str:
    lines = [
        "| images | near-duplicate check, sampled s | exact s |",
        "| ---: | ---: | ---: |",
    ]
    lines += [f"| {r['n']} | {r['sampled_seconds']} | {r.get('exact_seconds', '')} |" for r in rows]
    for kind in ("sampled", "exact"):
        pts = [(r["n"], r[f"{kind}_seconds"]) for r in rows if f"{kind}_seconds" in r]
        if len(pts) >= 2:
            (n0, t0), (n1, t1) = pts[-2], pts[-1]
            lines.append(
                f"\n{kind}: slope vs images between the two largest {slope([n0, n1], [t0, t1]):.2f}"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, for smoke testing")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--one", nargs=2, type=int, metavar=("N", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.one:  # child process: one configuration, one JSON line
        print(json.dumps(measure_one(*args.one, args.seed)), flush=True)
        return

    counts, sizes, base_n, base_size = (
        ([200, 500, 1000], [64, 96, 128], 500, 96)
        if args.quick
        else ([1000, 5000, 20000], [96, 160, 224], 5000, 112)
    )
    configs = [(n, base_size) for n in counts] + [(base_n, s) for s in sizes if s != base_size]
    OUT.mkdir(exist_ok=True)
    rows = []
    for n, size in configs:
        print(f"== {n} images at {size} px", flush=True)
        proc = subprocess.run(
            [sys.executable, __file__, "--one", str(n), str(size), "--seed", str(args.seed)],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            sys.exit(f"configuration {n} x {size} failed:\n{proc.stderr[-3000:]}")
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(f"   {rows[-1]['steps']}", flush=True)

    by_n = [r for r in rows if r["size"] == base_size]
    by_px = [r for r in rows if r["n"] == base_n]
    slopes = {}
    for step in STEPS:
        # A fixed cost (model warm-up, solver start) flattens the slope over all points;
        # the slope between the two largest points shows the marginal growth.
        xn, yn = [r["n"] for r in by_n], [r["steps"][step]["seconds"] for r in by_n]
        by_px = sorted(by_px, key=lambda r: r["size"])
        xp, yp = [r["size"] ** 2 for r in by_px], [r["steps"][step]["seconds"] for r in by_px]
        slopes[step] = {
            "images": slope(xn, yn),
            "images_last_two": slope(xn[-2:], yn[-2:]),
            "pixels": slope(xp, yp),
            "pixels_last_two": slope(xp[-2:], yp[-2:]),
        }
    dup_counts, exact_up_to = (
        ([5000, 10000, 20000], 10000)
        if args.quick
        else (
            [20000, 50000, 200000],
            50000,
        )
    )
    print("== near-duplicate check at scale", flush=True)
    dup = duplicates_at_scale(dup_counts, exact_up_to)
    md = markdown(rows, slopes) + "\n" + duplicates_markdown(dup)
    (OUT / "scaling.json").write_text(
        json.dumps({"rows": rows, "slopes": slopes, "duplicates": dup}, indent=1)
    )
    (OUT / "scaling.md").write_text(md)
    print()
    print(md)


if __name__ == "__main__":
    main()
