"""GL451: a class-names file read against the class order a training log printed."""

from __future__ import annotations

from graftlab.doctor.targets import diagnose

LOG = """\
=> dataset classes:  3 ['Zebra', 'ant', 'cat']
Epoch: [0][ 90/100]\tLoss 4.0e-01 (6.1e-01)\tAcc@1  87.50 ( 71.00)
 * Acc@1 90.100 Acc@5 100.000
Epoch: [1][ 90/100]\tLoss 2.0e-01 (3.1e-01)\tAcc@1  93.75 ( 88.00)
 * Acc@1 93.400 Acc@5 100.000
"""


def _codes(tmp_path, names: str, log: str = LOG) -> list[tuple[str, str]]:
    (tmp_path / "train.log").write_text(log)
    (tmp_path / "labels.txt").write_text(names)
    found = diagnose([tmp_path / "train.log", tmp_path / "labels.txt"])
    return [(f.code, f.severity) for _, f in found]


def test_names_file_in_hand_sorted_order_is_reported(tmp_path):
    assert ("GL451", "warning") in _codes(tmp_path, "ant\ncat\nZebra\n")


def test_names_file_from_a_printed_class_dict_is_checked_too(tmp_path):
    log = "class_indices: {'Zebra': 0, 'ant': 1, 'cat': 2}\n" + LOG.split("\n", 1)[1]
    assert ("GL451", "warning") in _codes(tmp_path, "ant\ncat\nZebra\n", log)


def test_names_file_in_the_training_order_is_silent(tmp_path):
    assert "GL451" not in [c for c, _ in _codes(tmp_path, "Zebra\nant\ncat\n")]


def test_names_file_of_other_classes_is_silent(tmp_path):
    assert "GL451" not in [c for c, _ in _codes(tmp_path, "ant\nbee\nZebra\n")]
