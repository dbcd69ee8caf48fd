"""One evaluation pass whose batches are right at first and then never right, not even in the
top five: the labels of the later batches index other outputs than the model's classes.

Evaluation loaders read their data in a fixed order, a folder's files class after class, so a
batch holds one class or a few. A model that has learned the task gets every class's batches
mostly right; a weak one gets them all somewhat wrong. A model whose first batches score 90%
top-1 while whole later batches score 0% top-1 *and* 0% top-5 ranks the true class below five
others for every image of those classes: it is sure of some class, and the label says another.
That is what a class index shifted between training and evaluation gives (a class folder empty
or missing in the evaluation split numbers every later class one lower; another class order):
the classes before the shift still match, the ones after never do.
"""

from __future__ import annotations

import re

from graftlab.doctor._checks import declare, make
from graftlab.doctor._logrows import ParsedLog
from graftlab.doctor._logtools import training_step
from graftlab.doctor.findings import Finding

declare(
    "GL447",
    "label-order-mismatch",
    "warning",
    "log",
    "Within one evaluation, early batches are right and later ones score 0% top-1 and top-5",
)

_NUM = r"\d{1,7}(?:\.\d{1,12})?"
#: The batch counter of a step line: ``Test: [ 38/76]``, ``Test: [38/76]``.
_STEP = re.compile(r"\[\s*(\d{1,7})\s*/\s*(\d{1,7})\s*\]")
#: This batch's value and the running mean: ``Acc@1:  94.12 ( 97.01)``, ``Prec@1 6.250 (6.250)``.
_TOP1 = re.compile(rf"(?:Acc@1|Prec@1|acc1|top1)\s*:?\s*({_NUM})\s*\(\s*({_NUM})\s*\)", re.I)
_TOP5 = re.compile(rf"(?:Acc@5|Prec@5|acc5|top5)\s*:?\s*({_NUM})\s*\(\s*({_NUM})\s*\)", re.I)
#: A batch this right is one whose labels agree with the model's classes.
_RIGHT = 0.5


def evaluation_passes(lines: list[str]) -> list[list[tuple[int, int, float, float]]]:
    """Evaluation passes as lists of ``(line, batch, top-1, top-5)``; a new pass starts where
    the batch counter goes back."""
    passes: list[list[tuple[int, int, float, float]]] = []
    for i, line in enumerate(lines, 1):
        step, top1, top5 = _STEP.search(line), _TOP1.search(line), _TOP5.search(line)
        if not (step and top1 and top5) or training_step(line):
            continue  # a training script's step lines are batches of training, not evaluation
        row = (i, int(step[1]), float(top1[1]), float(top5[1]))
        if not passes or row[1] <= passes[-1][-1][1]:
            passes.append([])
        passes[-1].append(row)
    return passes


def batches_never_right(log: ParsedLog) -> list[Finding]:
    """GL447 from the step lines of an evaluation pass (timm, DeiT, the PyTorch examples)."""
    for rows in evaluation_passes(log.lines):
        if len(rows) < 3:
            continue
        scale = 100.0 if max(max(r[2], r[3]) for r in rows) > 1 else 1.0
        right = next((r for r in rows if r[2] / scale >= _RIGHT), None)
        if right is None:
            continue
        never = [r for r in rows if r[1] > right[1] and r[2] == 0 and r[3] == 0]
        if not never:
            continue
        cited = [right, never[0]]
        evidence = "\n".join(
            f"  line {r[0]:>4} | {log.lines[r[0] - 1].strip()[:160]}" for r in cited
        )
        return [
            make(
                "GL447",
                title=(
                    f"Batch {right[1]} of the evaluation scores {right[2] / scale:.0%} top-1, "
                    f"batch {never[0][1]} and {len(never) - 1} more score 0% top-1 and top-5"
                ),
                evidence=evidence
                + f"\n{len(never)} of {len(rows)} batches printed: not one true label among "
                "the model's five most likely classes",
                explanation="Evaluation loaders read the data in a fixed order, class after "
                "class, so a batch holds one class or a few. A model that learned the task "
                "gets each class's batches mostly right, and a weak one gets all of them partly "
                "right; one that is right on the first batches and, on whole later batches, "
                "never ranks the true class among its five best is sure of some class while "
                "the label names another. That is a class index that differs between training "
                "and evaluation: a class folder empty or missing in the evaluation split "
                "numbers every class after it one lower (ImageFolder-style parsers number the "
                "classes they find), or the evaluation labels follow another class order "
                "(inferred from the batch values; the data and the loader are not in the log).",
                fix="Number the evaluation classes with the training mapping: pass the "
                "training dataset's class_to_idx (timm: --class-map) to the evaluation dataset, "
                "and check that every class folder of the evaluation split holds images.",
            )
        ]
    return []
