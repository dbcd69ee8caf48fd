"""One cause, one finding: merge what several checks or several targets say about one category.

A script that compiles with binary cross-entropy and the log of that script's run both point at
the same cause; the user should read it once, with the code and the numbers as its evidence.
Findings of one category are merged into the most certain one (errors before warnings before
info; the first of equals), whose evidence gains the others'. ``other`` is a catch-all, not a
cause, so its findings are never merged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from graftlab.doctor.findings import Finding

_RANK = {"error": 0, "warning": 1, "info": 2}


def merge_findings(findings: Sequence[Finding]) -> list[Finding]:
    """Merge the findings of one target that share a category (used for logs: the first-step
    check and the plateau check see one cause)."""
    return [f for _, f in _merge([("", list(findings))], within=True)]


def merge_targets(groups: Sequence[tuple[str, Sequence[Finding]]]) -> list[tuple[str, Finding]]:
    """``(target, findings)`` of several targets -> ``(target, finding)``, sorted by severity.

    A category seen in several targets becomes one finding: the most certain one, with the other
    targets' evidence, under the target of that most certain part. Findings of one target are
    left apart: the script analyser reports two places of one category as two causes.
    """
    return _merge(groups, within=False)


def _merge(
    groups: Sequence[tuple[str, Sequence[Finding]]], *, within: bool
) -> list[tuple[str, Finding]]:
    order: list[tuple[str, Finding]] = [(t, f) for t, fs in groups for f in fs]
    by_category: dict[str, list[int]] = {}
    for i, (_, f) in enumerate(order):
        if f.category != "other":
            by_category.setdefault(f.category, []).append(i)
    merged: dict[int, Finding] = {}
    dropped: set[int] = set()
    for indices in by_category.values():
        if len(indices) < 2:
            continue
        main = min(indices, key=lambda i: (_RANK[order[i][1].severity], i))
        target, primary = order[main]
        parts, across = [], False
        for i in indices:
            other_target, f = order[i]
            if i == main or (other_target == target and not within):
                continue
            dropped.add(i)
            across |= other_target != target
            where = f" in {other_target}" if other_target != target else ""
            parts.append(f"Also {f.code}{where}: {f.title}\n{f.evidence}".rstrip())
        if parts:
            head = f"In {target}:\n" if across and target else ""
            refs = [
                r for i in [main, *sorted(dropped & set(indices))] for r in order[i][1].references
            ]
            merged[main] = replace(
                primary,
                evidence=head + primary.evidence + "\n\n" + "\n\n".join(parts),
                references=list(dict.fromkeys(refs)),
            )
    out = [(t, merged.get(i, f)) for i, (t, f) in enumerate(order) if i not in dropped]
    return sorted(out, key=lambda tf: _RANK[tf[1].severity])
