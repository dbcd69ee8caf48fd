"""Read a finished (or failed) training history and name what went wrong, with the numbers.

``check_log`` accepts whatever people paste: Keras progress output, CSVLogger files, graftlab's
``results.csv``, a table, or PyTorch prints (see :mod:`graftlab.doctor._logparse`). Evidence
quotes log lines and epochs; explanations do the arithmetic (6/7 = 0.8571).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path

from graftlab.doctor import _checks as fixes
from graftlab.doctor._checks import REFS, make
from graftlab.doctor._logbatches import batches_never_right
from graftlab.doctor._logbatchstats import split_scales
from graftlab.doctor._logchance import (
    single_unit_constant,
    uniform_output,
    validation_of_unseen_classes,
)
from graftlab.doctor._logclasses import (
    decoded_match_zero_accuracy,
    numbered_folders_at_chance,
    split_class_mismatch,
)
from graftlab.doctor._logconfusion import evaluation_mismatch
from graftlab.doctor._logearly import (
    binary_ce_at_prior,
    binary_loss_from_first_lines,
    uniform_from_the_start,
)
from graftlab.doctor._logeval import chance_with_confidence, pretrained_far_below
from graftlab.doctor._logfit import memorised, overfitting
from graftlab.doctor._loghidden import hidden_class
from graftlab.doctor._loglr import collapsed_to_chance, stalled_until_cut
from graftlab.doctor._logmatmul import matmul_mismatch
from graftlab.doctor._logmetric import accuracy_below_loss_bound
from graftlab.doctor._logmodes import (
    _evaluate_below_training,
    _head_errors,
    _inference_at_chance,
    _loss_floor,
    _majority_share,
    _one_class_on_validation_only,
    _one_sample_batchnorm,
)
from graftlab.doctor._lognames import imagenet_names
from graftlab.doctor._logparse import EpochRow, ParsedLog, parse_log
from graftlab.doctor._logparts import part_turn
from graftlab.doctor._logphase import unannounced_phase
from graftlab.doctor._logruns import (
    lightning_metrics,
    run_kind,
    trainer_history,
    trainer_state_file,
)
from graftlab.doctor._logsizes import input_size_messages
from graftlab.doctor._logsteps import (
    accuracy_collapse,
    climbing_loss,
    step_explosion,
    warmup_climb,
)
from graftlab.doctor._logstray import stray_class_entry
from graftlab.doctor._logswing import validation_swings
from graftlab.doctor._logtransforms import squashed_evaluation
from graftlab.doctor._logutil import (
    MIN_RUN,
    TOL,
    _cite,
    _cites,
    _constant_run,
    _finite,
    _fmt,
    _longest_run,
    _losses_finite,
    _phase_label,
    _sits,
)
from graftlab.doctor.combine import merge_findings
from graftlab.doctor.findings import Finding
from graftlab.errors import ArtifactError, ConfigError, DataError, did_you_mean

#: A log line saying the model starts from pretrained weights (the PyTorch examples' "=> using
#: pre-trained model 'alexnet'", timm's "Loading pretrained weights", "pretrained=True").
_PRETRAINED = re.compile(
    r"using pre-?trained model|load(?:ing|ed)? pre-?trained weights|\bpretrained\s*=\s*True", re.I
)

FRAMEWORKS = ("auto", "keras", "torch", "graftlab")

_ORDER = {"error": 0, "warning": 1, "info": 2}


def check_log(
    path_or_text: str | os.PathLike | ParsedLog, *, framework: str = "auto"
) -> list[Finding]:
    """Diagnose a training log.

    Args:
        path_or_text: A log file (Keras output, CSVLogger, results.csv, table, PyTorch prints)
            or its text, or a log already parsed (several TensorBoard exports joined).
        framework: ``auto`` (guess from the log's style), ``keras``, ``torch`` or ``graftlab``;
            picks the language of the fixes.

    Returns:
        Findings, errors first.

    Raises:
        DataError: The input holds no per-epoch metrics graftlab can read.
        ConfigError: ``framework`` is not one of :data:`FRAMEWORKS`.
    """
    if framework not in FRAMEWORKS:
        raise ConfigError(
            f"'framework' must be one of {', '.join(FRAMEWORKS)}. Got {framework!r}."
            + did_you_mean(framework, FRAMEWORKS)
        )
    log = path_or_text if isinstance(path_or_text, ParsedLog) else parse_log(path_or_text)
    fw = (log.framework or "torch") if framework == "auto" else framework
    findings: list[Finding] = []
    broken: set[int] = set()  # phases whose numbers mean nothing (NaN, stuck at a trivial value)
    findings += _nonfinite(log, fw, broken)
    findings += _explosion(log, fw, broken)
    if not any(f.category == "divergence" for f in findings):
        findings += step_explosion(log, fw, broken)
    if not any(f.category == "divergence" for f in findings):
        findings += climbing_loss(log, fw, broken)
    if not any(f.category == "divergence" for f in findings):
        findings += accuracy_collapse(log, fw, broken)
    if not any(f.category in ("divergence", "learning-rate") for f in findings):
        findings += warmup_climb(log, fw, broken)
    impossible, log = accuracy_below_loss_bound(log, broken)  # later checks: real accuracies
    findings += impossible
    findings += validation_of_unseen_classes(log, broken)
    findings += _one_class_on_validation_only(log, broken)
    findings += single_unit_constant(log, broken)
    findings += uniform_output(log, broken)  # before GL402/GL404: it names the likely cause
    trivial, explained = _trivial(log, fw, broken)
    findings += trivial
    findings += binary_loss_from_first_lines(log, fw)  # after GL401: a plateau says it better
    findings += uniform_from_the_start(log, fw, broken)
    broken |= {phase for phase, _ in explained}
    findings += _majority_share(log, explained, broken)
    findings += _inference_at_chance(log, explained, broken)
    swings = validation_swings(log, broken)
    findings += swings
    findings += _evaluate_below_training(log, broken)
    findings += _frozen_validation(log, explained, broken)
    findings += unannounced_phase(log, fw, broken)
    findings += _val_better(log, broken)
    overfit = overfitting(log, fw, broken)
    # the turn, else the end state, else a part of a loss logged in parts (one finding)
    findings += overfit or memorised(log, fw, broken) or part_turn(log, fw, broken)
    findings += _unfreeze_drop(log, fw, broken)
    findings += stalled_until_cut(log, fw)
    findings += collapsed_to_chance(log, fw)
    findings += _monitor_missing(log, fw)
    findings += hidden_class(log)
    findings += _head_errors(log, fw)
    findings += _one_sample_batchnorm(log, fw)
    findings += imagenet_names(log)
    findings += split_class_mismatch(log)
    findings += stray_class_entry(log)
    findings += numbered_folders_at_chance(log)
    findings += decoded_match_zero_accuracy(log)
    findings += chance_with_confidence(log) or pretrained_far_below(log)
    findings += input_size_messages(log)
    findings += squashed_evaluation(log)
    findings += split_scales(log)
    findings += matmul_mismatch(log)
    findings += evaluation_mismatch(log, swung=bool(swings))  # GL454 cites its evaluation
    findings += batches_never_right(log)
    findings += _loss_floor(log, fw, broken)
    if log.truncated:
        read, total = log.truncated
        findings.append(
            make(
                "GL418",
                title=f"Only the first {read / 1e6:.1f} MB of a {total / 1e6:.1f} MB log were read",
                evidence=f"read up to line {len(log.lines)}",
                explanation="The doctor bounds its work on any input; the epochs after that "
                "line were not checked.",
                fix="Pass the part of the log around the problem (its first epochs and the "
                "epochs where it goes wrong).",
            )
        )
    if log.inferred:
        # the columns were named by their shape: what is read from them is an inference
        findings = [
            replace(
                f,
                severity="warning" if f.severity == "error" else f.severity,
                evidence=f"{f.evidence}; {log.inferred}",
            )
            for f in findings
        ]
    return merge_findings(findings)


def check_run(run_dir: str | os.PathLike) -> list[Finding]:
    """The findings of a run directory: a graftlab run's saved ``findings.json`` plus the
    analysis of its ``results.csv``; a Lightning CSVLogger version folder's ``metrics.csv``; a
    Hugging Face Trainer output folder's ``trainer_state.json`` (its own or its newest
    checkpoint's). See :mod:`graftlab.doctor._logruns`.

    Raises:
        ArtifactError: ``run_dir`` is none of these, or its saved files are corrupt.
    """
    run_dir = Path(run_dir)
    kind = run_kind(run_dir)
    if kind == "lightning":
        return check_log(lightning_metrics(run_dir), framework="torch")
    if kind == "hf-trainer":
        return check_log(trainer_history(trainer_state_file(run_dir)), framework="torch")
    saved, results = run_dir / "findings.json", run_dir / "results.csv"
    if kind is None:
        raise ArtifactError(
            f"{str(run_dir)!r} is not a run directory: it has neither a graftlab run's "
            "findings.json or results.csv, nor a Lightning metrics.csv, nor a Trainer's "
            "trainer_state.json. Pass a run such as runs/train/exp, or a log file."
        )
    findings: list[Finding] = []
    if saved.is_file():
        try:
            findings += [Finding.from_dict(d) for d in json.loads(saved.read_text("utf-8"))]
        except (ValueError, TypeError, KeyError) as exc:
            raise ArtifactError(f"{saved} is not a list of findings: {exc}.") from None
    if results.is_file():
        # A run that stopped before its first epoch has a header-only results.csv.
        with contextlib.suppress(DataError):
            findings += check_log(results, framework="graftlab")
    seen, unique = set(), []
    for f in findings:
        key = (f.code, f.title, f.evidence)
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return sorted(unique, key=lambda f: _ORDER[f.severity])


# -- divergence -------------------------------------------------------------------------------


def _nonfinite(log: ParsedLog, fw: str, broken: set[int]) -> list[Finding]:
    for row in log.rows:
        bad = [c for c, v in row.values.items() if c.endswith("loss") and not math.isfinite(v)]
        if not bad:
            continue
        broken.add(row.phase)
        before = [r for r in log.rows if r.phase == row.phase and r.epoch < row.epoch][-3:]
        evidence = (_cites(before, "train_loss", "val_loss") + "\n" if before else "") + (
            "  " + _cite(row, *bad, "lr")
        )
        if after_unfreezing := _after_unfreezing(log, row):
            return [_nan_after_unfreezing(log, row, after_unfreezing, bad[0], evidence, fw)]
        first = _finite_before(log, row.line, row)
        return [
            make(
                "GL407",
                title=f"{bad[0]} becomes {_fmt(row.values[bad[0]])} at epoch {row.epoch}",
                evidence=evidence + (f"\n{first}" if first else ""),
                explanation=(
                    "Once a loss is NaN or infinite, every weight it touches becomes NaN and "
                    "nothing after it means anything. Usual causes: a learning rate too high "
                    "for the pretrained layers (especially after unfreezing), log(0) in a "
                    "hand-written loss or on probabilities that reached exactly 0 (a softmax "
                    "output fed to a log), images with NaN/inf pixels, or fp16 overflow without "
                    "loss scaling."
                ),
                fix=fixes.fix_divergence(fw),
                references=[REFS["clipping"], REFS["karpathy"]],
                causes=["learning-rate"] if first else [],
            )
        ]
    step = next(
        (st for st in log.steps for c, v in st.values.items() if c.endswith("loss") and not
         math.isfinite(v)),
        None,
    )  # fmt: skip
    if step is not None:
        first = _finite_before(log, step.line)
        return [
            make(
                "GL407",
                title=f"The loss becomes NaN or infinite at step {step.step}, inside an epoch",
                evidence=f"  line {step.line:>4} | {step.text[:140]}"
                + (f"\n{first}" if first else ""),
                explanation=(
                    "The running loss of the epoch is no longer finite: one batch produced NaN "
                    "or inf, and every weight it touched is now NaN. Usual causes: a learning "
                    "rate too high for the layers being trained, log(0) on probabilities, "
                    "images with NaN/inf pixels, or fp16 overflow without loss scaling."
                ),
                fix=fixes.fix_divergence(fw),
                references=[REFS["clipping"], REFS["karpathy"]],
                causes=["learning-rate"] if first else [],
            )
        ]
    if log.nonfinite_lines:
        line, text = log.nonfinite_lines[0]
        return [
            make(
                "GL407",
                evidence=f"  line {line:>4}  {text}",
                explanation=(
                    "The log says the loss became NaN or infinite: from then on every weight "
                    "it touches is NaN. Usual causes: a learning rate too high for the layers "
                    "being trained, an optimiser stepped twice per batch or on gradients still "
                    "scaled by a GradScaler (mixed precision), fp16 overflow, log(0) on "
                    "probabilities, or NaN/inf in the inputs."
                ),
                fix=fixes.fix_divergence(fw),
                references=[REFS["clipping"]],
            )
        ]
    return []


def _finite_before(log: ParsedLog, line: int, row: EpochRow | None = None) -> str:
    """Evidence that the loss was finite before ``line`` (before ``row``, whose line may hold the
    whole history: a printed ``history.history``) -- an update broke it, not the data or the
    loss at initialisation: the likely cause is then the learning rate -- or ""."""
    records = [(s.line, s.text, s.values) for s in log.steps if s.line < line]
    earlier = (
        log.rows[: log.rows.index(row)]
        if row is not None
        else [r for r in log.rows if r.line < line]
    )
    records += [(r.line, _cite(r, "train_loss", "lr"), r.values) for r in earlier]
    finite = [
        (ln, text)
        for ln, text, values in sorted(records, key=lambda rec: rec[0])
        if math.isfinite(values.get("train_loss", math.nan))
    ]
    if not finite:
        return ""
    ln, text = finite[0]
    return (
        f"  line {ln:>4} | {text[:140]}\nlikely cause (inferred): the loss was finite before, so "
        "an update broke it: a learning rate too high for this model"
    )


def _after_unfreezing(log: ParsedLog, row: EpochRow) -> list[EpochRow]:
    """The finite rows of the phase before ``row``'s when ``row`` is in that next phase's first
    two epochs: the loss broke right where a second (fine-tuning) phase began."""
    phases = log.phases()
    if row.phase < 2 or row.phase > len(phases):
        return []
    current, before = phases[row.phase - 1], phases[row.phase - 2]
    if row not in current[:2] or not all(_losses_finite(r) for r in before):
        return []
    return before


def _nan_after_unfreezing(
    log: ParsedLog, row: EpochRow, before: list[EpochRow], col: str, evidence: str, fw: str
) -> Finding:
    last = before[-1]
    evidence = f"end of phase {last.phase}:\n  {_cite(last, 'train_loss', 'val_loss', 'lr')}\n"
    evidence += f"phase {row.phase}:\n  {_cite(row, col, 'lr')}"
    return make(
        "GL417",
        title=f"{col} becomes {_fmt(row.values[col])} right after the second phase starts "
        f"(phase {row.phase}, epoch {row.epoch})",
        evidence=evidence + "\nlikely cause (inferred): the second phase is taken to be the "
        "fine-tuning one, with a learning rate too high for the pretrained layers",
        explanation=(
            f"Phase {last.phase} trained with finite losses; the loss broke in the first epochs "
            f"of phase {row.phase}. When the pretrained layers are unfrozen, a learning rate "
            "that suited the new head is far too high for them (fine-tuning wants 10-100x less), "
            "and a barely trained head sends large gradients into the backbone. In fp16, the "
            "larger gradients of the unfrozen layers also overflow without loss scaling."
        ),
        fix=fixes.fix_unfreeze(fw) + "\n" + fixes.fix_divergence(fw).split("\n", 1)[1],
        references=[REFS["lp-ft"], REFS["keras-ft"], REFS["clipping"]],
        causes=["learning-rate"],
    )


def _exploded_at_once(log: ParsedLog, rows: list[EpochRow], fw: str) -> Finding | None:
    """The first epoch's training loss is orders of magnitude above a cross-entropy's start
    (ln K): the optimiser threw the weights out at once."""
    train = _finite(rows, "train_loss")
    if not train:
        return None
    row, first = train[0]
    k = log.num_classes if log.num_classes and log.num_classes >= 2 else 10
    if first < max(100.0, 50 * math.log(k)):
        return None
    acc = row.values.get("train_accuracy")
    if acc is not None and math.isfinite(acc) and acc >= (1 + 1 / k) / 2:
        # Halfway from chance to perfect in the same epoch: the weights were not thrown out;
        # the printed loss holds more than the cross-entropy (weight penalties, a sum).
        return None
    return make(
        "GL408",
        title=f"train_loss is {_fmt(first)} in the first epoch: the optimiser diverged at once"
        + _phase_label(log, row.phase),
        evidence=_cites(rows[:4], "train_loss", "val_loss", "val_accuracy", "lr")
        + f"\na cross-entropy starts near ln {k} = {math.log(k):.4f}",
        explanation=(
            "A classification loss in the hundreds or millions in the first epoch means the "
            "first updates were so large that the logits exploded. The learning rate is orders "
            "of magnitude too high for this model (or the inputs are not scaled, e.g. pixels in "
            "0..255 into an unnormalised head); the accuracies that follow sit near chance "
            "because of it, not because of the data."
        ),
        fix=fixes.fix_divergence(fw),
        references=[REFS["clipping"], REFS["karpathy"]],
        causes=["learning-rate"],
    )


def _growth(series: list[tuple[EpochRow, float]]) -> tuple[EpochRow, float, EpochRow, float] | None:
    """(row, value) at a minimum and at the highest later peak, when the peak is 10x the minimum
    and 3x the first value (so a loss that started high and came down is not flagged)."""
    if len(series) < 3:
        return None
    first = series[0][1]
    best = None
    low_row, low = series[0]
    for row, v in series[1:]:
        if v < low:
            low_row, low = row, v
        elif low > 0 and v >= 10 * low and v >= 3 * first and (best is None or v > best[3]):
            best = (low_row, low, row, v)
    return best


def _explosion(log: ParsedLog, fw: str, broken: set[int]) -> list[Finding]:
    out = []
    for rows in log.phases():
        phase = rows[0].phase
        if phase in broken:
            continue
        if (early := _exploded_at_once(log, rows, fw)) is not None:
            broken.add(phase)
            out.append(early)
            continue
        for col, code in (("train_loss", "GL408"), ("val_loss", "GL409")):
            hit = _growth(_finite(rows, col))
            if hit is None:
                continue
            low_row, low, peak_row, peak = hit
            ratio = peak / low
            if code == "GL409":
                train = _finite(rows, "train_loss")
                falling = len(train) >= 2 and train[-1][1] < train[0][1]
                if not falling or any(f.code == "GL408" for f in out):
                    continue
            broken.add(phase)
            window = [r for r in rows if low_row.epoch <= r.epoch <= peak_row.epoch]
            title = (
                f"{col} grows {ratio:.0f}x, from {_fmt(low_row.values[col])} (epoch "
                f"{low_row.epoch}) to {_fmt(peak_row.values[col])} (epoch {peak_row.epoch})"
                + _phase_label(log, phase)
            )
            if code == "GL408":
                explanation = (
                    "Training loss that rises by an order of magnitude or more is not "
                    "overfitting: the optimiser is stepping out of the basin the pretrained "
                    "weights start in. The learning rate is too high for the layers being "
                    "trained (fine-tuning a pretrained backbone usually wants 10-100x less than "
                    "training a head), or there is no warm-up, or gradients are not clipped."
                )
                fix = fixes.fix_divergence(fw)
            else:
                explanation = (
                    "Training loss falls while validation loss explodes. With BatchNorm this is "
                    "the classic sign that eval mode uses running statistics that do not match "
                    "the activations: they were updated by small or differently preprocessed "
                    "training batches (Keras: BatchNormalization layers left trainable or "
                    "called with training=True while fine-tuning), so eval-mode outputs are "
                    "far off. Other causes: validation preprocessing differs from training, "
                    "or the model has become extremely over-confident on a few wrong images."
                )
                fix = fixes.fix_batchnorm(fw)
            out.append(
                make(
                    code,
                    title=title,
                    evidence=_cites(window, "train_loss", "val_loss", "lr"),
                    explanation=explanation,
                    fix=fix,
                    references=[REFS["clipping"] if code == "GL408" else REFS["keras-ft"]],
                    causes=["learning-rate"] if code == "GL408" else [],
                )
            )
    return out


# -- trivial accuracy -------------------------------------------------------------------------


@dataclass
class _Hit:
    code: str
    phase: int
    col: str
    rows: list[EpochRow]
    value: float
    k: int | None
    k_source: str


def _trivial(
    log: ParsedLog, fw: str, exploded: set[int] = frozenset()
) -> tuple[list[Finding], set[tuple[int, str]]]:
    hits: list[_Hit] = []
    k_known = log.num_classes if log.num_classes and log.num_classes >= 2 else None
    k_src = log.num_classes_evidence or ""
    single_unit = log.output_units is not None and log.output_units[0] == 1
    phases = log.phases()
    for rows in phases:
        phase = rows[0].phase
        # After a NaN the metrics sit at chance because of the NaN, which is reported already.
        nan_at = next((i for i, r in enumerate(rows) if not _losses_finite(r)), len(rows))
        rows = rows[:nan_at]
        if _collapsed_after_previous_phase(phases, phase):
            continue  # a drop right after unfreezing: _unfreeze_drop names that cause
        if phase in exploded:
            continue  # at chance because of the explosion, which is reported already
        for col in ("val_accuracy", "train_accuracy"):
            series = _finite(rows, col)
            if len(series) < 2:
                continue
            values = [v for _, v in series]
            hit = _accuracy_hit(values, k_known)
            if hit is None:
                continue
            code, value, k, start, length = hit
            run_rows = [r for r, _ in series[start : start + length]]
            if single_unit and _constant(run_rows, "train_loss"):
                code = "GL405"
            elif (
                code == "GL403"
                and col == "val_accuracy"
                and _constant(run_rows, "val_loss")
                and not _constant(run_rows, "train_loss")
            ):
                continue  # outputs identical while the model trains: GL406, not a collapse
            source = k_src if k == k_known else f"inferred from {_fmt(value)}"
            hits.append(_Hit(code, phase, col, run_rows, value, k, source))
        for col in ("train_loss", "val_loss"):
            series = _finite(rows, col)
            hit = _loss_hit([v for _, v in series], k_known)
            if hit is None:
                continue
            k, start, length = hit
            run_rows = [r for r, _ in series[start : start + length]]
            source = k_src if k == k_known else "inferred from the loss value"
            value = sorted(r.values[col] for r in run_rows)[len(run_rows) // 2]
            hits.append(_Hit("GL404", phase, col, run_rows, value, k, source))
    # A loss at ln K beside accuracy at 1/K is one finding, not two.
    chance_phases = {h.phase for h in hits if h.code == "GL402"}
    folded = [h for h in hits if h.code == "GL404" and h.phase in chance_phases]
    hits = [h for h in hits if h not in folded]
    findings = []
    for code in ("GL405", "GL401", "GL402", "GL403", "GL404"):
        group = [h for h in hits if h.code == code]
        if group:
            extra = folded if code == "GL402" else []
            findings.append(_trivial_finding(code, group, extra, log, fw))
    explained = {(h.phase, h.col) for h in hits}
    return findings, explained


def _collapsed_after_previous_phase(phases: list[list[EpochRow]], phase: int) -> bool:
    """Phase ``phase`` starts 10 points of validation accuracy below the best of the phase
    before it: a working model broken by what changed between the phases."""
    if phase < 2 or phase > len(phases):
        return False
    before = _finite(phases[phase - 2], "val_accuracy")
    after = _finite(phases[phase - 1], "val_accuracy")
    return bool(before and after) and max(v for _, v in before) - after[0][1] >= 0.10


def _constant(rows: list[EpochRow], col: str) -> bool:
    """Present in every row and equal to four decimals."""
    values = [r.values.get(col, math.nan) for r in rows]
    return all(math.isfinite(v) for v in values) and max(values) - min(values) < 5e-4


def _accuracy_hit(
    values: list[float], k: int | None
) -> tuple[str, float, int | None, int, int] | None:
    """(code, value, K, start, run length) when the accuracy series sits at a trivial value."""
    n = len(values)
    targets = []
    if k is not None:
        if k >= 3:
            targets.append(("GL401", (k - 1) / k, k))
        targets.append(("GL402", 1 / k, k))
    for code, target, kk in targets:
        start, run = _longest_run(values, target, TOL)
        if _sits(n, run):
            return code, target, kk, start, run
    # Without K (or off the K-based values), look for a value frozen from the first epochs.
    start, run = _constant_run(values)
    if run < MIN_RUN or start > 1:
        return None
    v = values[start]
    if k is None:
        k1 = round(1 / (1 - v)) if v < 1 else 0
        if 3 <= k1 <= 20 and abs(v - (k1 - 1) / k1) <= TOL:
            return "GL401", v, k1, start, run
        k2 = round(1 / v) if v > 0 else 0
        if 2 <= k2 <= 20 and abs(v - 1 / k2) <= TOL:
            return "GL402", v, k2, start, run
    if v < 0.99:
        return "GL403", v, k, start, run
    return None


def _loss_hit(values: list[float], k: int | None) -> tuple[int, int, int] | None:
    """(K, start, run length) when the loss sits at ln K (or ln 2) and never goes well below."""
    if len(values) < 2:
        return None
    candidates = [k, 2] if k else []
    if not candidates:
        start, run = _longest_run(values, values[0], 0.01)
        guess = round(math.exp(values[0]))
        if 2 <= guess <= 20 and abs(values[0] - math.log(guess)) <= 0.01:
            candidates = [guess]
    for kk in dict.fromkeys(candidates):
        target = math.log(kk)
        start, run = _longest_run(values, target, 0.01)
        if _sits(len(values), run) and min(values) >= target - 0.05:
            return kk, start, run
    return None


def _trivial_finding(
    code: str, hits: list[_Hit], folded: list[_Hit], log: ParsedLog, fw: str
) -> Finding:
    h = hits[0]
    k = h.k
    evidence = []
    everything = [*hits, *folded]
    for phase in dict.fromkeys(hit.phase for hit in everything):
        group = [hit for hit in everything if hit.phase == phase]
        cols = list(dict.fromkeys(hit.col for hit in group))
        rows = sorted({id(r): r for hit in group for r in hit.rows}.values(), key=lambda r: r.line)
        stays = ", ".join(f"{hit.col} at {_fmt(hit.value)}" for hit in group)
        evidence.append(f"{stays} for {len(rows)} epochs{_phase_label(log, phase)}:")
        evidence.append(_cites(rows, *cols))
    if h.k_source:
        evidence.append(f"K = {k}: {h.k_source}" if k else h.k_source)
    refs = [REFS["karpathy"]]
    causes: list[str] = []
    if code == "GL401":
        binary_ce = binary_ce_at_prior(k)
        title = f"Accuracy sits at {_fmt(h.value)} = {k - 1}/{k}: binary accuracy on one-hot labels"
        explanation = (
            f"{k - 1}/{k} = {(k - 1) / k:.4f}. With loss='binary_crossentropy' (or a sigmoid/BCE "
            f"loss) on one-hot labels of {k} classes, the accuracy reported is binary accuracy: "
            f"each of the {k} output units is scored as a separate yes/no question. A model "
            f"that answers 'no' for every unit is right on {k - 1} of {k} units for every "
            f"image, so it scores {(k - 1) / k:.4f} without learning anything, and the binary "
            f"cross-entropy of predicting 1/{k} everywhere is {binary_ce:.4f}."
        )
        losses = [r.values["train_loss"] for r in h.rows if "train_loss" in r.values]
        confirmed = False
        if losses and abs(sorted(losses)[len(losses) // 2] - binary_ce) < 0.03:
            median = sorted(losses)[len(losses) // 2]
            explanation += f" The log's loss, {median:.4f}, is that value."
            confirmed = True
        if any("binary" in n for n in log.accuracy_names):
            explanation += " The log even names the metric binary_accuracy."
            confirmed = True
        if not confirmed and h.k_source.startswith("inferred"):
            # K read from the value itself, nothing else pointing at binary cross-entropy: a
            # majority class of (K-1)/K of the images freezes the accuracy at the same value.
            evidence.append(
                f"inferred: K = {k} was read from the accuracy itself and the loss does not "
                f"confirm binary cross-entropy; {_fmt(h.value)} is also the share of a class "
                f"that makes up {k - 1}/{k} of the images"
            )
            causes = ["trivial-accuracy"]  # the other reading: one class predicted
        fix = fixes.fix_binary_loss_multiclass(fw, k)
        refs = [REFS["binary-accuracy"], *refs]
    elif code == "GL402":
        title = f"Accuracy sits at chance: {_fmt(h.value)} = 1/{k}"
        explanation = (
            f"1/{k} = {1 / k:.4f} is what guessing, or predicting the same class for every "
            f"image of a balanced set, scores with {k} classes"
            + (
                f"; a loss of ln({k}) = {math.log(k):.4f} means the model outputs the uniform "
                f"distribution 1/{k} for every image"
                if folded
                else ""
            )
            + ". The network's output does not depend on its input: labels not aligned with "
            "images (label order differs between generators, a shuffled label list), inputs "
            "that are constant or garbage (wrong preprocessing, all-black decoded images), a "
            "learning rate so high that the network died in the first steps, or a frozen "
            "backbone whose features never reach the head."
        )
        fix = fixes.fix_chance(fw)
    elif code == "GL403":
        title = f"Accuracy frozen at {_fmt(h.value)} from the first epoch: one class predicted"
        explanation = (
            f"An accuracy that does not move by a single image from epoch one is the share of "
            f"the class the model predicts for every image: {_fmt(h.value)} is that class's "
            "share of the set."
        )
        if log.val_size and "val" in h.col:
            m = h.value * log.val_size
            explanation += (
                f" With {log.val_size} validation images, {_fmt(h.value)} x {log.val_size} = "
                f"{m:.1f} images: the size of one class."
            )
        explanation += (
            " Causes: Dense(1, activation='softmax') (softmax over one unit is always 1.0, so "
            "accuracy equals the positive share), a collapse to the majority class under heavy "
            "imbalance and a high learning rate, or labels that are all one class (wrong "
            "class_mode or label column)."
        )
        fix = fixes.fix_one_class(fw)
    elif code == "GL405":
        line = log.output_units[1]
        title = "Softmax over a single output unit: the output is always 1.0"
        evidence.insert(0, f"line {line}: {log.lines[line - 1].strip()}  (1 output unit)")
        explanation = (
            "The last Dense layer has one unit and loss and accuracy do not change to four "
            "decimals. softmax(z) = exp(z)/sum(exp(z)) over one unit is exactly 1.0 for every "
            "input, so gradients are zero, the loss is a constant and accuracy is the share of "
            "the positive class. (If that layer uses sigmoid, the model has instead collapsed to "
            "one class; see the fixes for imbalance.)"
        )
        fix = fixes.fix_single_unit_softmax(fw)
    else:  # GL404
        title = (
            f"Loss sits at ln({k}) = {math.log(k):.4f}: the model outputs a uniform distribution"
        )
        explanation = (
            f"Cross-entropy of the uniform prediction 1/{k} is ln({k}) = {math.log(k):.4f}; a loss "
            "that stays there means every output is the same for every image"
            + (
                " (0.6931 = ln 2 is also binary cross-entropy of a sigmoid stuck at 0.5)"
                if k == 2
                else ""
            )
            + ". Logits are all equal: the layer before the head outputs zeros (dead ReLUs after "
            "a too-high learning rate), the input is constant, or the head's output is cut "
            "off from the loss."
        )
        fix = fixes.fix_chance(fw)
    pretrained = next((i for i, ln in enumerate(log.lines, 1) if _PRETRAINED.search(ln)), None)
    if pretrained is not None and (code == "GL404" or (code == "GL402" and folded)):
        # A pretrained network's features differ from image to image; a uniform output
        # after training means training wiped them out.
        evidence.append(
            f"line {pretrained}: {log.lines[pretrained - 1].strip()[:120]}\nlikely cause "
            "(inferred): the pretrained weights were destroyed by updates too large for "
            "them, the learning rate"
        )
        explanation += (
            " The log says the model started from pretrained weights, whose features vary "
            "with the image: an output that no longer does was trained away, most often by "
            "a learning rate too high for those weights (AlexNet and VGG, without "
            "BatchNorm, do not survive the 0.1 of ResNet recipes; fine-tuning wants "
            "10-100x less than training from scratch)."
        )
        fix = fixes.fix_divergence(fw)
        causes = ["learning-rate"]
    return make(
        code,
        title=title,
        evidence="\n".join(e for e in evidence if e),
        explanation=explanation,
        fix=fix,
        references=refs,
        causes=causes,
    )


def _frozen_validation(
    log: ParsedLog, explained: set[tuple[int, str]], broken: set[int]
) -> list[Finding]:
    for rows in log.phases():
        phase = rows[0].phase
        if (phase, "val_accuracy") in explained or (phase, "val_loss") in explained:
            continue
        series = _finite(rows, "val_loss")
        start, run = _constant_run([v for _, v in series])
        if run < MIN_RUN:
            if not series and (found := _frozen_val_accuracy(log, rows)):
                broken.add(phase)
                return [found]
            continue
        run_rows = [r for r, _ in series[start : start + run]]
        if any("val_accuracy" in r.values for r in run_rows) and not _constant(
            run_rows, "val_accuracy"
        ):
            continue  # a loss printed with few decimals repeats; identical outputs repeat both
        train = [r.values.get("train_loss") for r in run_rows]
        train = [t for t in train if t is not None and math.isfinite(t)]
        if len(train) < 2 or max(train) - min(train) < 0.01 * max(abs(max(train)), 1e-8):
            continue
        broken.add(phase)
        return [
            make(
                "GL406",
                title=f"val_loss is {_fmt(run_rows[0].values['val_loss'])} for {run} epochs "
                "while training loss changes" + _phase_label(log, phase),
                evidence=_cites(run_rows, "train_loss", "val_loss", "val_accuracy"),
                explanation=(
                    "A validation loss identical to four decimals across epochs means the "
                    "outputs on the validation images did not change although the weights did "
                    "(training loss moves). Validation is measuring something else than the "
                    "model being trained: a copy or a different model object evaluated each "
                    "epoch, validation predictions cached once, or a head whose outputs are "
                    "saturated (a one-unit softmax is always 1.0)."
                ),
                fix=(
                    "# Evaluate the very model object being trained, in eval mode, each epoch:\n"
                    "model.eval()\n"
                    "with torch.no_grad():\n"
                    "    val_logits = model(x_val)\n"
                    "model.train()\n"
                    "# Keras: pass validation_data to the same model.fit(...) call; do not "
                    "evaluate a model\n# re-loaded from a checkpoint that is never rewritten."
                ),
            )
        ]
    return []


def _frozen_val_accuracy(log: ParsedLog, rows: list[EpochRow]) -> Finding | None:
    """No validation loss logged: validation accuracy identical for MIN_RUN + 1 epochs while
    training accuracy climbs by 5 points or more."""
    series = _finite(rows, "val_accuracy")
    start, run = _constant_run([v for _, v in series])
    if run < MIN_RUN + 1:
        return None
    run_rows = [r for r, _ in series[start : start + run]]
    train = [r.values["train_accuracy"] for r in run_rows if "train_accuracy" in r.values]
    if len(train) < run or max(train) - min(train) < 0.05:
        return None
    value = run_rows[0].values["val_accuracy"]
    return make(
        "GL406",
        title=f"val_accuracy is {_fmt(value)} for {run} epochs while training accuracy goes "
        f"{_fmt(train[0])} -> {_fmt(train[-1])}" + _phase_label(log, run_rows[0].phase),
        evidence=_cites(run_rows, "train_loss", "train_accuracy", "val_accuracy"),
        explanation=(
            "Training accuracy moves by several points while validation accuracy does not "
            "change by a single image. The validation predictions do not follow the weights "
            "being trained: a different or re-loaded model object is evaluated, predictions "
            "were cached once, the validation inputs are constant (wrong preprocessing, all-black "
            "images), or the model predicts the same class for every validation image."
        ),
        fix=(
            "# Look at what the model predicts on validation, per class:\n"
            "pred = model.predict(val_ds).argmax(axis=1)   # torch: model(x).argmax(1)\n"
            "print(np.bincount(pred, minlength=K))\n"
            "# and evaluate the very model object being trained, on inputs preprocessed like "
            "training's."
        ),
    )


# -- validation vs training, overfitting, unfreezing ------------------------------------------


def _val_better(log: ParsedLog, broken: set[int]) -> list[Finding]:
    for rows in log.phases():
        if rows[0].phase in broken:
            continue
        pairs = [
            (r, r.values["val_accuracy"] - r.values["train_accuracy"])
            for r in rows
            if "val_accuracy" in r.values and "train_accuracy" in r.values
        ]
        kind = "accuracy"
        if len(pairs) < 3:
            pairs = [
                (
                    r,
                    (r.values["train_loss"] - r.values["val_loss"])
                    / max(r.values["train_loss"], 1e-8),
                )
                for r in rows
                if "val_loss" in r.values and "train_loss" in r.values
            ]
            kind = "loss"
        pairs = [(r, g) for r, g in pairs if math.isfinite(g)]
        if len(pairs) < 3:
            continue
        gaps = [g for _, g in pairs]
        last = sum(gaps[-3:]) / 3
        share = sum(g > (0.02 if kind == "accuracy" else 0.10) for g in gaps) / len(gaps)
        big = 0.10 if kind == "accuracy" else 0.30
        cols = (
            ("train_accuracy", "val_accuracy") if kind == "accuracy" else ("train_loss", "val_loss")
        )
        evidence = _cites([r for r, _ in pairs], *cols)
        gap_text = (
            f"validation accuracy is {last:+.3f} above training over the last 3 epochs"
            if kind == "accuracy"
            else f"validation loss is {last:.0%} below training over the last 3 epochs"
        )
        if last >= big:
            return [
                make(
                    "GL411",
                    title=f"Validation far better than training: {gap_text}",
                    evidence=evidence,
                    explanation=(
                        "Dropout, augmentation and a training metric averaged over the epoch "
                        "explain a few points of gap, not this much once training has settled. "
                        "A validation set that is this much easier usually shares images with "
                        "training (duplicates, augmented copies, frames of the same video or "
                        "slides of the same patient split across sets), or is not drawn from "
                        "the same distribution (a different, cleaner source)."
                    ),
                    fix=(
                        "# Look for the same image in both splits, by content hash:\n"
                        "from graftlab.doctor.preflight import run_preflight\n"
                        "run_preflight(graftlab.load_dataset('DATA'))\n"
                        "# Split by group (patient, video, source) when several images share one:\n"
                        "from sklearn.model_selection import GroupShuffleSplit"
                    ),
                    references=[REFS["leakage"]],
                )
            ]
        if share >= 0.6 and sum(gaps) / len(gaps) > 0:
            return [
                make(
                    "GL410",
                    title=f"Validation scores better than training in {share:.0%} of epochs",
                    evidence=evidence,
                    explanation=(
                        "Usually harmless. The training numbers are measured on a harder "
                        "problem: dropout and augmentation are active in training and off in "
                        "validation; BatchNorm uses batch statistics in training and running "
                        "statistics in evaluation; and the training metric is averaged over the "
                        "epoch while the model improves, whereas validation is measured at the "
                        "epoch's end. If the gap is large and persists, check for leakage "
                        "(duplicates across splits) or a validation set that is too easy."
                    ),
                    fix=(
                        "# Compare like with like: evaluate the training set in eval mode at "
                        "epoch end.\n"
                        "model.eval()\n"
                        "train_acc_eval = evaluate(model, train_subset)   # same mode as validation"
                    ),
                    references=[REFS["val-gt-train"]],
                )
            ]
    return []


def _unfreeze_drop(log: ParsedLog, fw: str, broken: set[int]) -> list[Finding]:
    phases = log.phases()
    out = []
    for before, after in itertools.pairwise(phases):
        if before[0].phase in broken or after[0].phase in broken:
            continue
        acc1, acc2 = _finite(before, "val_accuracy"), _finite(after, "val_accuracy")
        if acc1 and acc2:
            best_row, best = max(acc1, key=lambda p: p[1])
            first = acc2[0][1]
            if best - first < 0.05:
                continue
            end_best = max(v for _, v in acc2)
            col, drop_text = "val_accuracy", f"from {_fmt(best)} to {_fmt(first)}"
            worse = end_best < best - TOL
        else:
            col = "val_loss" if _finite(before, "val_loss") else "train_loss"
            l1, l2 = _finite(before, col), _finite(after, col)
            if not (l1 and l2):
                continue
            best_row, best = min(l1, key=lambda p: p[1])
            first = l2[0][1]
            if not (first > 1.5 * best and first - best > 0.1):
                continue
            drop_text = f"rises from {_fmt(best)} to {_fmt(first)}"
            worse = min(v for _, v in l2) > best
        if fw == "graftlab" and not worse:
            # A graftlab run's second phase starts from the probe at per-stage rates; a dip
            # it recovers from is the head and features adapting, not a wrecked backbone.
            continue
        lr1, lr2 = before[-1].values.get("lr"), after[0].values.get("lr")
        low_lr = lr1 is not None and lr2 is not None and lr1 > 0 and lr2 <= lr1 / 10
        code = "GL414" if low_lr else "GL413"
        what = {"val_accuracy": "Validation accuracy drops", "val_loss": "Validation loss"}
        title = (
            f"{what.get(col, 'Training loss')} {drop_text} right after unfreezing "
            f"(phase {after[0].phase})"
            + ("; fine-tuning never gets back to the frozen-feature model" if worse else "")
        )
        lr_text = ""
        if lr1 is not None and lr2 is not None:
            lr_text = (
                f"\nlearning rate: {lr1:g} at the end of phase {before[0].phase}, "
                f"{lr2:g} at the start of phase {after[0].phase}"
                + (" (not lower)" if lr2 >= lr1 else "")
            )
        evidence = (
            f"best of phase {before[0].phase}:\n  {_cite(best_row, col, 'lr')}\n"
            f"first epochs of phase {after[0].phase}:\n{_cites(after[:4], col, 'train_loss', 'lr')}"
            + lr_text
        )
        explanation = (
            "When the backbone is unfrozen, two things can wreck features that were good a "
            "moment ago. (1) Learning rate: a rate that suited the new head is far too high for "
            "pretrained weights, and a randomly initialised or barely trained head sends large "
            "gradients into them (the LP-FT result: fit the head first, then fine-tune with a "
            "10-100x lower rate). (2) BatchNorm: unfrozen BN layers start updating their "
            "running mean/variance from small batches of the new data (Keras: a trainable "
            "BatchNormalization also switches to batch statistics), so eval-mode outputs shift "
            "even when the weights barely move."
        )
        if low_lr:
            explanation += (
                " Here the learning rate was already lowered by 10x or more, which points at "
                "BatchNorm first."
            )
        elif lr2 is not None and lr1 is not None and lr2 >= lr1:
            explanation += (
                " Here the learning rate was not lowered at all, which points at it first."
            )
        out.append(
            make(
                code,
                title=title,
                evidence=evidence,
                explanation=explanation,
                fix=fixes.fix_unfreeze(fw),
                references=[REFS["lp-ft"], REFS["keras-ft"]],
            )
        )
    return out


# -- callbacks monitoring a metric that is not logged -----------------------------------------

_MISSING_NAME = re.compile(r"(?:only with |metric `|quantity `?|monitor='|KeyError: ['\"])([\w]+)")
#: The data loader saying it found no validation images: no ``val_*`` metric is ever computed.
_NO_VALIDATION = re.compile(
    r"Found 0 (?:images|files) belonging to \d+ class|Using 0 files for validation", re.I
)


def _empty_validation(log: ParsedLog) -> tuple[int, str] | None:
    """``(line, text)`` of a second ``Found 0 images`` line or ``Using 0 files for validation``:
    the validation set is empty."""
    found = 0
    for i, line in enumerate(log.lines, 1):
        if (m := _NO_VALIDATION.search(line)) and (found >= 1 or not m[0].startswith("Found")):
            return i, line.strip()
        if "belonging to" in line and line.lstrip().startswith("Found"):
            found += 1
    return None


_AVAILABLE = re.compile(r"(?:Available metrics are:|in the returned metrics:)\s*\[?([^\]]*)")


def _monitor_missing(log: ParsedLog, fw: str) -> list[Finding]:
    if not log.callback_warnings:
        return []
    text = log.callback_warnings[0][1]
    m = _MISSING_NAME.search(text)
    name = m[1] if m else "?"
    available = []
    for _, t in log.callback_warnings:
        if a := _AVAILABLE.search(t):
            available = [x.strip(" '\"") for x in a[1].split(",") if x.strip(" '\"")]
    suggestion = re.sub(r"\bacc\b", "accuracy", name.replace("_acc", "_accuracy"))
    if available and suggestion not in available:
        close = did_you_mean(name, available)
        suggestion = close.split("'")[1] if close else available[-1]
    mode = "min" if "loss" in suggestion else "max"
    evidence = "\n".join(f"  line {ln:>4}  {t}" for ln, t in log.callback_warnings[:4])
    if len(log.callback_warnings) > 4:
        evidence += f"\n  ... {len(log.callback_warnings) - 4} more such lines"
    empty = _empty_validation(log) if name.startswith("val") else None
    if empty is not None:
        evidence = f"  line {empty[0]:>4}  {empty[1]}  (the validation set)\n" + evidence
    return [
        make(
            "GL415",
            title=f"Callbacks monitor {name!r}, which the log does not have"
            + (": the validation set is empty" if empty else ""),
            evidence=evidence,
            explanation=(
                f"ModelCheckpoint/EarlyStopping/ReduceLROnPlateau look up {name!r} in the "
                "epoch's logs; it is not there, so the best model is never saved, training "
                "never stops early and the learning rate never drops; only a warning is printed "
                "(or, where the callback formats a file name or reads the key itself, a "
                "KeyError stops training at the end of the first epoch). "
                "Since TensorFlow 2.3 the metric 'accuracy' is logged as 'accuracy'/"
                "'val_accuracy', not 'acc'/'val_acc'; validation metrics also exist only when "
                "validation data is passed to fit."
                + (
                    f" Here the validation data holds no images (line {empty[0]}), so no "
                    "validation metric is computed at all, whatever its name."
                    if empty
                    else ""
                )
            ),
            fix=(
                (
                    "# Put images into the validation folder (one sub-folder per class, the "
                    "same classes as training)\n# or split them off: "
                    "ImageDataGenerator(validation_split=0.2) + subset='validation'\n"
                    if empty
                    else ""
                )
                + f'ModelCheckpoint("best.keras", monitor="{suggestion}", mode="{mode}", '
                "save_best_only=True)\n"
                f'EarlyStopping(monitor="{suggestion}", mode="{mode}", patience=5, '
                "restore_best_weights=True)"
            )
            if fw != "torch"
            else f'ModelCheckpoint(monitor="{suggestion}", mode="{mode}")  '
            "# Lightning: a key your LightningModule passes to self.log(...)",
            references=[REFS["early-stopping"]],
        )
    ]
