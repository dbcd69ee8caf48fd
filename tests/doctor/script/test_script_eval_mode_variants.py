"""Evaluation in training mode written the ways people write it (GL230): each shape with its
correct twin (eval() called, or train(False)), which must stay silent."""

from __future__ import annotations

import pytest
from _torch_setup import TORCH_SETUP

from graftlab.doctor.script import check_script

SETUP = TORCH_SETUP

LOADED = """\
import torch, torch.nn as nn
from torchvision import models, transforms
tf = transforms.ToTensor()
"""

VARIANTS = {
    # eval() once before the epoch loop, train() at the top of every epoch, validation after it
    "eval-once-before-the-loop": (
        SETUP,
        """\
model.eval()
for epoch in range(10):
    model.train()
    for x, y in train_loader:
        opt.zero_grad(); loss = crit(model(x), y); loss.backward(); opt.step()
    correct = 0
    with torch.no_grad():
        for x, y in val_loader:
            correct += (model(x).argmax(1) == y).sum().item()
    print(epoch, correct / len(val_ds))
""",
        """\
for epoch in range(10):
    model.train()
    for x, y in train_loader:
        opt.zero_grad(); loss = crit(model(x), y); loss.backward(); opt.step()
    model.eval()
    correct = 0
    with torch.no_grad():
        for x, y in val_loader:
            correct += (model(x).argmax(1) == y).sum().item()
    print(epoch, correct / len(val_ds))
""",
    ),
    # a Trainer class whose validate() method runs self.net without eval()
    "trainer-class-method": (
        SETUP,
        """\
class Trainer:
    def __init__(self, net, train_dl, val_dl):
        self.net = net
        self.train_dl = train_dl
        self.val_dl = val_dl
        self.opt = torch.optim.Adam(net.parameters(), lr=1e-4)
    def train_epoch(self):
        self.net.train()
        for x, y in self.train_dl:
            self.opt.zero_grad(); l = crit(self.net(x), y); l.backward(); self.opt.step()
    def validate(self):
        hits = 0
        with torch.no_grad():
            for x, y in self.val_dl:
                hits += (self.net(x).argmax(1) == y).sum().item()
        return hits
t = Trainer(model, train_loader, val_loader)
for epoch in range(5):
    t.train_epoch()
    print(t.validate())
""",
        """\
class Trainer:
    def __init__(self, net, train_dl, val_dl):
        self.net = net
        self.train_dl = train_dl
        self.val_dl = val_dl
        self.opt = torch.optim.Adam(net.parameters(), lr=1e-4)
    def train_epoch(self):
        self.net.train()
        for x, y in self.train_dl:
            self.opt.zero_grad(); l = crit(self.net(x), y); l.backward(); self.opt.step()
    def validate(self):
        self.net.eval()
        hits = 0
        with torch.no_grad():
            for x, y in self.val_dl:
                hits += (self.net(x).argmax(1) == y).sum().item()
        return hits
t = Trainer(model, train_loader, val_loader)
for epoch in range(5):
    t.train_epoch()
    print(t.validate())
""",
    ),
    # an evaluate(net, loader) helper under inference_mode, called after train_one() set train()
    "helper-with-the-model-as-a-parameter": (
        SETUP,
        """\
def train_one(net, loader):
    net.train()
    for x, y in loader:
        opt.zero_grad(); loss = crit(net(x), y); loss.backward(); opt.step()
def evaluate(net, loader):
    right = 0
    with torch.inference_mode():
        for x, y in loader:
            right += (net(x).argmax(dim=1) == y).sum().item()
    return right / len(loader.dataset)
for epoch in range(10):
    train_one(model, train_loader)
    print(evaluate(model, val_loader))
""",
        """\
def train_one(net, loader):
    net.train()
    for x, y in loader:
        opt.zero_grad(); loss = crit(net(x), y); loss.backward(); opt.step()
def evaluate(net, loader):
    net.eval()
    right = 0
    with torch.inference_mode():
        for x, y in loader:
            right += (net(x).argmax(dim=1) == y).sum().item()
    return right / len(loader.dataset)
for epoch in range(10):
    train_one(model, train_loader)
    print(evaluate(model, val_loader))
""",
    ),
    # model.train(mode=True) where model.train(False) was meant
    "train-with-a-keyword-flag": (
        SETUP,
        """\
for epoch in range(10):
    model.train(True)
    for x, y in train_loader:
        opt.zero_grad(); loss = crit(model(x), y); loss.backward(); opt.step()
    model.train(mode=True)
    with torch.no_grad():
        accs = [(model(x).argmax(1) == y).float().mean() for x, y in val_loader]
""",
        """\
for epoch in range(10):
    model.train(True)
    for x, y in train_loader:
        opt.zero_grad(); loss = crit(model(x), y); loss.backward(); opt.step()
    model.train(False)
    with torch.no_grad():
        accs = [(model(x).argmax(1) == y).float().mean() for x, y in val_loader]
""",
    ),
    # the phase loop calling model.train() for the 'val' phase too
    "phase-loop": (
        SETUP,
        """\
loaders = {"train": train_loader, "val": val_loader}
for epoch in range(10):
    for phase in ["train", "val"]:
        model.train()
        for x, y in loaders[phase]:
            opt.zero_grad()
            with torch.set_grad_enabled(phase == "train"):
                out = model(x)
                loss = crit(out, y)
                if phase == "train":
                    loss.backward(); opt.step()
""",
        """\
loaders = {"train": train_loader, "val": val_loader}
for epoch in range(10):
    for phase in ["train", "val"]:
        model.train(phase == "train")
        for x, y in loaders[phase]:
            opt.zero_grad()
            with torch.set_grad_enabled(phase == "train"):
                out = model(x)
                loss = crit(out, y)
                if phase == "train":
                    loss.backward(); opt.step()
""",
    ),
    # test predictions in a list comprehension after training
    "test-predictions-in-a-comprehension": (
        SETUP,
        """\
for epoch in range(3):
    for x, y in train_loader:
        opt.zero_grad(); loss = crit(model(x), y); loss.backward(); opt.step()
test_loader = DataLoader(datasets.ImageFolder("data/test", tf), batch_size=64)
with torch.no_grad():
    preds = torch.cat([model(x).argmax(1) for x, _ in test_loader])
""",
        """\
for epoch in range(3):
    for x, y in train_loader:
        opt.zero_grad(); loss = crit(model(x), y); loss.backward(); opt.step()
test_loader = DataLoader(datasets.ImageFolder("data/test", tf), batch_size=64)
model.eval()
with torch.no_grad():
    preds = torch.cat([model(x).argmax(1) for x, _ in test_loader])
""",
    ),
    # a prediction script that loads a state dict and never calls eval()
    "prediction-script": (
        LOADED,
        """\
from PIL import Image
net = models.resnet18()
net.fc = nn.Linear(512, 3)
net.load_state_dict(torch.load("best.pth", map_location="cpu"))
img = tf(Image.open("cat.jpg").convert("RGB")).unsqueeze(0)
with torch.no_grad():
    probs = torch.softmax(net(img), dim=1)
print(probs)
""",
        """\
from PIL import Image
net = models.resnet18()
net.fc = nn.Linear(512, 3)
net.load_state_dict(torch.load("best.pth", map_location="cpu"))
net.eval()
img = tf(Image.open("cat.jpg").convert("RGB")).unsqueeze(0)
with torch.no_grad():
    probs = torch.softmax(net(img), dim=1)
print(probs)
""",
    ),
    # a wrapper class whose predict() runs self.model loaded from weights
    "wrapper-class-predict": (
        LOADED,
        """\
class Classifier:
    def __init__(self, weights):
        self.model = models.resnet18()
        self.model.fc = nn.Linear(512, 3)
        self.model.load_state_dict(torch.load(weights))
    def predict(self, batch):
        with torch.no_grad():
            return self.model(batch).argmax(1)
clf = Classifier("best.pth")
print(clf.predict(torch.stack([tf(im) for im in images])))
""",
        """\
class Classifier:
    def __init__(self, weights):
        self.model = models.resnet18()
        self.model.fc = nn.Linear(512, 3)
        self.model.load_state_dict(torch.load(weights))
        self.model.eval()
    def predict(self, batch):
        with torch.no_grad():
            return self.model(batch).argmax(1)
clf = Classifier("best.pth")
print(clf.predict(torch.stack([tf(im) for im in images])))
""",
    ),
    # validation accuracies in a comprehension inside the training loop, under no_grad
    "comprehension-in-the-epoch-loop-under-no-grad": (
        SETUP,
        """\
for epoch in range(10):
    model.train(True)
    for x, y in train_loader:
        opt.zero_grad(); loss = crit(model(x), y); loss.backward(); opt.step()
    with torch.no_grad():
        accs = [(model(x).argmax(1) == y).float().mean() for x, y in val_loader]
""",
        """\
for epoch in range(10):
    model.train(True)
    for x, y in train_loader:
        opt.zero_grad(); loss = crit(model(x), y); loss.backward(); opt.step()
    model.eval()
    with torch.no_grad():
        accs = [(model(x).argmax(1) == y).float().mean() for x, y in val_loader]
""",
    ),
    # validation predictions in a comprehension inside the training loop
    "comprehension-in-the-epoch-loop": (
        SETUP,
        """\
for epoch in range(10):
    model.train()
    for x, y in train_loader:
        opt.zero_grad(); loss = crit(model(x), y); loss.backward(); opt.step()
    val_preds = [model(x).argmax(1) for x, _ in val_loader]
""",
        """\
for epoch in range(10):
    model.train()
    for x, y in train_loader:
        opt.zero_grad(); loss = crit(model(x), y); loss.backward(); opt.step()
    model.eval()
    val_preds = [model(x).argmax(1) for x, _ in val_loader]
""",
    ),
}


def _gl230(src: str) -> list:
    return [
        f
        for f in check_script(src, filename="post.py")
        if f.code == "GL230" and f.severity in ("error", "warning")
    ]


@pytest.mark.parametrize("name", VARIANTS)
def test_evaluation_in_training_mode_is_found(name):
    setup, bug, _ = VARIANTS[name]
    assert _gl230(setup + bug)


@pytest.mark.parametrize("name", VARIANTS)
def test_the_same_code_with_the_mode_switched_stays_silent(name):
    setup, _, fixed = VARIANTS[name]
    assert not _gl230(setup + fixed)
