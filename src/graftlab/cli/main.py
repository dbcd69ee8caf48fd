"""The ``graftlab`` command: one Typer app; each command lives in its own module."""

from __future__ import annotations

import importlib
import inspect
import sys

import typer

from graftlab.errors import GraftlabError

app = typer.Typer(
    name="graftlab",
    help=(
        "Transfer learning for image classifiers that is right by construction, "
        "and a doctor that explains why a run went wrong.\n\n"
        "Start with:  graftlab demo"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)

# Each module defines ``register(app)``; the order here is the order in ``--help``.
_COMMAND_MODULES = (
    "graftlab.cli.train_cmd",
    "graftlab.cli.evaluate_cmd",
    "graftlab.cli.doctor_cmd",
    "graftlab.cli.data_cmd",
    "graftlab.cli.backbones_cmd",
    "graftlab.cli.env_cmd",
)


@app.callback()
def _main() -> None:
    """Keeps every command a sub-command, however many are registered."""


def _reflow(text: str) -> str:
    """Join the lines of prose paragraphs so the terminal wraps them; keep indented examples."""
    paragraphs = []
    for para in text.strip().split("\n\n"):
        lines = para.split("\n")
        if any(line.startswith((" ", "\t")) for line in lines):
            paragraphs.append(para)
        else:
            paragraphs.append(" ".join(line.strip() for line in lines))
    return "\n\n".join(paragraphs)


for _module in _COMMAND_MODULES:
    importlib.import_module(_module).register(app)

for _info in app.registered_commands:
    _text = _info.help or inspect.getdoc(_info.callback) or ""
    if _text:
        _info.help = _reflow(_text)


def fail(message: str, code: int = 2) -> None:
    """Print one error line on stderr and exit; for user mistakes found inside a command."""
    typer.secho(f"graftlab: error: {message}", err=True, fg="red")
    raise SystemExit(code)


def run(argv: list[str] | None = None) -> None:
    """Entry point: user mistakes become one line on stderr and exit code 2, never a traceback."""
    try:
        result = app(args=argv, standalone_mode=False)
    except GraftlabError as exc:
        typer.secho(f"graftlab: error: {exc}", err=True, fg="red")
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.TyperException as exc:
        # typer vendors click: usage errors (unknown option, bad value) land here.
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        ctx = getattr(exc, "ctx", None)
        where = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        typer.secho(f"graftlab: error: {message}{where}", err=True, fg="red")
        sys.exit(getattr(exc, "exit_code", 2) or 2)
    except (typer.Abort, KeyboardInterrupt):
        typer.secho("graftlab: interrupted", err=True, fg="yellow")
        sys.exit(130)
    if isinstance(result, int):
        sys.exit(result)


if __name__ == "__main__":
    run()
