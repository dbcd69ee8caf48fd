"""The ``graftlab`` command: one Typer app; each command lives in its own module.

The command modules are imported only when their command runs: ``graftlab --help`` and the
commands that need no model (``doctor script.py``, ``data``, ``cache``) must not pay the 4-6
seconds that importing torch and timm costs. The table below is all ``--help`` reads.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

from graftlab.errors import GraftlabError, storage_error

#: name -> (module defining ``register(app)``, the one line shown in ``graftlab --help``).
#: The order is the order in ``--help``; tests/cli/test_main.py checks the lines against the
#: commands' own help so the two cannot drift apart.
COMMANDS: dict[str, tuple[str, str]] = {
    "train": (
        "graftlab.cli.train_cmd",
        "Train an image classifier: linear probe first, then fine-tuning (LP-FT).",
    ),
    "demo": (
        "graftlab.cli.train_cmd",
        "Train on a real dataset that is already on this machine, end to end, in minutes.",
    ),
    "strategies": ("graftlab.cli.train_cmd", "List the fine-tuning strategies."),
    "evaluate": (
        "graftlab.cli.evaluate_cmd",
        "Evaluate a trained model on labelled data: accuracy, balanced accuracy, "
        "macro-F1, top-5, per-class precision/recall/F1, confusion matrix, calibration "
        "(ECE) and log loss.",
    ),
    "predict": (
        "graftlab.cli.evaluate_cmd",
        "Predict the class of image files, folders (searched recursively) and globs.",
    ),
    "export": (
        "graftlab.cli.evaluate_cmd",
        "Export a trained model to ONNX (default) or TorchScript.",
    ),
    "report": (
        "graftlab.cli.evaluate_cmd",
        "Rebuild a run's report.html (self-contained, readable offline) and its plots.",
    ),
    "doctor": (
        "graftlab.cli.doctor_cmd",
        "Name the root cause of a failing transfer-learning run, with evidence and the fix.",
    ),
    "checks": (
        "graftlab.cli.doctor_cmd",
        "List every doctor check (code, category, where it runs).",
    ),
    "data": (
        "graftlab.cli.data_cmd",
        "Check a dataset and print images per class and split, sizes, modes and bad files.",
    ),
    "backbones": (
        "graftlab.cli.backbones_cmd",
        "List backbones, those usable offline first, with their input size, resampling, "
        "crop and normalisation (from timm's data config) and where their weights come "
        "from.",
    ),
    "env": (
        "graftlab.cli.env_cmd",
        "Show versions, CPU features (AVX-512, bf16, AMX), GPUs and where the offline "
        "weights are; paste it into bug reports.",
    ),
    "cache": ("graftlab.cli.cache_cmd", "Show or clear the image and feature caches."),
}


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


_loaded: dict[str, Any] = {}


def load_command(name: str) -> Any:
    """Import the module of command ``name``, register its commands, return the click command."""
    if name not in _loaded:
        module = importlib.import_module(COMMANDS[name][0])
        sub = typer.Typer(
            add_completion=False, pretty_exceptions_enable=False, rich_markup_mode="rich"
        )
        sub.callback()(lambda: None)  # keeps the result a group even for one command
        module.register(sub)
        for info in sub.registered_commands:
            text = info.help or inspect.getdoc(info.callback) or ""
            if text:
                info.help = _reflow(text)
        group = typer.main.get_command(sub)
        assert isinstance(group, TyperGroup)
        _loaded.update(group.commands)
    return _loaded[name]


class _LazyGroup(TyperGroup):
    """Lists the commands from :data:`COMMANDS`; imports a module only to run its command."""

    _listing = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Placeholders: what --help lists and what "Did you mean" suggests from.
        self.commands = {
            name: TyperCommand(name, short_help=line, help="")
            for name, (_, line) in COMMANDS.items()
        }

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any | None:
        if cmd_name not in COMMANDS:
            return None
        if self._listing:
            return self.commands[cmd_name]
        return load_command(cmd_name)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


app = typer.Typer(
    name="graftlab",
    cls=_LazyGroup,
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


@app.callback()
def _main() -> None:
    """Keeps every command a sub-command, however many are registered."""


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
    except OSError as exc:
        # A read-only or full output folder, cache or HOME is the user's to fix: one line.
        problem = storage_error(exc)
        if problem is None:
            raise
        typer.secho(f"graftlab: error: {problem}", err=True, fg="red")
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
