"""GL460: a printed class list that holds a file of the data folder (graftlab.doctor._logstray),
and with the script that made it, one finding (GL336 + GL460)."""

from __future__ import annotations

from graftlab.doctor.logs import check_log
from graftlab.doctor.targets import diagnose

_BAR = "29/29 [==============================] - 9s 301ms/step"
RUN = f"""\
Found 900 images belonging to 3 classes.
Found 300 images belonging to 3 classes.
Epoch 1/2
{_BAR} - loss: 0.6120 - accuracy: 0.7411 - val_loss: 0.4410 - val_accuracy: 0.8300
Epoch 2/2
{_BAR} - loss: 0.3302 - accuracy: 0.8822 - val_loss: 0.3010 - val_accuracy: 0.8933
"""


def _stray(text: str) -> list:
    return [f for f in check_log(text) if f.code == "GL460"]


def test_a_numpy_printed_list_with_ds_store_and_a_matching_class_count_is_an_error():
    (f,) = _stray("['.DS_Store' 'apple' 'kiwi' 'pear']\n" + RUN)
    assert (f.severity, f.category) == ("error", "label-order-mismatch")
    assert "'.DS_Store'" in f.title
    assert "line    1" in f.evidence and "belonging to 3 classes" in f.evidence
    assert "output 0 is the class this list puts at 1 ('apple')" in f.explanation


def test_a_prediction_named_after_the_file_is_evidence_too():
    text = RUN.replace("3 classes", "2 classes") + "classes: ['LICENSE.txt', 'daisy', 'rose']\n"
    text += "Predicted: LICENSE.txt (0.91)\n"
    (f,) = _stray(text)
    assert f.severity == "error" and "Predicted: LICENSE.txt" in f.evidence


def test_without_a_count_or_a_prediction_it_is_a_warning_that_says_what_it_inferred():
    text = RUN.replace("Found 900 images belonging to 3 classes.\n", "").replace(
        "Found 300 images belonging to 3 classes.\n", ""
    )
    (f,) = _stray("['apple', 'kiwi', 'Thumbs.db']\n" + text)
    assert f.severity == "warning" and "inferred" in f.evidence


def test_class_lists_without_a_file_are_silent():
    assert _stray("['apple' 'kiwi' 'pear']\n" + RUN) == []
    # dotted class names are not files; one name beside a file is not a class list
    assert _stray("['n01.a', 'n02.b', 'n03.c']\n" + RUN) == []
    assert _stray("['.DS_Store', 'apple']\n" + RUN) == []


SCRIPT = """\
import os
import numpy as np
from tensorflow.keras.preprocessing.image import ImageDataGenerator
class_names = np.array(sorted(os.listdir("fruit/train")))
print(class_names)
gen = ImageDataGenerator(rescale=1 / 255.0).flow_from_directory("fruit/train")
model.fit(gen, epochs=2)
print(class_names[int(np.argmax(model.predict(x)))])
"""


def test_script_and_printed_output_are_one_finding(tmp_path):
    (tmp_path / "train.py").write_text(SCRIPT)
    (tmp_path / "out.txt").write_text("['.DS_Store' 'apple' 'kiwi' 'pear']\n" + RUN)
    found = [
        f
        for _, f in diagnose([tmp_path / "train.py", tmp_path / "out.txt"])
        if f.category == "label-order-mismatch"
    ]
    (f,) = found
    assert f.severity == "error" and "train.py:4:" in f.evidence and "line    1" in f.evidence


def test_lists_separated_by_commas_or_spaces_are_read_and_an_unclosed_one_is_not():
    (f,) = _stray("['.DS_Store',  'apple' ,'kiwi' , 'pear']\n" + RUN)
    assert "'.DS_Store'" in f.title
    # A gap is a comma or whitespace, one way: an unclosed list of thousands of names is
    # rejected in linear time (two optional separators backtracked 2**n ways on it).
    unclosed = "['.DS_Store' " + " ".join(f"'c{i}'" for i in range(3000)) + " x\n"
    assert _stray(unclosed + RUN) == []


def test_a_file_in_a_plain_list_is_one_finding_not_also_a_hidden_folder_numbered_as_a_class():
    # Without indices the list was made by listing the folder (GL460); GL453 is for a hidden
    # folder the loader numbered, as a printed mapping shows.
    text = "classes: ['.DS_Store', 'apple', 'kiwi', 'pear']\n" + RUN
    codes = [f.code for f in check_log(text) if f.category == "label-order-mismatch"]
    assert codes == ["GL460"]
    mapping = "{'.DS_Store': 0, 'apple': 1, 'kiwi': 2, 'pear': 3}\n" + RUN
    assert "GL453" in [f.code for f in check_log(mapping)]
