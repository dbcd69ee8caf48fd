"""Overfitting read from a log (GL412), in the shapes it takes.

- **The turn** (:func:`overfitting`): validation loss bottoms out and rises while training
  loss keeps falling; or, where the training loss says nothing (not logged, or already near
  zero), it rises for several epochs while training accuracy climbs towards 1 and validation
  accuracy stays flat or falls; or, from the accuracies, the gap between training and
  validation opens up while validation stopped improving.
- **The end state** (:func:`memorised`): people often paste only the end of a long run
  (``Epoch 46/50`` to ``50/50``, or the last epoch line alone), where nothing turns any more:
  training accuracy sits at 0.99-1.00, validation accuracy sits 20 points or more below it and
  does not improve, and the validation loss is many times the training loss.

Validation at chance is left to the checks that name its causes (label order, preprocessing,
inference mode): a memorising model still beats chance on validation. The thresholds keep
quiet on normal fine-tuning curves, where validation loss wobbles by a few per cent around its
minimum and a pretrained model's training accuracy runs a few points above validation.
"""

from __future__ import annotations

from graftlab.doctor import _checks as fixes
from graftlab.doctor._checks import REFS, make
from graftlab.doctor._logrows import EpochRow, ParsedLog
from graftlab.doctor._logutil import _cites, _finite, _fmt, _phase_label
from graftlab.doctor.findings import Finding

#: The window read: the last epochs of a phase.
WINDOW = 5
#: Training accuracy this high has learnt (nearly) every training image.
TRAIN_MEMORISED = 0.97
#: Validation this far below it, in every epoch of the window.
GAP = 0.20
#: Validation loss at least this many times the training loss, when both are logged.
LOSS_RATIO = 3.0
#: A log that shows only one or two epochs late in a run (``Epoch 50/50``) is read as its end
#: state when the epoch number is at least this and both losses are logged: the trend is not
#: there, so the loss ratio must carry it.
LATE_EPOCH = 10
#: "Several epochs": a validation loss read from the training accuracy alone must have stayed
#: above its minimum (by :data:`RISE_KEPT`) in at least this many epochs after it.
RISE_EPOCHS = 3
RISE_KEPT = 1.05
#: The rise from the minimum to the end that is not a wobble: relative and absolute.
RISE = 1.10
RISE_ABS = 0.02


def memorised(log: ParsedLog, fw: str, broken: set[int]) -> list[Finding]:
    """GL412 from the end state: the last epochs of a phase at ~100% on training, 20+ points
    lower on validation, validation not improving (and its loss a multiple of training's)."""
    for rows in log.phases():
        phase = rows[0].phase
        if phase in broken:
            continue
        window = [r for r in rows if "train_accuracy" in r.values and "val_accuracy" in r.values]
        window = window[-WINDOW:]
        if len(window) < 3 and not _late_tail(window):
            continue
        train = [r.values["train_accuracy"] for r in window]
        val = [r.values["val_accuracy"] for r in window]
        gaps = [t - v for t, v in zip(train, val, strict=True)]
        if min(train) < TRAIN_MEMORISED or min(gaps) < GAP:
            continue
        if len(val) > 1 and val[-1] > max(val[:-1]) + 0.01:
            continue  # validation still improves: not the end of the run's learning
        k = log.num_classes if log.num_classes and log.num_classes >= 2 else 2
        if min(val) < 1 / k + 0.10:
            continue  # near chance: a broken validation, named by other checks
        last = window[-1].values
        ratio = ""
        if "train_loss" in last and "val_loss" in last:
            if last["val_loss"] < LOSS_RATIO * max(last["train_loss"], 1e-8):
                continue
            losses = [r.values["val_loss"] for r in window if "val_loss" in r.values]
            if len(losses) >= 3 and losses[-1] < 0.95 * losses[0]:
                continue  # validation loss still falling clearly
            ratio = (
                f"; val_loss {_fmt(last['val_loss'])} is "
                f"{last['val_loss'] / max(last['train_loss'], 1e-8):.0f}x the training loss"
            )
        gap = sum(gaps) / len(gaps)
        return [
            make(
                "GL412",
                title=(
                    f"Training set memorised: training accuracy {_fmt(train[-1])}, validation "
                    f"{_fmt(val[-1])}"
                    + (
                        f" and not improving over the last {len(window)} epochs"
                        if len(window) >= 3
                        else f" at epoch {window[-1].epoch}, late in the run (all the log shows)"
                    )
                    + _phase_label(log, phase)
                ),
                evidence=_cites(window, "train_accuracy", "val_accuracy", "train_loss", "val_loss")
                + f"\nvalidation accuracy is {gap:.2f} below training on average{ratio}; "
                f"chance is 1/{k} = {1 / k:.2f}, so the model does generalise, only far less "
                "than it fits",
                explanation=(
                    "The model classifies nearly every training image correctly and a far "
                    "smaller share of validation images, and more epochs no longer change "
                    "that: it has learnt the training images themselves rather than what "
                    "separates the classes. The log shows the end of the run; the turn, where "
                    "validation stopped improving, came earlier (an earlier checkpoint is "
                    "better). Common with a small data set, many trainable layers and no "
                    "augmentation."
                ),
                fix=fixes.fix_overfitting(fw),
                references=[REFS["early-stopping"]],
            )
        ]
    return []


def _late_tail(window: list[EpochRow]) -> bool:
    """One or two epochs pasted from late in a run, with both losses to weigh them."""
    if not window or window[0].epoch < LATE_EPOCH:
        return False
    return all("train_loss" in r.values and "val_loss" in r.values for r in window)


def overfitting(log: ParsedLog, fw: str, broken: set[int]) -> list[Finding]:
    """GL412 from the turn, per phase: the validation loss's, else the accuracy gap's."""
    out = []
    for rows in log.phases():
        if rows[0].phase in broken:
            continue
        if (found := _loss_turn(log, rows, fw) or _accuracy_gap(log, rows, fw)) is not None:
            out.append(found)
    return out


def _loss_turn(log: ParsedLog, rows: list[EpochRow], fw: str) -> Finding | None:
    """Validation loss at its minimum 2+ epochs before the end and 10% higher since, while the
    training loss falls by a tenth; or, where the training loss does not say it, 3+ epochs
    above the minimum while training accuracy climbs and validation accuracy does not."""
    series = _finite(rows, "val_loss")
    if len(series) < 4:
        return None
    i_best = min(range(len(series)), key=lambda i: series[i][1])
    best_row, best = series[i_best]
    last_row, last = series[-1]
    after = len(series) - 1 - i_best
    if after < 2:
        return None
    rises = last >= best * RISE and last - best >= RISE_ABS
    t_best, t_last = best_row.values.get("train_loss"), last_row.values.get("train_loss")
    if t_best is not None and t_last is not None and t_last < 0.9 * t_best:
        # A validation loss that stopped improving 3+ epochs ago, three times the training
        # loss that kept falling by a third since: the gap is memorisation, not noise.
        stalls = after >= 3 and last >= 3 * t_last and t_last < 0.67 * t_best
        if rises or stalls:
            return _turn(log, rows, fw, series, i_best, "train_loss")
        return None
    if not rises or (t_best is not None and t_last is not None and t_last > 1.05 * t_best):
        return None  # no turn, or training itself gets worse: not a model that fits too well
    kept = sum(v >= best * RISE_KEPT for _, v in series[i_best + 1 :])
    a_best, a_last = best_row.values.get("train_accuracy"), last_row.values.get("train_accuracy")
    v_best, v_last = best_row.values.get("val_accuracy"), last_row.values.get("val_accuracy")
    if kept < RISE_EPOCHS or a_best is None or a_last is None:
        return None
    climbs = a_last >= TRAIN_MEMORISED or (a_last >= 0.9 and a_last >= a_best + 0.02)
    flat = v_best is None or v_last is None or v_last <= v_best + 0.01
    k = log.num_classes if log.num_classes and log.num_classes >= 2 else 2
    if not (climbs and flat) or (v_last is not None and v_last < 1 / k + 0.10):
        return None  # near chance: a broken validation, named by other checks
    return _turn(log, rows, fw, series, i_best, "train_accuracy")


def _turn(
    log: ParsedLog,
    rows: list[EpochRow],
    fw: str,
    series: list[tuple[EpochRow, float]],
    i_best: int,
    train_col: str,
) -> Finding:
    best_row, best = series[i_best]
    last_row, last = series[-1]
    t_best, t_last = best_row.values[train_col], last_row.values[train_col]
    verb = "falls" if train_col == "train_loss" else "climbs"
    still = "loss still falls" if verb == "falls" else "accuracy still climbs"
    acc = ""
    if "val_accuracy" in best_row.values and "val_accuracy" in last_row.values:
        acc = (
            f"; val_accuracy {_fmt(best_row.values['val_accuracy'])} there, "
            f"{_fmt(last_row.values['val_accuracy'])} at the end"
        )
    return make(
        "GL412",
        title=(
            f"Overfitting from epoch {best_row.epoch}: val_loss bottoms at {_fmt(best)} "
            f"and rises to {_fmt(last)} (+{last / best - 1:.0%})"
            + (f" while training accuracy climbs to {_fmt(t_last)}" if verb == "climbs" else "")
            + _phase_label(log, rows[0].phase)
        ),
        evidence=(
            f"val_loss is lowest at epoch {best_row.epoch} (line {best_row.line}); after "
            f"it, {train_col} {verb} {_fmt(t_best)} -> {_fmt(t_last)} while val_loss rises "
            f"{_fmt(best)} -> {_fmt(last)}{acc}.\n"
            + _cites(
                [r for r, _ in series[max(0, i_best - 1) :]],
                train_col,
                "val_loss",
                "val_accuracy",
            )
        ),
        explanation=(
            "After the minimum of the validation loss the model keeps fitting the "
            f"training images (training {still}) "
            "but generalises worse: it memorises. The weights at the end are worse than those of "
            f"epoch {best_row.epoch}; keep that checkpoint and stop there, or regularise."
        ),
        fix=fixes.fix_overfitting(fw),
        references=[REFS["early-stopping"]],
    )


def _accuracy_gap(log: ParsedLog, rows: list[EpochRow], fw: str) -> Finding | None:
    """GL412 from the accuracies: training accuracy reaches 0.9 or more while validation
    accuracy stopped improving 3+ epochs before the end (and its loss, when logged, with it)
    and the gap grew by 10 points to 15 or more."""
    pairs = [(r, r.values["train_accuracy"], r.values["val_accuracy"]) for r in rows
             if "train_accuracy" in r.values and "val_accuracy" in r.values]  # fmt: skip
    if len(pairs) < 5:
        return None
    i_best = max(range(len(pairs)), key=lambda i: pairs[i][2])
    (first, a0, v0), (last, a1, v1) = pairs[0], pairs[-1]
    gap0, gap1 = a0 - v0, a1 - v1
    if not (a1 >= 0.9 and gap1 >= 0.15 and gap1 >= gap0 + 0.10 and len(pairs) - 1 - i_best >= 3):
        return None
    best_row, best = pairs[i_best][0], pairs[i_best][2]
    lb, ll = best_row.values.get("val_loss"), last.values.get("val_loss")
    if lb is not None and ll is not None and ll < lb:
        return None  # the validation loss still improves: the model is not past its best
    return make(
        "GL412",
        title=f"Overfitting from epoch {best_row.epoch}: training accuracy climbs to {_fmt(a1)} "
        f"while validation accuracy stays at or below {_fmt(best)}"
        + _phase_label(log, rows[0].phase),
        evidence=_cites(
            [r for r, _, _ in pairs[max(0, i_best - 1) :]],
            "train_accuracy",
            "val_accuracy",
            "train_loss",
        )
        + f"\nthe gap grows from {gap0:.2f} (epoch {first.epoch}) to {gap1:.2f} (epoch "
        f"{last.epoch}); no validation loss in the log",
        explanation=(
            "The model keeps getting better on the training images and no better on the "
            "validation images: after epoch "
            f"{best_row.epoch} it memorises the training set. Stop there (keep that checkpoint), "
            "add augmentation or regularisation, train fewer layers, or get more data."
        ),
        fix=fixes.fix_overfitting(fw),
        references=[REFS["early-stopping"]],
    )
