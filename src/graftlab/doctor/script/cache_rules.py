"""Unfreezing a backbone whose outputs were cached: the unfrozen layers never run (either
framework).

Training a head on features the frozen backbone computed once is a fast first phase: fastai
0.7's ``precompute=True``, Keras's ``features = conv_base.predict(x)`` then
``head.fit(features, y)``, PyTorch features kept from ``with torch.no_grad(): trunk(x)``.
The backbone is not part of that training at all, so making it trainable changes nothing
while the fit still reads the cached features: the "fine-tuning" phase trains the head
again, and augmentation never reaches it either.
"""

from __future__ import annotations

import ast

from graftlab.doctor._checks import declare
from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.common_rules import once
from graftlab.doctor.script.flow import CallSite, Event
from graftlab.doctor.script.knowledge import REFS

declare(
    "GL319",
    "trainable-not-applied",
    "warning",
    "script",
    "The backbone is unfrozen, but training still runs on features cached from it",
    (REFS["keras_tl"],),
)

_UNFREEZE = ("unfreeze", "freeze_to")


def _receiver(node: ast.expr) -> str | None:
    """``learn`` of ``learn.fit``; ``self.base`` of ``self.base.trainable``."""
    return ast.unparse(node) if isinstance(node, ast.Name | ast.Attribute) else None


def _precompute_off(ctx: Ctx, name: str, after: int, before: int) -> bool:
    """``learn.precompute = False`` (or ``precompute=False`` passed again) in between."""
    for ev in ctx.prog.events[after:before]:
        for n in ast.walk(ev.node):
            if isinstance(n, ast.Assign) and any(
                isinstance(t, ast.Attribute)
                and t.attr == "precompute"
                and _receiver(t.value) == name
                for t in n.targets
            ):
                return True
            if isinstance(n, ast.Call) and any(
                k.arg == "precompute" and getattr(k.value, "value", None) is False
                for k in n.keywords
            ):
                return True
    return False


def _learner_precompute(ctx: Ctx) -> None:
    """fastai 0.7: ``learn = ConvLearner.pretrained(arch, data, precompute=True)``, later
    ``learn.unfreeze(); learn.fit(...)`` with precompute still on."""
    for site in ctx.prog.calls:
        if not any(
            k.arg == "precompute" and getattr(k.value, "value", None) is True
            for k in site.node.keywords
        ):
            continue
        stmt = site.ev.node
        if not (isinstance(stmt, ast.Assign) and stmt.value is site.node):
            continue
        names = {_receiver(t) for t in stmt.targets} - {None}
        for thaw in [c for m in _UNFREEZE for c in ctx.prog.method_calls(m)]:
            learner = _receiver(thaw.node.func.value)
            if learner not in names or thaw.ev.idx <= site.ev.idx:
                continue
            fits = [
                c
                for c in ctx.prog.method_calls("fit")
                if _receiver(c.node.func.value) == learner and c.ev.idx > thaw.ev.idx
            ]
            if not fits or _precompute_off(ctx, learner, site.ev.idx, fits[0].ev.idx):
                continue
            _add(
                ctx,
                [site.node.lineno, thaw.node.lineno, fits[0].node.lineno],
                f"{learner}.{thaw.name}() is called",
                f"The learner was built with precompute=True (line {site.node.lineno}): it "
                "trains the head on activations the frozen backbone computed once and cached. "
                f"{learner}.{thaw.name}() makes the backbone's layers trainable, but with "
                "precompute still on the following fit() keeps reading the cached activations, "
                "so the backbone never runs and never changes (and data augmentation is not "
                "applied either): the fine-tuning phase only trains the head further, and the "
                "differential learning rates do nothing (inferred: a fastai version whose "
                "unfreeze() leaves precompute as it is, as before fastai 0.7's fix).",
                f"{learner}.precompute = False\n{learner}.{thaw.name}()\n{learner}.fit(lrs, ...)",
            )
            return


def _trainable_true(ev: Event) -> str | None:
    """``base.trainable = True``: the receiver made trainable, or None."""
    n = ev.node
    if not isinstance(n, ast.Assign) or getattr(n.value, "value", None) is not True:
        return None
    for t in n.targets:
        if isinstance(t, ast.Attribute) and t.attr == "trainable":
            return _receiver(t.value)
    return None


def _cached_by(ctx: Ctx, fit: CallSite, base: str) -> int:
    """Line of ``base.predict(...)`` that the fit's inputs are computed from, or 0."""
    x = fit.arg(0, "x")
    if x is None:
        return 0
    for ref in ctx.prog.deps(x, fit.ev, limit=40):
        for n in ast.walk(ref.node):
            if (
                isinstance(n, ast.Call)
                and isinstance(n.func, ast.Attribute)
                and n.func.attr in ("predict", "predict_on_batch")
                and _receiver(n.func.value) == base
            ):
                return n.lineno
    return 0


def _keras_features(ctx: Ctx) -> None:
    """Keras: ``feats = base.predict(x)``, ``base.trainable = True``, then a fit on ``feats``:
    the fitted model never calls ``base``."""
    for ev in ctx.prog.events:
        base = _trainable_true(ev)
        if base is None:
            continue
        for fit in ctx.prog.method_calls("fit"):
            if fit.ev.idx <= ev.idx:
                continue
            line = _cached_by(ctx, fit, base)
            if not line:
                continue
            _add(
                ctx,
                [line, ev.node.lineno, fit.node.lineno],
                f"{base}.trainable is set to True",
                f"The arrays given to fit() (line {fit.node.lineno}) are {base}'s outputs, "
                f"computed once by {base}.predict() on line {line}. The model being fitted "
                f"takes those features as input and does not contain {base}, so making {base} "
                "trainable has no effect: no gradient reaches it, and the second phase only "
                "trains the head again on the same cached features.",
                "Fine-tune a model that runs the backbone on the images:\n"
                f"inputs = keras.Input(shape); x = {base}(inputs, training=False)\n"
                "outputs = head(x); model = keras.Model(inputs, outputs)\n"
                f"{base}.trainable = True; model.compile(...); model.fit(images, labels)",
            )
            return


def _torch_unfreezes(ctx: Ctx) -> list[tuple[str, Event]]:
    """(module, event) of ``for p in trunk.parameters(): p.requires_grad = True`` and
    ``trunk.requires_grad_(True)``."""
    out = []
    for ev in ctx.prog.events:
        n = ev.node
        if (
            isinstance(n, ast.Assign)
            and getattr(n.value, "value", None) is True
            and any(isinstance(t, ast.Attribute) and t.attr == "requires_grad" for t in n.targets)
            and ev.loops
        ):
            loop = ctx.prog.events[ev.loops[-1]].node
            it = getattr(loop, "iter", None)
            if (
                isinstance(it, ast.Call)
                and isinstance(it.func, ast.Attribute)
                and it.func.attr in ("parameters", "named_parameters")
                and (base := _receiver(it.func.value))
            ):
                out.append((base, ev))
    for c in ctx.prog.method_calls("requires_grad_"):
        flag = getattr(c.arg(0, "requires_grad"), "value", True)
        if flag is True and (base := _receiver(c.node.func.value)):
            out.append((base, c.ev))
    return sorted(out, key=lambda t: t[1].idx)


def _runs(ctx: Ctx, refs, base: str) -> list[int]:
    """Event indices where ``base(...)`` is called among ``refs``."""
    out = []
    for ref in refs:
        for n in ast.walk(ref.node):
            if isinstance(n, ast.Call):
                f = (
                    n.func.value
                    if isinstance(n.func, ast.Attribute) and n.func.attr == "forward"
                    else n.func
                )
                if _receiver(f) == base:
                    out.append(ref.idx)
    return out


def _torch_features(ctx: Ctx) -> None:
    """PyTorch: the backbone's outputs computed once and kept (``cached.append(trunk(xb))``),
    its parameters made trainable, and the later losses still computed from the kept outputs:
    the backbone never runs after it was unfrozen."""
    for base, thaw in _torch_unfreezes(ctx):
        for b in ctx.prog.method_calls("backward"):
            if b.ev.idx <= thaw.idx:
                continue
            refs = ctx.prog.deps(b.node.func.value, b.ev, limit=60)
            runs = _runs(ctx, refs, base)
            if not runs or any(i > thaw.idx for i in runs):
                continue  # the backbone is not in the loss, or runs again after the unfreeze
            line = ctx.prog.events[max(runs)].node.lineno
            _add(
                ctx,
                [line, thaw.node.lineno, b.node.lineno],
                f"{base}'s parameters are made trainable",
                f"The loss that is back-propagated on line {b.node.lineno} is computed from "
                f"outputs {base} produced before it was unfrozen (line {line}), kept and "
                f"reused: {base} does not run in this training, so requires_grad=True on its "
                "parameters changes nothing, no gradient reaches them, and the second phase "
                "only trains the head again on the same cached features.",
                f"Run {base} on the images inside the fine-tuning loop:\n"
                f"for xb, yb in image_loader:\n    loss = criterion(head({base}(xb)), yb)",
            )
            return


def _add(ctx: Ctx, lines: list[int], what: str, why: str, fix: str) -> None:
    if not once(ctx, "cache.unfrozen"):
        return
    ctx.add(
        "GL319",
        "trainable-not-applied",
        "warning",
        f"{what}, but training still runs on features cached from the frozen backbone",
        lines,
        why,
        fix,
        [REFS["keras_tl"]],
    )


@check("common.unfreeze_cached_features")
def check_unfreeze_cached(ctx: Ctx) -> None:
    """GL319: an unfreeze that cannot act, because the fit reads cached backbone outputs."""
    _learner_precompute(ctx)
    _keras_features(ctx)
    _torch_features(ctx)
