"""Unfreezing a backbone whose outputs were cached: the unfrozen layers never run (either
framework).

Training a head on features the frozen backbone computed once is a fast first phase: fastai
0.7's ``precompute=True``, Keras's ``features = conv_base.predict(x)`` then
``head.fit(features, y)``. The backbone is not part of that training at all, so making it
trainable changes nothing while the fit still reads the cached features: the "fine-tuning"
phase trains the head again, and augmentation never reaches it either.
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
