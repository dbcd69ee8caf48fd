"""What a training log's first lines say, before any plateau: the loss and accuracy of the
first batches against the values a correct setup starts from.

At initialisation a K-class softmax with categorical cross-entropy scores a loss near ln K and an
accuracy near 1/K. Binary cross-entropy on the same K outputs starts at ln 2 = 0.6931 (sigmoid
units at 0.5) or at the binary entropy of 1/K (softmax units at 1/K), and Keras then reports
binary accuracy, which is exactly (K-1)/K for a model that outputs "no" for every unit. Those
values at step 1 name the loss before the run has taught anything.
"""

from __future__ import annotations

import math

from graftlab.doctor import _checks as fixes
from graftlab.doctor._checks import REFS, make
from graftlab.doctor._logparse import EpochRow, ParsedLog, StepRow
from graftlab.doctor.findings import Finding

#: A first step is one of the first few batches: later running averages already moved.
FIRST_STEPS = 3
#: Logged losses have four decimals; 0.01 accepts the first batch's noise around ln 2.
LOSS_TOL = 0.01
#: Accuracy of the first batch equal to (K-1)/K up to the log's rounding.
ACC_TOL = 0.0006

LN2 = math.log(2)


def binary_ce_at_prior(k: int) -> float:
    """Binary cross-entropy of predicting 1/K on every unit of one-hot targets."""
    p = 1.0 / k
    return -(p * math.log(p) + (1 - p) * math.log(1 - p))


def first_record(log: ParsedLog) -> tuple[StepRow | EpochRow, str] | None:
    """The earliest metrics of the first phase: a first-batch record, else epoch 1's row."""
    phases = log.phases()
    end = phases[0][0].line if phases else math.inf
    for step in log.steps:
        if step.line > end:
            break
        if step.step <= FIRST_STEPS and ("train_loss" in step.values or "train_accuracy" in
                                         step.values):  # fmt: skip
            return step, f"step {step.step}"
        if step.step > FIRST_STEPS:
            break  # the paste starts mid-epoch: its running averages are not the first batches
    if len(phases[0]) >= 2 if phases else False:
        return phases[0][0], f"epoch {phases[0][0].epoch}"  # a finished epoch, more after it
    return None


def binary_loss_from_first_lines(log: ParsedLog, fw: str) -> list[Finding]:
    """GL416: binary cross-entropy (and binary accuracy) on K > 2 outputs, from the first step."""
    first = first_record(log)
    if first is None:
        return []
    rec, where = first
    at_step = isinstance(rec, StepRow)
    loss, acc = rec.values.get("train_loss"), rec.values.get("train_accuracy")
    k, k_source = log.num_classes, log.num_classes_evidence or ""
    if (k is None or k < 3) and acc is not None and 0 < acc < 1:
        # Without K, read it from an accuracy of exactly (K-1)/K; the loss must then confirm.
        guess = round(1 / (1 - acc))
        if 3 <= guess <= 50 and abs(acc - (guess - 1) / guess) <= ACC_TOL:
            k, k_source = guess, f"inferred from the first accuracy {acc:.4f} = {guess - 1}/{guess}"
    if k is None or k < 3:
        return []
    signs: list[str] = []
    sig_acc = acc is not None and abs(acc - (k - 1) / k) <= ACC_TOL
    if sig_acc:
        signs.append(
            f"accuracy {acc:.4f} = {k - 1}/{k} at {where}: binary accuracy of a model that "
            f"answers 0 for all {k} units"
        )
    prior = binary_ce_at_prior(k)
    sig_loss = False
    if at_step and loss is not None and math.isfinite(loss):
        if abs(loss - LN2) <= LOSS_TOL:
            sig_loss = True
            signs.append(
                f"loss {loss:.4f} = ln 2 at {where}: binary cross-entropy of outputs at 0.5; "
                f"categorical cross-entropy starts near ln {k} = {math.log(k):.4f}"
            )
        elif abs(loss - prior) <= LOSS_TOL:
            sig_loss = True
            signs.append(
                f"loss {loss:.4f} at {where} = binary cross-entropy of predicting 1/{k} on every "
                f"unit ({prior:.4f}); categorical cross-entropy starts near ln {k} = "
                f"{math.log(k):.4f}"
            )
    # Categorical cross-entropy cannot sit far below ln K while the accuracy is at chance: the
    # correct class is rarely the most probable one, so its probability is mostly below 1/2.
    sig_low = (
        not sig_loss
        and loss is not None
        and acc is not None
        and k >= 3
        and loss < min(0.5 * math.log(k), LN2 + 0.05)
        and acc < 1.5 / k + 0.02
        and not inferred(k_source)
    )
    if sig_low:
        signs.append(
            f"loss {loss:.4f} at {where} with accuracy {acc:.4f} (chance is 1/{k} = {1 / k:.4f}): "
            f"categorical cross-entropy at chance accuracy is near ln {k} = {math.log(k):.4f}; "
            "a loss this low is an average over independent yes/no units"
        )
    named = any("binary" in n for n in log.accuracy_names)
    if named:
        signs.append("the log names the metric binary_accuracy")
    inferred_k = inferred(k_source)
    if not (sig_acc or sig_loss or sig_low) or (inferred_k and not (sig_acc and sig_loss)):
        return []
    if not at_step and not sig_low and not (sig_acc and (named or _stays_above(log, (k - 1) / k))):
        return []  # an epoch average at (K-1)/K alone is the plateau check's business
    complete = sig_acc and (sig_loss or named or _stays_above(log, (k - 1) / k))
    severity = "error" if complete and not inferred_k else "warning"
    evidence = [f"  line {rec.line:>4} | {_quote(rec, log)}"]
    evidence += [f"  - {s}" for s in signs]
    evidence.append(f"K = {k}: {k_source}" if k_source else f"K = {k}")
    if severity == "warning":
        evidence.append(
            "inferred: "
            + (
                "K was read from the accuracy itself"
                if inferred_k
                else "one signature of binary cross-entropy (loss or accuracy) is present, not both"
            )
        )
    return [
        make(
            "GL416",
            severity=severity,
            title=(
                f"Binary cross-entropy on a {k}-class output: the first "
                f"{'step' if at_step else 'epoch'} already scores "
                + " and ".join(
                    t
                    for t, on in (
                        (f"loss {loss:.4f}" if loss is not None else "", sig_loss),
                        (f"accuracy {acc:.4f} = {k - 1}/{k}" if acc is not None else "", sig_acc),
                        (
                            f"loss {loss:.4f} far below ln {k} at chance accuracy"
                            if loss is not None
                            else "",
                            sig_low,
                        ),
                    )
                    if on
                )
            ),
            evidence="\n".join(evidence),
            explanation=_explanation(log, k, sig_acc),
            fix=fixes.fix_binary_loss_multiclass(fw, k),
            references=[REFS["binary-accuracy"], REFS["karpathy"]],
        )
    ]


def _explanation(log: ParsedLog, k: int, binary_accuracy_seen: bool) -> str:
    start = (
        f"A freshly initialised {k}-class softmax trained with categorical cross-entropy starts "
        f"at a loss near ln {k} = {math.log(k):.4f} and an accuracy near 1/{k} = {1 / k:.4f}. "
        "This log starts elsewhere: with loss='binary_crossentropy' each of the "
        f"{k} outputs is scored as an independent yes/no question"
    )
    if keras3(log) and not binary_accuracy_seen:
        # Keras 3 picks the accuracy from the output's shape (compile_utils.get_metric): the
        # accuracy is categorical and honest, only the loss is wrong.
        return (
            f"{start}, so the loss averages {k} binary cross-entropies and starts near "
            f"{binary_ce_at_prior(k):.4f} (predicting 1/{k} on every unit), not ln {k}. Keras 3 "
            "chooses the accuracy from the output's shape, so the accuracy shown is categorical "
            "and means what it says; the loss does not: it is not the likelihood of one class "
            "per image, it cannot be compared with a categorical loss, and training the units "
            "as independent yes/no questions usually learns slower and calibrates worse."
        )
    return (
        f"{start}, and metrics=['accuracy'] becomes binary_accuracy (Keras 2 and tf.keras pick "
        "it from the loss), averaged over the units. A model that answers 'no' for every unit "
        f"is right on {k - 1} of {k} units, so it scores {(k - 1) / k:.4f} before learning "
        "anything, and later accuracies in the 0.9s are per-unit scores, not the share of "
        "images classified correctly."
    )


def keras3(log: ParsedLog) -> bool:
    """Keras 3 wrote the log: its bars are drawn with ``━`` and it sorts the metric names, so
    ``accuracy`` comes before ``loss`` (Keras 2 always prints ``loss`` first)."""
    if log.framework != "keras":
        return False
    for line in log.lines:
        if "━" in line:
            return True
        if " - loss:" in line or "- accuracy:" in line:
            return line.find("accuracy:") < line.find("loss:") and "accuracy:" in line
    return False


def inferred(k_source: str) -> bool:
    return k_source.startswith("inferred")


def _stays_above(log: ParsedLog, floor: float) -> bool:
    """Training accuracy never falls below (K-1)/K: binary accuracy cannot, categorical can."""
    values = [r.values["train_accuracy"] for r in log.rows if "train_accuracy" in r.values]
    return len(values) >= 2 and min(values) >= floor - ACC_TOL


def _quote(rec: StepRow | EpochRow, log: ParsedLog) -> str:
    text = rec.text if isinstance(rec, StepRow) else log.lines[rec.line - 1].strip()
    return text if len(text) <= 140 else text[:137] + "..."


#: A loss within this of ln K has not moved from the uniform prediction (four logged decimals).
UNIFORM_TOL = 0.002
#: Batches a loss must stay at ln K from the first one before "nothing is learnt" is said.
STUCK_STEPS = 20


def uniform_from_the_start(log: ParsedLog, fw: str, broken: set[int]) -> list[Finding]:
    """GL404 before any plateau of epochs: the loss of the first batches stays at ln K for
    STUCK_STEPS batches or more, or a lone first epoch ends with training and validation loss at
    ln K. A network that learns anything leaves ln K within the first batches."""
    phases = log.phases()
    first_phase = phases[0] if phases else []
    if first_phase and (first_phase[0].phase in broken or len(first_phase) >= 2):
        return []  # two or more epochs: the plateau checks read them
    k, k_source = log.num_classes, log.num_classes_evidence or ""
    end = first_phase[0].line if first_phase else math.inf
    steps = [s for s in log.steps if s.line <= end and "train_loss" in s.values]
    run: list[StepRow] = []
    if steps and steps[0].step <= FIRST_STEPS:
        k = k if k and k >= 2 else _k_of(steps[0].values["train_loss"])
        if k:
            for step in steps:
                if not abs(step.values["train_loss"] - math.log(k)) <= UNIFORM_TOL:
                    break  # moved (or NaN, which the divergence checks report)
                run.append(step)
    if len(run) >= 3 and run[-1].step >= STUCK_STEPS:
        evidence = [
            f"  line {run[0].line:>4} | {run[0].text[:140]}",
            f"  line {run[-1].line:>4} | {run[-1].text[:140]}",
            f"the loss stays within {UNIFORM_TOL} of ln {k} = {math.log(k):.4f} from step "
            f"{run[0].step} to step {run[-1].step}",
        ]
        where = f"for the first {run[-1].step} batches"
    elif first_phase:
        row = first_phase[0]
        k = k if k and k >= 2 else _k_of(row.values.get("train_loss", math.nan))
        losses = [row.values.get(c) for c in ("train_loss", "val_loss")]
        if not k or not all(v is not None and abs(v - math.log(k)) <= UNIFORM_TOL for v in losses):
            return []
        evidence = [
            f"  line {row.line:>4} | {log.lines[row.line - 1].strip()[:140]}",
            f"training and validation loss of the whole first epoch at ln {k} = {math.log(k):.4f}",
        ]
        where = "through the whole first epoch"
    else:
        return []
    if k_source and k == log.num_classes:
        evidence.append(f"K = {k}: {k_source}")
    else:
        evidence.append(f"K = {k}: read from the loss itself, ln {k} = {math.log(k):.4f}")
    return [
        make(
            "GL404",
            title=f"Loss stays at ln({k}) = {math.log(k):.4f} {where}: nothing is learnt",
            evidence="\n".join(evidence),
            explanation=(
                f"Cross-entropy of the uniform prediction 1/{k} is ln({k}) = {math.log(k):.4f}. "
                "A network that learns anything leaves that value within the first batches; "
                "this one does not move. Every output is the same for every image: the "
                "gradients do not reach the weights being trained (all frozen, or the optimizer "
                "given other parameters), the learning rate is zero or so high that the first "
                "update killed the units, the inputs are constant, or the labels are not tied "
                "to the images."
            ),
            fix=fixes.fix_chance(fw),
            references=[REFS["karpathy"]],
        )
    ]


def _k_of(loss: float) -> int | None:
    """K when ``loss`` is ln K to the logged precision. K from 3 to 100: ln 2 is also a
    sigmoid's binary cross-entropy, and above 100 the values ln K lie so close together that
    any loss is near one of them."""
    if not math.isfinite(loss) or loss < math.log(3) - UNIFORM_TOL:
        return None
    k = round(math.exp(loss))
    return k if 3 <= k <= 100 and abs(loss - math.log(k)) <= UNIFORM_TOL / 2 else None
