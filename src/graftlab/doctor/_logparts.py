"""Overfitting read from a loss logged in parts (GL480).

Detectors and multi-task models log their loss as named parts on both splits, and often no
total for validation: YOLOv5/YOLOv8 ``results.csv`` (``train/box_loss`` ... ``val/cls_loss``),
YOLOv3/YOLOv5 ``results.txt`` (box or GIoU, objectness, classification), a Lightning or
TensorBoard export with ``train/loss_cls`` and ``val/loss_cls``. GL412 reads the total
validation loss; here a part is read the same way: its validation value bottoms out and rises
for the rest of the run while the same part on training keeps falling. One part that turns is
enough (the classification branch of a detector often overfits long before box regression
does), and it is that part the fix changes (its loss gain, or the data for its task).

The rule needs a sustained rise, not one bad epoch: the last epochs together well above the
minimum, most epochs after it above it, the run long enough after the minimum that it is
not a wobble near the end, and the rise still there at the end: a part that climbs early
(YOLO's validation objectness during warm-up) and falls back for the rest of the run has
not turned.
"""

from __future__ import annotations

import re
import statistics

from graftlab.doctor import _checks as fixes
from graftlab.doctor._checks import REFS, declare, make
from graftlab.doctor._logrows import PART_LOSS, EpochRow, ParsedLog
from graftlab.doctor._logutil import _cites, _finite, _fmt, _phase_label
from graftlab.doctor.findings import Finding

declare(
    "GL480",
    "overfitting",
    "warning",
    "log",
    "Overfitting in one part of the loss: its validation value turns up while training falls",
)

#: Epochs of the part's validation series, at least: a turn needs a run to turn in.
MIN_EPOCHS = 8
#: After the minimum: this many epochs, and this share of the series.
AFTER_EPOCHS = 3
AFTER_SHARE = 0.15
#: The median of the last epochs (up to :data:`TAIL`) at least this far above the minimum...
TAIL = 5
RISE = 1.15
#: ... and this share of the epochs after the minimum above it by :data:`KEPT`...
KEPT = 1.05
KEPT_SHARE = 0.8
#: ... and the last epochs still hold this share of the highest rise after the minimum.
HELD = 0.5
#: The same part on training, from the validation minimum to the end: falls by a tenth.
TRAIN_FALLS = 0.9
#: A validation score (a fraction) higher by more than this has gained, for the explanation.
SCORE_GAIN = 0.005


def _parts(rows: list[EpochRow]) -> list[str]:
    """The parts of the loss logged on both splits (``cls_loss`` for ``train_cls_loss`` and
    ``val_cls_loss``)."""
    cols = {c for r in rows for c in r.values}
    parts = (c.removeprefix("val_") for c in cols if c.startswith("val_"))
    return sorted(p for p in parts if PART_LOSS.fullmatch(p) and f"train_{p}" in cols)


def _turn(rows: list[EpochRow], part: str) -> tuple[float, EpochRow, EpochRow, float] | None:
    """(relative rise, row of the minimum, last row, training fall) when the part turns."""
    series = _finite(rows, f"val_{part}")
    n = len(series)
    if n < MIN_EPOCHS:
        return None
    i_best = min(range(n), key=lambda i: series[i][1])
    best_row, best = series[i_best]
    after = series[i_best + 1 :]
    if best <= 0 or len(after) < max(AFTER_EPOCHS, AFTER_SHARE * n):
        return None
    tail = statistics.median(v for _, v in after[-TAIL:])
    kept = sum(v >= best * KEPT for _, v in after)
    if tail < best * RISE or kept < KEPT_SHARE * len(after):
        return None
    if tail - best < HELD * (max(v for _, v in after) - best):
        return None  # it rose and has been falling back since: a hump, not a turn
    last_row = after[-1][0]
    t_best = best_row.values.get(f"train_{part}")
    t_last = last_row.values.get(f"train_{part}")
    if t_best is None or t_last is None or not t_best > 0 or t_last >= TRAIN_FALLS * t_best:
        return None  # training does not keep improving on this part: not a model fitting it
    return tail / best - 1, best_row, last_row, t_last / t_best


def _score(rows: list[EpochRow], best_row: EpochRow, last_row: EpochRow) -> str:
    """What the validation score (accuracy, else YOLO's mAP) says of the weights at the part's
    minimum against the last ones, for the explanation."""
    cols = sorted(c for c in last_row.values if c == "val_accuracy" or c.startswith("val_map"))
    col = "val_accuracy" if "val_accuracy" in cols else next(iter(cols), None)
    there, end = best_row.values.get(col or ""), last_row.values.get(col or "")
    if col is None or there is None or end is None:
        return (
            " The log has no validation score to weigh this against the other parts; the "
            "weights near that epoch are likely the better ones."
        )
    seen = f"{col} {_fmt(there)} at epoch {best_row.epoch}, {_fmt(end)} at the end"
    if end <= there + SCORE_GAIN:
        return (
            f" The validation score has not gained since ({seen}): the weights near that "
            "epoch are at least as good."
        )
    top_row, top = max(_finite(rows, col), key=lambda rv: rv[1])
    peak = f", best {_fmt(top)} at epoch {top_row.epoch}" if top > end + SCORE_GAIN else ""
    return (
        f" The validation score is higher at the end ({seen}{peak}): the other parts still "
        "gain more than this one loses, so keep the checkpoint of the best score rather "
        "than the one at this part's minimum, and rein in this part before it holds the "
        "score back."
    )


def part_turn(log: ParsedLog, fw: str, broken: set[int]) -> list[Finding]:
    """GL480, per phase: the part whose validation loss turns up most while its training loss
    falls; every part that turns is cited."""
    out = []
    for rows in log.phases():
        phase = rows[0].phase
        if phase in broken:
            continue
        turns = [(part, t) for part in _parts(rows) if (t := _turn(rows, part)) is not None]
        if not turns:
            continue
        turns.sort(key=lambda pt: -pt[1][0])
        part, (rise, best_row, last_row, fall) = turns[0]
        best = best_row.values[f"val_{part}"]
        name = re.sub(r"^loss_|_loss$", "", part)
        others = ", ".join(f"val_{p} +{t[0]:.0%}" for p, t in turns[1:])
        out.append(
            make(
                "GL480",
                title=(
                    f"Overfitting in the {name} part of the loss from epoch {best_row.epoch}: "
                    f"val_{part} bottoms at {_fmt(best)} and rises by {rise:.0%} while "
                    f"train_{part} keeps falling" + _phase_label(log, phase)
                ),
                evidence=(
                    f"val_{part} is lowest at epoch {best_row.epoch} (line {best_row.line}); "
                    f"after it train_{part} falls "
                    f"{_fmt(best_row.values[f'train_{part}'])} -> "
                    f"{_fmt(last_row.values[f'train_{part}'])} ({fall - 1:+.0%}) while "
                    f"val_{part} ends at {_fmt(last_row.values[f'val_{part}'])}"
                    + (f"; other parts that turn the same way: {others}" if others else "")
                    + ".\n"
                    + _cites([best_row, last_row], f"train_{part}", f"val_{part}")
                ),
                explanation=(
                    f"The loss is logged in parts; its {name} part keeps improving on the "
                    "training images and has got worse on the validation images since epoch "
                    f"{best_row.epoch}, for the rest of the run. That part of the model (for a "
                    "detector, the classification or objectness branch) memorises the training "
                    "set." + _score(rows, best_row, last_row)
                ),
                fix=fixes.fix_overfitting(fw)
                + (
                    "\n# A detector: keep the best checkpoint (YOLO's best.pt, chosen on "
                    "validation mAP, not the last epoch), lower the gain of the part that "
                    f"overfits ({part}), add augmentation or data for it."
                ),
                references=[REFS["early-stopping"]],
            )
        )
    return out
