"""Causes the analyser used to miss on code as people post it (issue 11, items 1-2).

Each test is written from the general pattern (a fragment, a loaded model, two phases pasted
one after the other), not copied from a post.
"""

from __future__ import annotations

from graftlab.doctor.script import check_script


def _cats(src: str, severities=("error", "warning")) -> dict[str, list]:
    out: dict[str, list] = {}
    for f in check_script(src, filename="post.py"):
        if f.severity in severities:
            out.setdefault(f.category, []).append(f)
    return out


DOUBLE_SOFTMAX_THROUGH_PARAMETERS = """\
import torch
import torch.nn as nn
import torch.nn.functional as F

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(512, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        return F.softmax(self.fc2(x))

def train(model, loader, criterion, optimizer):
    for inputs, labels in loader:
        optimizer.zero_grad()
        loss = criterion(model(inputs), labels)
        loss.backward()
        optimizer.step()

def validate(model, loader, criterion):
    model.eval()
    with torch.no_grad():
        return sum(criterion(model(x), y).item() for x, y in loader)

net = Net()
crit = nn.CrossEntropyLoss()
opt = torch.optim.SGD(net.parameters(), lr=0.01)
for epoch in range(10):
    net.train()
    train(net, trainloader, crit, opt)
    validate(net, valloader, crit)
"""


def test_double_softmax_is_followed_through_function_parameters_and_said_once():
    (f,) = _cats(DOUBLE_SOFTMAX_THROUGH_PARAMETERS)["double-softmax"]
    assert f.severity == "error"
    assert "post.py:13:" in f.evidence


LOADED_EVAL = """\
import torch
model = torch.load("model.pth")
correct = total = 0
with torch.no_grad():
    for images, labels in test_loader:
        outputs = model(images)
        correct += (outputs.argmax(1) == labels).sum().item()
        total += labels.size(0)
print(correct / total)
"""


def test_a_loaded_model_evaluated_without_eval_is_a_warning_that_says_why():
    (f,) = _cats(LOADED_EVAL)["eval-mode-missing"]
    assert f.severity == "warning"
    assert "torch.load" in f.explanation
    fixed = LOADED_EVAL.replace('model.pth")\n', 'model.pth")\nmodel.eval()\n')
    assert "eval-mode-missing" not in _cats(fixed)


def test_a_state_dict_from_torch_load_is_not_a_model():
    src = "import torch\nstate = torch.load('w.pth')\nnet.load_state_dict(state)\n"
    assert not _cats(src)


def test_an_evaluation_function_posted_alone_is_checked_on_its_parameter():
    fragment = """\
def test(model, test_loader):
    correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            pred = model(data).argmax(dim=1)
            correct += pred.eq(target).sum().item()
    return correct
"""
    (f,) = _cats(fragment)["eval-mode-missing"]
    assert f.severity == "warning" and "Inferred" in f.explanation
    with_eval = fragment.replace("    correct = 0\n", "    model.eval()\n    correct = 0\n")
    assert "eval-mode-missing" not in _cats(with_eval)


def test_unfreezing_in_a_fragment_with_no_compile_after_it_is_a_warning():
    fragment = """\
for layer in model.layers[:249]:
    layer.trainable = False
for layer in model.layers[249:]:
    layer.trainable = True
"""
    (f,) = _cats(fragment)["trainable-not-applied"]
    assert f.severity == "warning" and "post.py:4:" in f.evidence
    recompiled = (
        fragment + "model.compile(optimizer=SGD(lr=1e-4), loss='categorical_crossentropy')\n"
    )
    assert "trainable-not-applied" not in _cats(recompiled)


TWO_PHASES = """\
from keras.models import Sequential
from keras.layers import Flatten, Dense, GlobalAveragePooling2D
from keras import applications

top_weights = "bottleneck_fc_model.h5"
head = Sequential()
head.add(Flatten(input_shape=(8, 8, 2048)))
head.add(Dense(256, activation="relu"))
head.add(Dense(1, activation="sigmoid"))
head.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
head.fit(train_data, train_labels, epochs=50)
head.save_weights(top_weights)

top_weights = "fc_model.h5"
base = applications.InceptionV3(weights="imagenet", include_top=False)
top = Sequential()
top.add(GlobalAveragePooling2D(input_shape=base.output_shape[1:]))
top.add(Dense(256, activation="relu"))
top.add(Dense(1, activation="sigmoid"))
top.load_weights(top_weights)
"""


def test_a_head_saved_under_one_name_and_loaded_from_another_is_a_head_mismatch():
    (f,) = _cats(TWO_PHASES)["head-mismatch"]
    assert f.severity == "warning"
    assert "'bottleneck_fc_model.h5'" in f.title and "'fc_model.h5'" in f.title
    assert "GlobalAveragePooling2D" in f.explanation  # the heads differ too
    same_file = TWO_PHASES.replace('top_weights = "fc_model.h5"\n', "")
    assert [f.severity for f in _cats(same_file)["head-mismatch"]] == ["error"]


def test_loading_weights_the_script_never_saves_anything_is_not_a_finding():
    only_load = TWO_PHASES.replace("head.save_weights(top_weights)\n", "")
    assert "head-mismatch" not in _cats(only_load)


FEATURE_PHASES = """\
from tensorflow import keras
from tensorflow.keras import layers

conv_base = keras.applications.VGG16(weights="imagenet", include_top=False)
conv_base.trainable = False
inputs = keras.Input(shape=(180, 180, 3))
x = keras.applications.vgg16.preprocess_input(inputs)
x = layers.Flatten()(conv_base(x))
outputs = layers.Dense(1, activation="sigmoid")(x)
model = keras.Model(inputs, outputs)
model.compile(loss="binary_crossentropy", optimizer="rmsprop", metrics=["accuracy"])
model.fit(train_ds, epochs=50, validation_data=val_ds)
for layer in conv_base.layers[:-4]:
    layer.trainable = False
model.compile(loss="binary_crossentropy", optimizer=keras.optimizers.RMSprop(1e-5),
              metrics=["accuracy"])
model.fit(train_ds, epochs=30, validation_data=val_ds)
"""


def test_refreezing_the_lower_layers_of_a_frozen_base_unfreezes_nothing():
    (f,) = _cats(FEATURE_PHASES)["trainable-not-applied"]
    assert f.code == "GL121"
    fixed = FEATURE_PHASES.replace(
        "for layer in conv_base.layers[:-4]:",
        "conv_base.trainable = True\nfor layer in conv_base.layers[:-4]:",
    )
    assert "trainable-not-applied" not in _cats(fixed)


def test_freezing_every_layer_of_the_compiled_model_trains_nothing():
    src = """\
from keras.applications import InceptionV3
from keras.layers import Dense, GlobalAveragePooling2D
from keras.models import Model

def get_model():
    base = InceptionV3(weights="imagenet", include_top=False)
    x = GlobalAveragePooling2D()(base.output)
    return Model(inputs=base.input, outputs=Dense(5, activation="softmax")(x))

def freeze(net):
    for layer in net.layers:
        layer.trainable = False
    net.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    return net

net = freeze(get_model())
net.fit(train_gen, epochs=10)
"""
    (f,) = _cats(src)["trainable-not-applied"]
    assert (f.code, f.severity) == ("GL126", "error")
    base_only = src.replace("for layer in net.layers:", "for layer in net.layers[:-2]:")
    assert "trainable-not-applied" not in _cats(base_only)


def test_assigning_out_features_does_not_replace_the_head():
    src = "import torchvision\nnet = torchvision.models.resnet18(pretrained=True)\n"
    src += "net.fc.out_features = 200\n"
    (f,) = _cats(src)["head-mismatch"]
    assert (f.code, f.severity) == ("GL226", "error")
    assert "nn.Linear(net.fc.in_features" in f.fix


def test_a_test_generator_reading_the_validation_folder_is_leakage():
    src = """\
from keras.preprocessing.image import ImageDataGenerator
gen = ImageDataGenerator(rescale=1./255)
train_generator = gen.flow_from_directory(train_dir, target_size=(150, 150))
validation_generator = gen.flow_from_directory(validation_dir, target_size=(150, 150))
model.fit(train_generator, validation_data=validation_generator, epochs=30)
test_generator = gen.flow_from_directory(validation_dir, target_size=(150, 150))
model.evaluate(test_generator)
"""
    (f,) = _cats(src)["data-leakage"]
    assert f.code == "GL116" and "post.py:6:" in f.evidence
    own = src.replace(
        "flow_from_directory(validation_dir, target_size=(150, 150))\nmodel.eval",
        "flow_from_directory(test_dir, target_size=(150, 150))\nmodel.eval",
    )
    assert "data-leakage" not in _cats(own)


def test_ordered_feature_extraction_from_a_function_called_twice_is_not_a_shuffle_error():
    src = """\
from keras.preprocessing.image import ImageDataGenerator
from keras.applications import ResNet50, VGG16
from keras.layers import GlobalAveragePooling2D
from keras.models import Model

def export(net_fn):
    base = net_fn(weights="imagenet", include_top=False)
    extractor = Model(base.input, GlobalAveragePooling2D()(base.output))
    train_flow = ImageDataGenerator().flow_from_directory("train", shuffle=False)
    feats = extractor.predict_generator(train_flow)
    return feats, train_flow.classes

export(ResNet50)
export(VGG16)
"""
    assert "no-shuffle" not in _cats(src)


def test_a_pretrained_model_from_any_library_is_evaluated_on_a_test_split():
    src = """\
import torch
from torchvision import datasets, transforms
from model import resnet18
net = resnet18(pretrained=True).cuda()
ds = datasets.CIFAR10(root=".", train=False, transform=transforms.ToTensor())
loader = torch.utils.data.DataLoader(ds, batch_size=10)
for img, label in loader:
    pred = net(img.cuda()).argmax(1)
"""
    assert "eval-mode-missing" in _cats(src)
    assert "eval-mode-missing" not in _cats(src.replace(".cuda()\n", ".cuda().eval()\n", 1))


KERAS_HEAD = """\
import numpy as np
import tensorflow as tf
from tensorflow.keras.preprocessing.image import ImageDataGenerator
from tensorflow.keras.preprocessing import image
base = tf.keras.applications.MobileNetV2(include_top=False, input_shape=(160, 160, 3))
base.trainable = False
inputs = tf.keras.Input(shape=(160, 160, 3))
x = tf.keras.applications.mobilenet_v2.preprocess_input(inputs)
x = tf.keras.layers.GlobalAveragePooling2D()(base(x, training=False))
head = tf.keras.layers.Dense(1, activation="sigmoid")
model = tf.keras.Model(inputs, head(x))
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
gen = ImageDataGenerator().flow_from_directory("data/train", target_size=(160, 160),
                                               class_mode="binary")
model.fit(gen, epochs=5)
"""


def test_applying_the_models_own_sigmoid_again_to_predictions_is_an_error():
    src = KERAS_HEAD + "p = model.predict_on_batch(batch).flatten()\np = tf.nn.sigmoid(p)\n"
    (f,) = _cats(src)["double-softmax"]
    assert (f.code, f.severity) == ("GL106", "error")
    logits = src.replace('Dense(1, activation="sigmoid")', "Dense(1)")
    assert "double-softmax" not in _cats(logits)


def test_an_image_loaded_for_prediction_at_another_size_is_an_input_size_error():
    src = KERAS_HEAD + (
        "img = image.load_img(path, target_size=(300, 300))\n"
        "x = np.expand_dims(image.img_to_array(img), 0)\n"
        "print(model.predict(x))\n"
    )
    (f,) = _cats(src)["input-size-mismatch"]
    assert "300x300" in f.title and "160x160" in f.title
    same = src.replace("(300, 300)", "(160, 160)")
    assert "input-size-mismatch" not in _cats(same)


def test_scaling_inside_a_tf_data_helper_reached_through_partial_is_seen():
    src = """\
from functools import partial
import tensorflow as tf

def decode(raw):
    image = tf.image.decode_jpeg(raw, channels=3)
    return tf.cast(image, tf.float32) / 255.0

def read(example, labeled):
    return decode(example["image"]), example["target"]

ds = tf.data.TFRecordDataset(files).map(partial(read, labeled=True)).batch(32)
base = tf.keras.applications.Xception(include_top=False, weights="imagenet",
                                      input_shape=(299, 299, 3))
inputs = tf.keras.layers.Input([299, 299, 3])
x = tf.keras.layers.GlobalAveragePooling2D()(base(inputs))
model = tf.keras.Model(inputs, tf.keras.layers.Dense(1, activation="sigmoid")(x))
model.compile(optimizer="adam", loss="binary_crossentropy")
model.fit(ds, epochs=2)
"""
    (f,) = _cats(src)["preprocessing-mismatch"]
    assert "'unit'" in f.title
