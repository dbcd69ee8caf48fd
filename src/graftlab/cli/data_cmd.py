"""``graftlab data DATA``: load a dataset the way training will and show what it holds."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from graftlab.cli._console import console as make_console

HELP = """Check a dataset and print images per class and split, sizes, modes and bad files.

DATA is a folder with one sub-folder per class (optionally inside train/, val/, test/)
or a CSV with columns path,label[,split]. Every image is decoded once, as training will.

[bold]Examples[/bold]

  graftlab data ./flowers

  graftlab data labels.csv --val-fraction 0.2 --test-fraction 0 --seed 1 --json
"""


def register(app: typer.Typer) -> None:
    """Add ``graftlab data`` to ``app``."""
    app.command("data", help=HELP, no_args_is_help=True)(data)


def data(
    data_path: Annotated[
        Path, typer.Argument(metavar="DATA", help="Class-per-folder tree or path,label CSV.")
    ],
    strict: Annotated[
        bool, typer.Option("--strict", help="Fail on any undecodable file instead of skipping.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as JSON on stdout.")
    ] = False,
    val_fraction: Annotated[
        float, typer.Option("--val-fraction", help="Share of each class for val, if not given.")
    ] = 0.15,
    test_fraction: Annotated[
        float, typer.Option("--test-fraction", help="Share of each class for test, if not given.")
    ] = 0.15,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the stratified split.")] = 0,
    allow_outside: Annotated[
        bool,
        typer.Option("--allow-outside", help="Accept CSV paths outside the CSV's folder."),
    ] = False,
) -> None:
    from graftlab.data import load_dataset
    from graftlab.data.csvfile import OutsidePathsError

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            ds = load_dataset(
                data_path,
                val_fraction=val_fraction,
                test_fraction=test_fraction,
                seed=seed,
                strict=strict,
                allow_outside=allow_outside,
            )
        except OutsidePathsError as exc:  # the option this command has for it
            raise OutsidePathsError(
                f"{exc} Here: graftlab data {data_path} --allow-outside."
            ) from None
    # The summary lists skipped files itself; other warnings (a class missing from test)
    # are shown as one line each instead of Python's file:line warning format.
    for w in caught:
        if "cannot be decoded" not in str(w.message):
            typer.secho(f"graftlab: warning: {w.message}", err=True, fg="yellow")
    summary = ds.summary()
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
    else:
        print_summary(summary, make_console())


def print_summary(summary: dict[str, Any], console: Console) -> None:
    """Render a :meth:`Dataset.summary` dict as a rich table plus a few lines."""
    from graftlab.data import SPLITS

    splits = [s for s in SPLITS if summary["split_sizes"][s]]
    title = escape(f"{summary['source']}  ({summary['task']})")
    table = Table(title=title, title_justify="left")
    table.add_column("class")
    for s in splits:
        table.add_column(s, justify="right")
    table.add_column("total", justify="right")
    for name, c in summary["counts"].items():
        table.add_row(escape(name), *(str(c[s]) for s in splits), str(c["total"]))
    table.add_section()
    sizes = summary["split_sizes"]
    table.add_row("all", *(str(sizes[s]) for s in splits), str(summary["num_images"]))
    console.print(table)

    size = summary["image_size"]
    if size:
        console.print(
            f"image size: width {size['min_width']}-{size['max_width']}, "
            f"height {size['min_height']}-{size['max_height']}"
        )
    if summary["modes"]:
        console.print("modes: " + ", ".join(f"{m} {n}" for m, n in summary["modes"].items()))
    ratio = summary["imbalance_ratio"]
    console.print(
        "class imbalance (largest/smallest in train): "
        + (f"{ratio:.2f}" if ratio is not None else "a class has no training image")
    )
    ignored = {k: n for k, n in summary["ignored"].items() if n}
    if ignored:
        console.print(
            "ignored: " + ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in ignored.items())
        )
    if summary["skipped"]:
        console.print(f"[yellow]skipped {len(summary['skipped'])} file(s):[/yellow]")
        for s in summary["skipped"]:
            console.print(f"  {s['path']}: {s['reason']}", markup=False, highlight=False)
