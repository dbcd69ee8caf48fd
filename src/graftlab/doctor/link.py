"""Evidence that one target gives another's finding: the script's learning rate for the
divergence its log shows.

A log says that the loss exploded or became NaN, not why. When the script that produced it is
given too, the optimizer it builds and the rate it uses are the first thing to look at: a rate
at or above the usual from-scratch rate of its optimizer (SGD 0.05, adaptive 1e-3) is named as
the likely cause of the divergence, with the line that sets it; a lower rate is quoted so that
the reader looks elsewhere (inputs not scaled, fp16 without loss scaling, a log of zero).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

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
