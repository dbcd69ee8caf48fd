"""A data class of the script that reorders its own samples when it is built, predicted on and
scored against labels read apart.

A ``keras.utils.Sequence`` (or ``PyDataset``) written by the poster often shuffles in its
constructor: ``self.df = df.sample(frac=1)``, ``np.random.shuffle(self.indexes)``, or the
common ``self.on_epoch_end()`` call whose method shuffles. ``model.predict(seq)`` then returns
the samples in that shuffled order, while the labels the predictions are scored against (the
data frame it was given, its CSV, the array) are in the original one.
"""

from __future__ import annotations

import ast

from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.common_rules import once
from graftlab.doctor.script.flow import CallSite
from graftlab.doctor.script.frameworks import uses_keras
from graftlab.doctor.script.keras_split import scored_against
from graftlab.doctor.script.knowledge import REFS

_PREDICTS = ("predict", "predict_generator")


def _reorders(ctx: Ctx, n: ast.AST) -> bool:
    """``shuffle(...)``, ``permutation(...)``, ``.sample(frac=...)``: a call that reorders."""
    if not isinstance(n, ast.Call):
        return False
    name = n.func.attr if isinstance(n.func, ast.Attribute) else getattr(n.func, "id", "")
    if name in ("shuffle", "permutation"):
        return True
    return name == "sample" and any(k.arg == "frac" for k in n.keywords)


def _shuffle_in(ctx: Ctx, cls: ast.ClassDef, fn: ast.FunctionDef, seen: set[str]) -> ast.AST:
    """The reordering call ``fn`` makes, itself or through a method of ``cls`` it calls on
    ``self``, with the ``if`` that guards it (or the call alone); None when there is none."""
    methods = {m.name: m for m in cls.body if isinstance(m, ast.FunctionDef)}

    def visit(stmts: list[ast.stmt], guard: ast.If | None):
        for st in stmts:
            if isinstance(st, ast.If):
                found = visit(st.body, guard or st) or visit(st.orelse, guard)
                if found is not None:
                    return found
                continue
            for n in ast.walk(st):
                if isinstance(n, ast.IfExp) and any(_reorders(ctx, m) for m in ast.walk(n.body)):
                    return guard or n  # ``df.sample(frac=1) if shuffle else df``
                if _reorders(ctx, n):
                    return guard or n
                f = n.func if isinstance(n, ast.Call) else None
                if (
                    isinstance(f, ast.Attribute)
                    and isinstance(f.value, ast.Name)
                    and f.value.id == "self"
                    and f.attr in methods
                    and f.attr not in seen
                ):
                    seen.add(f.attr)
                    inner = _shuffle_in(ctx, cls, methods[f.attr], seen)
                    if inner is not None:
                        return guard or inner
        return None

    return visit(fn.body, None)


def _flag(guard: ast.AST) -> str | None:
    """The flag an ``if`` tests: ``if shuffle:``, ``if self.shuffle:``; None otherwise."""
    if not isinstance(guard, ast.If | ast.IfExp):
        return None
    t = guard.test
    if (
        isinstance(t, ast.Compare)
        and len(t.ops) == 1
        and isinstance(t.ops[0], ast.Eq | ast.Is)
        and isinstance(t.comparators[0], ast.Constant)
        and t.comparators[0].value is True
    ):
        t = t.left  # ``if self.shuffle == True:``
    if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self":
        return t.attr
    return t.id if isinstance(t, ast.Name) else None


def _flag_value(ctx: Ctx, init: ast.FunctionDef, flag: str, made: CallSite) -> object:
    """The value ``flag`` has for the instance ``made``: passed, else the parameter's default."""
    params = [a.arg for a in init.args.args][1:]  # without self
    if flag not in params:
        return None
    given = made.kw(flag)
    pos = params.index(flag)
    if given is None and len(made.node.args) > pos:
        given = made.node.args[pos]
    if given is not None:
        return ctx.prog.const(given, made.ev.idx, made.ev.scope)
    defaults = init.args.defaults
    offset = len(params) - len(defaults)
    if pos >= offset:
        return ctx.prog.const(defaults[pos - offset], made.ev.idx, made.ev.scope)
    return None


def _shuffled_instance(ctx: Ctx, data: ast.expr, pred: CallSite) -> tuple[int, int] | None:
    """(line of the class's reordering, line the instance is built) when ``data`` is an
    instance of a script class that reorders its samples in its constructor."""
    made = ctx.prog.origin_call(data, pred.ev)
    cls = ctx.prog.class_at.get(id(made.node)) if made is not None else None
    init = (
        next((m for m in cls.body if isinstance(m, ast.FunctionDef) and m.name == "__init__"), None)
        if cls is not None
        else None
    )
    if init is None:
        return None
    found = _shuffle_in(ctx, cls, init, set())
    if found is None:
        return None
    flag = _flag(found)
    if flag is not None:
        # ``self.shuffle = shuffle`` then ``if self.shuffle:``: the parameter's value
        if _flag_value(ctx, init, flag, made) is not True:
            return None
    elif isinstance(found, ast.If | ast.IfExp):
        return None  # another condition: not known
    return found.lineno, made.node.lineno


@check("keras.sequence_shuffles_itself")
def check_sequence_shuffles_itself(ctx: Ctx) -> None:
    """GL118: ``model.predict(MySequence(df))`` where the class reorders its samples when it is
    built, and the predictions are scored against labels read apart."""
    if not uses_keras(ctx) or not ctx.prog.classes:
        return
    for pred in (c for name in _PREDICTS for c in ctx.prog.method_calls(name)):
        data = pred.arg(0, "x") or pred.kw("generator")
        found = _shuffled_instance(ctx, data, pred) if data is not None else None
        scored = scored_against(ctx, pred) if found is not None else []
        if not scored or not once(ctx, "keras.label_order", found[0]):
            continue
        ctx.add(
            "GL118",
            "label-order-mismatch",
            "error",
            "Predictions on a data class that shuffles its own samples are compared with "
            "labels in their original order",
            [found[0], found[1], pred.node.lineno, scored[0]],
            "The class reorders its samples when it is built (a shuffle in __init__, or in a "
            "method such as on_epoch_end() that __init__ calls), so predict() returns the "
            "predictions in that shuffled order. The labels they are scored against are read "
            "apart, in the order the data was given: prediction i belongs to another sample "
            "than label i, and the score is near chance although evaluate() looks fine.",
            "Build the evaluation instance without shuffling (shuffle=False, and shuffle only "
            "in on_epoch_end for training), or take the labels from the same batches:\n"
            "for i in range(len(seq)): x, y = seq[i]; y_true.append(y); "
            "y_pred.append(model.predict_on_batch(x))",
            [REFS["keras_idg"]],
        )
        return
