"""``graftlab doctor TARGET``: diagnose a script, a notebook, a training log or a run directory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from graftlab.errors import ConfigError, DataError

HELP = """Name the root cause of a failing transfer-learning run, with evidence and the fix.

TARGET is a training script (.py), a notebook (.ipynb: its code and its printed output), a
training log (Keras output, CSVLogger file, PyTorch prints, results.csv) or a graftlab run
directory.

Examples:

    graftlab doctor train.py
    graftlab doctor training_output.txt --json
    graftlab doctor history.csv --framework keras
    graftlab doctor runs/train/exp2
    graftlab doctor --list

Exit code: 1 when an error is found, 0 otherwise, 2 when TARGET cannot be read.
"""

_SCRIPT_SUFFIXES = (".py", ".ipynb")


def register(app: typer.Typer) -> None:
    """Add ``doctor`` and ``checks`` to ``app``."""
    app.command("doctor", help=HELP)(doctor)
    app.command("checks", help="List every doctor check (code, category, where it runs).")(checks)


def doctor(
    target: Annotated[
        str | None, typer.Argument(help="Script, notebook, log file or run directory.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the findings as a JSON list on stdout.")
    ] = False,
    framework: Annotated[
        str, typer.Option("--framework", help="auto, keras or torch: the language of the fixes.")
    ] = "auto",
    list_checks: Annotated[
        bool, typer.Option("--list", help="List every check instead of diagnosing.")
    ] = False,
) -> None:
    if list_checks:
        checks(as_json=as_json)
        return
    if target is None:
        raise ConfigError(
            "Give a TARGET: a script, notebook, log file or run directory "
            "(e.g. graftlab doctor train.py), or --list."
        )
    if framework not in ("auto", "keras", "torch"):
        from graftlab.errors import did_you_mean

        raise ConfigError(
            f"--framework must be auto, keras or torch. Got {framework!r}."
            + did_you_mean(framework, ("auto", "keras", "torch"))
        )
    from graftlab.doctor.findings import exit_code

    findings = diagnose(target, framework=framework)
    if as_json:
        typer.echo(json.dumps([f.to_dict() for f in findings], indent=2))
    else:
        from graftlab.doctor.render import render

        render(findings, target=target)
    raise typer.Exit(exit_code(findings))


def checks(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
) -> None:
    from graftlab.doctor import list_checks

    rows = list_checks()
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
    else:
        from graftlab.doctor.render import render_checks

        render_checks(rows)


def diagnose(target: str, *, framework: str = "auto") -> list:
    """Pick the analysis TARGET needs: run directory, script/notebook, or log (by content)."""
    from graftlab.doctor.logs import check_log, check_run

    path = Path(target)
    if not path.exists():
        raise DataError(f"No such file or directory: {target!r}.")
    if path.is_dir():
        return check_run(path)
    if path.suffix.lower() == ".ipynb":
        return _script(path) + _notebook_output(path, framework)
    if path.suffix.lower() == ".py" or _looks_like_python(path):
        return _script(path)
    return check_log(path, framework=framework)


def _script(path: Path) -> list:
    from graftlab.doctor.script import check_script

    return list(check_script(path))


def _looks_like_python(path: Path) -> bool:
    """Source that parses as Python and imports or defines something (a CSV parses too)."""
    import ast

    try:
        tree = ast.parse(path.read_bytes().decode("utf-8", errors="strict"))
    except (SyntaxError, UnicodeDecodeError, ValueError):
        return False
    return any(
        isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef))
        for node in tree.body
    )


def _notebook_output(path: Path, framework: str) -> list:
    """Training logs printed in a notebook's outputs are checked like a pasted log."""
    from graftlab.doctor.logs import check_log

    try:
        nb = json.loads(path.read_text("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"{str(path)!r} is not a readable notebook: {exc}.") from None
    chunks = []
    for cell in nb.get("cells", []) if isinstance(nb, dict) else []:
        for out in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            text = out.get("text") or out.get("data", {}).get("text/plain") or ""
            chunks.append("".join(text) if isinstance(text, list) else str(text))
    if not "".join(chunks).strip():
        return []
    try:
        findings = check_log("\n".join(chunks) + "\n", framework=framework)
    except DataError:
        return []
    for f in findings:
        f.evidence = "in the notebook's printed output (lines of the output):\n" + f.evidence
    return findings
