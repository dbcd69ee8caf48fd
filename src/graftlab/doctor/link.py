"""Evidence that one target gives another's finding: the script's learning rate for the
divergence its log shows, the script's model and findings for the ranked causes of a
validation at chance.

A log says that the loss exploded or became NaN, not why. When the script that produced it is
given too, the optimizer it builds and the rate it uses are the first thing to look at: a rate
at or above the usual from-scratch rate of its optimizer (SGD 0.05, adaptive 1e-3) is named as
the likely cause of the divergence, with the line that sets it; a lower rate is quoted so that
the reader looks elsewhere (inputs not scaled, fp16 without loss scaling, a log of zero).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from graftlab.doctor import _loggap
from graftlab.doctor.findings import Finding

if TYPE_CHECKING:
    from graftlab.doctor.script.rates import Rate

#: Optimizers quoted at most; a script that builds more is a collection, not one run.
MAX_CITED = 3


def cite_rates(findings: Sequence[Finding], sources: Sequence[Path]) -> list[Finding]:
    """``findings`` with the learning rates the scripts at ``sources`` set added to each
    divergence finding whose likely cause is unknown or the learning rate."""
    todo = [
        f for f in findings if f.category == "divergence" and set(f.causes) <= {"learning-rate"}
    ]
    if not todo or not sources:
        return list(findings)
    from graftlab.doctor.script.rates import high, optimizer_rates

    rates = optimizer_rates(list(sources))
    if not rates or len(rates) > MAX_CITED:
        return list(findings)
    suspects = [r for r in rates if high(r)]
    lines = [f"  {r.evidence.strip()}  ({_value(r)})" for r in rates]
    if suspects:
        head = (
            "likely cause (inferred): the learning rate the script sets, at or above the usual "
            "from-scratch rate of its optimizer (SGD 0.05, Adam/RMSprop 1e-3):"
        )
    else:
        head = (
            "the learning rate the script sets (not high for its optimizer, or not a number "
            "in the code shown; other causes: inputs not scaled, fp16 without loss scaling, a "
            "log of zero in the loss):"
        )
    out = []
    for f in findings:
        if f in todo:
            f = replace(
                f,
                evidence=f"{f.evidence}\n{head}\n" + "\n".join(lines),
                causes=["learning-rate"] if suspects else list(f.causes),
            )
        out.append(f)
    return out


def _value(rate: Rate) -> str:
    if rate.lr is None:
        return f"lr = {rate.text}"  # an expression the code shown does not fold to a number
    value = f"lr = {rate.lr:g}"
    if rate.text == "default":
        return value + ", the optimizer's default"
    return value if rate.text == f"{rate.lr:g}" else f"{value}: {rate.text}"


#: A model with BatchNorm: its layers, or a backbone family built with them.
_BN = re.compile(
    r"BatchNorm|batch_norm|\b(?:tf\.keras\.applications\.|models\.)?(?:resnet|resnext|"
    r"wide_resnet|inception|xception|efficientnet|mobilenet|densenet|nasnet|regnet)\w*|_bn\b",
    re.I,
)
#: A model without it: a backbone family that has none, or convolutions written by hand.
_NO_BN = re.compile(
    r"\b(?i:vgg\d\d|alexnet|vit_\w+|deit\w*|swin\w*|convnext\w*)\b|\bViT\w*|Conv2[Dd]\b"
)
_EVAL = re.compile(r"\.eval\(\)")


def rank_gap_causes(
    findings: Sequence[Finding], sources: Sequence[Path], seen: Iterable[str] = ()
) -> list[Finding]:
    """``findings`` with each validation-at-chance finding (GL419/GL455/GL442/GL443) ranked again by
    the scripts at ``sources``: a model with no BatchNorm rules out BatchNorm (and the training
    mode it would matter in), a script that calls ``.eval()`` rules out evaluation in training
    mode, and a candidate among ``seen`` (categories the script analyser reported) comes first."""
    if not sources or not any(_loggap.is_gap(f) for f in findings):
        return list(findings)
    text = ""
    for path in sources:
        try:
            text += path.read_text("utf-8", errors="replace")[:2_000_000] + "\n"
        except OSError:
            continue
    seen = list(dict.fromkeys(seen))
    out = []
    for f in findings:
        if _loggap.is_gap(f):
            f = _rerank(f, text, seen)
        out.append(f)
    return out


def _rerank(f: Finding, text: str, seen: list[str]) -> Finding:
    order, reasons = [f.category, *f.causes], []
    bn = _BN.search(text)
    if not bn and (free := _NO_BN.search(text)):
        # preprocessing-mismatch shows as this gap only through BatchNorm's two modes
        order = [
            c
            for c in order
            if c not in ("batchnorm", "eval-mode-missing", "preprocessing-mismatch")
        ]
        reasons.append(f"the script's model has no BatchNorm ({free[0]!r}, no BatchNorm layer)")
    elif bn:
        reasons.append(f"the script's model has BatchNorm ({bn[0]!r})")
    if "eval-mode-missing" in order and (ev := _EVAL.search(text)):
        order.remove("eval-mode-missing")
        reasons.append(f"the script calls {ev[0]}")
    found = [c for c in seen if c in order]
    if found:
        order = [*found, *(c for c in order if c not in found)]
        reasons.append("the script analyser reports " + ", ".join(found) + " in the code")
    if not order or not reasons:
        return f
    if order[0] not in _loggap.CODES:  # only eval-mode-missing left: keep the finding as it is
        return f
    fw = "keras" if re.search(r"\bkeras\b", text) else "torch"
    return _loggap.rerank(f, order, "; ".join(reasons), fw)
