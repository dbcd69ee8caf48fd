"""Normalisation statistics computed again from the data being evaluated, in either framework.

A mean (or standard deviation) computed from the training data and subtracted from it is part
of the model: the weights learned to read inputs centred that way. Code that later assigns the
same name from the images it predicts (``mean_image = np.mean(image, axis=0)`` for one photo)
centres those inputs on their own statistics instead: a single image minus its own mean loses
its overall brightness and colour, and the network sees inputs unlike any it was trained on.
"""

from __future__ import annotations

import ast

from graftlab.doctor._checks import declare
from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.common_rules import once, source_text
from graftlab.doctor.script.flow import Event, canon, last
from graftlab.doctor.script.keras_graph import role_of

declare(
    "GL326",
    "train-eval-preprocessing-mismatch",
    "warning",
    "script",
    "A normalisation statistic of the training data is computed again from the data predicted",
    ("https://cs231n.github.io/neural-networks-2/#datapre",),
)

_STATS = {"mean", "std", "average", "nanmean", "nanstd", "var"}


def _root(node: ast.expr) -> str | None:
    """``X_train`` of ``X_train``, ``X_train[:, 0]``, ``X_train.astype(...)``."""
    while isinstance(node, ast.Subscript | ast.Attribute | ast.Call):
        node = node.func if isinstance(node, ast.Call) else node.value
        if isinstance(node, ast.Attribute) and node.attr in _STATS | {"astype"}:
            node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _statistic(ctx: Ctx, ev: Event) -> tuple[str, str, str] | None:
    """``(name, statistic, data)`` of ``name = np.mean(data, ...)`` / ``name = data.std()``."""
    n = ev.node
    if not (
        isinstance(n, ast.Assign)
        and len(n.targets) == 1
        and isinstance(n.targets[0], ast.Name)
        and isinstance(n.value, ast.Call)
    ):
        return None
    call, f = n.value, n.value.func
    module_function = not isinstance(f, ast.Attribute) or (
        isinstance(f.value, ast.Name) and f.value.id in ("np", "numpy", "torch")
    )
    if module_function:  # np.mean(data, axis=0)
        stat = last(canon(ctx.prog.qualname(f, ev.idx, ev.scope) or ""))
        data = _root(call.args[0]) if stat in _STATS and call.args else None
    elif f.attr in _STATS:  # data.mean(axis=0)
        stat, data = f.attr, _root(f.value)
    else:
        return None
    return (n.targets[0].id, stat, data) if data else None


def _applied(ctx: Ctx, name: str, data: str, after: int) -> int | None:
    """The line where ``name`` is subtracted from or divides ``data`` after event ``after``."""
    for ev in ctx.prog.events[after + 1 :]:
        n = ev.node
        if (
            isinstance(n, ast.AugAssign)
            and isinstance(n.op, ast.Sub | ast.Div)
            and isinstance(n.target, ast.Name)
            and n.target.id == data
            and isinstance(n.value, ast.Name)
            and n.value.id == name
        ):
            return n.lineno
        for b in ast.walk(n):
            if (
                isinstance(b, ast.BinOp)
                and isinstance(b.op, ast.Sub | ast.Div)
                and _root(b.left) == data
                and isinstance(b.right, ast.Name)
                and b.right.id == name
            ):
                return n.lineno
    return None


_FITS = {"fit", "fit_generator", "train_on_batch", "flow"}


def _trains(ctx: Ctx, data: str) -> bool:
    """Whether ``data`` is training data: named so, or given to ``fit()`` (a generator's
    ``flow()``, ``train_on_batch()``) as its inputs."""
    if role_of(data) == "train":
        return True
    for c in ctx.prog.calls:
        f = c.node.func
        if (
            isinstance(f, ast.Attribute)
            and f.attr in _FITS
            and c.node.args
            and _root(c.node.args[0]) == data
        ):
            return True
    return False


@check("common.stats_recomputed")
def check_stats_recomputed(ctx: Ctx) -> None:
    """GL326: ``mean = np.mean(X_train, axis=0)`` applied to the training data, then the same
    name assigned from the data predicted and applied to it."""
    if not any(s in source_text(ctx) for s in ("mean", "std")):
        return
    seen: dict[str, tuple[Event, str, str]] = {}
    for ev in ctx.prog.events:
        got = _statistic(ctx, ev)
        if got is None:
            continue
        name, stat, data = got
        first = seen.get(name)
        if first is None:
            if _trains(ctx, data) and _applied(ctx, name, data, ev.idx):
                seen[name] = (ev, stat, data)
            continue
        if data == first[2] or _trains(ctx, data):
            continue
        line = _applied(ctx, name, data, ev.idx)
        if line is None or not once(ctx, "stats_recomputed", name):
            continue
        ctx.add(
            "GL326",
            "train-eval-preprocessing-mismatch",
            "warning",
            f"{name} is computed from the training data, then again from {data}",
            [first[0].node.lineno, ev.node.lineno, line],
            f"{name} is the {stat} of {first[2]} and is applied to the training inputs, so the "
            f"network learned to read inputs normalised by the training data's {stat}. Here it "
            f"is recomputed from {data} and applied to {data} instead: the inputs are "
            f"normalised by their own statistics (for a single image, its own {stat} over its "
            "pixels), which removes the brightness and colour differences the model learned "
            "from and shifts every input away from what it was trained on.",
            f"Save the training statistic with the model (np.save('{name}.npy', {name})) and "
            f"apply that same array at prediction: {data} -= np.load('{name}.npy')",
            ["https://cs231n.github.io/neural-networks-2/#datapre"],
        )
