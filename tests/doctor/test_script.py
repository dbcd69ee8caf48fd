"""graftlab.doctor.script: static diagnosis of Keras / PyTorch transfer-learning scripts.

The corpus in ``cases/scripts`` holds, per category, scripts in the styles people post
(``<category>__<n>__bug.py`` / ``.ipynb``) and their corrected versions (``__fixed``). A line
marked ``# expect: <category>`` must be cited in the evidence of a finding of that category.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from graftlab.doctor.findings import CATEGORIES, Finding
from graftlab.doctor.script import check_script
from graftlab.errors import DataError

CASES = Path(__file__).parent / "cases" / "scripts"
MARK = re.compile(r"#\s*expect:\s*([a-z-]+)")
BUGS = sorted(CASES.glob("*__bug.*"))
FIXED = sorted(CASES.glob("*__fixed.*"))
GOOD = sorted(CASES.glob("good__*"))
LOG_ONLY = {"trivial-accuracy", "overfitting", "divergence", "other"}


def _code_lines(path: Path) -> list[tuple[str, str]]:
    """(location as evidence writes it, line) for every code line of a script or notebook."""
    if path.suffix != ".ipynb":
        return [
            (f"{path.name}:{i}", line) for i, line in enumerate(path.read_text().split("\n"), 1)
        ]
    out = []
    for n, cell in enumerate(json.loads(path.read_text())["cells"], 1):
        if cell["cell_type"] == "code":
            for i, line in enumerate("".join(cell["source"]).split("\n"), 1):
                out.append((f"{path.name}#cell{n}:{i}", line))
    return out


def _expected(path: Path) -> list[tuple[str, str]]:
    return [(m, where) for where, line in _code_lines(path) for m in MARK.findall(line)]


def _cited(findings: list[Finding], category: str, where: str) -> bool:
    return any(
        line.startswith(f"{where}: ")
        for f in findings
        if f.category == category
        for line in f.evidence.split("\n")
    )


def _show(findings: list[Finding]) -> str:
    return "\n".join(f"{f.code} {f.severity} {f.category}: {f.evidence}" for f in findings)


@pytest.mark.parametrize("path", BUGS, ids=lambda p: p.name)
def test_bug_is_found_on_the_marked_lines(path):
    findings = check_script(path, filename=path.name)
    expected = _expected(path)
    category = path.name.split("__")[0]
    assert category in {c for c, _ in expected}, f"{path.name} marks no line for {category}"
    for cat, where in expected:
        assert _cited(findings, cat, where), f"{cat} not cited at {where}:\n{_show(findings)}"


@pytest.mark.parametrize("path", FIXED, ids=lambda p: p.name)
def test_fixed_script_has_no_error_and_not_the_bug(path):
    findings = check_script(path, filename=path.name)
    category = path.name.split("__")[0]
    assert not [f for f in findings if f.severity == "error"], _show(findings)
    same = [f for f in findings if f.category == category and f.severity != "info"]
    assert not same, _show(same)


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.name)
def test_idiomatic_script_gets_at_most_info(path):
    findings = check_script(path)
    assert all(f.severity == "info" for f in findings), _show(findings)


def test_corpus_covers_every_code_category_twice_with_fixes():
    for category in set(CATEGORIES) - LOG_ONLY:
        bugs = [p for p in BUGS if p.name.startswith(f"{category}__")]
        assert len(bugs) >= 2, f"{category}: {len(bugs)} buggy scripts"
        for bug in bugs:
            assert bug.with_name(bug.name.replace("__bug", "__fixed")).exists(), bug.name
    assert {p.name for p in GOOD} >= {
        "good__keras_guide.py",
        "good__torchvision.py",
        "good__timm.py",
    }


def test_no_check_crashes_on_the_corpus():
    for path in BUGS + FIXED + GOOD:
        internal = [f for f in check_script(path) if f.code == "GL399"]
        assert not internal, f"{path.name}: {internal[0].explanation}"


def test_every_finding_is_well_formed():
    for path in BUGS:
        for f in check_script(path, filename=path.name):
            assert re.fullmatch(r"GL[123]\d\d", f.code)
            assert f.title and f.explanation and f.fix and f.references
            for line in f.evidence.split("\n"):
                assert re.match(rf"{re.escape(path.name)}(#cell\d+)?:\d+: \S", line), line


BINARY_7 = """\
from tensorflow.keras import layers, models
model = models.Sequential([layers.Flatten(input_shape=(7, 7, 512)),
                           layers.Dense(7, activation='softmax')])
model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])
"""


def test_binary_accuracy_floor_is_stated_with_its_arithmetic():
    (f,) = [f for f in check_script(BINARY_7) if f.category == "binary-loss-multiclass"]
    assert f.severity == "error"
    assert "6/7 = 0.8571 (85.71%)" in f.explanation
    assert "categorical_crossentropy" in f.fix
    (g,) = [f for f in check_script(BINARY_7.replace("7,", "10,")) if f.code == "GL101"]
    assert "9/10 = 0.9000 (90.00%)" in g.explanation


def test_values_are_followed_through_the_scripts_own_functions():
    src = """\
import tensorflow as tf
def build(n_classes, size=299):
    base = tf.keras.applications.Xception(include_top=False, input_shape=(size, size, 3))
    x = tf.keras.layers.GlobalAveragePooling2D()(base.output)
    out = tf.keras.layers.Dense(n_classes, activation='softmax')(x)
    return tf.keras.Model(base.input, out)
model = build(n_classes=4)
model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])
"""
    (f,) = [f for f in check_script(src, filename="m.py") if f.code == "GL101"]
    assert "3/4 = 0.7500 (75.00%)" in f.explanation
    assert f.evidence.split("\n")[0] == (
        "m.py:5: out = tf.keras.layers.Dense(n_classes, activation='softmax')(x)"
    )


def test_evidence_is_file_line_and_the_source_line(tmp_path):
    path = tmp_path / "train.py"
    path.write_text("import torch\n\n\n" + BINARY_7)
    (f,) = [f for f in check_script(path) if f.code == "GL101"]
    assert f.evidence.split("\n") == [
        f"{path}:6: layers.Dense(7, activation='softmax')])",
        f"{path}:7: model.compile(optimizer='adam', loss='binary_crossentropy', "
        "metrics=['accuracy'])",
    ]


def test_unparsable_lines_are_left_out_and_the_rest_analysed():
    src = 'print "loading data"\n' + BINARY_7 + "model.fit(x, y\n"
    findings = check_script(src, filename="old.py")
    assert any(f.code == "GL101" for f in findings)
    (note,) = [f for f in findings if f.code == "GL300"]
    assert note.severity == "info" and note.category == "other"
    assert 'old.py:1: print "loading data"' in note.evidence
    assert "old.py:6: model.fit(x, y" in note.evidence
    # the Python 2 print is read as print(...); only the unfinished line is left out
    assert "1 Python 2 line(s)" in note.explanation
    assert "1 line(s) could not be parsed" in note.explanation


def test_nothing_parsable_is_said_plainly():
    findings = check_script("}}} this is not python {{{\n<<<<<<< HEAD\n")
    assert [f.code for f in findings] == ["GL300"]
    assert "Nothing in this file could be parsed" in findings[0].explanation


def test_notebook_magics_and_fragments_parse_without_notes():
    src = "!pip install tensorflow\n%matplotlib inline\nfiles = !ls data\n" + BINARY_7
    findings = check_script(src)
    assert [f.code for f in findings] == ["GL101"]
    fragment = "    " + BINARY_7.replace("\n", "\n    ")  # copied from inside a function
    assert [f.code for f in check_script(fragment)] == ["GL101"]


def test_ipynb_is_read_cell_by_cell_with_cell_positions():
    path = CASES / "augmented-evaluation__3__bug.ipynb"
    findings = check_script(path, filename="nb.ipynb")
    (f,) = [f for f in findings if f.category == "augmented-evaluation"]
    assert f.evidence.startswith("nb.ipynb#cell4:3: val_datagen = ImageDataGenerator(")
    # the same notebook passed as text
    same = check_script(path.read_text(), filename="nb.ipynb")
    assert [g.evidence for g in same] == [g.evidence for g in findings]


def test_a_cell_that_does_not_parse_does_not_hide_the_others():
    cells = [
        {"cell_type": "code", "source": ["print 'py2'\n"]},
        {"cell_type": "code", "source": BINARY_7.splitlines(keepends=True)},
    ]
    nb = json.dumps({"nbformat": 4, "cells": cells})
    findings = check_script(nb, filename="x.ipynb")
    assert {f.code for f in findings} == {"GL101", "GL300"}
    (f,) = [f for f in findings if f.code == "GL101"]
    assert f.evidence.startswith("x.ipynb#cell2:3: ")


def test_missing_file_is_a_user_error(tmp_path):
    with pytest.raises(DataError, match="no such script"):
        check_script(tmp_path / "nope.py")
    with pytest.raises(DataError):
        check_script("does/not/exist.ipynb")


def test_errors_come_first():
    src = BINARY_7 + "from tensorflow.keras.applications import ResNet50\n"
    src += "base = ResNet50(include_top=False, input_shape=(64, 64, 3))\n"
    findings = check_script(src)
    severities = [f.severity for f in findings]
    assert severities == sorted(severities, key=["error", "warning", "info"].index)


def test_val_acc_is_an_error_in_tf2_and_version_dependent_in_old_keras():
    body = """\
model = Sequential([Dense(3, activation='softmax', input_shape=(10,))])
model.compile(optimizer='adam', loss='categorical_crossentropy', metrics=['accuracy'])
cb = ModelCheckpoint('w.h5', monitor='val_acc', save_best_only=True)
model.fit(x, y, validation_split=0.2, callbacks=[cb])
"""
    tf2 = "from tensorflow.keras.models import Sequential\n"
    tf2 += "from tensorflow.keras.layers import Dense\n"
    tf2 += "from tensorflow.keras.callbacks import ModelCheckpoint\n"
    old = tf2.replace("tensorflow.keras", "keras")
    (a,) = [f for f in check_script(tf2 + body) if f.code == "GL105"]
    (b,) = [f for f in check_script(old + body) if f.code == "GL105"]
    assert (a.severity, b.severity) == ("error", "warning")
    assert "'val_accuracy'" in a.fix


def test_correct_monitor_names_and_metric_objects_are_accepted():
    src = """\
import tensorflow as tf
model = tf.keras.Sequential([tf.keras.layers.Dense(1, input_shape=(4,))])
model.compile(optimizer='adam', loss=tf.keras.losses.BinaryCrossentropy(from_logits=True),
              metrics=[tf.keras.metrics.AUC(name='auc'), 'accuracy'])
cbs = [tf.keras.callbacks.EarlyStopping(monitor='val_auc', mode='max'),
       tf.keras.callbacks.ModelCheckpoint('m.keras', monitor='val_accuracy')]
model.fit(x, y, validation_data=(xv, yv), callbacks=cbs)
"""
    assert check_script(src) == []


def test_sigmoid_head_on_multi_hot_labels_is_a_correct_multilabel_setup():
    src = """\
from tensorflow.keras.applications import ResNet50
from tensorflow.keras.applications.resnet50 import preprocess_input
from tensorflow.keras.preprocessing.image import ImageDataGenerator
from tensorflow.keras import layers, models
gen = ImageDataGenerator(preprocessing_function=preprocess_input)
train = gen.flow_from_dataframe(df, "img/", x_col="f", y_col="tags", target_size=(224, 224))
base = ResNet50(include_top=False, pooling="avg", input_shape=(224, 224, 3))
base.trainable = False
model = models.Sequential([base, layers.Dense(17, activation="sigmoid")])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["binary_accuracy"])
model.fit(train, epochs=10)
"""
    assert check_script(src) == []


def test_loaders_only_used_for_feature_extraction_need_no_shuffle():
    src = """\
import torch
from torch.utils.data import DataLoader
from torchvision import datasets, models
weights = models.ResNet50_Weights.DEFAULT
backbone = models.resnet50(weights=weights)
backbone.fc = torch.nn.Identity()
backbone.eval()
train_loader = DataLoader(datasets.ImageFolder("d/train", weights.transforms()), batch_size=64)

@torch.no_grad()
def extract(loader):
    return torch.cat([backbone(x) for x, _ in loader])

features = extract(train_loader)
"""
    assert check_script(src) == []


def test_missing_eval_is_found_through_the_scripts_own_functions():
    src = """\
import torch
from torchvision import models
model = models.resnet18(weights="DEFAULT")

def train_epoch(loader):
    model.train()
    for x, y in loader:
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()

def evaluate(loader):
    with torch.no_grad():
        return sum((model(x).argmax(1) == y).sum() for x, y in loader)

for epoch in range(3):
    train_epoch(train_loader)
    print(evaluate(val_loader))
"""
    (f,) = [f for f in check_script(src, filename="t.py") if f.category == "eval-mode-missing"]
    assert f.severity == "error"
    assert "t.py:13:" in f.evidence
    assert "model.eval()" in f.fix
    fixed = src.replace("    with torch.no_grad():", "    model.eval()\n    with torch.no_grad():")
    assert not [f for f in check_script(fixed) if f.category == "eval-mode-missing"]


SIGMOID_K_ACCURACY = """\
from tensorflow.keras import layers, models
model = models.Sequential([
    layers.Conv2D(32, 3, activation="relu", input_shape=(64, 64, 3)),
    layers.GlobalAveragePooling2D(),
    layers.Dense(7, activation="sigmoid"),
])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, epochs=20, validation_data=(x_val, y_val))
{after}"""


def _bce(src: str) -> list:
    return [f for f in check_script(src, filename="post.py") if f.code == "GL101"]


def test_sigmoid_units_with_accuracy_on_labels_not_shown_are_a_warning():
    (f,) = _bce(SIGMOID_K_ACCURACY.format(after=""))
    assert f.severity == "warning" and "6/7 = 85.71%" in f.title
    assert "Inferred" in f.explanation and "multi-label" in f.explanation


def test_argmax_of_the_predictions_is_cited_as_single_label_evidence():
    after = "pred = np.argmax(model.predict(x_test), axis=1)\n"
    (f,) = _bce(SIGMOID_K_ACCURACY.format(after=after))
    assert f.severity == "warning" and "post.py:9: pred = np.argmax" in f.evidence


def test_sigmoid_units_read_unit_by_unit_are_a_multilabel_setup():
    after = "tags_on = model.predict(x_test) > 0.5\n"
    assert _bce(SIGMOID_K_ACCURACY.format(after=after)) == []
    encoder = "from sklearn.preprocessing import MultiLabelBinarizer\n"
    assert _bce(encoder + SIGMOID_K_ACCURACY.format(after="")) == []
    auc = SIGMOID_K_ACCURACY.replace('metrics=["accuracy"]', 'metrics=["binary_accuracy"]')
    assert _bce(auc.format(after="")) == []
