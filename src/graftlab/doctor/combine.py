"""One cause, one finding: merge what several checks or several targets say about one cause.

A script that compiles with binary cross-entropy and the log of that script's run both point at
the same cause; the user should read it once, with the code and the numbers as its evidence.
Findings are merged when they share a category, or when one names the other's category as its
likely cause (a loss that explodes, likely cause ``learning-rate``, and a learning-rate finding
from the code or from the same log). The merged finding is the most certain one (errors before
warnings before info; the first of equals): its evidence gains the others', and the other
parts' categories become its likely causes, so nothing that was reported is lost. ``other`` is
a catch-all, not a cause, so its findings are never merged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from graftlab.doctor.findings import Finding

_RANK = {"error": 0, "warning": 1, "info": 2}


def merge_findings(findings: Sequence[Finding]) -> list[Finding]:
    """Merge the findings of one target that name one cause (used for logs: the first-step
    check and the plateau check see one cause)."""
    return [f for _, f in _merge([("", list(findings))], within=True)]


def merge_targets(groups: Sequence[tuple[str, Sequence[Finding]]]) -> list[tuple[str, Finding]]:
    """``(target, findings)`` of several targets -> ``(target, finding)``, sorted by severity.

    A cause seen in several targets becomes one finding: the most certain one, with the other
    targets' evidence, under the target of that most certain part. Findings of one target are
    left apart: the script analyser reports two places of one category as two causes.
    """
    return _merge(groups, within=False)


def _clusters(order: Sequence[tuple[str, Finding]]) -> list[list[int]]:
    """Indices of ``order`` joined by a shared category or a category named as a cause."""
    parent = list(range(len(order)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict[str, int] = {}
    for i, (_, f) in enumerate(order):
        if f.category == "other":
            continue
        for name in (f.category, *f.causes):
            if name in first:
                parent[root(i)] = root(first[name])
            else:
                first[name] = i
    out: dict[int, list[int]] = {}
    for i in range(len(order)):
        out.setdefault(root(i), []).append(i)
    return [c for c in out.values() if len(c) > 1]


def certain(f: Finding) -> Finding:
    """The severity policy: an ``error`` states complete evidence, so a finding whose own
    evidence says a link of it was ``inferred:`` is a ``warning`` (a likely cause is marked
    ``likely cause (inferred)`` instead: the finding itself is seen, its cause is not)."""
    if f.severity == "error" and any(
        ln.lstrip().lower().startswith("inferred") for ln in f.evidence.split("\n")
    ):
        return replace(f, severity="warning")
    return f


def _merge(
    groups: Sequence[tuple[str, Sequence[Finding]]], *, within: bool
) -> list[tuple[str, Finding]]:
    order: list[tuple[str, Finding]] = [(t, certain(f)) for t, fs in groups for f in fs]
    merged: dict[int, Finding] = {}
    dropped: set[int] = set()
    for indices in _clusters(order):
        main = min(indices, key=lambda i: (_RANK[order[i][1].severity], i))
        target, primary = order[main]
        parts, across, folded = [], False, []
        for i in indices:
            other_target, f = order[i]
            if i == main or (other_target == target and not within):
                continue
            dropped.add(i)
            folded.append(f)
            across |= other_target != target
            where = f" in {other_target}" if other_target != target else ""
            parts.append(f"Also {f.code}{where}: {f.title}\n{f.evidence}".rstrip())
        if parts:
            head = f"In {target}:\n" if across and target else ""
            refs = [r for f in (primary, *folded) for r in f.references]
            names = [*primary.causes, *(n for f in folded for n in (f.category, *f.causes))]
            merged[main] = replace(
                primary,
                evidence=head + primary.evidence + "\n\n" + "\n\n".join(parts),
                references=list(dict.fromkeys(refs)),
                causes=[n for n in dict.fromkeys(names) if n not in (primary.category, "other")],
            )
    out = [(t, merged.get(i, f)) for i, (t, f) in enumerate(order) if i not in dropped]
    return sorted(out, key=lambda tf: _RANK[tf[1].severity])
