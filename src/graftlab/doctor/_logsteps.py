"""What the within-epoch records say when the epoch lines do not: a loss that explodes between
two step prints (``epoch 3 step 45 loss 2645.69``) while the epoch lines hold only validation.

A cross-entropy starts near ln K and a working run brings it down; a printed training loss
that jumps a hundredfold above everything before it, to values no classifier's loss reaches,
and stays there, is the optimiser throwing the weights out. Where the jump sits right after a
line announcing a second phase (unfreezing), the learning rate of that phase is the likely
cause.
"""

from __future__ import annotations

import itertools
import math
import statistics

from graftlab.doctor import _checks as fixes
from graftlab.doctor._checks import REFS, declare, make
from graftlab.doctor._logparse import ParsedLog, StepRow
from graftlab.doctor._logutil import _cites, _finite, _fmt
from graftlab.doctor.findings import Finding

declare(
    "GL452",
    "learning-rate",
    "warning",
    "log",
    "The training loss rises while the learning rate warms up: the peak rate is too high",
)

#: A jump this many times above the lowest loss printed before it.
JUMP = 100.0
#: The loss after the jump stays this many times above that low: not a single bad batch.
STAYS = 10.0


def _phase_of(log: ParsedLog, step: StepRow) -> int:
    """The phase of the first epoch line printed after the step (its epoch's line)."""
    for row in log.rows:
        if row.line >= step.line:
            return row.phase
    return log.rows[-1].phase if log.rows else 1


def step_explosion(log: ParsedLog, fw: str, broken: set[int]) -> list[Finding]:
    """GL408 (or GL417 right after a second phase starts) from step records: the training
    loss jumps 100x above its low so far, beyond any cross-entropy start, and stays up."""
    steps = [
        (s, s.values["train_loss"])
        for s in log.steps
        if math.isfinite(s.values.get("train_loss", math.nan))
    ]
    if len(steps) < 4:
        return []
    k = log.num_classes if log.num_classes and log.num_classes >= 2 else 10
    ceiling = max(100.0, 50 * math.log(k))
    low = steps[0][1]
    for i, (_, loss) in enumerate(steps[1:], 1):
        if low > 0 and loss >= JUMP * low and loss >= ceiling:
            after = [v for _, v in steps[i:]]
            if statistics.median(after) < STAYS * low:
                return []  # one bad batch that the run recovered from
            return [_finding(log, fw, broken, steps, i, low)]
        low = min(low, loss)
    return []


def _finding(
    log: ParsedLog,
    fw: str,
    broken: set[int],
    steps: list[tuple[StepRow, float]],
    i: int,
    low: float,
) -> Finding:
    step, loss = steps[i]
    phase = _phase_of(log, step)
    phases = log.phases()
    before = [s for s, _ in steps[:i] if _phase_of(log, s) < phase]
    epoch_row = next((r for r in log.rows if r.line >= step.line), None)
    early = epoch_row is not None and epoch_row in phases[phase - 1][:2]
    after_unfreeze = phase >= 2 and bool(before) and early and phase not in broken
    broken.add(phase)
    peak_step, peak = max(steps[i:], key=lambda sv: sv[1])
    shown = [*steps[max(0, i - 3) : i + 2]]
    if peak_step is not shown[-1][0]:
        shown.append((peak_step, peak))
    evidence = "\n".join(f"  line {s.line:>4} | {s.text[:120]}" for s, _ in shown)
    if after_unfreeze:
        val = [r for r, _ in _finite(phases[phase - 2][-1:] + phases[phase - 1], "val_accuracy")]
        if val:
            evidence += "\nvalidation:\n" + _cites(val, "val_accuracy", "val_loss")
    k = log.num_classes
    start = f"ln {k} = {math.log(k):.2f}" if k and k >= 2 else "ln K (6.9 for 1000 classes)"
    evidence += (
        f"\nthe loss was at most {_fmt(low)} before line {step.line}; a cross-entropy starts "
        f"near {start}"
    )
    where = f"right after phase {phase} starts" if after_unfreeze else f"at line {step.line}"
    title = (
        f"The training loss explodes {where}: from {_fmt(low)} to {_fmt(loss)}, up to {_fmt(peak)}"
    )
    explanation = (
        "A classification loss that jumps a hundredfold within a few batches and stays in the "
        "thousands means the updates threw the weights out of the region where the model "
        "worked; the accuracies after it say nothing about the data. The likely cause is the "
        "learning rate (inferred from the size of the jump): too high for the layers being "
        "trained"
    )
    if after_unfreeze:
        explanation += (
            ". The jump comes with the second phase: a rate that suited the new head, or a "
            "new optimiser's rate, is far too high for pretrained weights, which want 10-100x "
            "less than a head (and a barely trained head sends large gradients into them)."
        )
        fix = fixes.fix_unfreeze(fw) + "\n" + fixes.fix_divergence(fw).split("\n", 1)[1]
    else:
        explanation += "; also check for unscaled inputs (pixels in 0..255) and fp16 overflow."
        fix = fixes.fix_divergence(fw)
    return make(
        "GL417" if after_unfreeze else "GL408",
        title=title,
        evidence=evidence,
        explanation=explanation,
        fix=fix,
        references=[REFS["lp-ft"] if after_unfreeze else REFS["karpathy"], REFS["clipping"]],
        causes=["learning-rate"],
    )


def _first_epoch(log: ParsedLog, cols: tuple[str, ...] = ("train_loss", "train_accuracy")):
    """Step records of the first epoch that hold ``cols``: up to the first epoch line, one
    counter going up."""
    end = log.rows[0].line if log.rows else math.inf
    out: list[StepRow] = []
    for s in log.steps:
        if s.line > end or (out and s.step <= out[-1].step):
            break
        if all(math.isfinite(s.values.get(c, math.nan)) for c in cols):
            out.append(s)
    return out


def _window(a: StepRow, b: StepRow, col: str) -> float:
    """The mean of ``col`` over the batches between two running averages."""
    return (b.values[col] * b.step - a.values[col] * a.step) / (b.step - a.step)


def accuracy_collapse(log: ParsedLog, fw: str, broken: set[int]) -> list[Finding]:
    """GL432: within the first epoch the running training accuracy of a model that starts
    well (a pretrained one) falls to a third or less while the running loss triples: the
    updates undo what the model knew."""
    steps = _first_epoch(log)
    if len(steps) < 4 or (log.rows and log.rows[0].phase in broken):
        return []
    first, last = steps[0], steps[-1]
    a0, a1 = first.values["train_accuracy"], last.values["train_accuracy"]
    l0, l1 = first.values["train_loss"], last.values["train_loss"]
    mid = steps[len(steps) // 2]
    if not (a0 >= 0.3 and last.step > first.step and mid.step > first.step):
        return []
    acc_late = _window(mid, last, "train_accuracy")
    loss_late = _window(mid, last, "train_loss")
    # The running averages, or, when a long good start still holds them up, the batches of the
    # last quarter alone (from the averages printed at its two ends).
    tail = steps[-(len(steps) // 4 + 1)]
    acc_tail = _window(tail, last, "train_accuracy") if tail.step < last.step else a1
    loss_tail = _window(tail, last, "train_loss") if tail.step < last.step else l1
    if not (a1 <= a0 / 3 and l1 >= 3 * l0) and not (
        len(steps) >= 8 and acc_tail <= a0 / 3 and loss_tail >= 3 * l0 and a1 < a0 and l1 > l0
    ):
        return []
    if not a1 <= a0 / 3:
        acc_late, loss_late, mid = acc_tail, loss_tail, tail
    jumps = any(b.values["train_loss"] >= 10 * a.values["train_loss"]
                for a, b in itertools.pairwise(steps))  # fmt: skip
    one_class_runs = acc_late <= 0.02 and not jumps
    if log.rows:
        broken.add(log.rows[0].phase)
    evidence = "\n".join(f"  line {s.line:>4} | {s.text[:120]}" for s in [*steps[:3], last])
    evidence += (
        f"\nrunning averages: accuracy {a0:.4f} -> {a1:.4f}, loss {_fmt(l0)} -> {_fmt(l1)}; "
        f"over steps {mid.step}-{last.step} alone: accuracy {max(acc_late, 0):.4f}, loss "
        f"{_fmt(loss_late)}"
    )
    evidence += (
        "\nlikely cause (inferred): batches of one class in a row (accuracy near 0 on every "
        "batch, the loss rising steadily, without a jump), else a learning rate too high"
        if one_class_runs
        else "\nlikely cause (inferred): the learning rate, too high for the pretrained weights"
    )
    return [
        make(
            "GL432",
            title=f"Within the first epoch training accuracy falls from {a0:.4f} to {a1:.4f} "
            f"while the loss rises from {_fmt(l0)} to {_fmt(l1)}: the updates undo the "
            "pretrained model",
            evidence=evidence,
            explanation=(
                "A model that starts at this accuracy already knows the task (pretrained "
                "weights); training should keep or raise it. Here every few hundred batches "
                "make it worse, and by the end of the epoch it is wrong on nearly every batch. "
                + (
                    "Accuracy near 0 on every batch, with the loss rising steadily rather than "
                    "exploding, is what a loader without shuffling over data stored class by "
                    "class gives: each run of batches is one class, the model learns to predict "
                    "it, and is wrong on the next class's batches, over and over (DataLoader "
                    "without shuffle=True uses a SequentialSampler; Keras generators with "
                    "shuffle=False). A learning rate far too high for the pretrained weights is "
                    "the other cause of this curve."
                    if one_class_runs
                    else "The updates are too large for the pretrained weights: the learning "
                    "rate (or its warm-up) is far too high for fine-tuning."
                )
            ),
            fix=(
                "train_loader = DataLoader(train_set, batch_size=..., shuffle=True)  "
                "# or a DistributedSampler(shuffle=True)\n"
                "# Keras: flow_from_directory(..., shuffle=True); "
                "tf.data: ds.shuffle(buffer_size=len(files))\n"
                + fixes.fix_divergence(fw).split("\n", 1)[1]
                if one_class_runs
                else fixes.fix_divergence(fw)
            ),
            references=[REFS["lp-ft"], REFS["karpathy"]],
            causes=["no-shuffle", "learning-rate"] if one_class_runs else ["learning-rate"],
        )
    ]


def climbing_loss(log: ParsedLog, fw: str, broken: set[int]) -> list[Finding]:
    """GL408 for a loss that never comes down to where a cross-entropy starts and climbs: every
    printed training loss at least twice ln K, and the last third of them, in the median,
    three times their low and ten times ln K. A network that learns anything falls below
    ln K; one whose loss only grows from there is being thrown further out by each update."""
    records = [(s.line, s.text, s.values["train_loss"]) for s in log.steps
               if math.isfinite(s.values.get("train_loss", math.nan))]  # fmt: skip
    if len(records) < 5:
        records = [(r.line, log.lines[r.line - 1].strip(), v) for r, v in
                   _finite(log.rows, "train_loss")]  # fmt: skip
    if len(records) < 5 or any(r.phase in broken for r in log.rows):
        return []
    k = log.num_classes if log.num_classes and log.num_classes >= 2 else 10
    start = math.log(k)
    losses = [v for _, _, v in records]
    tail = losses[-max(2, len(losses) // 3) :]
    low = min(losses[: len(losses) - len(tail)])
    if min(losses) < 2 * start or statistics.median(tail) < max(3 * low, 10 * start):
        return []
    broken.update(r.phase for r in log.rows)
    i_low = losses.index(low)
    shown = [records[0], records[i_low], *records[-2:]]
    shown = list(dict.fromkeys(shown))
    evidence = "\n".join(f"  line {ln:>4} | {text[:120]}" for ln, text, _ in shown)
    k_text = f"ln {k} = {start:.2f}" + ("" if log.num_classes else " (K = 10 assumed)")
    evidence += (
        f"\nevery printed loss is above {_fmt(min(losses))}; a cross-entropy starts near "
        f"{k_text} and falls from there; the last {len(tail)} prints have a median of "
        f"{_fmt(statistics.median(tail))}, {statistics.median(tail) / low:.0f}x the low of "
        f"{_fmt(low)}\nlikely cause (inferred): updates too large for this model, the learning "
        "rate"
    )
    return [
        make(
            "GL408",
            title=f"The training loss never falls to ln {k} and climbs: from {_fmt(low)} to "
            f"{_fmt(losses[-1])}",
            evidence=evidence,
            explanation=(
                "A classifier with a new head starts at a cross-entropy near ln K and, if it "
                "learns anything, goes below it. This loss is far above that value from the "
                "first print and keeps rising: the first updates already threw the weights out "
                "of the region where the (pretrained) model worked, and each update throws them "
                "further. The learning rate is too high for the layers being trained (all "
                "layers of a pretrained network want 10-100x less than a new head); also check "
                "for inputs that are not scaled (pixels in 0..255) and fp16 overflow."
            ),
            fix=fixes.fix_divergence(fw),
            references=[REFS["karpathy"], REFS["clipping"]],
            causes=["learning-rate"],
        )
    ]


#: A warm-up: the rate at the last step print of the first epoch is this many times the first.
WARMUP = 5.0
#: "Climbs": the training loss ends this share above its first print ...
CLIMB = 1.03
#: ... and never went below this share of it (nothing was learned on the way).
FELL = 0.97


def warmup_climb(log: ParsedLog, fw: str, broken: set[int]) -> list[Finding]:
    """GL452: over the first epoch's step prints the learning rate rises (a warm-up) and the
    training loss rises with it, from its first value and never below it. A network that can
    learn at the rates of the warm-up goes down from where it starts (ln K for a new head) as
    the rate grows; a loss that goes up instead is being pushed away by each larger step, and
    the rate the warm-up is heading for is higher still."""
    steps = _first_epoch(log, ("train_loss", "lr"))
    if len(steps) < 6 or (log.rows and log.rows[0].phase in broken):
        return []
    lrs = [s.values["lr"] for s in steps]
    losses = [s.values["train_loss"] for s in steps]
    l0 = losses[0]
    rising = all(b >= a * 0.999 for a, b in itertools.pairwise(lrs))
    if not (rising and lrs[0] > 0 and lrs[-1] >= WARMUP * lrs[0] and l0 > 0):
        return []
    tail = losses[-max(2, len(losses) // 3) :]
    if losses[-1] < CLIMB * l0 or min(losses) < FELL * l0 or statistics.median(tail) <= l0:
        return []
    later = [v for _, v in _finite(log.rows[1:], "train_loss")]
    if later and min(later) < 0.9 * l0:
        return []  # it came down once the warm-up ended: the rate was survivable
    top = max(range(len(losses)), key=losses.__getitem__)
    shown = [steps[i] for i in sorted({0, len(steps) // 2, top, len(steps) - 1})]
    evidence = "\n".join(f"  line {s.line:>4} | {s.text[:120]}" for s in shown)
    val = log.rows[0].values.get("val_loss") if log.rows else None
    worse = val is not None and math.isfinite(val) and val > 1.2 * l0
    if worse:
        evidence += (
            f"\n  line {log.rows[0].line:>4} | validation loss {_fmt(val)}, above the "
            f"{_fmt(l0)} the training loss started at"
        )
    evidence += (
        f"\nthe rate rises {lrs[-1] / lrs[0]:.0f}x ({lrs[0]:.3g} -> {lrs[-1]:.3g}) and the "
        f"training loss with it ({_fmt(l0)} -> {_fmt(losses[-1])}, never below {_fmt(min(losses))})"
    )
    return [
        make(
            "GL452",
            title=f"The training loss rises with the warm-up's learning rate: {_fmt(l0)} -> "
            f"{_fmt(losses[-1])} while lr goes {lrs[0]:.3g} -> {lrs[-1]:.3g}",
            evidence=evidence,
            explanation=(
                "During a warm-up the learning rate grows step by step toward its peak. A "
                "network that can learn at these rates goes down from where it starts (a "
                "cross-entropy near ln K for a new head or a model trained from scratch) as "
                "the rate grows; this loss never goes below its first value and climbs as the "
                "rate climbs, so each larger step pushes the weights further out, and the peak "
                "the warm-up is heading for is higher still."
                + (
                    " The validation loss is above the starting loss as well: the model is "
                    "now confidently wrong, worse than guessing."
                    if worse
                    else ""
                )
                + " A rate tuned for a larger total batch (a recipe's default scaled for 8 "
                "GPUs, run on fewer or with a smaller batch) is the usual cause: scale it "
                "linearly with the batch."
            ),
            fix=(
                "# Scale the recipe's rate to the batch you run (linear scaling rule):\n"
                "# lr = base_lr * total_batch / base_batch, e.g. 1.6e-3 * 256 / 1024 = 4e-4\n"
                + fixes.fix_divergence(fw)
            ),
            references=[REFS["karpathy"]],
        )
    ]
