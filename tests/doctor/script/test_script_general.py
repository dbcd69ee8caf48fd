"""Values reached through class attributes, config dataclasses and ``nn.Sequential(*layers)``."""

from __future__ import annotations

from graftlab.doctor.script import check_script


def _cats(src: str, category: str) -> list:
    return [
        f
        for f in check_script(src, filename="post.py")
        if f.category == category and f.severity in ("error", "warning")
    ]


KERAS_CFG = """\
from tensorflow import keras
from tensorflow.keras import layers
{cfg}
model = keras.Sequential([layers.Flatten(), layers.Dense({units}, activation="softmax")])
model.compile(optimizer="adam", loss={loss}, metrics=["accuracy"])
model.fit(x_train, y_train, epochs=5)
"""

CLASS_CFG = """\
class Config:
    NUM_CLASSES = 4
    LOSS = "{loss}"
cfg = Config()"""

DATACLASS_CFG = """\
from dataclasses import dataclass
@dataclass
class Params:
    num_classes: int = 2
    loss: str = "{loss}"
params = Params(num_classes={n})"""


def test_class_attributes_carry_the_unit_count_and_the_loss():
    bug = KERAS_CFG.format(
        cfg=CLASS_CFG.format(loss="binary_crossentropy"), units="cfg.NUM_CLASSES", loss="cfg.LOSS"
    )
    assert _cats(bug, "binary-loss-multiclass")
    direct = KERAS_CFG.format(
        cfg=CLASS_CFG.format(loss="binary_crossentropy"),
        units="Config.NUM_CLASSES",
        loss="Config.LOSS",
    )
    assert _cats(direct, "binary-loss-multiclass")
    ok = KERAS_CFG.format(
        cfg=CLASS_CFG.format(loss="categorical_crossentropy"),
        units="cfg.NUM_CLASSES",
        loss="cfg.LOSS",
    )
    assert _cats(ok, "binary-loss-multiclass") == []


def test_dataclass_keyword_overrides_the_field_default():
    def src(n: int, loss: str) -> str:
        return KERAS_CFG.format(
            cfg=DATACLASS_CFG.format(loss=loss, n=n), units="params.num_classes", loss="params.loss"
        )

    assert _cats(src(5, "binary_crossentropy"), "binary-loss-multiclass")
    assert _cats(src(1, "binary_crossentropy"), "single-unit-softmax")
    assert _cats(src(5, "categorical_crossentropy"), "binary-loss-multiclass") == []
    assert _cats(src(5, "categorical_crossentropy"), "single-unit-softmax") == []


STAR = """\
import torch.nn as nn
{build}
model = nn.Sequential(*layers)
criterion = nn.{loss}()
for x, y in loader:
    loss = criterion(model(x), y)
    loss.backward()
"""


def test_sequential_of_a_spread_list_reads_its_last_layers():
    literal = "layers = [nn.Flatten(), nn.Linear(784, 10), nn.Softmax(dim=1)]"
    appended = "layers = [nn.Flatten(), nn.Linear(784, 10)]\nlayers.append(nn.Softmax(dim=1))"
    extended = "layers = [nn.Flatten()]\nlayers.extend([nn.Linear(784, 10), nn.Softmax(dim=1)])"
    added = "body = [nn.Flatten(), nn.Linear(784, 10)]\nlayers = body + [nn.Softmax(dim=1)]"
    for build in (literal, appended, extended, added):
        assert _cats(STAR.format(build=build, loss="CrossEntropyLoss"), "double-softmax"), build
    logits = "layers = [nn.Flatten(), nn.Linear(784, 10)]"
    assert _cats(STAR.format(build=logits, loss="CrossEntropyLoss"), "double-softmax") == []
    nll = STAR.format(build=literal.replace("Softmax", "LogSoftmax"), loss="NLLLoss")
    assert _cats(nll, "double-softmax") == []


def test_spread_one_unit_softmax_head():
    one = "layers = [nn.Linear(512, 1), nn.Softmax(dim=1)]"
    assert _cats(STAR.format(build=one, loss="BCELoss"), "single-unit-softmax")
    sig = "layers = [nn.Linear(512, 1), nn.Sigmoid()]"
    assert _cats(STAR.format(build=sig, loss="BCELoss"), "single-unit-softmax") == []


def test_lightning_module_trains_its_new_head():
    src = """\
import torch, torch.nn as nn, torchvision
import pytorch_lightning as pl
class Lit(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.model = torchvision.models.resnet18(pretrained=True)
        self.model.fc = nn.Linear(512, 10)
        self.loss = nn.CrossEntropyLoss()
    def forward(self, x):
        return self.model(x)
    def training_step(self, batch, batch_idx):
        x, y = batch
        return self.loss(self(x), y)
"""
    assert _cats(src, "head-mismatch") == []
    head = src.split("    def training_step")[0]
    no_training = head + "model = Lit()\nprint(model(x).argmax(1))\n"
    assert _cats(no_training, "head-mismatch")


RELOAD = """\
import torch, torch.nn as nn, torchvision
model = torchvision.models.resnet18(pretrained=True)
model.fc = nn.Linear(512, 10)
for x, y in loader:
    loss = crit(model(x), y)
    loss.backward()
    opt.step()
torch.save(model.state_dict(), "m.pth")
net = torchvision.models.resnet18()
{reload}
net.eval()
print(net(x).argmax(1))
"""


def test_head_replaced_after_reloading_the_trained_weights():
    bug = 'net.load_state_dict(torch.load("m.pth"))\nnet.fc = nn.Linear(512, 10)'
    assert _cats(RELOAD.format(reload=bug), "head-mismatch")
    ok = 'net.fc = nn.Linear(512, 10)\nnet.load_state_dict(torch.load("m.pth"))'
    assert _cats(RELOAD.format(reload=ok), "head-mismatch") == []


def test_own_checkpoint_filtered_through_a_merged_state_dict():
    src = """\
import torch, torchvision
model = torchvision.models.resnet18(num_classes=5)
pretrained = torch.load("{path}")
model_dict = model.state_dict()
pretrained = {{k: v for k, v in pretrained.items() if "fc" not in k}}
model_dict.update(pretrained)
model.load_state_dict(model_dict)
model.eval()
print(model(x).argmax(1))
"""
    assert _cats(src.format(path="best_model.pth"), "head-mismatch")
    assert _cats(src.format(path="imagenet_resnet18.pth"), "head-mismatch") == []


SCRATCH = """\
import torch, torchvision
from torchvision import datasets
train = datasets.ImageFolder("data/train", transform=tf)
loader = torch.utils.data.DataLoader(train, batch_size=32, shuffle=True)
model = torchvision.models.{ctor}
for x, y in loader:
    loss = torch.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
"""

FASTAI = """\
from fastai.vision.all import *
dls = ImageDataLoaders.from_folder(path, valid="val", item_tfms=Resize(224))
learn = Learner(dls, {net}, loss_func=CrossEntropyLossFlat(), metrics=accuracy)
learn.fit_one_cycle(5, 3e-3)
"""


def test_network_built_with_its_default_1000_outputs():
    assert _cats(SCRATCH.format(ctor="resnet18()"), "head-mismatch")
    assert _cats(SCRATCH.format(ctor="resnet18(num_classes=5)"), "head-mismatch") == []
    assert _cats(FASTAI.format(net="xresnet50()"), "head-mismatch")
    assert _cats(FASTAI.format(net="xresnet50(n_out=dls.c)"), "head-mismatch") == []
    vision = FASTAI.replace("Learner(dls, {net},", "vision_learner(dls, resnet34,")
    assert _cats(vision, "head-mismatch") == []


TRAINER = """\
import torch
class Trainer:
    def __init__(self, phi, opt, train_loader, val_loader):
        self.phi = phi
        self.opt = opt
        self.train_loader = train_loader
        self.val_loader = val_loader
    def train(self, epochs):
        for epoch in range(epochs):
            for x, y in self.train_loader:
                self.opt.zero_grad()
                loss = torch.nn.functional.cross_entropy(self.phi(x), y)
                loss.backward()
                self.opt.step()
            self.get_metric_eval()
    def get_metric_eval(self):
{switch}        correct = 0
        with torch.no_grad():
            for x, y in self.val_loader:
                correct += (self.phi(x).argmax(1) == y).sum().item()
        print(correct)
"""


def test_network_known_by_what_feeds_the_loss_is_checked_for_eval_mode():
    found = _cats(TRAINER.format(switch=""), "eval-mode-missing")
    assert found and found[0].severity == "warning"
    ok = TRAINER.format(switch="        self.phi.eval()\n")
    assert _cats(ok, "eval-mode-missing") == []


GEN = """\
import numpy as np
from tensorflow import keras
def augment(img):
    if np.random.rand() > 0.5:
        img = img[:, ::-1]
    return img
def identity(img):
    return img
def batch_generator(X, y, bs, transform):
    while True:
        idx = np.random.randint(0, len(X), bs)
        yield np.stack([transform(X[i]) for i in idx]), y[idx]
train_gen = batch_generator(X_train, y_train, 32, augment)
valid_gen = batch_generator(X_valid, y_valid, 32, {val})
model.fit(train_gen, steps_per_epoch=100, validation_data=valid_gen, validation_steps=10)
"""

SEQ = """\
import numpy as np
from tensorflow import keras
def jitter(img):
    return img * np.random.uniform(0.8, 1.2)
class Batches(keras.utils.Sequence):
    def __init__(self, X, y, transform=None):
        self.X, self.y, self.transform = X, y, transform
    def __len__(self):
        return len(self.X) // 32
    def __getitem__(self, i):
        xs = self.X[i * 32 : (i + 1) * 32]
        if self.transform is not None:
            xs = np.stack([self.transform(x) for x in xs])
        return xs, self.y[i * 32 : (i + 1) * 32]
model.fit(Batches(X_train, y_train, jitter), validation_data=Batches(X_val, y_val{val}))
"""


def test_augmentation_passed_into_the_validation_generator():
    assert _cats(GEN.format(val="augment"), "augmented-evaluation")
    assert _cats(
        GEN.format(val="transform=augment").replace("bs, transform", "bs, transform=None"),
        "augmented-evaluation",
    )
    assert _cats(GEN.format(val="identity"), "augmented-evaluation") == []
    assert _cats(SEQ.format(val=", transform=jitter"), "augmented-evaluation")
    assert _cats(SEQ.format(val=""), "augmented-evaluation") == []


LEARNER = """\
from fastai.vision.all import *
import torch.nn.functional as F
class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(512, 10)
    def forward(self, x):
        return {ret}
learn = Learner(dls, nn.Sequential(body, Head()), loss_func={loss}, metrics=accuracy)
learn.fit_one_cycle(5)
"""


def test_fastai_learner_loss_meets_the_model_head():
    soft = "F.softmax(self.fc(x), dim=1)"
    for loss in ("CrossEntropyLossFlat()", "nn.CrossEntropyLoss()", "F.cross_entropy"):
        assert _cats(LEARNER.format(ret=soft, loss=loss), "double-softmax"), loss
    assert (
        _cats(LEARNER.format(ret="self.fc(x)", loss="CrossEntropyLossFlat()"), "double-softmax")
        == []
    )
    nll = LEARNER.format(ret="F.log_softmax(self.fc(x), dim=1)", loss="CrossEntropyLossFlat()")
    assert _cats(nll, "double-softmax") == []


INJECTED = """\
import torch
import torch.nn as nn
class Seg(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(16, 4, 1)
        self.act = nn.Sigmoid()
    def forward(self, x):
        x = self.conv(x)
{mode}        return x
class Runner:
    def __init__(self, net, criterion):
        self.net = net
        self.criterion = criterion
    def step(self, x, y):
        return self.criterion(self.net(x), y)
    def validate(self, loader):
        self.net.eval()
        with torch.no_grad():
            return [self.step(x, y).item() for x, y in loader]
"""


def test_eval_only_activation_before_an_injected_criterion():
    eval_only = "        if not self.training:\n            x = self.act(x)\n"
    (f,) = _cats(INJECTED.format(mode=eval_only), "double-softmax")
    assert f.severity == "warning" and "inferred" in f.explanation
    assert _cats(INJECTED.format(mode=""), "double-softmax") == []


HELPER = """\
import torch, torch.nn as nn, torch.nn.functional as F, torchvision
model = torchvision.models.resnet18(pretrained=True)
model.fc = nn.Linear(512, 3)
def {name}(model, x):
    return model(x)
for epoch in range(5):
    for x, y in loader:
        out = {name}(model, x)
        loss = F.cross_entropy(out, y)
        loss.backward()
        opt.step()
    {after}
"""


def test_helper_inside_the_training_step_is_not_evaluation():
    src = HELPER.format(name="classify", after="pass")
    assert _cats(src, "eval-mode-missing") == []
    full_batch = "val_acc = (evaluate(model, X_val).argmax(1) == y_val).float().mean()"
    src = HELPER.format(name="classify", after=full_batch).replace(
        "for epoch", "def evaluate(model, x):\n    return model(x)\nfor epoch"
    )
    assert _cats(src, "eval-mode-missing")


SPLITS = """\
import os
import torchvision.transforms as T
from torchvision import datasets
data_transforms = {{
    "train": T.Compose([T.RandomResizedCrop(224), T.RandomHorizontalFlip(), T.ToTensor()]),
    "val": T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor()]),
}}
image_datasets = {{
    x: datasets.ImageFolder(os.path.join(data_dir, x), {tf}) for x in ["train", "val"]
}}
"""


def test_one_transform_for_every_split_of_a_comprehension():
    assert _cats(SPLITS.format(tf='data_transforms["train"]'), "augmented-evaluation")
    assert _cats(SPLITS.format(tf='transform=data_transforms["train"]'), "augmented-evaluation")
    assert _cats(SPLITS.format(tf="data_transforms[x]"), "augmented-evaluation") == []
    assert _cats(SPLITS.format(tf='data_transforms["val"]'), "augmented-evaluation") == []


ADDED = """\
import torch, torch.nn as nn, torchvision
model = torchvision.models.vgg16(pretrained=True)
model.classifier[6] = nn.Linear(4096, 5)
model.classifier.add_module("7", nn.{layer})
criterion = nn.{loss}()
for x, y in loader:
    loss = criterion(model(x), y)
    loss.backward()
"""


def test_activation_added_to_a_torchvision_classifier():
    assert _cats(ADDED.format(layer="Softmax(dim=1)", loss="CrossEntropyLoss"), "double-softmax")
    logsm = ADDED.format(layer="LogSoftmax(dim=1)", loss="NLLLoss")
    assert _cats(logsm, "double-softmax") == []
    drop = ADDED.format(layer="Dropout(0.2)", loss="CrossEntropyLoss")
    assert _cats(drop, "double-softmax") == []


PHASES = """\
import torch, torchvision
model = torchvision.models.resnet18(pretrained=True)
model.fc = torch.nn.Linear(512, 3)
for epoch in range(3):
    for phase in ["train", "val"]:
{switch}        for x, y in dataloaders[phase]:
            with torch.set_grad_enabled(phase == "train"):
                out = model(x)
                loss = crit(out, y)
                if phase == "train":
                    loss.backward()
                    opt.step()
"""


def test_phase_loop_without_mode_switch():
    (f,) = _cats(PHASES.format(switch=""), "eval-mode-missing")
    assert f.severity == "error" and "'val' phase" in f.title
    both = (
        '        if phase == "train":\n            model.train()\n'
        "        else:\n            model.eval()\n"
    )
    flag = '        model.train(phase == "train")\n'
    for switch in (both, flag):
        found = [
            f
            for f in check_script(PHASES.format(switch=switch), filename="post.py")
            if f.category == "eval-mode-missing"
        ]
        assert found == [], switch
