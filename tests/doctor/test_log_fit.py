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


def test_the_turn_when_the_log_shows_it_is_reported_instead_of_the_end_state():
    rows = [(0.6, 0.70, 0.62, 0.68), (0.3, 0.88, 0.55, 0.72), (0.1, 0.97, 0.70, 0.71),
            (0.05, 0.99, 0.9, 0.70), (0.03, 0.99, 1.1, 0.70), (0.02, 1.0, 1.3, 0.70)]  # fmt: skip
    [f] = check_log(tail(rows, start=1, total=6))
    assert f.code == "GL412" and f.title.startswith("Overfitting from epoch 2")
