"""graftlab.doctor._logfit: overfitting read from a paste of the last epochs only."""

from __future__ import annotations

import pytest

from graftlab.doctor.logs import check_log


def tail(rows, start=46, total=50):
    """The last epochs of a Keras run, as people paste them."""
    return "".join(
        f"Epoch {start + i}/{total}\n45/45 [==============================] - 12s 260ms/step - "
        f"loss: {lo:.4f} - accuracy: {a:.4f} - val_loss: {vl:.4f} - val_accuracy: {va:.4f}\n"
        for i, (lo, a, vl, va) in enumerate(rows)
    )


END = [(0.031, 0.991, 2.10, 0.652), (0.027, 0.993, 2.15, 0.648), (0.030, 0.990, 2.12, 0.655),
       (0.025, 0.994, 2.20, 0.650), (0.026, 0.993, 2.18, 0.651)]  # fmt: skip


def test_the_end_of_an_overfitted_run_is_overfitting_with_its_numbers():
    [f] = check_log(tail(END))
    assert (f.code, f.category, f.severity) == ("GL412", "overfitting", "warning")
    assert "0.9930" in f.title and "0.6510" in f.title and "last 5 epochs" in f.title
    assert "84x the training loss" in f.evidence and "line  10 | epoch  50" in f.evidence


@pytest.mark.parametrize(
    "rows",
    [
        [(lo, a, 0.05, 0.985 + i / 1000) for i, (lo, a, _, _) in enumerate(END)],  # generalises
        [(lo, a, vl, 0.50) for lo, a, vl, _ in END],  # validation at chance: another cause
        [(lo, a, vl, va + 0.03 * i) for i, (lo, a, vl, va) in enumerate(END)],  # still improving
        [(lo, a, 2.2 - 0.1 * i, va) for i, (lo, a, _, va) in enumerate(END)],  # val_loss falls
        [(lo, 0.90, vl, va) for lo, _, vl, va in END],  # training not memorised
    ],
    ids=["generalises", "chance", "improving", "val-loss-falling", "train-0.90"],
)
def test_a_run_that_generalises_learns_or_is_broken_otherwise_is_not_memorising(rows):
    assert "Training set memorised" not in " ".join(f.title for f in check_log(tail(rows)))


def test_the_last_epoch_line_alone_late_in_a_run_is_read_as_the_end_state():
    # People often paste only the final epoch; with no trend to read, the loss ratio carries it.
    [f] = check_log(tail(END[-1:], start=50))
    assert (f.code, f.category, f.severity) == ("GL412", "overfitting", "warning")
    assert "at epoch 50, late in the run" in f.title and "84x the training loss" in f.evidence


@pytest.mark.parametrize(
    "text",
    [
        tail(END[-1:], start=3, total=5),  # an early epoch of a short run: no end state yet
        tail([(0.026, 0.993, 0.06, 0.72)], start=50),  # validation loss close to training's
        tail(END[-1:], start=50).replace(" - val_loss: 2.1800", ""),  # no losses to weigh
    ],
    ids=["early-epoch", "loss-ratio-small", "no-val-loss"],
)
def test_one_epoch_line_without_the_evidence_of_a_late_end_state_is_silent(text):
    assert "Training set memorised" not in " ".join(f.title for f in check_log(text))


def test_the_turn_when_the_log_shows_it_is_reported_instead_of_the_end_state():
    rows = [(0.6, 0.70, 0.62, 0.68), (0.3, 0.88, 0.55, 0.72), (0.1, 0.97, 0.70, 0.71),
            (0.05, 0.99, 0.9, 0.70), (0.03, 0.99, 1.1, 0.70), (0.02, 1.0, 1.3, 0.70)]  # fmt: skip
    [f] = check_log(tail(rows, start=1, total=6))
    assert f.code == "GL412" and f.title.startswith("Overfitting from epoch 2")


def prints(rows, loss=True):
    """A plain PyTorch print per epoch: (train loss, train acc, val loss, val acc)."""
    return "".join(
        f"Epoch {e}: " + (f"train loss {lo:.4f} " if loss else "") + f"train acc {a:.4f} | "
        f"val loss {vl:.4f} val acc {va:.4f}\n"
        for e, (lo, a, vl, va) in enumerate(rows, 1)
    )


#: Fine-tuning that goes past its best: validation loss bottoms at epoch 3 and climbs for four
#: epochs while training accuracy climbs to 1 and validation accuracy stays where it was.
PAST_BEST = [(0.90, 0.70, 0.60, 0.80), (0.45, 0.86, 0.48, 0.85), (0.25, 0.93, 0.44, 0.86),
             (0.12, 0.97, 0.50, 0.86), (0.06, 0.99, 0.56, 0.85), (0.04, 1.00, 0.61, 0.85),
             (0.03, 1.00, 0.66, 0.84)]  # fmt: skip


def _overfit(text):
    return [f for f in check_log(text) if f.category == "overfitting"]


def test_a_rising_validation_loss_is_read_with_the_training_accuracy_when_no_loss_is_printed():
    [f] = _overfit(prints(PAST_BEST, loss=False))
    assert f.code == "GL412" and f.title.startswith("Overfitting from epoch 3")
    assert "training accuracy climbs to 1.0000" in f.title
    assert "train_accuracy climbs 0.9300 -> 1.0000" in f.evidence


def test_a_training_loss_already_near_zero_does_not_hide_the_turn():
    rows = [(0.0012 - 0.0001 * (i % 2), 1.0, vl, 0.91 - 0.005 * i)
            for i, vl in enumerate([0.30, 0.28, 0.27, 0.31, 0.34, 0.37, 0.40])]  # fmt: skip
    [f] = _overfit(prints(rows))
    assert f.title.startswith("Overfitting from epoch 3: val_loss bottoms at 0.2700")


def test_a_widening_accuracy_gap_is_overfitting_when_the_validation_loss_stopped_improving():
    # no training loss printed and the validation loss drifts up by 3% only -- no turn to
    # read -- but the gap opens from 0.00 to 0.21 after validation accuracy peaked at epoch 3
    accs = [(0.70, 0.70), (0.80, 0.77), (0.88, 0.80), (0.93, 0.79), (0.96, 0.78), (0.98, 0.77),
            (0.99, 0.78)]  # fmt: skip
    vloss = [0.600, 0.590, 0.585, 0.590, 0.595, 0.600, 0.603]
    rows = [(1.0 - a, a, vl, va) for (a, va), vl in zip(accs, vloss, strict=True)]
    [f] = _overfit(prints(rows, loss=False))
    assert "training accuracy climbs to 0.9900" in f.title and "0.8000" in f.title


@pytest.mark.parametrize(
    "rows",
    [
        # validation loss wobbling by a few per cent around its minimum, accuracy still rising
        [(0.9 - 0.12 * i, 0.70 + 0.045 * i, vl, 0.80 + 0.02 * i)
         for i, vl in enumerate([0.50, 0.42, 0.40, 0.41, 0.40, 0.42, 0.41])],
        # the gap widens to 0.16 while the validation loss still improves: not past its best
        [(1.0 - a, a, 0.60 - 0.02 * i, va)
         for i, (a, va) in enumerate([(0.70, 0.70), (0.80, 0.77), (0.88, 0.80), (0.93, 0.79),
                                      (0.96, 0.80), (0.97, 0.80), (0.97, 0.81)])],
        # training accuracy that does not climb: a rising validation loss of another kind
        [(0.5, 0.80, vl, 0.78) for vl in [0.60, 0.50, 0.45, 0.52, 0.58, 0.63, 0.70]],
    ],
    ids=["wobble", "still-improving", "train-flat"],
)  # fmt: skip
def test_normal_fine_tuning_curves_are_not_called_overfitting(rows):
    assert _overfit(prints(rows)) == []
    assert _overfit(prints(rows, loss=False)) == []
