"""BatchNorm folded into the convolution before it, for inference.

In eval mode a BatchNorm layer is a per-channel ``x * s + t`` with ``s = gamma / sqrt(var +
eps)`` and ``t = beta - mean * s``. When its input is the output of a convolution and nothing
else reads that output, the scale goes into the convolution's weights and the shift into its
bias, and the BatchNorm pass over the activations disappears: on EfficientNet-Lite0 at 112 px
(49 such pairs, CPU) a forward pass takes about 0.8x the time in float32 (0.84x under bf16
autocast). Feature extraction and ``predict`` run the folded copy, which is kept while the
model lives (its memory once more); training never runs it (the statistics and affine
parameters must stay separate to train).

In float32 and under bf16 autocast, not under fp16. Under autocast the folded bias is cast to
bf16 with the weights, a per-channel offset the BatchNorm (whose statistics autocast keeps in
float32) does not have; but the unfolded model rounds every BatchNorm output to bf16 instead,
and the two errors are of a size. Measured on lite0 at 112 px (2026-12-07, session 16): pooled
features of 512 Fashion-MNIST test images are 7.4% (relative L2) from the float32 model's
unfolded and 6.9% folded; linear probes on 4,250 Fashion-MNIST images, trained and tested
(3,000 images) on folded bf16 features against unfolded ones, scored -0.27, +0.20 and +0.07 pt
on three draws (mean 0.00). On the smallest probes the two bf16 models scatter either side of
float32: Fashion-MNIST 7 x 50 (294 training images, 2,100 test images), probe test accuracy on
draws 1-3 in float32 0.8690 / 0.8343 / 0.7552, bf16 unfolded 0.8719 / 0.8333 / 0.7614, bf16
folded 0.8648 / 0.8248 / 0.7538 (-0.5 pt from float32 on average, the unfolded +0.3); the
default recipe's fine-tuned models on the same draws 0.9124 / 0.8752 / 0.7957 folded against
0.9019 / 0.8752 / 0.7990 unfolded (session 13's code); ``--strategy lp`` over the whole process
-0.2 pt at 5,000 images and -0.35 at 50,000 (2,000 test images). So the probe alone is about
0.3 pt lower folded on average, the default recipe not. Session 8 kept bf16 unfolded on the
7 x 50 probe numbers alone. Not under fp16: its range is narrow, and a scale ``gamma / sqrt(var +
eps)`` multiplied into the weights can leave it.

Pairs are found from one small forward pass with autograd on, not from module names: a
BatchNorm whose input tensor was produced by a ``Conv2d`` and is referenced once in the graph
is folded. The folded copy is then checked against the model on a fixed input in float32 and
discarded if it differs (a convolution that transforms its weights in ``forward``, such as
weight standardisation, would): in float32 folding is an optimisation, never a change of the
model; under bf16 it moves the features within bf16's own rounding, as measured above.
"""

from __future__ import annotations

import copy
import weakref
from typing import Any

import torch
from torch import nn

#: Relative difference of the folded copy's pooled features from the model's on the check
#: input (float32) above which the copy is discarded; folding alone moves them by ~1e-6.
TOLERANCE = 1e-4

#: model -> (its state when folded, the folded copy or None when it was kept as it is). The
#: copy holds no reference to the model, so an entry goes with its model.
#: The executions whose inference runs the folded copy (see the module's docstring).
FOLDED_DTYPES = ("fp32", "bf16")

_cache: weakref.WeakKeyDictionary[nn.Module, tuple[tuple, nn.Module | None]] = (
    weakref.WeakKeyDictionary()
)


def folded_for_inference(model: nn.Module, input_size: int, dtype: str = "fp32") -> nn.Module:
    """``model`` with every Conv2d -> BatchNorm pair folded, as a copy; ``model`` itself when
    there is none, when it is in training mode, when it runs under fp16 autocast (``dtype`` is
    the execution's: ``"fp32"`` and ``"bf16"`` fold), or when the copy does not compute the
    same in float32.

    The model must already be on its device and in its memory format, in eval mode. The copy
    is cached per model while its parameters and buffers are unchanged (same storage, same
    in-place version), so predicting batch after batch folds once.
    """
    if model.training or dtype not in FOLDED_DTYPES:
        return model
    state = _state(model)
    hit = _cache.get(model)
    if hit is None or hit[0] != state:
        folded = _fold(model, input_size)
        hit = (state, None if folded is model else folded)
        _cache[model] = hit
    return model if hit[1] is None else hit[1]


def _state(model: nn.Module) -> tuple:
    """What changes when any parameter or buffer is replaced or updated in place."""
    tensors = [*model.parameters(), *model.buffers()]
    return tuple((t.data_ptr(), t._version, t.device.type, t.dtype) for t in tensors)


def _fold(model: nn.Module, input_size: int) -> nn.Module:
    example = _check_input(model, input_size)
    pairs = _conv_bn_pairs(model, example[:1])
    if not pairs:
        return model
    names = {m: name for name, m in model.named_modules()}
    folded = copy.deepcopy(model)
    modules = dict(folded.named_modules())
    with torch.no_grad():
        for conv, bn in pairs:
            _fold_pair(modules[names[conv]], modules[names[bn]])
            _replace(folded, names[bn], _after_norm(modules[names[bn]]))
        want = _pooled(model, example)
        got = _pooled(folded, example)
    scale = want.abs().max().clamp_min(1e-12)
    if not bool(torch.isfinite(got).all()) or float((got - want).abs().max() / scale) > TOLERANCE:
        return model
    return folded


def _check_input(model: nn.Module, input_size: int) -> torch.Tensor:
    """A fixed input, drawn from its own generator so the global random state is untouched."""
    param = next(model.parameters())
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, input_size, input_size, generator=g)
    fmt = torch.channels_last if _channels_last(param) else torch.contiguous_format
    return x.to(device=param.device, memory_format=fmt)


def _channels_last(param: torch.Tensor) -> bool:
    return param.ndim == 4 and param.is_contiguous(memory_format=torch.channels_last)


def _pooled(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    if hasattr(model, "forward_features") and hasattr(model, "forward_head"):
        return model.forward_head(model.forward_features(x), pre_logits=True).float()
    return model(x).float()


def _conv_bn_pairs(model: nn.Module, x: torch.Tensor) -> list[tuple[nn.Conv2d, nn.BatchNorm2d]]:
    """(conv, bn) where bn's input is conv's output and nothing else reads that output."""
    produced: dict[Any, nn.Conv2d] = {}
    consumed: list[tuple[nn.BatchNorm2d, Any]] = []

    def on_conv(module, inputs, output):
        if isinstance(output, torch.Tensor) and output.grad_fn is not None:
            produced[output.grad_fn] = module

    def on_bn(module, inputs, output):
        if inputs and isinstance(inputs[0], torch.Tensor) and inputs[0].grad_fn is not None:
            consumed.append((module, inputs[0].grad_fn))

    hooks = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(on_conv))
        if isinstance(m, nn.BatchNorm2d) and m.track_running_stats and m.running_var is not None:
            hooks.append(m.register_forward_hook(on_bn))
    try:
        with torch.enable_grad():
            out = _pooled(model, x.detach().clone().requires_grad_())
    finally:
        for h in hooks:
            h.remove()
    readers = _reader_counts(out.grad_fn)
    pairs, seen = [], set()
    for bn, node in consumed:
        conv = produced.get(node)
        if conv is None or readers.get(node, 0) != 1 or bn in seen or conv in seen:
            continue  # a BatchNorm run twice, or a conv output also read elsewhere
        if conv.out_channels != bn.num_features:
            continue
        seen.update((bn, conv))
        pairs.append((conv, bn))
    return pairs


def _reader_counts(root: Any) -> dict[Any, int]:
    """How many autograd nodes take each node's output as an input."""
    counts: dict[Any, int] = {}
    stack, seen = [root], set()
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        for nxt, _ in node.next_functions:
            if nxt is not None:
                counts[nxt] = counts.get(nxt, 0) + 1
                stack.append(nxt)
    return counts


def _fold_pair(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> None:
    var, mean = bn.running_var.float(), bn.running_mean.float()
    gamma = bn.weight.float() if bn.weight is not None else torch.ones_like(var)
    beta = bn.bias.float() if bn.bias is not None else torch.zeros_like(mean)
    s = gamma / torch.sqrt(var + bn.eps)
    bias = conv.bias.float() if conv.bias is not None else torch.zeros_like(mean)
    conv.weight.copy_(conv.weight.float() * s.view(-1, 1, 1, 1))
    conv.bias = nn.Parameter((beta + (bias - mean) * s).to(conv.weight.dtype), requires_grad=False)


def _after_norm(bn: nn.BatchNorm2d) -> nn.Module:
    """What replaces a folded BatchNorm: nothing, or what timm's BatchNormAct2d runs after the
    normalisation (its dropout, then its activation)."""
    tail = [m for m in (getattr(bn, "drop", None), getattr(bn, "act", None)) if m is not None]
    if type(bn).forward is not nn.BatchNorm2d.forward and not tail:
        # A subclass with its own forward and no known tail: keep the copy's check honest by
        # leaving it a BatchNorm with identity statistics.
        with torch.no_grad():
            bn.running_mean.zero_()
            bn.running_var.fill_(1.0 - bn.eps)
            if bn.weight is not None:
                bn.weight.fill_(1.0)
            if bn.bias is not None:
                bn.bias.zero_()
        return bn
    return nn.Sequential(*tail) if tail else nn.Identity()


def _replace(root: nn.Module, name: str, new: nn.Module) -> None:
    parent_name, _, child = name.rpartition(".")
    parent = root.get_submodule(parent_name) if parent_name else root
    if isinstance(parent, nn.Sequential | nn.ModuleList) and child.isdigit():
        parent[int(child)] = new
    else:
        setattr(parent, child, new)
