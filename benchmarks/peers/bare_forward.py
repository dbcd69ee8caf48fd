"""Bare forward pass: the practical limit for the linear probe's feature extraction.

Images are decoded and normalised before the clock starts; then one forward pass of the
headless backbone over all of them, in each precision and memory format, under
``torch.inference_mode``. The fastest mode is the limit graftlab's feature step is held to.
``compare_peers.py`` passes ``--split train``: the folder graftlab's train and val splits come
from, so the pass goes over the very images graftlab decodes and extracts.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import _common as common
import numpy as np
import torch
from PIL import Image

MODES = {  # name: (memory format, autocast dtype or None)
    "fp32": (torch.contiguous_format, None),
    "fp32+channels_last": (torch.channels_last, None),
    "bf16+channels_last": (torch.channels_last, torch.bfloat16),
}


def decode(paths: list[str], size: int, mean, std) -> torch.Tensor:
    """Decode, resize (bicubic, as the backbone's config says) and normalise to (N,3,S,S)."""
    u8 = np.stack(
        [
            np.asarray(Image.open(p).convert("RGB").resize((size, size), Image.BICUBIC))
            for p in paths
        ]
    )
    # In place: at 50,000 images the float copy is 7.5 GB, and two more would not fit in 24 GB.
    x = torch.from_numpy(u8).permute(0, 3, 1, 2).float().div_(255)
    del u8
    return x.sub_(torch.tensor(mean).view(1, 3, 1, 1)).div_(torch.tensor(std).view(1, 3, 1, 1))


@torch.inference_mode()
def forward_all(model, x, batch_size: int, memory_format, dtype) -> tuple[float, float]:
    """Wall and CPU seconds for one pass over ``x`` after a one-batch warm-up."""
    model = model.to(memory_format=memory_format)
    batches = [b.contiguous(memory_format=memory_format) for b in x.split(batch_size)]
    with torch.autocast("cpu", dtype=dtype or torch.bfloat16, enabled=dtype is not None):
        model(batches[0])
        start, cpu_start = time.perf_counter(), time.process_time()
        for b in batches:
            model(b)
        return time.perf_counter() - start, time.process_time() - cpu_start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="root with train/ and test/")
    parser.add_argument("--split", default="test", help="which folder to push through")
    parser.add_argument("--image-size", type=int, default=112)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--limit", type=int, default=None, help="use only the first N images")
    parser.add_argument(
        "--modes",
        default=",".join(MODES),
        help=f"comma list of {tuple(MODES)} (default all; the fastest is the limit)",
    )
    args = parser.parse_args()
    modes_asked = [m for m in args.modes.split(",") if m]
    if not modes_asked or set(modes_asked) - set(MODES):
        parser.error(f"--modes: choose from {tuple(MODES)}; got {args.modes!r}")

    model = common.create_lite0(num_classes=0).eval()
    cfg = common.data_config(model)
    paths, _ = common.list_images(args.data / args.split)
    paths = paths[: args.limit]
    start = time.perf_counter()
    x = decode(paths, args.image_size, cfg["mean"], cfg["std"])
    decode_seconds = time.perf_counter() - start
    common.log(f"decoded {len(x)} images in {decode_seconds:.1f}s")

    modes = {}
    for name in modes_asked:
        memory_format, dtype = MODES[name]
        seconds, cpu = forward_all(model, x, args.batch_size, memory_format, dtype)
        modes[name] = {
            "seconds": round(seconds, 2),
            "cpu_seconds": round(cpu, 2),
            "images_per_second": round(len(x) / seconds, 1),
        }
        common.log(f"{name}: {modes[name]}")
    best = max(modes, key=lambda m: modes[m]["images_per_second"])
    common.emit(
        {
            "runner": "bare-forward",
            "recipe": f"headless {common.BACKBONE}, inference_mode, batch {args.batch_size}",
            "split": args.split,
            "n_images": len(x),
            "image_size": args.image_size,
            "decode_seconds": round(decode_seconds, 2),
            "modes": modes,
            "best_mode": best,
            "wall_seconds": modes[best]["seconds"],
            "images_per_second": modes[best]["images_per_second"],
        }
    )


if __name__ == "__main__":
    main()
