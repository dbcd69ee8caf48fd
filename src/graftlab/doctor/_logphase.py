"""A second training phase that the log does not announce.

A script that unfreezes the backbone at epoch N inside one loop (``if epoch == 5:
unfreeze()``), or a second ``fit(initial_epoch=N)`` whose TensorBoard curve simply goes on, prints
no "Epoch 1/..." restart and no "unfreezing" line. What shows is the training loss jumping up
from one epoch to the next, with validation accuracy falling: a working model broken by what
changed between two epochs, which is the learning rate the pretrained layers got.
"""

from __future__ import annotations

from graftlab.doctor import _checks as fixes
from graftlab.doctor._checks import REFS, make
from graftlab.doctor._logparse import ParsedLog
from graftlab.doctor._logutil import _cites, _finite, _fmt, _phase_label
from graftlab.doctor.findings import Finding

#: The training loss jumps to this many times its lowest value so far...
JUMP = 1.5
#: ...and validation accuracy falls this far below its best so far.
VAL_DROP = 0.10


def unannounced_phase(log: ParsedLog, fw: str, broken: set[int]) -> list[Finding]:
    """GL413 without a phase line: the training loss jumps 1.5x above its low in one epoch,
    after two or more epochs of training, while validation accuracy falls 10 points."""
    for rows in log.phases():
        phase = rows[0].phase
        if phase in broken:
            continue
        loss = _finite(rows, "train_loss")
        for i in range(2, len(loss)):
            row, value = loss[i]
            low = min(v for _, v in loss[:i])
            if not (value >= JUMP * low and value - low >= 0.1 and value > 1.2 * loss[i - 1][1]):
                continue
            before = [
                (r, r.values["val_accuracy"]) for r, _ in loss[:i] if "val_accuracy" in r.values
            ]
            now = row.values.get("val_accuracy")
            if not before or now is None:
                continue
            best = max(v for _, v in before)
            if best - now < VAL_DROP:
                continue
            broken.add(phase)
            shown = rows[max(0, rows.index(row) - 2) : rows.index(row) + 3]
            return [
                make(
                    "GL413",
                    title=f"At epoch {row.epoch} the training loss jumps from {_fmt(low)} to "
                    f"{_fmt(value)} and validation accuracy falls from {_fmt(best)} to "
                    f"{_fmt(now)}: a second phase the log does not announce"
                    + _phase_label(log, phase),
                    evidence=_cites(shown, "train_loss", "val_loss", "val_accuracy", "lr")
                    + "\ninferred: the jump is read as a change between two epochs (backbone "
                    "unfrozen, a new optimiser or learning rate); the log does not print one",
                    explanation=(
                        "A training loss does not rise by half from one epoch to the next while "
                        "the same optimiser keeps stepping with the same settings; something "
                        "changed at that epoch, and validation accuracy shows it broke a "
                        "working model. In transfer learning that is the backbone being "
                        "unfrozen (or a second fit()/optimiser) with a learning rate suited to "
                        "the new head, far too high for pretrained weights: fine-tuning wants "
                        "10-100x less, after the head has converged (LP-FT)."
                    ),
                    fix=fixes.fix_unfreeze(fw),
                    references=[REFS["lp-ft"], REFS["keras-ft"]],
                )
            ]
    return []
