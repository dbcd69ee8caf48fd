"""graftlab.doctor._loglr: a first learning rate that teaches nothing until a schedule lowers it."""

from __future__ import annotations

from graftlab.doctor.logs import check_log


def prints(rows):
    """Per-epoch prints of a PyTorch loop that logs its learning rate."""
    return "".join(
        f"epoch {i + 1:2d}  lr {lr:g}  loss {lo:.4f}  acc {a:.3f}  val_loss {vl:.4f}  "
        f"val_acc {va:.3f}\n"
        for i, (lr, lo, a, vl, va) in enumerate(rows)
    )


def keras(rows):
    """Keras 2 epoch lines with ReduceLROnPlateau's lr column."""
    return "".join(
        f"Epoch {i + 1}/{len(rows)}\n30/30 [==============================] - 9s 300ms/step - "
        f"loss: {lo:.4f} - accuracy: {a:.4f} - val_loss: {vl:.4f} - val_accuracy: {va:.4f} "
        f"- lr: {lr:.4f}\n"
        for i, (lr, lo, a, vl, va) in enumerate(rows)
    )


STALLED = [
    (0.05, 1.3901, 0.262, 1.3870, 0.250), (0.05, 1.3874, 0.249, 1.3902, 0.251),
    (0.05, 1.3893, 0.255, 1.3861, 0.248), (0.05, 1.3868, 0.258, 1.3880, 0.252),
    (0.005, 0.6120, 0.781, 0.7013, 0.742), (0.005, 0.4215, 0.852, 0.6230, 0.771),
    (0.005, 0.3402, 0.884, 0.6105, 0.780),
]  # fmt: skip


def _lr(text):
    return [f for f in check_log(text) if f.code == "GL448"]


def test_a_loss_that_only_moves_once_the_rate_is_cut_blames_the_first_rate():
    [f] = _lr(prints(STALLED))
    assert (f.category, f.severity) == ("learning-rate", "warning")
    assert "4 epochs at lr=0.05" in f.evidence and "lr=0.005" in f.evidence
    assert "lr=0.005" in f.fix


def test_keras_lines_with_the_schedulers_lr_column():
    [f] = _lr(keras(STALLED))
    assert "lr=0.05" in f.evidence


def test_an_ordinary_step_schedule_learned_before_the_cut_is_silent():
    rows = [
        (0.1, 1.3500, 0.330, 1.2100, 0.420), (0.1, 1.0200, 0.560, 0.9800, 0.600),
        (0.1, 0.8800, 0.650, 0.9100, 0.640), (0.1, 0.8400, 0.670, 0.8900, 0.650),
        (0.01, 0.4600, 0.840, 0.6200, 0.780), (0.01, 0.4100, 0.860, 0.6000, 0.790),
    ]  # fmt: skip
    assert _lr(prints(rows)) == []


def test_a_cut_that_changes_nothing_is_silent():
    flat = [(0.005, 1.3851, 0.257, 1.3866, 0.251), (0.005, 1.3847, 0.259, 1.3870, 0.249)]
    rows = [*STALLED[:4], *flat]
    assert _lr(prints(rows)) == []


def test_a_rate_raised_by_a_warmup_is_not_a_cut():
    rows = [(0.005, *STALLED[i][1:]) for i in range(4)] + [(0.05, *r[1:]) for r in STALLED[4:]]
    assert _lr(prints(rows)) == []


def test_too_few_epochs_at_the_first_rate_say_little():
    assert _lr(prints(STALLED[2:])) == []


def train_only(rows):
    """Keras epoch lines of a run without validation: (loss, accuracy)."""
    return "".join(
        f"Epoch {i + 1}/{len(rows)}\n900/900 [==============================] - 31s 34ms/step - "
        f"loss: {lo:.4f} - acc: {a:.4f}\n"
        for i, (lo, a) in enumerate(rows)
    )


LEARNED = [(0.55, 0.72), (0.31, 0.87), (0.12, 0.96), (0.05, 0.985), (0.03, 0.991)]
COLLAPSED = [*LEARNED, (0.41, 0.83), (0.6931, 0.5001), (0.6932, 0.4999), (0.6931, 0.5000),
             (0.6931, 0.5000)]  # fmt: skip


def _collapse(text):
    return [f for f in check_log(text) if f.code == "GL450"]


def test_a_run_that_learned_then_sits_at_ln_k_and_chance_blames_the_learning_rate():
    [f] = _collapse(train_only(COLLAPSED))
    assert (f.category, f.severity) == ("learning-rate", "warning")
    assert "training loss 0.0300" in f.evidence and "ln 2 = 0.6931" in f.evidence
    assert "epochs 8-10" in f.evidence


def test_the_same_fall_back_in_a_ten_class_run_reads_k_from_the_loss():
    rows = [(2.1, 0.31), (1.2, 0.58), (0.7, 0.77), (0.45, 0.85), (0.40, 0.87)]
    rows += [(2.3026, 0.1002), (2.3027, 0.0998), (2.3025, 0.1000)]
    [f] = _collapse(train_only(rows))
    assert "ln 10 = 2.3026" in f.evidence


def test_a_healthy_run_one_stuck_from_the_start_or_a_flat_loss_off_ln_k_is_silent():
    stuck = [(0.6931, 0.5)] * 8  # never learned: GL404's symptom, not this one
    off = [*LEARNED, (0.45, 0.80), (0.4502, 0.80), (0.4501, 0.80)]  # worse, but not uniform
    short = [*LEARNED, (0.6931, 0.5), (0.6931, 0.5)]  # two epochs could be a passing bad spell
    for rows in (LEARNED, stuck, off, short):
        assert not _collapse(train_only(rows)), rows


# -- issue 11: the tools' step lines read by the step and chance rules -------------------------


def _imagenet_steps(batch_acc, batch_loss, total=2000):
    """pytorch/examples step lines whose running averages come from the given batch values."""
    lines, acc_sum, loss_sum = [], 0.0, 0.0
    for n, (a, loss) in enumerate(zip(batch_acc, batch_loss, strict=True), 1):
        acc_sum, loss_sum = acc_sum + a, loss_sum + loss
        step = (n - 1) * 100
        lines.append(
            f"Epoch: [0][{step}/{total}]\tTime 0.3 (0.3)\tData 0.0 (0.0)\tLoss {loss:.4f} "
            f"({loss_sum / n:.4f})\tAcc@1 {a:.3f} ({acc_sum / n:.3f})\tAcc@5 90.0 (90.0)"
        )
    return "\n".join(lines) + "\n"


def test_a_pretrained_model_whose_later_batches_collapse_is_found_behind_its_averages():
    # 12 good batches hold the running accuracy up; the last quarter of batches are near 10%
    acc = [75.0] * 12 + [60, 45, 35, 25] + [10.0] * 6
    loss = [0.8] * 12 + [1.5, 2.2, 2.9, 3.5] + [4.5] * 6
    found = {f.code for f in check_log(_imagenet_steps(acc, loss))}
    assert "GL432" in found


def test_a_pretrained_model_that_keeps_its_accuracy_is_not_a_collapse():
    acc = [75.0] * 12 + [74, 76, 73, 77] + [75.0] * 6
    loss = [0.8] * 12 + [0.82, 0.79, 0.81, 0.8] + [0.78] * 6
    assert not [f for f in check_log(_imagenet_steps(acc, loss)) if f.code == "GL432"]


def _flat_epochs(header: str) -> str:
    lines = [header] if header else []
    for ep in (0, 1, 2, 3):
        for s in range(0, 50, 10):
            lines.append(
                f"Epoch: [{ep}][{s}/50]\tTime 0.4 (0.4)\tData 0.0 (0.0)\tLoss 2.3118 (2.3118)\t"
                f"Prec@1 {9.5 + (s % 20) / 10:.3f} (10.000)\tPrec@5 50.0 (50.0)"
            )
        lines.append(" * Prec@1 10.000 Prec@5 50.000")
    return "\n".join(lines) + "\n"


def test_a_pretrained_model_pinned_at_ln_k_names_the_learning_rate_as_likely_cause():
    [f] = [f for f in check_log(_flat_epochs("=> using pre-trained model 'alexnet'"))
           if f.code in ("GL402", "GL404")]  # fmt: skip
    assert f.causes == ["learning-rate"] and "pretrained" in f.explanation


def test_a_model_at_ln_k_without_pretrained_weights_leaves_the_cause_open():
    [f] = [f for f in check_log(_flat_epochs("")) if f.code in ("GL402", "GL404")]
    assert f.causes == []


def test_training_step_lines_are_not_read_as_an_evaluation_s_batches():
    acc = [90.0] * 3 + [0.0] * 5
    loss = [0.3] * 3 + [6.0] * 5
    text = _imagenet_steps(acc, loss).replace("Acc@5 90.0 (90.0)", "Acc@5 0.0 (0.0)")
    assert not [f for f in check_log(text) if f.code == "GL447"]
    assert [f for f in check_log(text.replace("Epoch: [0]", "Test:")) if f.code == "GL447"]


def timm_epoch(losses, lr_end, val_loss, val_top1):
    """One epoch of timm train.py prints: step lines over a linear warm-up, then the test."""
    n = len(losses)
    total = 50 * n
    lines = [
        f"Train: 0 [{50 * i:4d}/{total} ({100 * i // n:3d}%)]  Loss: {lo:.3f} ({lo:.3f})  "
        f"Time: 0.300s,  850.10/s  (0.310s,  820.00/s)  LR: {1e-6 + lr_end * i / (n - 1):.3e}  "
        "Data: 0.010 (0.020)\n"
        for i, lo in enumerate(losses)
    ]
    lines.append(
        f"Test: [  78/78]  Time: 0.120 (0.150)  Loss: {val_loss:.3f} ({val_loss:.3f})  "
        f"Acc@1: {val_top1:.4f} ({val_top1:.4f})  Acc@5: 5.0000 (5.0000)\n"
    )
    return "".join(lines)


def test_a_training_loss_that_rises_with_the_warmup_rate_is_a_learning_rate_finding():
    rising = [4.61, 4.60, 4.62, 4.66, 4.71, 4.77, 4.82, 4.86, 4.90]
    (f,) = [f for f in check_log(timm_epoch(rising, 3e-3, 9.4, 0.0)) if f.code == "GL452"]
    assert f.category == "learning-rate" and f.severity == "warning"
    assert "4.6100 -> 4.9000" in f.title and "confidently wrong" in f.explanation


def test_a_training_loss_that_falls_during_the_warmup_is_healthy():
    falling = [4.61, 4.58, 4.50, 4.38, 4.21, 4.02, 3.85, 3.70, 3.58]
    assert [f for f in check_log(timm_epoch(falling, 3e-3, 3.4, 22.0)) if f.code == "GL452"] == []
    flat_rate = timm_epoch([4.61, 4.60, 4.62, 4.66, 4.71, 4.77, 4.82, 4.86, 4.90], 0.0, 5.0, 1.0)
    assert [f for f in check_log(flat_rate) if f.code == "GL452"] == []
