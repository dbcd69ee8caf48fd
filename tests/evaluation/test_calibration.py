"""Expected calibration error and reliability bins, checked against numbers worked by hand."""

import numpy as np
import pytest

from graftlab.evaluation.calibration import expected_calibration_error, reliability_bins
from graftlab.evaluation.metrics import full_metrics


def test_ece_matches_a_hand_computed_example():
    # Six 2-class predictions; top-1 confidences 0.9, 0.9, 0.8, 0.6, 0.6, 0.55.
    probs = np.array([[0.9, 0.1], [0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.4, 0.6], [0.55, 0.45]])
    y = np.array([0, 1, 1, 0, 0, 0])  # correct: yes, no, yes, yes, no, yes
    # 15 bins of width 1/15: 0.9 -> bin 13 (0.8667, 0.9333]; 0.8 -> bin 11 (0.7333, 0.8];
    # 0.6 -> bin 8 (0.5333, 0.6]; 0.55 -> bin 8 as well.
    # bin 13: conf 0.9, acc 1/2 -> |0.5 - 0.9| * 2/6 = 0.4/3
    # bin 11: conf 0.8, acc 1   -> |1 - 0.8| * 1/6   = 0.2/6
    # bin 8: conf (0.6 + 0.6 + 0.55)/3, acc 2/3 -> |2/3 - 1.75/3| * 3/6 = 0.25/6
    expected = 0.4 / 3 + 0.2 / 6 + 0.25 / 6
    assert expected_calibration_error(probs, y) == pytest.approx(expected)
    assert full_metrics(probs, y, ["a", "b"])["ece"] == pytest.approx(expected)


def test_bins_are_closed_on_the_right():
    # 0.8 is exactly the upper edge of bin 11 (12/15); 1.0 belongs to the last bin.
    bins = reliability_bins(np.array([0.8, 1.0, 0.0]), np.array([1, 1, 0]))
    assert bins["count"][11] == 1
    assert bins["count"][14] == 1
    assert bins["count"][0] == 1
    assert len(bins["edges"]) == 16
    assert bins["accuracy"][5] is None  # empty bins have no mean


def test_perfectly_calibrated_predictions_have_zero_ece_and_overconfidence_does_not():
    conf = np.repeat([0.6, 0.8, 1.0], 10)
    correct = np.r_[np.arange(10) < 6, np.arange(10) < 8, np.ones(10, bool)]
    probs = np.c_[conf, 1 - conf]
    y = np.where(correct, 0, 1)
    assert expected_calibration_error(probs, y) == pytest.approx(0.0, abs=1e-12)
    assert expected_calibration_error(probs, np.ones_like(y)) > 0.5


def test_multilabel_ece_scores_every_label_decision():
    probs = np.array([[0.9, 0.2], [0.7, 0.4]])
    y = np.array([[1, 0], [0, 0]])
    # decisions: conf 0.9 right, 0.8 right, 0.7 wrong, 0.6 right -> bins 13, 11, 10, 8 (one each)
    expected = (0.1 + 0.2 + 0.7 + 0.4) / 4
    assert expected_calibration_error(probs, y, "multilabel") == pytest.approx(expected)
