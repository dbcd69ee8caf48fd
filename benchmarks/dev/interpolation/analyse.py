"""Dev-draw analysis behind ``graftlab.train.INTERPOLATE_ALPHA`` and the three-way selection.

Reads ``wise.npz`` (val/test logits of the weights at alpha 0, 0.25, 0.5, 0.75, 1 between the
probe's model and the fine-tuned one) of every run under ``OUT/runs/train``, written by a copy
of src/graftlab/train.py at 8c9d703 patched with ``record_alphas.patch``, and prints each run's
test metric per alpha and, per selection rule, the mean and worst difference to the probe.
See README.md beside this file.

    PYTHONPATH=src python benchmarks/dev/interpolation/analyse.py OUT
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from graftlab.finetune import selection as noise

ALPHAS = (0.0, 0.25, 0.5, 0.75, 1.0)


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def metric(p: np.ndarray, y: np.ndarray, name: str) -> float:
    pred = p.argmax(1)
    if name == "balanced_accuracy":
        return float(np.mean([(pred[y == c] == c).mean() for c in np.unique(y)]))
    return float((pred == y).mean())


def rules(pv: dict, tv: dict, yv: np.ndarray, m: str) -> dict[str, float]:
    """Test metric of the model each selection rule exports, from validation only."""
    ft_probe = noise.compare(pv[1.0], pv[0.0], yv, m)
    mid_probe = noise.compare(pv[0.5], pv[0.0], yv, m)
    ft_mid = noise.compare(pv[1.0], pv[0.5], yv, m)
    mid_worse = mid_probe.diff < -noise.Z * mid_probe.se
    two_way = tv[1.0] if ft_probe.winner == "finetune" else tv[0.0]
    if ft_mid.diff > noise.Z * ft_mid.se and ft_probe.winner == "finetune":
        adopted = tv[1.0]
    else:
        adopted = two_way if mid_worse else tv[0.5]
    brier_end = tv[1.0] if ft_mid.winner == "finetune" else (tv[0.0] if mid_worse else tv[0.5])
    return {
        "two-way (8c9d703)": two_way,
        "alpha 0.5": tv[0.5],
        "alpha 0.25": tv[0.25],
        "alpha 0.75": tv[0.75],
        "adopted": adopted,
        "Brier ties to the end": brier_end,
    }


def main(out: str) -> None:
    rows = []
    for f in sorted(Path(out, "runs", "train").glob("*/wise.npz")):
        summary = json.loads((f.parent / "summary.json").read_text())
        m = summary["monitor"]
        d = np.load(f)
        yv, yt = d["y_val"], d["y_test"]
        pv = {a: softmax(d[f"val_{a}"]) for a in ALPHAS}
        tv = {a: metric(softmax(d[f"test_{a}"]), yt, m) for a in ALPHAS}
        vv = {a: metric(pv[a], yv, m) for a in ALPHAS}
        rows.append((tv, rules(pv, tv, yv, m)))
        test = " ".join(f"{tv[a]:.4f}" for a in ALPHAS)
        val = " ".join(f"{vv[a]:.3f}" for a in ALPHAS)
        print(f"{f.parent.name:28s} {summary['selected']:9s} test {test}  val {val}")
    print()
    for name in rows[0][1] if rows else ():
        diffs = [100 * (r[name] - tv[0.0]) for tv, r in rows]
        each = " ".join(f"{x:+.1f}" for x in diffs)
        print(f"{name:24s} mean {np.mean(diffs):+.2f} pt  worst {min(diffs):+.2f}  {each}")


if __name__ == "__main__":
    main(sys.argv[1])
