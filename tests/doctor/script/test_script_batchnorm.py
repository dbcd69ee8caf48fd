"""BatchNorm in the wrong mode (bn_rules, keras_train GL127)."""

from __future__ import annotations

import pytest

from graftlab.doctor.script import check_script


def _bn(src: str) -> list:
    return [
        f
        for f in check_script(src, filename="post.py")
        if f.category == "batchnorm" and f.severity in ("error", "warning")
    ]


BATCH1 = """\
import argparse
import torch
import torch.nn as nn
from torchvision import models
p = argparse.ArgumentParser()
p.add_argument("--batch-size", type=int, default={bs})
args = p.parse_args()
model = models.mobilenet_v2(weights="DEFAULT")
loader = torch.utils.data.DataLoader(train_set, batch_size=args.batch_size, shuffle=True)
opt = torch.optim.Adam(model.parameters(), 1e-4)
model.train()
for x, y in loader:
    opt.zero_grad()
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
"""


def test_batchnorm_trained_with_batches_of_one_via_an_option_default():
    (f,) = _bn(BATCH1.format(bs=1))
    assert f.code == "GL228" and "post.py:9:" in f.evidence
    assert _bn(BATCH1.format(bs=32)) == []
    handled = BATCH1.format(bs=1).replace(
        "model.train()\n",
        "model.train()\nfor m in model.modules():\n    if isinstance(m, nn.BatchNorm2d):\n"
        "        m.eval()\n",
    )
    assert _bn(handled) == []


def test_batch_of_one_for_evaluation_only_is_silent():
    src = """\
import torch
from torchvision import models
model = models.resnet18(weights="DEFAULT").eval()
test_loader = torch.utils.data.DataLoader(test_set, batch_size=1)
with torch.no_grad():
    for x, y in test_loader:
        print(model(x).argmax(1))
"""
    assert _bn(src) == []


OLD_KERAS = """\
from keras.applications.resnet50 import ResNet50, preprocess_input
from keras.layers import Dense, GlobalAveragePooling2D
from keras.models import Model
base = ResNet50(weights="imagenet", include_top=False)
for layer in base.layers:
    layer.trainable = False
x = GlobalAveragePooling2D()(base.output)
model = Model(base.input, Dense(3, activation="softmax")(x))
model.compile("adam", "categorical_crossentropy")
model.fit(x_train, y_train)
"""


def test_frozen_bn_under_standalone_keras_2():
    (f,) = _bn(OLD_KERAS)
    assert f.code == "GL127" and f.severity == "warning"
    tf2 = OLD_KERAS.replace("from keras.", "from tensorflow.keras.")
    assert _bn(tf2) == []


@pytest.mark.parametrize(
    "line",
    [
        "x = base(inputs, training=True)",
        "x = layers.BatchNormalization()(x, training=True)",
    ],
)
def test_training_true_forced(line):
    src = f"""\
from tensorflow import keras
from tensorflow.keras import layers
base = keras.applications.ResNet50(include_top=False, weights="imagenet")
inputs = keras.Input((224, 224, 3))
x = inputs
{line}
"""
    (f,) = _bn(src)
    assert f.code == "GL128" and "training=True" in f.title
    assert _bn(src.replace("training=True", "training=False")) == []


def test_monte_carlo_dropout_is_not_batchnorm():
    src = """\
from tensorflow import keras
from tensorflow.keras import layers
x = layers.Dropout(0.5)(x, training=True)
"""
    assert _bn(src) == []


def test_set_learning_phase_with_a_bn_backbone():
    src = """\
from keras import backend as K
from keras.applications.resnet50 import ResNet50
from keras.models import load_model
K.set_learning_phase(0)
model = load_model("finetuned.h5")
base = ResNet50(weights="imagenet")
"""
    (f,) = _bn(src)
    assert f.code == "GL128" and "learning phase" in f.title
    assert _bn(src.replace("ResNet50", "VGG16")) == []  # no BatchNorm layers at all


def test_training_true_in_a_batchnorm_subclass_and_not_on_augmentation():
    src = """\
from tensorflow import keras
class FrozenBN(keras.layers.BatchNormalization):
    def call(self, x, training=None):
        return super().call(x, training=True)
"""
    (f,) = _bn(src)
    assert "post.py:4:" in f.evidence
    aug = """\
import tensorflow as tf
augment = tf.keras.Sequential([tf.keras.layers.RandomFlip("horizontal")])
train_ds = train_ds.map(lambda x, y: (augment(x, training=True), y))
base = tf.keras.applications.ResNet50(include_top=False)
"""
    assert _bn(aug) == []


def test_bn_subclass_with_a_flag_that_ignores_the_mode():
    src = """\
import keras
class BatchNorm(keras.layers.BatchNormalization):
    def __init__(self, freeze, **kwargs):
        self.freeze = freeze
        super().__init__(**kwargs)
    def call(self, inputs, training=None):
        return super().call(inputs, training={flag})
"""
    assert _bn(src.format(flag="not self.freeze"))
    assert _bn(src.format(flag="training and not self.freeze")) == []
    assert _bn(src.format(flag="False")) == []


def test_frozen_loaded_backbone_in_train_mode_is_noted():
    src = """\
import torch
model = get_encoder()
model.load_state_dict(torch.load("ssl.pth"), strict=False)
for name, p in model.named_parameters():
    if "fc" not in name:
        p.requires_grad = False
opt = torch.optim.SGD(model.fc.parameters(), lr=0.1)
model.train()
for x, y in loader:
    opt.zero_grad()
    torch.nn.functional.cross_entropy(model(x), y).backward()
    opt.step()
"""
    notes = [f for f in check_script(src) if f.code == "GL222"]
    assert len(notes) == 1 and notes[0].severity == "info"
    assert "Inferred" in notes[0].explanation
    handled = src.replace("model.train()\n", "model.eval()\n")
    assert [f for f in check_script(handled) if f.code == "GL222"] == []


def test_training_true_in_a_custom_training_step_is_correct():
    src = """\
import tensorflow as tf
model = tf.keras.applications.ResNet50(weights=None, classes=10)
opt = tf.keras.optimizers.Adam()
for x, y in train_ds:
    with tf.GradientTape() as tape:
        loss = loss_fn(y, model(x, training=True))
    opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables),
                            model.trainable_variables))
"""
    assert _bn(src) == []
    step = """\
import tensorflow as tf
model = tf.keras.applications.ResNet50(weights=None, classes=10)
def train_step(x, y):
    return loss_fn(y, model(x, training=True))
"""
    assert _bn(step) == []


def test_detection_models_freeze_their_batchnorm():
    src = BATCH1.format(bs=1).replace(
        'models.mobilenet_v2(weights="DEFAULT")',
        'models.detection.fasterrcnn_resnet50_fpn(weights="DEFAULT")',
    )
    assert _bn(src) == []


FREEZE_ONCE = """\
import torch
import torch.nn as nn
from torchvision import models


class Net(nn.Module):
    def __init__(self, num_classes, freeze_bn=False):
        super().__init__()
        self.backbone = models.resnet50(weights="IMAGENET1K_V2")
        self.backbone.fc = nn.Linear(2048, num_classes)
        if freeze_bn:
            self.freeze_bn()

    def forward(self, x):
        return self.backbone(x)

    def freeze_bn(self):
        for m in self.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.eval()
{extra}

net = Net(5, freeze_bn=True)
opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
for epoch in range(30):
    net.train()
{refreeze}    for x, y in train_loader:
        loss = nn.functional.cross_entropy(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    net.eval()
    evaluate(net, val_loader)
"""


def _undone(src: str) -> list:
    return [f for f in _bn(src) if f.code == "GL243"]


def test_batchnorm_frozen_in_the_constructor_is_undone_by_each_epochs_train():
    (f,) = _undone(FREEZE_ONCE.format(extra="", refreeze=""))
    assert f.severity == "warning" and "net.train()" in f.title
    assert "post.py:20: m.eval()" in f.evidence and "post.py:26: net.train()" in f.evidence


def test_batchnorm_frozen_again_after_train_is_correct():
    assert _undone(FREEZE_ONCE.format(extra="", refreeze="    net.freeze_bn()\n")) == []


def test_a_model_whose_train_refreezes_batchnorm_is_correct():
    override = """\

    def train(self, mode=True):
        super().train(mode)
        if mode:
            self.freeze_bn()
        return self
"""
    assert _undone(FREEZE_ONCE.format(extra=override, refreeze="")) == []


def test_batchnorm_frozen_with_apply_before_the_loop_is_undone_too():
    src = """\
import torch
import torch.nn as nn
from torchvision import models


def set_bn_eval(m):
    if isinstance(m, nn.modules.batchnorm._BatchNorm):
        m.eval()


model = models.resnet18(weights="DEFAULT")
model.apply(set_bn_eval)
opt = torch.optim.Adam(model.parameters(), 1e-4)
for epoch in range(10):
    model.train()
    for x, y in loader:
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
"""
    (f,) = _undone(src)
    assert "post.py:12:" in f.evidence
    fixed = src.replace("    model.train()\n", "    model.train()\n    model.apply(set_bn_eval)\n")
    assert _undone(fixed) == []
    never = src.replace("model.apply(set_bn_eval)\n", "")
    assert _undone(never) == []


def test_train_after_validation_is_refrozen_before_the_next_training_step():
    src = FREEZE_ONCE.format(extra="", refreeze="    net.freeze_bn()\n").replace(
        "    evaluate(net, val_loader)\n", "    evaluate(net, val_loader)\n    net.train()\n"
    )
    assert _undone(src) == []


LINEAR_EVAL = '''\
"""Linear evaluation: a linear classifier trained on the frozen self-supervised encoder."""
import torch
from torchvision import models
model = models.resnet50()
model.load_state_dict(torch.load("ssl_encoder.pth"), strict=False)
for name, p in model.named_parameters():
    if not name.startswith("fc."):
        p.requires_grad = False
opt = torch.optim.SGD(model.fc.parameters(), lr=30.0, momentum=0.9)
model.{mode}()
for x, y in loader:
    opt.zero_grad()
    torch.nn.functional.cross_entropy(model(x), y).backward()
    opt.step()
'''


def test_a_linear_evaluation_in_train_mode_lets_the_frozen_statistics_drift():
    (f,) = [f for f in _bn(LINEAR_EVAL.format(mode="train")) if f.code == "GL222"]
    assert f.severity == "warning" and "'Linear evaluation', line 1" in f.explanation


def test_a_linear_evaluation_in_eval_mode_is_the_protocol():
    assert _bn(LINEAR_EVAL.format(mode="eval")) == []


FORWARD_ONLY = """\
import torch
import torch.nn as nn
from torchvision.models import resnet50
enc = resnet50(pretrained=True)
enc.fc = nn.Linear(2048, 64)
for p in enc.parameters():
    p.requires_grad = False
enc.train()
for step in range(10):
    with torch.no_grad():
        a = enc(batch)
    print(step, a.mean().item())
"""


def test_a_frozen_backbone_only_run_forward_in_train_mode_is_a_warning():
    (f,) = [f for f in check_script(FORWARD_ONLY) if f.code == "GL222"]
    assert f.severity == "warning" and "is run in model.train() mode" in f.title
    assert "update no weight" in f.explanation
    # the same passes with a training step after them: the usual recipe, a note
    trained = FORWARD_ONLY.replace(
        "    print(step, a.mean().item())\n",
        "    loss = head(a).sum()\n    loss.backward()\n    opt.step()\n",
    )
    (f,) = [f for f in check_script(trained) if f.code == "GL222"]
    assert f.severity == "info"
    # in eval mode the statistics stay as they were
    assert [
        f
        for f in check_script(FORWARD_ONLY.replace("enc.train()", "enc.eval()"))
        if f.code == "GL222"
    ] == []
