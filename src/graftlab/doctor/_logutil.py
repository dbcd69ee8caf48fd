"""Helpers the log checks share: series of one column, quoting epochs, runs of equal values."""

from __future__ import annotations

import math
from collections.abc import Iterable

from graftlab.doctor._logparse import EpochRow, ParsedLog

#: Two accuracies closer than this are "the same value" (a val set of 500 moves in 0.002 steps).
TOL = 0.002


#: Epochs a metric must stay put before it "sits" at a value.
MIN_RUN = 3


def _fmt(v: float) -> str:
    if not math.isfinite(v):
        return str(v)
    return f"{v:.4f}" if abs(v) < 1000 else f"{v:.4g}"


_SHORT = {"train_loss": "loss", "train_accuracy": "acc", "val_accuracy": "val_acc"}


def _cite(row: EpochRow, *cols: str) -> str:
    vals = "  ".join(
        f"{_SHORT.get(c, c)} {_fmt(row.values[c])}" for c in dict.fromkeys(cols) if c in row.values
    )
    return f"line {row.line:>3} | epoch {row.epoch:>3} | {vals}"


def _cites(rows: Iterable[EpochRow], *cols: str, limit: int = 6) -> str:
    rows = list(rows)
    shown = [*rows[: limit - 2], None, rows[-1]] if len(rows) > limit else rows
    return "\n".join(
        f"  ... {len(rows) - limit + 1} more epochs" if r is None else "  " + _cite(r, *cols)
        for r in shown
    )


def _series(rows: list[EpochRow], col: str) -> list[tuple[EpochRow, float]]:
    return [(r, r.values[col]) for r in rows if col in r.values]


def _finite(rows: list[EpochRow], col: str) -> list[tuple[EpochRow, float]]:
    return [(r, v) for r, v in _series(rows, col) if math.isfinite(v)]


def _longest_run(values: list[float], near: float, tol: float) -> tuple[int, int]:
    """(start, length) of the longest run of consecutive values within ``tol`` of ``near``."""
    best, start = (0, 0), None
    for i, v in enumerate([*values, math.nan]):
        if math.isfinite(v) and abs(v - near) <= tol:
            start = i if start is None else start
        elif start is not None:
            if i - start > best[1]:
                best = (start, i - start)
            start = None
    return best


def _sits(n: int, run: int) -> bool:
    return run >= MIN_RUN or (run == n and n >= 2)


def _constant_run(values: list[float]) -> tuple[int, int]:
    best, i = (0, 0), 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and round(values[j + 1], 4) == round(values[i], 4):
            j += 1
        if j - i + 1 > best[1]:
            best = (i, j - i + 1)
        i = j + 1
    return best


def _losses_finite(row: EpochRow) -> bool:
    return all(math.isfinite(v) for c, v in row.values.items() if c.endswith("loss"))


def _phase_label(log: ParsedLog, phase: int) -> str:
    if len(log.phases()) < 2:
        return ""
    rows = log.phases()[phase - 1]
    return f" (phase {phase}{f' {rows[0].phase_name!r}' if rows[0].phase_name else ''})"
