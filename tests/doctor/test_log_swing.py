"""graftlab.doctor._logswing: inference-mode accuracy that jumps while training mode holds."""

from __future__ import annotations

import pytest

from graftlab.doctor.logs import check_log


def verbose2(rows, tail=""):
    """Keras 2 ``fit(verbose=2)`` output: ``Epoch i/N`` then one `` - 45s - loss: ..`` line."""
    out = ""
    for i, (lo, a, vl, va) in enumerate(rows, 1):
        out += f"Epoch {i}/{len(rows)}\n - 45s - loss: {lo:.4f} - acc: {a:.4f} - "
        out += f"val_loss: {vl:.4f} - val_acc: {va:.4f}\n"
    return out + tail


#: Training mode right from the first epoch; inference at 0.31 once, then near 1.
SWING = [(0.12, 0.955, 0.74, 0.3127), (0.07, 0.971, 0.52, 0.9871), (0.06, 0.975, 0.49, 0.9913),
         (0.05, 0.979, 0.41, 0.9958), (0.05, 0.981, 0.38, 0.9962)]  # fmt: skip


def test_validation_jumping_from_chance_to_perfect_under_steady_training_is_batchnorm():
    [f] = check_log(verbose2(SWING, tail="test loss: 0.8112\ntest accuracy: 0.5\n"))
    assert (f.code, f.category, f.severity) == ("GL454", "batchnorm", "warning")
    assert "0.3127 and 0.9962" in f.title and "0.9550 or above" in f.title
    assert "evaluation after training: accuracy 0.5000" in f.evidence
    assert "inferred: epoch 1 scores 0.3127" in f.evidence
    assert "training=False" in f.fix


def test_a_plain_pytorch_loop_names_evaluation_in_training_mode_too():
    text = "".join(
        f"Epoch {i}/5 | Train Loss: {lo:.4f} | Train Acc: {a:.4f} | Val Loss: {vl:.4f} | "
        f"Val Acc: {va:.4f}\n"
        for i, (lo, a, vl, va) in enumerate(SWING, 1)
    )
    [f] = [f for f in check_log(text) if f.code == "GL454"]
    assert f.causes == ["eval-mode-missing"]


@pytest.mark.parametrize(
    "rows",
    [
        [(lo, a, vl, min(va, 0.9) - 0.2) for lo, a, vl, va in SWING],  # never near perfect
        [(lo, a, vl, max(va, 0.62)) for lo, a, vl, va in SWING],  # never at chance
        [(lo, a - 0.2, vl, va) for lo, a, vl, va in SWING],  # training not steady above 0.9
        [(lo, a, vl, round(va * 4) / 4) for lo, a, vl, va in SWING],  # four validation images
        SWING[:3],  # too few epochs to call it a swing
    ],
    ids=["never-high", "never-low", "training-low", "four-images", "three-epochs"],
)
def test_no_swing_without_steady_training_a_real_drop_and_a_real_validation_set(rows):
    assert "GL454" not in [f.code for f in check_log(verbose2(rows))]


def test_a_validation_set_said_to_be_small_is_not_read_as_a_swing():
    text = "Found 40 images belonging to 2 classes.\n" + verbose2(SWING)
    text = text.replace("Epoch 1/5", "Train on 800 samples, validate on 40 samples\nEpoch 1/5")
    assert "GL454" not in [f.code for f in check_log(text)]


def test_an_evaluation_at_chance_it_cites_is_not_also_a_label_pairing_finding():
    # with K printed, GL441 read the same evaluation at chance after validating at 0.99 as
    # predictions paired in another order: one symptom, two causes
    found = "Found 6400 images belonging to 2 classes.\nFound 1600 images belonging to 2 classes.\n"
    text = found + verbose2(SWING, tail="test loss: 0.8112\ntest accuracy: 0.5\n")
    assert [f.code for f in check_log(text)] == ["GL454"]
    # without the swing the same evaluation is still the pairing's
    steady = [(lo, a, vl, 0.99) for lo, a, vl, _ in SWING]
    text = found + verbose2(steady, tail="test loss: 0.8112\ntest accuracy: 0.5\n")
    assert "GL441" in [f.code for f in check_log(text)]
