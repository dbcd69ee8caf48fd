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


def finding_panel(finding: Finding) -> Panel:
    """One finding as a bordered panel: badge, code, title, evidence, why, fix, references."""
    parts: list = []
    parts.append(Text(finding.title, style="bold"))
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
        Group(*parts), title=title, title_align="left", border_style=_BORDER[finding.severity]
    )


def render(
    findings: Sequence[Finding], *, console: Console | None = None, target: str = ""
) -> None:
    """Print every finding and a summary line to ``console`` (stdout by default)."""
    console = console or Console()
    if target:
        console.print(f"[bold]graftlab doctor[/] {escape(target)}")
    for finding in findings:
        console.print(finding_panel(finding))
    worst = next(
        (s for s in ("error", "warning", "info") if any(f.severity == s for f in findings)), None
    )
    style = _BORDER.get(worst, "green") if worst else "green"
    console.print(Text(f"Summary: {summary_line(findings)}", style=f"bold {style}"))


def render_checks(checks: Sequence[dict], *, console: Console | None = None) -> None:
    """The catalogue of checks as a table."""
    console = console or Console()
    table = Table(title="graftlab doctor checks", show_lines=False)
    for col in ("code", "where", "severity", "category"):
        table.add_column(col, no_wrap=True)
    table.add_column("title", overflow="fold")
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
