"""GL441: what is printed after training says predictions and labels are paired in another
order or numbering (graftlab.doctor._logconfusion)."""

from __future__ import annotations

import pytest

from graftlab.doctor.logs import check_log
from graftlab.errors import DataError

TRAINED = (
    "Found 600 images belonging to 3 classes.\n"
    "Epoch 1/3\n20/20 - 9s - loss: 0.7711 - accuracy: 0.6900 - val_loss: 0.5012 - val_accuracy: "
    "0.8133\n"
    "Epoch 2/3\n20/20 - 8s - loss: 0.4410 - accuracy: 0.8400 - val_loss: 0.3918 - val_accuracy: "
    "0.8600\n"
    "Epoch 3/3\n20/20 - 8s - loss: 0.3302 - accuracy: 0.8817 - val_loss: 0.3555 - val_accuracy: "
    "0.8767\n"
)


def _orders(text: str) -> list:
    return [f for f in check_log(text) if f.code == "GL441"]


def test_two_swapped_classes_are_a_permutation_even_above_chance():
    swapped = "[[95  3  2]\n [ 4  6 90]\n [ 2 93  5]]\n"  # classes 1 and 2 trade names
    (f,) = _orders(TRAINED + swapped)
    assert f.severity == "warning" and "2 of 3 classes" in f.title
    assert "1->2, 2->1" in f.evidence


def test_a_learned_matrix_and_one_full_column_are_not_a_permutation():
    learned = "[[90  6  4]\n [ 5 88  7]\n [ 6  5 89]]\n"
    assert _orders(TRAINED + learned) == []
    # every image predicted as one class: preprocessing missing at prediction, not a renaming
    one_column = "[[ 0 100  0]\n [ 0 100  0]\n [ 0 100  0]]\n"
    assert [f.title for f in _orders(TRAINED + one_column) if "permutation" in f.title] == []


def test_a_test_accuracy_at_chance_after_a_good_validation_is_named():
    (f,) = _orders(TRAINED + "Test accuracy: 0.3433\n")
    assert "at chance for 3 classes" in f.title and "0.8767" in f.title
    assert "K = 3: line 1: Found 600 images" in f.evidence
    assert _orders(TRAINED + "Test accuracy: 0.8600\n") == []


def test_pytorch_example_test_line_in_percent_is_read():
    text = TRAINED + "Test set: Average loss: 2.4410, Accuracy: 203/600 (34%)\n"
    (f,) = _orders(text)
    assert "0.3400" in f.title


def test_a_report_far_below_chance_is_enough_without_training_lines():
    report = (
        "              precision    recall  f1-score   support\n\n"
        "        rust       0.05      0.04      0.04        50\n"
        "      blight       0.03      0.04      0.03        50\n"
        "     healthy       0.04      0.04      0.04        50\n\n"
        "    accuracy                           0.04       150\n"
        "   macro avg       0.04      0.04      0.04       150\n"
    )
    (f,) = _orders(report)
    assert "far below chance for 3 classes" in f.title and "K = 3 from its rows" in f.evidence
    at_chance = report.replace("0.04       150\n   macro", "0.33       150\n   macro")
    with pytest.raises(DataError):  # at chance alone says nothing: no training, no finding
        check_log(at_chance)


BINARY = (
    "Found 800 images belonging to 2 classes.\n"
    "Epoch 1/2\n50/50 - 30s - loss: 0.3512 - accuracy: 0.8515 - val_loss: 0.2301 - val_accuracy: "
    "0.9112\n"
    "Epoch 2/2\n50/50 - 29s - loss: 0.2210 - accuracy: 0.9110 - val_loss: 0.1804 - val_accuracy: "
    "0.9300\n"
)


def test_two_classes_at_chance_after_a_good_validation_are_named():
    # twice chance is 1.0 for two classes: "learned" is halfway from chance to certainty
    spread = "[[205 195]\n [197 203]]\n"
    (f,) = _orders(BINARY + spread)
    assert "at chance for 2 classes" in f.title and "0.9300" in f.title
    assert _orders(BINARY + "[[380  20]\n [ 25 375]]\n") == []
    weak = BINARY.replace("0.9112", "0.6012").replace("0.9300", "0.6500")
    assert _orders(weak + spread) == []  # a model that never learned much: nothing contradicts


def test_one_predicted_class_for_every_image_is_not_a_pairing():
    assert _orders(BINARY + "[[400   0]\n [398   2]]\n") == []


def test_an_evaluate_result_is_the_reference_without_training_lines():
    evaluate = (
        "Found 1200 images belonging to 4 classes.\n"
        "38/38 [==============================] - 12s 310ms/step - loss: 0.2103 - accuracy: "
        "0.9325\n"
        "[0.21031, 0.93250]\n"
    )
    report = "[[ 77  71  80  72]\n [ 74  76  73  77]\n [ 79  70  75  76]\n [ 70  83  72  75]]\n"
    (f,) = _orders(evaluate + report)
    assert "after evaluate() at 0.9325" in f.title and "model.evaluate()" in f.evidence
    weak = evaluate.replace("0.93250", "0.27000").replace("0.9325", "0.2700")
    assert _orders(weak + report) == []


def test_pytorch_tutorial_accuracy_sentence_is_read():
    text = TRAINED + "Accuracy of the network on the 600 test images: 33 %\n"
    (f,) = _orders(text)
    assert "0.3300" in f.title
    assert _orders(TRAINED + "Accuracy of the network on the 600 test images: 85 %\n") == []


def test_an_earlier_evaluation_is_the_reference_of_a_later_one():
    both = (
        "Test loss: 0.2103\nTest accuracy: 0.9325\n"
        "[[ 77  71  80  72]\n [ 74  76  73  77]\n [ 79  70  75  76]\n [ 70  83  72  75]]\n"
    )
    (f,) = _orders(both)
    assert "after an earlier evaluation at 0.9325" in f.title and "line    2" in f.evidence
    with pytest.raises(DataError):  # the same two numbers the other way round say nothing
        check_log(both.replace("0.9325", "0.2600"))
