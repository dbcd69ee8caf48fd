"""Evaluation and inference in training mode (torch_train GL230), as people post it."""

from __future__ import annotations

from graftlab.doctor.script import check_script


def _eval(src: str) -> list:
    return [
        f
        for f in check_script(src, filename="post.py")
        if f.category == "eval-mode-missing" and f.severity in ("error", "warning")
    ]


PREDICT_FILE = """\
import torch
import torch.nn as nn
from PIL import Image

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU())
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        return self.fc(self.body(x).mean((2, 3)))

net = Net()
net.load_state_dict(torch.load("best.pth"))
for path in paths:
    x = tf(Image.open(path)).unsqueeze(0)
    print(path, net(x).argmax(1).item())
"""


def test_a_prediction_file_that_loads_weights_and_never_calls_eval():
    (f,) = _eval(PREDICT_FILE)
    assert f.code == "GL230" and "post.py:18:" in f.evidence
    assert _eval(PREDICT_FILE.replace("net = Net()\n", "net = Net()\nnet.eval()\n")) == []


ACCURACY_FN = """\
import torch
from torchvision import models

def compute_accuracy(model, loader):
    correct = 0
    for x, y in loader:
        correct += (model(x).argmax(1) == y).sum().item()
    return correct / len(loader.dataset)

model = models.resnet18(weights="DEFAULT")
opt = torch.optim.SGD(model.parameters(), lr=0.01)
for epoch in range(5):
    model.train()
    for x, y in train_loader:
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    print(compute_accuracy(model, val_loader))
"""


def test_an_accuracy_helper_called_from_the_training_loop_without_eval():
    (f,) = _eval(ACCURACY_FN)
    assert f.code == "GL230" and "compute_accuracy" in f.title
    fixed = ACCURACY_FN.replace("    correct = 0\n", "    model.eval()\n    correct = 0\n")
    assert _eval(fixed) == []


FRAGMENT = """\
model = cifar_models.resnet50(pretrained=True)
loader = DataLoader(datasets.ImageFolder(root, transform=tf), batch_size=1)
"""


def test_a_pretrained_fragment_that_never_switches_mode():
    (f,) = _eval(FRAGMENT)
    assert f.severity == "warning" and "never switched" in f.title
    assert _eval(FRAGMENT + "model.eval()\n") == []


def test_forward_calls_acc_helpers_imported_networks_and_lightning_checkpoints():
    fwd = ACCURACY_FN.replace("correct += (model(x)", "correct += (model.forward(x)")
    assert _eval(fwd)
    acc = ACCURACY_FN.replace("compute_accuracy", "get_acc")
    assert _eval(acc)
    imported = """\
import torch
from mynets import ShuffleNet
net = ShuffleNet(num_classes=1000)
net.load_state_dict(torch.load("shufflenet.pth")["state_dict"])
print(net(img).argmax())
"""
    (f,) = _eval(imported)
    assert f.severity == "warning"
    assert _eval(imported.replace("print(net", "net.eval()\nprint(net")) == []
    ckpt = """\
import torch
model = LitNet.load_from_checkpoint("last.ckpt")
for x, y in test_loader:
    preds = model(x).argmax(1)
"""
    assert _eval(ckpt)
    assert _eval(ckpt.replace('.ckpt")\n', '.ckpt")\nmodel.eval()\n')) == []


def test_network_wrapped_in_data_parallel_then_loaded():
    src = """\
import torch
from network import ShuffleNet
model = ShuffleNet(groups=3, num_classes=1000)
model = torch.nn.DataParallel(model).cuda()
model.load_state_dict(torch.load("shufflenet.pth.tar")["state_dict"])
print(model(img).argmax())
"""
    (f,) = _eval(src)
    assert f.code == "GL230"
    assert _eval(src.replace("print(model", "model.eval()\nprint(model")) == []


TRAINER = """\
import torch
class Trainer:
    def __init__(self, phi, train_loader):
        self.phi = phi
        self.opt = torch.optim.SGD(self.phi.parameters(), lr=0.01)
        self.train_loader = train_loader
    def get_test_accuracy(self, loader):
        correct = 0
        for x, y in loader:
            correct += (self.phi(x).argmax(1) == y).sum().item()
        return correct
    def fit(self, val_loader):
        for epoch in range(10):
            self.phi.train()
            for x, y in self.train_loader:
                self.opt.zero_grad()
                torch.nn.functional.cross_entropy(self.phi(x), y).backward()
                self.opt.step()
            print(self.get_test_accuracy(val_loader))
"""


def test_a_network_named_by_what_the_code_does_with_it():
    (f,) = _eval(TRAINER)
    assert f.code == "GL230" and "get_test_accuracy" in f.title
    fixed = TRAINER.replace(
        "        correct = 0\n", "        self.phi.eval()\n        correct = 0\n"
    )
    assert _eval(fixed) == []


SHAPE_PROBE = """\
import torch, torchvision
resnet = torchvision.models.resnet18(weights="DEFAULT")
resnet.fc = torch.nn.Linear(resnet.fc.in_features, 100)
images = torch.randn(64, 3, 224, 224)
outputs = resnet(images)
print(outputs.size())
"""


def test_a_forward_pass_on_a_random_tensor_is_a_shape_check_not_an_evaluation():
    assert not [f for f in check_script(SHAPE_PROBE) if f.category == "eval-mode-missing"]


def test_the_same_forward_pass_on_real_images_is_an_evaluation():
    real = SHAPE_PROBE.replace("torch.randn(64, 3, 224, 224)", "load_images('test/')")
    assert [f for f in check_script(real) if f.code == "GL230"]


def test_set_grad_enabled_false_as_a_statement_turns_autograd_off():
    src = (
        "import torch\nfrom torchvision import models\n"
        "model = models.resnet18(weights='DEFAULT')\nmodel.eval()\n"
        "torch.set_grad_enabled(False)\n"
        "for x, y in val_loader:\n    out = model(x)\n"
    )
    assert not [f for f in check_script(src) if f.code == "GL231"]
    assert [f for f in check_script(src.replace("(False)", "(True)")) if f.code == "GL231"]


# -- mode-dependent layers made inside forward() (forward_rules GL235) ----------------------

HEAD = """\
import torch.nn as nn
import torch.nn.functional as F

class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(512, 10)

    def forward(self, x):
        return self.fc({x})
"""


def test_a_dropout_module_built_in_forward_is_an_error_a_functional_one_a_warning():
    (f,) = _eval(HEAD.format(x="nn.Dropout2d(0.5)(x)"))
    assert (f.code, f.severity) == ("GL235", "error") and "post.py:10:" in f.evidence
    assert "self.drop = nn.Dropout2d(...)" in f.fix
    (g,) = _eval(HEAD.format(x="F.dropout(x, 0.5)"))
    assert (g.code, g.severity) == ("GL235", "warning") and "training=self.training" in g.fix


def test_dropout_that_follows_the_mode_or_is_asked_for_at_test_time_is_not_reported():
    for x in (
        "F.dropout(x, 0.5, self.training)",
        "F.dropout(x, p=0.5, training=True)",  # Monte Carlo dropout, asked for explicitly
        "F.dropout(x, 0.0)",
        "nn.Dropout(0.5)(x) if self.training else x",
        "F.alpha_dropout(x, 0.5)",  # its training argument defaults to False
    ):
        assert not _eval(HEAD.format(x=x)), x


ENCODE = """\
import torch
import torch.nn.functional as F


def run_classification(model, classifier, dataloader, device):
    {mode}
    preds, labels = [], []
    with torch.no_grad():
        for images, target in dataloader:
            features = F.normalize(model.encode_image(images.to(device)), dim=-1)
            preds.append((features @ classifier).argmax(1))
            labels.append(target)
    return preds, labels
"""


def test_an_encoder_method_run_on_evaluation_batches_runs_the_network_in_its_mode():
    (f,) = _eval(ENCODE.format(mode="pass"))
    assert f.code == "GL230" and "post.py:10:" in f.evidence
    assert _eval(ENCODE.format(mode="model.eval()")) == []
