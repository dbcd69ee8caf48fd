"""The log reader on each format people paste, one planted cause per format.

``cases/logs/formats/<format>__<category>__bug.log`` holds a log in that format whose numbers
show the cause; its ``__fixed`` twin is the same format from a healthy run. The formats follow
the libraries' own code: Keras 2 ``Progbar`` (``\\b`` redraws, ETA, ``- 12s 260ms/step``) and
verbose=2 lines, Keras 3 (a real terminal capture of keras 3.15: ANSI colours, ``━`` bars, the
metrics sorted), tqdm's ``set_postfix``, Lightning's ``TQDMProgressBar`` format and
``RichProgressBar`` columns, the Hugging Face ``Trainer``'s printed dicts (transformers 4 floats,
transformers 5 ``.4g`` strings) and its notebook table, fastai's table,
``pd.DataFrame(history.history)`` as pandas prints it (its row index before the named columns),
``logging`` prefixes and several spellings of ``print``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from graftlab.doctor._logparse import parse_log
from graftlab.doctor.logs import check_log

FORMATS = Path(__file__).parent / "cases" / "logs" / "formats"
BUGS = sorted(FORMATS.glob("*__bug.*"))

#: Format -> (style the reader reports, epochs in the bug log).
EXPECTED = {
    "fastai-table": ("table", 6),
    "hf-notebook-table": ("table", 6),
    "hf-trainer-4": ("hf-trainer", 6),
    "hf-trainer-5": ("hf-trainer", 6),
    "keras2-progbar": ("keras", 3),
    "keras2-verbose2": ("keras", 5),
    "keras2-wrapped-paste": ("keras", 6),
    "keras3-terminal": ("keras", 5),
    "lightning-rich": ("torch", 6),
    "lightning-tqdm": ("torch", 5),
    "logging-asctime": ("keras", 6),
    "logging-basicconfig": ("torch", 5),
    "logging-brackets": ("torch", 6),
    "pandas-history": ("table", 6),
    "print-brackets": ("torch", 5),
    "print-counter-test": ("torch", 6),
    "print-key-equals": ("torch", 5),
    "print-pipes-percent": ("torch", 6),
    "print-short-prefixes": ("torch", 6),
    "print-words": ("torch", 5),
    "pytorch-tutorial-steps": ("steps", 5),
    "tqdm-postfix": ("torch", 6),
}


def test_every_format_has_a_bug_and_a_fixed_log():
    assert sorted(p.name.split("__")[0] for p in BUGS) == sorted(EXPECTED)
    for bug in BUGS:
        assert bug.with_name(bug.name.replace("__bug.", "__fixed.")).is_file()


@pytest.mark.parametrize("bug", BUGS, ids=[p.name.split("__")[0] for p in BUGS])
def test_each_format_is_read_and_its_planted_cause_named(bug):
    fmt, category = bug.name.split("__")[:2]
    style, epochs = EXPECTED[fmt]
    log = parse_log(bug)
    assert (log.style, len(log.rows)) == (style, epochs)
    assert (
        {"train_loss", "val_loss"} <= log.columns() or style == "steps" or fmt == "keras2-progbar"
    )
    found = [f for f in check_log(log) if f.severity in ("error", "warning")]
    assert category in {f.category for f in found}, [(f.code, f.category) for f in found]
    fixed = check_log(bug.with_name(bug.name.replace("__bug.", "__fixed.")))
    assert not [f for f in fixed if f.severity in ("error", "warning")], [f.title for f in fixed]


def test_trainer_dicts_give_validation_columns_and_the_last_training_loss():
    for version in ("4", "5"):
        log = parse_log(FORMATS / f"hf-trainer-{version}__overfitting__bug.log")
        first = log.rows[0].values
        assert first["val_loss"] == pytest.approx(0.52) and first["val_accuracy"] == 0.8
        assert first["train_loss"] == pytest.approx(0.7) and "lr" in first
        assert not any("runtime" in c or "per_second" in c for c in log.columns())
        assert [r.epoch for r in log.rows] == [1, 2, 3, 4, 5, 6]
        assert log.steps == []  # a printed loss averages logging_steps batches: no first step


def test_a_trainer_log_without_evaluation_has_one_row_per_epoch():
    text = "".join(
        str({"loss": 1.0 - 0.1 * i, "learning_rate": 5e-05, "epoch": 0.5 * (i + 1)}) + "\n"
        for i in range(6)
    )
    log = parse_log(text)
    assert [(r.epoch, r.values["train_loss"]) for r in log.rows] == [
        (1, pytest.approx(0.9)),
        (2, pytest.approx(0.7)),
        (3, pytest.approx(0.5)),
    ]


def test_a_notebook_table_s_bare_metric_is_a_validation_metric():
    log = parse_log(FORMATS / "hf-notebook-table__overfitting__bug.log")
    assert "val_accuracy" in log.columns() and "train_accuracy" not in log.columns()
    assert "train_loss" not in log.rows[0].values  # "No log" before the first logging step


def test_a_logger_line_with_its_epoch_inline_is_one_epoch_each():
    log = parse_log(FORMATS / "logging-asctime__overfitting__bug.log")
    assert [r.epoch for r in log.rows] == [1, 2, 3, 4, 5, 6]
    assert [r.phase for r in log.rows] == [1] * 6


def test_keras3_terminal_capture_is_read_from_its_first_batch():
    log = parse_log(FORMATS / "keras3-terminal__binary-loss-multiclass__bug.log")
    assert log.num_classes == 5 and log.steps[0].step == 1
    assert log.steps[0].values == {"train_accuracy": 0.2812, "train_loss": 0.6118}


def test_binary_loss_is_explained_in_the_keras_version_that_wrote_the_log():
    # Keras 3 picks "accuracy" from the output's shape: categorical, so only the loss is wrong.
    [k3] = [f for f in check_log(FORMATS / "keras3-terminal__binary-loss-multiclass__bug.log")
            if f.code == "GL416"]  # fmt: skip
    assert "accuracy shown is categorical" in k3.explanation
    assert "binary_accuracy" not in k3.explanation
    # Keras 2 picks it from the loss: binary accuracy, (K-1)/K before learning anything.
    [k2] = check_log(FORMATS / "keras2-progbar__binary-loss-multiclass__bug.log")
    assert (k2.code, k2.severity) == ("GL416", "error")
    assert "becomes binary_accuracy" in k2.explanation and "4 of 5 units" in k2.explanation


def test_lightning_s_per_batch_value_is_a_first_step_record():
    log = parse_log(FORMATS / "lightning-tqdm__divergence__bug.log")
    assert (log.steps[0].step, log.steps[0].values) == (1, {"train_loss": pytest.approx(1.3)})


def test_a_log_of_step_prints_only_gets_one_row_per_epoch_from_its_last_print():
    log = parse_log(FORMATS / "pytorch-tutorial-steps__trivial-accuracy__bug.log")
    assert [r.epoch for r in log.rows] == [1, 2, 3, 4, 5] and len(log.steps) == 30
    assert log.rows[0].line == 6 and log.rows[0].values == {"train_loss": 2.304}


def test_a_wrapped_keras_line_keeps_the_value_that_went_to_the_next_line():
    log = parse_log(FORMATS / "keras2-wrapped-paste__overfitting__bug.log")
    assert log.rows[0].values == {
        "train_loss": 0.62,
        "train_accuracy": 0.66,
        "val_loss": 0.55,
        "val_accuracy": 0.72,
    }


@pytest.mark.parametrize("sep", ["\t", "  ", " | "], ids=["tabs", "spaces", "markdown"])
def test_the_notebook_table_is_read_with_tabs_wide_spaces_or_markdown_pipes(sep):
    tsv = (FORMATS / "hf-notebook-table__overfitting__bug.log").read_text()
    text = "\n".join(sep.join(line.split("\t")) for line in tsv.splitlines()) + "\n"
    if sep == " | ":
        lines = text.splitlines()
        text = "\n".join(f"| {ln} |" for ln in [*lines[:1], "---|---|---|---", *lines[1:]]) + "\n"
    log = parse_log(text)
    assert len(log.rows) == 6 and log.rows[1].values == {
        "train_loss": 0.35,
        "val_loss": 0.41,
        "val_accuracy": 0.85,
    }


#: A print-style run of three epochs, then what a script prints once training is over.
_EPOCHS = (
    "epoch 1 train loss 1.02 acc 0.55 val loss 0.91 acc 0.61\n"
    "epoch 2 train loss 0.71 acc 0.72 val loss 0.80 acc 0.66\n"
    "epoch 3 train loss 0.52 acc 0.81 val loss 0.77 acc 0.69\n"
)
_AFTER_TRAINING = (
    "              precision    recall  f1-score   support\n"
    "         cat       0.10      0.12      0.11       100\n"
    "         dog       0.05      0.04      0.04       100\n"
    "    accuracy                           0.08       200\n"
    "test accuracy: 0.08\n"
)


def test_what_is_printed_after_the_last_epoch_stays_out_of_its_row():
    log = parse_log(_EPOCHS + _AFTER_TRAINING)
    last = log.rows[-1]
    assert (last.epoch, last.line) == (3, 3)
    assert last.values["train_accuracy"] == pytest.approx(0.81)
    assert "test_accuracy" not in log.columns()


def test_a_validation_line_under_the_epoch_s_header_is_still_its_row():
    # the tutorial's shape: a header, then one line per split; the last epoch keeps both
    text = "".join(
        f"Epoch {e}/3\n----------\ntrain Loss: 0.{9 - e} Acc: 0.{5 + e}\nval Loss: 0.{8 - e} "
        f"Acc: 0.{v}\n"
        for e, v in ((1, 5), (2, 7), (3, 6))
    )
    log = parse_log(text + "Training complete\nBest val Acc: 0.7\n" + _AFTER_TRAINING)
    assert [r.values.get("val_accuracy") for r in log.rows] == [0.5, 0.7, 0.6]
    assert log.rows[-1].values["train_accuracy"] == pytest.approx(0.8)
    assert "test_accuracy" not in log.columns()


def test_an_accuracy_printed_as_correct_over_seen_is_a_fraction():
    # the PyTorch examples' print: "Accuracy: 9300/10000 (93%)" after each epoch
    text = "".join(
        f"Train Epoch: {e} [59520/60000 (99%)]\tLoss: {0.5 / e:.3f}\n\n"
        f"Test set: Average loss: {0.1 / e:.4f}, Accuracy: {9000 + 300 * e}/10000 "
        f"({90 + 3 * e}%)\n\n"
        for e in (1, 2, 3)
    )
    accs = [r.values[c] for r in parse_log(text).rows for c in r.values if c.endswith("accuracy")]
    assert accs == pytest.approx([0.93, 0.96, 0.99])


# -- the training tools' own loggers (graftlab.doctor._logtools) ------------------------------

#: pytorch/examples' ImageNet script: step lines with running averages in parentheses, a
#: warning between them, the evaluation's step lines and its " * Acc@1" summary.
_IMAGENET_EXAMPLE = "".join(
    f"Epoch: [{e}][{s:>3}/200]\tTime  0.250 ( 0.260)\tData  0.010 ( 0.020)\t"
    f"Loss {1.9 - 0.3 * e - s / 1000:.4e} ({2.0 - 0.3 * e:.4e})\tAcc@1  {40 + 10 * e:6.2f} "
    f"( {38 + 10 * e:6.2f})\tAcc@5  {80 + e:6.2f} ( {79 + e:6.2f})\n"
    + ("UserWarning: the PIL image has an alpha channel; it is dropped\n" if s == 100 else "")
    + (
        f"Test: [ 0/50]\tTime  0.100 ( 0.100)\tLoss {1.5 - 0.2 * e:.4e} ({1.6 - 0.2 * e:.4e})\t"
        f"Acc@1  50.00 ( 51.00)\tAcc@5  90.00 ( 90.00)\n * Acc@1 {52 + 8 * e:.3f} Acc@5 91.000\n"
        if s == 190
        else ""
    )
    for e in range(3)
    for s in (0, 100, 190)
)


def test_the_imagenet_example_s_lines_are_steps_and_epochs_with_their_validation():
    log = parse_log(_IMAGENET_EXAMPLE)
    assert log.style == "imagenet-example" and [r.epoch for r in log.rows] == [0, 1, 2]
    assert log.rows[1].values == pytest.approx(
        {"train_loss": 1.7, "train_accuracy": 0.48, "val_loss": 1.4, "val_accuracy": 0.60}
    )
    assert [s.step for s in log.steps] == [0, 100, 190] * 3
    assert log.steps[0].values == pytest.approx({"train_loss": 2.0, "train_accuracy": 0.38})


def test_older_copies_of_the_imagenet_example_print_prec_at_1():
    log = parse_log(_IMAGENET_EXAMPLE.replace("Acc@", "Prec@"))
    assert [r.values["val_accuracy"] for r in log.rows] == pytest.approx([0.52, 0.60, 0.68])


#: timm's train.py: "Train: epoch [step/N (pct)]" with the learning rate, "Test:" steps (the
#: last one's averages are the epoch's result) and "Test (EMA):" for the averaged weights.
_TIMM = "".join(
    f"Train: {e} [{s:>4}/390 ({100 * s // 390:>3}%)]  Loss: {1.5 - 0.2 * e:.3f} "
    f"({1.6 - 0.2 * e:.2f})  Time: 0.210s, 1219.05/s  (0.230s, 1113.04/s)  LR: 1.000e-03  "
    "Data: 0.010 (0.020)\n"
    for e in range(3)
    for s in (0, 200, 389)
)


def _with_tests(text: str) -> str:
    out = []
    for line in text.splitlines(keepends=True):
        out.append(line)
        if "389/390" in line:
            e = int(line.split()[1])
            out.append(
                f"Test: [  0/78]  Time: 0.300 (0.300)  Loss:  1.300 ( 1.300)  Acc@1: 60.0000 "
                f"(60.0000)  Acc@5: 90.0000 (90.0000)\nTest: [ 78/78]  Time: 0.050 (0.080)  "
                f"Loss:  {1.2 - 0.1 * e:.3f} ( {1.25 - 0.1 * e:.3f})  Acc@1: 62.5000 "
                f"({61 + 5 * e:.4f})  Acc@5: 93.7500 (92.0000)\n"
                "Test (EMA): [ 78/78]  Time: 0.050 (0.080)  Loss:  6.900 ( 6.900)  Acc@1: "
                "0.1000 ( 0.1000)  Acc@5: 0.5000 ( 0.5000)\n"
            )
    return "".join(out)


def test_timm_s_train_and_test_lines_are_read_and_the_ema_evaluation_left_out():
    log = parse_log(_with_tests(_TIMM))
    assert log.style == "timm" and [r.epoch for r in log.rows] == [0, 1, 2]
    assert log.rows[2].values == pytest.approx(
        {"train_loss": 1.2, "lr": 1e-3, "val_loss": 1.05, "val_accuracy": 0.71}
    )
    assert [(s.step, s.total) for s in log.steps[:3]] == [(0, 390), (200, 390), (389, 390)]


def test_timm_s_lines_read_alone_give_one_row_per_epoch_from_its_last_step():
    log = parse_log(_TIMM)
    assert [(r.epoch, r.values["train_loss"]) for r in log.rows] == [
        (0, pytest.approx(1.6)),
        (1, pytest.approx(1.4)),
        (2, pytest.approx(1.2)),
    ]


#: mmcv's text logger (mmcls): a logger prefix, the step's window-averaged loss, and the
#: evaluation written after the redraws of its progress bar on the same physical line.
_MMCV = "".join(
    f"2023-05-02 10:1{e}:00,123 - mmcls - INFO - Epoch [{e}][{s}/40]\tlr: 1.000e-02, eta: "
    f"0:05:00, time: 0.210, data_time: 0.020, memory: 1800, loss: {0.9 - 0.1 * e - s / 400:.4f}\n"
    + (
        f"[>>>>>>>>>>          ] 10/20, 50.0 task/s\r[>>>>>>>>>>>>>>>>>>>>] 20/20, 60.1 task/s, "
        f"elapsed: 0s, ETA:     0s2023-05-02 10:1{e}:30,456 - mmcls - INFO - Epoch(val) [{e}][20]"
        f"\taccuracy_top-1: {60 + 5 * e:.4f}, accuracy_top-5: 100.0000\n"
        if s == 40
        else ""
    )
    for e in (1, 2, 3)
    for s in (20, 40)
)


def test_mmcv_s_steps_and_its_validation_after_a_progress_bar_are_read():
    log = parse_log(_MMCV)
    assert log.style == "openmmlab" and [r.epoch for r in log.rows] == [1, 2, 3]
    assert log.rows[0].values == pytest.approx(
        {"lr": 0.01, "train_loss": 0.7, "val_accuracy": 0.65}
    )
    assert [s.step for s in log.steps] == [20, 40] * 3


def test_mmengine_s_train_and_val_lines_are_read():
    text = "".join(
        f"05/02 10:1{e}:00 - mmengine - INFO - Epoch(train)  [{e}][ {s}/40]  lr: 1.0000e-03  "
        f"eta: 0:05:00  time: 0.2100  data_time: 0.0200  memory: 1800  loss: {0.8 - 0.1 * e:.4f}\n"
        + (
            "/usr/lib/python3/site-packages/torch/functional.py:504: UserWarning: an argument\n"
            f"05/02 10:1{e}:30 - mmengine - INFO - Epoch(val) [{e}][20/20]    accuracy/top1: "
            f"{70 + e:.4f}  accuracy/top5: 100.0000  data_time: 0.0100  time: 0.0500\n"
            if s == 40
            else ""
        )
        for e in (1, 2)
        for s in (20, 40)
    )
    log = parse_log(text)
    assert [r.values for r in log.rows] == [
        pytest.approx({"lr": 1e-3, "train_loss": 0.7, "val_accuracy": 0.71}),
        pytest.approx({"lr": 1e-3, "train_loss": 0.6, "val_accuracy": 0.72}),
    ]


def test_an_imagenet_example_run_that_turns_nan_is_named_divergence():
    text = "".join(
        f"Epoch: [0][{s:>3}/500]\tTime 0.2 (0.2)\tData 0.0 (0.0)\tLoss "
        f"{'2.1000e+00 (2.1000e+00)' if s == 0 else 'nan (nan)'}\tAcc@1 "
        f"{50.0 if s == 0 else 0.0:6.2f} ( 10.00)\tAcc@5 80.00 ( 20.00)\n"
        for s in range(0, 100, 10)
    )
    found = [f for f in check_log(text) if f.severity in ("error", "warning")]
    assert "divergence" in {f.category for f in found}, [f.code for f in found]
