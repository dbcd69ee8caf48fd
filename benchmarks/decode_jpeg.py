"""JPEG draft decoding: what it saves on phone-sized photos, and what it changes.

    python benchmarks/decode_jpeg.py            # 40 photos of 4032x3024, about 2 minutes
    python benchmarks/decode_jpeg.py --n 10     # quicker

graftlab decodes a large JPEG at 1/2, 1/4 or 1/8 scale (libjpeg's DCT scaling, Pillow's draft
mode) where that still leaves twice the pixels its resize keeps (Preprocess.draft_size), and
checks files at load time at 1/8 scale. This script measures both against decoding every
pixel, side by side in one process, each image timed both ways in turn:

  check      the load-time check (graftlab.data.verify): 1/8-scale decode vs full decode
  store-S    Preprocess.load to the S-pixel stored square (lite0 at 112 px: 128; at 224: 256),
             draft vs full

The photos are mosaics of the 20 real ImageNet photos that foolbox ships (512x512 each, at
their own resolution, in a random order and flipped at random), cut to 4032x3024 and saved
as JPEG quality 90: the size and detail of a phone photo. For each stored size it prints the
pixel difference between the two squares. Last, the model: the 20 photos upscaled to
2048x2048 JPEGs, classified by the packaged tf_efficientnet_lite0 at 224 px from draft and
from full decoding: top-1 agreement and the largest probability difference.

Writes benchmarks/out/decode_jpeg.{json,md}.
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

import graftlab
from graftlab._io import sha256_bytes
from graftlab.data.decode import decode_bytes
from graftlab.data.transforms import Preprocess
from graftlab.data.verify import inspect_file

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
SIDE = (4032, 3024)  # a 12 MP phone photo
TILE = 512  # foolbox's ImageNet photos


def foolbox_photos() -> list[Path]:
    import importlib.util

    spec = importlib.util.find_spec("foolbox")
    if spec is None or spec.origin is None:
        raise SystemExit("decode_jpeg.py needs foolbox's sample photos: pip install foolbox")
    photos = sorted((Path(spec.origin).parent / "data").glob("imagenet_*.jpg"))
    if len(photos) < 20:
        raise SystemExit(f"expected 20 ImageNet photos in foolbox/data, found {len(photos)}")
    return photos


def write_mosaics(photos: list[Path], n: int, root: Path) -> list[Path]:
    """``n`` phone-sized JPEGs tiled from the real photos."""
    root.mkdir(parents=True, exist_ok=True)
    tiles = [np.asarray(Image.open(p).convert("RGB").resize((TILE, TILE))) for p in photos]
    rng = np.random.default_rng(0)
    cols, rows = -(-SIDE[0] // TILE), -(-SIDE[1] // TILE)
    paths = []
    for i in range(n):
        path = root / f"mosaic_{i:03d}.jpg"
        paths.append(path)
        if path.exists():
            continue
        grid = np.zeros((rows * TILE, cols * TILE, 3), np.uint8)
        for r in range(rows):
            for c in range(cols):
                tile = tiles[rng.integers(len(tiles))]
                if rng.random() < 0.5:
                    tile = tile[:, ::-1]
                grid[r * TILE : (r + 1) * TILE, c * TILE : (c + 1) * TILE] = tile
        Image.fromarray(grid[: SIDE[1], : SIDE[0]]).save(path, quality=90)
    return paths


def lite0_preprocess(image_size: int) -> Preprocess:
    model = graftlab.create_backbone("tf_efficientnet_lite0", weights="none")
    return Preprocess.from_model(model, image_size=image_size)


def time_pair(paths: list[Path], fast, full) -> tuple[list[float], list[float]]:
    """Seconds per image of ``fast(path)`` and ``full(path)``, alternating which goes first."""
    a, b = [], []
    for i, path in enumerate(paths):
        order = [(fast, a), (full, b)] if i % 2 == 0 else [(full, b), (fast, a)]
        for fn, times in order:
            t = time.perf_counter()
            fn(path)
            times.append(time.perf_counter() - t)
    return a, b


def full_check(path: Path) -> None:
    """The load-time check as it was: hash the bytes and decode every pixel."""
    data = path.read_bytes()
    sha256_bytes(data)
    decode_bytes(data, path)


def pixel_difference(paths: list[Path], pre: Preprocess) -> dict:
    diffs = np.concatenate(
        [
            np.abs(pre.load(p).astype(np.int16) - pre.load(p, draft=False).astype(np.int16))
            .ravel()
            .astype(np.uint8)
            for p in paths
        ]
    )
    mse = float(np.mean(diffs.astype(np.float64) ** 2))
    return {
        "mean_abs": round(float(diffs.mean()), 3),
        "p99_abs": int(np.percentile(diffs, 99)),
        "max_abs": int(diffs.max()),
        "psnr_db": round(10 * np.log10(255**2 / mse), 1) if mse > 0 else float("inf"),
    }


def model_agreement(photos: list[Path], root: Path) -> dict:
    """Top-1 agreement of lite0 on upscaled real photos, draft vs full decoding."""
    root.mkdir(parents=True, exist_ok=True)
    big = []
    for p in photos:
        path = root / f"{p.stem}_2048.jpg"
        if not path.exists():
            Image.open(p).convert("RGB").resize((2048, 2048), Image.LANCZOS).save(path, quality=90)
        big.append(path)
    model = graftlab.create_backbone("tf_efficientnet_lite0", weights="packaged").eval()
    pre = Preprocess.from_model(model)

    def probs(draft: bool) -> np.ndarray:
        u8 = np.stack([pre.load(p, draft=draft) for p in big])
        with torch.inference_mode():
            return model(pre.eval_batch(u8)).softmax(-1).numpy()

    fast, full = probs(True), probs(False)
    return {
        "images": len(big),
        "size": "2048x2048",
        "draft_decoded_at": "x".join(map(str, draft_scale_size(big[0], pre))),
        "top1_agree": int((fast.argmax(1) == full.argmax(1)).sum()),
        "max_prob_diff": float(np.abs(fast - full).max()),
    }


def draft_scale_size(path: Path, pre: Preprocess) -> tuple[int, int]:
    with Image.open(path) as im:
        im.draft(None, pre.draft_size(im.size))
        return im.size


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=40, help="phone-sized photos (default 40)")
    args = parser.parse_args()
    torch.set_num_threads(1)  # decoding is timed per image on one core; the model is tiny here

    photos = foolbox_photos()
    mosaics = write_mosaics(photos, args.n, OUT / "data" / "jpeg-mosaics")
    for p in mosaics[:2]:  # warm the page cache and Pillow's plugins
        full_check(p)
    rows = []
    fast, full = time_pair(mosaics, inspect_file, full_check)
    rows.append(("check", "1/8 scale", fast, full, None))
    for image_size in (112, 224):
        pre = lite0_preprocess(image_size)
        fast, full = time_pair(mosaics, pre.load, lambda p, pre=pre: pre.load(p, draft=False))
        scale = "x".join(map(str, draft_scale_size(mosaics[0], pre)))
        rows.append((f"store-{pre.store_size}", scale, fast, full, pixel_difference(mosaics, pre)))
    model = model_agreement(photos, OUT / "data" / "jpeg-upscaled")

    results = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="minutes"),
        "machine": f"{platform.processor() or platform.machine()}, torch {torch.__version__}",
        "photos": f"{len(mosaics)} JPEGs of {SIDE[0]}x{SIDE[1]}, quality 90",
        "rows": [
            {
                "step": step,
                "draft_decodes_at": scale,
                "draft_ms": round(1000 * statistics.median(a), 1),
                "full_ms": round(1000 * statistics.median(b), 1),
                "speedup": round(statistics.median(b) / statistics.median(a), 2),
                "pixels": diff,
            }
            for step, scale, a, b, diff in rows
        ],
        "model": model,
    }
    md = markdown(results)
    OUT.mkdir(exist_ok=True)
    (OUT / "decode_jpeg.json").write_text(json.dumps(results, indent=1) + "\n")
    (OUT / "decode_jpeg.md").write_text(md)
    print(md)


def markdown(r: dict) -> str:
    lines = [
        f"# JPEG draft decoding ({r['date']})",
        "",
        f"- photos: {r['photos']}; machine: {r['machine']}; one thread, median per image",
        "",
        "| step | draft decodes at | draft ms | full ms | full / draft | mean abs diff | "
        "p99 abs diff | max abs diff | PSNR dB |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in r["rows"]:
        px = row["pixels"] or {}
        cells = [px.get(k, "") for k in ("mean_abs", "p99_abs", "max_abs", "psnr_db")]
        lines.append(
            f"| {row['step']} | {row['draft_decodes_at']} | {row['draft_ms']} | "
            f"{row['full_ms']} | {row['speedup']}x | " + " | ".join(map(str, cells)) + " |"
        )
    m = r["model"]
    lines += [
        "",
        f"Model: packaged tf_efficientnet_lite0 at 224 px on the {m['images']} ImageNet photos "
        f"upscaled to {m['size']} JPEGs (draft decodes them at {m['draft_decoded_at']}): "
        f"top-1 the same for {m['top1_agree']} of {m['images']}, largest probability "
        f"difference {m['max_prob_diff']:.4f}.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
