"""``graftlab backbones``: which backbones work now, and the preprocessing each expects."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from graftlab.cli._console import console as make_console

HELP = """List backbones, those usable offline first, with their input size, resampling, crop
and normalisation (from timm's data config) and where their weights come from.

Sources: [bold]packaged[/bold] (pip package, offline), [bold]hub cache[/bold] (downloaded
before, offline), [bold]hub[/bold] (needs the internet), [bold]none[/bold] (no pretrained
weights). Any timm name or alias in the list works with --backbone.

[bold]Examples[/bold]

  graftlab backbones

  graftlab backbones --all --json
"""


def register(app: typer.Typer) -> None:
    """Add ``graftlab backbones`` to ``app``."""
    app.command("backbones", help=HELP)(backbones)


def backbones(
    include_all: Annotated[
        bool, typer.Option("--all", help="Every timm architecture, not only the popular ones.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON.")] = False,
) -> None:
    from graftlab.backbones import list_backbones

    rows = list_backbones(include_all=include_all)
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title="Backbones (offline-usable first)", title_justify="left")
    for column in (
        "name",
        "offline",
        "source",
        "input",
        "resample",
        "crop",
        "normalise",
        "also accepted as",
    ):
        table.add_column(column, no_wrap=True)
    for r in rows:
        table.add_row(
            r["name"],
            "[green]yes[/green]" if r["available_offline"] else "no",
            r["source"],
            str(r["input_size"]),
            r["interpolation"],
            f"{r['crop_pct']:.3g}",
            _normalisation(r["mean"], r["std"]),
            ", ".join(r["aliases"]),
        )
    console = make_console()
    console.print(table)
    offline = sum(r["available_offline"] for r in rows)
    console.print(
        f"{offline} of {len(rows)} usable offline. "
        + ("`graftlab backbones --all` lists every timm model." if not include_all else "")
    )


_KNOWN_NORMALISATIONS = {
    ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)): "imagenet mean/std",
    ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)): "[-1, 1]",
    ((0.0, 0.0, 0.0), (1.0, 1.0, 1.0)): "[0, 1]",
}


def _normalisation(mean: tuple[float, ...], std: tuple[float, ...]) -> str:
    """Name the usual normalisations; print the numbers of any other."""
    key = (tuple(round(v, 3) for v in mean), tuple(round(v, 3) for v in std))
    if key in _KNOWN_NORMALISATIONS:
        return _KNOWN_NORMALISATIONS[key]
    return (
        "mean " + ",".join(f"{v:.3g}" for v in mean) + " std " + ",".join(f"{v:.3g}" for v in std)
    )
