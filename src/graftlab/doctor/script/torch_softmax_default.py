"""A softmax given as a network's output activation by an argument, trained with cross-entropy.

Libraries and home-made "model zoos" build the classifier from arguments:
``BaseNetwork(..., pred_activation=nn.Softmax(dim=1), criter_spec=nn.CrossEntropyLoss())``,
``build_model(arch, out_activation=nn.Softmax(dim=1))``, ``smp.Unet(..., activation="softmax2d")``.
The softmax then ends the network, whether the argument is a default the caller leaves in place
(GL252) or a value the caller passes (GL253), and the cross-entropy loss (a default of the same
signature, a keyword of the same call, or built by the script) applies log_softmax again:
softmax twice. The layer the argument becomes is not traced through the builder's helpers, so
both are warnings that name the link they infer.
"""

from __future__ import annotations

import ast

from graftlab.doctor._checks import declare
from graftlab.doctor.script import torch_model, torch_wiring  # noqa: F401  (their GL201 first)
from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.common_rules import once
from graftlab.doctor.script.flow import dotted
from graftlab.doctor.script.frameworks import uses_torch
from graftlab.doctor.script.knowledge import REFS

_SMP = "https://smp.readthedocs.io/en/latest/models.html"

declare(
    "GL252",
    "double-softmax",
    "warning",
    "script",
    "A network's constructor defaults to a softmax output, trained with CrossEntropyLoss",
    (REFS["torch_ce"],),
)

declare(
    "GL253",
    "double-softmax",
    "warning",
    "script",
    "A softmax passed as a network's output activation, trained with CrossEntropyLoss",
    (REFS["torch_ce"], _SMP),
)

_SOFTMAX_FUNCS = {"softmax"}  # F.softmax / torch.softmax passed as a callable
#: Argument names of an output activation (a hidden-layer ``activation`` is another matter).
_OUTPUT_WORDS = ("pred", "out", "final", "last", "head", "classif", "top", "prob")
_CE_NAMES = {"CrossEntropyLoss", "cross_entropy"}
#: segmentation_models_pytorch builders, whose ``activation`` is the output activation.
_SMP_MODELS = {"Unet", "UnetPlusPlus", "FPN", "PSPNet", "DeepLabV3", "DeepLabV3Plus", "Linknet",
               "PAN", "MAnet", "UPerNet", "Segformer"}  # fmt: skip


def _dotted(node: ast.expr) -> str:
    return dotted(node) or ""


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


def _softmax_value(node: ast.expr) -> bool:
    """A softmax module or function, or its name as a string (``"softmax"``, ``"softmax2d"``)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value.lower() in ("softmax", "softmax2d")
    return _is_softmax(node)


def _builder(prog, callee: str) -> ast.FunctionDef | None:
    """The function a call of ``callee`` runs, when the paste defines it: the class's own
    ``__init__`` or the nearest base's, or the function itself."""
    seen = set()
    while callee in prog.classes and callee not in seen:
        seen.add(callee)
        cls = prog.classes[callee]
        init = next(
            (f for f in cls.body if isinstance(f, ast.FunctionDef) and f.name == "__init__"), None
        )
        if init is not None:
            return init
        bases = [_dotted(b).split(".")[-1] for b in cls.bases]
        callee = next((b for b in bases if b in prog.classes), "")
    return prog.functions.get(callee)


def _accepts(fn: ast.FunctionDef, param: str) -> bool:
    names = [a.arg for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs]
    if param in names:
        return _used(fn, param)
    return fn.args.kwarg is not None  # ``**kwargs`` passed on: not shown, taken to be used


def _passed_softmax(ctx: Ctx, ce_built) -> None:
    """GL253: ``Net(..., out_activation=nn.Softmax(dim=1))`` or ``smp.Unet(...,
    activation="softmax2d")`` with cross-entropy as the loss."""
    prog = ctx.prog
    for c in prog.calls:
        for k in c.node.keywords:
            if k.arg is None:
                continue
            # a name or a config entry bound to the softmax (``act = nn.Softmax(dim=1)``,
            # ``cfg["out_act"]`` with ``cfg = {"out_act": "softmax"}``)
            value = prog.origin(k.value, c.ev.idx, c.ev.scope).node
            if not _softmax_value(value):
                continue
            smp = k.arg == "activation" and (
                c.qual.startswith("segmentation_models_pytorch") or c.name in _SMP_MODELS
            )
            if not smp and not any(w in k.arg.lower() for w in _OUTPUT_WORDS):
                continue
            built_by = None if smp else _builder(prog, c.name)
            if built_by is not None and not _accepts(built_by, k.arg):
                continue  # the paste's builder never reads the argument
            ce = next((kk.value for kk in c.node.keywords if kk.arg and _is_ce(kk.value)), None)
            if ce is None and built_by is not None:
                ce = next((d for _, d in _defaults(built_by) if _is_ce(d)), None)
            if ce is None and ce_built is None:
                continue
            if not once(ctx, "torch.softmax_default", k.value.lineno):
                return
            loss_line = ce.lineno if ce is not None else ce_built.node.lineno
            ctx.add(
                "GL253",
                "double-softmax",
                "warning",
                f"{c.name}() is built with {k.arg}= a softmax, and the loss is cross-entropy: "
                "softmax is applied twice",
                [getattr(value, "lineno", 0), k.value.lineno, loss_line],
                f"{c.name}(..., {k.arg}=...) ends the network in a softmax"
                + (
                    " (segmentation_models_pytorch 0.1 and later apply `activation` in "
                    "forward(); releases of 2019 applied it in predict() only)"
                    if smp
                    else ""
                )
                + f", and the loss (line {loss_line}) is cross-entropy, which applies log_softmax "
                "to its input itself. Fed probabilities, it computes softmax of a softmax, nearly "
                "uniform: the loss stalls near log(K), gradients shrink and training is slow or "
                "stuck. (Inferred: the argument is taken to become the output layer, as its name "
                "says; the code that builds it is not traced.)",
                f"Pass {k.arg}=None so the model returns logits, and apply softmax only for "
                "predictions and metrics.",
                [REFS["torch_ce"], *([_SMP] if smp else [])],
            )
            return


@check("torch.softmax_default")
def check_softmax_default(ctx: Ctx) -> None:
    """GL252: a softmax default of a constructor/factory argument, no caller overriding it,
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
            "GL252",
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
    _passed_softmax(ctx, ce_built)
