"""An evaluation printed after training that says the predictions and the labels are paired in
another order or numbered otherwise.

What people print after ``fit`` is a confusion matrix, scikit-learn's classification report or a
line such as ``Test accuracy: 0.2475``. Two shapes of those numbers name a label mapping:

- a confusion matrix whose rows each fall mostly into one column, a different column for every
  row, but not the diagonal: the model separates the classes and calls each by another's
  index -- a permutation of the class numbering (a hand-written class list, folders numbered
  otherwise in evaluation);
- an evaluation at or below chance (1/K) right after a training run whose validation accuracy
  was far above it: the same model on the same kind of images cannot fall to chance unless the
  predictions are compared with labels in another order (a shuffled generator passed to
  ``predict``, a second pass over a shuffling ``tf.data`` pipeline) or another numbering. An
  accuracy far below chance says the same without the training lines.

The confusion matrix and the accuracies are read from the log's lines here, not by the epoch
parser: they are what comes after the epochs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from graftlab.doctor._checks import declare, make
from graftlab.doctor._logrows import ParsedLog
from graftlab.doctor.findings import Finding

declare(
    "GL441",
    "label-order-mismatch",
    "warning",
    "log",
    "The evaluation after training pairs predictions and labels in another order or numbering",
    ("https://keras.io/api/data_loading/image/",),
)

_NUM = r"\d{1,9}(?:\.\d{1,12})?"
#: One row of a printed 2-D array: ``[[ 0 97  3]``, `` [ 2  1 95]]``, ``array([[0, 97, 3],``.
_ROW = re.compile(
    rf"^\s*(?:[\w .]{{0,40}}[:=]\s*)?(?:array\()?\[?\[\s*((?:{_NUM}[\s,]+){{1,99}}{_NUM})"
    r"\s*,?\s*\]"
)
#: ``Test accuracy: 0.2475``, ``test acc = 24.75%``, ``Accuracy on the test set: 0.25``,
#: PyTorch's examples ``Test set: Average loss: 2.3, Accuracy: 250/1000 (25%)`` and
#: ``Accuracy of the network on the 10000 test images: 10 %``.
_EVAL_ACC = re.compile(
    rf"\b(?:test|testing|eval|evaluation|holdout|hold-out)(?:[ _-]?set)?[ _-]?acc(?:uracy)?\b"
    rf"\s*(?:\(%\))?\s*[:=]?\s*({_NUM})\s*(%?)"
    rf"|\bacc(?:uracy)? (?:on|of) (?:the )?(?:test|evaluation|holdout)(?: set| data| images)?"
    rf"\s*[:=]?\s*({_NUM})\s*(%?)"
    rf"|^\s*Test set:.{{0,80}}?Accuracy:\s*\d{{1,9}}/\d{{1,9}}\s*\(({_NUM})(%)\)"
    rf"|\bacc(?:uracy)? of the (?:network|model|net|classifier) on (?:the )?(?:\d[\d,]* )?"
    rf"test (?:images|set|data)\s*[:=]\s*({_NUM})\s*(%?)",
    re.I,
)
#: The ``accuracy`` row of scikit-learn's classification report: ``accuracy   0.02   300``.
_REPORT_ACC = re.compile(rf"^\s*accuracy\s+({_NUM})\s+(\d{{1,9}})\s*$")
#: A class row of the report: ``name  precision  recall  f1  support``.
_REPORT_ROW = re.compile(rf"^\s*\S.{{0,80}}?\s+{_NUM}\s+{_NUM}\s+{_NUM}\s+\d{{1,9}}\s*$")
_MAX_LINES = 200_000
_MAX_LINE_CHARS = 4_000
#: The share of the images that must lie on the permutation for the matrix to say one, and the
#: share of each row in its own column of the permutation.
_ON_PERMUTATION = 0.6
_ROW_SHARE = 0.5
#: Validation accuracy during training at least this many times chance for a chance-level
#: evaluation to contradict it.
_LEARNED = 2.0
#: An evaluation at most this many times chance is "at chance".
_AT_CHANCE = 1.25
#: At most this share of chance is "far below" it: systematic, never noise.
_FAR_BELOW = 0.5
#: At least this share of all images in one column is "one class for every image".
_ONE_COLUMN = 0.8


@dataclass(frozen=True)
class Evaluation:
    """One accuracy printed after training, and the class count it shows when it shows one."""

    line: int
    text: str
    accuracy: float
    k: int | None = None


def confusion_matrices(lines: list[str]) -> list[tuple[int, list[list[float]]]]:
    """(first line, rows) of every square matrix of two or more classes printed as an array."""
    out: list[tuple[int, list[list[float]]]] = []
    run: list[tuple[int, list[float]]] = []
    for i, line in enumerate([*lines[:_MAX_LINES], ""], 1):
        m = _ROW.match(line) if "[" in line and len(line) <= _MAX_LINE_CHARS else None
        starts = m is not None and "[[" in line.replace(" ", "")
        if m is not None and run and not starts:
            run.append((i, _numbers(m[1])))
            continue
        if len(run) >= 2 and all(len(r) == len(run) for _, r in run):
            out.append((run[0][0], [r for _, r in run]))
        run = [(i, _numbers(m[1]))] if m is not None and starts else []
    return out


def _numbers(text: str) -> list[float]:
    return [float(v) for v in re.split(r"[\s,]+", text.strip())]


def evaluations(lines: list[str]) -> list[Evaluation]:
    """Accuracies printed as an evaluation's result, in log order (fractions)."""
    out: list[Evaluation] = []
    rows = 0  # class rows of the classification report seen since its header
    for i, line in enumerate(lines[:_MAX_LINES], 1):
        if len(line) > _MAX_LINE_CHARS:
            continue
        if "precision" in line and "recall" in line:
            rows = 0
        elif _REPORT_ROW.match(line) and not line.lstrip().startswith(("macro", "weighted")):
            rows += 1
        if m := _REPORT_ACC.match(line):
            out.append(Evaluation(i, line.strip(), float(m[1]), rows if rows >= 2 else None))
        elif m := _EVAL_ACC.search(line):
            value, pct = next((m[g], m[g + 1]) for g in (1, 3, 5, 7) if m[g] is not None)
            acc = float(value) / 100 if pct or float(value) > 1 else float(value)
            if 0 <= acc <= 1:
                out.append(Evaluation(i, line.strip(), acc))
    return out


def _permutation(matrix: list[list[float]]) -> tuple[list[int], float, float] | None:
    """(column each row falls into, share of images on that mapping, accuracy) when every row
    falls mostly into one column, a different one for each, and two or more rows not onto the
    diagonal; else None."""
    k = len(matrix)
    total = sum(map(sum, matrix))
    if total <= 0 or any(sum(row) <= 0 for row in matrix):
        return None
    cols = [max(range(k), key=row.__getitem__) for row in matrix]
    if len(set(cols)) != k or sum(c != r for r, c in enumerate(cols)) < 2:
        return None
    if any(row[c] < _ROW_SHARE * sum(row) for row, c in zip(matrix, cols, strict=True)):
        return None  # a row spread over several columns: confusion, not a renaming
    on = sum(row[c] for row, c in zip(matrix, cols, strict=True)) / total
    acc = sum(matrix[r][r] for r in range(k)) / total
    if on < _ON_PERMUTATION:
        return None
    return cols, on, acc


def _best_validation(log: ParsedLog) -> tuple[float, str, str] | None:
    """(best held-out accuracy, where it was printed, what it was): a validation accuracy of
    the training lines, or a Keras ``evaluate()`` result (``[loss, accuracy]``) on images of
    the same kind."""
    vals = [
        (v, f"validation accuracy during training reached {v:.4f} (epoch {r.epoch})", "validating")
        for r in log.rows
        if (v := r.values.get("val_accuracy")) is not None
    ]
    vals += [
        (acc, f"line {line:>4} | model.evaluate() returned accuracy {acc:.4f}", "evaluate()")
        for line, _, acc in log.evaluations
    ]
    return max(vals, key=lambda v: v[0]) if vals else None


def _learned(best: float, chance: float) -> bool:
    """An accuracy that says the model learned: twice chance, and at least 0.5; with two or
    three classes, where twice chance is out of reach or near it, halfway from chance to 1."""
    return best >= max(min(_LEARNED * chance, (1 + chance) / 2), 0.5)


def _one_column(matrix: list[list[float]]) -> bool:
    """Nearly every image predicted as one class: the signature of inputs the model cannot
    read (a missing rescale), not of a pairing (that spreads each row over the columns)."""
    total = sum(map(sum, matrix))
    return max(sum(col) for col in zip(*matrix, strict=True)) >= _ONE_COLUMN * total


def evaluation_mismatch(log: ParsedLog, swung: bool = False) -> list[Finding]:
    """GL441 from a permuted confusion matrix, else from an evaluation at chance after a
    training run that validated far above it (or far below chance on its own). ``swung``:
    validation itself fell to chance in an epoch between epochs near 1 (GL454); an evaluation
    at chance is then that finding's symptom (inference mode), not a sign of the pairing."""
    after = log.rows[-1].line if log.rows else 0  # what is printed after training
    scored = []  # a matrix that is no permutation still gives an accuracy: its diagonal
    for line, matrix in confusion_matrices(log.lines):
        if line <= after:
            continue
        if (perm := _permutation(matrix)) is not None:
            return [_permuted(log, line, matrix, *perm)]
        total = sum(map(sum, matrix))
        if _one_column(matrix):
            return []  # one class for every image: the inputs, not the pairing
        if total > 0:
            acc = sum(matrix[i][i] for i in range(len(matrix))) / total
            text = f"confusion matrix: diagonal {acc:.4f} of the images"
            scored.append(Evaluation(line, text, acc, len(matrix)))
    if swung:
        return []
    best = _best_validation(log)
    for ev in sorted([*evaluations(log.lines), *scored], key=lambda e: e.line):
        if ev.line <= after:
            continue
        k = ev.k or log.num_classes
        if k is not None and k >= 2:
            chance = 1 / k
            learned = best is not None and _learned(best[0], chance)
            if (learned and ev.accuracy <= _AT_CHANCE * chance) or (
                ev.accuracy <= _FAR_BELOW * chance
            ):
                return [_at_chance(log, ev, k, best if learned else None)]
        if best is None or ev.accuracy > best[0]:
            # an evaluation printed earlier (``Test accuracy: 0.93``) is a reference too: the
            # same model scored twice, at 0.93 by evaluate() and at chance by hand, is the pairing
            best = (ev.accuracy, _quote(log, ev.line).strip(), "an earlier evaluation")
    return []


def _quote(log: ParsedLog, line: int) -> str:
    text = log.lines[line - 1].strip() if 0 < line <= len(log.lines) else ""
    return f"  line {line:>4} | {text[:160]}"


_WHY = (
    "The model was right about each class in training; here its predictions are scored against "
    "labels that are in another order than the images it predicted, or that number the classes "
    "otherwise. Common sources: a generator or dataset that shuffles passed to predict() and "
    "compared with its .classes (or with labels collected in a second, differently shuffled "
    "pass over a tf.data pipeline); a hand-written class list where the loader numbered the "
    "folders alphabetically; an evaluation folder with other class folders than training; a "
    "label encoder fitted again on the test labels."
)
_FIX = (
    "# Predict and read the labels in one pass, in one order:\n"
    "test_gen = datagen.flow_from_directory(test_dir, shuffle=False, ...)  # Keras\n"
    "y_pred = model.predict(test_gen).argmax(1); y_true = test_gen.classes\n"
    "# tf.data: y_true, y_pred from the same batches\n"
    "#   for x, y in test_ds: y_true.append(y); y_pred.append(model(x).numpy().argmax(1))\n"
    "# class names: train_gen.class_indices / train_set.classes, never a hand-written list"
)


def _permuted(log: ParsedLog, line: int, matrix, cols: list[int], on: float, acc: float):
    k = len(matrix)
    moved = [(r, c) for r, c in enumerate(cols) if r != c]
    pairs = ", ".join(f"{r}->{c}" for r, c in moved[:6]) + (" ..." if len(moved) > 6 else "")
    evidence = [_quote(log, line + j) for j in range(min(k, 6))]
    evidence.append(
        f"{on:.0%} of the images fall into one column per true class, a different column for "
        f"each ({pairs}), while the diagonal holds {acc:.0%}"
    )
    evidence.append(
        "inferred: rows are taken to be true classes and columns predictions (either way "
        "round, the mapping is a permutation)"
    )
    return make(
        "GL441",
        title=f"The confusion matrix is a permutation: {len(moved)} of {k} classes are "
        "predicted, consistently, as another class",
        evidence="\n".join(evidence),
        explanation="A model that had not learned would spread each class over the columns; "
        "this one puts nearly every image of a class into one column -- the wrong one, and a "
        "different one for each class. It separates the classes and the evaluation names them "
        "by other indices. " + _WHY,
        fix=_FIX,
        references=["https://keras.io/api/data_loading/image/"],
    )


def _at_chance(log: ParsedLog, ev: Evaluation, k: int, best: tuple[float, str, str] | None):
    chance = 1 / k
    evidence = []
    if best is not None:
        evidence.append(best[1])
    evidence.append(_quote(log, ev.line))
    where = f"K = {k} from its rows" if ev.k else f"K = {k}: {log.num_classes_evidence}"
    low = "far below" if ev.accuracy <= _FAR_BELOW * chance else "at"
    evidence.append(
        f"evaluation accuracy {ev.accuracy:.4f}, {low} chance 1/{k} = {chance:.4f} ({where})"
    )
    evidence.append(
        "inferred: the evaluated images are taken to be like the training and validation "
        "images (the same model at chance on them means the pairing, not the model)"
    )
    return make(
        "GL441",
        title=f"Evaluation scores {ev.accuracy:.4f}, {low} chance for {k} classes"
        + (f", after {best[2]} at {best[0]:.4f}" if best else "")
        + ": predictions and labels are paired in another order",
        evidence="\n".join(evidence),
        explanation=(
            "An accuracy at chance after a training run that validated far above it, or one far "
            "below chance at all, is not a weak model: a weak model scores above chance, and "
            "only a systematic pairing error scores below it. " + _WHY + " Preprocessing that "
            "differs at evaluation (a missing rescale) is the other cause to rule out: it "
            "predicts one class for every image, which a confusion matrix shows as one full "
            "column."
        ),
        fix=_FIX,
        references=["https://keras.io/api/data_loading/image/"],
    )
