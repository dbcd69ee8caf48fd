"""Correct code that the analyser used to call wrong (issue 11, item 3).

Each test is written from the general pattern of a correct recipe, not from a given post.
"""

from __future__ import annotations

from graftlab.doctor.script import check_script
from graftlab.doctor.script.keras_graph import role_of

KERAS_GUIDE_SHAPE = """\
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

size = (150, 150)
train_ds = train_ds.map(lambda x, y: (tf.image.resize(x, size), y))
val_ds = val_ds.map(lambda x, y: (tf.image.resize(x, size), y)).batch(32)
augment = keras.Sequential([layers.RandomFlip("horizontal"), layers.RandomRotation(0.1)])
base = keras.applications.Xception(weights="imagenet", input_shape=(150, 150, 3),
                                   include_top=False)
base.trainable = False
inputs = keras.Input(shape=(150, 150, 3))
x = augment(inputs)
scale = keras.layers.Rescaling(scale=1 / 127.5, offset=-1)
x = scale(x)
x = base(x, training=False)
x = keras.layers.GlobalAveragePooling2D()(x)
outputs = keras.layers.Dense(1)(x)
model = keras.Model(inputs, outputs)
model.compile(optimizer=keras.optimizers.Adam(),
              loss=keras.losses.BinaryCrossentropy(from_logits=True),
              metrics=[keras.metrics.BinaryAccuracy()])
model.fit(train_ds, epochs=20, validation_data=val_ds)
"""


def test_one_rescaling_layer_with_an_offset_is_one_scaling():
    findings = check_script(KERAS_GUIDE_SHAPE)
    assert not [f for f in findings if f.category == "preprocessing-mismatch"], findings


def test_two_real_scalings_are_still_reported():
    doubled = KERAS_GUIDE_SHAPE.replace(
        "x = scale(x)\n", "x = scale(x)\nx = keras.layers.Rescaling(1.0 / 255)(x)\n"
    )
    (f,) = [f for f in check_script(doubled) if f.category == "preprocessing-mismatch"]
    assert "two scalings" in f.title


def test_lambda_parameters_are_not_the_scripts_variables():
    # ``x`` inside the lambda is the image, not the module-level tensor ``x`` of the model
    plotted = KERAS_GUIDE_SHAPE.replace(
        "size = (150, 150)\n", "x = image / 255.0\nsize = (150, 150)\n"
    )
    findings = check_script(plotted)
    assert not [f for f in findings if f.category == "preprocessing-mismatch"], findings


TV_SPLITS = """\
import torch
import torchvision
from torchvision import transforms
tf = transforms.Compose([transforms.ToTensor()])
trainset = torchvision.datasets.CIFAR10(root="./data", train=True, download=True, transform=tf)
trainloader = torch.utils.data.DataLoader(trainset, batch_size=4, shuffle=True)
testset = torchvision.datasets.CIFAR10(root="./data", train=False, download=True, transform=tf)
testloader = torch.utils.data.DataLoader(testset, batch_size=4, shuffle=False)
"""


def test_builtin_datasets_split_by_flag_under_one_root_are_not_leakage():
    assert not [f for f in check_script(TV_SPLITS) if f.category == "data-leakage"]
    split = TV_SPLITS.replace("CIFAR10", "Flowers102").replace("train=True", 'split="train"')
    split = split.replace("train=False", 'split="test"')
    assert not [f for f in check_script(split) if f.category == "data-leakage"]


def test_a_test_set_read_with_the_training_flag_is_leakage():
    same = TV_SPLITS.replace("train=False", "train=True")
    (f,) = [f for f in check_script(same) if f.category == "data-leakage"]
    assert f.severity == "error"


def test_roles_are_read_from_glued_variable_names():
    assert role_of("trainloader") == "train"
    assert role_of("testset") == "test"
    assert role_of("valid_gen") == "val"
    assert role_of("X_train") == "train"
    assert role_of("contest") is None
    assert role_of("dataset") is None


def test_two_flows_from_one_helper_are_not_the_same_data():
    src = """\
from keras.preprocessing.image import ImageDataGenerator

def make_flow(folder):
    return ImageDataGenerator(rescale=1./255).flow_from_directory(folder, target_size=(224, 224))

train_flow = make_flow("data/train")
val_flow = make_flow("data/val")
model.fit(train_flow, validation_data=val_flow, epochs=5)
"""
    assert not [f for f in check_script(src) if f.category == "data-leakage"]
    same = src.replace("validation_data=val_flow", "validation_data=train_flow")
    assert [f.severity for f in check_script(same) if f.category == "data-leakage"] == ["error"]


ORDERED_EXTRACTION = """\
import numpy as np
import torch
from torch.utils.data import DataLoader
from torchvision import datasets, models
from sklearn.linear_model import LogisticRegression

model = models.resnet50(weights="DEFAULT").eval()
model.fc = torch.nn.Identity()
train_set = datasets.ImageFolder("data/train", transform=tf)


@torch.no_grad()
def embed(dataset):
    feats, labels = [], []
    for images, targets in DataLoader(dataset, batch_size=64, shuffle=False):
        feats.append(model(images).numpy())
        labels.append(targets.numpy())
    return np.concatenate(feats), np.concatenate(labels)


x_train, y_train = embed(train_set)
LogisticRegression(max_iter=1000).fit(x_train, y_train)
"""


def test_a_loader_iterated_inline_to_extract_features_may_keep_its_order():
    findings = check_script(ORDERED_EXTRACTION)
    assert not [f for f in findings if f.category == "no-shuffle"], findings


def test_a_loader_iterated_inline_by_a_training_loop_still_must_shuffle():
    trained = ORDERED_EXTRACTION.replace(
        "        feats.append(model(images).numpy())\n",
        "        loss = crit(model(images), targets)\n"
        "        loss.backward()\n"
        "        opt.step()\n",
    ).replace('"data/train", transform=tf)', '"data/train", transform=tf)\nx = embed(train_set)')
    findings = check_script(trained)
    assert [f for f in findings if f.category == "no-shuffle"], findings


def test_a_hand_resize_followed_by_the_evaluation_transform_is_not_a_size_mismatch():
    from pathlib import Path

    bug = Path(__file__).parents[1] / "cases" / "scripts" / "input-size-mismatch__7__bug.py"
    cropped = bug.read_text().replace(
        "x = torch.from_numpy(np.asarray(img, dtype=np.float32) / 255.0).permute(2, 0, 1)\n"
        "x = norm(x).unsqueeze(0)\n",
        "eval_tf = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224),\n"
        "                              transforms.ToTensor(), norm])\n"
        "x = eval_tf(img).unsqueeze(0)\n",
    )
    assert "eval_tf(img)" in cropped
    findings = check_script(cropped)
    assert not [f for f in findings if f.category == "input-size-mismatch"], findings


FLAGGED_ALTERNATIVE = """\
import numpy as np
from tensorflow import keras

x = np.load("images.npy").astype("float32")
x /= 255
USE_RAW_PIXELS = {flag}
if {test}:
    x = np.load("images.npy").astype("float32")
y = np.load("labels.npy")
model = keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(3, activation="softmax")])
model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
model.fit(x, y, epochs=5)
img = keras.utils.img_to_array(keras.utils.load_img("one.png"))[None]
img /= 255
print(model.predict(img))
"""


def _gl112(flag: str, test: str) -> list:
    src = FLAGGED_ALTERNATIVE.format(flag=flag, test=test)
    return [f for f in check_script(src, filename="post.py") if f.code == "GL112"]


def test_a_branch_the_script_never_runs_does_not_replace_the_training_preprocessing():
    # As posted, the flag is off: training sees x / 255, as prediction does.
    assert _gl112("False", "USE_RAW_PIXELS") == []
    assert _gl112("True", "not USE_RAW_PIXELS") == []
    assert _gl112("True", "False") == []


def test_a_branch_that_runs_still_counts():
    # The flag is on: training sees raw pixels, prediction x / 255, the mismatch GL112 names.
    (f,) = _gl112("True", "USE_RAW_PIXELS")
    assert f.category == "train-eval-preprocessing-mismatch"
    assert _gl112("False", "not USE_RAW_PIXELS")
