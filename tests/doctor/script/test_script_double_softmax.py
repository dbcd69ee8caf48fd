"""Softmax before CrossEntropyLoss through tuples, nested modules and eval-only branches."""

from __future__ import annotations

from graftlab.doctor.script import check_script


def _ds(src: str) -> list:
    return [
        f
        for f in check_script(src, filename="post.py")
        if f.category == "double-softmax" and f.severity in ("error", "warning")
    ]


TUPLE = """\
import torch.nn as nn
class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.cls = nn.Sequential(nn.Linear(64, 10), nn.Softmax(dim=1))
        self.dom = nn.Sequential(nn.Linear(64, 2), nn.LogSoftmax(dim=1))
    def forward(self, x):
        return self.cls(x), self.dom(x)
model = TwoHeads()
criterion = nn.CrossEntropyLoss()
for x, y in loader:
    class_out, domain_out = model(x)
    loss = criterion({arg}, y)
    loss.backward()
"""


def test_softmax_output_of_a_tuple_reaches_cross_entropy():
    (f,) = _ds(TUPLE.format(arg="class_out"))
    assert f.severity == "error" and "post.py:5:" in f.evidence
    assert _ds(TUPLE.format(arg="model(x)[0]"))
    assert _ds(TUPLE.format(arg="domain_out")) == []  # log_softmax + CE: idempotent


def test_logits_element_of_a_tuple_is_silent():
    src = """\
import torch.nn as nn
import torch.nn.functional as F
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(64, 10)
    def forward(self, x):
        logits = self.fc(x)
        return logits, F.softmax(logits, dim=1)
net = Net()
logits, probs = net(x)
loss = nn.CrossEntropyLoss()(logits, y)
loss.backward()
"""
    assert _ds(src) == []
    assert _ds(src.replace("(logits, y)", "(probs, y)"))


def test_add_module_and_nested_head_classes():
    added = """\
import torch.nn as nn
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.classifier = nn.Sequential()
        self.classifier.add_module("fc", nn.Linear(100, 10))
        self.classifier.add_module("prob", nn.Softmax(dim=1))
    def forward(self, x):
        return self.classifier(x)
model = Net()
loss = nn.CrossEntropyLoss()(model(x), y)
loss.backward()
"""
    assert _ds(added)
    assert _ds(added.replace('self.classifier.add_module("prob", nn.Softmax(dim=1))\n', "")) == []
    nested = """\
import torch.nn as nn
import torch.nn.functional as F
class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(512, 10)
    def forward(self, x):
        return F.softmax(self.fc(x), dim=-1)
class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.head = Head()
    def forward(self, x):
        return self.head(x)
m = Model()
loss = nn.CrossEntropyLoss()(m(x), y)
loss.backward()
"""
    assert _ds(nested)
    assert _ds(nested.replace("F.softmax(self.fc(x), dim=-1)", "self.fc(x)")) == []


def test_softmax_in_eval_mode_only_is_a_warning_about_the_validation_loss():
    src = """\
import torch
import torch.nn as nn
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(10, 3)
        self.act = nn.Softmax(dim=1)
    def forward(self, x):
        x = self.fc(x)
        if not self.training:
            x = self.act(x)
        return x
net = Net()
criterion = nn.CrossEntropyLoss()
net.eval()
with torch.no_grad():
    val_loss = criterion(net(x), y)
"""
    (f,) = _ds(src)
    assert f.severity == "warning" and "eval mode" in f.title


def test_a_module_pasted_with_an_unbuilt_network_name_is_a_warning():
    src = """\
class Net(nn.Module):
    def forward(self, x):
        x = self.fc(x)
        return F.softmax(x, dim=1)
criterion = nn.CrossEntropyLoss()
output = net(inputs)
loss = criterion(output, labels)
"""
    (f,) = _ds(src)
    assert f.severity == "warning" and "Inferred" in f.explanation
    assert _ds(src.replace("return F.softmax(x, dim=1)", "return x")) == []


INJECTED = """\
import torch
import torch.nn as nn
import torch.nn.functional as F
class Scorer(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(32, 16)
    def forward(self, x):
        return F.softmax(self.fc(x), dim=-1)
def make_loss():
    return nn.CrossEntropyLoss()
{second}
def fit_step(ranker_net, queries, keys, loss_fn):
    q = ranker_net(queries)
    k = {keys}
    logits = torch.matmul(q, k.transpose(-1, -2))
    target = torch.arange(logits.shape[-1])
    return loss_fn(logits, target)
"""


def test_factory_criterion_and_product_of_two_softmax_outputs():
    (f,) = _ds(INJECTED.format(second="", keys="ranker_net(keys)"))
    # two inferred links: the criterion from the factory, the bounded product
    assert f.severity == "warning" and "make_loss()" in f.explanation
    assert "post.py:16:" in f.evidence and "matmul()" in f.explanation


def test_product_with_an_unbounded_factor_or_an_ambiguous_factory_is_silent():
    # a probability times a raw key projection is not bounded: no claim
    assert _ds(INJECTED.format(second="", keys="keys @ keys")) == []
    # the script builds losses of two kinds: the injected criterion stays unknown
    other = "def make_aux():\n    return nn.BCEWithLogitsLoss()\n"
    assert _ds(INJECTED.format(second=other, keys="ranker_net(keys)")) == []


def test_a_criterion_named_anyhow_is_known_by_the_backward_call():
    src = (
        INJECTED.format(second="", keys="ranker_net(keys)")
        .replace(
            "    return loss_fn(logits, target)\n",
            "    v7 = fn2(logits, target)\n    v7.backward()\n",
        )
        .replace("loss_fn):", "fn2):")
    )
    (f,) = _ds(src)
    assert "make_loss()" in f.explanation
    # no backward on the result and no loss-like name: the call is not taken to be a loss
    assert _ds(src.replace("    v7.backward()\n", "")) == []


ZOO = """\
import torch.nn as nn
import torch.utils.model_zoo as model_zoo
{head}
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3)

        def forward(self, x):
            return self.conv(x)

    class ZooNet(nn.Module):
        def __init__(self, num_classes=1000):
            super().__init__()
            self.block = Block()
            self.last_linear = nn.Linear(8, num_classes)

        def forward(self, x):
            x = self.block(x).mean((2, 3))
            return nn.functional.softmax(self.last_linear(x), dim=1)

    def zoonet(url):
        net = ZooNet()
        net.load_state_dict(model_zoo.load_url(url))
        return net
{tail}"""


def test_a_module_defined_inside_a_plain_class_is_still_the_model():
    # the whole file moved into `class Experiment: def run(self): ...`: the wrapper builds
    # ZooNet but is no module, so ZooNet is not one of its parts
    wrapped = ZOO.format(head="class Experiment:\n  def run(self):", tail="Experiment().run()\n")
    wrapped = wrapped.replace("\n    ", "\n      ")
    (f,) = _ds(wrapped)
    assert f.code == "GL206" and "ZooNet.forward()" in f.title
    # built into another module, ZooNet is a part of it, not the model
    part = wrapped.replace(
        "  def zoonet(url):",
        "  class Outer(nn.Module):\n"
        "        def __init__(self):\n"
        "            super().__init__()\n"
        "            self.inner = ZooNet()\n\n"
        "      def zoonet(url):",
    )
    assert not [f for f in _ds(part) if "ZooNet" in f.title]


WRAPPED_LAYER = """\
import torch.nn as nn
import torch.nn.functional as F
from regularisers import LayerDropout

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 256)
        self.fc2 = nn.Linear(256, 10)
        self.act = nn.ReLU()
        self.out = nn.{last}(dim=1)
        self.drop1 = LayerDropout(p=0.1)
        self.drop2 = LayerDropout(p=0.1)
    def forward(self, x):
        x = self.drop1(x, nn.Sequential(self.fc1, self.act))
        return self.drop2(x, nn.Sequential(self.fc2, self.out))

model = Net()
for x, y in loader:
    loss = F.cross_entropy(model(x), y)
    loss.backward()
"""


def test_a_wrapper_module_given_a_layer_ending_in_softmax_returns_probabilities():
    (f,) = _ds(WRAPPED_LAYER.format(last="Softmax"))
    assert f.code == "GL201" and f.severity == "warning"
    assert "drop2" in f.explanation and "post.py:16:" in f.evidence
    assert _ds(WRAPPED_LAYER.format(last="Identity")) == []


WRAPPER_CRITERION = """\
from torch import nn
from somelib import NeuralNetClassifier

class Module(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(20, 10)
        self.output = nn.Linear(10, 2)
    def forward(self, X):
        return {ret}

net = NeuralNetClassifier(Module, criterion=nn.CrossEntropyLoss, max_epochs=10)
net.fit(X, y)
"""


def test_a_training_wrapper_given_the_module_and_cross_entropy_meets_its_softmax():
    (f,) = _ds(WRAPPER_CRITERION.format(ret="self.output(self.hidden(X)).softmax(dim=-1)"))
    assert f.code == "GL201" and f.severity == "warning"
    assert "NeuralNetClassifier()" in f.explanation
    assert _ds(WRAPPER_CRITERION.format(ret="self.output(self.hidden(X))")) == []
