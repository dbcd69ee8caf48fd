"""What every log reader produces: per-epoch rows, first-batch records, and the parsed log,
with the canonical metric names (``train_loss``, ``val_accuracy``, ``lr``) they all use."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: One epoch or step record is at most this long once redraws are resolved; a longer line is
#: data (an array, a blob), not metrics, and is not tokenised.
MAX_RECORD_CHARS = 20_000


@dataclass
class EpochRow:
    """One epoch as the log reports it.

    Attributes:
        phase: 1-based phase index (a new ``Epoch 1/N`` run or ``phase`` value starts one).
        epoch: The epoch number exactly as written (Keras CSV logs count from 0).
        line: 1-based line of the log that holds the final metrics of the epoch.
        values: Canonical metric name -> value (accuracies as fractions, not percent).
        phase_name: The phase's name when the log gives one (``probe``, ``finetune``).
    """

    phase: int
    epoch: int
    line: int
    values: dict[str, float] = field(default_factory=dict)
    phase_name: str | None = None

    def get(self, name: str) -> float | None:
        return self.values.get(name)


@dataclass
class StepRow:
    """One within-epoch progress record (a Keras bar redraw, a tqdm bar, a ``[1, 2000]`` print).

    Attributes:
        step: The batch counter as printed (1-based for Keras and tqdm).
        total: Batches per epoch when printed, else ``None``.
        line: 1-based physical line of the log.
        values: Canonical metric name -> value; Keras prints running averages over the epoch.
        text: The record as printed (one redraw, not the whole physical line).
    """

    step: int
    total: int | None
    line: int
    values: dict[str, float]
    text: str


@dataclass
class ParsedLog:
    """Everything :func:`parse_log` understood.

    Attributes:
        rows: The per-epoch table, in log order.
        style: ``keras``, ``keras-csv``, ``graftlab-csv``, ``table`` or ``torch``.
        framework: ``keras``, ``torch``, ``graftlab`` or ``None`` when the style does not say.
        num_classes: K from the last Dense/Linear layer's output units or "Found N images
            belonging to K classes", else ``None``.
        num_classes_evidence: Where K came from (``line 3: Found ...``).
        output_units: Units of the last Dense/Linear layer seen, and its line.
        val_size: Number of validation images when the log says it (second ``Found`` line,
            ``validate on N samples``, ``Using N files for validation``).
        accuracy_names: Original names of the accuracy metrics (to spot ``binary_accuracy``).
        callback_warnings: ``(line, text)`` of Keras messages about a monitored metric missing.
        nonfinite_lines: ``(line, text)`` of "invalid loss"/NaN messages outside epoch rows.
        lines: The cleaned lines (redraws resolved, ANSI removed), for quoting.
        topk: ``(line, top-1, top-5, mean loss or None)`` of the last top-1/top-5 summary
            of an evaluation (timm/DeiT's ``* Acc@1 81.2 Acc@5 95.3 loss 0.81``), accuracies
            as fractions.
        weights_loaded: ``(line, text)`` of a line saying a checkpoint loaded with every key.
        one_sample_bn: ``(line, text)`` of PyTorch's "Expected more than 1 value per channel
            when training": BatchNorm in training mode given a batch of one.
        head_errors: ``(line, text)`` of framework errors saying the labels do not fit the
            model's outputs (``Target 3 is out of bounds``, ``size mismatch for fc.weight``).
        evaluations: ``(line, loss, accuracy)`` of Keras ``evaluate()`` results printed as a
            ``[loss, accuracy]`` list.
        truncated: ``(characters read, characters in the input)`` when a very long log was
            read only in part (see :data:`graftlab.doctor._logparse.MAX_LOG_CHARS`).
        steps: Within-epoch progress records, in log order, every redraw included: what the
            first batches scored before any epoch ended.
        inferred: How the columns were inferred when the log does not name them (a table
            without a header); findings read from such rows are inferences.
    """

    rows: list[EpochRow]
    style: str
    framework: str | None = None
    num_classes: int | None = None
    num_classes_evidence: str | None = None
    output_units: tuple[int, int] | None = None
    val_size: int | None = None
    accuracy_names: set[str] = field(default_factory=set)
    callback_warnings: list[tuple[int, str]] = field(default_factory=list)
    nonfinite_lines: list[tuple[int, str]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    steps: list[StepRow] = field(default_factory=list)
    truncated: tuple[int, int] | None = None
    evaluations: list[tuple[int, float, float]] = field(default_factory=list)
    head_errors: list[tuple[int, str]] = field(default_factory=list)
    one_sample_bn: list[tuple[int, str]] = field(default_factory=list)
    topk: tuple[int, float, float, float | None] | None = None
    weights_loaded: tuple[int, str] | None = None
    inferred: str | None = None

    def phases(self) -> list[list[EpochRow]]:
        """Rows grouped by phase, in order."""
        out: dict[int, list[EpochRow]] = {}
        for row in self.rows:
            out.setdefault(row.phase, []).append(row)
        return list(out.values())

    def columns(self) -> set[str]:
        return {k for row in self.rows for k in row.values}


def number_runs(rows: list[EpochRow]) -> None:
    """Set each row's phase, in log order: a new one starts where the epoch counter goes back
    (a second run written to the same log)."""
    phase = 1
    for j, row in enumerate(rows):
        if j and row.epoch <= rows[j - 1].epoch:
            phase += 1
        row.phase = phase


# -- metric names -----------------------------------------------------------------------------

_PREFIXES = {
    "train": "train",
    "training": "train",
    "trn": "train",
    "tr": "train",
    "va": "val",
    "val": "val",
    "valid": "val",
    "validation": "val",
    "eval": "val",
    "dev": "val",
    "vl": "val",
    "vld": "val",
    "test": "test",
    "tst": "test",
}
_BASES = {
    "loss": "loss",
    "acc": "accuracy",
    "accuracy": "accuracy",
    "categorical_accuracy": "accuracy",
    "sparse_categorical_accuracy": "accuracy",
    "binary_accuracy": "accuracy",
    "top1": "accuracy",
    "acc1": "accuracy",
    "acc@1": "accuracy",
    "top_1_accuracy": "accuracy",
    "accuracy_top1": "accuracy",
    "accuracy_top_1": "accuracy",  # mmcls' accuracy_top-1
    "top_1": "accuracy",
    "top1_acc": "accuracy",
    "top1_accuracy": "accuracy",
    "acc_top1": "accuracy",
    "prec@1": "accuracy",  # the ImageNet example's older copies
    "error_rate": "error_rate",
    "lr": "lr",
    "learning_rate": "lr",
    "balanced_accuracy": "balanced_accuracy",
    "macro_f1": "macro_f1",
    "f1": "macro_f1",
    "f1_score": "macro_f1",
}


#: A named part of a loss, as detectors and multi-task models log it, without its split:
#: ``box_loss``, ``cls_loss``, ``loss_bbox``.
PART_LOSS = re.compile(r"[a-z0-9]+_loss|loss_[a-z0-9]+")

#: Namespaces written before a ``/``: a split (``train/loss``, ``val/cls_loss``: Lightning and
#: TensorBoard tags, YOLOv5/YOLOv8 ``results.csv``), or YOLO's ``metrics/`` (its validation
#: scores: ``metrics/precision``, ``metrics/accuracy_top1``).
_NAMESPACES = {**{p: p for p in _PREFIXES}, "metrics": "val"}


#: Words of other languages in hand-written prints and table headers, and the English word the
#: metric names above use: Chinese (CSDN, Zhihu), Spanish, Portuguese, French and German.
_WORDS = {
    "训练": "train", "驗證": "val", "验证": "val", "测试": "test", "測試": "test",
    "损失": "loss", "損失": "loss", "准确率": "acc", "準確率": "acc", "正确率": "acc",
    "准确度": "acc", "精度": "acc", "学习率": "lr", "學習率": "lr", "轮次": "epoch",
    "轮数": "epoch", "轮": "epoch", "世代": "epoch",
    "entrenamiento": "train", "treino": "train", "treinamento": "train",
    "entraînement": "train", "validación": "val", "validação": "val",
    "validacion": "val", "validacao": "val", "prueba": "test", "teste": "test",
    "pérdida": "loss", "perdida": "loss", "perda": "loss", "perte": "loss", "verlust": "loss",
    "precisión": "acc", "exactitud": "acc", "acurácia": "acc", "acuracia": "acc",
    "exactitude": "acc", "genauigkeit": "acc", "época": "epoch", "epoca": "epoch",
    "époque": "epoch", "epoche": "epoch",
}  # fmt: skip
_FOREIGN = re.compile(
    r"第\s*(\d+)\s*(?:轮|輪|个?epoch)|"
    + "|".join(
        re.escape(w) if w[0] > "\u2e80" else rf"\b{re.escape(w)}\b"  # CJK has no word breaks
        for w in sorted(_WORDS, key=len, reverse=True)
    ),
    re.I,
)


def english(text: str) -> str:
    """``text`` with the metric words of other languages in English (``训练损失`` -> ``train
    loss``, ``第3轮`` -> ``epoch 3``, ``Verlust`` -> ``loss``)."""

    def word(m: re.Match) -> str:
        return f" epoch {m[1]} " if m[1] else f" {_WORDS[m[0].lower()]} "

    return _FOREIGN.sub(word, text)


#: A unit written into a column's name: ``Train Acc (%)``, ``val_acc[%]``.
_UNIT = re.compile(r"\(\s*%\s*\)|\[\s*%\s*\]|%")


def canonical(name: str, default_prefix: str = "train") -> tuple[str | None, str]:
    """Map a metric name to ``(prefix, base)``; prefix is None for ``lr``, ``epoch``, ``phase``."""
    key = _UNIT.sub("", english(name).strip().lower())
    key = re.sub(r"[\s\-]+", "_", key).strip("_:")
    head, slash, rest = key.partition("/")
    if slash and head in _NAMESPACES and rest:
        key = f"{_NAMESPACES[head]}_{rest}"
    elif slash and head in ("x", "lr") and rest.startswith(("lr", "pg")):
        return None, "lr"  # YOLO's learning rate per parameter group: x/lr0, lr/pg0
    if key in ("epoch", "ep", "epochs"):
        return None, "epoch"
    if key in ("phase", "stage"):
        return None, "phase"
    if key in ("step", "global_step", "wall_time", "time", "walltime"):
        return None, "step"
    prefix = default_prefix
    head, _, rest = key.partition("_")
    if rest and head in _PREFIXES:
        prefix, key = _PREFIXES[head], rest
    if key.endswith("_epoch"):  # Lightning logs train_loss_epoch next to train_loss_step
        key = key[: -len("_epoch")]
    base = _BASES.get(key, key)
    if base == "lr":
        return None, "lr"
    return prefix, base


def _column(prefix: str | None, base: str) -> str:
    return base if prefix is None else f"{prefix}_{base}"
