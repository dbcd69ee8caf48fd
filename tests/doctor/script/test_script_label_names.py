"""Class names given to a prediction in another order than the labels were numbered in
(label_names: GL323 binary thresholds, GL324 literal name → index tables, GL327 names typed
for a Keras 1 flow_from_directory)."""

from __future__ import annotations

from graftlab.doctor.script import check_script


def _orders(src: str) -> list:
    return [
        f
        for f in check_script(src, filename="post.py")
        if f.category == "label-order-mismatch" and f.severity in ("error", "warning")
    ]


THRESHOLD = """\
import numpy as np
from keras.preprocessing import image
from keras.preprocessing.image import ImageDataGenerator
train_gen = ImageDataGenerator(rescale=1 / 255).flow_from_directory(
    "data/train", target_size=(150, 150), class_mode="binary"
)
model.fit(train_gen, epochs=10)
x = np.expand_dims(image.img_to_array(image.load_img("1.jpg", target_size=(150, 150))) / 255, 0)
result = model.predict(x)
if result[0][0] > 0.5:
    print("It is a cat !")
else:
    print("It is a dog !")
"""


def test_a_high_score_named_by_the_name_that_sorts_first():
    (f,) = _orders(THRESHOLD)
    assert f.code == "GL323" and f.severity == "warning"
    assert "'cat'" in f.title and "post.py:4:" in f.evidence and "post.py:10:" in f.evidence
    assert "inferred" in f.explanation
    swapped = THRESHOLD.replace("a cat", "a XX").replace("a dog", "a cat").replace("a XX", "a dog")
    assert _orders(swapped) == []
    # the same test written the other way round, and as a conditional expression
    assert _orders(THRESHOLD.replace("result[0][0] > 0.5", "0.5 >= result[0][0]")) == []
    ternary = THRESHOLD.split("if result")[0] + 'label = "cat" if result[0][0] > 0.5 else "dog"\n'
    (f,) = _orders(ternary)
    assert f.code == "GL323"


def test_pytorch_sigmoid_after_image_folder():
    src = """\
import torch
from torchvision import datasets
train_set = datasets.ImageFolder("data/train", transform=tf)
with torch.no_grad():
    p = torch.sigmoid(model(img)).item()
verdict = "malignant" if p < 0.5 else "benign"
"""
    (f,) = _orders(src)
    assert "'benign'" in f.title
    assert (
        _orders(
            src.replace('"malignant" if p < 0.5', '"benign" if p < 0.5').replace(
                'else "benign"', 'else "malignant"'
            )
        )
        == []
    )


def test_no_sorting_loader_or_no_prediction_is_silent():
    no_loader = THRESHOLD.replace(
        "ImageDataGenerator(rescale=1 / 255).flow_from_directory(", "load("
    )
    assert _orders(no_loader) == []
    named = THRESHOLD.replace('class_mode="binary"', 'class_mode="binary", classes=["dog", "cat"]')
    assert [f for f in _orders(named) if f.code == "GL323"] == []
    not_a_score = THRESHOLD.replace("if result[0][0] > 0.5", "if history.history['acc'][-1] > 0.5")
    assert _orders(not_a_score) == []


TABLE = """\
import os
import cv2
import numpy as np
from keras.utils import to_categorical
label_dict = {"normal": 0, "pneumonia": 1, "covid": 2}
X, y = [], []
for name, idx in label_dict.items():
    for f in os.listdir(os.path.join("data", name)):
        X.append(cv2.resize(cv2.imread(os.path.join("data", name, f)), (224, 224)))
        y.append(idx)
model.fit(np.array(X) / 255.0, to_categorical(y), epochs=10)
class_names = sorted(label_dict)
p = model.predict(img[None])
print(class_names[np.argmax(p)])
"""


def test_names_sorted_from_a_table_that_numbered_otherwise():
    (f,) = _orders(TABLE)
    assert f.code == "GL324" and "sorted(label_dict)" in f.explanation
    assert "post.py:5:" in f.evidence and "post.py:14:" in f.evidence
    assert _orders(TABLE.replace("sorted(label_dict)", "list(label_dict)")) == []
    inverted = TABLE.replace(
        "class_names = sorted(label_dict)", "class_names = {i: n for n, i in label_dict.items()}"
    )
    assert _orders(inverted) == []


def test_names_typed_in_another_order_than_the_table():
    typed = TABLE.replace("sorted(label_dict)", '["covid", "normal", "pneumonia"]')
    (f,) = _orders(typed)
    assert f.code == "GL324"
    same = TABLE.replace("sorted(label_dict)", '["normal", "pneumonia", "covid"]')
    assert _orders(same) == []
    # a list of the names that is never read with a prediction
    assert _orders(typed.replace("class_names[np.argmax(p)]", "class_names")) == []


KERAS1_TYPED = """\
import numpy as np
from keras.preprocessing.image import ImageDataGenerator, load_img, img_to_array
species = ["cedar", "maple", "oak", "pine"]
gen = ImageDataGenerator(rescale=1. / 255).flow_from_directory(
    "trees/train", target_size=(128, 128), class_mode="categorical")
model.fit_generator(gen, {fit_args})
x = np.expand_dims(img_to_array(load_img("leaf.jpg", target_size=(128, 128))) / 255., 0)
print(species[np.argmax(model.predict(x)[0])])
"""


def _legacy(src: str) -> list:
    return [f for f in _orders(src) if f.code == "GL327"]


def test_names_typed_for_a_keras1_folder_generator_are_a_warning():
    (f,) = _legacy(KERAS1_TYPED.format(fit_args="samples_per_epoch=2000, nb_epoch=10"))
    assert f.severity == "warning" and "Inferred" in f.explanation
    assert "post.py:3:" in f.evidence and "post.py:8:" in f.evidence


def test_names_typed_for_a_keras2_folder_generator_follow_the_sorted_folders():
    assert _legacy(KERAS1_TYPED.format(fit_args="steps_per_epoch=60, epochs=10")) == []


def test_names_taken_from_class_indices_are_correct_in_keras1_too():
    src = (
        KERAS1_TYPED.format(fit_args="samples_per_epoch=2000, nb_epoch=10")
        .replace('species = ["cedar", "maple", "oak", "pine"]\n', "")
        .replace(
            "print(species[",
            "species = {v: k for k, v in gen.class_indices.items()}\nprint(species[",
        )
    )
    assert _legacy(src) == []


SORTED_FOR_TRAINING = """\
import numpy as np
from keras.preprocessing.image import ImageDataGenerator
CLASSES = ["person", "car", "bicycle"]
gen = ImageDataGenerator(rescale=1 / 255).flow_from_directory(
    "data/train", classes=sorted(CLASSES), target_size=(224, 224)
)
model.fit(gen, epochs=3)
pred = model.predict(x)
print(CLASSES[np.argmax(pred)])
"""


def test_class_list_sorted_for_training_read_as_written_for_names():
    (f,) = _orders(SORTED_FOR_TRAINING)
    assert f.code == "GL324" and f.severity == "warning"
    assert "post.py:5:" in f.evidence and "post.py:9:" in f.evidence
    # written in sorted order: sorting changes nothing
    assert (
        _orders(
            SORTED_FOR_TRAINING.replace('"person", "car", "bicycle"', '"bicycle", "car", "person"')
        )
        == []
    )
    # the same sorted list names the predictions
    one = (
        SORTED_FOR_TRAINING.replace("classes=sorted(CLASSES)", "classes=NAMES")
        .replace("CLASSES[np", "NAMES[np")
        .replace('"bicycle"]\n', '"bicycle"]\nNAMES = sorted(CLASSES)\n')
    )
    assert _orders(one) == []
    # a sorted copy only printed numbers nothing (the loader's own sorting is GL301's)
    printed = SORTED_FOR_TRAINING.replace("classes=sorted(CLASSES), ", "").replace(
        "model.fit(", "print(sorted(CLASSES))\nmodel.fit("
    )
    assert [f.code for f in _orders(printed)] == ["GL301"]


CONFIG_TWO_FILES = """\
import json
config = json.load(open("config.json"))


def load_instances(folder, labels):
    instances = parse(folder, labels)
    return instances, sorted(labels)


train_ints, labels = load_instances("annots", config["model"]["labels"])
model = build(nb_class=len(labels))
model.fit(Generator(train_ints, labels))
infer = load_model("trained.h5")
boxes = get_boxes(infer, image)
draw_boxes(image, boxes, config["model"]["labels"], 0.5)
"""


def test_config_labels_sorted_in_training_and_as_written_for_drawn_boxes():
    (f,) = _orders(CONFIG_TWO_FILES)
    assert f.code == "GL324" and "config['model']['labels']" in f.title
    assert "post.py:7:" in f.evidence and "post.py:15:" in f.evidence
    named_sorted = CONFIG_TWO_FILES.replace(
        'draw_boxes(image, boxes, config["model"]["labels"], 0.5)',
        "draw_boxes(image, boxes, labels, 0.5)",
    )
    assert _orders(named_sorted) == []


def test_a_list_shown_beside_data_read_from_a_file_is_not_a_named_prediction():
    # np.load reads data, not a model's weights; the builtin max is not a prediction
    src = CONFIG_TWO_FILES.replace('infer = load_model("trained.h5")', 'infer = np.load("x.npy")')
    assert _orders(src) == []
    builtin = CONFIG_TWO_FILES.replace(
        "boxes = get_boxes(infer, image)", "boxes = max(len(b) for b in image)"
    )
    assert _orders(builtin) == []


NUMBERED_AS_WRITTEN = """\
import json
import numpy as np
labels = ["dog", "cat", "horse"]
class_to_idx = {c: i for i, c in enumerate(labels)}
model.fit(X, [class_to_idx[c] for c in ys])
json.dump(sorted(labels), open("labels_sorted.json", "w"))
pred = model.predict(x)
print(labels[np.argmax(pred)])
"""


def test_a_sorted_copy_beside_a_list_numbered_as_written_is_silent():
    # training numbers the list as written: the sorted copy saved or plotted numbers nothing
    assert _orders(NUMBERED_AS_WRITTEN) == []
    by_index = NUMBERED_AS_WRITTEN.replace(
        "class_to_idx = {c: i for i, c in enumerate(labels)}\n", ""
    ).replace("[class_to_idx[c] for c in ys]", "[labels.index(c) for c in ys]")
    assert _orders(by_index) == []
    loader = SORTED_FOR_TRAINING.replace("classes=sorted(CLASSES)", "classes=CLASSES").replace(
        "model.fit(", "legend = sorted(CLASSES)\nplot_legend(legend, colors)\nmodel.fit("
    )
    assert _orders(loader) == []
    # a plot's classes= only shows the names: the loader still numbers the sorted copy
    plotted = SORTED_FOR_TRAINING.replace(
        "model.fit(", "plot_confusion_matrix(cm, classes=CLASSES)\nmodel.fit("
    )
    assert [f.code for f in _orders(plotted)] == ["GL324"]
    # the mapping numbers the sorted list: the names as written are another order
    (f,) = _orders(NUMBERED_AS_WRITTEN.replace("enumerate(labels)", "enumerate(sorted(labels))"))
    assert f.code == "GL324"


def test_many_sorted_lists_handed_to_one_call_are_checked_in_linear_time():
    # every list handed to a call traced every other argument for a prediction: quadratic in
    # the arguments, 500 lists sorted elsewhere and shown by one call took this check 8 s
    import time

    from graftlab.doctor.script._rules import Ctx
    from graftlab.doctor.script.label_names import check_sorted_then_as_written
    from graftlab.doctor.script.parse import load_source

    n = 500
    lines = [f'L{i} = ["b{i}", "a{i}"]\nS{i} = sorted(L{i})' for i in range(n)]
    lines.append("show(" + ", ".join(f"L{i}" for i in range(n)) + ")")
    ctx = Ctx.build(load_source("\n".join(lines) + "\n", filename="post.py"))
    start = time.process_time()
    check_sorted_then_as_written(ctx)
    assert time.process_time() - start < 1.0  # 0.08 s measured
    assert ctx.findings == []  # nothing predicted: nothing named
    # the same call handed a prediction names every list with it
    lines[-1] = lines[-1].replace("show(", "show(model.predict(x), ")
    ctx = Ctx.build(load_source("\n".join(lines) + "\n", filename="post.py"))
    check_sorted_then_as_written(ctx)
    assert {f.code for f in ctx.findings} == {"GL324"}


def test_a_typed_list_out_of_the_loaders_order_and_sorted_elsewhere_is_one_finding():
    # the loader numbers the sorted folders and CLASSES names the predictions as typed: GL301
    # says so; GL324 on the same list (its sorted copy only sizes the model) repeated the cause
    src = SORTED_FOR_TRAINING.replace("classes=sorted(CLASSES), ", "").replace(
        "model.fit(", "names = sorted(CLASSES)\nmodel = build(len(names))\nmodel.fit("
    )
    assert [f.code for f in _orders(src)] == ["GL301"]


def test_a_model_loaded_with_torch_load_makes_predictions():
    # torch.load was listed by its dotted name but compared with the call's last name ("load")
    src = CONFIG_TWO_FILES.replace(
        'infer = load_model("trained.h5")', 'import torch\ninfer = torch.load("trained.pt")'
    )
    (f,) = _orders(src)
    assert f.code == "GL324" and "config['model']['labels']" in f.title
