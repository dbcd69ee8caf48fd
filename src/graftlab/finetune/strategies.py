"""Fine-tuning strategies: what is frozen, which learning rate each parameter gets, BN policy.

A strategy is a small object with named hooks the :class:`~graftlab.finetune.trainer.Trainer`
calls (``freeze_before_training``, ``param_groups``, ``on_epoch_start``, ``set_train_mode``)
and a ``state_dict`` so a resumed run continues exactly. Layers are found through timm's
model contract (``get_classifier``, ``group_matcher``), never by module names.

=========  ===========  ==========================================================
name       head init    what trains
=========  ===========  ==========================================================
lp         probe        the head only (no Trainer run needed: the probe is the model)
lp-ft      probe        everything; layer-wise lr decay from the head down to the stem
full       random       everything at one lr (the naive baseline)
top-k      probe        the head and the last ``unfreeze`` stages; the rest frozen, eval
gradual    probe        the head and the top stage, one more stage each epoch, each at a
                        lower lr than the stage above it
=========  ===========  ==========================================================
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

import torch
from torch import nn

from graftlab._registry import Registry
from graftlab.errors import ConfigError, did_you_mean
from graftlab.finetune import _groups as G

STRATEGIES: Registry[type[Strategy]] = Registry("strategy")
BN_POLICIES = ("frozen", "train")


def create_strategy(name: str, **kwargs: Any) -> Strategy:
    """Build the strategy registered as ``name`` (see :func:`list_strategies`).

    Raises:
        ConfigError: unknown name, or an argument the strategy does not take.
    """
    cls = STRATEGIES.get(name)
    accepted = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    for key in kwargs:
        if key not in accepted:
            raise ConfigError(
                f"Strategy {name!r} takes no argument {key!r}.{did_you_mean(key, accepted)} "
                f"It accepts: {', '.join(accepted) or 'no arguments'}."
            )
    return cls(**kwargs)


def list_strategies() -> list[str]:
    """Names of the registered strategies."""
    return STRATEGIES.names()


#: TrainConfig fields a strategy may take as constructor arguments of the same name.
CONFIG_OPTIONS = ("bn", "layer_decay", "unfreeze")


def strategy_from_config(config: Any) -> Strategy:
    """The strategy ``config.strategy`` with the config's fields it takes (bn, layer_decay...).

    Raises:
        ConfigError: see :func:`check_strategy_options`.
    """
    cls = check_strategy_options(config)
    accepted = inspect.signature(cls.__init__).parameters
    return cls(**{k: getattr(config, k) for k in CONFIG_OPTIONS if k in accepted})


def check_strategy_options(config: Any) -> type[Strategy]:
    """The strategy class of ``config``; a ConfigError when the name is unknown or an option
    the strategy does not take is set (``unfreeze=1`` with ``lp-ft`` would be ignored).

    An option left at its default is not "set": every strategy runs with the defaults.
    """
    if config.strategy not in STRATEGIES:
        names = STRATEGIES.names()
        raise ConfigError(
            f"Unknown strategy {config.strategy!r}.{did_you_mean(str(config.strategy), names)} "
            f"Valid: {', '.join(names)}."
        )
    cls = STRATEGIES.get(config.strategy)
    defaults = {f.name: f.default for f in dataclasses.fields(config)}
    for option in CONFIG_OPTIONS:
        value = getattr(config, option)
        if option in _options(cls) or value == defaults[option]:
            continue
        takers = [n for n in STRATEGIES.names() if option in _options(STRATEGIES.get(n))]
        raise ConfigError(
            f"{option!r} does not apply to strategy {config.strategy!r} "
            f"({cls.scope}); it is an option of {', '.join(repr(n) for n in takers)}. "
            f"Got {option}={value!r}: leave it out, or choose one of those strategies."
        )
    return cls


def _options(cls: type[Strategy]) -> set[str]:
    return {p for p in inspect.signature(cls.__init__).parameters if p != "self"}


class Strategy:
    """Base class: every hook the Trainer calls, with the behaviour most strategies share.

    Args:
        bn: ``"frozen"`` keeps every BatchNorm layer in eval mode, so its running statistics
            stay those of the pretraining data (small batches of a new domain make them
            noisy); its affine weights still train. ``"train"`` updates them (Keras default).
    """

    name = ""
    init_head = "probe"
    trains_backbone = True
    scope = ""  # what trains, for messages: "the head only", "every stage"

    def __init__(self, *, bn: str = "frozen") -> None:
        self.bn = bn

    # -- hooks ------------------------------------------------------------------------------
    def freeze_before_training(self, model: nn.Module) -> None:
        """Set ``requires_grad`` for the start of training."""
        self._validate(model)
        G.set_requires_grad(list(model.parameters()), True)

    def param_groups(self, model: nn.Module, lr: float, weight_decay: float) -> list[dict]:
        """Optimizer groups of the trainable parameters: name, lr, params, weight_decay."""
        raise NotImplementedError

    def on_epoch_start(
        self, model: nn.Module, optimizer: torch.optim.Optimizer, epoch: int
    ) -> None:
        """Called before each epoch (0-based); gradual unfreezing acts here."""

    def stages_trained(self, model: nn.Module, epochs: int) -> int | None:
        """How many backbone stages, from the top, train at some point of an ``epochs`` run.

        The stages below stay frozen (eval mode) from start to end, so their output depends
        only on the input and the Trainer computes it once (``finetune/boundary.py``).
        None: not known, nothing is cached.
        """
        return None

    def set_train_mode(self, model: nn.Module) -> None:
        """``model.train()``, then frozen parts and (``bn="frozen"``) BatchNorm back to eval."""
        model.train()
        G.eval_frozen(model)
        if self.bn == "frozen":
            for module in G.batchnorms(model):
                module.eval()

    def describe(self, model: nn.Module, optimizer: torch.optim.Optimizer | None = None) -> str:
        """What is frozen, each parameter group (size, lr, weight decay), the BN policy."""
        lines = [f"strategy {self.name}: {self._summary()}"]
        layers = G.backbone_layers(model)
        frozen = [la for la in layers if not any(p.requires_grad for p in la.params)]
        partial = [
            la for la in layers if la not in frozen and not all(p.requires_grad for p in la.params)
        ]
        n_frozen = G.count([p for p in model.parameters() if not p.requires_grad])
        if frozen:
            lines.append(
                f"frozen (eval mode): {', '.join(la.label for la in frozen)} "
                f"({len(frozen)} of {len(layers)} stages, {n_frozen:,} parameters)"
            )
        else:
            lines.append(f"frozen: nothing ({n_frozen:,} frozen parameters)")
        if partial:
            lines.append(f"partly frozen: {', '.join(la.label for la in partial)}")
        if optimizer is not None:
            lines.append(f"parameter groups ({type(optimizer).__name__}):")
            for i, g in enumerate(optimizer.param_groups):
                lines.append(
                    f"  {g.get('name', f'group{i}'):<24} {G.count(g['params']):>10,} params"
                    f"  lr {g.get('base_lr', g['lr']):.2e}  wd {g['weight_decay']:g}"
                )
        n_bn = len(G.batchnorms(model))
        if n_bn == 0:
            lines.append("BatchNorm: none in this model (nothing to freeze)")
        elif self.bn == "frozen":
            lines.append(
                f"BatchNorm: frozen - {n_bn} layers in eval mode, running statistics kept "
                "from pretraining (affine weights train where unfrozen)"
            )
        else:
            lines.append(
                f"BatchNorm: train - {n_bn} layers update running statistics from each batch "
                "(except in frozen stages)"
            )
        return "\n".join(lines)

    def state_dict(self) -> dict:
        return {"name": self.name, "bn": self.bn}

    def load_state_dict(self, state: dict) -> None:
        if state.get("name") != self.name:
            raise ConfigError(
                f"The checkpoint was written by strategy {state.get('name')!r}, this run uses "
                f"{self.name!r}. Resume with strategy={state.get('name')!r}."
            )

    # -- shared helpers ---------------------------------------------------------------------
    def _summary(self) -> str:
        source = "from the linear probe" if self.init_head == "probe" else "at random"
        return f"head initialised {source}"

    def _validate(self, model: nn.Module) -> None:
        if self.bn not in BN_POLICIES:
            raise ConfigError(
                f"'bn' must be 'frozen' or 'train'. Got bn={self.bn!r}."
                + did_you_mean(str(self.bn), BN_POLICIES)
            )

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.state_dict().items() if k != "name")
        return f"{type(self).__name__}({args})"


def _check_layer_decay(value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        hint = (
            f" Did you mean {value / 10:g}?"
            if isinstance(value, int | float) and 1 < value <= 10
            else ""
        )
        raise ConfigError(
            f"'layer_decay' must be a float in (0, 1]: each stage's lr is this times the lr of "
            f"the stage above it (1 = one lr). Got layer_decay={value!r}.{hint}"
        )


def _layer_decay_groups(
    model: nn.Module, lr: float, weight_decay: float, layer_decay: float, layers: list[G.Layer]
) -> list[dict]:
    """Head at ``lr``, then each trainable stage at ``lr * layer_decay ** depth``, top first."""
    skip = G.no_weight_decay(model)
    named = dict(model.named_parameters())
    head = [(n, named[n]) for n in G.head_names(model) if named[n].requires_grad]
    groups = G.split_decay("head", head, lr, weight_decay, skip)
    for layer in reversed(layers):
        trainable = [
            (n, p) for n, p in zip(layer.names, layer.params, strict=True) if p.requires_grad
        ]
        depth = len(layers) - layer.index
        groups += G.split_decay(layer.label, trainable, lr * layer_decay**depth, weight_decay, skip)
    return groups


@STRATEGIES.register("lp")
class LinearProbeOnly(Strategy):
    """Train the head only; the backbone is frozen and in eval mode.

    The linear probe already fits this head in seconds on cached features, so ``graftlab
    train`` does not run the Trainer for it (``trains_backbone=False``); running it anyway
    trains the head end to end on augmented images.
    """

    name = "lp"
    trains_backbone = False
    scope = "the head only, on frozen features"

    def freeze_before_training(self, model: nn.Module) -> None:
        self._validate(model)
        head = set(G.head_names(model))
        for n, p in model.named_parameters():
            p.requires_grad_(n in head)

    def param_groups(self, model: nn.Module, lr: float, weight_decay: float) -> list[dict]:
        return _layer_decay_groups(model, lr, weight_decay, 1.0, [])

    def stages_trained(self, model: nn.Module, epochs: int) -> int | None:
        return 0

    def _summary(self) -> str:
        return super()._summary() + "; backbone frozen"


@STRATEGIES.register("lp-ft")
class LPFT(Strategy):
    """LP-FT: head from the probe, then the whole network with layer-wise lr decay.

    Args:
        layer_decay: Each stage (timm's ``group_matcher(coarse=True)``) trains at this times
            the lr of the stage above; the head gets the full lr. Low layers hold generic
            features that need the least change (Yosinski et al. 2014; ULMFiT; BEiT).
        bn: BatchNorm policy, see :class:`Strategy`.
    """

    name = "lp-ft"
    scope = "every stage trains, each at a lower lr than the one above"

    def __init__(self, *, layer_decay: float = 0.7, bn: str = "frozen") -> None:
        super().__init__(bn=bn)
        self.layer_decay = layer_decay

    def param_groups(self, model: nn.Module, lr: float, weight_decay: float) -> list[dict]:
        self._validate(model)
        layers = G.backbone_layers(model)
        return _layer_decay_groups(model, lr, weight_decay, self.layer_decay, layers)

    def _validate(self, model: nn.Module) -> None:
        super()._validate(model)
        _check_layer_decay(self.layer_decay)

    def _summary(self) -> str:
        return super()._summary() + f"; layer-wise lr decay {self.layer_decay:g} per stage"

    def state_dict(self) -> dict:
        return {**super().state_dict(), "layer_decay": self.layer_decay}


@STRATEGIES.register("full")
class Full(Strategy):
    """Random head, everything trainable at one learning rate: the naive baseline.

    Kept to measure what LP-FT buys: a random head's large early gradients reach the
    pretrained layers at the full lr (Kumar et al. 2022).
    """

    name = "full"
    init_head = "random"
    scope = "every parameter trains at one lr"

    def param_groups(self, model: nn.Module, lr: float, weight_decay: float) -> list[dict]:
        self._validate(model)
        named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        return G.split_decay("all", named, lr, weight_decay, G.no_weight_decay(model))

    def _summary(self) -> str:
        return super()._summary() + "; everything trains at one lr"


@STRATEGIES.register("top-k")
class TopK(Strategy):
    """Train the head and the last ``unfreeze`` stages; the rest is frozen and in eval mode.

    Args:
        unfreeze: How many of timm's coarse stages, counted from the top, train.
        layer_decay: lr ratio between a trainable stage and the one above it.
        bn: BatchNorm policy for the trainable stages, see :class:`Strategy`.
    """

    name = "top-k"
    scope = "the head and the top `unfreeze` stages train"

    def __init__(self, *, unfreeze: int = 2, layer_decay: float = 0.7, bn: str = "frozen") -> None:
        super().__init__(bn=bn)
        self.unfreeze = unfreeze
        self.layer_decay = layer_decay

    def freeze_before_training(self, model: nn.Module) -> None:
        self._validate(model)
        _train_head_and_top(model, self.unfreeze)

    def param_groups(self, model: nn.Module, lr: float, weight_decay: float) -> list[dict]:
        self._validate(model)
        layers = G.backbone_layers(model)
        return _layer_decay_groups(model, lr, weight_decay, self.layer_decay, layers)

    def _validate(self, model: nn.Module) -> None:
        super()._validate(model)
        _check_layer_decay(self.layer_decay)
        n = len(G.backbone_layers(model))
        if (
            isinstance(self.unfreeze, bool)
            or not isinstance(self.unfreeze, int)
            or not (0 <= self.unfreeze <= n)
        ):
            raise ConfigError(
                f"'unfreeze' must be an integer from 0 to {n}, the number of stages of this "
                f"backbone. Got unfreeze={self.unfreeze!r}. Use {n} to train every stage "
                "(or strategy='lp-ft')."
            )

    def stages_trained(self, model: nn.Module, epochs: int) -> int | None:
        return self.unfreeze

    def _summary(self) -> str:
        return super()._summary() + (
            f"; last {self.unfreeze} stages train, layer-wise lr decay {self.layer_decay:g}"
        )

    def state_dict(self) -> dict:
        return {**super().state_dict(), "unfreeze": self.unfreeze, "layer_decay": self.layer_decay}


@STRATEGIES.register("gradual")
class Gradual(Strategy):
    """Gradual unfreezing (ULMFiT): the head and top stage first, one more stage per period.

    Epoch 0 trains the head and the top stage (the head is already fitted by the probe, so an
    epoch of head-only training would be wasted); every ``epochs_per_stage`` epochs the next
    stage down is unfrozen and gets its own parameter group at ``layer_decay`` times the lr of
    the stage above it.

    Args:
        layer_decay: lr ratio between a stage and the one above it.
        epochs_per_stage: Epochs between two unfreezings.
        bn: BatchNorm policy for the unfrozen stages, see :class:`Strategy`.

    Attributes:
        unfrozen_: How many stages, from the top, are unfrozen now (saved in ``state_dict``).
    """

    name = "gradual"
    scope = "one more stage unfreezes every epoch"

    def __init__(
        self, *, layer_decay: float = 0.7, epochs_per_stage: int = 1, bn: str = "frozen"
    ) -> None:
        super().__init__(bn=bn)
        self.layer_decay = layer_decay
        self.epochs_per_stage = epochs_per_stage
        self.unfrozen_ = 0
        self._lr: tuple[float, float] | None = None

    def freeze_before_training(self, model: nn.Module) -> None:
        self._validate(model)
        _train_head_and_top(model, self.unfrozen_)

    def param_groups(self, model: nn.Module, lr: float, weight_decay: float) -> list[dict]:
        self._validate(model)
        self._lr = (lr, weight_decay)
        layers = G.backbone_layers(model)
        return _layer_decay_groups(model, lr, weight_decay, self.layer_decay, layers)

    def on_epoch_start(
        self, model: nn.Module, optimizer: torch.optim.Optimizer, epoch: int
    ) -> None:
        if self._lr is None:
            raise RuntimeError("Gradual.on_epoch_start called before param_groups")
        lr, weight_decay = self._lr
        layers = G.backbone_layers(model)
        target = min(len(layers), 1 + epoch // self.epochs_per_stage)
        skip = G.no_weight_decay(model)
        for k in range(self.unfrozen_, target):
            layer = layers[len(layers) - 1 - k]
            G.set_requires_grad(layer.params, True)
            named = list(zip(layer.names, layer.params, strict=True))
            depth = len(layers) - layer.index
            for group in G.split_decay(
                layer.label, named, lr * self.layer_decay**depth, weight_decay, skip
            ):
                optimizer.add_param_group(group)
        self.unfrozen_ = max(self.unfrozen_, target)

    def stages_trained(self, model: nn.Module, epochs: int) -> int | None:
        # Epoch e trains the top 1 + e // epochs_per_stage stages; the last epoch the most.
        return min(len(G.backbone_layers(model)), 1 + (epochs - 1) // self.epochs_per_stage)

    def _validate(self, model: nn.Module) -> None:
        super()._validate(model)
        _check_layer_decay(self.layer_decay)
        e = self.epochs_per_stage
        if isinstance(e, bool) or not isinstance(e, int) or e < 1:
            raise ConfigError(
                f"'epochs_per_stage' must be a positive integer. Got epochs_per_stage={e!r}."
            )

    def _summary(self) -> str:
        return super()._summary() + (
            f"; {self.unfrozen_} top stages unfrozen, one more every {self.epochs_per_stage} "
            f"epoch(s), layer-wise lr decay {self.layer_decay:g}"
        )

    def state_dict(self) -> dict:
        return {
            **super().state_dict(),
            "layer_decay": self.layer_decay,
            "epochs_per_stage": self.epochs_per_stage,
            "unfrozen": self.unfrozen_,
        }

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.unfrozen_ = int(state["unfrozen"])


def _train_head_and_top(model: nn.Module, n_stages: int) -> None:
    """Freeze everything but the head and the last ``n_stages`` backbone stages."""
    layers = G.backbone_layers(model)
    head = set(G.head_names(model))
    for n, p in model.named_parameters():
        p.requires_grad_(n in head)
    for layer in layers[len(layers) - n_stages :] if n_stages > 0 else []:
        G.set_requires_grad(layer.params, True)
