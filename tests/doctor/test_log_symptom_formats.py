"""One symptom read the same in every log format people paste.

The same per-epoch numbers are written out as Keras 2 / Keras 3 progress lines, tqdm and
Lightning postfixes, Hugging Face ``Trainer`` dicts and its notebook table, fastai's table,
``print`` lines (fractions and percentages, one line or train/val on two), a ``logging``
prefix, a headed whitespace table, JSON lines and a CSVLogger file; and Keras ``verbose=2`` lines,
``history.history`` printed as a dict or a DataFrame, markdown tables with ``(%)`` headers,
skorch, ignite, gluon, Lightning's rich bar, timm's ``summary.csv``, mmcls/mmengine JSON logs,
YOLO's classify ``results.csv``, tables without a header, abbreviated names (``vl_acc``,
``Prec@1``, ``Top-1``), prints in Chinese or German, PaddlePaddle, a pasted
``trainer_state.json``, Keras Tuner and the MNIST example. A rule reads the parsed
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


def _keras2_verbose2(rows):
    # verbose=2: one line per epoch, no bar; TF 2.9+ appends the epoch and step times
    for r in rows:
        yield f"Epoch {r['epoch']}/{EPOCHS}"
        yield (
            f"75/75 - 3s - loss: {_f(r['loss'])} - accuracy: {_f(r['acc'])} - "
            f"val_loss: {_f(r['vl'])} - val_accuracy: {_f(r['va'])} - 3s/epoch - 41ms/step"
        )


def _keras3_verbose2(rows):
    for r in rows:
        yield f"Epoch {r['epoch']}/{EPOCHS}"
        yield (
            f"75/75 - 4s - 52ms/step - accuracy: {_f(r['acc'])} - loss: {_f(r['loss'])} - "
            f"val_accuracy: {_f(r['va'])} - val_loss: {_f(r['vl'])}"
        )


def _history_dict(rows):
    # print(history.history): one dict of per-epoch lists
    yield str(
        {"loss": [r["loss"] for r in rows], "accuracy": [r["acc"] for r in rows],
         "val_loss": [r["vl"] for r in rows], "val_accuracy": [r["va"] for r in rows]}
    )  # fmt: skip


def _history_frame(rows):
    # print(pd.DataFrame(history.history)): pandas' row index, no epoch column
    yield "       loss  accuracy  val_loss  val_accuracy"
    for j, r in enumerate(rows):
        yield f"{j:<3d} {_f(r['loss'], 6)}  {_f(r['acc'], 6)}  {_f(r['vl'], 6)}  {_f(r['va'], 6)}"


def _markdown_percent(rows):
    # a markdown table, accuracies in percent with the unit in the header
    yield "| Epoch | Train Loss | Train Acc (%) | Val Loss | Val Acc (%) |"
    yield "|-------|------------|---------------|----------|-------------|"
    for r in rows:
        yield (
            f"| {r['epoch']} | {_f(r['loss'])} | {100 * r['acc']:.2f} | {_f(r['vl'])} | "
            f"{100 * r['va']:.2f} |"
        )


def _skorch(rows):
    yield "  epoch    train_loss    valid_acc    valid_loss     dur"
    yield "-------  ------------  -----------  ------------  ------"
    for r in rows:
        yield (
            f"{r['epoch']:7d}  {_f(r['loss']):>12}  {_f(r['va']):>11}  {_f(r['vl']):>12}  1.2345"
        )


def _ignite(rows):
    for r in rows:
        yield (
            f"Training Results - Epoch: {r['epoch']}  Avg accuracy: {r['acc']:.2f} "
            f"Avg loss: {_f(r['loss'], 2)}"
        )
        yield (
            f"Validation Results - Epoch: {r['epoch']}  Avg accuracy: {r['va']:.2f} "
            f"Avg loss: {_f(r['vl'], 2)}"
        )


def _gluon(rows):
    for r in rows:
        yield (
            f"[Epoch {r['epoch'] - 1}] Train-acc: {r['acc']:.3f}, loss: {_f(r['loss'], 3)} | "
            f"Val-acc: {r['va']:.3f} | time: 12.3"
        )


def _rich_lightning(rows):
    for r in rows:
        yield (
            f"Epoch {r['epoch'] - 1}/{EPOCHS - 1}  ━━━━━━━━━━━━━━━━━━━━ 75/75 0:00:12 • 0:00:00 "
            f"6.02it/s v_num: 3 train_loss: {_f(r['loss'], 3)} train_acc: {_f(r['acc'], 3)} "
            f"val_loss: {_f(r['vl'], 3)} val_acc: {_f(r['va'], 3)}"
        )


def _timm_summary(rows):
    yield "epoch,train_loss,eval_loss,eval_top1,eval_top5,lr"
    for r in rows:
        top1 = 100 * r["va"]
        yield f"{r['epoch'] - 1},{r['loss']},{r['vl']},{top1},{min(100.0, top1 * 2)},0.001"


def _mmcls_json(rows):
    for r in rows:
        yield json.dumps(
            {"mode": "train", "epoch": r["epoch"], "iter": 70, "lr": 0.001, "memory": 1200,
             "data_time": 0.01, "loss": r["loss"], "time": 0.2}
        )  # fmt: skip
        yield json.dumps(
            {"mode": "val", "epoch": r["epoch"], "iter": 10, "lr": 0.001,
             "accuracy_top-1": 100 * r["va"], "accuracy_top-5": 100.0}
        )  # fmt: skip


def _mmengine_scalars(rows):
    for r in rows:
        yield json.dumps(
            {"lr": 0.001, "data_time": 0.01, "loss": r["loss"], "time": 0.2, "epoch": r["epoch"],
             "iter": 75 * r["epoch"], "memory": 1200, "step": 75 * r["epoch"]}
        )  # fmt: skip
        yield json.dumps(
            {"accuracy/top1": 100 * r["va"], "accuracy/top5": 100.0, "data_time": 0.01,
             "time": 0.1, "step": r["epoch"]}
        )  # fmt: skip


def _yolo_cls_csv(rows):
    yield (
        "                  epoch,             train/loss,  metrics/accuracy_top1,  "
        "metrics/accuracy_top5,               val/loss,                 lr/pg0"
    )
    for r in rows:
        yield (
            f"{r['epoch']:>23},{_f(r['loss'], 5):>23},{_f(r['va'], 5):>23},{1.0:>23},"
            f"{_f(r['vl'], 5):>23},{0.001:>23}"
        )


def _headerless(rows):
    # a bare table: epoch, train loss, train acc, val loss, val acc
    for r in rows:
        yield f"{r['epoch']} {_f(r['loss'])} {_f(r['acc'])} {_f(r['vl'])} {_f(r['va'])}"


def _abbreviated(rows):
    yield "ep  trn_loss  trn_acc  vl_loss  vl_acc"
    for r in rows:
        yield f"{r['epoch']:2d}  {_f(r['loss'])}  {_f(r['acc'])}  {_f(r['vl'])}  {_f(r['va'])}"


def _prec_top1(rows):
    for r in rows:
        yield (
            f"epoch {r['epoch']}: train_loss {_f(r['loss'])} train_Prec@1 {100 * r['acc']:.3f} "
            f"val_loss {_f(r['vl'])} val_Prec@1 {100 * r['va']:.3f}"
        )


def _top1_words(rows):
    for r in rows:
        yield (
            f"Epoch {r['epoch']} - train loss: {_f(r['loss'])}, train Top-1: {100 * r['acc']:.2f}"
            f" - val loss: {_f(r['vl'])}, val Top-1: {100 * r['va']:.2f}"
        )


def _chinese(rows):
    for r in rows:
        yield (
            f"第{r['epoch']}轮 训练损失: {_f(r['loss'])} 训练准确率: {_f(r['acc'])} "
            f"验证损失: {_f(r['vl'])} 验证准确率: {_f(r['va'])}"
        )


def _udacity(rows):
    for r in rows:
        yield (
            f"Epoch: {r['epoch']} \tTraining Loss: {_f(r['loss'], 6)} \tValidation Loss: "
            f"{_f(r['vl'], 6)} \tValidation Accuracy: {_f(r['va'], 6)}"
        )


def _indented_block(rows):
    yield "Training and Validation Results"
    for r in rows:
        yield f"Epoch {r['epoch']}/{EPOCHS}"
        yield f"    Train Loss: {_f(r['loss'])}, Train Accuracy: {100 * r['acc']:.2f}%"
        yield f"    Validation Loss: {_f(r['vl'])}, Validation Accuracy: {100 * r['va']:.2f}%"
        yield ""


def _tqdm_desc(rows):
    # the split only in tqdm's description; the postfix names are bare
    for r in rows:
        yield (
            f"Epoch {r['epoch']} [train]: 100%|██████████| 75/75 [00:12<00:00,  6.02it/s, "
            f"loss={_f(r['loss'], 3)}, acc={_f(r['acc'], 3)}]"
        )
        yield (
            f"Epoch {r['epoch']} [val]: 100%|██████████| 10/10 [00:01<00:00,  8.11it/s, "
            f"loss={_f(r['vl'], 3)}, acc={_f(r['va'], 3)}]"
        )


def _paddle(rows):
    for r in rows:
        yield f"Epoch {r['epoch']}/{EPOCHS}"
        yield (
            f"step 75/75 [==============================] - loss: {_f(r['loss'])} - "
            f"acc: {_f(r['acc'])} - 35ms/step"
        )
        yield "Eval begin..."
        yield (
            f"step 10/10 [==============================] - loss: {_f(r['vl'])} - "
            f"acc: {_f(r['va'])} - 20ms/step"
        )
        yield "Eval samples: 1000"


def _trainer_state(rows):
    history = []
    for r in rows:
        history.append({"epoch": float(r["epoch"]), "grad_norm": 1.5, "learning_rate": 4e-05,
                        "loss": r["loss"], "step": 75 * r["epoch"]})  # fmt: skip
        history.append({"epoch": float(r["epoch"]), "eval_accuracy": r["va"], "eval_loss": r["vl"],
                        "eval_runtime": 1.2, "step": 75 * r["epoch"]})  # fmt: skip
    text = json.dumps({"best_metric": None, "epoch": float(EPOCHS), "log_history": history},
                      indent=2)  # fmt: skip
    yield from text.split("\n")


def _keras_tuner(rows):
    yield "Search: Running Trial #1"
    yield ""
    yield "Value             |Best Value So Far |Hyperparameter"
    yield "0.001             |0.001             |learning_rate"
    yield ""
    yield from _keras2(rows)
    yield ""
    yield "Trial 1 Complete [00h 05m 31s]"
    yield f"val_accuracy: {_f(rows[-1]['va'])}"
    yield ""
    yield f"Best val_accuracy So Far: {_f(max(r['va'] for r in rows))}"


def _mnist_example(rows):
    for r in rows:
        for b in (0, 640, 1280):
            yield (
                f"Train Epoch: {r['epoch']} [{b}/4800 ({b * 100 // 4800}%)]\tLoss: "
                f"{_f(r['loss'], 6)}"
            )
        hits = round(1000 * r["va"]) if math.isfinite(r["va"]) else 0
        yield ""
        yield (
            f"Test set: Average loss: {_f(r['vl'])}, Accuracy: {hits}/1000 "
            f"({round(100 * r['va']) if math.isfinite(r['va']) else 0}%)"
        )
        yield ""


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
    "keras2-verbose2": _keras2_verbose2,
    "keras3-verbose2": _keras3_verbose2,
    "history-dict": _history_dict,
    "history-frame": _history_frame,
    "markdown-percent": _markdown_percent,
    "skorch": _skorch,
    "ignite": _ignite,
    "gluon": _gluon,
    "rich-lightning": _rich_lightning,
    "timm-summary": _timm_summary,
    "mmcls-json": _mmcls_json,
    "mmengine-scalars": _mmengine_scalars,
    "yolo-cls-csv": _yolo_cls_csv,
    "headerless": _headerless,
    "abbreviated": _abbreviated,
    "prec-top1": _prec_top1,
    "top1-words": _top1_words,
    "chinese": _chinese,
    "udacity": _udacity,
    "indented-block": _indented_block,
    "tqdm-desc": _tqdm_desc,
    "paddle": _paddle,
    "trainer-state": _trainer_state,
    "keras-tuner": _keras_tuner,
    "mnist-example": _mnist_example,
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


def test_a_table_without_header_is_read_as_an_inference():
    text = "\n".join(_headerless(_run("nan"))) + "\n"
    (nan,) = [f for f in check_log(text) if f.code == "GL407"]
    assert nan.severity == "warning" and "no header" in nan.evidence


@pytest.mark.parametrize(
    "rows",
    [
        # whole numbers only: a confusion matrix, counts per class
        ["0 48 2 0 1", "1 3 45 2 0", "2 0 1 49 0", "3 1 0 0 50"],
        # two losses that fall together (a GAN's generator and discriminator), not a loss and
        # its accuracy
        ["0 0.91 0.83 0.70 0.002", "1 0.74 0.69 0.75 0.002", "2 0.58 0.51 0.81 0.002",
         "3 0.44 0.40 0.90 0.002"],
        # its accuracy places hold values no accuracy has
        ["1 0.91 3.4 0.70 2.9", "2 0.74 3.1 0.75 2.7", "3 0.58 2.8 0.81 2.2"],
        # two rows are no training table
        ["1 0.69 0.50 0.69 0.50", "2 0.69 0.50 0.69 0.50"],
    ],
)  # fmt: skip
def test_numbers_that_are_no_run_are_not_read_as_one(rows):
    from graftlab.errors import DataError

    with pytest.raises(DataError):
        check_log("\n".join(rows) + "\n")


def test_metric_words_of_other_languages_are_read():
    rows = _run("nan")
    text = "".join(
        f"Epoche {r['epoch']}/{EPOCHS} - Verlust: {_f(r['loss'])} - Genauigkeit: {_f(r['acc'])}\n"
        for r in rows
    )
    assert "learning-rate" in _named(text)


def test_a_tqdm_counter_is_no_epoch_total():
    from graftlab.doctor._logparse import parse_log

    text = "\n".join(_tqdm_desc(_run("healthy"))) + "\n"
    log = parse_log(text)
    assert [r.epoch for r in log.rows] == list(range(1, EPOCHS + 1))
    assert {"train_loss", "val_accuracy"} <= set(log.rows[0].values)


@pytest.mark.parametrize("fmt", ["headerless", "mmcls-json", "mmengine-scalars", "chinese"])
def test_reading_stays_linear_in_the_length_of_the_log(fmt):
    import time

    from graftlab.doctor._logparse import parse_log

    def seconds(n: int) -> float:
        rows = [dict(r, epoch=e + 1) for e in range(n) for r in _run("healthy")[:1]]
        text = "\n".join(FORMATS[fmt](rows)) + "\n"
        start = time.process_time()
        parse_log(text)
        return time.process_time() - start

    small, large = seconds(1_000), seconds(10_000)  # up to 20,000 lines
    assert large < 25 * max(small, 1e-2)
