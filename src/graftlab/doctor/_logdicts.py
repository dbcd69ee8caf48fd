"""Hugging Face ``Trainer`` logs: the Python dicts its callbacks print, read as epochs.

``ProgressCallback.on_log`` writes ``str(logs)`` above the progress bar and ``PrinterCallback``
prints it: one dict per logging step (``{'loss': 0.6931, 'grad_norm': ..., 'learning_rate':
4.9e-05, 'epoch': 0.5}``), one per evaluation (``{'eval_loss': ..., 'eval_accuracy': ...,
'epoch': 1.0}``) and a summary at the end (``{'train_runtime': ..., 'train_loss': ...}``).
transformers 4 prints the floats as floats; transformers 5 formats them first (``f"{v:.4g}"``),
so the values arrive as quoted strings (``{'loss': '0.6931', 'epoch': '0.5'}``).

An evaluation dict is an epoch row (its ``eval_`` metrics are the validation columns), with the
last training loss logged before it; without evaluations, the last training dict of each epoch
is one. Training dicts are step records only where their global step is known (the entries of
``trainer_state.json`` carry it; the printed dicts do not, and their loss averages the
``logging_steps`` batches before it, so it is no first-batch value).
"""

from __future__ import annotations

import ast
import math
import re

from graftlab.doctor._logrows import EpochRow, ParsedLog, StepRow, canonical

#: One printed dict; longer lines are not a Trainer log (and are not evaluated).
_DICT = re.compile(r"\{[^{}\n]{4,2000}\}")
#: Keys of the Trainer's own bookkeeping, not metrics.
_SKIP = re.compile(r"(?:^|_)(?:runtime|per_second|flos|grad_norm|step|model_preparation_time)$")
#: ``str(logs)`` writes a diverged float as a bare ``nan`` / ``inf``, which is no literal.
_NONFINITE = re.compile(r"(?<![\w'\"])(-?(?:nan|inf))(?![\w'\"])")


def _literal(text: str) -> dict[str, float] | None:
    """The dict's numeric entries (numbers, or numbers formatted as strings), else None."""
    try:
        value = ast.literal_eval(_NONFINITE.sub(r"'\1'", text))
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    if not isinstance(value, dict):
        return None
    out = {}
    for key, v in value.items():
        if not isinstance(key, str) or isinstance(v, bool):
            continue
        try:
            number = float(v)
        except (TypeError, ValueError):
            continue
        out[key] = number
    return out


def parse_dicts(lines: list[str]) -> ParsedLog | None:
    """The per-epoch table of a Trainer log, or None when the lines hold no such dicts."""
    records: list[tuple[int, dict[str, float]]] = []
    for i, line in enumerate(lines, 1):
        if "{" not in line or "loss" not in line:
            continue
        for m in _DICT.finditer(line):
            d = _literal(m[0])
            if d and "epoch" in d and any(k.endswith("loss") for k in d):
                records.append((i, d))
    if len(records) < 2:
        return None
    rows: list[EpochRow] = []
    steps: list[StepRow] = []
    last_train: dict[str, float] = {}
    for i, d in records:
        if "train_runtime" in d:
            continue  # the summary after training: an average over all epochs
        if any(k.startswith("eval_") for k in d):
            values = dict(last_train)
            for key, v in d.items():
                if key != "epoch" and not _SKIP.search(key):
                    prefix, base = canonical(key)
                    values[base if prefix is None else f"{prefix}_{base}"] = v
            epoch = d["epoch"]
            rows.append(EpochRow(0, round(epoch) if math.isfinite(epoch) else len(rows) + 1, i,
                                 values))  # fmt: skip
            continue
        last_train = {"train_loss": d["loss"]} if "loss" in d else {}
        if "learning_rate" in d:
            last_train["lr"] = d["learning_rate"]
        if "loss" in d:
            # A logged loss averages the logging_steps batches before it; only trainer_state's
            # entries say which global step that was (a first step is step 1 to 3).
            step = int(d["step"]) if "step" in d and math.isfinite(d["step"]) else 0
            steps.append(StepRow(step, None, i, {"train_loss": d["loss"]}, lines[i - 1]))
    if not rows:  # no evaluation: the last training record of each epoch
        by_epoch: dict[int, EpochRow] = {}
        for step in steps:
            epoch = next(d["epoch"] for i, d in records if i == step.line)
            key = math.ceil(epoch) if math.isfinite(epoch) else 0
            by_epoch[key] = EpochRow(0, key, step.line, dict(step.values))
        rows = list(by_epoch.values())
    if not rows:
        return None
    phase = 1
    for j, row in enumerate(rows):
        if j and row.epoch < rows[j - 1].epoch:
            phase += 1  # trainer.train() called again: a second run
        row.phase = phase
    known = [st for st in steps if st.step > 0]
    return ParsedLog(rows=rows, style="hf-trainer", framework="torch", steps=known)
