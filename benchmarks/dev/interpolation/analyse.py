"""Dev-draw analysis behind ``graftlab.train.INTERPOLATE_ALPHA`` and the three-way selection.

Reads ``wise.npz`` (val/test logits of the weights at alpha 0, 0.25, 0.5, 0.75, 1 between the
probe's model and the fine-tuned one) of every run under ``OUT/runs/train``, written by a copy
of src/graftlab/train.py at 8c9d703 patched with ``record_alphas.patch``, and prints each run's
test metric per alpha and, per selection rule, the mean and worst difference to the probe.
See README.md beside this file.

    python benchmarks/dev/interpolation/analyse.py OUT
"""

import glob
import json
import sys
from pathlib import Path

import numpy as np

from graftlab.finetune import selection as noise

def softmax(z):
    z = z - z.max(1, keepdims=True); e = np.exp(z); return e / e.sum(1, keepdims=True)

def metric(p, y, m):
    pred = p.argmax(1)
    if m == "balanced_accuracy":
        return float(np.mean([(pred[y == c] == c).mean() for c in np.unique(y)]))
    return float((pred == y).mean())

A = (0.0, 0.25, 0.5, 0.75, 1.0)
rows = []
for f in sorted(glob.glob(sys.argv[1] + "/runs/train/*/wise.npz")):
    run = Path(f).parent
    s = json.load(open(run / "summary.json"))
    m = s["monitor"]
    d = np.load(f)
    yv, yt = d["y_val"], d["y_test"]
    pv = {a: softmax(d[f"val_{a}"]) for a in A}
    pt = {a: softmax(d[f"test_{a}"]) for a in A}
    tv = {a: metric(pt[a], yt, m) for a in A}
    vv = {a: metric(pv[a], yv, m) for a in A}
    sel = s["selected"]
    cur = tv[1.0] if sel == "finetune" else tv[0.0]
    rule = {}
    rule["current"] = cur
    rule["a0.5"] = tv[0.5]
    c = noise.compare(pv[1.0], pv[0.0], yv, m)
    c5 = noise.compare(pv[0.5], pv[0.0], yv, m)
    rule["tie->0.5"] = tv[1.0] if c.winner == "finetune" else (tv[0.0] if c.diff < -noise.Z * c.se else tv[0.5])
    rule["cmp0.5"] = tv[0.5] if c5.winner == "finetune" else tv[0.0]
    rule["ft-or-0.5"] = tv[1.0] if c.winner == "finetune" else tv[0.5]
    cfm = noise.compare(pv[1.0], pv[0.5], yv, m)
    rule["b:ft>mid>probe"] = tv[1.0] if cfm.winner == "finetune" else (tv[0.5] if c5.winner == "finetune" else tv[0.0])
    rule["c:mid-unless-worse"] = tv[0.0] if c5.diff < -noise.Z * c5.se else tv[0.5]
    rule["d:b-with-c"] = tv[1.0] if cfm.winner == "finetune" else (tv[0.0] if c5.diff < -noise.Z * c5.se else tv[0.5])
    if cfm.diff > noise.Z * cfm.se and c.winner == "finetune":
        e = tv[1.0]
    elif not (c5.diff < -noise.Z * c5.se):
        e = tv[0.5]
    else:
        e = tv[1.0] if c.winner == "finetune" else tv[0.0]
    rule["E:impl"] = e
    rule["a0.25"] = tv[0.25]
    rule["a0.75"] = tv[0.75]
    rows.append((run.name, m, tv, vv, rule))
    print(f"{run.name:28s} sel={sel:8s} test " + " ".join(f"{tv[a]:.4f}" for a in A) + "  val " + " ".join(f"{vv[a]:.3f}" for a in A))
print()
names = list(rows[0][4]) if rows else []
for n in names:
    diffs = [r[4][n] - r[2][0.0] for r in rows]
    print(f"{n:12s} mean vs probe {np.mean(diffs)*100:+.2f} pt  worst {min(diffs)*100:+.2f}  " + " ".join(f"{x*100:+.1f}" for x in diffs))
