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


LIGHTNING_SHAPE = """\
import torch
import torch.nn.functional as F
import pytorch_lightning as pl
from torchvision import models

class Classifier(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.backbone = models.resnet50(pretrained=True)
        self.head = torch.nn.Linear(1000, 1)
        self.loss_func = F.binary_cross_entropy_with_logits

    def forward(self, x):
        return torch.sigmoid(self.head(self.backbone(x)))

    def loss(self, logits, labels):
        return self.loss_func(input=logits, target=labels)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return self.loss(self(x), y.float())

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_loss", self.loss(self.forward(x), y.float()))

model = Classifier()
pl.Trainer(max_epochs=3).fit(model, train_loader, val_loader)
"""


def test_methods_of_a_lightning_module_are_followed_through_self():
    found = _cats(LIGHTNING_SHAPE)
    (f,) = found["activation-loss-mismatch"]
    assert "post.py:14:" in f.evidence
    assert "eval-mode-missing" not in found  # Lightning switches modes itself
    logits = LIGHTNING_SHAPE.replace("return torch.sigmoid(self.head(", "return (self.head(")
    assert "activation-loss-mismatch" not in _cats(logits)


def test_an_evaluation_method_reached_from_another_method_is_checked():
    src = """\
import torch

class Solver:
    def __init__(self, loader):
        self.test_loader = loader

    def train(self, task_model, optimizer):
        task_model.train()
        for x, y in self.train_loader:
            torch.nn.functional.cross_entropy(task_model(x), y).backward()
            optimizer.step()
        return self.test(task_model)

    def test(self, task_model):
        correct = 0
        with torch.no_grad():
            for x, y in self.test_loader:
                correct += (task_model(x).argmax(1) == y).sum().item()
        return correct
"""
    (f,) = _cats(src)["eval-mode-missing"]
    assert "post.py:18:" in f.evidence
    fixed = src.replace("        correct = 0\n", "        task_model.eval()\n        correct = 0\n")
    assert "eval-mode-missing" not in _cats(fixed)


def test_fine_tuning_with_the_head_phases_learning_rate_is_a_warning():
    src = """\
import tensorflow as tf
base = tf.keras.models.load_model(CONFIG.PRETRAINED)
base.trainable = False
inputs = tf.keras.Input(shape=(224, 224, 3))
outputs = tf.keras.layers.Dense(1)(tf.keras.layers.GlobalAveragePooling2D()(base(inputs)))
model = tf.keras.Model(inputs, outputs)
model.compile(optimizer=tf.keras.optimizers.Nadam(learning_rate=CONFIG.LR), loss="mse")
model.fit(train_ds, epochs=10)
base.trainable = True
model.compile(optimizer=tf.keras.optimizers.Nadam(learning_rate=CONFIG.LR), loss="mse")
model.fit(train_ds, epochs=10)
"""
    (f,) = _cats(src)["learning-rate"]
    assert f.severity == "warning" and "CONFIG.LR" in f.explanation
    head, tune = src.rsplit("CONFIG.LR)", 1)
    lower = head + "CONFIG.LR / 100)" + tune
    assert "learning-rate" not in _cats(lower)


def test_a_validation_dataset_built_without_the_training_transform_is_found():
    src = """\
from torchvision import transforms
from dataloader import MyDataset
tf = transforms.Compose([transforms.RandomRotation(10), transforms.ToTensor()])
train_dataset = MyDataset(train_lines, input_shape=(224, 224), transform=tf)
val_dataset = MyDataset(val_lines, input_shape=(224, 224))
"""
    (f,) = _cats(src)["train-eval-preprocessing-mismatch"]
    assert f.severity == "warning" and "post.py:5:" in f.evidence
    given = src.replace("(224, 224))\n", "(224, 224), transform=eval_tf)\n")
    assert "train-eval-preprocessing-mismatch" not in _cats(given)


def test_detection_losses_computed_in_training_mode_are_not_an_eval_mode_error():
    src = """\
import torch
import torchvision
model = torchvision.models.detection.fasterrcnn_resnet50_fpn(pretrained=True)
optimizer = torch.optim.SGD(model.parameters(), lr=0.005)
for epoch in range(10):
    model.train()
    for images, targets in train_loader:
        loss = sum(model(images, targets).values())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        val_loss = sum(sum(model(i, t).values()) for i, t in val_loader)
"""
    assert "eval-mode-missing" not in _cats(src)


def test_validation_data_made_from_the_training_loader_is_a_warning():
    fragment = """\
train_gen = tf.data.Dataset.from_generator(make_gen(train_dataloader), output_types=types)
val_gen = tf.data.Dataset.from_generator(make_gen(train_dataloader), output_types=types)
model.fit(train_gen, epochs=10, validation_data=val_gen)
"""
    (f,) = _cats(fragment)["data-leakage"]
    assert f.severity == "warning" and "train_dataloader" in f.explanation
    held_out = fragment.replace(
        "make_gen(train_dataloader), output_types=types)\nmodel",
        "make_gen(val_dataloader), output_types=types)\nmodel",
    )
    assert "data-leakage" not in _cats(held_out)
    subset = fragment.replace(
        "val_gen = tf.data.Dataset.from_generator(make_gen(train_dataloader), output_types=types)",
        "val_gen = keras.utils.image_dataset_from_directory(train_dir, validation_split=0.2, "
        'subset="validation", seed=1)',
    )
    assert "data-leakage" not in _cats(subset)


def test_popping_the_classifier_from_model_layers_does_not_remove_it_in_tf_keras():
    src = """\
import tensorflow as tf
from tensorflow.keras.layers import Dense
from tensorflow.keras.models import Model
model = tf.keras.applications.VGG16()
model.layers.pop()
out = Dense(5, activation="softmax")(model.layers[-1].output)
new_model = Model(model.input, out)
new_model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
"""
    (f,) = _cats(src)["include-top"]
    assert (f.code, f.severity) == ("GL104", "error")
    no_top = src.replace("VGG16()", "VGG16(include_top=False, pooling='avg')")
    assert "include-top" not in _cats(no_top)


def test_predictions_from_a_shuffling_array_flow_do_not_line_up_with_the_arrays():
    fragment = """\
test_gen = ImageDataGenerator(rescale=1./255)
probs = model.predict_generator(test_gen.flow(X_test, batch_size=32), len(X_test) / 32)
acc = np.mean(np.argmax(probs, axis=1) == np.argmax(Y_test, axis=1))
"""
    (f,) = _cats(fragment)["label-order-mismatch"]
    assert f.severity == "error"
    ordered = fragment.replace("batch_size=32)", "batch_size=32, shuffle=False)")
    assert "label-order-mismatch" not in _cats(ordered)


def test_validation_arrays_that_skip_featurewise_standardisation_are_found():
    fragment = """\
datagen = ImageDataGenerator(featurewise_center=True, featurewise_std_normalization=True,
                             horizontal_flip=True)
datagen.fit(X_train)
model.fit_generator(datagen.flow(X_train, Y_train, batch_size=32), epochs=10,
                    validation_data=(X_val, Y_val))
"""
    (f,) = _cats(fragment)["train-eval-preprocessing-mismatch"]
    assert "featurewise_center" in f.explanation
    standardised = fragment.replace(
        "model.fit_generator", "X_val = datagen.standardize(X_val)\nmodel.fit_generator"
    )
    assert "train-eval-preprocessing-mismatch" not in _cats(standardised)
    rescaled = """\
datagen = ImageDataGenerator(rescale=1./255, horizontal_flip=True)
model.fit(datagen.flow(x_train, y_train), epochs=10, validation_data=(x_val, y_val))
"""
    assert "train-eval-preprocessing-mismatch" in _cats(rescaled)
    scaled = rescaled.replace("model.fit(", "x_val = x_val / 255.0\nmodel.fit(")
    assert "train-eval-preprocessing-mismatch" not in _cats(scaled)


def test_a_fragment_adding_layers_to_an_unbound_model_is_analysed():
    fragment = """\
model.add(Flatten())
model.add(Dense(256, activation="relu"))
model.add(Dense(len(class_id_index)))
model.add(Activation("softmax"))
model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
"""
    (f,) = _cats(fragment)["binary-loss-multiclass"]
    assert f.severity == "warning" and "Inferred" in f.explanation
    categorical = fragment.replace("binary_crossentropy", "categorical_crossentropy")
    assert "binary-loss-multiclass" not in _cats(categorical)


def test_files_of_one_post_are_read_as_one_program(tmp_path):
    model = tmp_path / "model.py"
    model.write_text(
        "import torch.nn as nn\nimport torch.nn.functional as F\n\n"
        "class Net(nn.Module):\n"
        "    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(8, 3)\n\n"
        "    def forward(self, x):\n        return F.softmax(self.fc(x), dim=1)\n"
    )
    train = tmp_path / "train.py"
    train.write_text(
        "import torch.nn as nn\nfrom model import Net\nnet = Net()\n"
        "crit = nn.CrossEntropyLoss()\nfor x, y in loader:\n    crit(net(x), y).backward()\n"
    )
    assert not [f for f in check_script(train) if f.category == "double-softmax"]
    (f,) = [f for f in check_script([model, train]) if f.category == "double-softmax"]
    assert f"{model}:10: return F.softmax(self.fc(x), dim=1)" in f.evidence
    assert f"{train}:6: crit(net(x), y).backward()" in f.evidence


def test_a_network_from_the_posters_own_package_is_checked_for_eval_mode():
    src = """\
import torch
import vgg
task_model = vgg.vgg16_bn(num_classes=10)
with torch.no_grad():
    for x, y in test_loader:
        preds = task_model(x)
"""
    (f,) = _cats(src)["eval-mode-missing"]
    assert f.severity == "warning"
    tokenizer = src.replace("vgg.vgg16_bn(num_classes=10)", "text.tokenizer(vocab)")
    assert "eval-mode-missing" not in _cats(tokenizer)


def test_predictions_of_a_shuffling_flow_scored_against_any_labels_are_misaligned():
    src = """\
from keras.preprocessing.image import ImageDataGenerator
from sklearn.metrics import confusion_matrix
gen = ImageDataGenerator(rescale=1./255)
test_flow = gen.flow_from_dataframe(test_df, "img/", x_col="file", y_col="label")
y_pred = model.predict(test_flow).argmax(axis=1)
print(confusion_matrix(test_df["label_id"], y_pred))
"""
    (f,) = _cats(src)["label-order-mismatch"]
    assert f.severity == "error" and "post.py:6:" in f.evidence
    ordered = src.replace('y_col="label")', 'y_col="label", shuffle=False)')
    assert "label-order-mismatch" not in _cats(ordered)


def test_eval_without_parentheses_does_not_switch_the_mode():
    src = "import torch\nmodel.eval\nwith torch.no_grad():\n    out = model(x)\n"
    (f,) = _cats(src)["eval-mode-missing"]
    assert f.severity == "error" and f.fix == "model.eval()"


def test_from_logits_on_a_softmax_output_is_softmax_applied_twice():
    src = """\
from tensorflow import keras
model = keras.Sequential([keras.layers.Dense(10, activation="softmax", input_shape=(4,))])
model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              optimizer="adam", metrics=["accuracy"])
model.fit(x, y)
"""
    (f,) = _cats(src)["double-softmax"]
    assert (f.code, f.severity) == ("GL107", "warning")


def test_a_new_head_of_the_wrong_width_is_a_head_mismatch():
    src = """\
import torch.nn as nn
from torchvision import models
model = models.resnet18(weights="DEFAULT")
model.fc = nn.Linear(2048, 10)
"""
    (f,) = _cats(src)["head-mismatch"]
    assert "2048" in f.title and "512" in f.title
    right = src.replace("nn.Linear(2048, 10)", "nn.Linear(model.fc.in_features, 10)")
    assert "head-mismatch" not in _cats(right)
    assert "head-mismatch" not in _cats(src.replace("resnet18", "resnet50"))


def test_a_fixed_training_crop_with_a_computed_evaluation_size_is_a_warning():
    src = """\
from torchvision import datasets, transforms
train_dataset = datasets.ImageFolder(traindir, transforms.Compose([
    transforms.RandomResizedCrop(224), transforms.ToTensor()]))
image_size = EfficientNet.get_image_size(args.arch)
val_transforms = transforms.Compose([
    transforms.Resize(image_size), transforms.CenterCrop(image_size), transforms.ToTensor()])
"""
    (f,) = _cats(src)["input-size-mismatch"]
    assert f.severity == "warning" and "Inferred" in f.explanation.replace("inferred", "Inferred")
    same = src.replace("RandomResizedCrop(224)", "RandomResizedCrop(image_size)")
    assert "input-size-mismatch" not in _cats(same)


def test_a_loader_subclass_over_a_training_split_without_shuffle_is_found():
    fragment = """\
dataset = omniglot("./data", meta_split="train", ways=5, shots=1)
dataloader = BatchMetaDataLoader(dataset, batch_size=16, num_workers=4)
"""
    (f,) = _cats(fragment)["no-shuffle"]
    assert f.severity == "warning"
    shuffled = fragment.replace("batch_size=16,", "batch_size=16, shuffle=True,")
    assert "no-shuffle" not in _cats(shuffled)
    test_split = fragment.replace('meta_split="train"', 'meta_split="test"')
    assert "no-shuffle" not in _cats(test_split)


def test_an_augmentation_model_that_the_trained_model_never_applies_is_found():
    src = """\
import tensorflow as tf
import matplotlib.pyplot as plt
augment = tf.keras.Sequential([tf.keras.layers.RandomFlip("horizontal"),
                               tf.keras.layers.RandomRotation(0.2)])
for images, _ in train_ds.take(1):
    plt.imshow(augment(images)[0])
base = tf.keras.applications.MobileNetV2(include_top=False, pooling="avg")
base.trainable = False
model = tf.keras.Sequential([base, tf.keras.layers.Dense(5)])
model.compile(optimizer="adam",
              loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
model.fit(train_ds, epochs=10)
"""
    (f,) = _cats(src)["augmentation-phase"]
    assert f.code == "GL115" and "augment" in f.title
    used = src.replace(
        "[base, tf.keras.layers.Dense(5)]", "[augment, base, tf.keras.layers.Dense(5)]"
    )
    assert "augmentation-phase" not in _cats(used)


def test_a_builder_class_with_static_methods_is_followed():
    src = """\
from keras.layers import Dense, Flatten, Input
from keras.models import Model

class Builder:
    @staticmethod
    def build(input_shape, num_outputs):
        inputs = Input(shape=input_shape)
        out = Dense(units=num_outputs, activation="softmax")(Flatten()(inputs))
        return Model(inputs=inputs, outputs=out)

    @staticmethod
    def build_small(input_shape, num_outputs):
        return Builder.build(input_shape, num_outputs)

model = Builder.build_small((32, 32, 3), 1)
model.compile(loss="binary_crossentropy", optimizer="sgd", metrics=["accuracy"])
"""
    (f,) = _cats(src)["single-unit-softmax"]
    assert f.severity == "error"
    assert "single-unit-softmax" not in _cats(src.replace("(32, 32, 3), 1)", "(32, 32, 3), 4)"))


def test_a_head_assigned_to_an_attribute_the_architecture_does_not_use():
    src = """\
import torch.nn as nn
from torchvision import models
model = models.resnet50(weights="IMAGENET1K_V2")
model.classifier = nn.Linear(2048, 10)
"""
    (f,) = _cats(src)["head-mismatch"]
    assert "has no `classifier`" in f.title and "model.fc" in f.fix
    assert "head-mismatch" not in _cats(src.replace("model.classifier", "model.fc"))
    vgg = src.replace("resnet50", "vgg16").replace("model.classifier", "model.fc")
    assert "has no `fc`" in _cats(vgg)["head-mismatch"][0].title


def test_softmax_twice_inside_a_keras_model_is_an_error():
    src = """\
from keras.models import Sequential
from keras.layers import Dense, Activation, Dropout
model = Sequential()
model.add(Dense(64, activation="relu", input_shape=(100,)))
model.add(Dense(10, activation="softmax"))
model.add(Dropout(0.2))
model.add(Activation("softmax"))
model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
"""
    (f,) = _cats(src)["double-softmax"]
    assert f.code == "GL106" and "post.py:5:" in f.evidence and "post.py:7:" in f.evidence
    once_only = src.replace('Dense(10, activation="softmax")', "Dense(10)")
    assert "double-softmax" not in _cats(once_only)


def test_a_test_split_read_through_an_augmenting_transform_is_found():
    src = """\
import torchvision
from torchvision import transforms
tf = transforms.Compose([transforms.RandomCrop(32, padding=4),
                         transforms.RandomHorizontalFlip(), transforms.ToTensor()])
a = torchvision.datasets.CIFAR10(root="./data", train=True, transform=tf)
b = torchvision.datasets.CIFAR10(root="./data", train=False, transform=tf)
"""
    (f,) = _cats(src)["augmented-evaluation"]
    assert "post.py:6:" in f.evidence


def test_a_validation_dataset_mapped_through_the_augmentation_is_found():
    src = """\
import tensorflow as tf
augment = tf.keras.Sequential([tf.keras.layers.RandomFlip(), tf.keras.layers.RandomZoom(0.1)])
train_ds = train_ds.map(lambda x, y: (augment(x, training=True), y))
val_ds = val_ds.map(lambda x, y: (augment(x, training=True), y))
"""
    (f,) = _cats(src)["augmented-evaluation"]
    assert "post.py:4:" in f.evidence
    only_train = src.replace(
        "val_ds = val_ds.map(lambda x, y: (augment(x, training=True), y))\n", ""
    )
    assert "augmented-evaluation" not in _cats(only_train)


def test_a_forward_pasted_without_its_class_is_read_as_the_models_head():
    fragment = """\
def __init__(self):
    super().__init__()
    self.fc = nn.Linear(512, 10)

def forward(self, x):
    return F.softmax(self.fc(x), dim=1)

criterion = nn.CrossEntropyLoss()
for x, y in train_loader:
    loss = criterion(model(x), y)
    loss.backward()
"""
    (f,) = _cats(fragment)["double-softmax"]
    assert "post.py:6:" in f.evidence
    logits = fragment.replace("return F.softmax(self.fc(x), dim=1)", "return self.fc(x)")
    assert "double-softmax" not in _cats(logits)


def test_a_definition_pasted_twice_runs_as_python_would_the_last_one_before_the_call():
    first = """\
import torch.nn as nn
import torch.nn.functional as F

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        return F.softmax(self.fc(x), dim=1)

"""
    second = first.replace("return F.softmax(self.fc(x), dim=1)", "return self.fc(x)")
    train = "net = Net()\ncrit = nn.CrossEntropyLoss()\nfor x, y in loader:\n"
    train += "    crit(net(x), y).backward()\n"
    assert "double-softmax" not in _cats(first + second + train)  # the fixed one is in force
    assert "double-softmax" in _cats(second + first + train)


def test_numbered_class_folders_read_back_as_numbers_are_a_label_order_warning():
    src = """\
import os, shutil
import pandas as pd
import torch
from torchvision import datasets, transforms
df = pd.read_csv("train.csv")
for name, label in zip(df.image, df.label):
    os.makedirs(os.path.join("data", str(label)), exist_ok=True)
    shutil.copy(os.path.join("images", name), os.path.join("data", str(label), name))
ds = datasets.ImageFolder("data", transforms.ToTensor())
loader = torch.utils.data.DataLoader(ds, batch_size=64, shuffle=True)
preds = [model(x).argmax(1) for x, _ in test_loader]
pd.DataFrame({"label": torch.cat(preds).numpy()}).to_csv("submission.csv")
"""
    (f,) = _cats(src)["label-order-mismatch"]
    assert (f.code, f.severity) == ("GL304", "warning")
    mapped = src.replace(
        "preds = [model(x).argmax(1) for x, _ in test_loader]",
        "preds = [model(x).argmax(1) for x, _ in test_loader]\n"
        "names = [int(ds.classes[i]) for i in torch.cat(preds)]",
    )
    assert "label-order-mismatch" not in _cats(mapped)


HELD_OUT_BY_SAMPLER = """\
import torch
from torchvision import datasets, transforms
tf = transforms.Compose([transforms.RandomCrop(32, padding=4), transforms.ToTensor()])
train_set = datasets.CIFAR10("data", train=True, transform=tf)
idx = torch.randperm(len(train_set))
train_loader = torch.utils.data.DataLoader(
    train_set, batch_size=64, sampler=torch.utils.data.SubsetRandomSampler(idx[5000:]))
valid_loader = torch.utils.data.DataLoader(
    train_set, batch_size=64, sampler=torch.utils.data.SubsetRandomSampler(idx[:5000]))
"""


def test_validation_held_out_by_a_sampler_is_not_leakage_but_is_augmented():
    cats = _cats(HELD_OUT_BY_SAMPLER)
    assert "data-leakage" not in cats
    (f,) = cats["augmented-evaluation"]
    assert f.severity == "warning"
    plain = HELD_OUT_BY_SAMPLER.replace("transforms.RandomCrop(32, padding=4), ", "")
    assert _cats(plain) == {}


FREEZE_THEN_ADD = """\
from keras.models import Sequential
from keras.layers import Dense
model = Sequential()
model.add(Dense(64, input_shape=(10,)))
model.add(Dense(1000, activation="softmax"))
model.load_weights("pretrained.h5")
model.pop()
for layer in model.layers:
    layer.trainable = False
model.add(Dense(2, activation="softmax"))
model.compile("adam", "categorical_crossentropy")
model.fit(x, y)
"""


def test_layers_added_after_a_freeze_loop_stay_trainable():
    assert "trainable-not-applied" not in _cats(FREEZE_THEN_ADD, ("error",))
    frozen_after = FREEZE_THEN_ADD.replace(
        "for layer in model.layers:\n    layer.trainable = False\n"
        'model.add(Dense(2, activation="softmax"))\n',
        'model.add(Dense(2, activation="softmax"))\n'
        "for layer in model.layers:\n    layer.trainable = False\n",
    )
    (f,) = _cats(frozen_after, ("error",))["trainable-not-applied"]
    assert f.code == "GL126"


def test_checkpoint_saving_every_epoch_reads_no_monitor():
    src = """\
import tensorflow as tf
model = tf.keras.Sequential([tf.keras.layers.Dense(3, activation="softmax")])
model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
ckpt = tf.keras.callbacks.ModelCheckpoint("w.{epoch:02d}.h5", monitor="val_loss")
model.fit(x, y, callbacks=[ckpt])
"""
    assert "monitor-metric-missing" not in _cats(src)
    best = src.replace('monitor="val_loss"', 'monitor="val_loss", save_best_only=True')
    (f,) = _cats(best)["monitor-metric-missing"]
    assert f.severity == "error"


def test_functions_of_another_pasted_file_called_through_their_module(tmp_path):
    model_py = tmp_path / "model.py"
    task_py = tmp_path / "task.py"
    model_py.write_text(
        "from tensorflow.keras import layers, models\n"
        "def model_fn(labels_dim):\n"
        "    model = models.Sequential()\n"
        "    model.add(layers.Dense(16, activation='relu'))\n"
        "    model.add(layers.Dense(labels_dim, activation='softmax'))\n"
        "    model.compile(loss='binary_crossentropy', optimizer='sgd')\n"
        "    return model\n"
    )
    task_py.write_text("import trainer.model as model\nm = model.model_fn(1)\nm.fit(x, y)\n")
    found = [f for f in check_script([model_py, task_py]) if f.severity == "error"]
    assert any(f.category == "single-unit-softmax" for f in found)
    task_py.write_text("import trainer.model as model\nm = model.model_fn(3)\nm.fit(x, y)\n")
    found = [f for f in check_script([model_py, task_py]) if f.severity == "error"]
    assert not any(f.category == "single-unit-softmax" for f in found)


def test_time_distributed_heads_are_read_through_the_wrapper():
    one_unit = """\
from keras.models import Sequential
from keras.layers import LSTM, Dense, TimeDistributed, Activation
model = Sequential()
model.add(LSTM(128, return_sequences=True, input_shape=(None, 50)))
model.add(TimeDistributed(Dense(1)))
model.add(Activation("softmax"))
model.compile(loss="categorical_crossentropy", optimizer="adam")
model.fit(X, Y)
"""
    cats = _cats(one_unit, ("error",))
    assert [f.code for f in cats["single-unit-softmax"]] == ["GL102"]
    assert "activation-loss-mismatch" not in cats  # one cause, one finding
    bce = """\
from keras.models import Model
from keras.layers import Input, LSTM, Dense, TimeDistributed
inp = Input((None, 40))
out = TimeDistributed(Dense(60, activation="softmax"))(LSTM(256, return_sequences=True)(inp))
model = Model(inp, out)
model.compile(optimizer="rmsprop", loss="{loss}", metrics=["accuracy"])
model.fit(X, Y)
"""
    assert "binary-loss-multiclass" in _cats(bce.format(loss="binary_crossentropy"))
    assert "binary-loss-multiclass" not in _cats(bce.format(loss="categorical_crossentropy"))
