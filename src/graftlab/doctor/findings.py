"""The shape every doctor finding has, whatever found it (script, log, model, run)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

#: Stable category names; other issues, tests and users rely on them.
CATEGORIES: tuple[str, ...] = (
    "single-unit-softmax",
    "binary-loss-multiclass",
    "activation-loss-mismatch",
    "double-softmax",
    "include-top",
    "preprocessing-mismatch",
    "train-eval-preprocessing-mismatch",
    "input-size-mismatch",
    "head-mismatch",
    "augmentation-phase",
    "augmented-evaluation",
    "batchnorm",
    "eval-mode-missing",
    "learning-rate",
    "trainable-not-applied",
    "no-shuffle",
    "label-order-mismatch",
    "data-leakage",
    "monitor-metric-missing",
    "trivial-accuracy",
    "overfitting",
    "divergence",
    "other",
)

SEVERITIES: tuple[str, ...] = ("error", "warning", "info")


@dataclass
class Finding:
    """One diagnosis: what is wrong, the evidence, why it produces the symptom, and the fix.

    Attributes:
        code: Stable identifier such as ``GL101``; one code per kind of check.
        category: One of :data:`CATEGORIES`.
        severity: ``error`` (the run cannot be right), ``warning`` (likely harmful) or ``info``.
        title: One line naming the problem.
        evidence: ``file:line`` and the code, or the numbers from the log.
        explanation: Why this produces the symptom, with the arithmetic where there is one.
        fix: Concrete code for the framework at hand.
        references: Links or citations a reader can follow.
        causes: Categories of the likely root cause, most likely first, when ``category``
            names what the run did rather than why (a loss that explodes: ``divergence``,
            likely cause ``learning-rate``). A likely cause is inferred: the finding says so.
    """

    code: str
    category: str
    severity: str
    title: str
    evidence: str
    explanation: str
    fix: str
    references: list[str] = field(default_factory=list)
    causes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.category not in CATEGORIES:
            raise ValueError(f"unknown finding category {self.category!r}")
        for cause in self.causes:
            if cause not in CATEGORIES or cause in ("other", self.category):
                raise ValueError(f"{cause!r} cannot be a likely cause of a {self.category} finding")
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown finding severity {self.severity!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Finding:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


def exit_code(findings: list[Finding]) -> int:
    """1 when any finding is an error, else 0 (the CLI uses 2 for bad input)."""
    return 1 if any(f.severity == "error" for f in findings) else 0
