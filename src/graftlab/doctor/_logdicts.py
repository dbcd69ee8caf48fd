"""Logs written as one dict a line, read as epochs: the Hugging Face ``Trainer``'s printed dicts,
OpenMMLab's JSON logs, and Keras' ``history.history`` printed whole.

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

The same reading serves OpenMMLab's JSON logs: mmcv's ``log.json`` (``{"mode": "train",
"epoch": 3, "iter": 50, "lr": ..., "loss": ...}``, then ``{"mode": "val", "epoch": 3,
"accuracy_top-1": 71.2, ...}``) and mmengine's ``scalars.json``, whose validation records carry
no epoch (``{"accuracy/top1": 71.2, "step": 3}``) and belong to the training epoch before them.
A record of scores without a loss counts only after a training record.

``print(history.history)`` writes Keras' whole history as one dict of per-epoch lists
(``{'loss': [0.69, 0.52, ...], 'val_accuracy': [...]}``): epoch N is entry N of each list.
"""

from __future__ import annotations

import ast
import json
import math
import re

from graftlab.doctor._logrows import MAX_RECORD_CHARS, EpochRow, ParsedLog, StepRow, canonical

#: One printed dict; longer lines are not a Trainer log (and are not evaluated).
_DICT = re.compile(r"\{[^{}\n]{4,2000}\}")
#: Keys of the loggers' own bookkeeping, not metrics.
_SKIP = re.compile(
    r"(?:^|_)(?:runtime|per_second|flos|grad_norm|step|model_preparation_time|iter|memory|time"
    r"|mode)$"
)
#: ``str(logs)`` writes a diverged float as a bare ``nan`` / ``inf``, which is no literal.
_NONFINITE = re.compile(r"(?<![\w'\"])(-?(?:nan|inf))(?![\w'\"])")
#: ``json.dumps`` writes them ``NaN`` and ``Infinity``, which json reads back.
_JSON = re.compile(r'^\{\s*"')
#: The value of OpenMMLab's ``mode`` key: what the record is.
_MODE = re.compile(r"""['"]mode['"]\s*:\s*['"](train|val|test)['"]""")


def _literal(text: str) -> dict[str, float] | None:
    """The dict's numeric entries (numbers, or numbers formatted as strings), else None."""
    value = None
    if _JSON.match(text):
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):
            value = None
    if value is None:
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


def _scores(d: dict[str, float]) -> bool:
    return any(canonical(k.replace("/", "_"))[1] == "accuracy" for k in d)


def _history(lines: list[str]) -> ParsedLog | None:
    """``print(history.history)``: one dict of per-epoch lists, a loss among them."""
    for i, line in enumerate(lines, 1):
        start = line.find("{")
        if start < 0 or "loss" not in line or "[" not in line or len(line) > MAX_RECORD_CHARS:
            continue
        end = line.rfind("}")
        try:
            value = ast.literal_eval(_NONFINITE.sub(r"'\1'", line[start : end + 1]))
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            continue
        if not isinstance(value, dict) or not any(str(k).endswith("loss") for k in value):
            continue
        series = {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, list)}
        n = max((len(v) for v in series.values()), default=0)
        if n < 2 or any(len(v) != n for v in series.values()):
            continue
        rows = []
        for e in range(n):
            values = {}
            for key, v in series.items():
                prefix, base = canonical(key)
                try:
                    values[base if prefix is None else f"{prefix}_{base}"] = float(v[e])
                except (TypeError, ValueError):
                    continue
            rows.append(EpochRow(1, e + 1, i, values))
        names = {k for k in series if canonical(k)[1] == "accuracy"}
        return ParsedLog(rows=rows, style="keras-history", framework="keras",
                         accuracy_names=names)  # fmt: skip
    return None


def parse_dicts(lines: list[str]) -> ParsedLog | None:
    """The per-epoch table of a log of dicts (the Trainer's, OpenMMLab's, a Keras history), or
    None when the lines hold no such dicts."""
    records: list[tuple[int, dict[str, float], str | None]] = []
    for i, line in enumerate(lines, 1):
        if "{" not in line or not (
            "loss" in line or (records and ("acc" in line or "top" in line))
        ):
            continue
        for m in _DICT.finditer(line):
            d = _literal(m[0])
            mode = _MODE.search(m[0])
            if d and "epoch" in d and any(k.endswith("loss") for k in d):
                records.append((i, d, mode and mode[1]))
            elif d and records and _scores(d):
                # an evaluation after training records: mmcv's {"mode": "val", ...}, mmengine's
                # {"accuracy/top1": ..., "step": epoch}
                records.append((i, d, "val"))
    if len(records) < 2:
        return _history(lines)
    rows: list[EpochRow] = []
    steps: list[StepRow] = []
    last_train: dict[str, float] = {}
    last_epoch = math.nan
    for i, d, mode in records:
        if "train_runtime" in d:
            continue  # the summary after training: an average over all epochs
        if mode in ("val", "test") or any(k.startswith("eval_") for k in d):
            values = dict(last_train)
            for key, v in d.items():
                if key not in ("epoch", "lr") and not _SKIP.search(key):
                    # an evaluation's own names: mmengine's accuracy/top1 is no namespace
                    prefix, base = canonical(key.replace("/", "_"), "val" if mode else "train")
                    values[base if prefix is None else f"{prefix}_{base}"] = v
            epoch = d.get("epoch", last_epoch)
            rows.append(EpochRow(0, round(epoch) if math.isfinite(epoch) else len(rows) + 1, i,
                                 values))  # fmt: skip
            continue
        last_epoch = d["epoch"]
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
        at = {i: d["epoch"] for i, d, _ in records}
        for step in steps:
            epoch = at[step.line]
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
    style = "openmmlab" if any(mode for _, _, mode in records) else "hf-trainer"
    return ParsedLog(rows=rows, style=style, framework="torch", steps=known)
