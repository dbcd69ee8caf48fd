"""What the within-epoch records say when the epoch lines do not: a loss that explodes between
two step prints (``epoch 3 step 45 loss 2645.69``) while the epoch lines hold only validation.

A cross-entropy starts near ln K and a working run brings it down; a printed training loss
that jumps a hundredfold above everything before it, to values no classifier's loss reaches,
and stays there, is the optimiser throwing the weights out. Where the jump sits right after a
line announcing a second phase (unfreezing), the learning rate of that phase is the likely
cause.
"""

from __future__ import annotations

import math
import statistics

from graftlab.doctor import _checks as fixes
from graftlab.doctor._checks import REFS, make
from graftlab.doctor._logparse import ParsedLog, StepRow
from graftlab.doctor._logutil import _cites, _finite, _fmt
from graftlab.doctor.findings import Finding

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
    after_unfreeze = phase >= 2 and bool(before) and phase not in broken
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
