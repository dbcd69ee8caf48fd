"""GL254: BatchNorm 'frozen' with momentum = 0 while its layers stay in training mode
(graftlab.doctor.script.bn_modes)."""

from __future__ import annotations

from graftlab.doctor.script import check_script

TRAIN = """\
import torch
import torch.nn as nn
from torchvision import models

backbone = models.resnet34(weights="IMAGENET1K_V1")
backbone.fc = nn.Linear(512, 5)
{freeze}
opt = torch.optim.SGD([p for p in backbone.parameters() if p.requires_grad], lr=1e-3)
backbone.train()
for epoch in range(10):
{per_epoch}    for images, targets in train_loader:
        opt.zero_grad()
        nn.functional.cross_entropy(backbone(images), targets).backward()
        opt.step()
backbone.eval()
"""

LOOP_FREEZE = """\
for layer in backbone.modules():
    if isinstance(layer, nn.BatchNorm2d):
        layer.momentum = 0.0
        layer.weight.requires_grad = False
        layer.bias.requires_grad = False
"""


def _gl150(src: str) -> list:
    return [f for f in check_script(src, filename="post.py") if f.code == "GL254"]


def test_momentum_zero_in_a_loop_over_batchnorm_layers_is_reported():
    (f,) = _gl150(TRAIN.format(freeze=LOOP_FREEZE, per_epoch=""))
    assert f.severity == "warning" and f.category == "batchnorm"
    assert "post.py:9: layer.momentum = 0.0" in f.evidence
    assert "post.py:14: backbone.train()" in f.evidence
    assert "backbone.train()" in f.explanation and "m.eval()" in f.fix


def test_momentum_zero_in_a_function_passed_to_apply_is_reported():
    freeze = """\
def hold_stats(m):
    if type(m).__name__ == "BatchNorm2d":
        m.momentum = 0
backbone.apply(hold_stats)
"""
    (f,) = _gl150(TRAIN.format(freeze=freeze, per_epoch=""))
    assert "m.momentum = 0" in f.evidence


def test_momentum_zero_on_a_layer_named_as_batchnorm_is_reported():
    freeze = "backbone.bn1.momentum = 0\n"
    assert len(_gl150(TRAIN.format(freeze=freeze, per_epoch=""))) == 1


def test_momentum_zero_with_the_layers_also_put_in_eval_mode_is_left_to_the_mode_rules():
    per_epoch = """\
    for layer in backbone.modules():
        if isinstance(layer, nn.BatchNorm2d):
            layer.eval()
"""
    assert _gl150(TRAIN.format(freeze=LOOP_FREEZE, per_epoch=per_epoch)) == []


def test_a_momentum_that_is_not_zero_is_silent():
    freeze = LOOP_FREEZE.replace("momentum = 0.0", "momentum = 0.01")
    assert _gl150(TRAIN.format(freeze=freeze, per_epoch="")) == []


def test_the_optimizers_momentum_set_to_zero_is_silent():
    freeze = "opt_settings.momentum = 0\n"
    assert _gl150(TRAIN.format(freeze=freeze, per_epoch="")) == []


def test_layers_that_keep_no_running_statistics_are_silent():
    freeze = LOOP_FREEZE + "        layer.track_running_stats = False\n"
    assert _gl150(TRAIN.format(freeze=freeze, per_epoch="")) == []


def test_a_script_that_never_trains_is_silent():
    src = TRAIN.format(freeze=LOOP_FREEZE, per_epoch="").split("opt = ")[0]
    assert _gl150(src + "backbone.eval()\n") == []


def test_keras_momentum_zero_is_not_this_rule():
    src = """\
from tensorflow import keras
base = keras.applications.ResNet50(include_top=False, pooling="avg")
for layer in base.layers:
    if isinstance(layer, keras.layers.BatchNormalization):
        layer.momentum = 0
model = keras.Sequential([base, keras.layers.Dense(3, activation="softmax")])
model.compile("adam", "sparse_categorical_crossentropy")
model.fit(x, y, epochs=3)
"""
    assert _gl150(src) == []
