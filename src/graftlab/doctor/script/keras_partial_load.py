"""A model restored for prediction through a weight loader that leaves out its classifier.

Transfer-learning code loads pretrained weights into every layer but the new head:
``load_weights_except(model, path, exclude_names=["softmax"])`` skips the layers it is told to,
so the head keeps its random initialisation and is then trained. The same builder is often
reused later to *restore* the fine-tuned model for prediction. The classifier is still skipped,
and nothing trains it now: every rebuilt model predicts through a new random head, its answers
change each time it is built, and accuracy sits near chance although the saved file holds the
trained head.
"""

from __future__ import annotations

import ast

from graftlab.doctor._checks import declare
from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.common_rules import once
from graftlab.doctor.script.flow import CallSite
from graftlab.doctor.script.frameworks import uses_keras
from graftlab.doctor.script.knowledge import REFS

declare(
    "GL140",
    "head-mismatch",
    "warning",
    "script",
    "A model restored for prediction by a weight loader that skips its classifier layer",
    (REFS["keras_tl"],),
)

_TRAINS = ("fit", "fit_generator", "train_on_batch")
_SETS = {"set_weights", "load_weights", "load_state_dict"}
_CLASSIFIERS = {"Dense", "Activation", "Softmax"}
_EXCLUDING = ("exclude", "skip", "ignore", "except", "without")


def _names(ctx: Ctx, c: CallSite, node: ast.expr) -> list[str]:
    v = ctx.prog.const(node, c.ev.idx, c.ev.scope)
    if isinstance(v, str):
        v = [v]
    if isinstance(v, list | tuple) and 1 <= len(v) <= 10 and all(isinstance(s, str) for s in v):
        return list(v)
    return []


def _skips(fn: ast.FunctionDef | ast.AsyncFunctionDef, param: str) -> bool:
    """The function's body skips the layers named in ``param`` (``if layer.name in param:
    continue``, or loads only ``if layer.name not in param``) and sets weights."""
    sets = any(
        isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in _SETS
        for n in ast.walk(fn)
    )
    if not sets:
        return False
    for n in ast.walk(fn):
        if not isinstance(n, ast.If) or not isinstance(n.test, ast.Compare):
            continue
        t = n.test
        if len(t.ops) != 1 or not (
            isinstance(t.comparators[0], ast.Name) and t.comparators[0].id == param
        ):
            continue
        if isinstance(t.ops[0], ast.In) and any(isinstance(s, ast.Continue) for s in n.body):
            return True
        if isinstance(t.ops[0], ast.NotIn) and any(
            isinstance(m, ast.Call) and getattr(m.func, "attr", "") in _SETS
            for s in n.body
            for m in ast.walk(s)
        ):
            return True
    return False


def _excluded(ctx: Ctx, c: CallSite) -> tuple[list[str], bool] | None:
    """(layer names the call leaves out, whether that was inferred from names alone)."""
    fn = ctx.prog.functions.get(c.name)
    params = [a.arg for a in fn.args.args] if fn is not None else []
    given = [(params[i] if i < len(params) else None, a) for i, a in enumerate(c.node.args)]
    given += [(k.arg, k.value) for k in c.node.keywords if k.arg]
    for param, node in given:
        names = _names(ctx, c, node) if param else []
        if not names:
            continue
        if fn is not None and _skips(fn, param):
            return names, False
        loads = "load" in c.name.lower() and "weight" in c.name.lower()
        if fn is None and loads and param.lower().startswith(_EXCLUDING):
            return names, True
    return None


def _classifier(ctx: Ctx, names: list[str]) -> CallSite | None:
    """The script's output layer among ``names``: a Dense with a softmax or sigmoid, or a
    softmax activation layer, built with that ``name=``."""
    for c in ctx.prog.calls:
        if c.name not in _CLASSIFIERS:
            continue
        if ctx.prog.const(c.kw("name"), c.ev.idx, c.ev.scope) not in names:
            continue
        act = c.arg(1 if c.name == "Dense" else 0, "activation")
        if c.name == "Softmax" or ctx.prog.const(act, c.ev.idx, c.ev.scope) in (
            "softmax",
            "sigmoid",
        ):
            return c
    return None


@check("keras.partial_restore")
def check_partial_restore(ctx: Ctx) -> None:
    """GL140: a weight loader told to leave out the classifier layer, in a script that predicts
    and never trains."""
    if not uses_keras(ctx) or any(ctx.prog.method_calls(m) for m in _TRAINS):
        return
    predicts = ctx.prog.method_calls("predict") + ctx.prog.method_calls("predict_on_batch")
    if not predicts:
        return
    for c in ctx.prog.calls:
        found = _excluded(ctx, c)
        if found is None:
            continue
        names, by_name = found
        layer = _classifier(ctx, names)
        if layer is None or not once(ctx, "keras.partial_restore"):
            continue
        name = ctx.prog.const(layer.kw("name"), layer.ev.idx, layer.ev.scope)
        inferred = (
            f" Inferred: {c.name}() is not in the code shown; that it skips the layers named "
            "in its exclusion argument is read from the names."
            if by_name
            else ""
        )
        ctx.add(
            "GL140",
            "head-mismatch",
            "warning",
            f"{c.name}() leaves out the classifier layer {name!r}, and nothing trains it before "
            "predict()",
            [c.node.lineno, layer.node.lineno, predicts[0].node.lineno],
            f"The weights are loaded with {name!r} excluded, so that layer keeps the random "
            "values it was built with. That is right before fine-tuning a new head, but this "
            "script never calls fit(): it predicts through a random classifier. Each rebuilt "
            "model answers differently for the same input and accuracy is near chance, "
            "although the weight file holds the trained head. Inferred: the file is the "
            "fine-tuned model's (nothing else here could give the classifier its weights)."
            + inferred,
            "Restore every layer of the fine-tuned model:\n"
            "model.load_weights(path)  # the same architecture, nothing excluded\n"
            "# or keep the exclusion for building a model to fine-tune, and a separate loader\n"
            "# (exclude_names=()) for prediction",
            [REFS["keras_tl"]],
        )
