"""Image transforms a log lists step by step: an evaluation pipeline that squashes the image to
a fixed square while training crops it.

Toolkits built on Dassl (CoOp, CoCoOp and their kin) and several training scripts print each
pipeline as a header and one ``+ step`` line per transform::

    Building transform_train
    + random resized crop (size=(224, 224), scale=(0.08, 1.0))
    + random flip
    Building transform_test
    + resize to 224x224

Training on crops (the object at its own aspect ratio, a random part of the frame) and
evaluating on the whole frame resized to both sides at once shows the model objects stretched
or squeezed as it never saw them, and the reported accuracy falls below what the weights can do;
the usual evaluation resizes the shorter side and takes the centre crop of the training size.
"""

from __future__ import annotations

import re

from graftlab.doctor._checks import declare, make
from graftlab.doctor._logparse import ParsedLog
from graftlab.doctor.findings import Finding

declare(
    "GL449",
    "train-eval-preprocessing-mismatch",
    "warning",
    "log",
    "Training crops its images but evaluation resizes the whole frame to a square",
)

_HEADER = re.compile(
    r"(?i)\b(?:build(?:ing)?\s+)?(?:transforms?[_ ](train|test|val(?:id)?|eval)|"
    r"(train|test|val(?:id)?|eval)(?:ing|ation)?[_ ]transforms?)\b"
)
_STEP = re.compile(r"^\s*\+\s*(\S.*)$")
_CROP = re.compile(r"(?i)\bcrop")
_SQUASH = re.compile(r"(?i)\bresize\w*\b.*?\(?\s*(\d+)\s*[x×,]\s*(\d+)")


def _pipelines(lines: list[str]) -> dict[str, list[tuple[int, str]]]:
    """role ('train' or 'eval') -> the (line, step) list printed under its header."""
    out: dict[str, list[tuple[int, str]]] = {}
    role, steps = None, []
    for i, line in enumerate(lines, 1):
        m = _HEADER.search(line)
        step = _STEP.match(line)
        if m and not step:
            if role and steps:
                out.setdefault(role, steps)
            word = (m.group(1) or m.group(2)).lower()
            role, steps = ("train" if word == "train" else "eval"), []
        elif role and step:
            steps.append((i, step.group(1).strip()))
        elif role and steps:
            out.setdefault(role, steps)
            role, steps = None, []
    if role and steps:
        out.setdefault(role, steps)
    return out


def squashed_evaluation(log: ParsedLog) -> list[Finding]:
    """GL449: the printed training pipeline crops, the evaluation one resizes both sides and
    crops nothing."""
    pipes = _pipelines(log.lines)
    train, ev = pipes.get("train"), pipes.get("eval")
    if not train or not ev:
        return []
    crops = [(i, s) for i, s in train if _CROP.search(s)]
    if not crops or any(_CROP.search(s) for _, s in ev):
        return []
    squash = next(((i, s, m) for i, s in ev if (m := _SQUASH.search(s))), None)
    if squash is None:
        return []
    i, s, m = squash
    h, w = m.group(1), m.group(2)
    ci, cs = crops[0]
    return [
        make(
            "GL449",
            evidence=f"  line {ci:>4} | training: + {cs}\n  line {i:>4} | evaluation: + {s}\n"
            "no crop among the evaluation steps",
            explanation=(
                f"Training feeds the model crops ({cs}) taken from regions close to the "
                "image's own proportions; evaluation resizes every whole image to "
                f"{h}x{w} at once, "
                "so images that are not square reach the model stretched or squeezed, with "
                "borders it never saw in training. Accuracy measured that way falls below what "
                "the trained weights can do (several points on data sets of wide images such "
                "as cars or aircraft)."
            ),
            fix=(
                "# Evaluate as pretrained models and their papers do: shorter side, then the\n"
                "# centre crop of the training size\n"
                "test_tf = transforms.Compose([\n"
                f"    transforms.Resize({h}),  # an int: the shorter side, aspect kept\n"
                f"    transforms.CenterCrop({h}),\n"
                "    transforms.ToTensor(),\n"
                "    transforms.Normalize(mean, std),  # the same as in training\n"
                "])\n"
                "# Dassl/CoOp: INPUT.TRANSFORMS for test must include center_crop (update the\n"
                "# code if its transform builder predates it)"
            ),
        )
    ]
