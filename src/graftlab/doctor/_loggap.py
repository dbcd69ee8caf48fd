"""Validation at chance while training learns: the candidates, ranked by the evidence at hand.

A model that learns its training images but predicts no better than chance on validation
images works in one mode and not in the other. The log shows that much for certain; it does not
show why. Four causes give this signature, and each finding names all that the evidence
leaves, most likely first, under the check of the first:

- ``batchnorm`` (GL419): inference normalises with moving statistics that do not fit the data
  (Keras's default momentum 0.99 after a few hundred steps; a frozen backbone whose statistics
  are ImageNet's); in a plain PyTorch loop, ``eval-mode-missing`` is its companion;
- ``preprocessing-mismatch`` (GL455): every split is prepared unlike the pretrained weights
  expect (divided by 255 before a model that rescales itself, no ``preprocess_input``); in
  training mode BatchNorm re-normalises each batch and hides it, at inference the stored
  statistics meet inputs in another range;
- ``train-eval-preprocessing-mismatch`` (GL442): the validation images are prepared
  differently (a rescale, another ``preprocess_input``, another size);
- ``label-order-mismatch`` (GL443): the validation labels are not paired with their images (a
  shuffling generator read against a list, labels collected in a second pass, a class order
  that differs).

The log alone ranks BatchNorm first, except when the validation loss rises in every epoch: a
model growing more confident about images whose labels say otherwise. A script given with the
log ranks again (:func:`graftlab.doctor.link.rank_gap_causes`): a model without BatchNorm rules
it out, and a cause the script analyser found in the code comes first. Severity stays
``warning``: the symptom is certain, the cause is not.
"""

from __future__ import annotations

import itertools

from graftlab.doctor import _checks as fixes
from graftlab.doctor._checks import REFS, declare, make
from graftlab.doctor.findings import Finding

#: The check that reports the finding when that candidate ranks first.
CODES = {
    "batchnorm": "GL419",
    "preprocessing-mismatch": "GL455",
    "train-eval-preprocessing-mismatch": "GL442",
    "label-order-mismatch": "GL443",
}
declare(
    "GL455",
    "preprocessing-mismatch",
    "warning",
    "log",
    "Training accuracy climbs while validation stays at chance: inputs unlike the pretrained "
    "weights expect",
)
declare(
    "GL442",
    "train-eval-preprocessing-mismatch",
    "warning",
    "log",
    "Training accuracy climbs while validation stays at chance: validation inputs differ",
)
declare(
    "GL443",
    "label-order-mismatch",
    "warning",
    "log",
    "Training accuracy climbs while validation stays at chance: labels not paired with images",
)

#: What each candidate means, in the title and in the explanation.
_NAMES = {
    "batchnorm": "BatchNorm statistics at inference",
    "eval-mode-missing": "the model left in training mode at evaluation",
    "preprocessing-mismatch": "images prepared unlike the pretrained weights expect",
    "train-eval-preprocessing-mismatch": "validation images prepared differently",
    "label-order-mismatch": "validation labels not paired with their images",
}
_WHY = {
    "batchnorm": (
        "training normalises with each batch's statistics, inference with the moving averages, "
        "which with the default momentum 0.99 and a few hundred steps on data unlike the "
        "pretraining data are still far from the data's statistics (or were never updated: a "
        "frozen backbone called in inference mode during training keeps ImageNet's)"
    ),
    "eval-mode-missing": (
        "without model.eval() BatchNorm normalises each small validation batch by itself and "
        "Dropout stays on"
    ),
    "preprocessing-mismatch": (
        "images divided by 255 before a model that rescales them itself (Keras EfficientNet, "
        "ConvNeXt), or without the preprocess_input its weights were trained with: training "
        "mode normalises each batch by its own statistics and still learns, inference meets "
        "the stored statistics with inputs in another range"
    ),
    "train-eval-preprocessing-mismatch": (
        "validation images rescaled where training images were not (or the reverse), another "
        "preprocess_input, another size: to the network they all look alike"
    ),
    "label-order-mismatch": (
        "a shuffling generator or DataLoader read against its .classes or a separate list, "
        "labels collected in a second pass over a shuffled pipeline, or another class order: "
        "the model predicts the images well and is scored against other images' labels"
    ),
}
_FIXES = {
    "preprocessing-mismatch": (
        "# The preprocessing the weights were trained with, for every split:\n"
        "datagen = ImageDataGenerator(preprocessing_function=preprocess_input)  # no rescale\n"
        "# Keras EfficientNet/ConvNeXt rescale inside the model: feed 0..255 pixels"
    ),
    "train-eval-preprocessing-mismatch": (
        "# One preprocessing for every split:\n"
        "datagen = ImageDataGenerator(preprocessing_function=preprocess_input)\n"
        "train_gen = datagen.flow_from_directory(train_dir, ...)\n"
        "val_gen = datagen.flow_from_directory(val_dir, shuffle=False, ...)"
    ),
    "label-order-mismatch": (
        "# Labels come with their images, in one pass, in one class order:\n"
        "val_gen = datagen.flow_from_directory(val_dir, classes=list(train_gen.class_indices), "
        "shuffle=False)\n"
        "# PyTorch: for x, y in val_loader: ... compare model(x).argmax(1) with this y"
    ),
}


def candidates(plain_torch: bool, vloss: list[float]) -> tuple[list[str], str]:
    """``(ranked causes, why ranked so)`` from the log alone."""
    order = [
        "batchnorm",
        "preprocessing-mismatch",
        "train-eval-preprocessing-mismatch",
        "label-order-mismatch",
    ]
    if plain_torch:
        order.insert(1, "eval-mode-missing")
    if len(vloss) >= 3 and all(b > a for a, b in itertools.pairwise(vloss)):
        order.remove("label-order-mismatch")
        order.insert(0, "label-order-mismatch")
        return order, (
            "validation loss rises in every epoch while its accuracy stays at chance: the "
            "model grows more confident about images whose labels say otherwise"
        )
    return order, (
        "the log alone cannot tell them apart; BatchNorm first because it needs no mistake in "
        "the data code, only fine-tuning"
    )


def gap_finding(
    symptom: str,
    evidence: str,
    order: list[str],
    reason: str,
    framework: str,
) -> Finding:
    """The finding under the check of ``order[0]``, naming every candidate in order."""
    lead = order[0]
    listed = "; ".join(f"{i}. {_NAMES[c]}" for i, c in enumerate(order, 1))
    explanation = (
        "The model learns the training images in training mode but predicts no better than "
        "chance on the validation images. Candidates, most likely first: "
        + " ".join(f"({i}) {_NAMES[c]}: {_WHY[c]}." for i, c in enumerate(order, 1))
    )
    fix = fixes.fix_batchnorm(framework) if lead == "batchnorm" else _FIXES[lead]
    return make(
        CODES[lead],
        title=f"{symptom}; likely: {_NAMES[lead]}",
        evidence=f"{evidence}\ninferred: candidates, ranked ({reason}): {listed}",
        explanation=explanation,
        fix=fix,
        references=[REFS["keras-ft"], REFS["bn"]],
        causes=order[1:],
    )


def rerank(f: Finding, order: list[str], reason: str, framework: str) -> Finding:
    """``f`` (a finding of this module) told again with the candidates in ``order``."""
    symptom = f.title.split("; likely: ")[0]
    evidence = f.evidence.split("\ninferred: candidates, ranked (")[0]
    return gap_finding(symptom, evidence, order, reason, framework)


def is_gap(f: Finding) -> bool:
    return f.code in CODES.values() and "; likely: " in f.title
