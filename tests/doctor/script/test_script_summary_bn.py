"""A model summary's forward pass in training mode overwrites BatchNorm statistics (GL240).
Written from the general shape, not from a post."""

from __future__ import annotations

from graftlab.doctor.script import check_script

SUMMARY_FIRST = """\
import torch
import torchvision
from torchsummary import summary

net = torchvision.models.resnet50(weights="IMAGENET1K_V2")
net = net.to("cuda")
summary(net, (3, 224, 224))
net.eval()
correct = 0
with torch.no_grad():
    for x, y in test_loader:
        correct += (net(x.cuda()).argmax(1).cpu() == y).sum().item()
print(correct / len(test_loader.dataset))
"""


def _summary_bn(source: str):
    return [f for f in check_script(source) if f.code == "GL240"]


def test_a_summary_of_a_pretrained_model_in_training_mode_before_evaluation_is_reported():
    (f,) = _summary_bn(SUMMARY_FIRST)
    assert f.severity == "warning" and f.category == "batchnorm"


def test_a_summary_after_eval_runs_in_inference_mode():
    evaluated = SUMMARY_FIRST.replace(
        'net = net.to("cuda")\n', 'net = net.to("cuda")\nnet.eval()\n'
    )
    assert not _summary_bn(evaluated)


def test_torchinfo_runs_its_pass_in_eval_mode():
    torchinfo = SUMMARY_FIRST.replace(
        "from torchsummary import summary", "from torchinfo import summary"
    )
    assert not _summary_bn(torchinfo)
    assert _summary_bn(torchinfo.replace("(3, 224, 224))", "(1, 3, 224, 224), mode='train')"))
