"""Tables pasted without their header: ``1 0.693 0.50 0.693 0.50`` a line.

People paste the numbers of a run as a bare table (``np.savetxt``, a spreadsheet column copied
without its title row, ``print(epoch, loss, acc, val_loss, val_acc)``). Nothing names the
columns, so they are inferred from the shape every such print shares: an epoch counter first
(consecutive integers), then a loss and an accuracy per split in the order Keras and most prints
use (``loss, acc, val_loss, val_acc``; ``loss, val_loss, acc, val_acc`` when only that order has
accuracies in its accuracy places), or a loss and an accuracy alone. An accuracy column holds
fractions in [0, 1] or percentages (some value of 10 or more, none above 100). What the rules
read from such a table is an inference, and the parsed log says so (:attr:`ParsedLog.inferred`).
"""

from __future__ import annotations

import itertools
import math
import re

from graftlab.doctor._logrows import MAX_RECORD_CHARS, EpochRow, ParsedLog, number_runs

_CELL_SEP = re.compile(r"[\s,;|]+")
_INT = re.compile(r"\d{1,6}")
_DECIMAL = re.compile(r"[-+]?(?:\d*\.\d+|\d+\.\d*)(?:e[-+]?\d+)?|[-+]?\d+e[-+]?\d+|nan|inf", re.I)
#: Fewer rows than this are no training table (a shape, a pair of numbers).
_MIN_ROWS = 3
#: Column names by the number of metric columns, in the order they are tried.
_LAYOUTS = {
    2: [("train_loss", "train_accuracy")],
    4: [
        ("train_loss", "train_accuracy", "val_loss", "val_accuracy"),
        ("train_loss", "val_loss", "train_accuracy", "val_accuracy"),
    ],
}


def _cells(line: str) -> list[str] | None:
    """The cells of a line that is numbers only: an integer, then decimals."""
    if not line or len(line) > MAX_RECORD_CHARS or not line.lstrip()[:1].isdigit():
        return None
    cells = [c for c in _CELL_SEP.split(line.strip().strip("|")) if c]
    if len(cells) - 1 not in _LAYOUTS or not _INT.fullmatch(cells[0]):
        return None
    if not all(_DECIMAL.fullmatch(c) or _INT.fullmatch(c) for c in cells[1:]):
        return None
    return cells


def _accuracy_like(values: list[float]) -> bool:
    finite = [v for v in values if math.isfinite(v)]
    if not finite or min(finite) < 0:
        return False
    return max(finite) <= 1.0 or 10.0 <= max(finite) <= 100.0


def _opposed(loss: list[float], accuracy: list[float]) -> bool:
    """Whether a training loss and accuracy do not fall (or rise) together over the epochs where
    both are finite: they move apart in training, where two losses, or a loss and a score of
    something else, need not."""
    pairs = [(a, b) for a, b in zip(loss, accuracy, strict=True) if math.isfinite(a + b)]
    if len(pairs) < 2:
        return True
    scale = 100.0 if max(b for _, b in pairs) > 1 else 1.0
    d_loss, d_acc = pairs[-1][0] - pairs[0][0], (pairs[-1][1] - pairs[0][1]) / scale
    moved = abs(d_loss) > 0.05 * max(abs(pairs[0][0]), 1e-3) and abs(d_acc) > 0.02
    return not (moved and (d_loss > 0) == (d_acc > 0))


def _layout(columns: list[list[float]]) -> tuple[str, ...] | None:
    for names in _LAYOUTS[len(columns)]:
        named = dict(zip(names, columns, strict=True))
        if all(_accuracy_like(named[n]) for n in names if n.endswith("accuracy")):
            # the first order whose accuracy places hold accuracies, or none
            return names if _opposed(named["train_loss"], named["train_accuracy"]) else None
    return None


def _blocks(lines: list[str]):
    """Runs of consecutive bare rows of one width: ``(first line index, rows of cells)``."""
    start, block = 0, []
    for i, line in enumerate(lines):
        cells = _cells(line)
        if cells is not None and (not block or len(cells) == len(block[0])):
            if not block:
                start = i
            block.append(cells)
            continue
        if len(block) >= _MIN_ROWS:
            yield start, block
        start, block = i, [cells] if cells is not None else []
    if len(block) >= _MIN_ROWS:
        yield start, block


def bare_table(lines: list[str]) -> ParsedLog | None:
    """The longest headerless table whose first column counts epochs, read by its shape."""
    best: tuple[int, list[list[str]]] | None = None
    for start, block in _blocks(lines):
        epochs = [int(row[0]) for row in block]
        counting = all(b == a + 1 or b in (0, 1) for a, b in itertools.pairwise(epochs))
        decimals = any("." in c or "e" in c.lower() for row in block for c in row[1:])
        if counting and decimals and (best is None or len(block) > len(best[1])):
            best = (start, block)
    if best is None:
        return None
    start, block = best
    columns = [[float(row[j]) for row in block] for j in range(1, len(block[0]))]
    names = _layout(columns)
    if names is None:
        return None
    rows = [
        EpochRow(0, int(row[0]), start + k + 1, dict(zip(names, map(float, row[1:]), strict=True)))
        for k, row in enumerate(block)
    ]
    number_runs(rows)
    return ParsedLog(
        rows=rows,
        style="bare-table",
        inferred=(
            f"inferred: the table at line {start + 1} has no header; its columns were read as "
            f"epoch, {', '.join(names)} from their shape (an epoch counter, accuracies in [0, 1] "
            "or percent)"
        ),
    )
