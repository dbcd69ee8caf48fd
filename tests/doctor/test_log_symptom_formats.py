"""One symptom read the same in every log format people paste.

The same per-epoch numbers are written out as Keras 2 / Keras 3 progress lines, tqdm and
Lightning postfixes, Hugging Face ``Trainer`` dicts and its notebook table, fastai's table,
``print`` lines (fractions and percentages, one line or train/val on two), a ``logging``
prefix, a headed whitespace table, JSON lines and a CSVLogger file. A rule reads the parsed
rows, so a symptom found in one format must be found in all of them, and a healthy run in any
of them must stay silent.
"""

from __future__ import annotations

import json
import math

import pytest

from graftlab.doctor.logs import check_log

EPOCHS = 8


def _run(symptom: str) -> list[dict[str, float]]:
    """Per-epoch (loss, acc, val_loss, val_acc) of a run showing ``symptom``."""
    nan = math.nan
    table = {
        # the loss turns NaN at the third epoch after two finite ones: an update broke it
        "nan": (
            [1.1, 1.0, nan, nan, nan, nan, nan, nan],
            [0.45, 0.5, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1],
            [1.0, 0.9, nan, nan, nan, nan, nan, nan],
            [0.5, 0.55, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1],
        ),
        # millions from the second epoch on, accuracy at 1/7
        "explode": (
            [2.1, 4.8e5, 3.2e6, 2.9e6, 4.1e6, 3.3e6, 5.0e6, 4.4e6],
            [0.19, 0.14, 0.15, 0.14, 0.143, 0.145, 0.142, 0.141],
            [1.9, 8.1e5, 2.7e6, 3.1e6, 3.0e6, 4.2e6, 3.9e6, 5.1e6],
            [0.1429] * 8,
        ),
        # learned (loss 0.21, accuracy 0.92), then back at ln 2 and 0.5 for good
        "collapse": (
            [0.55, 0.35, 0.21, 0.69, 0.6932, 0.6931, 0.6932, 0.6931],
            [0.72, 0.85, 0.92, 0.52, 0.50, 0.501, 0.499, 0.50],
            [0.52, 0.36, 0.30, 0.693, 0.6931, 0.6932, 0.6931, 0.6932],
            [0.75, 0.84, 0.88, 0.50, 0.50, 0.50, 0.50, 0.50],
        ),
        # validation accuracy the same 0.8 from the first epoch while training moves
        "one-class": (
            [0.67 - 0.012 * e for e in range(EPOCHS)],
            [0.717 + 0.006 * e for e in range(EPOCHS)],
            [0.61 + 0.004 * (-1) ** e for e in range(EPOCHS)],
            [0.8] * 8,
        ),
        # a healthy fine-tuning run
        "healthy": (
            [1.2, 0.8, 0.6, 0.5, 0.42, 0.37, 0.33, 0.3],
            [0.55, 0.71, 0.78, 0.82, 0.85, 0.87, 0.88, 0.89],
            [1.0, 0.75, 0.62, 0.55, 0.51, 0.49, 0.48, 0.48],
            [0.62, 0.73, 0.78, 0.8, 0.82, 0.83, 0.835, 0.84],
        ),
    }
    cols = table[symptom]
    return [
        {"epoch": e + 1, "loss": cols[0][e], "acc": cols[1][e], "vl": cols[2][e], "va": cols[3][e]}
        for e in range(EPOCHS)
    ]


def _f(x: float, digits: int = 4) -> str:
    if math.isnan(x):
        return "nan"
    return f"{x:.{digits}f}" if abs(x) < 1e4 else f"{x:.4e}"


def _keras2(rows):
    for r in rows:
        yield f"Epoch {r['epoch']}/{EPOCHS}"
        yield (
            f"75/75 [==============================] - 41s 35ms/step - loss: {_f(r['loss'])} - "
            f"acc: {_f(r['acc'])} - val_loss: {_f(r['vl'])} - val_acc: {_f(r['va'])}"
        )


def _keras3(rows):
    for r in rows:
        yield f"Epoch {r['epoch']}/{EPOCHS}"
        yield (
            f"\x1b[1m75/75\x1b[0m \x1b[32m━━━━━━━━━━━━━━━━━━━━\x1b[0m\x1b[37m\x1b[0m "
            f"\x1b[1m4s\x1b[0m 52ms/step - accuracy: {_f(r['acc'])} - loss: {_f(r['loss'])} - "
            f"val_accuracy: {_f(r['va'])} - val_loss: {_f(r['vl'])}"
        )


def _tqdm(rows):
    for r in rows:
        yield (
            f"Epoch {r['epoch']}: 100%|██████████| 75/75 [00:12<00:00,  6.02it/s, "
            f"loss={_f(r['loss'], 3)}, acc={_f(r['acc'], 3)}]"
        )
        yield (
            f"Validation: 100%|██████████| 10/10 [00:01<00:00,  8.11it/s, "
            f"val_loss={_f(r['vl'], 3)}, val_acc={_f(r['va'], 3)}]"
        )


def _lightning(rows):
    for r in rows:
        yield (
            f"Epoch {r['epoch'] - 1}: 100%|██████████| 75/75 [00:12<00:00,  6.02it/s, v_num=3, "
            f"train_loss={_f(r['loss'], 3)}, train_acc={_f(r['acc'], 3)}, "
            f"val_loss={_f(r['vl'], 3)}, val_acc={_f(r['va'], 3)}]"
        )


def _hf_dicts(rows):
    for r in rows:
        yield str(
            {"loss": r["loss"], "grad_norm": 1.5, "learning_rate": 4e-05, "epoch": r["epoch"]}
        )
        yield str({"eval_loss": r["vl"], "eval_accuracy": r["va"], "epoch": float(r["epoch"])})


def _hf_table(rows):
    yield "Epoch\tTraining Loss\tValidation Loss\tAccuracy"
    for r in rows:
        yield f"{r['epoch']}\t{_f(r['loss'], 6)}\t{_f(r['vl'], 6)}\t{_f(r['va'], 6)}"


def _fastai(rows):
    yield "epoch     train_loss  valid_loss  accuracy  time    "
    for r in rows:
        yield (
            f"{r['epoch'] - 1:<9d} {_f(r['loss'], 6):<11} {_f(r['vl'], 6):<11} "
            f"{_f(r['va'], 6):<9} 00:12     "
        )


def _print_line(rows):
    for r in rows:
        yield (
            f"Epoch [{r['epoch']}/{EPOCHS}], Loss: {_f(r['loss'])}, Acc: {_f(r['acc'])}, "
            f"Val Loss: {_f(r['vl'])}, Val Acc: {_f(r['va'])}"
        )


def _print_percent(rows):
    for r in rows:
        yield (
            f"epoch {r['epoch']:2d} | train loss {_f(r['loss'])} | train acc {100 * r['acc']:.2f}% "
            f"| val loss {_f(r['vl'])} | val acc {100 * r['va']:.2f}%"
        )


def _print_two_lines(rows):
    for r in rows:
        yield f"Epoch {r['epoch']}/{EPOCHS}"
        yield f"train Loss: {_f(r['loss'])} Acc: {_f(r['acc'])}"
        yield f"val Loss: {_f(r['vl'])} Acc: {_f(r['va'])}"


def _logging(rows):
    for r in rows:
        yield (
            f"2024-03-02 10:{r['epoch']:02d}:11,402 INFO trainer: Epoch {r['epoch']}: "
            f"train_loss={_f(r['loss'])} train_acc={_f(r['acc'])} val_loss={_f(r['vl'])} "
            f"val_acc={_f(r['va'])}"
        )


def _table(rows):
    yield "epoch  train_loss  train_acc  val_loss  val_acc"
    for r in rows:
        yield (
            f"{r['epoch']:5d}  {_f(r['loss']):>10}  {_f(r['acc']):>9}  {_f(r['vl']):>8}  "
            f"{_f(r['va']):>7}"
        )


def _json_lines(rows):
    for r in rows:
        yield json.dumps(
            {"epoch": r["epoch"], "train_loss": r["loss"], "train_acc": r["acc"],
             "val_loss": r["vl"], "val_acc": r["va"]}
        )  # fmt: skip


def _csv_logger(rows):
    yield "epoch,accuracy,loss,val_accuracy,val_loss"
    for r in rows:
        yield f"{r['epoch'] - 1},{r['acc']},{r['loss']},{r['va']},{r['vl']}"


FORMATS = {
    "keras2": _keras2,
    "keras3": _keras3,
    "tqdm": _tqdm,
    "lightning": _lightning,
    "hf-dicts": _hf_dicts,
    "hf-table": _hf_table,
    "fastai": _fastai,
    "print-line": _print_line,
    "print-percent": _print_percent,
    "print-two-lines": _print_two_lines,
    "logging": _logging,
    "table": _table,
    "json-lines": _json_lines,
    "csv-logger": _csv_logger,
}

#: Symptom -> the category a user must be pointed at (as the finding's or a likely cause).
SYMPTOMS = {
    "nan": "learning-rate",
    "explode": "learning-rate",
    "collapse": "learning-rate",
    "one-class": "trivial-accuracy",
}


def _named(text: str) -> set[str]:
    named: set[str] = set()
    for f in check_log(text):
        if f.severity in ("error", "warning"):
            named.add(f.category)
            named.update(f.causes or [])
    return named


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("symptom", SYMPTOMS)
def test_symptom_is_read_in_every_format(symptom, fmt):
    text = "\n".join(FORMATS[fmt](_run(symptom))) + "\n"
    assert SYMPTOMS[symptom] in _named(text)


@pytest.mark.parametrize("fmt", FORMATS)
def test_healthy_run_names_none_of_them_in_any_format(fmt):
    text = "\n".join(FORMATS[fmt](_run("healthy"))) + "\n"
    assert not _named(text) & {"learning-rate", "trivial-accuracy", "divergence"}


def test_trainer_dict_with_a_bare_nan_is_still_an_epoch():
    # str(logs) prints a diverged loss as a bare nan, which ast.literal_eval cannot read
    text = "\n".join(_hf_dicts(_run("nan"))) + "\n"
    (nan,) = [f for f in check_log(text) if f.code == "GL407"]
    assert "epoch 3" in nan.title and "learning-rate" in nan.causes


def test_accuracy_at_four_fifths_names_both_readings():
    # 0.8 without a class count is binary accuracy of 5 one-hot classes or one class of 80 %
    text = "\n".join(_keras2(_run("one-class"))) + "\n"
    (hit,) = [f for f in check_log(text) if f.code == "GL401"]
    assert hit.causes == ["trivial-accuracy"]


def test_a_class_count_settles_the_reading():
    text = "Found 1200 images belonging to 2 classes.\n" + "\n".join(_keras2(_run("one-class")))
    codes = {f.code for f in check_log(text + "\n")}
    assert "GL403" in codes and "GL401" not in codes
