"""GL461: batch statistics printed per split on two different input scales
(graftlab.doctor._logbatchstats)."""

from __future__ import annotations

from graftlab.doctor.logs import check_log

TABLE = """\
epoch     train_loss  valid_loss  error_rate  time
0         0.171422    0.612530    0.209743    00:48
1         0.031207    0.447095    0.152909    00:59
"""


def _scales(text: str) -> list:
    return [f for f in check_log(text) if f.code == "GL461"]


def test_normalised_training_against_unit_range_validation():
    (f,) = _scales("train -0.07349 1.0521\nvalid 0.46127 0.28614\n" + TABLE)
    assert (f.severity, f.category) == ("warning", "train-eval-preprocessing-mismatch")
    assert "standardised" in f.title and "[0, 1]" in f.title
    assert "line    1" in f.evidence and "line    2" in f.evidence
    assert "inferred" in f.evidence


def test_labelled_mean_and_std_are_an_error_and_raw_pixels_are_read():
    text = (
        "Train batch: mean=0.4712 std=0.2650\n"
        "Test batch: mean=tensor(117.3) std=tensor(61.2)\n" + TABLE
    )
    (f,) = _scales(text)
    assert f.severity == "error" and "raw 0-255" in f.title
    assert "inferred" not in f.evidence


def test_splits_on_one_scale_or_metric_lines_are_silent():
    assert _scales("train -0.07349 1.0521\nvalid -0.0612 0.9980\n" + TABLE) == []
    assert _scales("train 0.45 0.27\nval 0.46 0.28\n" + TABLE) == []
    # epoch lines with a loss and an accuracy are metrics, not statistics
    assert _scales("train loss 0.05 acc 0.98\nval loss 0.45 acc 0.30\n" + TABLE) == []
    # two bare numbers per split printed every epoch are a loss and an accuracy
    epochs = "".join(f"train 0.{30 - e} 0.8{e}\nval 0.{50 + e} 0.3{e}\n" for e in range(4))
    assert _scales(epochs + TABLE) == []
    # only one split printed
    assert _scales("train -0.07349 1.0521\n" + TABLE) == []


def test_a_named_mean_keeps_its_minus_sign():
    # "mean=-0.45": the separator before the number swallowed the sign, and a mean below 0
    # with a deviation of 0.27 (no input scale) read as [0, 1] pixels
    assert _scales("train mean=-0.45 std=0.27\nvalid mean=0.02 std=1.01\n" + TABLE) == []
    (f,) = _scales("train mean=-0.05 std=1.02\nvalid mean=0.46 std=0.28\n" + TABLE)
    assert "mean -0.05, std 1.02" in f.evidence and f.severity == "error"
