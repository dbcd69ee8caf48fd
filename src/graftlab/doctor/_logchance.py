"""Logs that sit at a value a working model never shows, read without the model summary.

People paste the epoch lines, not the summary: the number of classes K and the output layer
must then come from the numbers themselves. A loss near ln K is the uniform prediction; an
accuracy of exactly 1/K is chance; a constant loss equal to (1 - accuracy) times what the
framework's clipped log gives for a probability of exactly 1.0 is a one-unit softmax; a
validation accuracy of exactly 0 while training learns is a validation set of classes the
model never trains on.
"""

from __future__ import annotations

import math
import re
import statistics

from graftlab.doctor import _checks as fixes
from graftlab.doctor._checks import REFS, make
from graftlab.doctor._logparse import EpochRow, ParsedLog
from graftlab.doctor._logutil import MIN_RUN, _cites, _finite, _fmt, _phase_label
from graftlab.doctor.findings import Finding

#: -log of what the frameworks clip a probability of exactly 0 to, for the wrong class of a
#: binary cross-entropy: tf.keras (log(eps + 1 - (1 - eps)) in float32: 15.333), Keras 3 and
#: TF (float32 1 - 1e-7: 15.942), log(1e-7) = 16.118, PyTorch BCELoss (log clamped at -100).
CLIPPED_LOG = (15.333, 15.942, 16.118, 100.0)
_VALIDATE_ON = re.compile(r"\bTrain on (\d+) samples, validate on (\d+) samples", re.I)


def infer_k(log: ParsedLog, rows: list[EpochRow] | None = None) -> tuple[int | None, str]:
    """K and where it came from: printed (summary, ``Found ... K classes``), else an accuracy
    printed at exactly 1/K at least twice, else a first training loss at ln K."""
    if log.num_classes and log.num_classes >= 2:
        return log.num_classes, log.num_classes_evidence or "printed"
    rows = log.rows if rows is None else rows
    accs = [v for r in rows for c, v in r.values.items() if c.endswith("accuracy")]
    accs = [v for v in accs if math.isfinite(v) and 0 < v < 0.34]
    for k in range(3, 101):
        hits = [v for v in accs if round(v, 4) == round(1 / k, 4)]
        # 0.25, 0.2 are round numbers a small validation set scores by accident; from 1/6 on
        # four decimals are specific.
        if len(hits) >= 2 and (k >= 6 or len(hits) >= 3):
            return (
                k,
                f"inferred from the accuracy {_fmt(hits[0])} = 1/{k}, printed {len(hits)} times",
            )
    # A fresh softmax scores ln K on its first batches; an epoch average is already lower
    # unless the epoch taught nothing (accuracy still at chance).
    first = next((s for s in log.steps if s.step <= 3 and "train_loss" in s.values), None)
    if first is not None:
        loss, acc, where = first.values["train_loss"], None, f"step {first.step}"
    elif rows and "train_loss" in rows[0].values:
        loss, acc = rows[0].values["train_loss"], rows[0].values.get("train_accuracy")
        where = f"epoch {rows[0].epoch}"
    else:
        return None, ""
    k = round(math.exp(loss)) if math.isfinite(loss) and loss < 7 else 0
    at_chance = acc is None or acc <= 1.5 / max(k, 1)
    if 3 <= k <= 1000 and abs(loss - math.log(k)) <= _ln_tol(k) and at_chance:
        return k, f"inferred from the loss {_fmt(loss)} = ln {k} at {where}"
    return None, ""


def _ln_tol(k: int) -> float:
    """How far from ln K a noisy loss may be and still name K (a third of the gap to ln(K+1))."""
    return min(0.07, (math.log(k + 1) - math.log(k)) / 3)


def uniform_output(log: ParsedLog, broken: set[int]) -> list[Finding]:
    """GL428: the training loss stays near ln K and the accuracies near 1/K for the whole
    phase, K printed or inferred from the numbers: the predictions do not depend on the input."""
    for rows in log.phases():
        phase = rows[0].phase
        if phase in broken:
            continue
        losses = [v for _, v in _finite(rows, "train_loss")]
        accs = {c: [v for _, v in _finite(rows, c)] for c in ("train_accuracy", "val_accuracy")}
        accs = {c: v for c, v in accs.items() if v}
        if len(losses) < MIN_RUN + 1 or not accs or max(losses) - min(losses) < 5e-4:
            continue  # frozen to four decimals: GL402/GL404 give the exact arithmetic
        k, source = infer_k(log, rows)
        if k is None:
            guess = round(math.exp(statistics.median(losses)))
            if not 3 <= guess <= 1000:
                continue
            k, source = guess, f"inferred from the median loss {_fmt(statistics.median(losses))}"
        if k < 3:
            continue
        target, tol = math.log(k), max(_ln_tol(k), 0.03 * math.log(k))
        if any(abs(v - target) > tol for v in losses):
            continue
        if any(max(v) >= 2 / k or statistics.median(v) > 1.6 / k for v in accs.values()):
            continue
        broken.add(phase)
        cols = ["train_loss", *accs]
        return [
            make(
                "GL428",
                title=f"The loss stays at ln {k} = {target:.4f} and the accuracy near chance "
                f"(1/{k} = {1 / k:.4f}) for {len(losses)} epochs: the predictions do not depend "
                "on the input" + _phase_label(log, phase),
                evidence=_cites(rows, *cols)
                + f"\nK = {k}: {source}"
                + f"\nloss within {tol:.3f} of ln {k} in every epoch; accuracy never reaches "
                f"2/{k} = {2 / k:.4f}"
                + "\ninferred: a model that cannot tell its inputs apart is read as inputs "
                "that carry no information",
                explanation=(
                    f"Cross-entropy of the uniform prediction 1/{k} is ln {k} = {target:.4f}. A "
                    "loss that never leaves it, with accuracy at chance on training and "
                    "validation alike, means the network gives (nearly) the same output for "
                    "every image: it is not learning slowly, it sees nothing to learn from. "
                    "With a pretrained backbone the likely cause is the input: images scaled "
                    "twice (divided by 255 after ToTensor or a Rescaling layer already did it), "
                    "not normalised the way the weights were trained, or constant after a "
                    "broken decode, so the features barely vary. Also check that the labels "
                    "line up with the images and that the trained layer reaches the loss."
                ),
                fix=fixes.fix_chance(log.framework or "torch")
                + "\n# Look at one batch as the network receives it:\n"
                "print(x.min(), x.max(), x.mean(), x.std())  # ImageNet-normalised: about "
                "-2..2, mean ~0, std ~1",
                references=[REFS["karpathy"]],
                causes=["preprocessing-mismatch"],
            )
        ]
    return []


def single_unit_constant(log: ParsedLog, broken: set[int]) -> list[Finding]:
    """GL429: loss and accuracy identical to four decimals for every epoch, the loss being
    0 or (1 - accuracy) x a clipped log: one output unit under softmax, read from the numbers."""
    if log.output_units is not None:
        return []  # the summary shows the last layer: GL405 reads it from there
    for rows in log.phases():
        if rows[0].phase in broken or len(rows) < MIN_RUN:
            continue
        loss = [v for _, v in _finite(rows, "train_loss")]
        acc = [v for _, v in _finite(rows, "train_accuracy")]
        if len(loss) != len(rows) or len(acc) != len(rows):
            continue
        if max(acc) - min(acc) >= 5e-5 or not 0 < acc[0] < 1:
            continue
        if max(loss) - min(loss) >= 5e-5:
            if (found := _accuracy_blind_to_the_loss(log, rows, loss, acc[0])) is not None:
                broken.add(rows[0].phase)
                return [found]
            continue
        arithmetic = _output_fixed_at_one(loss[0], acc[0])
        if arithmetic is None:
            continue
        broken.add(rows[0].phase)
        return [
            make(
                "GL405",
                severity="warning",
                title=f"Loss {_fmt(loss[0])} and accuracy {_fmt(acc[0])} do not change by a "
                f"digit in {len(rows)} epochs: a softmax over a single output unit"
                + _phase_label(log, rows[0].phase),
                evidence=_cites(rows, "train_loss", "train_accuracy", "val_loss", "val_accuracy")
                + f"\n{arithmetic}"
                + f"\naccuracy {_fmt(acc[0])} is the share of the class the constant output "
                "stands for"
                + "\ninferred: the output layer is read from the numbers (no model summary in "
                "the log)",
                explanation=(
                    "softmax(z) = exp(z)/sum(exp(z)) over one unit is exactly 1.0 for every "
                    "input: the gradient is zero, nothing trains, the loss is a constant and "
                    "the accuracy is the share of one class. Dense(1, activation='softmax') "
                    "with binary_crossentropy gives exactly this. (A sigmoid saturated at 1.0 "
                    "for every image after a blow-up gives the same numbers; the model summary "
                    "tells them apart.)"
                ),
                fix=fixes.fix_single_unit_softmax(log.framework or "keras"),
                references=[REFS["karpathy"]],
            )
        ]
    return []


#: BCEWithLogitsLoss given the probability 1.0 as a logit: ln(1 + e^-1) for a positive image.
_BCE_LOGIT_ONE = math.log(1 + math.exp(-1))


def _output_fixed_at_one(loss: float, acc: float) -> str | None:
    """The arithmetic when a constant ``loss`` beside a constant ``acc`` is what an output of
    exactly 1.0 for every image scores under a common loss, else None."""
    neg = 1 - acc
    for c in CLIPPED_LOG:
        if abs(loss - c * neg) <= 0.02 * c * neg:
            return (
                f"loss {_fmt(loss)} = (1 - {_fmt(acc)}) x {c:g}: every output is exactly 1.0, "
                f"and each image of the other class costs -log of the clipped probability ({c:g})"
            )
    if loss <= 5e-4:
        return (
            f"loss {_fmt(loss)}: a softmax over one unit gives 1.0 to the only class, so "
            "categorical cross-entropy is 0 whatever the label"
        )
    if abs(loss - neg) <= 0.002:
        return f"loss {_fmt(loss)} = 1 - {_fmt(acc)}: the squared error of an output fixed at 1.0"
    if abs(loss - (_BCE_LOGIT_ONE + neg)) <= 0.002:
        return (
            f"loss {_fmt(loss)} = ln(1 + e^-1) + (1 - {_fmt(acc)}): BCEWithLogitsLoss given the "
            "probability 1.0 of a one-unit softmax as its logit, for every image"
        )
    return None


def validation_of_unseen_classes(log: ParsedLog, broken: set[int]) -> list[Finding]:
    """GL430: validation accuracy exactly 0 (or exactly 1) in every epoch while training
    accuracy climbs: the validation set is a class the model never trains on (Keras's
    validation_split takes the LAST fraction of class-sorted arrays)."""
    for rows in log.phases():
        phase = rows[0].phase
        if phase in broken:
            continue
        val, train = _finite(rows, "val_accuracy"), _finite(rows, "train_accuracy")
        if len(val) < 2 or len(train) < 2 or len(val) != len(rows):
            continue
        value = val[0][1]
        if not all(abs(v - value) < 5e-5 for _, v in val) or 5e-5 <= value <= 1 - 5e-5:
            continue
        top, first = max(v for _, v in train), train[0][1]
        learns = top - first >= 0.1 or top >= 0.6
        if not learns or (value > 0.5 and top >= 0.95):
            continue
        broken.add(phase)
        said = next((m for ln in log.lines if (m := _VALIDATE_ON.search(ln))), None)
        evidence = _cites(rows, "train_accuracy", "val_accuracy", "val_loss")
        if said:
            evidence += f"\nthe log: {said[0]} (arrays split by fit(validation_split=...))"
        evidence += (
            "\ninferred: an accuracy of exactly "
            f"{'0' if value < 0.5 else '1'} in every epoch is read as a validation set of "
            "one class"
        )
        return [
            make(
                "GL430",
                title=f"val_accuracy is exactly {_fmt(value)} in every epoch while training "
                f"accuracy reaches {_fmt(top)}: validation holds classes training never sees"
                + _phase_label(log, phase),
                evidence=evidence,
                explanation=(
                    "Not a single validation image is classified "
                    + ("correctly" if value < 0.5 else "wrongly")
                    + " in any epoch, while training accuracy moves: the validation set is "
                    "made of a class (or classes) "
                    + (
                        "absent from the training data, which the model therefore never predicts."
                        if value < 0.5
                        else "that the model predicts for everything."
                    )
                    + " Keras's fit(validation_split=0.2) takes the LAST 20% of the arrays, "
                    "before any shuffling (shuffle=True only shuffles the training part each "
                    "epoch): with images loaded class by class, that is the last class. The "
                    "same happens with a validation folder whose classes are not the training "
                    "classes."
                ),
                fix=(
                    "# Shuffle once before splitting (or split per class):\n"
                    "idx = np.random.default_rng(0).permutation(len(x))\n"
                    "x, y = x[idx], y[idx]\n"
                    "model.fit(x, y, validation_split=0.2, ...)\n"
                    "# or: train_test_split(x, y, test_size=0.2, stratify=y, shuffle=True)"
                ),
                references=[REFS["validation-split"]],
            )
        ]
    return []


def _binary_entropy(p: float) -> float:
    return -(p * math.log(p) + (1 - p) * math.log(1 - p))


def _accuracy_blind_to_the_loss(
    log: ParsedLog, rows: list[EpochRow], loss: list[float], acc: float
) -> Finding | None:
    """GL405 (tf.keras): binary cross-entropy on a one-unit softmax trains the unit's logit
    (tf.keras takes the logits the softmax cached), so the loss falls far below what a model
    stuck at the accuracy ``acc`` can score, while the accuracy, computed from the softmax's
    constant 1.0, does not move by one image from the first epoch."""
    if log.num_classes and log.num_classes > 2:
        return None
    val = [v for _, v in _finite(rows, "val_accuracy")]
    if val and max(val) - min(val) >= 5e-5:
        return None
    prior = _binary_entropy(acc)
    if not (loss[-1] <= 0.6 * prior and loss[-1] <= 0.85 * loss[0]):
        return None
    return make(
        "GL405",
        severity="warning",
        title=f"Accuracy {_fmt(acc)} does not change by one image in {len(rows)} epochs while "
        f"the loss falls to {_fmt(loss[-1])}: a softmax over a single output unit"
        + _phase_label(log, rows[0].phase),
        evidence=_cites(rows, "train_loss", "train_accuracy", "val_loss", "val_accuracy")
        + f"\na model that predicts one class for a share {_fmt(acc)} of the images scores a "
        f"binary cross-entropy of at least about {prior:.4f} (the entropy of that share); the "
        f"loss reaches {_fmt(loss[-1])}, so the loss sees predictions that the accuracy does not"
        + "\ninferred: the output layer is read from the numbers (no model summary in the log)",
        explanation=(
            "The loss and the accuracy are computed from different outputs. With "
            "Dense(1, activation='softmax') and loss='binary_crossentropy', tf.keras computes "
            "the loss from the logit the softmax layer cached, so the unit trains like a "
            "sigmoid and the loss falls; the accuracy is computed from the softmax output, "
            "which over one unit is exactly 1.0 for every image, so it stays at the share of "
            "the positive class from the first epoch. Predictions from this model are all 1."
        ),
        fix=fixes.fix_single_unit_softmax(log.framework or "keras"),
        references=[REFS["karpathy"]],
    )
