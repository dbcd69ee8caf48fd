"""An accuracy that the loss of the same epoch rules out: the metric does not count what the
loss scores.

A wrong prediction puts at most half of its probability on the true class, so its
cross-entropy (softmax over K classes, or binary per output) is at least ln 2. Averaged over the
samples an accuracy is counted on, the loss is therefore at least ln 2 x (1 - accuracy):

    accuracy >= 1 - loss / ln 2

Weight penalties and label smoothing only raise the loss, and the bound is linear, so it holds
for the running means a progress bar prints too. An accuracy far below it, epoch after epoch,
is not computed from the predictions the loss sees: a count of correct predictions divided by
an integer in integer arithmetic (0 in every epoch), predictions compared with labels of
another shape or order, the accuracy of another output. Or the loss is not the mean
cross-entropy of those samples (divided by gradient-accumulation steps, a focal loss): then the
printed loss is what misleads.
"""

from __future__ import annotations

import math
from dataclasses import replace

from graftlab.doctor._checks import declare, make
from graftlab.doctor._logparse import EpochRow, ParsedLog
from graftlab.doctor._logutil import _cites, _fmt, _phase_label
from graftlab.doctor.findings import Finding

declare(
    "GL438",
    "other",
    "warning",
    "log",
    "Accuracy below what the loss allows (accuracy >= 1 - loss/ln 2): the metric is computed wrong",
)

#: How far below the bound an epoch's accuracy must be to count (last-batch losses are noisy).
MARGIN = 0.15
#: A loss that never reaches this is not on a cross-entropy's scale (a squared error is).
MIN_CE_LOSS = math.log(2) / 2


_Pairs = list[tuple[EpochRow, float, float]]


def _pairs(rows: list[EpochRow], split: str) -> _Pairs:
    out = []
    for r in rows:
        loss, acc = r.values.get(f"{split}_loss"), r.values.get(f"{split}_accuracy")
        if loss is None or acc is None or not (math.isfinite(loss) and math.isfinite(acc)):
            continue
        if loss >= 0 and 0 <= acc <= 1:
            out.append((r, loss, acc))
    return out


def accuracy_below_loss_bound(log: ParsedLog, broken: set[int]) -> tuple[list[Finding], ParsedLog]:
    """GL438, and the log without the accuracies it rules out (the checks that read an
    accuracy must not diagnose a number that is not one)."""
    found: list[Finding] = []
    wrong: set[tuple[int, str]] = set()
    for rows in log.phases():
        phase = rows[0].phase
        if phase in broken:
            continue
        if _binary_scale(log, rows):
            continue
        hits = {s: h for s in ("train", "val") if (h := _below(rows, s, MARGIN)) is not None}
        if not hits:
            continue
        for split in {"train", "val"} - set(hits):
            # The same code computes both accuracies: below the bound at all is enough.
            if (h := _below(rows, split, 0.0)) is not None:
                hits[split] = h
        wrong |= {(phase, f"{s}_accuracy") for s in hits}
        if not found:
            found.append(_finding(log, rows, dict(sorted(hits.items(), key=_train_first))))
    if not wrong:
        return [], log
    rows = [
        replace(r, values={k: v for k, v in r.values.items() if (r.phase, k) not in wrong})
        for r in log.rows
    ]
    return found, replace(log, rows=rows)


def _below(rows: list[EpochRow], split: str, margin: float) -> tuple[_Pairs, _Pairs] | None:
    """(every epoch's (row, loss, accuracy), those below the bound by more than ``margin``)
    when those are most of the epochs whose loss bounds the accuracy, else None."""
    pairs = _pairs(rows, split)
    if len(pairs) < 2 or max(loss for _, loss, _ in pairs) < MIN_CE_LOSS:
        return None
    accs = [acc for _, _, acc in pairs]
    if max(accs) - min(accs) < 5e-5 and 0 < accs[0] < 1:
        return None  # constant and not 0: a one-unit softmax's share (GL405 reads it)
    # epochs whose loss bounds the accuracy at all (early ones, above ln 2, do not)
    telling = [(r, loss, acc) for r, loss, acc in pairs if _bound(loss) > MARGIN]
    below = [(r, loss, acc) for r, loss, acc in telling if acc < _bound(loss) - margin]
    return (pairs, below) if len(below) >= max(2, len(telling) / 2) else None


def _binary_scale(log: ParsedLog, rows: list[EpochRow]) -> bool:
    """K >= 3 classes and a first training loss already below min(ln K / 2, ln 2): a binary
    cross-entropy averaged over K yes/no units, beside a categorical accuracy (GL416 reads it),
    not an accuracy computed wrong."""
    k = log.num_classes
    first = next((r.values["train_loss"] for r in rows if "train_loss" in r.values), None)
    if k is None or k < 3 or first is None:
        return False
    return first < min(0.5 * math.log(k), math.log(2) + 0.05)


def _train_first(item: tuple[str, object]) -> int:
    return 0 if item[0] == "train" else 1


def _bound(loss: float) -> float:
    return 1 - loss / math.log(2)


def _finding(
    log: ParsedLog, rows: list[EpochRow], hits: dict[str, tuple[_Pairs, _Pairs]]
) -> Finding:
    names = {"train": "training", "val": "validation"}
    split, (_, below) = next(iter(hits.items()))
    r, loss, acc = max(below, key=lambda b: _bound(b[1]) - b[2])
    both = " (validation too)" if len(hits) == 2 else ""
    zero = all(a == 0 for p, _ in hits.values() for _, _, a in p)
    cols = [c for s in hits for c in (f"{s}_loss", f"{s}_accuracy")]
    title = (
        f"{names[split].capitalize()} accuracy {_fmt(acc)} with a loss of {_fmt(loss)} "
        f"(epoch {r.epoch}){both}: a cross-entropy that low means at least "
        f"{_fmt(_bound(loss))} of the predictions are right" + _phase_label(log, rows[0].phase)
    )
    lines = []
    for s_, (p, b) in hits.items():
        far = sum(a < _bound(lo) - MARGIN for _, lo, a in b)
        lines.append(
            f"{names[s_]}: {far} of {len(p)} epochs below 1 - loss / ln 2 by more than {MARGIN}"
            + (
                f" (epoch {r.epoch}: 1 - {_fmt(loss)} / 0.6931 = {_fmt(_bound(loss))})"
                if s_ == split
                else f", {len(b)} below it (the same code computes both accuracies)"
            )
        )
    evidence = (
        _cites([q for q in rows if any(c in q.values for c in cols)], *cols)
        + "\n"
        + "\n".join(lines)
        + "\ninferred: the loss is the mean cross-entropy of the samples the accuracy counts"
    )
    explanation = (
        "A wrong prediction gives the true class at most half of the probability, so its "
        "cross-entropy is at least ln 2 = 0.693; a mean loss L therefore allows at most "
        "L / ln 2 of the predictions to be wrong. The accuracy printed is far below that in "
        "most epochs, so it is not counting the predictions the loss is computed on. The "
        "usual causes: a count of correct predictions (an integer tensor) divided by the "
        "number of samples in integer arithmetic, which gives 0"
        + (" (as here: 0 in every epoch)" if zero else "")
        + "; predictions compared with labels of another shape (N vs N x 1 broadcasts to "
        "an N x N comparison) or of another order; the count divided by the wrong total. "
        "Decisions taken on this number (the best checkpoint, early stopping) are "
        "taken on noise. If the printed loss is not the mean cross-entropy (a loss divided by "
        "gradient-accumulation steps, a focal or squared-error loss), the bound does not "
        "apply and the accuracy may be right."
    )
    fix = (
        "# Count in floating point, over the samples the loss is averaged over:\n"
        "correct += (outputs.argmax(1) == labels.view(-1)).sum().item()   # a Python int\n"
        "total += labels.size(0)\n"
        "epoch_acc = correct / total   # or running_corrects.double() / dataset_size"
    )
    return make(
        "GL438",
        title=title,
        evidence=evidence,
        explanation=explanation,
        fix=fix,
        references=["https://pytorch.org/docs/stable/generated/torch.div.html"],
    )
