"""Several targets in one diagnosis (graftlab.doctor.targets): the scripts of one post are one
program, the logs are read after them, and a log that says nothing does not hide the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from graftlab.doctor import targets as tg
from graftlab.doctor.targets import diagnose
from graftlab.errors import DataError

TORCH_MODEL = """\
import torch.nn as nn
import torch.nn.functional as F
from torchvision import models


class Net(nn.Module):
    def __init__(self, n_classes):
        super().__init__()
        self.backbone = models.resnet18(weights="IMAGENET1K_V1")
        self.backbone.fc = nn.Linear(512, n_classes)

    def forward(self, x):
        return {out}
"""
TORCH_TRAIN = """\
import torch
import torch.nn as nn
from model import Net

model = Net(10)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
for x, y in loader:
    optimizer.zero_grad()
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
"""
KERAS_MODEL = """\
from tensorflow import keras


def build(n):
    base = keras.applications.MobileNetV2(include_top=False, weights="imagenet", pooling="avg")
    out = keras.layers.Dense(n, activation="softmax")(base.output)
    return keras.Model(base.input, out)
"""
KERAS_TRAIN = """\
from kmodel import build

model = build(7)
model.compile(optimizer="adam", loss="{loss}", metrics=["accuracy"])
model.fit(train_ds, validation_data=val_ds, epochs=10)
"""
KERAS_LOG = """\
Epoch 1/3
  1/100 [..............................] - ETA: 5:02 - loss: 0.6931 - accuracy: 0.8571
  2/100 [..............................] - ETA: 2:40 - loss: 0.6922 - accuracy: 0.8571
100/100 [==============================] - 12s 120ms/step - loss: 0.4012 - accuracy: 0.9120
Epoch 2/3
100/100 [==============================] - 11s 110ms/step - loss: 0.3120 - accuracy: 0.9430
Epoch 3/3
100/100 [==============================] - 11s 110ms/step - loss: 0.2410 - accuracy: 0.9580
"""


def _write(tmp_path: Path, **files: str) -> list[Path]:
    out = []
    for name, text in files.items():
        path = tmp_path / name.replace("_py", ".py").replace("_log", ".log")
        path.write_text(text)
        out.append(path)
    return out


def _codes(pairs) -> dict[str, tuple[str, str]]:
    return {f.code: (Path(t).name, f.severity) for t, f in pairs}


def test_a_torch_model_defined_in_one_file_and_trained_in_another_is_one_program(tmp_path):
    model, train = _write(
        tmp_path, model_py=TORCH_MODEL.format(out="F.softmax(self.backbone(x), dim=1)"),
        train_py=TORCH_TRAIN,
    )  # fmt: skip
    together = [f for _, f in diagnose([model, train]) if f.category == "double-softmax"]
    assert len(together) == 1
    assert "model.py:13" in together[0].evidence and "train.py:10" in together[0].evidence
    # Each file alone shows half of the cause.
    assert not [f for _, f in diagnose([train]) if f.category == "double-softmax"]
    assert not [f for _, f in diagnose([model]) if f.category == "double-softmax"]


def test_the_correct_two_file_program_stays_silent_on_that_cause(tmp_path):
    files = _write(
        tmp_path, model_py=TORCH_MODEL.format(out="self.backbone(x)"), train_py=TORCH_TRAIN
    )
    assert not [f for _, f in diagnose(files) if f.category == "double-softmax"]


def test_a_cause_whose_evidence_spans_files_is_a_warning_that_says_the_link_was_inferred(tmp_path):
    files = _write(
        tmp_path, kmodel_py=KERAS_MODEL, ktrain_py=KERAS_TRAIN.format(loss="binary_crossentropy")
    )
    (target, bce), *_ = [(t, f) for t, f in diagnose(files) if f.code == "GL101"]
    assert Path(target).name == "kmodel.py"  # the file its evidence starts in
    assert bce.severity == "warning"
    assert "kmodel.py" in bce.explanation and "ktrain.py" in bce.explanation
    assert "inferred" in bce.explanation
    fixed = _write(tmp_path, ktrain_py=KERAS_TRAIN.format(loss="categorical_crossentropy"))
    assert "GL101" not in _codes(diagnose([files[0], *fixed]))


def test_the_log_confirms_the_two_file_program_and_is_read_after_it(tmp_path):
    files = _write(
        tmp_path, kmodel_py=KERAS_MODEL, ktrain_py=KERAS_TRAIN.format(loss="binary_crossentropy"),
        run_log=KERAS_LOG,
    )  # fmt: skip
    pairs = diagnose(files)
    same = [f for _, f in pairs if f.category == "binary-loss-multiclass"]
    assert len(same) == 1
    assert "kmodel.py:" in same[0].evidence and "in " + str(files[2]) in same[0].evidence
    # Each part inferred one link (the program across files; K from the accuracy 6/7): the
    # merged finding is as certain as its most certain part, not more.
    assert same[0].severity == "warning"


@pytest.mark.parametrize(
    "log_text",
    [
        "Traceback (most recent call last):\n  File 'train.py', line 5\nKeyboardInterrupt\n",
        "predictions written to out.csv\n",
    ],
)
def test_a_log_without_epochs_becomes_a_note_and_the_script_findings_stand(tmp_path, log_text):
    files = _write(
        tmp_path, model_py=TORCH_MODEL.format(out="F.softmax(self.backbone(x), dim=1)"),
        train_py=TORCH_TRAIN, output_log=log_text,
    )  # fmt: skip
    pairs = diagnose(files)
    codes = _codes(pairs)
    assert codes["GL420"] == ("output.log", "info")
    assert any(f.category == "double-softmax" for _, f in pairs)
    with pytest.raises(DataError, match=r"output\.log"):
        diagnose([files[2]])  # alone, it is an input error


def test_a_log_reader_failure_among_several_targets_is_a_note_not_a_crash(tmp_path, monkeypatch):
    files = _write(
        tmp_path, model_py=TORCH_MODEL.format(out="F.softmax(self.backbone(x), dim=1)"),
        train_py=TORCH_TRAIN, run_log=KERAS_LOG,
    )  # fmt: skip

    def broken(text, framework):
        raise IndexError("list index out of range")

    monkeypatch.setattr(tg, "_log", broken)
    pairs = diagnose(files)
    note = [f for t, f in pairs if f.code == "GL420"]
    assert len(note) == 1 and "IndexError" in note[0].evidence
    assert any(f.category == "double-softmax" for _, f in pairs)


def test_a_lone_script_keeps_its_error_severity(tmp_path):
    (one,) = _write(
        tmp_path,
        one_py=KERAS_MODEL
        + "\n"
        + KERAS_TRAIN.format(loss="binary_crossentropy").split("\n", 1)[1],
    )
    (f,) = [f for _, f in diagnose([one]) if f.code == "GL101"]
    assert f.severity == "error"


def _export(path: Path, values: list[float], start: int = 0) -> Path:
    rows = "".join(f"1.7e9,{start + i},{v}\n" for i, v in enumerate(values))
    path.write_text("Wall time,Step,Value\n" + rows)
    return path


def test_tensorboard_exports_of_one_run_are_joined_by_step_into_one_table(tmp_path):
    train = _export(tmp_path / "run-train-tag-epoch_accuracy.csv", [0.45, 0.58, 0.69, 0.77])
    val = _export(tmp_path / "run-validation-tag-epoch_accuracy.csv", [0.0, 0.0, 0.0, 0.0])
    pairs = diagnose([train, val])
    (target, f), *_ = [(t, f) for t, f in pairs if f.category == "no-shuffle"]
    assert target == f"{train} + {val}"
    assert "acc 0.7700" in f.evidence and "val_acc 0.0000" in f.evidence
    # Each export alone is one curve: the rule needs both, so alone it says nothing of it.
    for one in (train, val):
        assert not [f for _, f in diagnose([one]) if f.category == "no-shuffle"]


def test_joined_exports_keep_their_phases_and_a_healthy_run_stays_quiet(tmp_path):
    from graftlab.doctor._logmerge import merge_exports
    from graftlab.doctor._logparse import parse_log

    loss = _export(tmp_path / "run-train-tag-epoch_loss.csv", [1.2, 0.9, 0.7, 0.6, 0.5])
    val = _export(tmp_path / "run-validation-tag-epoch_accuracy.csv", [0.5, 0.6, 0.7, 0.72, 0.74])
    merged = merge_exports([(p, parse_log(p)) for p in (loss, val)])
    assert [(r.epoch, sorted(r.values)) for r in merged.rows][:2] == [
        (0, ["train_loss", "val_accuracy"]),
        (1, ["train_loss", "val_accuracy"]),
    ]
    assert merged.framework == "keras" and merged.lines[0].startswith("TensorBoard exports")
    assert not [f for _, f in diagnose([loss, val]) if f.severity != "info"]


def test_a_script_cause_and_a_log_finding_naming_it_as_likely_cause_are_one_finding():
    from graftlab.doctor.combine import merge_targets
    from graftlab.doctor.findings import Finding

    lr = Finding("GL224", "learning-rate", "warning", "one lr", "train.py:9: SGD(lr=0.1)", "w", "x")
    boom = Finding(
        "GL408", "divergence", "error", "loss explodes", "line 12 | loss 2645", "w", "x",
        causes=["learning-rate"],
    )  # fmt: skip
    other = Finding("GL412", "overfitting", "warning", "overfit", "line 30", "w", "x")
    pairs = merge_targets([("train.py", [lr]), ("train.log", [boom, other])])
    assert [(t, f.code, f.severity) for t, f in pairs] == [
        ("train.log", "GL408", "error"),
        ("train.log", "GL412", "warning"),
    ]
    merged = pairs[0][1]
    assert merged.causes == ["learning-rate"]
    assert "Also GL224 in train.py" in merged.evidence and "SGD(lr=0.1)" in merged.evidence


def test_a_likely_cause_must_be_a_known_category_other_than_the_finding_s_own():
    from graftlab.doctor.findings import Finding

    with pytest.raises(ValueError, match="likely cause"):
        Finding("GL408", "divergence", "error", "t", "e", "w", "x", causes=["divergence"])
    with pytest.raises(ValueError, match="likely cause"):
        Finding("GL408", "divergence", "error", "t", "e", "w", "x", causes=["lr"])


def test_scripts_without_findings_and_a_log_without_epochs_is_a_note_not_an_input_error(tmp_path):
    script = tmp_path / "train.py"
    script.write_text("import numpy as np\n\nprint(np.arange(3))\n")
    helper = tmp_path / "utils.py"
    helper.write_text("def load():\n    return 1\n")
    notes = tmp_path / "output.txt"
    notes.write_text("Found 3 classes: ['1', '10', '2']\npredicted class 10\n")
    pairs = diagnose([script, helper, notes])
    assert [(Path(t).name, f.code) for t, f in pairs] == [("output.txt", "GL420")]


def test_a_traceback_in_a_log_is_not_read_as_a_paste_of_code(tmp_path):
    log = tmp_path / "train.log"
    log.write_text(
        "Epoch 1/3\n10/10 - 1s - loss: 0.9 - accuracy: 0.6\n"
        "Traceback (most recent call last):\n"
        '  File "train.py", line 40, in <module>\n    trainer.fit(model, dm)\n'
        '  File "trainer.py", line 544, in fit\n    results = self._run_stage()\n'
        "KeyError: 'val_acc'\n"
    )
    assert not tg._is_code(log, log.read_text())
    paste = tmp_path / "paste.txt"
    paste.write_text("import torch\nmodel = torch.nn.Linear(2, 2)\nmodel.train()\n")
    assert tg._is_code(paste, paste.read_text())


def test_an_error_whose_own_evidence_says_inferred_is_reported_as_a_warning():
    from graftlab.doctor.combine import merge_findings
    from graftlab.doctor.findings import Finding

    guessed = Finding("GL999", "head-mismatch", "error", "t", "a.py:3: x\ninferred: y", "w", "x")
    seen = Finding(
        "GL407", "divergence", "error", "nan", "line 3 | loss nan\nlikely cause (inferred): lr",
        "w", "x", causes=["learning-rate"],
    )  # fmt: skip
    assert [(f.code, f.severity) for f in merge_findings([guessed, seen])] == [
        ("GL407", "error"),
        ("GL999", "warning"),
    ]


def test_a_walked_folder_reads_the_scripts_of_one_directory_as_one_program(tmp_path):
    from graftlab.doctor.targets import PROGRAM_MAX_FILES, scan

    pkg = tmp_path / "pkg"
    pkg.mkdir()
    _write(pkg, model_py=TORCH_MODEL.format(out="F.softmax(self.backbone(x), dim=1)"),
           train_py=TORCH_TRAIN)  # fmt: skip
    (pkg / "run.log").write_text("predictions written\n")
    results = {p.name: r for p, r in scan(tmp_path)}
    assert any(f.category == "double-softmax" for f in results["model.py"])
    assert isinstance(results["run.log"], str)  # a log without epochs is skipped, as before
    # many unrelated example scripts in one folder are checked one by one
    many = tmp_path / "examples"
    many.mkdir()
    (many / "a_model.py").write_text(TORCH_MODEL.format(out="F.softmax(self.backbone(x), 1)"))
    for i in range(PROGRAM_MAX_FILES):
        (many / f"b{i}_train.py").write_text(TORCH_TRAIN)
    found = [f for p, r in scan(many) if not isinstance(r, str) for f in r]
    assert not [f for f in found if f.category == "double-softmax"]


def test_an_empty_export_among_tensorboard_exports_is_a_note(tmp_path):
    train = _export(tmp_path / "run-train-tag-epoch_accuracy.csv", [0.45, 0.58, 0.69, 0.77])
    val = _export(tmp_path / "run-validation-tag-epoch_accuracy.csv", [0.0, 0.0, 0.0, 0.0])
    empty = tmp_path / "run-train-tag-epoch_loss.csv"
    empty.write_text("Wall time,Step,Value\n")
    pairs = diagnose([train, val, empty])
    assert any(f.category == "no-shuffle" for _, f in pairs)
    assert [Path(t).name for t, f in pairs if f.code == "GL420"] == [empty.name]


NAN_LOG = "".join(
    f"Epoch {i}/30\n390/390 - 41s - loss: nan - accuracy: 0.1000 - val_loss: nan - "
    "val_accuracy: 0.1000\n"
    for i in range(1, 5)
)
SCRATCH_CNN = """\
from tensorflow import keras

def train(model, x, y, epochs=30):
    base_lr = {lr}
    opt = keras.optimizers.SGD(learning_rate=base_lr, momentum=0.9)
    model.compile(optimizer=opt, loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=epochs, validation_split=0.1, verbose=2)
"""


def _nan_with_script(tmp_path, lr):
    (tmp_path / "train.py").write_text(SCRATCH_CNN.format(lr=lr))
    (tmp_path / "train.log").write_text(NAN_LOG)
    [f] = [f for _, f in diagnose([tmp_path / "train.py", tmp_path / "train.log"])]
    return f


def test_a_diverging_log_names_the_high_rate_its_script_sets_as_the_likely_cause(tmp_path):
    f = _nan_with_script(tmp_path, "0.1")
    assert (f.code, f.category, f.severity, f.causes) == (
        "GL407", "divergence", "error", ["learning-rate"]
    )  # fmt: skip
    assert "train.py:5: opt = keras.optimizers.SGD(learning_rate=base_lr" in f.evidence
    assert "(lr = 0.1: base_lr)" in f.evidence
    alone = [f for _, f in diagnose([tmp_path / "train.log"])]
    assert [(f.code, f.causes) for f in alone] == [("GL407", [])]  # no script, no rate to cite


def test_a_low_rate_in_the_script_is_quoted_but_not_blamed(tmp_path):
    f = _nan_with_script(tmp_path, "1e-4")
    assert (f.code, f.causes) == ("GL407", [])
    assert "(lr = 0.0001: base_lr)" in f.evidence and "inputs not scaled" in f.evidence
    g = _nan_with_script(tmp_path, "args.lr")  # a command-line option: no number to judge
    assert (g.code, g.causes) == ("GL407", []) and "(lr = base_lr)" in g.evidence


def test_torch_parameter_groups_are_judged_by_their_own_rates(tmp_path):
    from graftlab.doctor.script.rates import high, optimizer_rates

    script = tmp_path / "ft.py"
    script.write_text(
        "import torch\n"
        "groups = [{'params': model.backbone.parameters(), 'lr': 1e-5},\n"
        "          {'params': model.fc.parameters(), 'lr': 1e-4}]\n"
        "opt = torch.optim.AdamW(groups, lr=1e-2)\n"
    )
    [rate] = optimizer_rates([script])
    assert (rate.optimizer, rate.lr, rate.text, high(rate)) == (
        "adamw", 1e-4, "per parameter group", False
    )  # fmt: skip


def test_rates_are_read_from_fragments_without_their_imports(tmp_path):
    from graftlab.doctor.script.rates import high, optimizer_rates

    script = tmp_path / "frag.py"
    script.write_text(
        "opt = optimizers.SGD(lr=0.2, momentum=0.9)\n"
        "optimizer = optim.Adam(net.parameters(), 3e-4)\n"
        "model.compile(optimizer=opt, loss='categorical_crossentropy')\n"
    )
    got = [(r.optimizer, r.lr, high(r)) for r in optimizer_rates([script])]
    assert got == [("sgd", 0.2, True), ("adam", 3e-4, False)]


_CHANCE_LOG = """\
Found 1000 images belonging to 10 classes.
Epoch 1/3
32/32 - 13s - loss: 1.7310 - accuracy: 0.5667 - val_loss: 2.4090 - val_accuracy: 0.1060
Epoch 2/3
32/32 - 7s - loss: 0.8611 - accuracy: 0.8780 - val_loss: 2.7274 - val_accuracy: 0.1060
Epoch 3/3
32/32 - 9s - loss: 0.5186 - accuracy: 0.9293 - val_loss: 2.1276 - val_accuracy: 0.1140
"""
_KERAS_FIT = """\
from tensorflow import keras
from tensorflow.keras.applications import {net}
from tensorflow.keras.preprocessing.image import ImageDataGenerator

gen = ImageDataGenerator(rescale=1.0 / 255)
train = gen.flow_from_directory("data/train", target_size=(224, 224))
val = {val}.flow_from_directory("data/val", target_size=(224, 224))
base = {net}(weights="imagenet", include_top=False, input_shape=(224, 224, 3))
base.trainable = False
model = keras.Sequential([base, keras.layers.Flatten(), keras.layers.Dense(10, "softmax")])
model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
model.fit(train, validation_data=val, epochs=3)
"""


def _chance(tmp_path, net, val="gen"):
    script, log = tmp_path / "train.py", tmp_path / "train.log"
    script.write_text(_KERAS_FIT.format(net=net, val=val))
    log.write_text(_CHANCE_LOG)
    return [f for t, f in diagnose([script, log]) if t == str(log) or "GL44" in f.evidence]


def test_a_script_without_batchnorm_rules_it_out_of_validation_at_chance(tmp_path):
    [f] = _chance(tmp_path, "VGG16")
    assert (f.code, f.category, f.severity) == ("GL442", "train-eval-preprocessing-mismatch",
                                                "warning")  # fmt: skip
    assert "batchnorm" not in f.causes and "no BatchNorm ('VGG16'" in f.evidence
    # The same log with a BatchNorm backbone fed 1/255 instead of its 'caffe' preprocessing: the
    # script's preprocessing finding takes the gap as its symptom, BatchNorm next.
    _chance(tmp_path, "ResNet50")
    found = diagnose([tmp_path / "train.py", tmp_path / "train.log"])
    [f] = [f for _, f in found if "ranked (" in f.evidence]
    assert (f.code, f.category) == ("GL110", "preprocessing-mismatch")
    assert f.causes[0] == "batchnorm" and "has BatchNorm ('ResNet50')" in f.evidence


def test_a_cause_the_script_shows_ranks_first_and_is_one_finding_with_the_log(tmp_path):
    [f] = _chance(tmp_path, "ResNet50", val="ImageDataGenerator()")
    assert f.category == "train-eval-preprocessing-mismatch"
    assert "Also GL442 in" in f.evidence and "the script analyser reports" in f.evidence
