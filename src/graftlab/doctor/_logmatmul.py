"""PyTorch's "mat1 and mat2 shapes cannot be multiplied (AxB and CxD)", read for its cause.

``nn.Linear`` multiplies its input (``A`` rows of ``B`` features: mat1) by its transposed
weight (``C = in_features`` by ``D = out_features``: mat2); the message means ``B != C``. Two
causes give it in transfer learning, and the two counts tell them apart:

- **input-size-mismatch** (GL440): the features were flattened from a feature map, and images
  of another size give a map of another area: ``B / C`` is the square of a simple fraction
  (18432 / 8192 = (3/2)^2: images 1.5 times as large per side as the layer was built for) and
  neither count is a pooled width (below);
- **head-mismatch** (GL444): the head was built for another backbone's width: ``B`` is what
  a standard backbone pools to (512 for ResNet-18, 2048 for ResNet-50, 1280 for
  EfficientNet-B0 and MobileNetV2) and ``C`` is another width. Pooled features do not change
  with the image size, so when both counts are such widths this reading wins even if their
  ratio is a square (2048 / 512 = 2^2).

When neither reading fits (a missing flatten or pooling, a wrong view), nothing is said. Both
readings are inferred from two numbers, so the finding is a ``warning`` that says which reading
and why.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction

from graftlab.doctor._checks import declare, make
from graftlab.doctor._logrows import ParsedLog
from graftlab.doctor.findings import Finding

declare(
    "GL444",
    "head-mismatch",
    "warning",
    "log",
    "A Linear layer's in_features do not match the width of the features it is given",
)

_MATMUL = re.compile(
    r"mat1 and mat2 shapes cannot be multiplied \((\d{1,9})x(\d{1,9}) and (\d{1,9})x(\d{1,9})\)"
)
#: Widths that standard backbones pool to (torchvision / timm): ResNet-18/34 and VGG's conv
#: channels 512, ViT-S 384, MobileNetV3 576/960, ViT-B/ConvNeXt-T/Swin-T 768, DenseNet-121 and
#: ViT-L 1024, MobileNetV2/EfficientNet-B0/B1 1280, B2 1408, B3/ConvNeXt-L 1536, DenseNet-169
#: 1664, B4 1792, DenseNet-201 1920, ResNet-50+/Inception-v3/Xception/B5 2048, DenseNet-161
#: 2208, B6 2304, B7 2560, VGG's classifier 4096.
BACKBONE_WIDTHS = frozenset(
    {384, 512, 576, 768, 960, 1024, 1280, 1408, 1536, 1664, 1792, 1920, 2048, 2208, 2304, 2560,
     4096}
)  # fmt: skip
_MAX_LINES = 200_000
_MAX_LINE_CHARS = 5_000


@dataclass(frozen=True)
class Matmul:
    """One message: the layer's input (rows x features) and its weight (in x out)."""

    line: int
    text: str
    given: int  # B: features per row of the input
    expected: int  # C: the layer's in_features


def matmul_messages(lines: list[str]) -> list[Matmul]:
    """Every "mat1 and mat2" message whose inner sizes differ, in log order."""
    out = []
    for i, line in enumerate(lines[:_MAX_LINES], 1):
        if len(line) <= _MAX_LINE_CHARS and "mat1" in line and (m := _MATMUL.search(line)):
            given, expected = int(m[2]), int(m[3])
            if given != expected and given > 0 and expected > 0:
                out.append(Matmul(i, line.strip(), given, expected))
    return out


def _side_ratio(expected: int, given: int) -> Fraction | None:
    """The ratio of image sides that turns ``expected`` flattened features into ``given``:
    the ratio of the counts is the square of a simple fraction other than 1."""
    ratio = Fraction(given, expected)
    num, den = math.isqrt(ratio.numerator), math.isqrt(ratio.denominator)
    if num * num == ratio.numerator and den * den == ratio.denominator and den <= 32:
        return Fraction(num, den)
    return None


def matmul_mismatch(log: ParsedLog) -> list[Finding]:
    """GL440 or GL444 from the first "mat1 and mat2" message that one reading explains."""
    for msg in matmul_messages(log.lines):
        quote = msg.text if len(msg.text) <= 300 else msg.text[:297] + "..."
        cited = f"  line {msg.line:>4} | {quote}"
        b, c = msg.given, msg.expected
        widths = b in BACKBONE_WIDTHS, c in BACKBONE_WIDTHS
        side = _side_ratio(c, b)
        if widths[0] and (widths[1] or side is None):
            return [_head(cited, b, c, both=widths[1])]
        if side is not None and not any(widths):
            return [_size(cited, b, c, side)]
    return []


def _head(cited: str, b: int, c: int, *, both: bool) -> Finding:
    why = (
        f"{b} and {c} are both widths that standard backbones pool to, and pooled features do "
        "not change with the image size"
        if both
        else f"{b} is a width standard backbones pool to; {c} is not what this one gives"
    )
    return make(
        "GL444",
        title=f"A Linear layer built for {c} input features is given {b}: the head does not "
        "fit the backbone's output",
        evidence=f"{cited}\nmat1 is the input ({b} features per image), mat2 the layer's weight "
        f"(in_features {c})\ninferred: read as a head built for another backbone ({why})",
        explanation=(
            "nn.Linear(in_features, out_features) multiplies its input by its weight; the input "
            f"has {b} features per image, the layer was built for {c}. The head was written for "
            "another backbone (or another variant: ResNet-18 pools to 512 features, ResNet-50 "
            "to 2048), or the backbone's own classifier was replaced at the wrong place."
        ),
        fix=(
            "# Size the head from the backbone, never by hand:\n"
            "model = torchvision.models.resnet50(weights='DEFAULT')\n"
            "model.fc = nn.Linear(model.fc.in_features, num_classes)\n"
            "# timm: model.reset_classifier(num_classes); model.num_features is the width"
        ),
        references=["https://pytorch.org/vision/stable/models.html"],
    )


def _size(cited: str, b: int, c: int, side: Fraction) -> Finding:
    return make(
        "GL440",
        severity="warning",
        title=f"A Linear layer built for {c} flattened features is given {b}: the images are "
        f"{side} times the size per side the model was built for",
        evidence=f"{cited}\nmat1 is the input ({b} features per image), mat2 the layer's weight "
        f"(in_features {c}): {b}/{c} = ({side})^2, what a flatten gives for images {side} "
        "times as large per side\ninferred: the features are taken to be a feature map "
        f"flattened after the backbone ({b} is no width a standard backbone pools to)",
        explanation=(
            "A layer after a flatten was sized for the feature map of one image size; images of "
            "another size give a map of another area, so another number of features. The size "
            "is set in two places that disagree: the size the layer was computed for (or the "
            "training transforms) and the size the images are loaded at now."
        ),
        fix=(
            "# Pool before the head so any image size gives the same width:\n"
            "self.pool = nn.AdaptiveAvgPool2d(1)\n"
            "x = torch.flatten(self.pool(features), 1)\n"
            "# and one transforms.Resize/CenterCrop for training and evaluation"
        ),
        references=["https://pytorch.org/docs/stable/generated/torch.nn.Linear.html"],
    )
