"""A softmax given as a default argument of a network's constructor, trained with cross-entropy.

Libraries and home-made "model zoos" build the classifier from arguments:
``BaseNetwork(..., pred_activation=nn.Softmax(dim=1), criter_spec=nn.CrossEntropyLoss())``,
``build_model(arch, out_activation=nn.Softmax(dim=1))``. The softmax then ends the network
whenever the caller leaves the argument out, which is how such classes are meant to be used, and
the cross-entropy loss (a default of the same signature, or built by the script) applies
log_softmax again: softmax twice. The layer the argument becomes is not traced through the
class's helpers, so the finding is a warning that names the link it infers.
"""

from __future__ import annotations

import ast

from graftlab.doctor._checks import declare
from graftlab.doctor.script import torch_model, torch_wiring  # noqa: F401  (their GL201 first)
from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.common_rules import once
from graftlab.doctor.script.frameworks import uses_torch
from graftlab.doctor.script.knowledge import REFS

declare(
    "GL490",
    "double-softmax",
    "warning",
    "script",
    "A network's constructor defaults to a softmax output, trained with CrossEntropyLoss",
    (REFS["torch_ce"],),
)

_SOFTMAX_FUNCS = {"softmax"}  # F.softmax / torch.softmax passed as a callable
#: Argument names of an output activation (a hidden-layer ``activation`` is another matter).
_OUTPUT_WORDS = ("pred", "out", "final", "last", "head", "classif", "top", "prob")
_CE_NAMES = {"CrossEntropyLoss", "cross_entropy"}


def _dotted(node: ast.expr) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def _is_softmax(node: ast.expr) -> bool:
    """``nn.Softmax(dim=1)`` / ``torch.nn.Softmax()`` or a reference to ``F.softmax``
    (not LogSoftmax: log_softmax under cross-entropy is idempotent)."""
    if isinstance(node, ast.Call):
        return _dotted(node.func).split(".")[-1] == "Softmax"
    name = _dotted(node)
    return "." in name and name.split(".")[-1] in _SOFTMAX_FUNCS


def _is_ce(node: ast.expr) -> bool:
    """``nn.CrossEntropyLoss()``, ``F.cross_entropy``, ``"CrossEntropyLoss"`` or a spec dict
    ``{"name": "CrossEntropyLoss"}``."""
    if isinstance(node, ast.Call):
        return _dotted(node.func).split(".")[-1] in _CE_NAMES
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value in _CE_NAMES
    if isinstance(node, ast.Dict):
        return any(_is_ce(v) for v in node.values)
    return _dotted(node).split(".")[-1] in _CE_NAMES


def _defaults(fn: ast.FunctionDef) -> list[tuple[ast.arg, ast.expr]]:
    pos = fn.args.posonlyargs + fn.args.args
    pairs = list(zip(pos[len(pos) - len(fn.args.defaults) :], fn.args.defaults, strict=True))
    pairs += [
        (a, d)
        for a, d in zip(fn.args.kwonlyargs, fn.args.kw_defaults, strict=True)
        if d is not None
    ]
    return pairs


def _used(fn: ast.FunctionDef, name: str) -> bool:
    """The parameter is read in the body (passed on to a layer, a builder or super())."""
    return any(
        isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load)
        for stmt in fn.body
        for n in ast.walk(stmt)
    )


def _family(children: dict[str, list[str]], root: str) -> set[str]:
    """``root`` and every class of the paste that derives from it, directly or not."""
    out, todo = {root}, [root]
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in out:
                out.add(child)
                todo.append(child)
    return out


def _overrides(call: ast.Call, param: str, index: int) -> bool:
    """The call passes ``param`` (by keyword, ``**options``, or positionally at ``index``)."""
    if any(k.arg in (param, None) for k in call.keywords):
        return True
    return any(isinstance(a, ast.Starred) for a in call.args) or len(call.args) > index


@check("torch.softmax_default")
def check_softmax_default(ctx: Ctx) -> None:
    """GL490: a softmax default of a constructor/factory argument, no caller overriding it,
    with cross-entropy as the loss."""
    if not uses_torch(ctx) or any(
        f.category == "double-softmax" and f.severity in ("error", "warning") for f in ctx.findings
    ):
        return
    prog = ctx.prog
    owners = {}  # id(__init__ node) -> its class
    children: dict[str, list[str]] = {}
    for name, cls in prog.classes.items():
        for item in cls.body:
            if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                owners[id(item)] = name
        for base in cls.bases:
            children.setdefault(_dotted(base).split(".")[-1], []).append(name)
    by_name: dict[str, list] = {}
    for c in prog.calls:
        by_name.setdefault(c.name, []).append(c)
    ce_built = next((c for n in _CE_NAMES for c in by_name.get(n, ())), None)
    for node in ast.walk(ctx.src.tree):
        if not isinstance(node, ast.FunctionDef) or not node.args.defaults + [
            d for d in node.args.kw_defaults if d is not None
        ]:
            continue
        owner = owners.get(id(node))
        if owner is None and node.name not in prog.functions:
            continue  # a method other than __init__: its defaults do not build the network
        pairs = _defaults(node)
        soft = next(
            (
                (a, d)
                for a, d in pairs
                if _is_softmax(d)
                and any(w in a.arg.lower() for w in _OUTPUT_WORDS)
                and _used(node, a.arg)
            ),
            None,
        )
        if soft is None:
            continue
        param, default = soft
        ce_default = next((d for _, d in pairs if _is_ce(d)), None)
        if ce_default is None and ce_built is None:
            continue
        names = _family(children, owner) if owner else {node.name}
        offset = 1 if owner else 0  # ``self`` is not passed at the call
        index = [a.arg for a in node.args.posonlyargs + node.args.args].index(param.arg) - offset
        calls = [c for n in names for c in by_name.get(n, ())]
        if not calls and ce_default is None:
            continue  # neither the default loss nor a caller in the paste: nothing ties them
        kept = [c for c in calls if not _overrides(c.node, param.arg, index)]
        if calls and not kept:
            continue  # every caller passes its own output activation
        if not once(ctx, "torch.softmax_default", default.lineno):
            continue
        what = owner or node.name
        loss_line = ce_default.lineno if ce_default is not None else ce_built.node.lineno
        lines = [default.lineno, loss_line, *(c.node.lineno for c in kept[:1])]
        loss = (
            "the same signature's default criterion"
            if ce_default is not None
            else f"the script's {ce_built.name} (line {ce_built.node.lineno})"
        )
        ctx.add(
            "GL490",
            "double-softmax",
            "warning",
            f"{what}() defaults {param.arg} to a softmax, and the loss is cross-entropy: "
            "softmax is applied twice",
            lines,
            f"The argument {param.arg} of {what}() defaults to a softmax"
            + (
                f", and {kept[0].name}() (line {kept[0].node.lineno}) leaves it out"
                if kept
                else ", and no call in the paste passes another"
            )
            + f", so the network ends in that softmax; {loss} is cross-entropy, which applies "
            "log_softmax to its input itself. Fed probabilities, it computes softmax of a "
            "softmax, nearly uniform: the loss stalls near log(K), gradients shrink and training "
            "is slow or stuck. (Inferred: the argument is taken to become the network's last "
            "layer, as its name and default say; the helpers that build it are not traced.)",
            f"Default {param.arg} to None (no activation) and return logits; apply softmax only "
            "for predictions, or pair a LogSoftmax output with NLLLoss.",
            [REFS["torch_ce"]],
        )
        return
