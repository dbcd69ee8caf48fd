"""Layer grouping helpers: which parameters form the head, the stages, the no-decay set.

Everything here goes through timm's model contract (``get_classifier``, ``group_matcher``,
``no_weight_decay``) rather than module names, so a strategy written once works for
EfficientNet, ResNet, ViT and any other timm model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import torch
from timm.models import group_parameters
from torch import nn

from graftlab.errors import ConfigError


@dataclass
class Layer:
    """One group of backbone parameters, in order from the stem (index 0) to the top.

    Attributes:
        index: Position from the stem; the top stage has the largest index.
        label: Short readable name built from the parameter names (``blocks.3``, ``conv1+bn1``).
        names: Parameter names, in ``named_parameters`` order.
        params: The parameters themselves.
    """

    index: int
    label: str
    names: list[str] = field(default_factory=list)
    params: list[nn.Parameter] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(p.numel() for p in self.params)


def head_names(model: nn.Module) -> list[str]:
    """Names of the classifier's parameters (timm ``get_classifier``)."""
    head = model.get_classifier() if hasattr(model, "get_classifier") else None
    if head is None:  # a plain nn.Module: its last child with parameters is the head
        children = [c for c in model.children() if any(True for _ in c.parameters())]
        head = children[-1] if children else None
    ids = {id(p) for p in head.parameters()} if isinstance(head, nn.Module) else set()
    names = [n for n, p in model.named_parameters() if id(p) in ids]
    if not names:
        raise ConfigError(
            f"{type(model).__name__} has no classifier with parameters, so there is no head to "
            "train. Give it one first: model.reset_classifier(num_classes)."
        )
    return names


def backbone_layers(model: nn.Module, coarse: bool = True) -> list[Layer]:
    """The backbone's parameter groups from the stem to the top, the head left out.

    ``coarse=True`` gives timm's stages (stem, one group per stage or block); ``False`` gives
    its finer groups (one per block where the model defines them).
    """
    head = set(head_names(model))
    named = [(n, p) for n, p in model.named_parameters() if n not in head]
    matcher = model.group_matcher(coarse=coarse) if hasattr(model, "group_matcher") else None
    if matcher is not None:
        layer_of = group_parameters(model, matcher, reverse=True)
    else:  # not a timm model: each top-level child is one layer
        first = [n.split(".")[0] for n, _ in named]
        order = list(dict.fromkeys(first))
        layer_of = {n: order.index(f) for (n, _), f in zip(named, first, strict=True)}
    # timm numbers the head's group too; renumber densely over the backbone's own groups.
    ids = sorted({layer_of[n] for n, _ in named})
    layers = [Layer(index=i, label="") for i in range(len(ids))]
    dense = {old: new for new, old in enumerate(ids)}
    for n, p in named:
        layer = layers[dense[layer_of[n]]]
        layer.names.append(n)
        layer.params.append(p)
    for layer in layers:
        layer.label = _label(layer.names, matcher)
    return layers


def no_weight_decay(model: nn.Module) -> set[str]:
    """Names of parameters weight decay must not touch: norms, biases, timm's own list.

    Decay on a norm's scale or on a bias only pulls the output towards zero, it does not
    regularise (and ``pos_embed`` / ``cls_token`` of a ViT are in timm's ``no_weight_decay``).
    """
    special = set(model.no_weight_decay()) if hasattr(model, "no_weight_decay") else set()
    return {
        n
        for n, p in model.named_parameters()
        if p.ndim <= 1 or n.endswith(".bias") or n in special or n.split(".")[0] in special
    }


def make_group(
    name: str, named: list[tuple[str, nn.Parameter]], lr: float, weight_decay: float
) -> dict:
    """An optimizer parameter group; ``base_lr`` is what the schedule scales each step."""
    return {
        "name": name,
        "params": [p for _, p in named],
        "param_names": [n for n, _ in named],
        "lr": lr,
        "base_lr": lr,
        "weight_decay": weight_decay,
    }


def split_decay(
    name: str,
    named: list[tuple[str, nn.Parameter]],
    lr: float,
    weight_decay: float,
    skip: set[str],
) -> list[dict]:
    """Split ``named`` into a decayed group and a ``*_no_decay`` group; empty ones dropped."""
    decay = [(n, p) for n, p in named if n not in skip]
    plain = [(n, p) for n, p in named if n in skip]
    groups = []
    if decay:
        groups.append(make_group(name, decay, lr, weight_decay))
    if plain:
        groups.append(make_group(f"{name}_no_decay", plain, lr, 0.0))
    return groups


def set_requires_grad(params: list[nn.Parameter], flag: bool) -> None:
    for p in params:
        p.requires_grad_(flag)


def batchnorms(model: nn.Module) -> list[nn.Module]:
    """Every BatchNorm layer (timm's BatchNormAct2d included: it subclasses BatchNorm2d)."""
    return [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


def frozen_modules(model: nn.Module) -> list[str]:
    """Names of the outermost modules whose parameters are all frozen."""
    out: list[str] = []
    for name, module in model.named_modules():
        if any(prefix == "" or name.startswith(prefix + ".") for prefix in out):
            continue
        params = list(module.parameters())
        if params and not any(p.requires_grad for p in params):
            out.append(name)
    return out


def eval_frozen(model: nn.Module) -> None:
    """Put every fully frozen module in eval mode: no dropout, no BN statistics update."""
    modules = dict(model.named_modules())
    for name in frozen_modules(model):
        modules[name].eval()


def count(params: list[torch.Tensor]) -> int:
    return sum(p.numel() for p in params)


def _label(names: list[str], matcher: object = None) -> str:
    """A readable name for a group: what timm's matcher matched (``layer4``, ``blocks.4``,
    ``conv_head``), else the module path down to the first block index."""
    parts = [_matched_prefix(n, matcher) for n in names]
    unique = list(dict.fromkeys(parts))
    return "+".join(unique) if len(unique) <= 4 else f"{unique[0]}..{unique[-1]}"


def _matched_prefix(name: str, matcher: object) -> str:
    if isinstance(matcher, dict):
        for spec in matcher.values():
            patterns = [spec] if isinstance(spec, str) else [s[0] for s in spec or ()]
            for pattern in patterns:
                m = re.match(pattern, name)
                if m and m.group(0):
                    return m.group(0).rstrip(".")
    bits = name.split(".")
    return ".".join(bits[:2]) if len(bits) > 2 and bits[1].isdigit() else bits[0]
