"""A trained model evaluated at exactly chance, top-1 and top-5, while its loss says it is
sure: the labels index other classes than the model's outputs.

A model that has learned anything ranks the true class high far more often than chance: its
top-5 accuracy is a few times its top-1 at most, both far above 1/K and 5/K. Top-1 at 1/K and
top-5 at 5/K mean the true class sits at a uniformly random rank of the outputs. If the model
were uncertain (weights not loaded, inputs destroyed), its loss would sit near ln K, the loss of
the uniform distribution; a loss well above ln K says it puts its probability on classes with
confidence, and the labels disagree with every one of them. With a checkpoint that loaded with
every key, that is a label mapping: the evaluation set numbers its classes otherwise (another
release of the data, a ground-truth file in another class order, folder names sorted otherwise).
"""

from __future__ import annotations

import math
import re

from graftlab.doctor._checks import declare, make
from graftlab.doctor._logparse import ParsedLog
from graftlab.doctor._logutil import _fmt
from graftlab.doctor.findings import Finding

declare(
    "GL439",
    "label-order-mismatch",
    "warning",
    "log",
    "A loaded model scores chance top-1 and top-5 with a loss far above ln K: labels index "
    "other classes",
)

#: Top-1 and top-5 give the same K within this factor when both are at chance.
_K_AGREE = 1.6
#: Fewer classes than this leave too few ranks for top-5 at 5/K to say anything.
_MIN_K = 20
#: How far above ln K the loss must be to say the model is confident, not uniform.
_ABOVE_UNIFORM = 1.0


def chance_with_confidence(log: ParsedLog) -> list[Finding]:
    """GL439 from the last top-1/top-5 summary of an evaluation."""
    if log.topk is None:
        return []
    line, top1, top5, loss = log.topk
    if not 0 < top1 < top5 <= 1:
        return []
    k1, k5 = 1 / top1, 5 / top5
    if max(k1, k5) / min(k1, k5) > _K_AGREE:
        return []
    k = log.num_classes or round(k5)
    if k < _MIN_K or loss is None or not math.isfinite(loss):
        return []
    if loss < math.log(k) + _ABOVE_UNIFORM:
        return []  # near the uniform distribution's loss: not confident, another cause
    said = log.lines[line - 1].strip() if 0 < line <= len(log.lines) else ""
    evidence = [f"  line {line:>4} | {said[:160]}"]
    evidence.append(
        f"top-1 {top1:.2%} = 1/{k1:.0f} and top-5 {top5:.2%} = 5/{k5:.0f}: the true class is at "
        "a random rank of the outputs"
        + (f" (K = {k}: {log.num_classes_evidence})" if log.num_classes else f" (K about {k})")
    )
    evidence.append(
        f"mean loss {_fmt(loss)}, above ln {k} = {math.log(k):.2f} (the loss of a uniform "
        "guess): the model is confident, and wrong"
    )
    if log.weights_loaded:
        evidence.append(f"  line {log.weights_loaded[0]:>4} | {log.weights_loaded[1]}")
    evidence.append(
        "inferred: the model's outputs are taken to be trained classes; the mismatch is read "
        "from the numbers"
    )
    return [
        make(
            "GL439",
            title=f"Top-1 {top1:.2%} and top-5 {top5:.2%} are chance for about {k} classes, "
            f"with a loss of {_fmt(loss)} above ln {k}: the labels index other classes",
            evidence="\n".join(evidence),
            explanation=(
                "A model that learned anything puts the true class in its top 5 far more often "
                "than 5 times in K; here top-1 and top-5 are exactly what a random ranking "
                "gives. Were the model merely broken (weights not loaded, inputs destroyed) it "
                f"would be unsure, with a loss near ln {k}; it is sure instead, and wrong for "
                "nearly every image. Its predictions and the labels use two different "
                "numberings of the classes: an evaluation set from another release of the data "
                "(ImageNet's 2010 validation labels under a 2012 model), a ground-truth file in "
                "the devkit's class order instead of the sorted-synset order the model was "
                "trained with, or class folders that sort otherwise than the training ones."
            ),
            fix=(
                "# Check the mapping on a few images: the predicted class names must match\n"
                "# what the images show. Use the class list the checkpoint was trained with:\n"
                "ds = ImageFolder(val_dir, transform=tf)  # folders named as in training\n"
                "assert ds.classes == train_classes       # same names, same order"
            ),
        )
    ]


declare(
    "GL446",
    "label-order-mismatch",
    "warning",
    "log",
    "A pretrained model, only evaluated, scores a few percent top-1 and top-5: its outputs and "
    "the labels do not correspond",
)

_PRETRAINED = re.compile(r"(?i)\bpre-?trained\b")
#: A released checkpoint, named with the hash of its contents as model zoos publish them:
#: torchvision ``resnet18-5c106cde.pth``, OpenMMLab ``mobilenet_v2_batch256_20200708-3b2dc3af
#: .pth``. Eight hex digits with a letter among them: an epoch counter is digits only.
_RELEASED = re.compile(r"(?<=[a-z0-9])-(?=[0-9]{0,7}[a-f])[0-9a-f]{8}\.pth\b", re.I)
#: Top-1 and top-5 below these are far under any published pretrained model on its own classes.
_FAR_TOP1, _FAR_TOP5 = 0.05, 0.10


def pretrained_far_below(log: ParsedLog) -> list[Finding]:
    """GL446: a log that announces a pretrained model and holds no training, only a final
    top-1/top-5 summary with both a few percent. A pretrained model evaluated on the classes it
    was trained for scores tens of percent; a few percent, with top-5 barely above top-1, says
    the evaluation labels number the classes otherwise than the model's outputs (validation
    images not laid out in per-class folders named as in training, another class list), or
    that the inputs are destroyed. Both are named; the numbers cannot tell them apart. A
    checkpoint file named as model zoos publish them (a content hash) says pretrained too."""
    if log.topk is None or log.rows:
        return []
    line, top1, top5, loss = log.topk
    if not (0 <= top1 <= top5 and top1 < _FAR_TOP1 and top5 < _FAR_TOP5):
        return []
    said = next(((i, s.strip()) for i, s in enumerate(log.lines, 1) if _PRETRAINED.search(s)), None)
    released = next(
        ((i, s.strip()) for i, s in enumerate(log.lines, 1) if _RELEASED.search(s)), None
    )
    if said is None and released is None:
        return []  # a checkpoint of one's own may be of anything: the log must say pretrained
    source = said or released
    result = log.lines[line - 1].strip() if 0 < line <= len(log.lines) else ""
    evidence = [
        f"  line {source[0]:>4} | {source[1][:160]}"
        + ("" if said else " (a released checkpoint: its name carries the release's hash)"),
        f"  line {line:>4} | {result[:160]}",
        f"top-1 {top1:.2%}, top-5 {top5:.2%}, with no training in the log: the pretrained "
        "model is measured as it was loaded",
    ]
    if loss is not None and math.isfinite(loss):
        evidence.append(f"mean loss {_fmt(loss)}")
    evidence.append(
        "inferred: the model is taken to be evaluated on the classes it was trained for; the "
        "mismatch is read from the numbers"
    )
    return [
        make(
            "GL446",
            title=f"The pretrained model scores top-1 {top1:.2%} and top-5 {top5:.2%}: the "
            "evaluation labels do not correspond to its outputs",
            evidence="\n".join(evidence),
            explanation=(
                "A pretrained classifier evaluated on the classes it was trained for scores "
                "tens of percent top-1, and its top-5 is far above its top-1. A few percent "
                "for both means the labels the loader gives the images are not the classes the "
                "model predicts: validation images not arranged in one folder per class, named "
                "as the training folders are (ImageFolder numbers the sorted folder names), a "
                "label file in another class order, or a head for other classes. Inputs "
                "destroyed by the wrong preprocessing give the same picture; check the labels "
                "first, then the transform."
            ),
            fix=(
                "# the evaluation folder must hold one sub-folder per class, named as in train/\n"
                "val = ImageFolder(val_dir, transform=tf)\n"
                "assert val.classes == train.classes  # same names, same order\n"
                "# then look at a few images with their predicted class names"
            ),
        )
    ]
