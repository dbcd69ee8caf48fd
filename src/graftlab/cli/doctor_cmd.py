"""``graftlab doctor TARGET...``: diagnose scripts, notebooks, training logs, run directories, or
every such file in a folder."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

from graftlab.errors import ConfigError

HELP = """Name the root cause of a failing transfer-learning run, with evidence and the fix.

TARGET is a training script (.py), a notebook (.ipynb: its code and its printed output), a
training log (Keras output, CSVLogger or TensorBoard CSV, PyTorch/tqdm/Lightning prints,
Hugging Face Trainer or mmcv/mmengine records, results.csv, a table without a header), a paste
holding code and log, or a graftlab run directory. Several targets are diagnosed together: a
cause seen in the script and confirmed by the log is one finding with both as evidence; the
scripts among them are one program (a model defined in model.py and trained in train.py). A
folder that is not a run directory is walked: the scripts of each directory are read as one
program (up to 8 files), notebooks and logs on their own, with a per-file summary and the
throughput.

Examples:

    graftlab doctor train.py
    graftlab doctor train.py training_output.txt
    graftlab doctor model.py train.py utils.py output.txt
    graftlab doctor run-train-tag-epoch_loss.csv run-validation-tag-epoch_accuracy.csv
    graftlab doctor training_output.txt --json
    graftlab doctor history.csv --framework keras
    graftlab doctor runs/train/exp2
    graftlab doctor my_repo/
    graftlab doctor --list

Exit code: 1 when an error is found, 0 otherwise, 2 when a TARGET cannot be read.
"""


def register(app: typer.Typer) -> None:
    """Add ``doctor`` and ``checks`` to ``app``."""
    app.command("doctor", help=HELP)(doctor)
    app.command("checks", help="List every doctor check (code, category, where it runs).")(checks)


def doctor(
    targets: Annotated[
        list[str] | None,
        typer.Argument(help="Scripts, notebooks, log files, a run directory or a folder."),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print the findings as a JSON list on stdout."),
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
    if not targets:
        raise ConfigError(
            "Give a TARGET: a script, notebook, log file, run directory or folder "
            "(e.g. graftlab doctor train.py), or --list."
        )
    if framework not in ("auto", "keras", "torch"):
        from graftlab.errors import did_you_mean

        raise ConfigError(
            f"--framework must be auto, keras or torch. Got {framework!r}."
            + did_you_mean(framework, ("auto", "keras", "torch"))
        )
    from graftlab.doctor.targets import is_run_dir

    folders = [t for t in targets if Path(t).is_dir() and not is_run_dir(Path(t))]
    if folders:
        if len(targets) > 1:
            raise ConfigError(
                f"{folders[0]!r} is a folder: pass it alone to check every file in it, or pass "
                "the files of one run together."
            )
        raise typer.Exit(_folder(Path(folders[0]), framework, as_json))
    from graftlab.doctor.findings import exit_code
    from graftlab.doctor.targets import diagnose

    pairs = diagnose(targets, framework=framework)
    findings = [f for _, f in pairs]
    if as_json:
        rows = [{**f.to_dict(), "target": t} for t, f in pairs] if len(targets) > 1 else None
        typer.echo(json.dumps(rows or [f.to_dict() for f in findings], indent=2))
    else:
        from graftlab.doctor.render import render

        shown = [t for t, _ in pairs] if len(targets) > 1 else None
        render(findings, target=" ".join(targets), targets=shown)
    raise typer.Exit(exit_code(findings))


def _folder(root: Path, framework: str, as_json: bool) -> int:
    """Check every file under ``root`` on its own; print findings, a per-file summary and the
    throughput. Returns the exit code."""
    from graftlab.doctor.findings import exit_code
    from graftlab.doctor.targets import scan

    start = time.perf_counter()
    results = list(scan(root, framework))
    seconds = time.perf_counter() - start
    pairs = [(str(p), f) for p, r in results if not isinstance(r, str) for f in r]
    findings = [f for _, f in pairs]
    if as_json:
        typer.echo(json.dumps([{**f.to_dict(), "target": t} for t, f in pairs], indent=2))
    else:
        from graftlab.doctor.render import render_folder

        render_folder(root, results, seconds)
    return exit_code(findings)


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
