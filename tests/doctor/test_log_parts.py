"""graftlab.doctor._logparts (GL480) and the readers it needs: a loss logged in parts
(``train/box_loss`` ... ``val/cls_loss``), YOLOv5/YOLOv8 ``results.csv`` and YOLOv3/YOLOv5
``results.txt``."""

from __future__ import annotations

import math
import time

import pytest

from graftlab.doctor._logparse import parse_log
from graftlab.doctor._logrows import PART_LOSS, canonical
from graftlab.doctor._logtools import _ultralytics
from graftlab.doctor.logs import check_log
from graftlab.errors import DataError

_HEADER = (
    "epoch,train/box_loss,train/obj_loss,train/cls_loss,metrics/precision,metrics/recall,"
    "metrics/mAP_0.5,metrics/mAP_0.5:0.95,val/box_loss,val/obj_loss,val/cls_loss,x/lr0,x/lr1,"
    "x/lr2"
)


def _curve(e: int, n: int, start: float, low: float, at: int, end: float) -> float:
    """A validation curve that falls from ``start`` to ``low`` at epoch ``at``, then goes to
    ``end`` linearly (``end == low``: it stays flat)."""
    if e <= at:
        return start + (low - start) * e / at
    return low + (end - low) * (e - at) / (n - 1 - at)


def yolov5_csv(n=40, cls_end=0.030, obj_end=0.095, at=5):
    """A YOLOv5 ``results.csv``: training parts fall, validation cls/obj turn at ``at``."""
    lines = [",".join(f"{h:>20}" for h in _HEADER.split(","))]
    for e in range(n):
        t = e / (n - 1)
        train = [0.06 + 0.05 * math.exp(-3 * t), 0.07 + 0.04 * math.exp(-3 * t),
                 0.004 + 0.03 * math.exp(-4 * t)]  # fmt: skip
        metrics = [0.4 + 0.3 * t, 0.3 + 0.2 * t, 0.45 * t, 0.2 * t]
        val = [0.07 + 0.03 * math.exp(-4 * t), _curve(e, n, 0.09, 0.075, at, obj_end),
               _curve(e, n, 0.02, 0.015, at, cls_end)]  # fmt: skip
        cells = [f"{e:>20}"] + [f"{v:>20.5g}" for v in train + metrics + val + [0.01] * 3]
        lines.append(",".join(cells))
    return "\n".join(lines) + "\n"


def yolov3_txt(n=30, cls_end=1.8, at=10):
    """A YOLOv3 ``results.txt`` (no header): epoch/last, memory, 13 numbers."""
    out = []
    for e in range(n):
        t = e / (n - 1)
        g, o = 1.1 + 2 * math.exp(-3 * t), 0.9 + 1.5 * math.exp(-3 * t)
        c = 0.1 + 1.8 * math.exp(-4 * t)
        row = [g, o, c, g + o + c, 17, 416, 0.3 + 0.3 * t, 0.3 + 0.4 * t, 0.6 * t, 0.4 * t,
               1.6 + 1.4 * math.exp(-4 * t), 1.25 + 0.6 * math.exp(-5 * t),
               _curve(e, n, 1.6, 0.9, at, cls_end)]  # fmt: skip
        out.append(("%10s" * 2 + "%10.3g" * 13) % (f"{e}/{n - 1}", "6.41G", *row))
    return "\n".join(out) + "\n"


def test_a_detector_whose_validation_classification_loss_turns_up_is_overfitting():
    [f] = check_log(yolov5_csv())
    assert (f.code, f.category, f.severity) == ("GL480", "overfitting", "warning")
    assert "cls part of the loss from epoch 5" in f.title
    assert "train_cls_loss keeps falling" in f.title
    assert "other parts that turn the same way: val_obj_loss" in f.evidence
    assert "best.pt" in f.fix


def test_the_explanation_weighs_the_turn_against_the_validation_score():
    # mAP still climbs to the end: the weights at the part's minimum are not the better ones
    [f] = check_log(yolov5_csv())
    assert "higher at the end (val_map_0.5 0.0577 at epoch 5, 0.4500 at the end)" in f.explanation
    assert "near that epoch" not in f.explanation
    # mAP falls after the part's minimum: the weights near it are at least as good
    lines = yolov5_csv().splitlines()
    falling = [lines[0]]
    for e, line in enumerate(lines[1:]):
        cells = line.split(",")
        cells[6] = f"{0.4 - 0.005 * max(e - 5, 0):>20.5g}"
        falling.append(",".join(cells))
    [f] = check_log("\n".join(falling) + "\n")
    assert "has not gained since (val_map_0.5 0.4000 at epoch 5" in f.explanation


def test_yolov5_results_csv_columns_are_read_by_split():
    log = parse_log(yolov5_csv())
    row = log.rows[0]
    wanted = {"train_box_loss", "val_cls_loss", "val_precision", "val_map_0.5", "lr"}
    assert wanted <= set(row.values)
    assert [r.epoch for r in log.rows[:2]] == [0, 1]


def test_yolov3_results_txt_without_header_is_read_and_its_turn_found():
    log = parse_log(yolov3_txt())
    assert log.style == "ultralytics" and len(log.rows) == 30
    assert log.rows[0].values["train_cls_loss"] == pytest.approx(1.9)
    [f] = check_log(yolov3_txt())
    assert f.code == "GL480" and "from epoch 10" in f.title


@pytest.mark.parametrize(
    "text",
    [
        yolov5_csv(cls_end=0.015, obj_end=0.075),  # validation parts fall, then hold: healthy
        yolov5_csv(cls_end=0.016, obj_end=0.078),  # a few per cent above the minimum: wobble
        yolov5_csv(at=36),  # the turn in the last epochs only: not yet a trend
        yolov3_txt(cls_end=0.9),  # YOLOv3, healthy
        yolov3_txt(n=6),  # too few epochs to call it a turn
    ],
)
def test_healthy_or_too_short_runs_logged_in_parts_are_silent(text):
    assert not [f for f in check_log(text) if f.category == "overfitting"]


def test_a_part_that_climbs_in_warm_up_and_falls_back_for_the_rest_of_the_run_is_silent():
    # YOLOv5's validation objectness often climbs over the warm-up epochs, then falls for the
    # rest of the run while staying above its first value: a hump, not a turn
    n = 60
    lines = yolov5_csv(n=n, cls_end=0.015, obj_end=0.075).splitlines()
    hump = [lines[0]]
    for e, line in enumerate(lines[1:]):
        cells = line.split(",")
        obj = 0.02 + (0.01 * e if e < 3 else 0.03 * math.exp(-(e - 3) / 30))
        cells[9] = f"{obj:>20.5g}"
        hump.append(",".join(cells))
    text = "\n".join(hump) + "\n"
    assert not [f for f in check_log(text) if f.category == "overfitting"]
    # the same climb kept to the end is a turn
    held = [hump[0]] + [
        ",".join(c if i != 9 else f"{0.02 + 0.03 * min(e, 3) / 3:>20.5g}" for i, c in enumerate(r))
        for e, r in enumerate(line.split(",") for line in hump[1:])
    ]
    [f] = check_log("\n".join(held) + "\n")
    assert f.code == "GL480" and "obj part of the loss from epoch 0" in f.title


def test_a_late_spike_in_the_last_epoch_alone_is_not_a_turn():
    lines = yolov5_csv(cls_end=0.015, obj_end=0.075).splitlines()
    cells = lines[-1].split(",")
    cells[10] = f"{0.05:>20}"  # one bad validation epoch at the end
    lines[-1] = ",".join(cells)
    assert not [f for f in check_log("\n".join(lines) + "\n") if f.category == "overfitting"]


def test_training_that_stops_improving_on_the_part_is_not_read_as_overfitting():
    lines = yolov5_csv(obj_end=0.075).splitlines()  # only the cls part turns
    flat = [lines[0]]
    for line in lines[1:]:
        cells = line.split(",")
        cells[3] = f"{0.02:>20}"  # train/cls_loss flat at 0.02 for the whole run
        flat.append(",".join(cells))
    assert not [f for f in check_log("\n".join(flat) + "\n") if f.code == "GL480"]


def test_slash_named_total_losses_are_read_as_splits_and_give_one_overfitting_finding():
    # A Lightning/TensorBoard export: train/loss and val/loss, plus the parts of the loss.
    rows = ["epoch,train/loss,val/loss,val/acc,train/loss_cls,val/loss_cls"]
    for e in range(12):
        val = 0.9 - 0.05 * e if e <= 5 else 0.65 + 0.06 * (e - 5)
        acc = 0.6 + 0.02 * min(e, 5) - 0.01 * max(e - 5, 0)
        train, part = 1.0 - 0.07 * e, 0.5 - 0.03 * e
        rows.append(f"{e},{train:.3f},{val:.3f},{acc:.3f},{part:.3f},{val / 2:.3f}")
    findings = [f for f in check_log("\n".join(rows) + "\n") if f.category == "overfitting"]
    assert [f.code for f in findings] == ["GL412"]  # the total turns: GL412 alone, no GL480


def test_yolov8_classify_results_csv_reads_top1_as_validation_accuracy():
    text = (
        "epoch,train/loss,metrics/accuracy_top1,metrics/accuracy_top5,val/loss,lr/pg0,lr/pg1\n"
        "1,2.1,0.41,0.85,1.9,0.00067,0.00067\n2,1.6,0.55,0.91,1.5,0.0013,0.0013\n"
        "3,1.2,0.63,0.94,1.3,0.0019,0.0019\n"
    )
    row = parse_log(text).rows[-1].values
    assert row["train_loss"] == 1.2 and row["val_accuracy"] == 0.63 and row["val_loss"] == 1.3
    assert row["lr"] == 0.0019


def test_yolov8_console_output_is_not_read_as_a_table_of_its_validation_summaries():
    # its training header names part losses, and the "all" line under it has as many cells:
    # Instances read as box_loss (500), P as cls_loss, made up an epoch
    header = "      Epoch    GPU_mem   box_loss   cls_loss   dfl_loss  Instances       Size"
    lines = []
    for e in range(1, 4):
        lines += [
            header,
            f"      {e}/30      2.61G      1.234      2.345      1.123        123        640: "
            "100%|##########| 50/50 [00:10<00:00,  4.85it/s]",
            "                 Class     Images  Instances      Box(P          R      mAP50  "
            "mAP50-95): 100%|##########| 4/4 [00:01<00:00,  3.10it/s]",
            "                   all        100        500      0.657      0.551      0.602"
            "      0.403",
        ]
    _not_a_log("\n".join(lines) + "\n")


def test_names_without_a_known_namespace_keep_their_meaning():
    assert canonical("accuracy/top1") == ("train", "accuracy/top1")  # OpenMMLab's, unchanged
    assert canonical("val/loss") == ("val", "loss")
    assert canonical("train/box_loss") == ("train", "box_loss")
    assert canonical("metrics/precision") == ("val", "precision")
    assert canonical("x/lr0") == (None, "lr")
    assert canonical("x/y") == ("train", "x/y")


def _best_of_three(fn) -> float:
    """The fastest of three runs in this process's CPU time: the machine is shared, and the
    wall clock of a slow run measures the neighbours."""
    times = []
    for _ in range(3):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)


def _not_a_log(text: str) -> None:
    with pytest.raises(DataError):  # nothing here is a training log
        parse_log(text)


def test_long_near_matches_are_read_in_linear_time():
    header = "epoch," + "a" * 200_000 + "_los," + "b" * 1000
    row = "12/299 3.72G " + "0.5 " * 50_000
    assert PART_LOSS.fullmatch(canonical("a" * 200_000 + "_los")[1]) is None
    assert PART_LOSS.fullmatch("loss_" + "9" * 200_000 + "x!") is None
    assert _ultralytics([row] * 3) is None  # too many columns for results.txt
    # Bounds far above the linear times (about 1 ms, 10 ms and 0.07 s) and far below what a
    # quadratic reading of 200,000 characters takes (minutes), so that a loaded machine
    # cannot fail them (0.01 s of wall time failed at load 5 on 2 cores).
    assert _best_of_three(lambda: PART_LOSS.fullmatch("loss_" + "9" * 200_000 + "x!")) < 1.0
    assert _best_of_three(lambda: _ultralytics([row] * 3)) < 1.0
    for text in (header + "\n1,2,3\n", row + "\n", "loss_" + "9" * 200_000 + "x,epoch\n"):
        assert _best_of_three(lambda t=text: _not_a_log(t)) < 2.0
