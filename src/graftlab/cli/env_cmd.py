"""``graftlab env``: versions, CPU/GPU, offline weights, and (optionally) the fastest precision."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from graftlab.cli._console import console as make_console

HELP = """Show versions, CPU features (AVX-512, bf16, AMX), GPUs and where the offline
weights are; paste it into bug reports.

With --measure, also time fp32 against bf16 + channels_last on EfficientNet-Lite0 (about
3 seconds) and print which one training would use here.

[bold]Examples[/bold]

  graftlab env

  graftlab env --measure --json
"""


def register(app: typer.Typer) -> None:
    """Add ``graftlab env`` to ``app``."""
    app.command("env", help=HELP)(env)


def env(
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    measure: Annotated[
        bool, typer.Option("--measure", help="Time fp32 vs bf16 on EfficientNet-Lite0.")
    ] = False,
) -> None:
    from graftlab.hardware import choose_execution, describe_environment

    info = describe_environment()
    if measure:
        from graftlab.backbones import create_backbone
        from graftlab.data.transforms import Preprocess

        model = create_backbone("tf_efficientnet_lite0", weights="none")
        size = Preprocess.from_model(model).input_size
        info["execution"] = choose_execution(model, size).to_dict()
    if as_json:
        typer.echo(json.dumps(info, indent=2))
        return
    table = Table(show_header=False, title="graftlab environment", title_justify="left")
    table.add_column("key", style="bold")
    table.add_column("value", overflow="fold")
    table.add_row("python", f"{info['python']} ({info['platform']})")
    for name, version in info["versions"].items():
        table.add_row(name, version or "[red]not installed[/red]")
    t = info["torch"]
    table.add_row("torch threads", f"{t['threads']} (interop {t['interop_threads']})")
    table.add_row("torch CPU kernels", f"{t['cpu_capability']}, CUDA build {t['cuda_build']}")
    cpu = info["cpu"]
    flags = ", ".join(f"{f} {'yes' if on else 'no'}" for f, on in cpu["flags"].items())
    table.add_row("CPU", f"{cpu['model']}, {cpu['cores']} cores")
    table.add_row("CPU flags", f"{flags}; amx {'yes' if cpu['amx'] else 'no'}")
    table.add_row("bf16 on CPU", "yes" if cpu["bf16"] else "no")
    gpus = "; ".join(f"{g['name']} ({g['memory_gb']} GiB)" for g in info["gpus"]) or "none"
    table.add_row("GPUs", gpus)
    for name, path in info["offline_weights"].items():
        table.add_row(f"offline {name}", path or "[yellow]not installed[/yellow]")
    table.add_row("HF_HUB_OFFLINE", "yes" if info["hf_hub_offline"] else "no")
    table.add_row("cache", info["cache_dir"])
    if "execution" in info:
        table.add_row("execution", info["execution"]["reason"])
    make_console().print(table)
