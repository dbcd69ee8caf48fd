"""ImageNet mean/std given to timm weights trained with mean = std = 0.5 (GL141)."""

from __future__ import annotations

import pytest

from graftlab.doctor.script import check_script

EVALUATE = """\
import timm
import torch
import torchvision.datasets as datasets
import torchvision.transforms as T

tf = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(),
                T.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])])
loader = torch.utils.data.DataLoader(datasets.ImageFolder("val", tf), batch_size=64)
net = timm.create_model("{name}", pretrained=True).eval()
correct = 0
with torch.no_grad():
    for x, y in loader:
        correct += (net(x).argmax(1) == y).sum().item()
print(correct / len(loader.dataset))
"""
TRAIN = """\
opt = torch.optim.AdamW(net.parameters(), lr=1e-4)
for x, y in loader:
    opt.zero_grad()
    torch.nn.functional.cross_entropy(net(x), y).backward()
    opt.step()
"""


def _found(source):
    return [f for f in check_script(source) if f.code == "GL141"]


@pytest.mark.parametrize(
    "name",
    [
        "vit_base_patch16_224",
        "vit_small_patch16_384.augreg_in21k_ft_in1k",
        "inception_v4",
        "beit_base_patch16_224",
        "mixer_b16_224",
    ],
)
def test_a_half_statistics_model_only_evaluated_with_imagenet_stats_is_an_error(name):
    [f] = _found(EVALUATE.format(name=name))
    assert (f.category, f.severity) == ("preprocessing-mismatch", "error")
    assert name in f.title and "0.5" in f.title
    assert ":7:" in f.evidence and ":9:" in f.evidence
    assert "resolve_model_data_config" in f.fix


def test_fine_tuning_it_is_a_warning_that_says_why():
    [f] = _found(EVALUATE.format(name="vit_base_patch16_224") + TRAIN)
    assert f.severity == "warning" and "inferred: the script trains" in f.explanation


@pytest.mark.parametrize(
    "source",
    [
        # weights trained with the ImageNet statistics
        EVALUATE.format(name="resnet50"),
        EVALUATE.format(name="deit_base_patch16_224"),
        EVALUATE.format(name="vit_base_patch16_224.dino"),
        # the statistics of the weights
        EVALUATE.format(name="vit_base_patch16_224").replace(
            "mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]", "mean=[0.5] * 3, std=[0.5] * 3"
        ),
        # no pretrained weights: nothing to match
        EVALUATE.format(name="vit_base_patch16_224").replace("pretrained=True", "pretrained=False"),
        # the script reads the model's own data config
        EVALUATE.format(name="vit_base_patch16_224")
        + "cfg = timm.data.resolve_data_config({}, model=net)\n",
    ],
)
def test_matching_statistics_or_the_models_own_config_say_nothing(source):
    assert not _found(source)
