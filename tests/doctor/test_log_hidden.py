"""graftlab.doctor._loghidden: a hidden folder numbered as a class in a printed mapping."""

from __future__ import annotations

import pytest

from graftlab.doctor.logs import check_log

EPOCHS = (
    "Epoch 1/2\n45/45 [==============================] - 12s 260ms/step - loss: 1.2100 - "
    "accuracy: 0.5200 - val_loss: 1.1000 - val_accuracy: 0.5600\n"
    "Epoch 2/2\n45/45 [==============================] - 12s 260ms/step - loss: 0.9100 - "
    "accuracy: 0.6400 - val_loss: 0.9800 - val_accuracy: 0.6100\n"
)


@pytest.mark.parametrize(
    ("printed", "name"),
    [
        ("folder_to_idx: {'.ipynb_checkpoints': 0, 'a': 1, 'b': 2, 'c': 3}", ".ipynb_checkpoints"),
        ("{'.DS_Store': 0, 'cats': 1, 'dogs': 2}", ".DS_Store"),
        ("classes: ['__MACOSX', 'daisy', 'rose', 'tulip']", "__MACOSX"),
    ],
    ids=["mmcls-folder-to-idx", "class-indices", "class-list"],
)
def test_a_printed_mapping_with_a_hidden_folder_is_a_label_order_error(printed, name):
    [f] = [f for f in check_log(printed + "\n" + EPOCHS) if f.code == "GL453"]
    assert (f.category, f.severity) == ("label-order-mismatch", "error")
    assert repr(name) in f.title and "line    1" in f.evidence


@pytest.mark.parametrize(
    "printed",
    [
        "{'cats': 0, 'dogs': 1, 'birds': 2}",  # only real classes
        "{'.hidden': 0, 'cats': 1}",  # one other name: not a class listing to judge
        "{'.x': 3, 'a': 7, 'b': 9}",  # not an index 0..K-1 mapping
        "paths: ['.cache', 'data', 'runs']",  # a list that is not of classes
    ],
    ids=["real-classes", "too-few", "not-indices", "not-classes"],
)
def test_other_printed_dicts_and_lists_say_nothing(printed):
    assert "GL453" not in [f.code for f in check_log(printed + "\n" + EPOCHS)]
