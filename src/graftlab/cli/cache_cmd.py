"""``graftlab cache info | clear``: what the cache holds, and deleting it safely.

Everything under the cache can be rebuilt from the images. The demo's PNG folders are not
cache (they live under ``graftlab._paths.data_dir``); older versions wrote them to
``<cache>/datasets``, which ``clear`` therefore leaves alone unless asked by name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from graftlab.cli._console import console as make_console

CacheDir = Annotated[
    Path | None,
    typer.Option("--cache-dir", help="Cache root (default $GRAFTLAB_CACHE or ~/.cache/graftlab)."),
]


def register(app: typer.Typer) -> None:
    """Add the ``cache`` group (``info``, ``clear``) to ``app``."""
    cache_app = typer.Typer(help="Show or clear the image and feature caches.")
    cache_app.command(
        "info", help="Sizes per kind (features, images, activations, execution, datasets)."
    )(cache_info)
    cache_app.command(
        "clear",
        help="Delete cached entries: features, images, activations and execution, or --kind. "
        "'datasets' (demo images of older versions that runs may still read) only by name.",
    )(cache_clear)
    app.add_typer(cache_app, name="cache")


def cache_info(cache_dir: CacheDir = None) -> None:
    from graftlab._paths import cache_dir as resolve_cache
    from graftlab._paths import cache_usage

    root = resolve_cache(cache_dir)
    usage = cache_usage(root)
    table = Table(title=f"graftlab cache: {root}")
    for column in ("kind", "entries", "size"):
        table.add_column(column, justify="right" if column != "kind" else "left")
    for kind, info in usage.items():
        table.add_row(kind, str(info["entries"]), human_size(info["bytes"]))
    total = sum(i["bytes"] for i in usage.values())
    table.add_row("total", str(sum(i["entries"] for i in usage.values())), human_size(total))
    make_console().print(table)


def cache_clear(
    kind: Annotated[
        str | None,
        typer.Option(
            help="features | images | activations | execution | datasets "
            "(default: all but datasets)."
        ),
    ] = None,
    cache_dir: CacheDir = None,
) -> None:
    from graftlab._paths import CACHE_KINDS, cache_usage, clear_cache
    from graftlab._paths import cache_dir as resolve_cache
    from graftlab.errors import unknown_name

    if kind is not None and kind not in CACHE_KINDS:
        raise unknown_name("--kind", kind, CACHE_KINDS)
    root = resolve_cache(cache_dir)
    freed = clear_cache(root, None if kind is None else [kind])
    if not freed:
        typer.echo(f"Nothing to clear in {root}.")
    for k, size in freed.items():
        typer.echo(f"cleared {k}: {human_size(size)}")
    kept = cache_usage(root).get("datasets")
    if kind is None and kept:
        typer.echo(
            f"kept datasets: {human_size(kept['bytes'])} of images that runs may still read "
            f"(graftlab cache clear --kind datasets deletes them).",
        )


def human_size(n: float) -> str:
    """``1536`` -> ``"1.5 KB"``."""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"
