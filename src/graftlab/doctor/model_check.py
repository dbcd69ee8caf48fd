"""Check any PyTorch classifier with one batch: a forward pass in eval and in train mode, one
backward pass, and a look at the optimizer. Nothing is changed: the model's modes, buffers
(BatchNorm running statistics) and gradients are restored, and no optimizer step is taken.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from typing import Any

import torch
from torch import nn

from graftlab.doctor._checks import (
    REFS,
    fix_batchnorm,
    fix_divergence,
    fix_single_unit_softmax,
    make,
)
from graftlab.doctor.findings import Finding
from graftlab.errors import ConfigError

#: Total gradient norm above which the first step is called exploding (Pascanu et al. clip at 1-10).
EXPLODING_GRAD_NORM = 1e3
#: Total gradient norm below which learning cannot happen in any reasonable number of steps.
VANISHING_GRAD_NORM = 1e-7
_BN = nn.modules.batchnorm._BatchNorm
_REBUILD = (
    "optimizer = torch.optim.AdamW(\n"
    "    [p for p in model.parameters() if p.requires_grad], lr=1e-4\n"
    ")"
)
_X_KEYS = ("x", "image", "images", "input", "inputs", "pixel_values")
_Y_KEYS = ("y", "label", "labels", "target", "targets")


def check_model(
    model: nn.Module,
    batch: Any,
    loss_fn: Any = None,
    optimizer: torch.optim.Optimizer | None = None,
    *,
    expected_mean: Sequence[float] | None = None,
    expected_std: Sequence[float] | None = None,
) -> list[Finding]:
    """Run the model on one batch and report what would make training fail or underperform.

    Args:
        model: Any ``nn.Module`` that maps images ``(N, C, H, W)`` to class scores ``(N, K)``.
        batch: Input tensor, ``(x, y)``, or a dict with ``x``/``image(s)`` and ``y``/``label(s)``.
        loss_fn: The training loss (module or function); checked against the outputs.
        optimizer: The training optimizer; checked against the model's trainable parameters.
        expected_mean: Per-channel normalisation mean the backbone expects (read from
            ``model.pretrained_cfg`` or ``model.graftlab_preprocess`` when not given).
        expected_std: Per-channel normalisation std, likewise.

    Returns:
        Findings, errors first.
    """
    if not isinstance(model, nn.Module):
        raise ConfigError(f"check_model needs a torch.nn.Module. Got {type(model).__name__}.")
    x, y = _unpack(batch)
    findings: list[Finding] = []
    mean, std, source = _expected_stats(model, expected_mean, expected_std)
    findings += _input_checks(x, mean, std, source)
    if not x.is_floating_point():
        x = x.float()  # the checks below still run; the input finding says what to change
    findings += _optimizer_checks(model, optimizer)
    with _preserved(model):
        was_training = model.training
        findings += _bn_mode(model, was_training, x.shape[0])
        model.eval()
        with torch.no_grad():
            out_eval = _logits(model(x))
        findings += _output_checks(out_eval, loss_fn)
        findings += _bn_gap(model, x, out_eval)
        model.train()
        saturated = any(f.code in ("GL501", "GL502") for f in findings)
        findings += _backward_checks(model, x, y, loss_fn, saturated=saturated)
    order = {"error": 0, "warning": 1, "info": 2}
    return sorted(findings, key=lambda f: order[f.severity])


# -- plumbing ---------------------------------------------------------------------------------


def _unpack(batch: Any) -> tuple[torch.Tensor, torch.Tensor | None]:
    x = y = None
    if isinstance(batch, torch.Tensor):
        x = batch
    elif isinstance(batch, dict):
        x = next((batch[k] for k in _X_KEYS if k in batch), None)
        y = next((batch[k] for k in _Y_KEYS if k in batch), None)
    elif isinstance(batch, (tuple, list)) and batch:
        x = batch[0]
        y = batch[1] if len(batch) > 1 else None
    if not isinstance(x, torch.Tensor):
        raise ConfigError(
            "check_model needs a batch: a tensor (N, C, H, W), (x, y), or a dict with 'x' and "
            f"'y'. Got {type(batch).__name__}."
        )
    if x.ndim < 2 or x.shape[0] < 1:
        raise ConfigError(f"The batch must hold at least one image. Got shape {tuple(x.shape)}.")
    return x, y


@contextlib.contextmanager
def _preserved(model: nn.Module) -> Iterator[None]:
    """Restore each module's mode, every buffer and every parameter's gradient afterwards."""
    modes = [(m, m.training) for m in model.modules()]
    buffers = [(b, b.detach().clone()) for b in model.buffers()]
    grads = [(p, None if p.grad is None else p.grad.detach().clone()) for p in model.parameters()]
    try:
        yield
    finally:
        for m, mode in modes:
            m.training = mode
        with torch.no_grad():
            for b, saved in buffers:
                b.copy_(saved)
        for p, g in grads:
            p.grad = g


def _logits(out: Any) -> torch.Tensor:
    """The class scores from whatever the model returns (tensor, tuple, HF-style output)."""
    if hasattr(out, "logits"):
        out = out.logits
    if isinstance(out, (tuple, list)):
        out = out[0]
    if isinstance(out, dict):
        out = out.get("logits", next(iter(out.values())))
    if not isinstance(out, torch.Tensor):
        raise ConfigError(f"The model returned {type(out).__name__}; expected a tensor of scores.")
    return out.reshape(out.shape[0], -1) if out.ndim != 2 else out


def _expected_stats(
    model: nn.Module, mean: Sequence[float] | None, std: Sequence[float] | None
) -> tuple[list[float] | None, list[float] | None, str]:
    if mean is not None or std is not None:
        return _floats(mean), _floats(std), "expected_mean/expected_std"
    pre = getattr(model, "graftlab_preprocess", None)
    if pre is not None and getattr(pre, "mean", None) is not None:
        return _floats(pre.mean), _floats(pre.std), "model.graftlab_preprocess"
    cfg = getattr(model, "pretrained_cfg", None) or getattr(model, "default_cfg", None)
    if isinstance(cfg, dict) and cfg.get("mean") is not None:
        return _floats(cfg["mean"]), _floats(cfg.get("std")), "model.pretrained_cfg"
    return None, None, ""


def _floats(v: Any) -> list[float] | None:
    if v is None:
        return None
    return [float(a) for a in (v if isinstance(v, Sequence) else [v])]


def _is_ce(loss_fn: Any) -> bool:
    return isinstance(loss_fn, nn.CrossEntropyLoss) or loss_fn is nn.functional.cross_entropy


def _loss_name(loss_fn: Any) -> str:
    return (
        type(loss_fn).__name__
        if isinstance(loss_fn, nn.Module)
        else getattr(loss_fn, "__name__", "loss_fn")
    )


# -- input statistics -------------------------------------------------------------------------


def _input_checks(x: torch.Tensor, mean, std, source: str) -> list[Finding]:
    xf = x.detach().float()
    lo, hi, avg = xf.min().item(), xf.max().item(), xf.mean().item()
    stats = f"batch {tuple(x.shape)} {x.dtype}: min {lo:.3f}, max {hi:.3f}, mean {avg:.3f}"
    expects_255 = mean is not None and max(mean) > 1.5  # caffe-style means such as 103.94
    raw = not x.is_floating_point() or (5.0 < hi <= 255.5 and lo >= 0)
    if raw and not expects_255:
        return [
            make(
                "GL508",
                evidence=stats,
                explanation=(
                    "The values run up to 255: the images were converted to tensors without "
                    "scaling to [0, 1] (torch.from_numpy / PILToTensor instead of ToTensor, or "
                    "a uint8 array cast to float). Pretrained backbones saw inputs of about "
                    "unit scale; activations are 255x too large, so features saturate and "
                    "the head sees garbage."
                ),
                fix=_preprocess_fix(mean, std),
                references=[REFS["timm-data"]],
            )
        ]
    if mean is None or std is None:
        return []
    exp_lo = min((0 - m) / s for m, s in zip(mean, std, strict=False))
    exp_hi = max((1 - m) / s for m, s in zip(mean, std, strict=False))
    expected = (
        f"{source}: mean {tuple(round(m, 3) for m in mean)}, std "
        f"{tuple(round(s, 3) for s in std)} -> normalised inputs span about "
        f"[{exp_lo:.2f}, {exp_hi:.2f}]"
    )
    normalises = exp_lo < -0.2
    if normalises and lo >= 0 and hi <= 1.0 + 1e-6 and 0.1 <= avg <= 0.9:
        return [
            make(
                "GL509",
                evidence=f"{stats}\nexpected ({expected})",
                explanation=(
                    "The batch lies in [0, 1] with a mean near 0.45: images were scaled but not "
                    "normalised. The backbone was pretrained on (x - mean) / std, which is "
                    "centred on 0; feeding [0, 1] shifts every first-layer activation and "
                    "silently costs accuracy (or makes fine-tuning relearn the first layers)."
                ),
                fix=_preprocess_fix(mean, std),
                references=[REFS["timm-data"]],
            )
        ]
    margin = 0.25 * (exp_hi - exp_lo)
    too_wide = lo < exp_lo - margin or hi > exp_hi + margin
    too_narrow = lo >= -1.001 and hi <= 1.001 and lo < -0.5 and exp_lo < -1.5
    if normalises and (too_wide or too_narrow):
        return [
            make(
                "GL510",
                evidence=f"{stats}\nexpected ({expected})",
                explanation=(
                    "The batch is normalised, but not with this backbone's statistics: its "
                    "range does not match what (x - mean) / std produces. Typical mix-ups: "
                    "[-1, 1] (Inception/Xception style, mean = std = 0.5) fed to a model "
                    "trained with ImageNet mean/std, or the reverse. Each backbone expects its "
                    "own normalisation; the wrong one silently costs accuracy."
                ),
                fix=_preprocess_fix(mean, std),
                references=[REFS["timm-data"]],
            )
        ]
    return []


def _preprocess_fix(mean, std) -> str:
    m = tuple(round(v, 3) for v in mean) if mean else (0.485, 0.456, 0.406)
    s = tuple(round(v, 3) for v in std) if std else (0.229, 0.224, 0.225)
    return (
        "# Take preprocessing from the model, not from memory:\n"
        "cfg = timm.data.resolve_model_data_config(model)\n"
        "transform = timm.data.create_transform(**cfg)   # resize, crop, ToTensor, Normalize\n"
        "# by hand: x = x.float() / 255 if x is uint8, then\n"
        f"x = (x - torch.tensor({m}).view(1, 3, 1, 1)) / torch.tensor({s}).view(1, 3, 1, 1)"
    )


# -- outputs ----------------------------------------------------------------------------------


def _output_checks(out: torch.Tensor, loss_fn: Any) -> list[Finding]:
    o = out.detach().float()
    n, k = o.shape
    in_unit = bool(((o >= -1e-6) & (o <= 1 + 1e-6)).all())
    row_sums = o.sum(dim=1)
    sums_to_one = bool(((row_sums - 1).abs() < 1e-3).all())
    sample = ", ".join(f"{v:.3f}" for v in o[0, :6].tolist()) + (" ..." if k > 6 else "")
    evidence = f"eval-mode output {tuple(o.shape)}; first row [{sample}]"
    if k == 1 and bool(((o - 1).abs() < 1e-6).all()):
        return [
            make(
                "GL502",
                evidence=f"{evidence}; every one of the {n} outputs is exactly 1.0",
                explanation=(
                    "softmax(z) = exp(z) / sum(exp(z)) over a single unit is 1.0 whatever z is: "
                    "the prediction never depends on the input and its gradient is zero, so "
                    "nothing trains and accuracy equals the share of one class."
                ),
                fix=fix_single_unit_softmax("torch"),
                references=[REFS["ce"]],
            )
        ]
    if k >= 2 and in_unit and sums_to_one:
        err = (row_sums - 1).abs().max().item()
        evidence += f"; all values in [0, 1] and every row sums to 1 (max |sum - 1| = {err:.1e})"
        if _is_ce(loss_fn) or isinstance(loss_fn, nn.NLLLoss):
            name = _loss_name(loss_fn)
            why = (
                f"{name} applies log_softmax to what it is given; given probabilities it "
                "computes softmax(softmax(z)). Probabilities in [0, 1] differ little after a "
                f"second softmax: with {k} classes the output can never be more confident than "
                f"e/(e + {k - 1}) = {math.e / (math.e + k - 1):.3f}, the loss cannot fall much "
                "below its starting value and gradients shrink, so training crawls or stalls."
            )
            if isinstance(loss_fn, nn.NLLLoss):
                why = (
                    "NLLLoss expects log-probabilities (log_softmax); given probabilities it "
                    "optimises the wrong quantity and never reaches a confident prediction."
                )
            return [
                make(
                    "GL501",
                    evidence=f"{evidence}\nloss_fn: {name}",
                    explanation=why,
                    fix=(
                        "# Return raw logits from forward(); CrossEntropyLoss applies "
                        "log_softmax itself.\n"
                        "head = torch.nn.Linear(in_features, K)      # no nn.Softmax after it\n"
                        "loss = torch.nn.CrossEntropyLoss()(model(x), y)\n"
                        "probs = model(x).softmax(dim=1)             # only for prediction"
                    ),
                    references=[REFS["ce"]],
                )
            ]
        return [
            make(
                "GL501",
                severity="warning",
                title="Model outputs probabilities (softmax inside forward)",
                evidence=evidence,
                explanation=(
                    "The model's forward already applies softmax. Any cross-entropy loss that "
                    "expects logits (torch CrossEntropyLoss, graftlab's Task.loss, Keras "
                    "from_logits=True) would then apply softmax twice, which caps confidence "
                    "and shrinks gradients."
                ),
                fix="# Remove nn.Softmax from the model; apply softmax only when predicting.",
                references=[REFS["ce"]],
            )
        ]
    if in_unit and isinstance(loss_fn, nn.BCEWithLogitsLoss) and not sums_to_one:
        return [
            make(
                "GL503",
                evidence=f"{evidence}; all values in [0, 1]\nloss_fn: BCEWithLogitsLoss",
                explanation=(
                    "BCEWithLogitsLoss applies sigmoid itself; outputs already in [0, 1] become "
                    "sigmoid(sigmoid(z)), which lies in [0.5, 0.73]: a positive can never be "
                    "predicted confidently and a negative never below 0.5."
                ),
                fix=(
                    "# Return logits (no torch.sigmoid in forward) with BCEWithLogitsLoss,\n"
                    "# or keep the sigmoid and use torch.nn.BCELoss (less stable)."
                ),
                references=[REFS["ce"]],
            )
        ]
    return []


# -- optimizer --------------------------------------------------------------------------------


def _optimizer_checks(model: nn.Module, optimizer: Any) -> list[Finding]:
    if optimizer is None:
        return []
    names = {id(p): n for n, p in model.named_parameters()}
    in_opt: dict[int, float] = {}
    for group in optimizer.param_groups:
        for p in group["params"]:
            in_opt[id(p)] = float(group.get("lr", math.nan))
    trainable = {id(p): n for n, p in model.named_parameters() if p.requires_grad}
    frozen = {id(p): n for n, p in model.named_parameters() if not p.requires_grad}
    missing = [n for i, n in trainable.items() if i not in in_opt]
    foreign = [i for i in in_opt if i not in names]
    zero_lr = [n for i, n in trainable.items() if in_opt.get(i) == 0.0]
    extra = [n for i, n in frozen.items() if i in in_opt]
    out = []
    if foreign and len(foreign) == len(in_opt):
        out.append(
            make(
                "GL504",
                title="The optimizer holds none of this model's parameters",
                evidence=f"{len(in_opt)} tensors in the optimizer, 0 of them in the model "
                f"({len(trainable)} trainable tensors in the model)",
                explanation=(
                    "The optimizer was built for another model object, typically one created "
                    "before the model was re-created, copied (deepcopy, .to() of a copy) or "
                    "re-loaded. optimizer.step() updates tensors that the forward pass never "
                    "uses: the loss is computed, gradients flow, and nothing changes."
                ),
                fix=_REBUILD
                + "\n# build it AFTER the final model object exists (and after .to(device))",
            )
        )
    elif missing or zero_lr:
        shown = ", ".join((missing or zero_lr)[:5]) + (
            " ..." if len(missing or zero_lr) > 5 else ""
        )
        if missing:
            what = (
                f"{len(missing)} of {len(trainable)} trainable tensors are in no optimizer "
                f"group: {shown}"
            )
            why = (
                "These parameters require gradients, so they cost backward time, but "
                "optimizer.step() never touches them: layers you unfroze (requires_grad=True) "
                "after building the optimizer stay at their pretrained values. In Keras the "
                "same thing happens when trainable is changed without compiling again."
            )
        else:
            what = f"{len(zero_lr)} trainable tensors sit in groups with lr=0: {shown}"
            why = "A learning rate of 0 makes those parameters effectively frozen."
        out.append(
            make(
                "GL504",
                evidence=what,
                explanation=why,
                fix=(
                    "# Rebuild (or extend) the optimizer whenever you change what is trainable:\n"
                    "optimizer.add_param_group({'params': newly_unfrozen_params, 'lr': 1e-5})\n"
                    "# or\n"
                    "optimizer = torch.optim.AdamW([p for p in model.parameters() if "
                    "p.requires_grad], lr=1e-4)"
                ),
            )
        )
    if extra:
        shown = ", ".join(extra[:5]) + (" ..." if len(extra) > 5 else "")
        out.append(
            make(
                "GL505",
                evidence=(
                    f"{len(extra)} frozen tensors (requires_grad=False) are in the optimizer: "
                    + shown
                ),
                explanation=(
                    "Frozen parameters get no gradient, so the optimizer skips them: they will "
                    "not train even though they were given a learning rate. If you meant to "
                    "fine-tune them, set requires_grad=True; if not, leave them out so "
                    "per-group learning rates and weight decay say what really happens."
                ),
                fix=_REBUILD,
            )
        )
    return out


# -- BatchNorm --------------------------------------------------------------------------------


def _bn_mode(model: nn.Module, was_training: bool, batch_size: int) -> list[Finding]:
    if not was_training:
        return []
    bns = [(n, m) for n, m in model.named_modules() if isinstance(m, _BN) and m.training]
    if not bns:
        return []
    frozen = [
        n
        for n, m in bns
        if m.affine and not any(p.requires_grad for p in m.parameters(recurse=False))
    ]
    if not frozen:
        return []
    evidence = (
        f"{len(frozen)} of {len(bns)} BatchNorm layers in training mode have frozen weights "
        f"(e.g. {', '.join(frozen[:3])})"
    )
    if batch_size < 16:
        evidence += f"; this batch has {batch_size} images"
    return [
        make(
            "GL506",
            evidence=evidence,
            explanation=(
                "In training mode BatchNorm normalises with the statistics of the current batch "
                "and overwrites its running mean/variance with them, whether or not its weights "
                "are frozen. Pretrained running statistics are then replaced by noisy estimates "
                "from small batches of the new data, so the eval-mode model differs from the "
                "one that was validated a moment ago; with frozen weights nothing can even "
                "adapt to the change."
            ),
            fix=fix_batchnorm("torch"),
            references=[REFS["bn"], REFS["keras-ft"]],
        )
    ]


def _bn_gap(model: nn.Module, x: torch.Tensor, out_eval: torch.Tensor) -> list[Finding]:
    """Predictions with BatchNorm alone in train mode (dropout kept off) vs eval mode."""
    bns = [m for m in model.modules() if isinstance(m, _BN)]
    if not bns or x.shape[0] < 2 or out_eval.shape[1] < 2:
        return []
    for m in bns:
        m.train()
    try:
        with torch.no_grad():
            out_train = _logits(model(x))
    except (ValueError, RuntimeError):
        return []
    finally:
        model.eval()
    p_eval, p_train = out_eval.float().softmax(1), out_train.float().softmax(1)
    agree = (p_eval.argmax(1) == p_train.argmax(1)).float().mean().item()
    tv = 0.5 * (p_eval - p_train).abs().sum(1).mean().item()
    # Near-uniform outputs flip their argmax on noise; only a shift of probability mass counts.
    if tv <= 0.2 and not (agree < 0.7 and tv > 0.1):
        return []
    n = x.shape[0]
    return [
        make(
            "GL507",
            evidence=(
                f"same {n} images: {round(agree * n)}/{n} ({agree:.0%}) argmax predictions agree "
                f"between BatchNorm-in-train-mode and eval mode; mean total-variation distance "
                f"between the two probability vectors {tv:.2f}"
            ),
            explanation=(
                "The running statistics stored in the BatchNorm layers do not describe the "
                "activations this data produces, so the model trains on one function (batch "
                "statistics) and is evaluated as another (running statistics). Training "
                "accuracy looks fine while validation lags or collapses. Typical causes: "
                "running statistics updated by tiny batches, a domain far from ImageNet, or "
                "inputs preprocessed differently from the pretraining data."
            ),
            fix=fix_batchnorm("torch"),
            references=[REFS["bn"]],
        )
    ]


# -- loss and gradients -----------------------------------------------------------------------


def _backward_checks(
    model: nn.Module, x: torch.Tensor, y: Any, loss_fn: Any, *, saturated: bool = False
) -> list[Finding]:
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    if not trainable:
        return []
    for _, p in trainable:
        p.grad = None
    out = _logits(model(x))
    k = out.shape[1]
    findings = []
    if y is not None and not y.is_floating_point() and y.ndim == 1 and int(y.max()) >= k:
        findings.append(
            make(
                "GL515",
                title=f"Labels go up to {int(y.max())} but the model has {k} output unit(s)",
                evidence=(
                    f"output {tuple(out.shape)}; labels {sorted(set(y.tolist()))[:10]} "
                    f"({len(set(y.tolist()))} distinct in this batch)"
                ),
                explanation=(
                    f"Class indices must lie in 0..{k - 1}. The head was built for another "
                    "number of classes (or a one-unit head is used with class indices), so the "
                    "loss either fails or silently trains the wrong outputs."
                ),
                fix=(
                    "model.reset_classifier(num_classes=len(classes))   # timm\n"
                    "# or: model.fc = torch.nn.Linear(model.fc.in_features, len(classes))"
                ),
            )
        )
        y = None
    measured = y is not None
    try:
        if y is not None:
            loss = (loss_fn or nn.functional.cross_entropy)(out, y.to(out.device))
        elif k > 1:
            # No labels: a cross-entropy step on fixed pseudo-labels still exercises every path.
            target = torch.randint(
                0, k, (out.shape[0],), generator=torch.Generator().manual_seed(0)
            )
            loss = nn.functional.cross_entropy(out.float(), target.to(out.device))
        else:
            loss = out.float().mean()
    except (RuntimeError, ValueError, TypeError, IndexError) as exc:
        raise ConfigError(
            f"The loss could not be computed on the model's output {tuple(out.shape)} and the "
            f"labels {None if y is None else tuple(y.shape)}: {exc}"
        ) from None
    value = float(loss.detach())
    if not math.isfinite(value):
        return [
            *findings,
            make(
                "GL512",
                evidence=f"loss on this batch = {value}",
                explanation=(
                    "The loss is already NaN/inf before any update: NaN or inf in the inputs, "
                    "log(0) on probabilities (use logits with CrossEntropyLoss), or an "
                    "overflow in fp16."
                ),
                fix=fix_divergence("torch"),
                references=[REFS["clipping"]],
            ),
        ]
    expected = _expected_init_loss(loss_fn, k, y)
    if measured and expected is not None and value > 2 * expected:
        findings.append(
            make(
                "GL511",
                title=(
                    f"Loss at initialisation is {value:.3f}, {value / expected:.1f}x "
                    f"ln({k}) = {expected:.3f}"
                ),
                evidence=(
                    f"{_loss_name(loss_fn or nn.functional.cross_entropy)} on this batch = "
                    f"{value:.4f}; a head that knows nothing yet scores ln({k}) = {expected:.4f}"
                ),
                explanation=(
                    f"A fresh head should predict about 1/{k} for every class, which costs "
                    f"ln({k}). A much larger loss means confidently wrong logits from the "
                    "start: a head initialised with large weights, unnormalised inputs that "
                    "blow up the features, labels that do not match the outputs (class order, "
                    "off-by-one), or a head loaded from another task. The first steps then "
                    "spend large gradients undoing this, which damages pretrained features."
                ),
                fix=(
                    "torch.nn.init.zeros_(head.weight); torch.nn.init.zeros_(head.bias)   # or "
                    "a linear probe fit first (LP-FT)\n"
                    "# and check the input normalisation and the label order."
                ),
                references=[REFS["karpathy"], REFS["lp-ft"]],
            )
        )
    try:
        loss.backward()
    except RuntimeError as exc:
        raise ConfigError(f"The backward pass failed on this batch: {exc}") from None
    norms = {n: float(p.grad.detach().float().norm()) for n, p in trainable if p.grad is not None}
    no_grad = [n for n, p in trainable if p.grad is None]
    total = math.sqrt(sum(v * v for v in norms.values())) if norms else 0.0
    if norms and not math.isfinite(total):
        bad = [n for n, v in norms.items() if not math.isfinite(v)]
        findings.append(
            make(
                "GL512",
                evidence=(
                    f"loss {value:.4f} is finite but {len(bad)} gradients are not, e.g. "
                    + ", ".join(bad[:3])
                ),
                explanation="Non-finite gradients poison the weights on the first step.",
                fix=fix_divergence("torch"),
                references=[REFS["clipping"]],
            )
        )
    elif total > EXPLODING_GRAD_NORM:
        top = sorted(norms.items(), key=lambda kv: -kv[1])[:3]
        findings.append(
            make(
                "GL513",
                evidence=f"total gradient norm {total:.3g} (> {EXPLODING_GRAD_NORM:g}); largest: "
                + ", ".join(f"{n} {v:.3g}" for n, v in top),
                explanation=(
                    "One step of size lr x gradient with a gradient this large moves pretrained "
                    "weights far from where they were useful; loss spikes or NaNs follow. "
                    "Usual sources: unnormalised inputs, a large random head, or a loss summed "
                    "instead of averaged."
                ),
                fix=fix_divergence("torch"),
                references=[REFS["clipping"]],
            )
        )
    vanishing = norms and total < VANISHING_GRAD_NORM and value > 1e-6 and not saturated
    if no_grad or vanishing:
        if no_grad:
            evidence = (
                f"{len(no_grad)} of {len(trainable)} trainable tensors got no gradient: "
                + ", ".join(no_grad[:5])
                + (" ..." if len(no_grad) > 5 else "")
            )
            why = (
                "Parameters that require gradients but receive none are not on the path from "
                "the input to the loss: a new head assigned to an attribute forward() does not "
                "use (model.fc replaced while forward calls model.classifier), a branch only "
                "used in another mode, or outputs detached (.detach(), .item(), numpy) "
                "before the loss."
            )
        else:
            evidence = f"total gradient norm {total:.2e} with loss {value:.4f}"
            why = (
                "The gradient is vanishingly small although the loss is not zero: the output "
                "is saturated (a softmax over one unit, sigmoid/softmax already applied before "
                "a loss that applies it again) or the graph is cut."
            )
        findings.append(
            make(
                "GL514",
                evidence=evidence,
                explanation=why,
                fix=(
                    "# Replace the classifier the model's forward actually uses (timm):\n"
                    "model.reset_classifier(num_classes=K)\n"
                    "# and keep the graph: compute the loss on model(x) directly, no .detach()."
                ),
            )
        )
    return findings


def _expected_init_loss(loss_fn: Any, k: int, y: Any) -> float | None:
    if k < 2:
        return None
    if loss_fn is None or _is_ce(loss_fn):
        return math.log(k)
    if isinstance(loss_fn, (nn.BCEWithLogitsLoss, nn.BCELoss)):
        return math.log(2)
    return None
