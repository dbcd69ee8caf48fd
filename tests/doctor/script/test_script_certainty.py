"""Severity states certainty (issue 11, item 3): ``error`` when the evidence is complete,
``warning`` when a link was inferred or the code allows a correct reading."""

from __future__ import annotations

from graftlab.doctor.script import check_script

KERAS_FIT = """\
from keras.applications.resnet50 import ResNet50
from keras.preprocessing.image import ImageDataGenerator
from keras.layers import Dense
from keras.models import Model
base = ResNet50(weights='imagenet', include_top=False, pooling='avg')
model = Model(base.input, Dense(2, activation='softmax')(base.output))
model.compile('adam', 'categorical_crossentropy', metrics=['accuracy'])
datagen = ImageDataGenerator()
train_generator = datagen.flow_from_directory('data/train', target_size=(224, 224))
{extra}model.fit(train_generator, epochs=5, validation_data=train_generator)
"""


def _leak(source: str):
    return [f for f in check_script(source) if f.code == "GL116"]


def test_validating_on_training_data_is_an_error_when_held_out_data_is_left_unused():
    extra = "val_generator = datagen.flow_from_directory('data/val', target_size=(224, 224))\n"
    (leak,) = _leak(KERAS_FIT.format(extra=extra))
    assert leak.severity == "error"
    assert "val_generator" in leak.evidence


def test_validating_on_training_data_with_no_held_out_data_is_a_warning():
    # a script with one data source may validate on it on purpose (comparing training-mode and
    # inference-mode numbers on the same images)
    (leak,) = _leak(KERAS_FIT.format(extra=""))
    assert leak.severity == "warning"
    assert "deliberate" in leak.explanation


FORWARD_FRAGMENT = """\
    def forward(self, x):
        x = self.classifier(self.features(x).flatten(1))
        return F.softmax(x, dim=1)

criterion = nn.CrossEntropyLoss()
for data, target in train_loader:
    loss = criterion(model(data), target)
    loss.backward()
"""


def test_a_forward_pasted_without_its_class_is_read_as_an_inferred_link():
    (f,) = [f for f in check_script(FORWARD_FRAGMENT) if f.category == "double-softmax"]
    assert f.severity == "warning"
    assert "Inferred" in f.explanation


CIFAR_TRANSFORMS = """\
import torchvision.transforms as T
from torchvision.datasets import CIFAR10
train_tf = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(), T.ToTensor(),
                      T.Normalize({train_stats})])
test_tf = T.Compose([T.ToTensor(), T.Normalize((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616))])
train_set = CIFAR10('data', train=True, transform=train_tf, download=True)
test_set = CIFAR10('data', train=False, transform=test_tf, download=True)
"""


def test_a_mean_that_is_a_std_is_one_cause_not_also_a_train_eval_mismatch():
    stats = "(0.2470, 0.2435, 0.2616), (0.2023, 0.1994, 0.2010)"
    findings = check_script(CIFAR_TRANSFORMS.format(train_stats=stats))
    codes = [f.code for f in findings if f.severity != "info"]
    assert codes == ["GL212"], findings
    assert "mean values are channel stds" in findings[0].title


def test_two_plausible_but_different_normalisations_are_still_a_train_eval_mismatch():
    stats = "(0.5, 0.5, 0.5), (0.5, 0.5, 0.5)"
    findings = check_script(CIFAR_TRANSFORMS.format(train_stats=stats))
    assert [f.code for f in findings if f.severity == "error"] == ["GL211"], findings


VGG_HEAD = """\
import numpy as np
from keras.applications.vgg16 import VGG16, preprocess_input
from keras.preprocessing import image
from keras.preprocessing.image import ImageDataGenerator
from keras.layers import Dense, Flatten, Input, Lambda
from keras.models import Model
"""


def _scalings(source: str):
    return [f for f in check_script(VGG_HEAD + source) if f.category == "preprocessing-mismatch"]


def test_one_scaling_per_branch_of_a_preprocessing_function_is_not_two_scalings():
    source = """\
def prep(x, mode='vgg'):
    if mode == 'vgg':
        return preprocess_input(x)
    return x / 255.

base = VGG16(weights='imagenet', include_top=False, input_shape=(224, 224, 3))
model = Model(base.input, Dense(3, activation='softmax')(Flatten()(base.output)))
model.compile('adam', 'categorical_crossentropy', metrics=['accuracy'])
train = ImageDataGenerator(preprocessing_function=prep).flow_from_directory('train', (224, 224))
model.fit(train, epochs=5)
"""
    assert not _scalings(source)


def test_a_later_variable_of_the_same_name_is_not_a_step_of_the_loading_function():
    source = """\
def load(path):
    img = image.load_img(path, target_size=(224, 224))
    x = image.img_to_array(img)
    return preprocess_input(np.expand_dims(x, axis=0))

base = VGG16(weights='imagenet', include_top=False, input_shape=(224, 224, 3))
model = Model(base.input, Dense(3, activation='softmax')(Flatten()(base.output)))
model.compile('adam', 'categorical_crossentropy', metrics=['accuracy'])
model.fit(np.vstack([load(p) for p in train_paths]), y, epochs=5)
for p in test_paths:
    x = image.img_to_array(image.load_img(p, target_size=(224, 224))) / 255.
    print(model.predict(x[None]))
"""
    assert not _scalings(source)
    (mismatch,) = [
        f for f in check_script(VGG_HEAD + source) if f.code == "GL112"
    ]  # one cause, one finding
    assert mismatch.severity == "error"


def test_preprocessing_given_to_the_backbone_as_its_input_tensor_is_read():
    source = """\
inp = Input((224, 224, 3))
x = Lambda(preprocess_input)(inp)
base = VGG16(weights='imagenet', include_top=False, input_tensor=x)
model = Model(inp, Dense(3, activation='softmax')(Flatten()(base.output)))
model.compile('adam', 'categorical_crossentropy', metrics=['accuracy'])
model.fit(ImageDataGenerator().flow_from_directory('train', (224, 224)), epochs=5)
"""
    assert not _scalings(source)


def test_a_head_replaced_before_the_checkpoint_is_loaded_is_filled_by_the_load():
    source = """\
import torch
import torchvision
model = torchvision.models.resnet18(pretrained=True)
model.fc = torch.nn.Linear(512, 10)
model.load_state_dict(torch.load('best.pth'))
model.eval()
with torch.no_grad():
    for images, labels in test_loader:
        print((model(images).argmax(1) == labels).float().mean())
"""
    assert not [f for f in check_script(source) if f.category == "head-mismatch"]
    after = source.replace(
        "model.fc = torch.nn.Linear(512, 10)\nmodel.load_state_dict(torch.load('best.pth'))",
        "model.load_state_dict(torch.load('best.pth'))\nmodel.fc = torch.nn.Linear(512, 10)",
    )
    assert [f.code for f in check_script(after) if f.category == "head-mismatch"] == ["GL227"]


def test_filtered_head_keys_and_strict_false_at_one_load_are_one_finding():
    source = """\
import torch
import timm
model = timm.create_model('resnet50', pretrained=True, num_classes=10)
ckpt = torch.load('last.pth')
model.load_state_dict({k: v for k, v in ckpt['model'].items() if not k.startswith('fc.')},
                      strict=False)
model.eval()
with torch.no_grad():
    out = model(x)
"""
    heads = [f for f in check_script(source) if f.category == "head-mismatch"]
    assert [f.code for f in heads] == ["GL227"], heads


def test_unfreezing_one_block_between_epochs_is_not_a_freeze_undone_before_training():
    source = """\
import torch
from torchvision import models
model = models.resnet50(pretrained=True)
for p in model.parameters():
    p.requires_grad = False
model.fc = torch.nn.Linear(2048, 10)
optimizer = torch.optim.SGD(filter(lambda p: p.requires_grad, model.parameters()), lr=0.01)
for epoch in range(20):
    if epoch == 10:
        for p in model.layer4.parameters():
            p.requires_grad = True
    for x, y in loader:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()
"""
    codes = [f.code for f in check_script(source) if f.category == "trainable-not-applied"]
    assert codes == ["GL220"]  # the optimizer misses layer4: one cause, one finding


def test_a_fragment_without_imports_is_read_by_the_framework_its_calls_belong_to():
    keras_fragment = """\
train_ds = image_dataset_from_directory('data/train', image_size=(224, 224))
val_ds = image_dataset_from_directory('data/val', image_size=(224, 224))
model.fit(train_ds, validation_data=train_ds, epochs=10)
"""
    (leak,) = [f for f in check_script(keras_fragment) if f.category == "data-leakage"]
    assert leak.severity == "error"  # val_ds exists and is left unused


def test_selected_elements_keep_the_activation_they_had():
    source = """\
import torch
import torch.nn.functional as F
for x, y, valid in loader:
    probs = torch.softmax(model(x), dim=1)
    loss = F.cross_entropy(probs[valid], y[valid])
    loss.backward()
"""
    assert "double-softmax" in {f.category for f in check_script(source)}
    logits = source.replace("torch.softmax(model(x), dim=1)", "model(x)")
    assert "double-softmax" not in {f.category for f in check_script(logits)}


BUILDER_BODY = """\
# models/net.py (end of build())
    x = tf.keras.layers.Dense(10, activation="softmax")(x)
    return tf.keras.Model(inputs, x)

# train.py
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
"""


def test_a_model_compiled_under_a_name_the_paste_never_binds_is_an_inferred_link():
    sigmoid = BUILDER_BODY.replace('"softmax"', '"sigmoid"')
    (f,) = [f for f in check_script(sigmoid) if f.category == "activation-loss-mismatch"]
    assert f.severity == "warning" and "Inferred" in f.explanation
    assert not [f for f in check_script(BUILDER_BODY) if f.severity != "info"]
