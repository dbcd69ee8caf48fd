"""Classifier heads left random where the code expects trained ones (head_rules)."""

from __future__ import annotations

from graftlab.doctor.script import check_script


def _heads(src: str) -> list:
    return [
        f
        for f in check_script(src, filename="post.py")
        if f.category == "head-mismatch" and f.severity in ("error", "warning")
    ]


REPLACED = """\
import torch
import torch.nn as nn
from torchvision import models
model = models.resnet50()
model.load_state_dict(torch.load("resnet50_birds.pth"))
model.fc = nn.Linear(2048, 200)
model.eval()
print(model(x).argmax(1))
"""


def test_head_replaced_after_loading_and_never_trained():
    (f,) = _heads(REPLACED)
    assert f.code == "GL227" and "post.py:6:" in f.evidence
    before = REPLACED.replace(
        'model.load_state_dict(torch.load("resnet50_birds.pth"))\nmodel.fc = nn.Linear(2048, 200)',
        'model.fc = nn.Linear(2048, 200)\nmodel.load_state_dict(torch.load("resnet50_birds.pth"))',
    )
    assert _heads(before) == []
    trained = REPLACED + (
        "opt = torch.optim.SGD(model.fc.parameters(), lr=0.01)\n"
        "loss = nn.functional.cross_entropy(model(x), y)\nloss.backward()\nopt.step()\n"
    )
    assert _heads(trained) == []  # transfer learning: the new head is trained


def test_self_supervised_hub_model_used_as_a_classifier():
    src = "import torch\nnet = torch.hub.load('facebookresearch/dino:main', 'dino_resnet50')\n"
    (f,) = _heads(src)
    assert "self-supervised" in f.title
    assert _heads(src.replace("facebookresearch/dino:main", "pytorch/vision")) == []


RESUME = """\
import torch
from torchvision import models
model = models.resnet18(num_classes=5)
state = torch.load(args.resume)
state = {k: v for k, v in state.items() if "fc." not in k}
model.load_state_dict(state, strict=False)
model.eval()
pred = model(x).argmax(1)
"""


def test_own_checkpoint_loaded_without_its_head():
    found = [f for f in _heads(RESUME) if f.code == "GL227"]
    assert len(found) == 1 and "filtered out" in found[0].title
    imagenet = RESUME.replace("args.resume", '"imagenet_resnet18.pth"')
    assert [f for f in _heads(imagenet) if f.code == "GL227"] == []


NEVER_REPLACED = """\
import torch
import torch.nn as nn
from torchvision import datasets, models
train_set = datasets.CIFAR10("data", train=True, transform=tf)
loader = torch.utils.data.DataLoader(train_set, batch_size=64, shuffle=True)
model = models.resnet50(weights="IMAGENET1K_V2")
opt = torch.optim.SGD(model.parameters(), lr=0.01)
for x, y in loader:
    opt.zero_grad()
    nn.functional.cross_entropy(model(x), y).backward()
    opt.step()
"""


def test_imagenet_head_kept_for_a_ten_class_task():
    (f,) = _heads(NEVER_REPLACED)
    assert f.code == "GL233" and "CIFAR10 has 10 classes" in f.explanation
    replaced = NEVER_REPLACED.replace(
        "opt =", "model.fc = nn.Linear(model.fc.in_features, 10)\nopt ="
    )
    assert _heads(replaced) == []
    cut = NEVER_REPLACED.replace(
        "opt = torch.optim.SGD(model.parameters()",
        "model = nn.Sequential(*list(model.children())[:-1], nn.Flatten(), nn.Linear(2048, 10))\n"
        "opt = torch.optim.SGD(model.parameters()",
    )
    assert _heads(cut) == []


def test_hub_model_with_its_fc_replaced_and_used_to_predict():
    src = """\
import torch
import torch.nn as nn
model = torch.hub.load("pytorch/vision", "resnet18", pretrained=True)
model.fc = nn.Linear(512, 10)
model.eval()
print(model(img).argmax(1))
"""
    (f,) = _heads(src)
    assert f.code == "GL227"
    assert _heads(src.replace("model.fc = nn.Linear(512, 10)\n", "")) == []


def test_resuming_training_without_the_checkpoint_head():
    src = RESUME.replace(
        "model.eval()\npred = model(x).argmax(1)\n",
        "opt = torch.optim.SGD(model.parameters(), lr=0.01)\nfor x, y in loader:\n"
        "    opt.zero_grad()\n    torch.nn.functional.cross_entropy(model(x), y).backward()\n"
        "    opt.step()\n",
    )
    found = [f for f in _heads(src) if f.code == "GL227"]
    assert len(found) == 1 and "filtered out" in found[0].title
    finetune = src.replace("args.resume", "args.pretrained")
    assert [f for f in _heads(finetune) if f.code == "GL227"] == []


def test_load_or_new_head_in_two_branches():
    src = """\
import torch
import torch.nn as nn
from torchvision import models
model = models.resnet50()
if args.checkpoint:
    model.load_state_dict(torch.load(args.checkpoint))
else:
    model.fc = nn.Linear(2048, 200)
model.eval()
print(model(x).argmax(1))
"""
    assert [f for f in _heads(src) if f.code == "GL227"] == []


BY_NAME_SKIP = """\
from tensorflow import keras
base = keras.applications.EfficientNetV2M(weights=None, include_top=False, pooling="avg")
base.load_weights("downloads/effv2m_notop.h5", by_name=True, skip_mismatch=True)
out = keras.layers.Dense(12, activation="softmax")(base.output)
model = keras.Model(base.input, out)
model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
model.fit(train_ds, epochs=5)
"""


def test_keras_by_name_skip_mismatch_load_of_an_outside_file_before_fit_is_a_warning():
    (f,) = _heads(BY_NAME_SKIP)
    assert f.code == "GL125" and f.severity == "warning" and "post.py:3:" in f.evidence
    assert "Inferred" in f.explanation


def test_keras_by_name_without_skip_or_own_file_or_no_fit_stays_silent():
    assert _heads(BY_NAME_SKIP.replace(", skip_mismatch=True", "")) == []
    assert _heads(BY_NAME_SKIP.replace("model.fit(train_ds, epochs=5)\n", "")) == []
    own = 'base.save_weights("downloads/effv2m_notop.h5")\n' + BY_NAME_SKIP.replace(
        "from tensorflow import keras\n", ""
    )
    assert _heads("from tensorflow import keras\n" + own) == []
