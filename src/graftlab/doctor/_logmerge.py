"""Several TensorBoard scalar exports of one run, read as one per-epoch table.

TensorBoard's "Download CSV" writes one scalar per file (``Wall time,Step,Value``), the metric
only in the file name (``run-train-tag-epoch_loss.csv``, ``run-validation-tag-epoch_accuracy
.csv``). People attach two or four of them; alone, each is a curve without its counterpart
(a validation accuracy without the training loss it should be read against). Given together,
they are joined by phase and step into the table the other checks read.
"""

from __future__ import annotations

import re
from pathlib import Path

from graftlab.doctor._logparse import EpochRow, ParsedLog
from graftlab.doctor._logutil import _fmt

_HEADER = re.compile(r"^\s*wall time\s*,\s*step\s*,\s*value\s*$", re.I | re.M)


def is_tensorboard_export(text: str) -> bool:
    """The file starts (after blank lines) with TensorBoard's ``Wall time,Step,Value``."""
    head = text.lstrip()[:200]
    return bool(_HEADER.match(head.split("\n", 1)[0]))


def merge_exports(parts: list[tuple[Path, ParsedLog]]) -> ParsedLog:
    """One table from several one-scalar exports, rows keyed by (phase, step); its ``lines``
    are the joined table itself (``step 3 | loss 0.41 | val_accuracy 0.82``), so evidence
    quotes lines of what was read, after a first line naming the files."""
    table: dict[tuple[int, int], dict[str, float]] = {}
    for _, log in parts:
        for row in log.rows:
            table.setdefault((row.phase, row.epoch), {}).update(row.values)
    names = ", ".join(path.name for path, _ in parts)
    lines = [f"TensorBoard exports joined by step: {names}"]
    rows = []
    for (phase, step), values in sorted(table.items()):
        cells = " | ".join(f"{col} {_fmt(v)}" for col, v in sorted(values.items()))
        lines.append(f"step {step} | {cells}")
        rows.append(EpochRow(phase, step, len(lines), dict(values)))
    keras = any("epoch_" in path.name for path, _ in parts)
    return ParsedLog(
        rows=rows,
        style="tensorboard-csv",
        framework="keras" if keras else None,
        accuracy_names={n for _, log in parts for n in log.accuracy_names},
        lines=lines,
    )
