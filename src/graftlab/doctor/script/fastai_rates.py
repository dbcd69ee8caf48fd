"""A fastai learner unfrozen and fine-tuned at a rate meant for training a new head.

fastai's recipe trains the new head on the frozen body first, then calls ``learn.unfreeze()``
and fits again with discriminative rates (``max_lr=slice(1e-6, 1e-4)``, or a list with one
rate per layer group), the highest of them for the head and still well below the first phase's
(the course's own fastai 0.7 notebook goes up to 1e-2 for the head; fastai's ``fine_tune`` to
2e-3). The learning-rate finder run after ``unfreeze()`` shows where the loss falls fastest for
the model as it is, which is the rate to train a new network at, not to adjust a trained one;
a group given much more than 1e-2 moves the pretrained weights (and the head the first phase
trained) in steps that undo them, and both losses then rise epoch after epoch.
"""

from __future__ import annotations

import ast

from graftlab.doctor._checks import declare
from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.common_rules import once
from graftlab.doctor.script.flow import CallSite
from graftlab.doctor.script.knowledge import REFS

declare(
    "GL251",
    "learning-rate",
    "warning",
    "script",
    "A fastai learner fine-tuned after unfreeze() at a rate too high for pretrained layers",
    (REFS["ulmfit"],),
)

#: The highest per-group rate of a fine-tuning phase that stays silent: the head's rate of
#: fastai 0.7's lesson notebook (``lrs = [1e-4, 1e-3, 1e-2]`` after ``unfreeze()``).
CEILING = 1e-2
_UNFREEZE = ("unfreeze", "freeze_to")
_FITS = ("fit_one_cycle", "fit", "fit_flat_cos", "fit_sgdr")
_RATE_KW = ("max_lr", "lr_max", "lr", "lrs")


def _receiver(site: CallSite) -> str | None:
    func = site.node.func
    return ast.unparse(func.value) if isinstance(func, ast.Attribute) else None


def _number(ctx: Ctx, node: ast.expr, site: CallSite) -> float | None:
    value = ctx.prog.const(node, site.ev.idx, site.ev.scope)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _rates(ctx: Ctx, node: ast.expr, site: CallSite) -> list[float] | None:
    """The per-group rates a ``max_lr`` argument gives: a number, ``slice(lo, hi)``, a list or
    ``np.array([...])`` of numbers; None where it does not fold."""
    origin = ctx.prog.origin(node, site.ev.idx, site.ev.scope).node
    if isinstance(origin, ast.Call) and ast.unparse(origin.func) in ("np.array", "numpy.array"):
        origin = origin.args[0] if origin.args else origin
    if isinstance(origin, ast.Call) and ast.unparse(origin.func) == "slice":
        parts = [a for a in origin.args if not (isinstance(a, ast.Constant) and a.value is None)]
        nums = [_number(ctx, a, site) for a in parts]
    elif isinstance(origin, ast.List | ast.Tuple):
        nums = [_number(ctx, e, site) for e in origin.elts]
    else:
        nums = [_number(ctx, node, site)]
    if not nums or None in nums:
        return None
    return [n for n in nums if n is not None]


def _fit_rates(ctx: Ctx, site: CallSite) -> tuple[ast.expr, list[float]] | None:
    """The rate argument of a fit call and its values: a rate keyword, else the first
    positional argument that folds to rates below 1 (epochs are counts of 1 or more; fastai
    0.7's ``fit(lrs, n_cycle)`` puts the rates first, fastai 1's ``fit(epochs, lr)`` second)."""
    for kw in _RATE_KW:
        node = site.kw(kw)
        if node is not None:
            rates = _rates(ctx, node, site)
            return (node, rates) if rates else None
    for node in site.node.args[:2]:
        rates = _rates(ctx, node, site)
        if rates and max(rates) < 1:
            return node, rates
    return None


@check("torch.fastai_unfrozen_rate")
def check_fastai_unfrozen_rate(ctx: Ctx) -> None:
    """GL251: after ``learn.unfreeze()``, a fit whose highest group rate is above 1e-2."""
    if ctx.keras and not ctx.torch:
        return  # Keras unfreezes through ``trainable``; its rates are read elsewhere
    for thaw in [c for m in _UNFREEZE for c in ctx.prog.method_calls(m)]:
        learner = _receiver(thaw)
        if learner is None:
            continue
        fits = sorted(
            (
                c
                for m in _FITS
                for c in ctx.prog.method_calls(m)
                if _receiver(c) == learner and c.ev.idx > thaw.ev.idx
            ),
            key=lambda c: c.ev.idx,
        )
        if not fits:
            continue
        got = _fit_rates(ctx, fits[0])
        if got is None or max(got[1]) <= CEILING or not once(ctx, "fastai.unfrozen_rate"):
            continue
        node, rates = got
        top = max(rates)
        finder = [
            c.node.lineno
            for c in ctx.prog.method_calls("lr_find")
            if _receiver(c) == learner and thaw.ev.idx <= c.ev.idx < fits[0].ev.idx
        ]
        read = (
            f" The rate follows {learner}.lr_find() (line {finder[0]}), whose steepest fall is "
            "where to train a new network, not how far to move a trained one."
            if finder
            else ""
        )
        ctx.add(
            "GL251",
            "learning-rate",
            "warning",
            f"{learner} is fine-tuned after {learner}.{thaw.name}() with a layer-group rate of "
            f"{top:g}",
            [thaw.node.lineno, *finder, fits[0].node.lineno],
            f"{learner}.{thaw.name}() makes the pretrained layers trainable, and the next "
            f"{learner}.{fits[0].name}() gives its layer groups the rates {ast.unparse(node)} "
            f"(up to {top:g}). Fine-tuning moves weights that already work: fastai's recipe uses "
            "rates of about 1e-6 to 1e-4 for the body and at most about 1e-3 to 1e-2 for the "
            f"head after the unfreeze; {top:g} is several times that, large enough to undo the "
            "pretrained features and the head trained in the first phase, so training and "
            "validation loss rise from epoch to epoch (inferred from the rate)." + read,
            f"{learner}.{thaw.name}()\n{learner}.{fits[0].name}(n_epochs, "
            "max_lr=slice(1e-6, 1e-4))  # the highest group 10-100x below the head's first rate",
            [REFS["ulmfit"]],
        )
