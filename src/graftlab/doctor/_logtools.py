"""The loggers of the training tools people run as they are: one line per logging step, read as
step records and, per epoch, as one row with the validation that follows it.

- the pytorch/examples ImageNet script and the many scripts that copy it: ``Epoch: [3][ 10/313]
  Time ... Loss 2.1 (2.3)  Acc@1 40.6 (38.2)  Acc@5 ...`` (``Prec@1`` in older copies), then
  ``Test: [ 0/79] ... Loss ... Acc@1 ...`` and the summary `` * Acc@1 61.2 Acc@5 85.0``;
- timm's ``train.py``: ``Train: 3 [ 50/390 ( 13%)]  Loss: 1.23 (1.40)  Time: ...  LR: 1.000e-03``
  and ``Test: [ 78/78]  Time: ...  Loss: 0.9 (1.1)  Acc@1: 71.9 (68.0)  Acc@5: ...``
  (``Test (EMA):`` lines evaluate the averaged weights and are not the run's own curve);
- mmcv (mmcls, mmpretrain 0.x): ``Epoch [3][50/100]\\tlr: 1.000e-03, eta: ..., loss: 0.6931``
  and ``Epoch(val) [3][20]\\taccuracy_top-1: 50.0000, accuracy_top-5: ...``;
- mmengine (mmpretrain 1.x): ``Epoch(train) [3][ 50/100]  lr: 1.0000e-03  eta: ...  loss: 0.69``
  and ``Epoch(val) [3][20/20]    accuracy/top1: 50.0000  ...``;
- the ``results.txt`` of ultralytics' YOLOv3 (2019-2020) and YOLOv5 (to v5.0): one line per
  epoch without a header, ``  12/299  3.72G  0.0836  0.0479  0.0179  0.149  45  640  0.66 ...``:
  epoch/last, GPU memory, the box (GIoU), objectness and classification training losses and
  their total, targets, image size, precision, recall, mAP@0.5, F1 or mAP@0.5:0.95, then the
  three validation losses (the layout both repositories' ``plot_results`` read).

A step's values are the running averages where the tool prints them (the number in
parentheses), as Keras prints its bars; accuracies are in percent and become fractions. Lines of
other kinds (warnings, progress bars, a logger's prefix) are skipped, so the formats read the
same interleaved with anything else.
"""

from __future__ import annotations

import re

from graftlab.doctor._logrows import EpochRow, ParsedLog, StepRow, number_runs

_N = r"[-+]?(?:nan|inf|\d+(?:\.\d*)?(?:e[-+]?\d+)?)"
#: A value and its running average: ``2.1 (2.3)``, ``1.2 ( 1.4)``.
_PAIR = rf"({_N})\s*\(\s*({_N})\s*\)"

_IMAGENET_STEP = re.compile(r"\bEpoch:\s*\[(\d+)\]\s*\[\s*(\d+)\s*/\s*(\d+)\]")
_TIMM_STEP = re.compile(r"\bTrain:\s*(\d+)\s*\[\s*(\d+)\s*/\s*(\d+)\s*\(\s*\d+%\)\]")
_TEST_STEP = re.compile(r"\bTest(?:\s*\((EMA)\))?:\s*\[\s*(\d+)\s*/\s*(\d+)\]")
_LOSS = re.compile(rf"\bLoss:?\s+{_PAIR}", re.I)
_ACC1 = re.compile(rf"\b(?:Acc@1|Prec@1):?\s+{_PAIR}", re.I)
_SUMMARY = re.compile(rf"^\s*\*\s*(?:Acc@1|Prec@1)\s+({_N})\s+(?:Acc@5|Prec@5)\s+({_N})", re.I)
_LR = re.compile(rf"\b(?:LR|lr):?\s+({_N})")

_MM_STEP = re.compile(r"\bEpoch(?:\(train\))?\s*\[(\d+)\]\s*\[\s*(\d+)\s*/\s*(\d+)\]")
_MM_VAL = re.compile(r"\bEpoch\((?:val|test)\)\s*\[(\d+)\]\s*\[[\d\s/]+\]")
_MM_METRIC = re.compile(rf"\b([A-Za-z][\w./@-]*?)\s*:\s*({_N})(?=[,\s]|$)", re.I)
_MM_TOP1 = re.compile(r"^(?:accuracy[_/-]?top-?1|top-?1|accuracy)$", re.I)


def _f(text: str) -> float:
    return float(text)


class _Run:
    """Step records and epoch rows as they are read, whatever the tool."""

    def __init__(self) -> None:
        self.steps: list[StepRow] = []
        self.rows: list[EpochRow] = []
        self.train: dict[int, tuple[int, dict[str, float]]] = {}  # epoch -> (line, last values)
        self.val_epoch: int | None = None  # the epoch a validation pass belongs to

    def step(self, epoch: int, step: int, total: int, line: int, values: dict, text: str) -> None:
        if not values:
            return
        self.steps.append(StepRow(step, total, line, dict(values), text.strip()))
        self.train[epoch] = (line, dict(values))
        self.val_epoch = epoch

    def validation(self, epoch: int | None, line: int, values: dict[str, float]) -> None:
        epoch = self.val_epoch if epoch is None else epoch
        if epoch is None or not values:
            return
        if self.rows and self.rows[-1].epoch == epoch:
            self.rows[-1].values.update(values)
            self.rows[-1].line = line
            return
        _, train = self.train.get(epoch, (line, {}))
        self.rows.append(EpochRow(0, epoch, line, {**train, **values}))

    def parsed(self, style: str) -> ParsedLog | None:
        done = {r.epoch for r in self.rows}
        for epoch, (line, values) in self.train.items():
            if epoch not in done:  # an epoch whose validation was not logged (or not yet)
                self.rows.append(EpochRow(0, epoch, line, dict(values)))
        if not self.steps or not self.rows:
            return None
        self.rows.sort(key=lambda r: r.line)
        number_runs(self.rows)
        return ParsedLog(rows=self.rows, style=style, framework="torch", steps=self.steps)


def _averages(line: str) -> dict[str, float]:
    values = {}
    if m := _LOSS.search(line):
        values["loss"] = _f(m[2])
    if m := _ACC1.search(line):
        values["accuracy"] = _f(m[2]) / 100
    return values


def _meters(lines: list[str]) -> ParsedLog | None:
    """The ImageNet example's and timm's lines: ``Epoch: [e][i/N]`` or ``Train: e [i/N (p%)]``
    steps, ``Test: [i/N]`` evaluation steps and the `` * Acc@1`` summary."""
    run = _Run()
    style = None
    test: dict[str, float] = {}
    for i, line in enumerate(lines, 1):
        step = _IMAGENET_STEP.search(line) or _TIMM_STEP.search(line)
        if step is not None:
            style = style or ("timm" if step.re is _TIMM_STEP else "imagenet-example")
            if test:
                run.validation(None, test.pop("line"), test)
                test = {}
            values = {f"train_{k}": v for k, v in _averages(line).items()}
            if (lr := _LR.search(line[step.end() :])) and "loss" in line.lower():
                values["lr"] = _f(lr[1])
            run.step(int(step[1]), int(step[2]), int(step[3]), i, values, line)
        elif (m := _TEST_STEP.search(line)) and m[1] is None:
            test = {f"val_{k}": v for k, v in _averages(line).items()} | {"line": i}
        elif m := _SUMMARY.search(line):
            test = {k: v for k, v in test.items() if k != "val_accuracy"}
            test.update({"val_accuracy": _f(m[1]) / 100, "line": i})
    if test:
        run.validation(None, test.pop("line"), test)
    return run.parsed(style) if style else None


def _mm_values(text: str, prefix: str) -> dict[str, float]:
    values = {}
    for name, number in _MM_METRIC.findall(text):
        if name.lower() == "loss":
            values[f"{prefix}_loss"] = _f(number)
        elif name.lower() == "lr":
            values["lr"] = _f(number)
        elif _MM_TOP1.match(name):
            values[f"{prefix}_accuracy"] = _f(number) / 100
    return values


def _openmmlab(lines: list[str]) -> ParsedLog | None:
    """mmcv's and mmengine's text logger: ``Epoch [e][i/N]`` / ``Epoch(train) [e][i/N]`` steps and
    ``Epoch(val) [e][N]`` results."""
    run = _Run()
    for i, line in enumerate(lines, 1):
        if m := _MM_VAL.search(line):
            run.validation(int(m[1]), i, _mm_values(line[m.end() :], "val"))
        elif m := _MM_STEP.search(line):
            values = _mm_values(line[m.end() :], "train")
            run.step(int(m[1]), int(m[2]), int(m[3]), i, values, line[m.start() :])
    return run.parsed("openmmlab")


#: A results.txt line starts with ``epoch/last`` and the GPU memory (``3.72G``).
_YOLO_EPOCH = re.compile(r"^\s*(\d+)/(\d+)\s+\d+(?:\.\d+)?[GM]?\s")
#: The 13 numbers after them, by position: None for those no rule reads.
_YOLO_COLUMNS = (
    "train_box_loss",
    "train_obj_loss",
    "train_cls_loss",
    "train_loss",
    None,  # targets in the last batch
    None,  # image size
    "val_precision",
    "val_recall",
    "val_map_0.5",
    None,  # F1 (YOLOv3) or mAP@0.5:0.95 (YOLOv5)
    "val_box_loss",
    "val_obj_loss",
    "val_cls_loss",
)


def _ultralytics(lines: list[str]) -> ParsedLog | None:
    """YOLOv3's and YOLOv5's headerless ``results.txt``: three or more epoch lines."""
    rows = []
    for i, line in enumerate(lines, 1):
        if not _YOLO_EPOCH.match(line):
            continue
        cells = line.split()
        if len(cells) != 2 + len(_YOLO_COLUMNS):
            continue
        try:
            numbers = [float(c) for c in cells[2:]]
        except ValueError:
            continue
        values = {col: v for col, v in zip(_YOLO_COLUMNS, numbers, strict=True) if col}
        rows.append(EpochRow(0, int(cells[0].split("/")[0]), i, values))
    if len(rows) < 3:
        return None
    number_runs(rows)
    return ParsedLog(rows=rows, style="ultralytics", framework="torch")


def training_step(line: str) -> bool:
    """Whether the line is a training step of one of these loggers (not an evaluation's)."""
    return any(p.search(line) for p in (_IMAGENET_STEP, _TIMM_STEP, _MM_STEP))


def parse_tools(lines: list[str]) -> ParsedLog | None:
    """The per-epoch table and step records of a tool's own log, or None when it is none."""
    return _meters(lines) or _openmmlab(lines) or _ultralytics(lines)
