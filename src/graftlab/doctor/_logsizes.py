"""The framework saying, in its own words, that images reach the model at another size than it
was built for.

People paste the message with the question, often with no training lines at all. Three
messages name both sizes: Keras's warning that a model "was constructed with shape (None, 224,
224, 3) ... but it was called on an input with incompatible shape (None, 150, 150, 3)" (it
runs, and a fully convolutional backbone silently scores worse), Keras's ``ValueError`` "expected
shape=(None, 150, 150, 3), found shape=(None, 224, 224, 3)", and timm's vision transformers'
"Input image size (256*256) doesn't match model (224*224)". A fourth names only the flattened
feature counts: "expected axis -1 of input shape to have value 8192, but received input with
shape (None, 18432)" -- a ``Flatten`` before a ``Dense`` turns a larger image into more
features; that the count comes from the image size is inferred, and said so. Two more say the
images are too small for the network, the feature maps shrinking to nothing before a pooling
or convolution layer: PyTorch's "Output size is too small" and TensorFlow's "Negative dimension
size caused by subtracting 3 from 1" (32x32 CIFAR images into a backbone built for 224x224);
that the architecture is a standard one is inferred.
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
    "GL440",
    "input-size-mismatch",
    "error",
    "log",
    "The framework reports images of another size than the model was built for",
    ("https://keras.io/api/applications/",),
)

#: A shape as frameworks print it: ``(None, 224, 224, 3)``; bounded so a long line of digits
#: cannot make the match backtrack.
_SHAPE = r"\(\s*((?:None|\d{1,6})(?:\s*,\s*(?:None|\d{1,6})){1,4})\s*,?\s*\)"
_CONSTRUCTED = re.compile(
    rf"constructed with shape {_SHAPE}.{{0,600}}?called on an input with incompatible shape "
    rf"{_SHAPE}",
    re.I,
)
_EXPECTED = re.compile(rf"expected shape\s*=\s*{_SHAPE},?\s*found shape\s*=\s*{_SHAPE}", re.I)
_VIT = re.compile(
    r"Input (?:image )?(?:size|height) \((\d{1,5})(?:\s*\*\s*(\d{1,5}))?\) doesn'?t match "
    r"model \((\d{1,5})(?:\s*\*\s*(\d{1,5}))?\)",
    re.I,
)
_FLATTENED = re.compile(
    r"expected axis -1 of input shape to have value (\d{1,9}),? but received input with "
    r"shape \(\s*None\s*,\s*(\d{1,9})\s*\)",
    re.I,
)
#: The feature map shrinking to nothing before a layer: images smaller than the architecture
#: was built for (PyTorch's pooling and convolution, TensorFlow's graph building).
_TOO_SMALL = re.compile(
    r"Given input size: \((\d{1,6})x(\d{1,6})x(\d{1,6})\)\. Calculated output size: "
    r"\(\d{1,6}x(-?\d{1,6})x(-?\d{1,6})\)\. Output size is too small"
    r"|Negative dimension size caused by subtracting (\d{1,6}) from (\d{1,6})"
    r"|Kernel size can't be greater than actual input size",
    re.I,
)
_MAX_LINES = 200_000
_MAX_LINE_CHARS = 5_000


@dataclass(frozen=True)
class SizeMessage:
    """One message: the model's spatial size and the one it was given (height, width), or,
    for a flattened feature count, the two counts and ``flattened`` set."""

    line: int
    text: str
    built: tuple[int, ...]
    given: tuple[int, ...]
    flattened: bool = False
    too_small: bool = False


def _spatial(shape: str) -> tuple[int, int] | None:
    """(height, width) of a printed image batch shape, channels last or first, else None."""
    dims = [d.strip() for d in shape.split(",")]
    if len(dims) != 4 or not all(d.isdigit() for d in dims[1:]):
        return None
    h, w, c = (int(d) for d in dims[1:])
    if c in (1, 3, 4):
        return h, w
    first, h2, w2 = (int(d) for d in dims[1:])
    return (h2, w2) if first in (1, 3, 4) else None


def size_messages(lines: list[str]) -> list[SizeMessage]:
    """Every message of the kinds above whose two sizes differ, in log order."""
    out: list[SizeMessage] = []
    for i, line in enumerate(lines[:_MAX_LINES], 1):
        if len(line) > _MAX_LINE_CHARS:
            continue
        text = line.strip()
        if m := _TOO_SMALL.search(line):
            out.append(SizeMessage(i, text, (), (), too_small=True))
            continue
        if "shape" not in line and "match model" not in line:
            continue
        if m := (_CONSTRUCTED.search(line) or _EXPECTED.search(line)):
            built, given = _spatial(m[1]), _spatial(m[2])
            if built and given and built != given:
                out.append(SizeMessage(i, text, built, given))
        elif m := _VIT.search(line):
            given = (int(m[1]), int(m[2] or m[1]))
            built = (int(m[3]), int(m[4] or m[3]))
            if built != given:
                out.append(SizeMessage(i, text, built, given))
        elif (m := _FLATTENED.search(line)) and m[1] != m[2]:
            out.append(SizeMessage(i, text, (int(m[1]),), (int(m[2]),), flattened=True))
    return out


def _side_ratio(built: int, given: int) -> Fraction | None:
    """The ratio of image sides that turns ``built`` flattened features into ``given``, when
    the ratio of the counts is the square of a simple fraction (a Flatten over the same
    channels), else None."""
    ratio = Fraction(given, built)
    num, den = math.isqrt(ratio.numerator), math.isqrt(ratio.denominator)
    if num * num == ratio.numerator and den * den == ratio.denominator and den <= 32:
        return Fraction(num, den)
    return None


def _size(hw: tuple[int, ...]) -> str:
    return "x".join(str(d) for d in hw)


def input_size_messages(log: ParsedLog) -> list[Finding]:
    """GL440: the first message whose sizes differ; an ``error`` when the framework printed
    both image sizes, a ``warning`` when only flattened feature counts say it."""
    found = size_messages(log.lines)
    if not found:
        return []
    msg = next((m for m in found if not (m.flattened or m.too_small)), found[0])
    quote = msg.text if len(msg.text) <= 300 else msg.text[:297] + "..."
    evidence = [f"  line {msg.line:>4} | {quote}"]
    if msg.too_small:
        evidence.append(
            "inferred: the network is taken to be a standard architecture built for larger "
            "images (a custom network with too many pooling layers gives this message too)"
        )
        title = (
            "The images are too small for the network: its feature maps shrink to nothing "
            "before a layer"
        )
        severity = "warning"
    elif msg.flattened:
        built, given = msg.built[0], msg.given[0]
        side = _side_ratio(built, given)
        if side is None:
            return []  # not a size change of one image: another layer, another cause
        evidence.append(
            f"{given} features where the Dense layer was built for {built}: {given}/{built} = "
            f"({side})^2, what a Flatten gives for images {side} times as large per side"
        )
        evidence.append(
            "inferred: the features are taken to come from a Flatten over the image of one "
            "backbone (the message names only the counts; a head built on another backbone's "
            "features gives such a message too)"
        )
        title = (
            f"A Dense layer built for {built} flattened features receives {given}: the images "
            f"are {side} times the size per side the model was built for"
        )
        severity = "warning"
    else:
        evidence.append(f"built for {_size(msg.built)}, given {_size(msg.given)} (height x width)")
        title = f"The model was built for {_size(msg.built)} images and is given {_size(msg.given)}"
        severity = "error"
    return [
        make(
            "GL440",
            title=title,
            severity=severity,
            evidence="\n".join(evidence),
            explanation=(
                "The images reach the model at another size than the one it was built (and "
                "trained) for. Depending on the layers that is an error, or it runs: a "
                "convolutional backbone with global pooling accepts any size, but the "
                "features it computes at another scale are not those the head was trained on, "
                "so the predictions are worse, often near chance. The size is set in two "
                "places that disagree: the model's input shape (or the size the training "
                "loader resized to) and the size the evaluation or prediction code loads "
                "images at."
            ),
            fix=(
                "# One constant for both places:\n"
                "IMG_SIZE = (224, 224)\n"
                "base = keras.applications.MobileNetV2(input_shape=IMG_SIZE + (3,), ...)\n"
                "img = keras.utils.load_img(path, target_size=IMG_SIZE)  # prediction\n"
                "# PyTorch: the same transforms.Resize/CenterCrop for training and evaluation"
            ),
            references=["https://keras.io/api/applications/"],
        )
    ]
