"""Batch statistics printed per split: training batches normalised, evaluation batches not.

People who suspect their input pipeline print a batch's mean and standard deviation for each
split (``print('train', xb.mean(), xb.std())``). The numbers say what scale each split reaches
the model at: standardised inputs (ImageNet mean/std) have a mean near 0 and a deviation near 1;
pixels scaled to [0, 1] a mean near 0.45 and a deviation near 0.27; raw pixels a mean near 115.
When training batches are on one scale and validation or test batches on another, the
evaluation pipeline leaves out a step the training pipeline has (a ``Normalize`` added to one
split only, a ``rescale`` on the training generator alone): the model is evaluated on inputs it
never saw, and validation loss and accuracy are worse than the weights.
"""

from __future__ import annotations

import re

from graftlab.doctor._checks import declare, make
from graftlab.doctor._logparse import ParsedLog
from graftlab.doctor.findings import Finding

declare(
    "GL461",
    "train-eval-preprocessing-mismatch",
    "error",
    "log",
    "Training and evaluation batches printed on different scales (normalised against raw)",
)

_SPLIT = re.compile(r"^\W*(train(?:ing)?|valid(?:ation)?|val|test(?:ing)?|eval(?:uation)?)\b", re.I)
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e-?\d+)?(?![\w.])", re.I)
#: ``mean=-0.07``, ``std: tensor(1.05)``: the separator is not a minus, which is the number's.
_VALUE = r"[^\w-]{0,4}(?:tensor\()?\s*(-?\d+(?:\.\d+)?(?:e-?\d+)?)"
_MEAN = re.compile(rf"(?i)\bmean\b{_VALUE}")
_STD = re.compile(rf"(?i)\b(?:std|stdev|sd)\b{_VALUE}")
_MAX_LINES = 200_000

#: What each scale is called, the step that makes it, and its (mean, std) bounds.
_SCALES = {
    "normalised": ("standardised by a mean/std Normalize", (-0.6, 0.6), (0.45, 1.6)),
    "unit": ("scaled to [0, 1] only", (0.15, 0.85), (0.08, 0.42)),
    "raw": ("raw 0-255 pixels", (25.0, 230.0), (15.0, 130.0)),
}


def _scale(mean: float, std: float) -> str | None:
    for name, (_, (m0, m1), (s0, s1)) in _SCALES.items():
        if m0 <= mean <= m1 and s0 <= std <= s1:
            return name
    return None


def _stats(line: str) -> tuple[str, float, float, bool] | None:
    """(split, mean, std, labelled) of ``train -0.07 1.05`` or ``val mean=0.46 std=0.29``."""
    m = _SPLIT.match(line)
    if not m or len(line) > 300:
        return None
    split = "train" if m[1].lower().startswith("train") else "eval"
    rest = line[m.end() :]
    mean, std = _MEAN.search(rest), _STD.search(rest)
    if mean and std:
        return split, float(mean[1]), float(std[1]), True
    if re.search(r"(?i)loss|acc|epoch|lr\b|%|/", rest):
        return None  # a metric line, not a batch's statistics
    numbers = _NUMBER.findall(rest)
    if len(numbers) != 2 or re.search(r"[A-Za-z]{3,}", _NUMBER.sub("", rest).replace("tensor", "")):
        return None
    return split, float(numbers[0]), float(numbers[1]), False


def split_scales(log: ParsedLog) -> list[Finding]:
    """GL461: the printed statistics of a training batch and an evaluation batch fall on two
    different input scales. An error when the lines name mean and std; otherwise a warning
    (that the two numbers are a mean and a deviation is inferred)."""
    seen: dict[str, tuple[int, float, float, bool, str]] = {}
    unlabelled = {"train": 0, "eval": 0}
    for i, line in enumerate(log.lines[:_MAX_LINES], 1):
        found = _stats(line)
        if found is None:
            continue
        split, mean, std, labelled = found
        unlabelled[split] += not labelled
        scale = _scale(mean, std)
        if scale is not None and split not in seen:
            seen[split] = (i, mean, std, labelled, scale)
    if "train" not in seen or "eval" not in seen or seen["train"][4] == seen["eval"][4]:
        return []
    (ti, tm, ts, tl, tscale), (ei, em, es, el, escale) = seen["train"], seen["eval"]
    # Two bare numbers after a split's name, printed once beside each other, are a look at
    # one batch; printed again every epoch they are metrics (a loss and an accuracy).
    if not (tl and el) and (max(unlabelled.values()) > 2 or abs(ti - ei) > 5):
        return []
    evidence = [
        f"  line {ti:>4} | {log.lines[ti - 1].strip()[:160]}",
        f"  line {ei:>4} | {log.lines[ei - 1].strip()[:160]}",
        f"training batches: mean {tm:g}, std {ts:g} ({_SCALES[tscale][0]}); evaluation "
        f"batches: mean {em:g}, std {es:g} ({_SCALES[escale][0]})",
    ]
    if not (tl and el):
        evidence.append(
            "inferred: the two numbers printed after each split's name are a batch's mean and "
            "standard deviation"
        )
    return [
        make(
            "GL461",
            severity="error" if tl and el else "warning",
            title=f"Training batches are {_SCALES[tscale][0]}, evaluation batches "
            f"{_SCALES[escale][0]}",
            evidence="\n".join(evidence),
            explanation=(
                "A batch's mean and deviation show the scale its pixels reach the model at. The "
                "two splits differ, so the evaluation pipeline lacks a step the training "
                "pipeline has (or adds one): the model is scored on inputs on another scale "
                "than it learned, and validation loss and accuracy are worse than the weights "
                "(a pretrained network fed unnormalised images, or the reverse). In fastai, "
                "cnn_learner(..., normalize=True) on DataLoaders without a Normalize added it "
                "to the training pipeline only in some releases (fastai#3268)."
            ),
            fix=(
                "# one normalisation for every split, defined where the data is defined\n"
                "dls = ImageDataLoaders.from_name_func(..., batch_tfms=Normalize.from_stats("
                "*imagenet_stats))  # fastai\n"
                "val_tf = transforms.Compose([..., transforms.ToTensor(), "
                "transforms.Normalize(mean, std)])  # torchvision: as in training\n"
                "ImageDataGenerator(rescale=1/255)  # Keras: for the validation generator too"
            ),
            references=["https://github.com/fastai/fastai/pull/3268"],
        )
    ]
