"""Turn a training log, whatever wrote it, into one per-epoch table.

Understood: Keras progress output pasted from a terminal or a notebook (``\\r``/backspace
redraws and ANSI colours included, Keras 2 ``[====]`` and Keras 3 ``━━━`` bars), Keras
``CSVLogger`` files, graftlab ``results.csv``, plain tables (comma, tab, pipe or whitespace
separated, with a header; fastai's table and the Hugging Face Trainer's notebook table too),
the Trainer's printed dicts (:mod:`graftlab.doctor._logdicts`), the loggers of the
pytorch/examples ImageNet script, timm and OpenMMLab (:mod:`graftlab.doctor._logtools`), and
PyTorch-style prints (one line per epoch, ``logging`` prefixes and timestamps included, or the
tutorial's ``Epoch 3/24`` header followed by ``train Loss: .. Acc: ..`` lines), tqdm and
Lightning bars among them; metric words of other languages (``训练损失``, ``Verlust``) read as
their English names, a pasted ``trainer_state.json`` as its ``log_history``, and a table without
a header by its shape (:mod:`graftlab.doctor._logbare`, an inference the findings say).

Metric names become ``train_loss``, ``train_accuracy``, ``val_loss``, ``val_accuracy``, ``lr``
(others keep a ``train_``/``val_`` prefix). A second run of ``Epoch 1/N`` (or a change of N)
starts a new phase; so does an explicit ``phase`` column.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

from graftlab.doctor._logbare import bare_table
from graftlab.doctor._logbatches import evaluation_passes
from graftlab.doctor._logclasses import numbered_listing, split_classes
from graftlab.doctor._logconfusion import evaluation_mismatch
from graftlab.doctor._logdicts import parse_dicts
from graftlab.doctor._logmatmul import matmul_messages
from graftlab.doctor._logrows import (
    _BASES,
    _PREFIXES,
    MAX_RECORD_CHARS,
    PART_LOSS,
    EpochRow,
    ParsedLog,
    StepRow,
    _column,
    canonical,
    english,
    number_runs,
)
from graftlab.doctor._logruns import pasted_trainer_state
from graftlab.doctor._logsizes import size_messages
from graftlab.doctor._logtools import parse_tools
from graftlab.errors import DataError

__all__ = ["EpochRow", "ParsedLog", "StepRow", "canonical", "parse_log"]


#: A log is read up to this many characters after its progress redraws were thinned out:
#: about 10,000 epoch lines, far more than any run, and a second or two of parsing.
MAX_LOG_CHARS = 1_000_000
#: Redraws kept of one physical line: the first ones (the first batches) and the last one.
_KEEP_REDRAWS = 4


def bound_text(text: str) -> tuple[str, tuple[int, int] | None]:
    """Thin out progress redraws, then cut to :data:`MAX_LOG_CHARS`; say when text was cut."""
    if len(text) > MAX_LOG_CHARS // 4 and "\r" in text:
        out = []
        for line in text.split("\n"):
            if line.count("\r") > _KEEP_REDRAWS:
                parts = line.split("\r")
                line = "\r".join([*parts[:_KEEP_REDRAWS], parts[-1]])
            out.append(line)
        text = "\n".join(out)
    if len(text) <= MAX_LOG_CHARS:
        return text, None
    cut = text.rfind("\n", 0, MAX_LOG_CHARS) + 1 or MAX_LOG_CHARS
    return text[:cut], (cut, len(text))


# -- reading ----------------------------------------------------------------------------------

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07")


#: A log file is read up to this many bytes (redraw-heavy logs thin out to far less, see
#: :func:`bound_text`); a 1 GB log is not loaded whole.
MAX_READ_BYTES = 16_000_000


def read_text(path_or_text: str | os.PathLike) -> tuple[str, str | None, int]:
    """Return ``(text, name, size)``: the file's text (its first :data:`MAX_READ_BYTES`), its
    name and its size in bytes when given a path, else the text, None and its length."""
    if isinstance(path_or_text, os.PathLike) or (
        isinstance(path_or_text, str)
        and "\n" not in path_or_text
        and len(path_or_text) < 4096
        and (os.path.exists(path_or_text) or re.search(r"\.(log|txt|csv|tsv|out)$", path_or_text))
    ):
        path = Path(path_or_text)
        if not path.is_file():
            raise DataError(f"Cannot read the log {str(path)!r}: no such file.")
        try:
            with path.open("rb") as fh:
                data = fh.read(MAX_READ_BYTES)
            size = max(path.stat().st_size, len(data))
        except OSError as exc:
            raise DataError(f"Cannot read the log {str(path)!r} ({exc.strerror}).") from None
        return _decode(data), str(path), size
    if not isinstance(path_or_text, str):
        raise DataError(f"Expected a log file path or the log's text. Got {type(path_or_text)}.")
    return path_or_text, None, len(path_or_text)


def _decode(data: bytes) -> str:
    # PowerShell's ``>`` writes UTF-16 with a BOM; everything else is UTF-8 or close to it.
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    return data.decode("utf-8-sig", errors="replace")


def clean_lines(text: str) -> list[str]:
    """Split on newlines only, then resolve what a terminal would show on each line."""
    out = []
    for raw in text.split("\n"):
        line = _ANSI.sub("", raw)
        if "\x08" in line:
            buf: list[str] = []
            for ch in line:
                if ch == "\x08":
                    if buf:
                        buf.pop()
                else:
                    buf.append(ch)
            line = "".join(buf)
        if "\r" in line:
            parts = [p for p in line.split("\r") if p.strip()]
            line = parts[-1] if parts else ""
        out.append(line.rstrip())
    return out


_NUM = r"[-+]?(?:nan|inf(?:inity)?|\d+\.?\d*(?:e[-+]?\d+)?|\.\d+(?:e[-+]?\d+)?)"


def _to_float(text: str) -> float | None:
    text = text.strip().rstrip("%")
    try:
        return float(text)
    except ValueError:
        return None


# -- facts about the run (classes, sizes, callback messages) ----------------------------------

_FOUND = re.compile(r"Found (\d+) (?:images|files) belonging to (\d+) class", re.I)
_USING_VAL = re.compile(r"Using (\d+) files for validation", re.I)
_VALIDATE_ON = re.compile(r"validate on (\d+) samples", re.I)
_DENSE = re.compile(r"\(Dense\)\s*[│|┃]?\s*\(None,\s*(\d+)\)")
_LINEAR = re.compile(r"Linear\(in_features=\d+,\s*out_features=(\d+)")
_NUM_CLASSES = re.compile(
    r"\b(?:num|n|nb|number[ _]of)[ _]?(?:classes|labels)\s*[=:]\s*(\d+)\b|\b(\d+) classes found\b"
    # one-hot labels printed with their shape: "y_train shape: (5000, 10)", "labels.shape
    # torch.Size([64, 10])"
    r"|\b(?:y|labels?|targets?)(?:_\w{1,20})?(?:\.shape|\s+shape)\s*[=:]?\s*(?:torch\.Size\()?"
    r"[(\[]\s*\d+\s*,\s*(\d+)\s*[)\]]",
    re.I,
)
#: A printed list of class names: "classes: ['cat', 'dog', 'fox']", "class_names = [...]".
_CLASS_LIST = re.compile(r"\bclass(?:es|_names)\b[^\[\n]{0,20}\[([^\[\]\n]{1,4000})\]", re.I)
_QUOTED = re.compile(r"\s*(['\"])[^'\"]{1,80}\1\s*")
_CALLBACK_MISSING = re.compile(
    r"(Can save best model only with \S+ available"
    r"|conditioned on metric `[^`]+` which is not available"
    r"|monitor(?:ed)? (?:metric|quantity) `?\S+?`? (?:is )?not (?:available|found)"
    r"|monitor='\w+'\)`? could not find the monitored key)",
    re.I,
)
#: timm/DeiT/Swin evaluation summaries, in percent (timm's ``accuracy()``): ``* Acc@1 81.234
#: Acc@5 95.310 loss 0.812``, and the running mean loss of their step lines, ``Loss 0.9 (0.8)``.
#: Numbers of bounded length: an unbounded ``\d+\.?\d*`` backtracks quadratically on a long run
#: of digits (20,000 took 40 s).
_BOUNDED = r"\d{1,7}(?:\.\d{1,12})?"
_TOPK = re.compile(
    rf"Acc@1\s*:?\s*({_BOUNDED})(?:\s*%)?\s+Acc@5\s*:?\s*({_BOUNDED})(?:\s*%)?"
    rf"(?:\s+loss\s*:?\s*({_BOUNDED}))?(?!\d)",
    re.I,
)
_MEAN_LOSS = re.compile(rf"\bLoss:?\s+{_BOUNDED}\s+\(({_BOUNDED})\)", re.I)
#: Top-1 and top-5 printed as two named values, on one line or on neighbouring lines: mmcls
#: 0.x ``accuracy_top-1 : 0.02`` (percent), mmengine ``accuracy/top1: 72.05`` (percent), and
#: hand-written prints, ``top-1 accuracy: 0.11%``, ``Top-5 acc = 0.93``. Group 1 or 2 is the
#: rank, 3 the value, 4 a percent sign.
_TOP_NAMED = re.compile(
    rf"\b(?:accuracy[_/]top-?([15])|top-?([15])[ _-]?acc(?:uracy)?)\s*[:=]\s*({_BOUNDED})(\s*%)?"
    r"(?![\d.])",
    re.I,
)
#: A top-5 value this many lines after its top-1 still belongs to the same summary.
_TOP_PAIR_WITHIN = 3
#: A checkpoint loaded with every key (PyTorch's report, repositories' own messages).
_ALL_KEYS = re.compile(
    r"<All keys matched successfully>|missing_keys=\[\],\s*unexpected_keys=\[\]", re.I
)
#: A metric looked up by name inside a callback and not found: ``KeyError: 'val_acc'`` raised in
#: a frame of a callback (ModelCheckpoint formatting its file name with ``**logs``, a custom
#: ``on_epoch_end`` reading ``logs['val_acc']``).
_TRACEBACK = re.compile(r"^\s*Traceback \(most recent call last\)")
_CALLBACK_FRAME = re.compile(r"callbacks?\b|\bon_(?:train_)?(?:epoch|batch)_end\b", re.I)
_KEY_ERROR = re.compile(r"^\s*KeyError:\s*['\"]([A-Za-z_][\w/@]{0,60})['\"]\s*$")
#: A printed ``class_indices`` dict, ``{'cat': 0, 'dog': 1, ...}``: braces around pairs that
#: :func:`_class_indices` reads one by one (a single pattern with a repeated group backtracks
#: exponentially on a long line of near-pairs).
_BRACED = re.compile(r"\{([^{}\n]{1,8000})\}")
_INDEX_PAIR = re.compile(r"\s*['\"][^'\"]{1,80}['\"]\s*:\s*(\d+)\s*")
#: A row of Lightning's validate/test results table: ``│ test_acc │ 0.85 │``.
_LIGHTNING_ROW = re.compile(rf"^\s*[│┃|]\s*([A-Za-z_][\w/]*)\s*[│┃|]\s*({_NUM})\s*[│┃|]\s*$", re.I)
#: ``print(model.evaluate(...))`` with one metric: ``[0.3412, 0.8800]``.
_EVALUATE = re.compile(rf"^\s*\[\s*({_NUM})\s*,\s*({_NUM})\s*\]\s*$", re.I)
#: Errors that say the labels or the loaded weights do not fit the model's output layer.
_HEAD_ERROR = re.compile(
    r"Target -?\d+ is out of bounds|t >= 0 && t < n_classes|"
    r"size mismatch for [\w.]*(?:fc|classifier|head|last_linear)[\w.]*\.(?:weight|bias)|"
    r"received a label value of \d+ which is outside the valid range|"
    r"Shapes \(None, \d+\) and \(None, \d+\) are incompatible|"
    r"expected \w+ to have shape \(None, \d+\) but got array with shape|"
    r"shape \((?:None|samples|\?), 1000\)\)?\.? *Found array with shape",
    re.I,
)
#: A non-strict checkpoint load (mmcv/mmengine ``load_checkpoint``, ``strict=False``) lists the
#: keys it skipped under this warning and goes on: a new head's size mismatch is expected there.
#: Only ``Error(s) in loading state_dict`` (a strict load) makes the mismatch an error.
_NON_STRICT = re.compile(r"state dict do not match exactly|strict=False", re.I)
_STRICT = re.compile(r"Error\(s\) in loading state_dict", re.I)
_SIZE_MISMATCH = re.compile(r"size mismatch for ", re.I)
_WARNED_WITHIN = 20
#: The framework, or the person, saying the loss went non-finite ("loss becomes nan after 5k
#: iter", "loss 出现 nan", "NaN loss"): within a few characters, on one line.
_ONE_SAMPLE_BN = re.compile(r"Expected more than 1 value per channel when training", re.I)
_INVALID_LOSS = re.compile(
    r"Invalid loss, terminating training|\bloss\b[^\n\d]{0,24}?\b(?:nan|inf)\b|\bnan loss",
    re.I,
)


def _short(text: str, limit: int = 160) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _class_indices(line: str) -> int | None:
    """K from a printed ``{'name': index, ...}`` whose indices are 0..K-1 (K >= 2)."""
    for m in _BRACED.finditer(line):
        pairs = [_INDEX_PAIR.fullmatch(part) for part in m[1].rstrip(", ").split(",")]
        if len(pairs) < 2 or not all(pairs):
            continue
        indices = sorted(int(p[1]) for p in pairs)
        if indices == list(range(len(indices))):
            return len(indices)
    return None


def _metric_key_error(line: str, in_callback: bool) -> bool:
    """A ``KeyError`` on a metric's name raised inside a callback."""
    m = _KEY_ERROR.match(line) if in_callback else None
    if m is None:
        return False
    prefix, base = canonical(m[1])
    return base in _BASES.values() or (prefix != "train" and base != m[1].lower())


def _top_fraction(m: re.Match) -> float:
    """A named top-k value as a fraction: percent when a ``%`` follows, when the key is
    OpenMMLab's (``accuracy_top-1``, ``accuracy/top1``: percent by convention) or above 1."""
    value = float(m[3])
    percent = bool(m[4]) or m[0].lower().startswith("accuracy") or value > 1
    return value / 100 if percent else value


def _facts(lines: list[str], parsed: ParsedLog) -> None:
    found = []
    table: dict[str, float] = {}  # the rows so far of a Lightning results table
    in_callback = False  # inside a traceback that passed through a callback
    non_strict = -_WARNED_WITHIN  # the line of the last non-strict load's warning
    mean_loss: float | None = None  # the running mean loss of the last evaluation step line
    top1: tuple[int, float] | None = None  # a named top-1 value waiting for its top-5
    for i, line in enumerate(lines, 1):
        if not line or len(line) > MAX_RECORD_CHARS:
            continue
        if _TRACEBACK.match(line):
            in_callback = False
        elif _CALLBACK_FRAME.search(line) and line.lstrip().startswith(("File ", "callback")):
            in_callback = True
        if _metric_key_error(line, in_callback):
            parsed.callback_warnings.append((i, line.strip()))
        if m := _FOUND.search(line):
            found.append((int(m[1]), int(m[2]), i, line.strip()))
        if m := (_USING_VAL.search(line) or _VALIDATE_ON.search(line)):
            parsed.val_size = int(m[1])
        if m := (_DENSE.search(line) or _LINEAR.search(line)):
            parsed.output_units = (int(m[1]), i)
        if m := _NUM_CLASSES.search(line):
            k = int(m[1] or m[2] or m[3])
            parsed.num_classes, parsed.num_classes_evidence = k, f"line {i}: {_short(line)}"
        if parsed.num_classes is None and (m := _CLASS_LIST.search(line)):
            names = m[1].rstrip(", ").split(",")
            if len(names) >= 2 and all(_QUOTED.fullmatch(n) for n in names):
                parsed.num_classes = len(names)
                parsed.num_classes_evidence = f"line {i}: {_short(line)} (class names)"
        if parsed.num_classes is None and "{" in line and (k := _class_indices(line)):
            parsed.num_classes = k
            parsed.num_classes_evidence = f"line {i}: {_short(line)} (class indices)"
        if (m := _EVALUATE.match(line)) and 0 <= float(m[2]) <= 1 <= i:
            parsed.evaluations.append((i, float(m[1]), float(m[2])))
        if m := _LIGHTNING_ROW.match(line):
            table[canonical(m[1].replace("/", "_"))[1]] = float(m[2])
            if {"loss", "accuracy"} <= set(table):
                parsed.evaluations.append((i, table["loss"], table["accuracy"]))
                table = {}
        elif line.lstrip().startswith(("└", "┗", "+-")):
            table = {}
        if _NON_STRICT.search(line):
            non_strict = i
        elif _STRICT.search(line):
            non_strict = -_WARNED_WITHIN
        if (head := _HEAD_ERROR.search(line)) and not (
            i - non_strict <= _WARNED_WITHIN and _SIZE_MISMATCH.match(head[0])
        ):
            # a message quoted inside a long sentence: keep the part around the message
            start = head.start() - 80 if head.start() > 100 else 0
            parsed.head_errors.append((i, _short(line[max(start, 0) :])))
        if mean := _MEAN_LOSS.search(line):
            mean_loss = float(mean[1])
        if "Acc@1" in line and (m := _TOPK.search(line)):
            # a summary without its loss follows step lines: their running mean is its loss
            loss = float(m[3]) if m[3] else mean_loss
            parsed.topk = (i, float(m[1]) / 100, float(m[2]) / 100, loss)
        elif "top" in line.lower():
            for m in _TOP_NAMED.finditer(line):
                rank, value = m[1] or m[2], _top_fraction(m)
                if rank == "1":
                    top1 = (i, value)
                elif top1 is not None and i - top1[0] <= _TOP_PAIR_WITHIN:
                    parsed.topk, top1 = (top1[0], top1[1], value, None), None
        if parsed.weights_loaded is None and _ALL_KEYS.search(line):
            parsed.weights_loaded = (i, _short(line))
        if _ONE_SAMPLE_BN.search(line):
            parsed.one_sample_bn.append((i, _short(line)))
        if _CALLBACK_MISSING.search(line):
            parsed.callback_warnings.append((i, line.strip()))
        if _INVALID_LOSS.search(line):
            parsed.nonfinite_lines.append((i, line.strip()))
    if found:
        _, k, i, text = found[0]
        parsed.num_classes, parsed.num_classes_evidence = k, f"line {i}: {text}"
        if len(found) >= 2 and parsed.val_size is None:
            parsed.val_size = found[1][0]
    if parsed.output_units and parsed.output_units[0] > 1:
        units, i = parsed.output_units
        parsed.num_classes = units
        parsed.num_classes_evidence = f"line {i}: {lines[i - 1].strip()} (output units)"


# -- tables -----------------------------------------------------------------------------------


#: Cells separated by two or more spaces: a table whose names have spaces ("Training Loss"),
#: copied from a rendered notebook table.
_WIDE = "  "


def _split(line: str, sep: str | None) -> list[str]:
    if sep == "|":
        line = line.strip().strip("|")
    if sep == _WIDE:
        cells = re.split(r"\s{2,}", line.strip())
    else:
        cells = line.split(sep) if sep else line.split()
    return [c.strip() for c in cells]


def _header_sep(line: str) -> str | None:
    for sep in (",", "\t", "|", ";"):
        if sep in line:
            return sep
    return None


#: More cells than any metrics table has columns: such a line is prose or noise, and checking
#: each of its words as a column name cost seconds on lines of thousands of words.
_MAX_HEADER_CELLS = 256


def _is_header(cells: list[str]) -> bool:
    if len(cells) > _MAX_HEADER_CELLS:
        return False
    known = 0
    metric = False
    for cell in cells:
        if not cell or re.fullmatch(_NUM + "%?", cell, re.I):
            return False
        base = canonical(cell)[1]
        part = PART_LOSS.fullmatch(base) is not None
        if base in ("epoch", "phase", "lr") or base in _BASES.values() or part:
            known += 1
            metric = metric or part or base in ("loss", "accuracy", "error_rate")
    return known >= 2 and metric


def _tensorboard_column(name: str | None) -> str:
    """The metric of a TensorBoard scalar export, from its name (``run-val-tag-epoch_loss``)."""
    stem = Path(name or "").stem.lower()
    tag = stem.rsplit("tag-", 1)[-1]
    val = re.search(r"(^|[-_])(val|valid|validation|eval|test)([-_]|$)", stem)
    prefix = "val" if val else "train"
    base = "accuracy" if "acc" in tag else "loss" if "loss" in tag else "lr" if "lr" in tag else ""
    if not base:
        return _column(*canonical(tag or "value", prefix))
    return "lr" if base == "lr" else f"{prefix}_{base}"


def _parse_table(lines: list[str], name: str | None = None) -> ParsedLog | None:
    for h, line in enumerate(lines[:200]):
        if [c.strip().lower() for c in line.split(",")] == ["wall time", "step", "value"]:
            # TensorBoard's "Download CSV": one scalar per file, its name in the file name.
            return _table_rows(lines, h, ["wall_time", "epoch", _tensorboard_column(name)], ",")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        found = _header_sep(line)
        for sep in (None, _WIDE) if found is None else (found,):
            header = _split(line, sep)
            if _is_header(header):
                parsed = _table_rows(lines, h, header, sep)
                if parsed is not None:
                    return parsed
    return None


def _table_rows(lines: list[str], h: int, header: list[str], sep: str | None) -> ParsedLog | None:
    names = [c.lower() for c in header]
    # fastai prints ``train_loss valid_loss accuracy`` and the Trainer's notebook table
    # ``Training Loss  Validation Loss  Accuracy``: their metrics are computed on validation.
    both = ({"train_loss", "valid_loss"}, {"training loss", "validation loss"})
    bare_prefix = "val" if any(pair <= set(names) for pair in both) else "train"
    columns = [_column(*canonical(c, bare_prefix)) for c in header]
    accuracy_names = {c for c, col in zip(names, columns, strict=True) if col.endswith("accuracy")}
    epoch_at = columns.index("epoch") if "epoch" in columns else None
    rows: list[EpochRow] = []
    phase_names: list[str] = []
    for i in range(h + 1, len(lines)):
        line = lines[i]
        if not line.strip() or re.fullmatch(r"[\s|:+\-=]*", line):
            continue
        cells = _split(line, sep)
        epoch = None
        if len(cells) == len(columns) + 1 and "epoch" not in columns and cells[0].isdigit():
            # pandas prints ``pd.DataFrame(history.history)`` with its 0-based row index
            # before the columns its header names
            epoch, cells = int(cells[0]) + 1, cells[1:]
        if len(cells) != len(columns):
            if rows:
                break
            continue
        if epoch_at is not None and _to_float(cells[epoch_at]) is None:
            # not an epoch's row, though as wide as the header: YOLOv8's console prints its
            # validation summary (``all  100  500  0.65 ...``) under its training header
            if rows:
                break
            continue
        values: dict[str, float] = {}
        phase_name = None
        for col, cell in zip(columns, cells, strict=True):
            if col == "phase":
                phase_name = cell
                continue
            if col == "step":
                continue
            value = _to_float(cell)
            if col == "epoch":
                epoch = int(value) if value is not None and math.isfinite(value) else None
            elif value is not None:
                values[col] = value / 100 if cell.endswith("%") else value
        if not values:
            if rows:
                break
            continue
        if phase_name is not None and phase_name not in phase_names:
            phase_names.append(phase_name)
        if (
            epoch is not None
            and rows
            and rows[-1].epoch == epoch
            and rows[-1].phase_name == phase_name
            and not set(values) & set(rows[-1].values)
        ):
            # Lightning's CSVLogger writes an epoch's training and validation metrics on two
            # lines with the other columns empty: one epoch.
            rows[-1].values.update(values)
            rows[-1].line = i + 1
            continue
        epoch = epoch if epoch is not None else len(rows) + 1
        rows.append(EpochRow(0, epoch, i + 1, values, phase_name))
    if not rows:
        return None
    if phase_names:
        for row in rows:
            row.phase = phase_names.index(row.phase_name) + 1 if row.phase_name else 1
    else:
        number_runs(rows)
    if "phase" in columns and "val_balanced_accuracy" in columns:
        style, framework = "graftlab-csv", "graftlab"
    elif sep == "," and "epoch" in columns and "loss" in names:
        style, framework = "keras-csv", "keras"
    else:
        style, framework = "table", None
    return ParsedLog(rows=rows, style=style, framework=framework, accuracy_names=accuracy_names)


def _assign_phases(
    rows: list[EpochRow], totals: list[int | None], breaks: set[int] = frozenset()
) -> None:
    """A new phase starts where the epoch counter goes back, the announced total changes, or
    the log says so between two epochs (``breaks``: indices of rows after such a line)."""
    phase = 1
    for j, row in enumerate(rows):
        if j:
            prev = rows[j - 1]
            restarted = row.epoch <= prev.epoch
            retotalled = totals[j] is not None and totals[j - 1] is not None
            retotalled = retotalled and totals[j] != totals[j - 1]
            if restarted or retotalled or j in breaks:
                phase += 1
        row.phase = phase


# -- free text (Keras progress output, PyTorch prints) ----------------------------------------

_EPOCH_HEADER = re.compile(r"^\W*epoch\W*(\d+)\s*(?:/|of)\s*(\d+)\W*$", re.I)
_EPOCH_ANY = re.compile(r"\bepoch\b\W{0,3}(\d+)(?:\s*(?:/|of)\s*(\d+))?", re.I)
_KERAS_METRIC = re.compile(rf"(?:^|\s)-\s+([A-Za-z_][\w]*)\s*:\s*({_NUM})(?=\s|$)", re.I)
#: A pasted Keras line wrapped after a metric's name, and the value that starts the next line.
_DANGLING = re.compile(r"(?:^|\s)-\s+([A-Za-z_]\w*)\s*:\s*$")
_LEADING_NUM = re.compile(rf"^\s*({_NUM})(?=\s|$)", re.I)
_CALLBACK_CHATTER = re.compile(
    r"improved from|did not improve|saving model|ReduceLROnPlateau|reducing learning rate"
    r"|early stopping|Restoring model weights|^\s*Epoch \d{5}:",
    re.I,
)
#: A line between epochs announcing the fine-tuning phase ("Unfreezing backbone", "Fine-tuning
#: starts"); "fine-tune" counts only when a word of starting follows it (see _announces_phase).
_PHASE_WORDS = re.compile(r"\bun-?freez|\bstage\s*2\b|\bphase\s*2\b|trainable\s*=\s*true", re.I)
_FINE_TUNE = re.compile(r"\bfine[- ]?tun(?:e|ing)\b", re.I)
_STARTS = re.compile(r"\b(?:start|begin|phase|stage)", re.I)


def _announces_phase(line: str) -> bool:
    # Two searches, not "fine-tune.*start" in one pattern: that one rescans the rest of the line
    # from every "fine-tune" in it, quadratic on a long line.
    if _PHASE_WORDS.search(line):
        return True
    m = _FINE_TUNE.search(line)
    return m is not None and _STARTS.search(line, m.end()) is not None


#: A heading line of a per-epoch summary (super-gradients' tree, "Validation:" blocks).
_SECTION = re.compile(
    r"^[\s│|├└┣┗─━\-=#*>]*(training|train|validation|valid|val|test|evaluation)\s*[:=\-]*\s*$",
    re.I,
)
#: A line that starts with ``3/20`` and then metrics: the epoch counter of a plain print.
_COUNTER = re.compile(r"^\s*\[?\s*(\d+)\s*/\s*(\d+)\s*\]?\s*[:,|\-]?\s+[A-Za-z]")
_METRIC_HINT = re.compile(r"loss|acc|top-?1|prec@1|error", re.I)
_BATCH_LINE = re.compile(r"\b(batch|step|iter|iteration)\b\W*\d", re.I)
_TOKEN = re.compile(
    r"(?P<num>[-+]?(?:(?:nan|inf(?:inity)?)\b|\d+\.?\d*(?:e[-+]?\d+)?|\.\d+(?:e[-+]?\d+)?))"
    # "Top-1" is one word, not "top" and the number -1
    r"(?P<pct>%?)|(?P<word>[A-Za-z_][A-Za-z0-9_]*(?:@\d+|(?<=\btop)[- ]?[15](?![\d.]))?)"
    r"|(?P<slash>/)",
    re.I,
)
_METRIC_WORDS = {
    "loss", "acc", "accuracy", "top1", "acc1", "acc@1", "prec@1", "lr", "f1", "error_rate"
}  # fmt: skip


#: A line that says training is over and an evaluation follows: a classification report's
#: header, a confusion matrix, evaluate()'s ``[loss, accuracy]``, "Training complete".
_AFTER_TRAINING = re.compile(
    rf"\bprecision\b.{{0,40}}\brecall\b|\bconfusion\b|\bclassification report\b|^\s*\[\s*\["
    rf"|\b(?:training|train)\s+(?:is\s+)?(?:complete|completed|finished|done|over)\b"
    rf"|\bfinished training\b|^\s*\[\s*{_NUM}\s*,\s*{_NUM}\s*\]\s*$",
    re.I,
)


@dataclass
class _Continuation:
    """A line with no epoch number that was added to the epoch row before it."""

    line: int
    columns: set[str]
    before: dict[str, float]  # the row's values before the line was added
    before_line: int
    overwrites: bool  # it set a column that an earlier line of the row had set
    after_marker: bool  # it came after an _AFTER_TRAINING line


def _trim_last_row(rows: list[EpochRow], pieces: list[list[_Continuation]]) -> None:
    """Cut the last epoch's row where it stops looking like the rows before it.

    Lines without an epoch number continue the epoch before them (the tutorial's ``val Loss``
    line under its ``Epoch 3/24`` header). After the last epoch that would also take in what a
    script prints once training is over -- a classification report's ``accuracy 0.02 300``,
    ``test accuracy: 0.5`` -- so the last row drops its first continuation that sets a column
    its own lines already set, comes after a report or matrix, or adds a column no earlier row
    has, unless earlier rows did the same; and every line after that one.
    """
    if not rows:
        return
    earlier = pieces[:-1]
    overwrote = any(p.overwrites for row in earlier for p in row)
    after_marker = any(p.after_marker for row in earlier for p in row)
    columns = {c for row in rows[:-1] for c in row.values}
    for p in pieces[-1]:
        if (
            (p.overwrites and not overwrote)
            or (p.after_marker and not after_marker)
            or (columns and p.columns - columns)
        ):
            rows[-1].values, rows[-1].line = p.before, p.before_line
            if not rows[-1].values:
                rows.pop()
            return


def _keras_metrics(line: str) -> dict[str, str]:
    # "Validation Results - Epoch: 3  Avg loss: ..." (ignite) has a counter, not a metric, after
    # its dash
    out = {m[1]: m[2] for m in _KERAS_METRIC.finditer(line)}
    return {k: v for k, v in out.items() if canonical(k)[1] not in ("epoch", "step")}


def _generic_metrics(line: str) -> tuple[int | None, int | None, dict[str, tuple[float, str]]]:
    """Read ``Epoch 3 train loss 0.4 acc 91.2% val loss ...``: (epoch, total, {col: value})."""
    epoch = total = None
    words: list[str] = []
    prefix = "train"
    out: dict[str, tuple[float, str]] = {}
    expect_total = False
    valued: str | None = None  # the column the token before set: "Accuracy: 9300/10000"
    count: str | None = None  # ... and the slash after it: the next number is the count's total
    numbered = False  # the token before was the epoch's number: "Epoch 3/10", not "| 75/75"
    for m in _TOKEN.finditer(line):
        word, number, percent, slash = m["word"], m["num"], m["pct"], m["slash"]
        just, valued = valued, None
        just_numbered, numbered = numbered, False
        if slash:
            count = just
            expect_total = count is None and just_numbered and total is None
            continue
        if word:
            words.extend(w for w in re.sub(r"top[- ]", "top", word.lower()).split("_") if w)
            count = None
            continue
        value = float(number)
        if count is not None:
            hits, name = out[count]
            if value > 0 and 0 <= hits <= value:
                out[count] = (hits / value, name)  # correct / seen, as a fraction
            count, words = None, []
            continue
        if expect_total:
            total, expect_total = int(value), False
            words = []
            continue
        for w in words:  # "Validation Results - Epoch: 3  Avg loss": the split precedes the epoch
            if w in _PREFIXES:
                prefix = _PREFIXES[w]
        if words and words[-1] in ("epoch", "ep") and epoch is None:
            epoch, words, numbered = int(value), [], True
            continue
        metric_words = [w for w in words if w in _METRIC_WORDS or w in ("learning", "rate")]
        if metric_words:
            if "learning" in words and "rate" in words:
                base = "lr"
            elif "error" in words and "rate" in words:
                base = "error_rate"
            else:
                base = _BASES.get(metric_words[-1], metric_words[-1])
            col = "lr" if base == "lr" else f"{prefix}_{base}"
            out[col] = (value / 100 if percent else value, words[-1])
            valued = col if col.endswith("accuracy") and not percent else None
        words = []
    return epoch, total, out


def _parse_text(lines: list[str]) -> ParsedLog | None:
    rows: list[EpochRow] = []
    totals: list[int | None] = []
    accuracy_names: set[str] = set()
    current: EpochRow | None = None
    current_total: int | None = None
    keras = torch = False
    in_evaluation, last_step, bar_done = False, None, False
    dangling: str | None = None  # "... - val_loss:" ended the line before: its value follows
    section: str | None = None  # a "Training" / "Validation" heading of a summary block
    pieces: list[list[_Continuation]] = []  # per row: its lines without an epoch number
    current_pieces: list[_Continuation] = []
    marker = False  # an _AFTER_TRAINING line since the current row began

    def flush() -> None:
        nonlocal current, current_pieces, marker
        if current is not None and current.values:
            rows.append(current)
            totals.append(current_total)
            pieces.append(current_pieces)
        current, current_pieces, marker = None, [], False

    breaks: set[int] = set()
    for i, line in enumerate(lines, 1):
        if not line or len(line) > MAX_RECORD_CHARS:
            continue  # data, not a record; and some patterns below are quadratic in its length
        if current is not None and _AFTER_TRAINING.search(line):
            marker = True
        if not line.strip() or _CALLBACK_CHATTER.search(line) or _LIGHTNING_ROW.match(line):
            continue  # a results table after training is an evaluation, not an epoch
        if _announces_phase(line) and not re.search(r"\d\.\d", line):
            flush()
            breaks.add(len(rows))
            continue
        if m := _EPOCH_HEADER.match(line):
            in_evaluation, last_step, bar_done = False, None, False
            flush()
            current = EpochRow(phase=0, epoch=int(m[1]), line=i)
            current_total = int(m[2])
            continue
        if dangling and current is not None and (m := _LEADING_NUM.match(line)):
            current.values[_column(*canonical(dangling))] = float(m[1])
        dangling = None
        keras_values = _keras_metrics(line)
        if keras_values and (m := _DANGLING.search(line)):
            dangling = m[1]
        if keras_values:
            keras = True
            bar = _KERAS_STEP.match(line)
            step = int(bar[1]) if bar else None
            if step is not None and last_step is not None and step < last_step and bar_done:
                # A finished epoch's bar, then a new counter with no "Epoch" header: the bar of
                # evaluate() or predict(), not an epoch of training.
                flush()
                in_evaluation = True
            if in_evaluation:
                last_step, bar_done = step, bool(bar and bar[2] == bar[1])
                continue
            last_step, bar_done = step, bool(bar and bar[2] == bar[1])
            # "Epoche 3/10 - Verlust: 0.41": the epoch's word in another language
            inline = (
                (_EPOCH_ANY.search(line) or _EPOCH_ANY.search(english(line)))
                if bar is None
                else None
            )
            if inline and (current is None or current.epoch != int(inline[1])):
                # "2024-03-01 10:00:01 - INFO - Epoch 3/10 - loss: 0.41 - ...": a logger's line
                # holds the epoch and its metrics, with no header line before it.
                flush()
                current = EpochRow(phase=0, epoch=int(inline[1]), line=i)
                current_total = int(inline[2]) if inline[2] else None
            if current is None:
                current, current_total = EpochRow(phase=0, epoch=len(rows) + 1, line=i), None
            # Each progress redraw repeats the running averages; the last one is the epoch's. A
            # line without a bar continues the one before (a pasted line wrapped after
            # "val_loss:").
            if bar is not None:
                current.values = {}
            for name, text in keras_values.items():
                col = _column(*canonical(name))
                if col.endswith("accuracy"):
                    accuracy_names.add(name)
                current.values[col] = float(text)
            current.line = i
            continue
        if m := _SECTION.match(line):
            section = "val" if m[1].lower().startswith(("val", "test", "eval")) else "train"
            continue
        if not _METRIC_HINT.search(line):
            line = english(line)  # "第3轮 训练损失: 0.41", "Epoche 3 - Verlust: 0.41"
            if not _METRIC_HINT.search(line):
                continue
        if _BATCH_LINE.search(line):
            continue
        epoch, total, values = _generic_metrics(line)
        if not values:
            continue
        if epoch is None and (m := _COUNTER.match(line)):
            epoch, total = int(m[1]), int(m[2])  # print(f"{epoch}/{epochs} train loss: ...")
        if epoch is not None:
            section = None
        elif section == "val" and not re.search(r"\btrain", line, re.I):
            # "Accuracy = 0.81" under a "Validation" heading is the validation accuracy.
            values = {"val_" + c.split("_", 1)[1] if c.startswith("train_") else c: v
                      for c, v in values.items()}  # fmt: skip
        torch = True
        if epoch is not None and not (
            current is not None
            and current.epoch == epoch
            and (total is None or current_total in (None, total))
        ):
            flush()
            current, current_total = EpochRow(phase=0, epoch=epoch, line=i), total
        if current is None:
            continue
        if epoch is None:
            current_pieces.append(
                _Continuation(
                    i,
                    set(values),
                    dict(current.values),
                    current.line,
                    # under a "Training"/"Validation" heading the epoch's summary restates it
                    overwrites=section is None and bool(set(values) & set(current.values)),
                    after_marker=marker,
                )
            )
        for col, (value, name) in values.items():
            if col.endswith("accuracy"):
                accuracy_names.add(name)
            current.values[col] = value
        current.line = i
    flush()
    _trim_last_row(rows, pieces)
    if not rows:
        return None
    _assign_phases(rows, totals, breaks)
    style = "keras" if keras else "torch"
    return ParsedLog(
        rows=rows,
        style=style,
        framework="keras" if keras else ("torch" if torch else None),
        accuracy_names=accuracy_names,
    )


# -- within-epoch progress (every redraw) ----------------------------------------------------

_REDRAW = re.compile(r"\r|\x08+")
_KERAS_STEP = re.compile(r"^\s*(\d+)/(\d+|Unknown)\s*(?:\[|━|\s)")
_TQDM_STEP = re.compile(r"\|\s*(\d+)/(\d+)\s*\[[\d:?]+(?:<[\d:?]+)?")
_TQDM_METRIC = re.compile(rf"([A-Za-z_][\w/]*)\s*=\s*({_NUM})(?=[,\]\s]|$)", re.I)
_TORCH_STEP = re.compile(
    r"^\s*\[\s*\d+\s*,\s*(\d+)\]|\b(?:step|batch|iter(?:ation)?)\b\W{0,3}(\d+)"
    r"(?:\s*(?:/|of)\s*(\d+))?",
    re.I,
)
_LOSS_OR_ACC = re.compile(r"loss|acc", re.I)
_VAL_BAR = re.compile(r"\b(?:val|valid|validation|validating|eval|evaluating|test|testing)\b", re.I)
#: Step records kept at most: the checks read the first batches, and a long log has millions.
MAX_STEPS = 5000


def _steps(text: str) -> list[StepRow]:
    """Every within-epoch progress record, including the redraws a terminal overwrites."""
    out: list[StepRow] = []
    for i, raw in enumerate(text.split("\n"), 1):
        if len(out) >= MAX_STEPS:
            break
        if not _LOSS_OR_ACC.search(raw):
            continue
        for part in _REDRAW.split(raw):
            part = _ANSI.sub("", part).strip()
            if not part or len(part) > MAX_RECORD_CHARS:
                continue
            row = _step_record(part, i)
            if row is not None:
                out.append(row)
    return out


def _step_record(part: str, line: int) -> StepRow | None:
    if m := _KERAS_STEP.match(part):
        metrics = _keras_metrics(part)
        if metrics and "val_" not in " ".join(metrics):  # epoch ends carry val_ metrics
            total = int(m[2]) if m[2].isdigit() else None
            values = {_column(*canonical(k)): float(v) for k, v in metrics.items()}
            return StepRow(int(m[1]), total, line, values, part)
        return None
    if m := _TQDM_STEP.search(part):
        values = {}
        # a bar described as validation ("Epoch 3 [val]: 100%|...") names its metrics bare
        split = "val" if _VAL_BAR.search(part[: m.start()]) else "train"
        for name, text in _TQDM_METRIC.findall(part[m.end() :]):
            # Lightning logs the batch's own value as train_loss_step: what a first step is.
            prefix, base = canonical(re.sub(r"_step$", "", name.replace("/", "_")), split)
            if base in ("loss", "accuracy") and prefix != "val":
                values[_column(prefix, base)] = float(text)
        return StepRow(int(m[1]), int(m[2]), line, values, part) if values else None
    if m := _TORCH_STEP.search(part):
        step = int(m[1] or m[2])
        _, _, metrics = _generic_metrics(part)
        values = {k: v for k, (v, _) in metrics.items() if not k.startswith("val_")}
        total = int(m[3]) if m[3] else None
        return StepRow(step, total, line, values, part) if values else None
    return None


_STEP_EPOCH = re.compile(r"^\s*\[\s*(\d+)\s*,|\bepoch\b\W{0,3}(\d+)", re.I)


def _by_epoch(steps: list[StepRow]) -> ParsedLog | None:
    """Epoch rows from a log of step prints only (the CIFAR tutorial's ``[1,  2000] loss:
    2.303``, ``Epoch [1/5], Step [100/600], Loss: 2.3026``): each epoch's last record, whose
    running or windowed loss is the closest the log comes to the epoch's."""
    last: dict[int, StepRow] = {}
    for step in steps:
        m = _STEP_EPOCH.search(step.text)
        if m is None:
            return None  # records without an epoch: nothing says where epochs end
        last[int(m[1] or m[2])] = step
    if len(last) < 2:
        return None
    rows = [EpochRow(0, epoch, s.line, dict(s.values)) for epoch, s in last.items()]
    number_runs(rows)
    return ParsedLog(rows=rows, style="steps", framework="torch")


# -- entry point ------------------------------------------------------------------------------


def _normalise(parsed: ParsedLog) -> None:
    cols = parsed.columns()
    # Per-epoch evaluation printed as "test" is the validation curve when nothing else is.
    if not any(c.startswith("val_") for c in cols):
        for row in parsed.rows:
            row.values = {
                ("val_" + k[5:] if k.startswith("test_") else k): v for k, v in row.values.items()
            }
    for row in parsed.rows:
        for prefix in ("train", "val"):
            err = row.values.pop(f"{prefix}_error_rate", None)
            if err is not None and f"{prefix}_accuracy" not in row.values:
                row.values[f"{prefix}_accuracy"] = 1.0 - err
    # Accuracy printed in percent anywhere in a column means the whole column is in percent.
    for col in {c for c in parsed.columns() if c.endswith("accuracy")}:
        finite = [r.values[col] for r in parsed.rows if col in r.values]
        finite = [v for v in finite if math.isfinite(v)]
        if finite and 1.5 < max(finite) <= 100.0:
            for row in parsed.rows:
                if col in row.values:
                    row.values[col] /= 100.0


def parse_log(path_or_text: str | os.PathLike) -> ParsedLog:
    """Parse a training log into a per-epoch table.

    Args:
        path_or_text: A file path, or the log's text itself.

    Raises:
        DataError: Nothing in the input looks like per-epoch training metrics.
    """
    text, name, size = read_text(path_or_text)
    read_all = size <= MAX_READ_BYTES
    total = len(text) if read_all else size  # characters, or the file's bytes when cut
    text, truncated = bound_text(text)
    if truncated is None and not read_all:
        truncated = (len(text), size)
    text = pasted_trainer_state(text) or text  # its entries, one a line, as the Trainer prints
    lines = clean_lines(text)
    steps = _steps(text)
    parsed = _parse_table(lines, name) or parse_dicts(lines) or parse_tools(lines)
    if parsed is None:
        parsed = _parse_text(lines)
        if parsed is None or len(parsed.rows) < 2:
            # numbers without names: read by their shape, an inference the findings say
            parsed = bare_table(lines) or parsed
    parsed = parsed or _by_epoch(steps)
    facts = ParsedLog(rows=[], style="text", lines=lines)
    _facts(lines, facts)
    if parsed is None:
        if (
            facts.callback_warnings
            or facts.nonfinite_lines
            or facts.head_errors
            or facts.one_sample_bn
            or facts.topk
            or steps
            or split_classes(lines)
            or numbered_listing(lines)
            or size_messages(lines)
            or matmul_messages(lines)
            or evaluation_mismatch(facts)  # a permuted confusion matrix, a report far below chance
            or evaluation_passes(lines)  # step lines of an evaluation, batch by batch
        ):
            parsed = facts
        else:
            where = f"{name!r}" if name else "the text given"
            if truncated:
                read = truncated[0] / 1e6
                where += f" (only its first {read:.1f} MB of {total / 1e6:.1f} MB were read)"
            raise DataError(
                f"Found no per-epoch training metrics in {where}. Expected Keras progress output "
                "('Epoch 3/10' then '... - loss: 0.32 - accuracy: 0.86 - val_loss: ...'), a "
                "Keras CSVLogger file, a graftlab results.csv, a table with a header such as "
                "'epoch,train_loss,val_loss,val_acc', or prints like 'Epoch 1 train loss 0.69 "
                "acc 0.50 val loss 0.70 val acc 0.48'."
            )
    for attr in (
        "num_classes",
        "num_classes_evidence",
        "output_units",
        "val_size",
        "callback_warnings",
        "nonfinite_lines",
        "evaluations",
        "head_errors",
        "one_sample_bn",
        "topk",
        "weights_loaded",
    ):
        setattr(parsed, attr, getattr(facts, attr))
    parsed.lines = lines
    parsed.steps = parsed.steps or steps  # a Trainer log's steps are its training dicts
    parsed.truncated = truncated and (truncated[0], total)
    _normalise(parsed)
    return parsed
