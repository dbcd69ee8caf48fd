"""graftlab.doctor.logs: every log style, each log check, and the corpus of real-style logs."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from graftlab.doctor._logparse import parse_log
from graftlab.doctor.findings import CATEGORIES, Finding
from graftlab.doctor.logs import check_log, check_run
from graftlab.errors import ArtifactError, ConfigError, DataError

CASES = Path(__file__).parent / "cases" / "logs"
BAR = "45/45 [==============================] - 12s 260ms/step"


def keras(rows, header="", total=None):
    """Keras 2 terminal output: one ``Epoch i/N`` header and final progress line per epoch."""
    total = total or len(rows)
    out = header
    for i, metrics in enumerate(rows, 1):
        out += f"Epoch {i}/{total}\n{BAR} - " + " - ".join(
            f"{k}: {v:.4f}" for k, v in metrics.items()
        )
        out += "\n"
    return out


def codes(findings):
    return [f.code for f in findings]


# -- parsing -------------------------------------------------------------------------------


def test_keras_progress_with_redraws_backspaces_and_ansi_is_one_row_per_epoch():
    text = (
        "Epoch 1/2\n"
        " 1/45 [>....] - ETA: 10s - loss: 0.9000 - accuracy: 0.1000\x08\x08\x08\x08\r"
        f"{BAR} - loss: 0.3250 - accuracy: 0.8571 - val_loss: 0.4100 - val_accuracy: 0.8000\n"
        "Epoch 2/2\n"
        "\x1b[1m45/45\x1b[0m \x1b[32m━━━━━━━━━━━━━━━━━━━━\x1b[0m \x1b[1m12s\x1b[0m 260ms/step "
        "- acc: 0.9000 - loss: 0.2000 - val_acc: 0.8500 - val_loss: 0.3000\r\n"
    )
    log = parse_log(text)
    assert log.style == "keras" and log.framework == "keras"
    assert [r.epoch for r in log.rows] == [1, 2]
    assert log.rows[0].values == {
        "train_loss": 0.325,
        "train_accuracy": 0.8571,
        "val_loss": 0.41,
        "val_accuracy": 0.8,
    }
    assert log.rows[1].values["val_accuracy"] == 0.85  # old acc/val_acc names
    assert log.rows[0].line == 2 and log.rows[1].line == 4  # physical lines, \r inside


def test_utf16_file_written_by_powershell_is_read(tmp_path):
    path = tmp_path / "train.log"
    path.write_bytes(keras([{"loss": 0.5, "accuracy": 0.7}] * 2).encode("utf-16"))
    assert len(parse_log(path).rows) == 2


def test_two_epoch_one_sequences_are_two_phases_and_a_changed_total_too():
    rows = [{"loss": 0.5, "val_accuracy": 0.8}] * 3
    assert [r.phase for r in parse_log(keras(rows) + keras(rows)).rows] == [1, 1, 1, 2, 2, 2]
    text = keras(rows, total=3) + "Epoch 4/6\n" + f"{BAR} - loss: 0.4000\n"
    assert [r.phase for r in parse_log(text).rows] == [1, 1, 1, 2]


def test_keras_callback_chatter_is_not_an_epoch():
    text = keras([{"loss": 0.5, "val_loss": 0.4}] * 2).replace(
        "Epoch 2/2",
        "\nEpoch 1: val_loss improved from inf to 0.40000, saving model to m.h5\nEpoch 2/2",
    )
    log = parse_log(text)
    assert [r.values["val_loss"] for r in log.rows] == [0.4, 0.4]


def test_number_of_classes_from_found_lines_and_from_the_last_dense_layer():
    found = "Found 2000 images belonging to 7 classes.\nFound 350 images belonging to 7 classes.\n"
    log = parse_log(keras([{"loss": 0.5}] * 2, header=found))
    assert log.num_classes == 7 and log.val_size == 350
    summary = " dense_1 (Dense)             (None, 12)                24588     \n"
    log = parse_log(keras([{"loss": 0.5}] * 2, header=found + summary))
    assert log.num_classes == 12 and log.output_units == (12, 3)
    torch_print = "  (fc): Linear(in_features=512, out_features=4, bias=True)\n"
    assert parse_log(keras([{"loss": 0.5}] * 2, header=torch_print)).num_classes == 4


def test_csvlogger_and_graftlab_results_csv():
    csv_text = "epoch,accuracy,loss,val_accuracy,val_loss\n0,0.5,0.9,0.6,0.8\n1,0.7,0.6,0.65,0.7\n"
    log = parse_log(csv_text)
    assert log.style == "keras-csv" and [r.epoch for r in log.rows] == [0, 1]
    assert log.rows[1].values["val_accuracy"] == 0.65
    log = parse_log(CASES / "batchnorm__1__bug.csv")
    assert log.style == "graftlab-csv"
    assert [p[0].phase_name for p in log.phases()] == ["probe", "finetune"]
    assert log.rows[0].values["lr"] == 0.001


@pytest.mark.parametrize(
    "text",
    [
        "Epoch [1/3], Train Loss: 0.6000, Train Acc: 60.00%, Val Loss: 0.7000, Val Acc: 55.00%\n"
        "Epoch [2/3], Train Loss: 0.5000, Train Acc: 70.00%, Val Loss: 0.6500, Val Acc: 58.00%\n",
        "Epoch 1 train loss 0.6 acc 0.6 val loss 0.7 val acc 0.55\n"
        "Epoch 2 train loss 0.5 acc 0.7 val loss 0.65 val acc 0.58\n",
        "Epoch 0/24\n----------\ntrain Loss: 0.6000 Acc: 0.6000\nval Loss: 0.7000 Acc: 0.5500\n\n"
        "Epoch 1/24\n----------\ntrain Loss: 0.5000 Acc: 0.7000\nval Loss: 0.6500 Acc: 0.5800\n",
        "| epoch | train_loss | train_acc | val_loss | val_acc |\n|---|---|---|---|---|\n"
        "| 1 | 0.6 | 60.0 | 0.7 | 55.0 |\n| 2 | 0.5 | 70.0 | 0.65 | 58.0 |\n",
        "epoch\ttrain_loss\ttrain_accuracy\tval_loss\tval_accuracy\n"
        "1\t0.6\t0.6\t0.7\t0.55\n2\t0.5\t0.7\t0.65\t0.58\n",
        "epoch     train_loss  valid_loss  error_rate  time\n"
        "0         0.600000    0.700000    0.450000    00:12\n"
        "1         0.500000    0.650000    0.420000    00:12\n",
    ],
    ids=["torch-bracket-percent", "torch-words", "torch-tutorial", "markdown", "tsv", "fastai"],
)
def test_every_text_style_gives_the_same_table(text):
    log = parse_log(text)
    assert len(log.rows) == 2
    second = log.rows[1].values
    assert second["train_loss"] == pytest.approx(0.5)
    assert second["val_loss"] == pytest.approx(0.65)
    assert second["val_accuracy"] == pytest.approx(0.58)  # percent, error_rate converted


@pytest.mark.parametrize("text", ["", "hello world\nnothing to see\n", "a,b,c\n1,2,3\n"])
def test_input_without_epochs_is_a_data_error_that_says_what_is_expected(text):
    with pytest.raises(DataError, match="Found no per-epoch training metrics"):
        check_log(text)


def test_missing_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        check_log(tmp_path / "missing.log")


def test_unknown_framework_is_a_config_error_with_a_suggestion():
    with pytest.raises(ConfigError, match="Did you mean 'keras'"):
        check_log(keras([{"loss": 0.5}] * 2), framework="kears")


# -- the checks ----------------------------------------------------------------------------


def test_binary_accuracy_on_one_hot_is_named_with_the_arithmetic():
    found = "Found 2100 images belonging to 7 classes.\n"
    rows = [{"loss": 0.4101, "accuracy": 0.8571, "val_loss": 0.41, "val_accuracy": 0.8571}] * 5
    [f] = check_log(keras(rows, header=found))
    assert (f.code, f.category, f.severity) == ("GL401", "binary-loss-multiclass", "error")
    assert "6/7" in f.title and "0.8571" in f.title
    assert "line   3 | epoch   1 | val_acc 0.8571" in f.evidence
    assert "Found 2100 images belonging to 7 classes" in f.evidence
    assert "binary accuracy" in f.explanation and "0.4101" in f.explanation
    assert "categorical_crossentropy" in f.fix


def test_without_k_the_class_count_is_inferred_from_the_stuck_value():
    rows = [{"loss": 0.3, "accuracy": 0.9 + 0.002 * i, "val_accuracy": 0.9} for i in range(4)]
    [f] = check_log(keras(rows))
    assert f.code == "GL401" and "9/10" in f.title and "inferred" in f.evidence


def test_a_high_accuracy_that_merely_plateaus_is_not_trivial():
    rows = [
        {"loss": 1 / (i + 1), "accuracy": 0.6 + 0.1 * i, "val_accuracy": 0.7 + 0.05 * i}
        for i in range(3)
    ]
    rows += [{"loss": 0.2, "accuracy": 0.95, "val_accuracy": 0.9}] * 4
    assert not [f for f in check_log(keras(rows)) if f.category == "trivial-accuracy"]


def test_chance_accuracy_with_loss_at_ln_k_is_one_finding_not_two():
    rows = [{"loss": 1.6094, "accuracy": 0.2, "val_loss": 1.6094, "val_accuracy": 0.2}] * 4
    findings = check_log(keras(rows, header=" dense (Dense)   (None, 5)   10245\n"))
    assert codes(findings) == ["GL402"]
    assert "ln(5) = 1.6094" in findings[0].explanation


def test_loss_stuck_at_ln2_without_accuracy():
    findings = check_log(keras([{"loss": 0.6931, "val_loss": 0.6932}] * 4))
    assert codes(findings) == ["GL404"] and "ln(2)" in findings[0].title


def test_accuracy_frozen_from_epoch_one_is_one_class_with_validation_arithmetic():
    found = "Found 1000 images belonging to 3 classes.\nFound 350 images belonging to 3 classes.\n"
    rows = [
        {
            "loss": 0.9 - 0.01 * i,
            "accuracy": 0.55 + 0.001 * i,
            "val_loss": 0.95 - 0.01 * i,
            "val_accuracy": 0.3143,
        }
        for i in range(5)
    ]
    [f] = check_log(keras(rows, header=found))
    assert f.code == "GL403"
    assert "0.3143 x 350 = 110.0 images" in f.explanation


def test_single_unit_softmax_from_summary_and_constant_metrics():
    summary = " dense (Dense)               (None, 1)                 2049      \n"
    rows = [{"loss": 7.6246, "accuracy": 0.5, "val_loss": 7.6246, "val_accuracy": 0.5}] * 4
    [f] = check_log(keras(rows, header=summary))
    assert (f.code, f.category) == ("GL405", "single-unit-softmax")
    assert 'activation="sigmoid"' in f.fix


def test_nan_loss_is_divergence_and_metrics_after_it_are_not_blamed_on_anything_else():
    rows = [{"loss": 2.1, "accuracy": 0.3}, {"loss": 1.8, "accuracy": 0.4}]
    rows += [{"loss": math.nan, "accuracy": 0.1}] * 4
    [f] = check_log(keras(rows))
    assert (f.code, f.severity) == ("GL407", "error")
    assert "epoch 3" in f.title and "loss nan" in f.evidence


def test_loss_growing_by_orders_of_magnitude_is_divergence():
    losses = [1.4, 0.9, 3.7, 41.3, 905.2]
    [f] = check_log(keras([{"loss": v} for v in losses]))
    assert f.code == "GL408" and "1006x" in f.title


def test_loss_that_starts_high_and_comes_down_is_not_divergence():
    losses = [50.0, 2.0, 0.5, 4.0, 0.3]
    assert "GL408" not in codes(check_log(keras([{"loss": v} for v in losses])))


def test_validation_loss_exploding_while_training_loss_falls_points_at_batchnorm():
    rows = [
        {"loss": 0.8 - 0.1 * i, "val_loss": v} for i, v in enumerate([0.4, 0.5, 2.0, 9.0, 40.0])
    ]
    [f] = check_log(keras(rows))
    assert (f.code, f.category) == ("GL409", "batchnorm")


def test_overfitting_onset_names_the_epoch_and_the_numbers():
    train = [1.0, 0.7, 0.5, 0.35, 0.25, 0.15, 0.1, 0.05]
    val = [1.1, 0.8, 0.6, 0.55, 0.6, 0.7, 0.8, 0.9]
    [f] = check_log(keras([{"loss": t, "val_loss": v} for t, v in zip(train, val, strict=True)]))
    assert (f.code, f.category) == ("GL412", "overfitting")
    assert "epoch 4" in f.title and "0.5500" in f.title and "+64%" in f.title
    assert "0.3500 -> 0.0500" in f.evidence


def test_val_better_than_train_is_info_and_large_gap_is_leakage():
    small = [{"accuracy": 0.7 + 0.02 * i, "val_accuracy": 0.74 + 0.02 * i} for i in range(5)]
    [f] = check_log(keras(small))
    assert (f.code, f.category, f.severity) == ("GL410", "other", "info")
    assert "dropout" in f.explanation
    large = [{"accuracy": 0.7 + 0.01 * i, "val_accuracy": 0.99} for i in range(5)]
    f = next(f for f in check_log(keras(large)) if f.code == "GL411")
    assert (f.category, f.severity) == ("data-leakage", "warning")


def test_constant_validation_loss_and_accuracy_while_training_moves():
    rows = [
        {
            "loss": 1.0 - 0.1 * i,
            "accuracy": 0.5 + 0.05 * i,
            "val_loss": 0.9312,
            "val_accuracy": 0.6913,
        }
        for i in range(5)
    ]
    [f] = check_log(keras(rows, header="Found 10 images belonging to 4 classes.\n"))
    assert (f.code, f.category) == ("GL406", "other")


def test_drop_after_unfreezing_blames_lr_unless_it_was_lowered():
    def results(lr2):
        rows = ["phase,epoch,lr,train_loss,val_accuracy"]
        rows += [f"probe,{e},0.001,{0.5 - 0.05 * e},{0.8 + 0.02 * e}" for e in range(1, 5)]
        rows += [f"finetune,{e},{lr2},0.4,{0.6 + 0.02 * e}" for e in range(5, 9)]
        return "\n".join(rows) + "\n"

    [f] = check_log(results(0.001))
    assert (f.code, f.category) == ("GL413", "learning-rate")
    assert "0.8800 to 0.7000" in f.title and "never gets back" in f.title
    assert "(not lower)" in f.evidence and "BatchNorm" in f.explanation
    [f] = check_log(results(1e-5))
    assert (f.code, f.category) == ("GL414", "batchnorm")


def test_monitored_metric_missing_suggests_the_logged_name():
    text = keras([{"loss": 0.5, "accuracy": 0.8, "val_loss": 0.5, "val_accuracy": 0.8}] * 2)
    text += "WARNING:tensorflow:Can save best model only with val_acc available, skipping.\n"
    [f] = check_log(text)
    assert (f.code, f.category, f.severity) == ("GL415", "monitor-metric-missing", "error")
    assert 'monitor="val_accuracy", mode="max"' in f.fix


def test_a_metric_key_error_inside_a_callback_is_a_missing_monitor_other_key_errors_are_not():
    rows = keras([{"loss": 0.52, "accuracy": 0.81, "val_loss": 0.55, "val_accuracy": 0.79}])
    frames = (
        "Traceback (most recent call last):\n"
        '  File "train.py", line 60, in <module>\n    model.fit(x, y, callbacks=[Plot()])\n'
        '  File "train.py", line 21, in on_epoch_end\n'
        "    self.val_accs.append(logs['val_acc'])\n"
    )
    [f] = check_log(rows + frames + "KeyError: 'val_acc'\n")
    assert (f.code, f.category) == ("GL415", "monitor-metric-missing")
    assert 'monitor="val_accuracy"' in f.fix and "empty" not in f.title
    loader = frames.replace("on_epoch_end", "__getitem__").replace("logs['val_acc']", "row['x']")
    assert not check_log(rows + loader + "KeyError: 'val_acc'\n")  # no callback in the frames
    assert not check_log(rows + frames + "KeyError: 'image'\n")  # not a metric's name


def test_framework_picks_the_language_of_the_fix():
    rows = [{"loss": 0.41, "accuracy": 0.8571, "val_accuracy": 0.8571}] * 4
    text = keras(rows, header="Found 70 images belonging to 7 classes.\n")
    assert "model.compile" in check_log(text)[0].fix
    assert "CrossEntropyLoss" in check_log(text, framework="torch")[0].fix


def test_findings_are_sorted_errors_first():
    rows = [
        {"loss": 0.7 - 0.01 * i, "accuracy": 0.7 + 0.01 * i, "val_accuracy": 0.995}
        for i in range(4)
    ]
    text = keras(rows) + "WARNING:tensorflow:Can save best model only with val_acc available\n"
    severities = [f.severity for f in check_log(text)]
    assert severities[0] == "error" and "warning" in severities


# -- run directories -----------------------------------------------------------------------


def test_check_run_merges_saved_findings_with_the_results_csv(tmp_path):
    saved = Finding("GL601", "data-leakage", "error", "dupes", "a == b", "why", "fix")
    (tmp_path / "findings.json").write_text(json.dumps([saved.to_dict()]))
    (tmp_path / "results.csv").write_text((CASES / "batchnorm__1__bug.csv").read_text())
    assert codes(check_run(tmp_path)) == ["GL601", "GL414"]


def test_check_run_rejects_a_folder_that_is_not_a_run(tmp_path):
    with pytest.raises(ArtifactError, match="not a run directory"):
        check_run(tmp_path)
    (tmp_path / "findings.json").write_text("{not json")
    with pytest.raises(ArtifactError, match="not a list of findings"):
        check_run(tmp_path)


# -- the corpus ----------------------------------------------------------------------------

BUGGY = sorted(CASES.glob("*__bug.*"))


def test_corpus_covers_every_log_category_twice_with_fixed_versions():
    cats = [p.name.split("__")[0] for p in BUGGY]
    for cat in (
        "binary-loss-multiclass",
        "trivial-accuracy",
        "divergence",
        "overfitting",
        "learning-rate",
        "batchnorm",
        "other",
        "data-leakage",
        "monitor-metric-missing",
        "single-unit-softmax",
    ):
        assert cats.count(cat) >= 2, cat
    for bug in BUGGY:
        assert bug.with_name(bug.name.replace("__bug.", "__fixed.")).is_file(), bug.name


@pytest.mark.parametrize("bug", BUGGY, ids=[p.stem for p in BUGGY])
def test_corpus_buggy_log_is_diagnosed_and_its_fixed_version_is_clean(bug):
    category = bug.name.split("__")[0]
    assert category in CATEGORIES
    found = check_log(bug)
    expected = [f for f in found if f.category == category]
    assert expected, f"{bug.name}: expected {category}, got {[f.code for f in found]}"
    assert all(f.severity in ("error", "warning", "info") and f.evidence for f in expected)
    fixed = check_log(bug.with_name(bug.name.replace("__bug.", "__fixed.")))
    assert not [f for f in fixed if f.severity == "error"], [f.title for f in fixed]
    assert not {f.code for f in expected} & {f.code for f in fixed}


# -- the first lines (issue 11 item 4) -------------------------------------------------------

SEED = CASES / "binary-loss-multiclass__2__bug.log"


def test_seed_log_binary_loss_on_a_7_unit_softmax_is_an_error_from_the_first_step():
    [f] = check_log(SEED)
    assert (f.code, f.category, f.severity) == ("GL416", "binary-loss-multiclass", "error")
    assert "0.6931" in f.title and "6/7" in f.title
    assert "(None, 7)" in f.evidence and "ln 2" in f.evidence and "step 1" in f.evidence
    assert "categorical_crossentropy" in f.fix
    # the same verdict from the summary and the first progress redraw alone
    text = SEED.read_bytes().decode()  # read_text() would turn the redraws' \r into \n
    head = text[: text.index("\r", text.index("loss: 0.6931"))] + "\n"
    assert "val_accuracy" not in head
    [g] = check_log(head)
    assert (g.code, g.severity) == ("GL416", "error")


def test_first_step_with_only_the_loss_at_ln2_is_a_warning_that_says_what_was_inferred():
    text = (
        " dense_2 (Dense)             (None, 5)                 2565\n"
        "Epoch 1/3\n"
        " 1/90 [..............................] - ETA: 3:01 - loss: 0.6929 - accuracy: 0.4375\r"
        "90/90 [==============================] - 20s - loss: 0.3000 - accuracy: 0.9000\n"
    )
    [f] = check_log(text)
    assert (f.code, f.severity) == ("GL416", "warning")
    assert "inferred" in f.evidence and "ln 5 = 1.6094" in f.evidence


def test_a_correct_first_step_and_a_resumed_run_say_nothing():
    fixed = check_log(CASES / "binary-loss-multiclass__2__fixed.log")
    assert not [f for f in fixed if f.category == "binary-loss-multiclass"]
    # a mid-epoch paste: the running averages are not the first batches
    text = (
        " dense (Dense)               (None, 7)                 8967\n"
        "Epoch 1/2\n"
        "30/55 [===============>..............] - ETA: 10s - loss: 0.6931 - accuracy: 0.8571\n"
    )
    assert not [f for f in check_log(text) if f.code == "GL416"]


def test_plateau_and_first_step_of_one_cause_are_one_finding():
    header = "Found 700 images belonging to 7 classes.\nEpoch 1/4\n"
    step = " 1/22 [>.....] - ETA: 30s - loss: 0.4101 - accuracy: 0.8571\r"
    rows = keras([{"loss": 0.4101, "accuracy": 0.8571, "val_accuracy": 0.8571}] * 4)
    text = header + step + rows.split("\n", 1)[1]
    found = check_log(text)
    assert [f.code for f in found] == ["GL401"]
    assert "Also GL416" in found[0].evidence


def test_k_from_a_printed_class_indices_dict():
    text = "{'cat': 0, 'dog': 1, 'fox': 2, 'owl': 3}\n" + keras([{"loss": 0.5}] * 2)
    log = parse_log(text)
    assert log.num_classes == 4 and "class indices" in log.num_classes_evidence


def test_tqdm_and_lightning_progress_bars_give_epochs_and_first_steps():
    text = (
        "Epoch 0:   2%|▏         | 1/50 [00:01<01:10,  1.40it/s, loss=2.31, v_num=0]\r"
        "Epoch 0: 100%|██████████| 50/50 [00:30<00:00,  1.60it/s, loss=1.2, v_num=0, "
        "val_loss=1.1, val_acc=0.61]\n"
        "Epoch 1: 100%|██████████| 50/50 [00:30<00:00,  1.60it/s, loss=0.8, v_num=0, "
        "val_loss=0.9, val_acc=0.70]\n"
    )
    log = parse_log(text)
    assert [r.epoch for r in log.rows] == [0, 1]
    assert log.rows[1].values["val_accuracy"] == pytest.approx(0.70)
    assert (log.steps[0].step, log.steps[0].values) == (1, {"train_loss": 2.31})


def test_tensorboard_csv_export_takes_its_metric_from_the_file_name(tmp_path):
    path = tmp_path / "run-validation-tag-epoch_loss.csv"
    path.write_text("Wall time,Step,Value\n1.6e9,0,0.9\n1.6e9,1,0.7\n1.6e9,2,0.6\n")
    log = parse_log(path)
    assert [r.values["val_loss"] for r in log.rows] == [0.9, 0.7, 0.6]
    assert [r.epoch for r in log.rows] == [0, 1, 2]


def test_nan_right_after_unfreezing_is_the_learning_rate_of_the_second_phase():
    phase1 = keras([{"loss": 0.9 - 0.1 * i, "val_loss": 0.8 - 0.1 * i} for i in range(3)])
    phase2 = keras([{"loss": math.nan, "val_loss": math.nan}] * 2)
    [f] = [f for f in check_log(phase1 + phase2) if f.severity != "info"]
    # The NaN is seen (divergence, an error); the learning rate is its inferred likely cause.
    assert (f.code, f.category, f.severity, f.causes) == (
        "GL417", "divergence", "error", ["learning-rate"]
    )  # fmt: skip
    assert "right after" in f.title and "inferred" in f.evidence
    # NaN late in a single phase stays plain divergence
    late = keras([{"loss": 0.5, "val_loss": 0.5}] * 4 + [{"loss": math.nan, "val_loss": math.nan}])
    assert [f.code for f in check_log(late) if f.severity != "info"] == ["GL407"]


def test_nan_inside_an_unfinished_epoch_is_read_from_the_progress_bar():
    text = (
        "Epoch 1/5\n"
        " 1/40 [..............................] - ETA: 1:00 - loss: 2.1000 - accuracy: 0.2000\r"
        " 9/40 [=====>........................] - ETA: 40s - loss: nan - accuracy: 0.1000\n"
    )
    [f] = check_log(text)
    assert (f.code, f.category) == ("GL407", "divergence") and "nan" in f.title


def test_validation_accuracy_frozen_without_a_validation_loss():
    val = [0.52, 0.58, *[0.6345] * 5]
    rows = [{"loss": 1.0 - 0.1 * i, "accuracy": 0.5 + 0.05 * i, "val_accuracy": v}
            for i, v in enumerate(val)]  # fmt: skip
    [f] = check_log(keras(rows))
    assert (f.code, f.category) == ("GL406", "other") and "0.6345 for 5 epochs" in f.title


def test_training_loss_jump_right_after_unfreezing():
    phase1 = keras([{"loss": 0.9 - 0.1 * i, "accuracy": 0.6 + 0.05 * i} for i in range(4)])
    phase2 = keras([{"loss": 2.5 - 0.2 * i, "accuracy": 0.3 + 0.05 * i} for i in range(3)])
    [f] = check_log(phase1 + phase2)
    assert (f.code, f.category) == ("GL413", "learning-rate")
    assert f.title.startswith("Training loss rises from 0.6000 to 2.5000")


def test_validation_at_chance_while_training_learns_points_at_inference_mode():
    rows = [
        {"accuracy": 0.57, "loss": 1.73, "val_accuracy": 0.106, "val_loss": 2.41},
        {"accuracy": 0.88, "loss": 0.86, "val_accuracy": 0.106, "val_loss": 2.73},
        {"accuracy": 0.93, "loss": 0.52, "val_accuracy": 0.114, "val_loss": 2.13},
    ]
    [f] = check_log(keras(rows, header="Found 1000 images belonging to 10 classes.\n"))
    assert (f.code, f.category, f.severity) == ("GL419", "batchnorm", "warning")
    assert "1/10 = 0.1000" in f.title and "inferred" in f.evidence
    learning = [{**r, "val_accuracy": r["accuracy"] - 0.05} for r in rows]
    assert not check_log(keras(learning, header="Found 1000 images belonging to 10 classes.\n"))


def test_validation_under_chance_with_k_printed_is_the_same_gap_and_names_preprocessing():
    # One class predicted for every validation image scores that class's share: under 1/K for
    # a minority class. A pretrained model fed images it was not trained on does that.
    rows = [
        {"accuracy": 0.57 + 0.1 * i, "loss": 1.4 - 0.3 * i, "val_accuracy": v, "val_loss": 6.1}
        for i, v in enumerate([0.0816, 0.0612, 0.0657, 0.0703])
    ]
    eleven = "Found 3430 images belonging to 11 classes.\n"
    [f] = check_log(keras(rows, header=eleven))
    assert (f.code, f.category) == ("GL419", "batchnorm")
    assert "stays at or below chance (1/11 = 0.0909)" in f.title
    assert f.causes[0] == "preprocessing-mismatch" and "label-order-mismatch" in f.causes
    assert "preprocess_input" in f.explanation
    # K from the accuracy itself cannot say "below": it reads the same numbers as at chance
    [g] = [g for g in check_log(keras(rows)) if g.code == "GL419"]
    assert "or below" not in g.title and "inferred: K = 14" in g.evidence
    above = [{**r, "val_accuracy": r["val_accuracy"] + 0.15} for r in rows]
    assert not [g for g in check_log(keras(above, header=eleven)) if g.code == "GL419"]


def test_a_script_dividing_by_255_before_keras_efficientnet_takes_the_gap_as_its_symptom(
    tmp_path,
):
    from graftlab.doctor.targets import diagnose

    script = tmp_path / "train.py"
    script.write_text(
        "import tensorflow as tf\n"
        "from tensorflow.keras.preprocessing.image import ImageDataGenerator\n"
        "gen = ImageDataGenerator(rescale=1/255.)\n"
        "train = gen.flow_from_directory('data/train', target_size=(224, 224))\n"
        "val = gen.flow_from_directory('data/val', target_size=(224, 224))\n"
        "base = tf.keras.applications.EfficientNetB0(include_top=False, weights='imagenet')\n"
        "x = tf.keras.layers.GlobalAveragePooling2D()(base.output)\n"
        "out = tf.keras.layers.Dense(11, activation='softmax')(x)\n"
        "model = tf.keras.Model(base.input, out)\n"
        "model.compile('adam', 'categorical_crossentropy', metrics=['accuracy'])\n"
        "model.fit(train, validation_data=val, epochs=4)\n"
    )
    rows = [
        {"accuracy": 0.57 + 0.1 * i, "loss": 1.4 - 0.3 * i, "val_accuracy": v, "val_loss": 6.1}
        for i, v in enumerate([0.0816, 0.0612, 0.0657, 0.0703])
    ]
    log = tmp_path / "out.txt"
    log.write_text(keras(rows, header="Found 3430 images belonging to 11 classes.\n"))
    # The log's gap, ranked by the code, leads with preprocessing and merges into the script's
    # finding of that cause: one finding, the other candidates kept as its causes.
    found = [f for _, f in diagnose([script, log]) if f.severity != "info"]
    [pre] = [f for f in found if f.category == "preprocessing-mismatch"]
    assert pre.code == "GL110" and pre.causes[0] == "batchnorm"
    assert not [f for f in found if f.code in ("GL419", "GL455", "GL442", "GL443")]


def test_preprocessing_ranked_first_reports_under_its_own_check_with_its_fix():
    from graftlab.doctor._loggap import gap_finding

    order = ["preprocessing-mismatch", "batchnorm", "label-order-mismatch"]
    f = gap_finding("Training accuracy reaches 0.9 ...", "  evidence", order, "a reason", "keras")
    assert (f.code, f.category) == ("GL455", "preprocessing-mismatch")
    assert "likely: images prepared unlike the pretrained weights expect" in f.title
    assert "feed 0..255 pixels" in f.fix and f.causes == order[1:]


def test_collapse_to_chance_right_after_unfreezing_is_the_unfreezing_not_chance():
    found = "Found 2100 images belonging to 7 classes.\n"
    phase1 = keras([{"loss": 1.6 - 0.2 * i, "val_accuracy": 0.5 + 0.06 * i} for i in range(3)])
    phase2 = keras([{"loss": 35.0}, {"loss": 2.15}, {"loss": 2.27}], total=6)
    phase2 = phase2.replace("loss: 35.0000", "loss: 35.0000 - val_accuracy: 0.1429")
    phase2 = phase2.replace("loss: 2.1500", "loss: 2.1500 - val_accuracy: 0.1429")
    phase2 = phase2.replace("loss: 2.2700", "loss: 2.2700 - val_accuracy: 0.1429")
    found_ = [f for f in check_log(found + phase1 + phase2) if f.severity != "info"]
    assert [(f.code, f.category) for f in found_] == [("GL413", "learning-rate")]
    assert "0.6200 to 0.1429" in found_[0].title


def test_loss_far_below_ln_k_at_chance_accuracy_is_binary_cross_entropy():
    text = (
        " dense_1 (Dense)             (None, 10)                650\n"
        "Epoch 1/3\n"
        "47/47 - 4s - loss: 0.4497 - accuracy: 0.0953 - val_loss: 0.3192 - val_accuracy: 0.1567\n"
        "Epoch 2/3\n"
        "47/47 - 2s - loss: 0.3043 - accuracy: 0.2100 - val_loss: 0.2863 - val_accuracy: 0.3067\n"
    )
    [f] = [f for f in check_log(text) if f.severity != "info"]
    assert (f.code, f.category, f.severity) == ("GL416", "binary-loss-multiclass", "warning")
    assert "far below ln 10" in f.title


def test_evaluate_after_fit_below_the_first_epoch_points_at_inference_mode():
    text = (
        keras([{"loss": 1.05, "accuracy": 0.63}, {"loss": 0.70, "accuracy": 0.74}])
        + " 1/33 [..............................] - ETA: 3s - loss: 2.4000 - accuracy: 0.4000\n"
        + "33/33 [==============================] - 2s - loss: 2.3609 - accuracy: 0.4362\n"
        + "[2.360898971557617, 0.43619048595428467]\n"
    )
    log = parse_log(text)
    assert [r.values["train_accuracy"] for r in log.rows] == [0.63, 0.74]  # not the eval bar
    [f] = check_log(text)
    assert (f.code, f.category, f.severity) == ("GL421", "batchnorm", "warning")
    assert "0.4362" in f.title and "inferred" in f.evidence
    fine = text.replace("[2.360898971557617, 0.43619048595428467]", "[0.61, 0.7200]")
    assert not check_log(fine)


def test_lightning_csvlogger_lines_of_one_epoch_are_one_row():
    text = (
        "epoch,step,train_loss_epoch,train_loss_step,val_acc,val_loss\n"
        "0,6,,,0.45,1.64\n0,6,1.99,,,\n1,13,,,0.47,1.50\n1,13,1.19,,,\n"
    )
    log = parse_log(text)
    assert [(r.phase, r.epoch) for r in log.rows] == [(1, 0), (1, 1)]
    assert log.rows[1].values == {"val_accuracy": 0.47, "val_loss": 1.5, "train_loss": 1.19}


def test_a_line_announcing_unfreezing_starts_a_phase():
    text = (
        "Epoch 1: loss 1.7140 acc 0.3600 | val_loss 1.5616 val_acc 0.5429\n"
        "Epoch 2: loss 1.0334 acc 0.7171 | val_loss 1.1942 val_acc 0.6333\n"
        "Unfreezing backbone\n"
        "Epoch 3: loss 10.0896 acc 0.1957 | val_loss 635.3492 val_acc 0.1429\n"
        "Epoch 4: loss 4.9196 acc 0.1443 | val_loss 35.0137 val_acc 0.1429\n"
    )
    assert [r.phase for r in parse_log(text).rows] == [1, 1, 2, 2]
    assert [f.code for f in check_log(text) if f.severity != "info"] == ["GL413"]


def test_a_first_epoch_loss_in_the_millions_is_divergence_not_chance():
    rows = [{"loss": 2131760.75, "accuracy": 0.146, "val_loss": 22.1, "val_accuracy": 0.1429}]
    rows += [{"loss": 17.3 + i, "accuracy": 0.15, "val_loss": 6.9 + i, "val_accuracy": 0.1429}
             for i in range(3)]  # fmt: skip
    found = check_log(keras(rows, header="Found 2100 images belonging to 7 classes.\n"))
    assert [(f.code, f.category, f.severity) for f in found] == [("GL408", "divergence", "error")]
    assert "diverged at once" in found[0].title
    assert found[0].causes == ["learning-rate"]  # the likely cause, named beside the symptom


def test_a_loss_in_the_hundreds_beside_an_accuracy_far_above_chance_is_not_divergence():
    # A run that crashed after one epoch: weight penalties make the loss 210 while the model
    # already classifies 77% of a two-class set; the optimiser did not throw the weights out.
    two = "Found 7000 images belonging to 2 classes.\n"
    assert "GL408" not in codes(check_log(keras([{"loss": 210.4, "accuracy": 0.7679}], two)))
    assert "GL408" in codes(check_log(keras([{"loss": 210.4, "accuracy": 0.5012}], two)))


def test_high_accuracy_with_the_loss_stuck_at_the_double_softmax_floor():
    rows = [(1.9392, 0.60), (1.7038, 0.77), (1.6902, 0.78), (1.6803, 0.78), (1.6697, 0.79)]
    text = "".join(
        f"epoch {i}: train_loss={loss} train_acc={acc} val_loss={loss} val_acc={acc}\n"
        for i, (loss, acc) in enumerate(rows, 1)
    )
    [f] = [f for f in check_log(text) if f.severity != "info"]
    assert (f.code, f.category, f.severity) == ("GL423", "double-softmax", "warning")
    assert "inferred" in f.evidence
    learning = text.replace("1.6697", "0.6697").replace("1.6803", "0.9803")
    assert not [f for f in check_log(learning) if f.code == "GL423"]


def test_an_accuracy_the_loss_rules_out_is_a_metric_bug_not_a_model_at_chance():
    # running_corrects / n in integer arithmetic: 0 in every epoch while the loss falls to 0.2
    losses = [0.91, 0.62, 0.45, 0.36, 0.29, 0.24, 0.21]
    text = "".join(
        f"epoch {i}: train_loss={v:.4f} train_acc=0.0000 val_loss={v - 0.03:.4f} val_acc=0.0000\n"
        for i, v in enumerate(losses, 1)
    )
    [f] = [f for f in check_log(text) if f.severity != "info"]
    assert (f.code, f.category, f.severity) == ("GL438", "other", "warning")
    assert "1 - 0.2100 / 0.6931 = 0.6970" in f.evidence and "validation too" in f.title
    right = text.replace("train_acc=0.0000", "train_acc=0.8100").replace(
        "val_acc=0.0", "val_acc=0.8"
    )
    assert "GL438" not in codes(check_log(right))


def test_losses_the_bound_does_not_apply_to_are_not_called_a_metric_bug():
    def log(losses, accs, header=""):
        rows = [{"loss": v, "accuracy": a} for v, a in zip(losses, accs, strict=True)]
        return codes(check_log(keras(rows, header=header)))

    # a squared error never reaches a cross-entropy's scale
    assert "GL438" not in log([0.09, 0.07, 0.05, 0.04], [0.31, 0.45, 0.55, 0.61])
    # binary cross-entropy over 10 units beside a categorical accuracy: GL416's reading
    ten = "Found 1500 images belonging to 10 classes.\n"
    assert "GL438" not in log([0.45, 0.30, 0.28, 0.27], [0.10, 0.21, 0.34, 0.41], ten)
    # the last batch's loss printed beside the epoch's accuracy: one noisy epoch is not a bug
    assert "GL438" not in log([0.62, 0.41, 0.05, 0.33, 0.30], [0.66, 0.78, 0.81, 0.83, 0.84])


def test_chance_top1_and_top5_are_a_label_mapping_only_when_the_loss_is_sure():
    def summary(acc1, acc5, loss):
        return f"<All keys matched successfully>\n* Acc@1 {acc1} Acc@5 {acc5} loss {loss}\n"

    [f] = check_log(summary(0.094, 0.512, 9.21))
    assert (f.code, f.category, f.severity) == ("GL439", "label-order-mismatch", "warning")
    assert "ln 977 = 6.88" in f.evidence and "All keys matched" in f.evidence
    assert not check_log(summary(0.094, 0.512, 6.95))  # near ln K: unsure, not a mapping
    assert not check_log(summary(0.094, 2.9, 9.21))  # top-5 far above 5/K: it ranks classes
    assert not check_log(summary(76.1, 92.9, 0.96))  # a model that works


def test_a_target_out_of_bounds_traceback_is_a_head_mismatch():
    text = (
        'Traceback (most recent call last):\n  File "train.py", line 42, in <module>\n'
        "IndexError: Target 1 is out of bounds.\n"
    )
    [f] = check_log(text)
    assert (f.code, f.category, f.severity) == ("GL426", "head-mismatch", "error")


def test_a_new_heads_size_mismatch_under_a_non_strict_load_warning_is_not_an_error():
    warned = (
        "mmcls - WARNING - The model and loaded state dict do not match exactly\n\n"
        "size mismatch for head.fc.weight: copying a param with shape torch.Size([1000, 512]) "
        "from checkpoint, the shape in current model is torch.Size([5, 512]).\n"
    )
    epochs = keras([{"loss": 1.2, "accuracy": 0.5}, {"loss": 0.9, "accuracy": 0.6}])
    assert "GL426" not in [f.code for f in check_log(warned + epochs)]
    strict = warned.replace(
        "mmcls - WARNING - The model and loaded state dict do not match exactly",
        "RuntimeError: Error(s) in loading state_dict for ResNet:",
    )
    [f] = [f for f in check_log(strict) if f.code == "GL426"]
    assert f.severity == "error" and "head.fc.weight" in f.title


def test_train_and_validation_at_the_same_exact_accuracy_is_the_majority_class():
    rows = [{"loss": 0.61, "accuracy": 0.64, "val_accuracy": 0.735}]
    rows += [{"loss": 0.33 - 0.02 * i, "accuracy": 0.9, "val_accuracy": 0.9} for i in range(4)]
    two = "Found 900 images belonging to 2 classes.\n"
    [f] = [f for f in check_log(keras(rows, header=two)) if f.severity != "info"]
    assert (f.code, f.category) == ("GL403", "trivial-accuracy") and "0.9000" in f.title


def test_validation_below_chance_while_training_learns_is_a_class_order_mismatch():
    val = [0.27, 0.28, 0.16, 0.14, 0.19, 0.18]
    rows = [{"loss": 1.48 - 0.1 * i, "accuracy": 0.39 + 0.06 * i, "val_loss": 1.45 + 0.07 * i,
             "val_accuracy": v} for i, v in enumerate(val)]  # fmt: skip
    [f] = check_log(keras(rows, header="Found 1500 images belonging to 5 classes.\n"))
    assert (f.code, f.category, f.severity) == ("GL425", "label-order-mismatch", "warning")


def test_one_class_on_validation_only_while_training_learns_is_validation_preprocessing():
    rows = [{"loss": 1.62 - 0.1 * i, "accuracy": 0.39 + 0.05 * i, "val_loss": 2.8 + 0.3 * i,
             "val_accuracy": 0.1429} for i in range(6)]  # fmt: skip
    [f] = check_log(keras(rows, header="Found 2100 images belonging to 7 classes.\n"))
    assert (f.code, f.category) == ("GL427", "train-eval-preprocessing-mismatch")
    assert "= 1/7" in f.title and "inferred" in f.evidence


def test_lightning_monitor_key_error_names_the_logged_key():
    text = (
        "Epoch 0: 100%|██████████| 7/7 [00:02<00:00, 3.1it/s, train_loss=1.9]\n"
        "lightning.fabric.utilities.exceptions.MisconfigurationException: "
        "`ModelCheckpoint(monitor='val_acc')` could not find the monitored key in the returned "
        "metrics: ['train_loss', 'val_loss', 'val_accuracy', 'epoch', 'step']. HINT: ...\n"
    )
    [f] = check_log(text, framework="torch")
    assert (f.code, f.category) == ("GL415", "monitor-metric-missing")
    assert 'monitor="val_accuracy"' in f.fix


@pytest.mark.parametrize("bug", BUGGY[::3], ids=[p.stem for p in BUGGY[::3]])
def test_cut_and_corrupted_logs_give_findings_or_a_data_error_never_a_crash(bug):
    text = bug.read_bytes().decode("utf-8", "replace")
    noise = ["nan", "\r", "inf", "1e309", "|", ",,,", "\x08" * 5, "Epoch 1/1\n", "acc: 2.0\n"]
    variants = [text[: len(text) // 2], text[: len(text) // 3], "\x00" + text]
    for i, bit in enumerate(noise):
        at = (i * 7919) % (len(text) + 1)
        variants.append(text[:at] + bit + text[at:])
    for variant in variants:
        try:
            found = check_log(variant)
        except DataError:
            continue
        assert all(isinstance(f, Finding) for f in found)


@pytest.mark.parametrize(
    "line",
    [
        "num_classes = 6",
        "Number of classes: 6",
        "n_classes=6",
        "nb_classes: 6",
        "num_labels=6",
        "y_train shape: (5000, 6)",
        "labels.shape torch.Size([64, 6])",
        "classes: ['a', 'b', 'c', 'd', 'e', 'f']",
        "class_names = ['a', 'b', 'c', 'd', 'e', 'f']",
    ],
)
def test_k_from_a_printed_number_of_classes(line):
    assert parse_log(line + "\n" + keras([{"loss": 0.5}] * 2)).num_classes == 6


def test_lightning_results_table_is_an_evaluation():
    text = (
        "Epoch 0: 100%|██████████| 7/7 [00:02<00:00, train_loss=1.05, train_acc=0.63]\n"
        "Epoch 1: 100%|██████████| 7/7 [00:02<00:00, train_loss=0.70, train_acc=0.74]\n"
        "┏━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━┓\n"
        "┃        Test metric        ┃       DataLoader 0        ┃\n"
        "┡━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━┩\n"
        "│         test_acc          │    0.4361904859542847     │\n"
        "│         test_loss         │     2.360898971557617     │\n"
        "└───────────────────────────┴───────────────────────────┘\n"
    )
    log = parse_log(text)
    assert [e[1:] for e in log.evaluations] == [(2.360898971557617, 0.4361904859542847)]
    assert [f.code for f in check_log(text)] == ["GL421"]


def test_a_graftlab_run_that_dips_after_the_probe_and_recovers_gets_no_unfreeze_finding():
    """Issue 14: GL413 told a default LP-FT run that went from 0.932 to 0.987 to use LP-FT."""
    head = "phase,epoch,lr,train_loss,train_accuracy,val_loss,val_accuracy\n"
    probe = "probe,1,0.001,0.30,0.92,0.25,0.932\n"
    dip = "finetune,2,0.002,0.40,0.88,0.45,0.850\n"
    recovered = head + probe + dip + "finetune,3,0.001,0.10,0.97,0.08,0.987\n"
    assert not [f for f in check_log(recovered, framework="graftlab") if f.code == "GL413"]
    never = head + probe + dip + "finetune,3,0.001,0.35,0.90,0.40,0.880\n"
    (f,) = [f for f in check_log(never, framework="graftlab") if f.code == "GL413"]
    assert "graftlab train DATA" in f.fix and "--strategy lp" in f.fix
    # The same numbers from someone else's loop still name the dip: nothing says where its
    # second phase started from.
    assert [f for f in check_log(recovered, framework="torch") if f.code == "GL413"]


# -- read without a model summary: K, the output layer and the split from the numbers ----------


def torch_prints(rows):
    """``Epoch [i/N] Loss: ... Acc: ..% Test Acc: ..%`` lines (a hand-written PyTorch loop)."""
    n = len(rows)
    return "".join(
        f"Epoch [{i}/{n}] Loss: {loss:.4f} Acc: {100 * acc:.2f}% Test Acc: {100 * va:.2f}%\n"
        for i, (loss, acc, va) in enumerate(rows, 1)
    )


@pytest.mark.parametrize(
    "text",
    [
        # 7 classes, noisy loss around ln 7 = 1.9459, the validation at exactly 1/7 twice
        torch_prints([(1.9880, 0.0952, 0.1429), (1.9958, 0.1310, 0.1429), (1.9731, 0.1595, 0.20),
                      (1.9736, 0.1738, 0.1429), (1.9571, 0.1905, 0.25)]),
        # 10 classes in Keras output, nothing printed about K
        keras([{"loss": 2.3100 - 0.005 * i, "accuracy": 0.098 + 0.004 * i,
                "val_loss": 2.3050, "val_accuracy": 0.1000 + 0.002 * (i % 2)} for i in range(5)]),
        # 4 classes, Lightning-style table
        "epoch,train_loss,train_acc,val_acc\n"
        + "".join(f"{i},{1.3863 + d:.4f},{a:.4f},{v:.4f}\n" for i, (d, a, v) in
                  enumerate([(0.01, 0.26, 0.25), (-0.02, 0.27, 0.24), (0.005, 0.25, 0.27),
                             (-0.015, 0.28, 0.25)])),
    ],
    ids=["torch-prints-k7", "keras-k10", "csv-k4"],
)  # fmt: skip
def test_loss_at_ln_k_and_chance_accuracy_all_along_names_the_input_as_likely_cause(text):
    found = [f for f in check_log(text) if f.severity != "info"]
    assert [(f.code, f.category, f.severity) for f in found] == [
        ("GL428", "trivial-accuracy", "warning")
    ]
    assert found[0].causes == ["preprocessing-mismatch"]
    assert "inferred" in found[0].evidence and "K = " in found[0].evidence


@pytest.mark.parametrize(
    "rows",
    [
        # learns from ln 7 down: a healthy start
        [(1.9500, 0.15, 0.16), (1.7000, 0.35, 0.33), (1.3000, 0.52, 0.50), (1.0500, 0.63, 0.60)],
        # slow but real: the loss leaves ln 7 by the third epoch
        [(1.9600, 0.14, 0.15), (1.9200, 0.20, 0.19), (1.8000, 0.27, 0.26), (1.6500, 0.33, 0.31)],
        # high accuracy, loss that just happens to be near ln 7 once
        [(1.9500, 0.80, 0.78), (0.6000, 0.85, 0.83), (0.4000, 0.90, 0.87), (0.3000, 0.92, 0.88)],
    ],
)
def test_a_run_that_learns_is_not_at_chance(rows):
    assert not [f for f in check_log(torch_prints(rows)) if f.category == "trivial-accuracy"]


def test_k_is_inferred_from_an_accuracy_at_exactly_one_over_k_or_from_the_first_loss():
    from graftlab.doctor._logchance import infer_k

    by_acc = parse_log(torch_prints([(1.2, 0.30, 0.1429), (1.1, 0.33, 0.1429)]))
    assert infer_k(by_acc)[0] == 7 and "1/7" in infer_k(by_acc)[1]
    by_loss = parse_log(torch_prints([(1.6094, 0.20, 0.21), (1.5, 0.33, 0.35)]))
    assert infer_k(by_loss)[0] == 5 and "ln 5" in infer_k(by_loss)[1]
    learned = parse_log(torch_prints([(1.6094, 0.45, 0.41), (1.5, 0.53, 0.50)]))
    assert infer_k(learned)[0] is None  # an epoch that already learned is below ln K
    printed = parse_log("Found 300 images belonging to 3 classes.\n" + keras([{"loss": 0.4}] * 2))
    assert infer_k(printed)[0] == 3
    assert infer_k(parse_log(torch_prints([(0.9, 0.61, 0.58), (0.7, 0.70, 0.66)])))[0] is None


@pytest.mark.parametrize(
    ("loss", "acc"),
    [
        (7.6666, 0.5000),
        (4.5999, 0.7000),
        (5.9781, 0.6250),
        (50.0000, 0.5000),
        (0.0, 0.6400),
        (0.3750, 0.6250),
        (0.7133, 0.6000),
    ],
    ids=[
        "tf-keras-half",
        "tf-keras-70",
        "keras3-62",
        "torch-bce-clamp",
        "categorical-zero",
        "mse",
        "bce-with-logits",
    ],
)
def test_constant_loss_at_the_clipped_log_times_the_other_share_is_a_one_unit_softmax(loss, acc):
    rows = [{"loss": loss, "accuracy": acc, "val_loss": loss, "val_accuracy": acc}] * 4
    found = [f for f in check_log(keras(rows)) if f.severity != "info"]
    assert [(f.code, f.category, f.severity) for f in found] == [
        ("GL405", "single-unit-softmax", "warning")
    ]
    assert "inferred" in found[0].evidence


@pytest.mark.parametrize(
    "rows",
    [
        [{"loss": 0.6931 - 0.05 * i, "accuracy": 0.5 + 0.05 * i} for i in range(4)],  # learns
        [{"loss": 0.5312, "accuracy": 0.7711}] * 4,  # constant, but not (1 - acc) x a clip
    ],
)
def test_a_moving_or_unexplained_constant_run_is_not_a_one_unit_softmax(rows):
    assert not [f for f in check_log(keras(rows)) if f.category == "single-unit-softmax"]


@pytest.mark.parametrize(
    ("header", "val"),
    [
        ("Train on 4000 samples, validate on 1000 samples\n", 0.0),
        ("", 0.0),
        ("Train on 1600 samples, validate on 400 samples\n", 1.0),
    ],
)
def test_validation_at_exactly_zero_while_training_learns_is_a_split_of_unshuffled_data(
    header, val
):
    rows = [{"loss": 1.2 - 0.2 * i, "accuracy": 0.45 + 0.1 * i, "val_loss": 3.0 + i,
             "val_accuracy": val} for i in range(4)]  # fmt: skip
    found = [f for f in check_log(keras(rows, header=header)) if f.severity != "info"]
    assert [(f.code, f.category, f.severity) for f in found] == [("GL430", "no-shuffle", "warning")]
    if header:
        assert "validate on" in found[0].evidence


def test_validation_that_learns_or_a_run_that_does_not_is_not_an_unseen_class_split():
    learns = [{"loss": 1.2 - 0.2 * i, "accuracy": 0.45 + 0.1 * i,
               "val_accuracy": 0.40 + 0.1 * i} for i in range(4)]  # fmt: skip
    assert not [f for f in check_log(keras(learns)) if f.category == "no-shuffle"]
    stuck = [{"loss": 1.2, "accuracy": 0.45, "val_accuracy": 0.0}] * 4  # nothing learns at all
    assert not [f for f in check_log(keras(stuck)) if f.category == "no-shuffle"]


def step_prints(losses, unfreeze_after=None, per_epoch=4):
    """``epoch e step s loss v`` prints, a validation line per epoch, optionally an unfreeze
    announcement after epoch ``unfreeze_after``."""
    out, val = [], 0.40
    for i, loss in enumerate(losses):
        epoch = i // per_epoch + 1
        out.append(f"epoch {epoch} step {5 * (i + 1)} loss {loss:.4f}")
        if (i + 1) % per_epoch == 0:
            val = 0.1429 if loss > 100 else val + 0.02
            out.append(f"epoch {epoch} val_acc {val:.4f}")
            if epoch == unfreeze_after:
                out.append("=> unfreezing all layers")
    return "\n".join(out) + "\n"


def test_a_loss_that_explodes_between_step_prints_after_unfreezing_is_divergence():
    losses = [1.86, 1.72, 1.34, 1.72, 1.55, 1.30, 1.15, 1.36,
              2645.7, 18082.2, 60053.6, 36421.3, 79048.0, 109982.7, 79982.2, 46071.3]  # fmt: skip
    found = [f for f in check_log(step_prints(losses, unfreeze_after=2)) if f.severity != "info"]
    assert [(f.code, f.category, f.severity) for f in found] == [("GL417", "divergence", "error")]
    assert found[0].causes == ["learning-rate"] and "right after phase 2" in found[0].title
    assert "2646" in found[0].title and "val_acc 0.1429" in found[0].evidence
    # the same jump without a second phase is plain divergence, with the same likely cause
    [plain] = [f for f in check_log(step_prints(losses)) if f.severity != "info"]
    assert (plain.code, plain.causes) == ("GL408", ["learning-rate"])


@pytest.mark.parametrize(
    "losses",
    [
        [1.86, 1.72, 1.34, 1.20, 1.10, 950.0, 1.05, 0.98, 0.95, 0.90, 0.88, 0.85],  # one spike
        [2.30, 2.10, 1.90, 1.70, 1.50, 1.30, 1.10, 0.90],  # healthy
        [850.0, 420.0, 120.0, 30.0, 8.0, 2.0, 1.5, 1.2],  # started high, came down
    ],
)
def test_a_spike_the_run_recovers_from_or_a_falling_loss_is_not_divergence(losses):
    assert not [f for f in check_log(step_prints(losses)) if f.category == "divergence"]


def test_nan_after_finite_losses_names_the_learning_rate_but_nan_from_the_start_does_not():
    later = keras([{"loss": 6.49, "val_loss": 6.40}, {"loss": math.nan, "val_loss": math.nan}])
    [f] = [f for f in check_log(later) if f.severity != "info"]
    assert (f.code, f.causes) == ("GL407", ["learning-rate"]) and "finite before" in f.evidence
    in_steps = (
        "Epoch [1/25]\tStep [0/5442]\t Loss: 6.8279\t LR: 0.6000\n"
        "Epoch [1/25]\tStep [500/5442]\t Loss: nan\t LR: 0.6000\n"
    )
    [f] = [f for f in check_log(in_steps) if f.severity != "info"]
    assert (f.code, f.causes) == ("GL407", ["learning-rate"])
    at_once = keras([{"loss": math.nan, "val_loss": math.nan}] * 2)
    [f] = [f for f in check_log(at_once) if f.severity != "info"]
    assert (f.code, f.causes) == ("GL407", [])  # data or the loss itself: nothing to infer


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("run | lr | best acc | notes\nA | 0.1 | 0.95 | loss becomes nan after 6k iter\n", True),
        ("exp2: the loss goes to NaN around step 4000\n", True),
        ("resnet_amp | 0.01 | 0.946 | 约 5k iter 后 loss 变成 nan\n", True),
        ("exp2: loss 0.41, nan_count 0, inf_count 0\n", False),
    ],
)
def test_a_note_saying_the_loss_went_nan_is_divergence_without_epoch_lines(text, said):
    if said:
        [f] = check_log(text)
        assert (f.code, f.category) == ("GL407", "divergence")
    else:
        with pytest.raises(DataError):
            check_log(text)


@pytest.mark.parametrize("share", [0.5000, 0.3125, 0.7040])
def test_accuracy_frozen_at_a_share_while_the_loss_falls_far_below_it_is_a_one_unit_softmax(
    share,
):
    rows = [{"loss": 0.62 * 0.8**i, "accuracy": share, "val_loss": 0.60 * 0.82**i,
             "val_accuracy": share + 0.01} for i in range(6)]  # fmt: skip
    found = [f for f in check_log(keras(rows)) if f.severity != "info"]
    assert [(f.code, f.category, f.severity) for f in found] == [
        ("GL405", "single-unit-softmax", "warning")
    ]
    assert "entropy" in found[0].evidence and "inferred" in found[0].evidence


@pytest.mark.parametrize(
    "rows",
    [
        # collapse to the majority class: accuracy settles at the share, loss near its entropy
        [{"loss": 0.61 - 0.05 * i, "accuracy": a, "val_accuracy": 0.9}
         for i, a in enumerate([0.64, 0.82, 0.9, 0.9, 0.9, 0.9])],
        # frozen from the start, loss barely below the entropy of the share (0.6931)
        [{"loss": 0.70 - 0.01 * i, "accuracy": 0.5, "val_accuracy": 0.5} for i in range(6)],
    ],
)  # fmt: skip
def test_a_majority_collapse_is_not_read_as_a_one_unit_softmax(rows):
    assert not [f for f in check_log(keras(rows)) if f.category == "single-unit-softmax"]


def _torch_epochs(rows, extra=""):
    return extra + "".join(
        f"Epoch {i}: train loss {tl:.4f} acc {ta:.4f} | val loss {vl:.4f} acc {va:.4f}\n"
        for i, (tl, ta, vl, va) in enumerate(rows, 1)
    )


CHANCE_VAL = [(1.60, 0.55, 2.40, 0.106), (0.90, 0.86, 2.70, 0.101), (0.50, 0.93, 2.10, 0.112)]


def test_validation_at_chance_in_a_plain_torch_loop_names_eval_mode_as_likely_cause():
    [f] = [f for f in check_log(_torch_epochs(CHANCE_VAL)) if f.severity != "info"]
    assert (f.code, f.category, f.causes[0]) == ("GL419", "batchnorm", "eval-mode-missing")
    # Lightning and Keras switch to inference mode themselves: no such likely cause
    lightning = _torch_epochs(CHANCE_VAL, "GPU available: False, used: False\n")
    [f] = [f for f in check_log(lightning) if f.severity != "info"]
    assert f.code == "GL419" and "eval-mode-missing" not in f.causes
    rows = [{"loss": tl, "accuracy": ta, "val_loss": vl, "val_accuracy": va}
            for tl, ta, vl, va in CHANCE_VAL]  # fmt: skip
    [f] = [f for f in check_log(keras(rows)) if f.severity != "info"]
    assert f.code == "GL419" and "eval-mode-missing" not in f.causes


def test_validation_at_chance_names_every_candidate_the_log_leaves_in_order():
    rows = [{"loss": tl, "accuracy": ta, "val_loss": vl, "val_accuracy": va}
            for tl, ta, vl, va in CHANCE_VAL]  # fmt: skip
    [f] = [f for f in check_log(keras(rows)) if f.severity != "info"]
    assert f.causes == [
        "preprocessing-mismatch",
        "train-eval-preprocessing-mismatch",
        "label-order-mismatch",
    ]
    assert f.severity == "warning" and "cannot tell them apart" in f.evidence
    # a validation loss that rises every epoch at chance accuracy: a model more and more sure
    # of images whose labels say otherwise -- the pairing ranks first
    rising = [{**r, "val_loss": 2.3 + 0.4 * i} for i, r in enumerate(rows)]
    [f] = [f for f in check_log(keras(rising)) if f.severity != "info"]
    assert (f.code, f.category, f.severity) == ("GL443", "label-order-mismatch", "warning")
    assert f.causes == [
        "batchnorm",
        "preprocessing-mismatch",
        "train-eval-preprocessing-mismatch",
    ]
    assert "likely: validation labels not paired" in f.title


def test_below_chance_validation_with_k_read_from_the_first_loss_is_a_class_order_mismatch():
    rows = [(1.6094, 0.35, 1.70, 0.15), (1.10, 0.60, 1.95, 0.12), (0.80, 0.72, 2.20, 0.09),
            (0.60, 0.80, 2.50, 0.07), (0.45, 0.86, 2.80, 0.06)]  # fmt: skip
    first = "epoch 1 step 1 loss 1.6101\n"
    found = [f for f in check_log(_torch_epochs(rows, first)) if f.severity != "info"]
    assert [(f.code, f.category) for f in found] == [("GL425", "label-order-mismatch")]
    assert "ln 5 at step 1" in found[0].evidence
    # without the first step, an epoch average that already learned does not give K
    assert not [f for f in check_log(_torch_epochs(rows)) if f.code == "GL425"]
    # the same numbers with a validation that learns are healthy
    learns = [(tl, ta, 1.7 - 0.2 * i, ta - 0.05) for i, (tl, ta, _, _) in enumerate(rows)]
    assert not [f for f in check_log(_torch_epochs(learns)) if f.severity != "info"]


@pytest.mark.parametrize("style", ["keras", "torch"])
def test_a_loss_jump_with_a_validation_collapse_mid_run_is_an_unannounced_second_phase(style):
    rows = [(1.40, 0.52, 1.10, 0.61), (0.95, 0.70, 0.90, 0.68), (0.80, 0.75, 0.85, 0.70)]
    rows += [(2.60, 0.31, 3.10, 0.22), (1.90, 0.42, 2.20, 0.35), (1.50, 0.50, 1.80, 0.44)]
    if style == "keras":
        text = keras([{"loss": a, "accuracy": b, "val_loss": c, "val_accuracy": d}
                      for a, b, c, d in rows])  # fmt: skip
    else:
        text = _torch_epochs(rows)
    found = [f for f in check_log(text) if f.severity != "info"]
    assert [(f.code, f.category, f.severity) for f in found] == [
        ("GL413", "learning-rate", "warning")
    ]
    assert "epoch 4" in found[0].title and "inferred" in found[0].evidence


@pytest.mark.parametrize(
    "rows",
    [
        # noisy but learning: small bumps of the loss, validation holds
        [(1.40, 0.52, 1.10, 0.61), (0.95, 0.70, 0.90, 0.68), (1.05, 0.69, 0.95, 0.67),
         (0.85, 0.74, 0.86, 0.70), (0.80, 0.76, 0.84, 0.71)],
        # overfitting: training loss keeps falling, validation worsens
        [(1.40, 0.52, 1.10, 0.61), (0.80, 0.75, 0.95, 0.66), (0.40, 0.88, 1.10, 0.63),
         (0.20, 0.95, 1.40, 0.60), (0.10, 0.98, 1.70, 0.58)],
    ],
)  # fmt: skip
def test_noise_or_overfitting_is_not_an_unannounced_phase(rows):
    assert not [f for f in check_log(_torch_epochs(rows)) if f.code == "GL413"]


@pytest.mark.parametrize(
    "printed",
    [
        "[u'goldfish', u'tench', u'goldfish', u'tench']",
        "Predicted: 'great_white_shark' (0.91)",
        'image_001.jpg -> "tench"',
    ],
)
def test_predictions_named_with_imagenet_classes_on_a_k_class_model(printed):
    text = "Found 300 images belonging to 3 classes.\n" + keras([{"loss": 0.3}] * 2) + printed
    [f] = [f for f in check_log(text) if f.severity != "info"]
    assert (f.code, f.category, f.severity) == ("GL431", "label-order-mismatch", "warning")


@pytest.mark.parametrize(
    "text",
    [
        # the data's own classes are fish, printed as class_indices
        "Found 300 images belonging to 3 classes.\n{'carp': 0, 'goldfish': 1, 'tench': 2}\n"
        + keras([{"loss": 0.3}] * 2) + "predicted 'tench'\n",
        # a poultry model: 'hen' is ImageNet's class 8, not an index below K = 2
        "Found 300 images belonging to 2 classes.\n" + keras([{"loss": 0.3}] * 2)
        + "predicted 'hen'\n",
        # names of the data's classes
        "Found 300 images belonging to 2 classes.\n" + keras([{"loss": 0.3}] * 2)
        + "predicted 'cat'\n",
    ],
)  # fmt: skip
def test_the_data_s_own_class_names_are_not_imagenet_names(text):
    assert not [f for f in check_log(text) if f.code == "GL431"]


def test_one_class_on_validation_in_a_plain_torch_loop_also_names_eval_mode():
    rows = [(1.70, 0.40, 2.10, 0.1429), (1.10, 0.62, 2.30, 0.1429), (0.70, 0.78, 2.60, 0.1429),
            (0.45, 0.86, 2.90, 0.1429)]  # fmt: skip
    [f] = [f for f in check_log(_torch_epochs(rows)) if f.severity != "info"]
    assert (f.code, f.category, f.causes) == (
        "GL427", "train-eval-preprocessing-mismatch", ["eval-mode-missing"]
    )  # fmt: skip
    assert "model.eval()" in f.explanation


def test_below_chance_validation_without_a_validation_loss_still_reads_the_class_order():
    text = "Found 700 images belonging to 5 classes.\n" + "".join(
        f"Epoch {i}: train loss {tl:.4f} acc {ta:.4f} | val acc {va:.4f}\n"
        for i, (tl, ta, va) in enumerate(
            [(1.50, 0.35, 0.16), (1.10, 0.60, 0.12), (0.80, 0.72, 0.09), (0.55, 0.84, 0.06)], 1
        )
    )
    found = [f for f in check_log(text) if f.severity != "info"]
    assert [(f.code, f.category) for f in found] == [("GL425", "label-order-mismatch")]
    # a validation that hovers at chance without falling is not read as a class-order mismatch
    flat = text.replace("val acc 0.0600", "val acc 0.1900").replace(
        "val acc 0.0900", "val acc 0.21"
    )
    assert not [f for f in check_log(flat) if f.code == "GL425"]


def tqdm_epoch(points, total=6000):
    """A tqdm training bar redrawn at ``(step, running accuracy, running loss)`` points."""
    return "".join(
        f"Train epoch 0: {100 * s // total:3d}%|#   | {s}/{total} [01:02<33:24, 3.2it/s, "
        f"Accuracy={a}, Loss={v}]\n"
        for s, a, v in points
    )


def test_a_pretrained_model_that_unlearns_within_the_first_epoch_names_shuffling_and_lr():
    text = tqdm_epoch([(200, 0.86, 0.51), (400, 0.52, 2.84), (600, 0.35, 4.97),
                       (800, 0.26, 6.11), (6000, 0.035, 8.93)])  # fmt: skip
    text += "SUMMARY OF EPOCH 0\n├── Training\n│   ├── Accuracy = 0.0350\n│   └── Loss = 8.93\n"
    text += "└── Validation\n    ├── Accuracy = 0.001\n    └── Loss = 14.2\n"
    log = parse_log(text)
    assert log.rows[0].values == {"train_accuracy": 0.035, "train_loss": 8.93,
                                  "val_accuracy": 0.001, "val_loss": 14.2}  # fmt: skip
    [f] = [f for f in check_log(text) if f.severity != "info"]
    assert (f.code, f.category, f.severity) == ("GL432", "divergence", "warning")
    assert f.causes == ["no-shuffle", "learning-rate"] and "likely cause (inferred)" in f.evidence


def test_an_unlearning_epoch_with_a_loss_jump_names_the_learning_rate_only():
    text = tqdm_epoch([(200, 0.80, 0.60), (400, 0.50, 9.0), (600, 0.35, 12.0),
                       (800, 0.27, 13.0), (6000, 0.10, 15.0)])  # fmt: skip
    [f] = [f for f in check_log(text) if f.severity != "info"]
    assert (f.code, f.causes) == ("GL432", ["learning-rate"])


@pytest.mark.parametrize(
    "points",
    [
        [(200, 0.60, 1.20), (400, 0.68, 1.00), (600, 0.72, 0.90), (6000, 0.85, 0.45)],  # learns
        [(200, 0.10, 2.30), (400, 0.09, 2.35), (600, 0.10, 2.31), (6000, 0.11, 2.29)],  # chance
    ],
)
def test_an_epoch_that_learns_or_starts_at_chance_is_not_an_unlearning_one(points):
    assert not [f for f in check_log(tqdm_epoch(points)) if f.code == "GL432"]


def test_overfitting_read_from_accuracies_when_the_log_has_no_validation_loss():
    train = [0.55, 0.70, 0.80, 0.88, 0.93, 0.96, 0.98, 0.99]
    val = [0.52, 0.61, 0.66, 0.67, 0.665, 0.66, 0.655, 0.66]
    rows = [{"loss": 1.2 * 0.7**i, "accuracy": a, "val_accuracy": v}
            for i, (a, v) in enumerate(zip(train, val, strict=True))]  # fmt: skip
    [f] = [f for f in check_log(keras(rows)) if f.severity != "info"]
    assert (f.code, f.category, f.severity) == ("GL412", "overfitting", "warning")
    assert "epoch 4" in f.title and "no validation loss" in f.evidence
    # both curves still rising together: no overfitting
    healthy = [{**r, "val_accuracy": r["accuracy"] - 0.03} for r in rows]
    assert not [f for f in check_log(keras(healthy)) if f.category == "overfitting"]


def test_a_validation_loss_that_stalls_far_above_a_falling_training_loss_is_overfitting():
    rows = [{"loss": 1.2 * 0.6**i, "val_loss": v} for i, v in
            enumerate([1.10, 0.85, 0.80, 0.81, 0.80, 0.82, 0.81])]  # fmt: skip
    [f] = [f for f in check_log(keras(rows)) if f.severity != "info"]
    assert (f.code, f.category) == ("GL412", "overfitting")
    # a plateau close to the training loss is convergence, not memorisation
    close = [{"loss": max(0.75, 1.2 * 0.8**i), "val_loss": v} for i, v in
             enumerate([1.10, 0.85, 0.80, 0.81, 0.80, 0.82, 0.81])]  # fmt: skip
    assert not [f for f in check_log(keras(close)) if f.category == "overfitting"]


BN_ERROR = (
    "Traceback (most recent call last):\n"
    '  File "train.py", line 88, in <module>\n'
    "    {call}\n"
    '  File "train.py", line 61, in {func}\n'
    "    out = model(images)\n"
    '  File "torch/nn/functional.py", line 2478, in batch_norm\n'
    "    _verify_batch_size(input.size())\n"
    "ValueError: Expected more than 1 value per channel when training, got input size "
    "torch.Size([1, 512])\n"
)


@pytest.mark.parametrize(
    ("call", "func"),
    [("acc = validate(model)", "validate"), ("evaluate(model, test_loader)", "evaluate")],
)
def test_batchnorm_on_one_sample_while_evaluating_is_a_missing_eval_call(call, func):
    text = "Epoch 1: train loss 1.2000 acc 0.5500\n" + BN_ERROR.format(call=call, func=func)
    [f] = [f for f in check_log(text) if f.severity != "info"]
    assert (f.code, f.category, f.severity) == ("GL434", "batchnorm", "error")
    assert f.causes == ["eval-mode-missing"] and "model.eval()" in f.title


def test_batchnorm_on_one_sample_while_training_is_a_last_batch_of_one():
    text = BN_ERROR.format(call="train_one_epoch(model)", func="train_one_epoch")
    [f] = check_log(text)  # a traceback alone is a log the doctor reads
    assert (f.code, f.causes) == ("GL434", []) and "drop_last=True" in f.fix


def test_batchnorm_on_one_sample_under_a_validation_progress_bar_is_evaluation():
    text = "Validation epoch 0:   0%|          | 0/700 [00:00<?, ?it/s]\n" + BN_ERROR.format(
        call="run(model)", func="step"
    )
    [f] = check_log(text)
    assert f.causes == ["eval-mode-missing"]


def test_an_explosion_late_in_the_second_phase_is_not_blamed_on_the_unfreeze():
    losses = [1.9, 1.7, 1.5, 1.4, 1.3, 1.2, 1.1, 1.0, 0.95, 0.9, 0.85, 0.8,
              2500.0, 9000.0, 20000.0, 40000.0]  # fmt: skip
    [f] = [f for f in check_log(step_prints(losses, unfreeze_after=1)) if f.severity != "info"]
    assert (f.code, f.category, f.causes) == ("GL408", "divergence", ["learning-rate"])


def test_k_read_from_a_frozen_accuracy_alone_is_a_warning_unless_the_loss_confirms_it():
    # 0.8000 = 4/5, but also the share of a class that makes up 80% of the images
    rows = [
        {"loss": 0.9 - 0.1 * i, "accuracy": 0.6 + 0.05 * i, "val_accuracy": 0.8} for i in range(5)
    ]
    [f] = [f for f in check_log(keras(rows)) if f.code == "GL401"]
    assert f.severity == "warning" and "inferred: K = 5" in f.evidence
    # the loss at the binary cross-entropy of predicting 1/5 everywhere confirms it
    rows = [{"loss": 0.5004, "accuracy": 0.8, "val_accuracy": 0.8}] * 5
    [f] = [f for f in check_log(keras(rows)) if f.code == "GL401"]
    assert f.severity == "error" and "0.5004, is that value" in f.explanation


def test_a_loss_at_ln_k_from_the_first_batch_on_is_nothing_learnt_before_any_epoch_ends():
    bar = "{s:3d}/157 [>....] - ETA: 1:00 - loss: {lo:.4f} - accuracy: 0.1000\r"
    head = "Found 5000 images belonging to 10 classes.\nEpoch 1/20\n"
    stuck = head + "".join(bar.format(s=s, lo=2.3026) for s in range(1, 40)) + "\n"
    [f] = check_log(stuck)
    assert (f.code, f.category, f.severity) == ("GL404", "trivial-accuracy", "warning")
    assert "first 39 batches" in f.title and "Found 5000 images" in f.evidence
    # one whole epoch at ln K, K read from the loss itself
    [g] = check_log(keras([{"loss": 2.3026, "accuracy": 0.1, "val_loss": 2.3026}]))
    assert g.code == "GL404" and "read from the loss itself" in g.evidence
    # a loss that leaves ln K, a run of a few batches, a NaN: not this check's
    learning = head + "".join(bar.format(s=s, lo=2.3026 - 0.01 * s) for s in range(1, 40))
    few = head + "".join(bar.format(s=s, lo=2.3026) for s in range(1, 10))
    nan = head + bar.format(s=1, lo=2.3026) + bar.format(s=30, lo=math.nan)
    for text in (learning + "\n", few + "\n", nan + "\n"):
        assert "GL404" not in codes(check_log(text))


def test_a_loss_that_never_reaches_ln_k_and_keeps_climbing_is_divergence():
    prints = [31.2, 12.4, 14.0, 55.1, 47.9, 63.2, 90.4, 77.0, 121.5]
    text = "num_classes=10\n" + "".join(
        f"Epoch [{i // 3 + 1}/3] Iter [{10 * (i % 3 + 1)}/38] loss: {v:.4f} lr: 1.5\n"
        for i, v in enumerate(prints)
    )
    [f] = [f for f in check_log(text) if f.severity != "info"]
    assert (f.code, f.category, f.severity, f.causes) == (
        "GL408", "divergence", "error", ["learning-rate"]
    )  # fmt: skip
    assert "never falls to ln 10" in f.title and "12.4000 to 121.5000" in f.title
    # a run that starts high but comes down below ln K, or stays moderate, is not it
    for values in ([31.2, 12.4, 6.0, 3.1, 2.2, 1.9, 1.7, 1.5, 1.4], [5.0, 4.8, 5.2, 5.1, 4.9]):
        text = "".join(
            f"Epoch [1/1] Iter [{10 * i}/38] loss: {v:.4f}\n" for i, v in enumerate(values)
        )
        assert "never falls" not in " ".join(f.title for f in check_log(text))


# -- class numbering seen in the log (issue 11) ---------------------------------------------


def test_an_evaluation_folder_missing_a_class_names_the_shifted_indices():
    listing = (
        "$ ls shapes/train shapes/valid\n"
        "shapes/train:\ncircle  square  star  triangle\n\n"
        "shapes/valid:\ncircle  star  triangle\n"
    )
    log = listing + keras(
        [{"loss": 1.1 - 0.2 * i, "accuracy": 0.5 + 0.1 * i} for i in range(4)],
    )
    (f,) = [f for f in check_log(log) if f.code == "GL435"]
    assert f.severity == "warning" and "missing ['square']" in f.evidence
    assert "'star' is index 1 in val but 2 in training" in f.evidence
    # the same folders in both splits: nothing to say
    same = listing.replace("circle  star  triangle", "circle  square  star  triangle")
    assert "GL435" not in codes(check_log(same + log[len(listing) :]))


def test_a_one_class_unlabelled_test_folder_is_not_a_class_mismatch():
    found = (
        "Found 4000 images belonging to 2 classes.\n"
        "Found 1000 images belonging to 2 classes.\n"
        "Found 12500 images belonging to 1 classes.\n"  # test/unknown/*.jpg, class_mode=None
    )
    rows = [{"loss": 0.6 - 0.1 * i, "accuracy": 0.7 + 0.05 * i} for i in range(3)]
    assert "GL435" not in codes(check_log(found + keras(rows)))
    assert "GL435" in codes(
        check_log(
            found.replace("1000 images belonging to 2", "1000 images belonging to 3") + keras(rows)
        )
    )


def test_numbered_folders_need_string_order_and_chance_accuracy():
    tail = "$ python eval.py\n * Acc@1 0.110 Acc@5 0.530 loss 9.81\n"
    strings = "$ ls val | head\n1\n10\n100\n1000\n101\n"
    (f,) = [f for f in check_log(strings + tail) if f.code == "GL436"]
    assert "1/1000 = 0.0010" in f.evidence
    # nine folders or fewer sort the same as strings and as numbers: no claim about the order
    # (the chance top-1/top-5 beside a sure loss still says the labels are mapped otherwise)
    few = check_log("$ ls val\n1\n2\n3\n4\n5\n" + tail)
    assert "GL436" not in codes(few) and codes(few) == ["GL439"]
    # a model that scores well on them is mapped correctly
    good = check_log(strings + tail.replace("Acc@1 0.110", "Acc@1 76.130"))
    assert "GL436" not in codes(good)


def test_decoded_predictions_right_by_name_but_zero_accuracy_on_the_targets():
    bug = (CASES / "label-order-mismatch__3__bug.log").read_text()
    (f,) = [f for f in check_log(bug) if f.code == "GL437"]
    assert "line    8" in f.evidence and "3 of 3" in f.title
    # the names disagree with the truth: an accuracy of 0 is then no sign of the order
    wrong = bug.replace(
        "['n02123045', 'n02085620', 'n04254680']", "['n01440764', 'n01443537', 'n04254680']"
    )
    assert "GL437" not in codes(check_log(wrong))
    # a run that scores well elsewhere: the 0 is a progress bar's first batch
    good = bug.replace("accuracy: 0.0039 - loss: 7.1175", "accuracy: 0.8039 - loss: 0.7175")
    assert "GL437" not in codes(check_log(good))


def test_printed_class_mappings_of_two_splits_that_disagree():
    rows = keras([{"loss": 0.9 - 0.1 * i, "accuracy": 0.6 + 0.05 * i} for i in range(3)])
    maps = (
        "train class_to_idx: {'beagle': 0, 'corgi': 1, 'husky': 2, 'pug': 3}\n"
        "val class_to_idx: {'beagle': 0, 'husky': 1, 'pug': 2, 'samoyed': 3}\n"
    )
    (f,) = [f for f in check_log(maps + rows) if f.code == "GL435"]
    assert "numbers its 4 classes differently" in f.title
    assert "'husky' is index 1 in val but 2 in training" in f.evidence
    # a folder spelled differently that keeps its place shifts nothing
    renamed = maps.replace(
        "val class_to_idx: {'beagle': 0, 'husky': 1, 'pug': 2, 'samoyed': 3}",
        "val class_to_idx: {'Beagle': 0, 'corgi': 1, 'husky': 2, 'pug': 3}",
    )
    assert "GL435" not in codes(check_log(renamed + rows))


def test_a_1000_unit_output_meeting_k_class_targets_is_the_kept_imagenet_top():
    keras1 = (
        "ValueError: Error when checking target: expected predictions to have shape "
        "(None, 1000) but got array with shape (16, 7)\n"
    )
    [f] = check_log(keras1)
    assert (f.code, f.category, f.severity) == ("GL445", "include-top", "warning")
    assert "7-class" in f.title and "inferred" in f.evidence
    said = (
        "Whatever I try to fit my 3 fruit classes I end up with the same message, namely "
        "something like the model wants a 2D array of shape (samples, 1000)). Found array "
        "with shape: 3 so what is wrong here?\n"
    )
    [f] = check_log(said)
    assert f.code == "GL445" and "3-class" in f.title
    tf2 = "ValueError: Shapes (None, 1000) and (None, 7) are incompatible\n"
    assert check_log(tf2)[0].code == "GL445"


def test_a_k_class_output_meeting_other_targets_stays_a_head_mismatch():
    [f] = check_log("ValueError: Shapes (None, 10) and (None, 7) are incompatible\n")
    assert (f.code, f.category) == ("GL426", "head-mismatch")


def test_a_pretrained_model_only_evaluated_at_a_few_percent_is_a_label_mismatch():
    def run(acc1, acc5, trained=""):
        return (
            "=> loading the pretrained weights of 'convnext_tiny'\n"
            + trained
            + f"Eval: [390/391]  Loss 6.91 (7.02)\n * Acc@1 {acc1} Acc@5 {acc5}\n"
        )

    [f] = check_log(run(1.203, 2.481))
    assert (f.code, f.category, f.severity) == ("GL446", "label-order-mismatch", "warning")
    assert "pretrained weights" in f.evidence
    assert not check_log(run(81.4, 95.6))  # a pretrained model that works
    no_word = run(1.203, 2.481).replace("the pretrained weights of", "checkpoint")
    assert not [f for f in check_log(no_word) if f.code == "GL446"]


def test_top1_and_top5_printed_as_named_values_are_an_evaluation_summary():
    """mmcls 0.x prints ``accuracy_top-1 : 0.02`` and ``accuracy_top-5 : 0.49`` (percent) on two
    lines; hand-written prints say ``top-1 accuracy: 0.11%``: read as the summary GL446 uses."""
    mmcls = (
        "$ python tools/test.py configs/imagenet/mobilenet_v2_b32x8.py "
        "checkpoint/mobilenet_v2_batch256_20200708-3b2dc3af.pth --metrics accuracy\n"
        "[>>>>>>>>>>>>] 50000/50000, 611.4 task/s, elapsed: 82s, ETA:     0s\n"
        "accuracy_top-1 : 0.02\n\naccuracy_top-5 : 0.49\n"
    )
    assert parse_log(mmcls).topk == (3, 0.0002, 0.0049, None)
    printed = "resnet50, pretrained\ntop-1 accuracy: 0.11%\ntop-5 accuracy: 0.52%\n"
    assert parse_log(printed).topk == (2, 0.0011, 0.0052, None)
    fraction = "Top-1 acc = 0.7612, top-5 acc = 0.9287\n"
    assert parse_log(fraction).topk == (1, 0.7612, 0.9287, None)
    far = "top-1 accuracy: 0.11%\n" + "\n" * 5 + "top-5 accuracy: 0.52%\n"
    with pytest.raises(DataError):
        parse_log(far)  # a top-5 far from its top-1 is not the same summary


def test_a_released_checkpoint_name_says_pretrained_for_gl446():
    """A checkpoint named with a content hash, as model zoos publish them, evaluated at a few
    percent: GL446 without the word 'pretrained'; an epoch counter of digits is not a hash."""

    def run(name, acc1="0.02", acc5="0.49"):
        return (
            f"$ python tools/test.py configs/resnet50_b32x8_imagenet.py {name} --metrics accuracy\n"
            f"accuracy_top-1 : {acc1}\n\naccuracy_top-5 : {acc5}\n"
        )

    [f] = check_log(run("checkpoints/resnet50_batch256_imagenet_20200708-cfb998bf.pth"))
    assert (f.code, f.category, f.severity) == ("GL446", "label-order-mismatch", "warning")
    assert "released checkpoint" in f.evidence and "accuracy_top-1 : 0.02" in f.evidence
    assert [f.code for f in check_log(run("resnet18-5c106cde.pth"))] == ["GL446"]
    assert not check_log(run("resnet18-5c106cde.pth", "76.55", "93.06"))  # it works
    assert not check_log(run("work_dirs/epoch-00000100.pth"))  # one's own checkpoint
    assert not check_log(run("work_dirs/latest.pth"))
