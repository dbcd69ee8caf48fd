"""One fine-tuning step under each execution graftlab can pick, measured side by side.

    python benchmarks/train_step.py                 # lite0, 112 px, batch 32: about 5 minutes
    python benchmarks/train_step.py --size 224 --batch 32 --rounds 5

A step is what graftlab's trainer does per batch in lp-ft: forward of the whole network,
cross-entropy, backward, AdamW. The variants:

  fp32                 float32, NCHW
  fp32+cl              float32, channels_last
  bf16+cl              bf16 autocast, channels_last
  fp32+cl+compile      float32, channels_last, torch.compile (its compile time on its own row)

Every variant trains its own copy of the packaged tf_efficientnet_lite0 on the same batches
(Fashion-MNIST images when the Debian package is there, else random pixels: the time of a
step does not depend on them). After warm-up, rounds visit the variants in turn, a few steps
each, and the table gives the median step, so a shared machine's noise falls on every variant
alike. This is the measurement behind graftlab's choice of training precision on a CPU (and
behind the default of --compile). Writes benchmarks/out/train_step.{json,md}.
"""

from __future__ import annotations

import argparse
import copy
import datetime
import json
import os
import platform
import statistics
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import torch
from PIL import Image

import graftlab
from graftlab.data.builtin import fashion_mnist_arrays
from graftlab.data.transforms import Preprocess
from graftlab.errors import DataError

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
VARIANTS = ("fp32", "fp32+cl", "bf16+cl", "fp32+cl+compile")


def batches(pre: Preprocess, n: int, batch: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """``n`` normalised batches of real images when available, else random ones."""
    rng = np.random.default_rng(0)
    s = pre.store_size
    try:
        x, y = fashion_mnist_arrays("train")
        idx = rng.choice(len(x), n * batch, replace=False)
        u8 = np.stack(
            [np.asarray(Image.fromarray(x[i]).convert("RGB").resize((s, s))) for i in idx]
        )
        labels = y[idx]
    except DataError:  # no Debian dataset: pixels do not change the cost of a step
        u8 = rng.integers(0, 256, (n * batch, s, s, 3), dtype=np.uint8)
        labels = rng.integers(0, 10, n * batch)
    out = []
    for i in range(n):
        sl = slice(i * batch, (i + 1) * batch)
        out.append((pre.eval_batch(u8[sl]), torch.as_tensor(labels[sl], dtype=torch.long)))
    return out


class Variant:
    """A model copy with its optimizer, memory format and autocast: one training step."""

    def __init__(self, name: str, base: torch.nn.Module) -> None:
        self.name = name
        self.cl = "+cl" in name
        self.fmt = torch.channels_last if self.cl else torch.contiguous_format
        self.model = copy.deepcopy(base).to(memory_format=self.fmt).train()
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=1e-4)
        self.forward = torch.compile(self.model) if name.endswith("compile") else self.model
        self.bf16 = name.startswith("bf16")
        self.compile_seconds: float | None = None

    def step(self, x: torch.Tensor, y: torch.Tensor) -> float:
        t = time.perf_counter()
        ctx = torch.autocast("cpu", dtype=torch.bfloat16) if self.bf16 else nullcontext()
        with ctx:
            logits = self.forward(x.contiguous(memory_format=self.fmt))
            loss = torch.nn.functional.cross_entropy(logits.float(), y)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=112, help="input size (default 112)")
    parser.add_argument("--batch", type=int, default=32, help="batch size (graftlab's default)")
    parser.add_argument("--rounds", type=int, default=6, help="rounds over the variants")
    parser.add_argument("--steps", type=int, default=3, help="steps per variant and round")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    args = parser.parse_args()

    base = graftlab.create_backbone("tf_efficientnet_lite0", weights="packaged", num_classes=10)
    pre = Preprocess.from_model(base, image_size=args.size)
    data = batches(pre, args.steps, args.batch)
    variants = [Variant(name, base) for name in args.variants.split(",")]
    for v in variants:  # warm-up: first-call kernel selection, and compilation
        t = time.perf_counter()
        v.step(*data[0])
        if v.name.endswith("compile"):
            v.compile_seconds = time.perf_counter() - t
        for x, y in data[1:]:
            v.step(x, y)
        print(f"warmed up {v.name}", flush=True)
    times: dict[str, list[float]] = {v.name: [] for v in variants}
    for r in range(args.rounds):
        for v in variants[r % len(variants) :] + variants[: r % len(variants)]:
            times[v.name] += [v.step(x, y) for x, y in data]
        print(f"round {r + 1}/{args.rounds}", flush=True)

    fastest = min(statistics.median(t) for t in times.values())
    rows = [
        {
            "variant": v.name,
            "median_step_s": round(statistics.median(times[v.name]), 3),
            "images_per_second": round(args.batch / statistics.median(times[v.name]), 1),
            "vs_fastest": round(statistics.median(times[v.name]) / fastest, 2),
            "compile_s": None if v.compile_seconds is None else round(v.compile_seconds, 1),
        }
        for v in variants
    ]
    result = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="minutes"),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads",
        "setting": f"tf_efficientnet_lite0, {args.size} px, batch {args.batch}, whole network "
        f"trains, {args.rounds} rounds x {args.steps} steps",
        "rows": rows,
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }
    lines = [
        f"# Training step ({result['date']})",
        "",
        f"- {result['setting']}; {result['machine']}; load {result['loadavg']}",
        "",
        "| variant | median step s | img/s | / fastest | compile s |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        compiled = "" if r["compile_s"] is None else r["compile_s"]
        lines.append(
            f"| {r['variant']} | {r['median_step_s']} | {r['images_per_second']} | "
            f"{r['vs_fastest']}x | {compiled} |"
        )
    md = "\n".join(lines) + "\n"
    OUT.mkdir(exist_ok=True)
    (OUT / "train_step.json").write_text(json.dumps(result, indent=1) + "\n")
    (OUT / "train_step.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
