"""A learning rate too high to learn at: the training loss stays where it started for epochs at
one rate, then falls at once when a schedule (ReduceLROnPlateau, a step decay) lowers the rate.

The usual step schedule looks different: the loss falls at the first rate too, and a cut only
adds a smaller drop. Here the first rate taught nothing at all (the loss never leaves its first
values), so the rate, not the data or the model, held training back; everything spent at it is
lost, and a run without a schedule would have stayed there.
"""

from __future__ import annotations

import math

from graftlab.doctor._checks import declare, make
from graftlab.doctor._logparse import EpochRow, ParsedLog
from graftlab.doctor.findings import Finding

declare(
    "GL448",
    "learning-rate",
    "warning",
    "log",
    "Training learns nothing until the learning rate is lowered: the first rate is too high",
)

#: Epochs at the first rate with no progress before the cut; fewer say little.
MIN_STALLED = 3
#: "No progress": the training loss stays above this share of its first value at the first rate.
STALL = 0.9
#: The cut: the new rate at most this share of the old one.
CUT = 0.5
#: "Falls at once": within two epochs of the cut the loss is at most this share of before it.
DROP = 0.6
#: Training accuracy, when logged, moves less than this at the first rate and more after.
ACC_FLAT, ACC_RISE = 0.05, 0.15


def stalled_until_cut(log: ParsedLog, fw: str) -> list[Finding]:
    """GL448: a flat training loss at the first learning rate that drops right after a cut.
    A phase at chance before the cut is what this check reads, so phases other checks set
    aside as stuck are not skipped."""
    out: list[Finding] = []
    for rows in log.phases():
        if not rows:
            continue
        hit = _stall(rows)
        if hit is not None:
            out.append(_finding(rows, *hit, fw))
            break
    return out


def _stall(rows: list[EpochRow]) -> tuple[int, float, float] | None:
    """(index of the first epoch at the lower rate, old rate, new rate) or None."""
    lrs = [r.values.get("lr") for r in rows]
    losses = [r.values.get("train_loss") for r in rows]
    if any(v is None or not math.isfinite(v) for v in lrs + losses):
        return None
    cut = next(
        (i for i in range(1, len(rows)) if 0 < lrs[i] <= CUT * lrs[i - 1]),
        None,
    )
    if cut is None or cut < MIN_STALLED or any(lrs[j] != lrs[0] for j in range(cut)):
        return None
    first, before = losses[0], losses[:cut]
    if first <= 0 or min(before) < STALL * first:
        return None  # the first rate taught something: an ordinary step schedule
    after = losses[cut : cut + 2]
    if min(after) > DROP * losses[cut - 1]:
        return None
    accs = [r.values.get("train_accuracy") for r in rows]
    if all(a is not None for a in accs[: cut + 2]):
        if max(accs[:cut]) - min(accs[:cut]) > ACC_FLAT:
            return None
        if max(accs[cut : cut + 2]) - accs[cut - 1] < ACC_RISE:
            return None
    return cut, lrs[cut - 1], lrs[cut]


def _finding(rows: list[EpochRow], cut: int, old: float, new: float, fw: str) -> Finding:
    before, at = rows[cut - 1], rows[cut]
    lb, la = before.values["train_loss"], at.values["train_loss"]
    acc = ""
    if "train_accuracy" in before.values and "train_accuracy" in at.values:
        acc = (
            f", training accuracy {before.values['train_accuracy']:.3f} -> "
            f"{at.values['train_accuracy']:.3f}"
        )
    evidence = (
        f"line {rows[0].line}-{before.line}: {cut} epochs at lr={old:g}, training loss "
        f"{rows[0].values['train_loss']:.4f} ... {lb:.4f} (no progress)\n"
        f"line {at.line}: lr={new:g}, training loss {la:.4f}{acc}"
    )
    if fw == "keras":
        fix = (
            f"# Start at the rate that learns (about {new:g}, or lower for fine-tuning):\n"
            f"model.compile(optimizer=keras.optimizers.Adam(learning_rate={new:g}), ...)\n"
            "# keep ReduceLROnPlateau for the later plateau, not to find the first rate"
        )
    else:
        fix = (
            f"# Start at the rate that learns (about {new:g}; lower still for pretrained layers):\n"
            f"optimizer = torch.optim.SGD(params, lr={new:g}, momentum=0.9)  # or AdamW(lr=1e-4)\n"
            "# keep the scheduler for the later plateau, not to find the first rate"
        )
    return make(
        "GL448",
        evidence=evidence,
        explanation=(
            f"For {cut} epochs at lr={old:g} the training loss never fell below "
            f"{STALL:.0%} of its first value, then it fell to {la / lb:.0%} of its last value "
            f"within the first epochs at lr={new:g}. Steps that large overshoot the minimum "
            "the new head (or the fine-tuned layers) is heading for, so nothing is learned "
            "until the schedule lowers the rate; the epochs before the cut are wasted, and "
            "without the schedule the run would have stayed at chance."
        ),
        fix=fix,
    )
