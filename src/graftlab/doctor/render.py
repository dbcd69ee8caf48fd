"""Human-readable doctor reports on a terminal (rich): one panel per finding, then a summary."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from graftlab.doctor.findings import Finding

_STYLE = {
    "error": "bold white on red",
    "warning": "bold black on yellow",
    "info": "bold white on blue",
}
_BORDER = {"error": "red", "warning": "yellow", "info": "blue"}


def summary_line(findings: Sequence[Finding]) -> str:
    """``2 errors, 1 warning, 0 info`` (or ``no problems found``)."""
    if not findings:
        return "no problems found"
    n = Counter(f.severity for f in findings)
    errors = f"{n['error']} error{'' if n['error'] == 1 else 's'}"
    warnings = f"{n['warning']} warning{'' if n['warning'] == 1 else 's'}"
    return f"{errors}, {warnings}, {n['info']} info"


def _fix_block(fix: str) -> Syntax | Text:
    code = [ln for ln in fix.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not code:
        return Text(fix, style="green")
    shell = all(ln.lstrip().startswith(("graftlab ", "pip ", "python ")) for ln in code)
    return Syntax(
        fix,
        "bash" if shell else "python",
        theme="ansi_dark",
        background_color="default",
        word_wrap=True,
    )


def finding_panel(finding: Finding, target: str = "") -> Panel:
    """One finding as a bordered panel: badge, code, title, evidence, why, fix, references."""
    parts: list = []
    parts.append(Text(finding.title, style="bold"))
    if finding.causes:
        parts.append(Text("Likely cause: " + ", ".join(finding.causes), style="bold magenta"))
    if finding.evidence:
        parts += [Text("\nEvidence", style="bold cyan"), Text(finding.evidence, style="dim")]
    if finding.explanation:
        parts += [Text("\nWhy", style="bold cyan"), Text(finding.explanation)]
    if finding.fix:
        parts += [Text("\nFix", style="bold cyan"), _fix_block(finding.fix)]
    if finding.references:
        parts.append(Text("\nReferences", style="bold cyan"))
        parts += [Text(f"  • {ref}", style="dim") for ref in finding.references]
    badge = f"[{_STYLE[finding.severity]}] {finding.severity.upper()} [/] "
    title = f"{badge}[bold]{escape(finding.code)}[/] · {escape(finding.category)}"
    return Panel(
        Group(*parts),
        title=title,
        title_align="left",
        subtitle=escape(target) if target else None,
        subtitle_align="right",
        border_style=_BORDER[finding.severity],
    )


def render(
    findings: Sequence[Finding],
    *,
    console: Console | None = None,
    target: str = "",
    targets: Sequence[str] | None = None,
) -> None:
    """Print every finding and a summary line to ``console`` (stdout by default).

    ``targets``, parallel to ``findings``, names the file of each finding (several targets)."""
    console = console or Console()
    if target:
        console.print(f"[bold]graftlab doctor[/] {escape(target)}")
    for i, finding in enumerate(findings):
        console.print(finding_panel(finding, targets[i] if targets else ""))
    worst = next(
        (s for s in ("error", "warning", "info") if any(f.severity == s for f in findings)), None
    )
    style = _BORDER.get(worst, "green") if worst else "green"
    console.print(Text(f"Summary: {summary_line(findings)}", style=f"bold {style}"))


def render_checks(checks: Sequence[dict], *, console: Console | None = None) -> None:
    """The catalogue of checks as a table."""
    console = console or Console()
    table = Table(title="graftlab doctor checks", show_lines=False)
    for col in ("code", "where", "severity"):
        table.add_column(col, no_wrap=True)
    table.add_column("category", overflow="fold", ratio=1)
    table.add_column("title", overflow="fold", ratio=2)
    for c in checks:
        sev = c.get("severity", "")
        table.add_row(
            c.get("code", ""),
            c.get("where", ""),
            Text(sev, style=_BORDER.get(sev, "")),
            c.get("category", ""),
            c.get("title", ""),
        )
    console.print(table)


def render_folder(
    root: object,
    results: Sequence[tuple[object, Sequence[Finding] | str]],
    seconds: float,
    *,
    console: Console | None = None,
) -> None:
    """A walked folder: the error and warning panels, a per-file table, the throughput."""
    console = console or Console()
    console.print(f"[bold]graftlab doctor[/] {escape(str(root))}")
    for path, result in results:
        if isinstance(result, str):
            continue
        for finding in result:
            if finding.severity != "info":
                console.print(finding_panel(finding, str(path)))
    table = Table(title="Per file", show_lines=False)
    table.add_column("file", overflow="fold")
    for col in ("errors", "warnings", "info"):
        table.add_column(col, justify="right")
    table.add_column("note", overflow="fold")
    for path, result in results:
        if isinstance(result, str):
            table.add_row(escape(str(path)), "", "", "", Text(f"skipped: {result}", style="dim"))
            continue
        n = Counter(f.severity for f in result)
        cells = [str(n[s]) if n[s] else "·" for s in ("error", "warning", "info")]
        style = _BORDER["error"] if n["error"] else _BORDER["warning"] if n["warning"] else ""
        table.add_row(Text(str(path), style=style), *cells, "")
    console.print(table)
    checked = [r for _, r in results if not isinstance(r, str)]
    everything = [f for r in checked for f in r]
    rate = len(results) / seconds if seconds > 0 else float("inf")
    console.print(
        Text(
            f"Summary: {len(checked)} of {len(results)} files checked, "
            f"{summary_line(everything)}; {seconds:.2f} s, {rate:.1f} files/s",
            style="bold",
        )
    )
