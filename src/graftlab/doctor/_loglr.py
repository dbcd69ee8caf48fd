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


declare(
    "GL450",
    "learning-rate",
    "warning",
    "log",
    "Training learned, then fell back to chance and stayed there: the learning rate is too high",
)

#: The last epochs read as "stayed there"; fewer could be a passing bad epoch.
MIN_TAIL = 3
#: "Flat": the tail's training losses within this share of their mean (plus a rounding slack).
FLAT = 0.01
#: "At ln K": the tail's loss within this share of ln K for a whole K >= 2.
AT_LN_K = 0.03
#: "Learned before": the lowest earlier loss at most this share of the tail's, and the best
#: earlier accuracy (when logged) this far above chance.
LEARNED_LOSS, LEARNED_ACC = 0.5, 0.30


def collapsed_to_chance(log: ParsedLog, fw: str) -> list[Finding]:
    """GL450: a phase whose training loss came well below ln K and whose last epochs sit flat
    at ln K with accuracy at 1/K: the uniform output a run falls back to when updates too
    large throw the weights out of the basin they had found (the loss does not explode, the
    output saturates to one constant distribution)."""
    for rows in log.phases():
        rows = [r for r in rows if _finite_loss(r)]
        if len(rows) < MIN_TAIL + 2:
            continue
        tail, before = rows[-MIN_TAIL:], rows[:-MIN_TAIL]
        losses = [r.values["train_loss"] for r in tail]
        mean = sum(losses) / len(losses)
        if mean <= 0 or max(losses) - min(losses) > FLAT * mean + 1e-3:
            continue
        k = log.num_classes or round(math.exp(mean))
        if k < 2 or abs(mean - math.log(k)) > AT_LN_K * math.log(k):
            continue
        low = min(r.values["train_loss"] for r in before)
        if low > LEARNED_LOSS * mean:
            continue
        accs = [r.values.get("train_accuracy") for r in rows]
        best = max((a for a in accs[:-MIN_TAIL] if a is not None), default=None)
        if accs[-1] is not None and (
            abs(accs[-1] - 1 / k) > 0.03 or best is None or best < 1 / k + LEARNED_ACC
        ):
            continue
        return [_collapse_finding(rows, before, tail, k, low, best, fw)]
    return []


def _finite_loss(row: EpochRow) -> bool:
    value = row.values.get("train_loss")
    return value is not None and math.isfinite(value)


def _collapse_finding(
    rows: list[EpochRow],
    before: list[EpochRow],
    tail: list[EpochRow],
    k: int,
    low: float,
    best: float | None,
    fw: str,
) -> Finding:
    at_low = next(r for r in before if r.values["train_loss"] == low)
    last = tail[-1].values
    acc = f", training accuracy {last['train_accuracy']:.4f}" if "train_accuracy" in last else ""
    peak = f", training accuracy up to {best:.4f}" if best is not None else ""
    evidence = (
        f"line {at_low.line}: epoch {at_low.epoch}, training loss {low:.4f}{peak}\n"
        f"line {tail[0].line}-{tail[-1].line}: epochs {tail[0].epoch}-{tail[-1].epoch}, "
        f"training loss {last['train_loss']:.4f}{acc}; ln {k} = {math.log(k):.4f}, chance "
        f"1/{k} = {1 / k:.4f}"
    )
    if fw == "keras":
        fix = (
            "# A rate 3-10x lower (1e-3 -> 1e-4; 1e-5 for unfrozen pretrained layers):\n"
            "model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-4), ...)\n"
            "# and keep the best weights: ModelCheckpoint(save_best_only=True)"
        )
    else:
        fix = (
            "# A rate 3-10x lower (1e-3 -> 1e-4; 1e-5 for pretrained layers), clipped steps:\n"
            "optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)\n"
            "torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)  # before optimizer.step()"
        )
    return make(
        "GL450",
        evidence=evidence,
        explanation=(
            f"The training loss came down to {low:.4f}, so the model and the labels could be "
            f"learned; then it went back to ln {k} and stayed there, flat, with the accuracy at "
            f"1/{k}: the network now gives every image the same uniform output. A run falls "
            "back like this when updates grow too large for the weights they had found (dead "
            "units, saturated outputs) and then cannot climb out. The usual cause is a "
            "learning rate too high for the stage of training (SGD at 1e-2 on a fine-tuned "
            "network, a rate kept after unfreezing); a lower rate, or a schedule that lowers "
            "it, keeps what was learned."
        ),
        fix=fix,
    )
