"""Freezing and unfreezing that does not take effect (PyTorch).

Three ways a freeze or an unfreeze is lost whatever the model: a later loop sets
``requires_grad = True`` on every parameter again before anything is trained, the list of
layers to freeze is reassigned to an empty one before it is used, and the optimizer is built
from named sub-modules' parameter groups that leave out another trainable sub-module.
"""

from __future__ import annotations

import ast
import itertools
import re

from graftlab.doctor._checks import declare
from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.common_rules import exclusive, once
from graftlab.doctor.script.flow import Event
from graftlab.doctor.script.frameworks import uses_torch
from graftlab.doctor.script.knowledge import REFS

declare(
    "GL229",
    "trainable-not-applied",
    "warning",
    "script",
    "A freeze is undone, or a trainable layer is left out of the optimizer",
    (REFS["torch_optim"],),
)

declare(
    "GL234",
    "learning-rate",
    "warning",
    "script",
    "A parameter group selects parameter names by a prefix they do not start with",
    (REFS["torch_optim"],),
)

_FREEZE_NAME = re.compile(r"freeze|frozen", re.I)
_LAYERS = {
    "Linear",
    "Conv1d",
    "Conv2d",
    "Conv3d",
    "ConvTranspose2d",
    "ConvTranspose1d",
    "BatchNorm2d",
    "BatchNorm1d",
    "LSTM",
    "GRU",
    "Embedding",
    "Sequential",
    "ModuleList",
    "MultiheadAttention",
}


def _requires_grad_sets(ctx: Ctx) -> list[tuple[Event, bool]]:
    out = []
    for ev in ctx.prog.events:
        n = ev.node
        if isinstance(n, ast.Assign) and any(
            isinstance(t, ast.Attribute) and t.attr == "requires_grad" for t in n.targets
        ):
            v = ctx.prog.const(n.value, ev.idx, ev.scope)
            if isinstance(v, bool):
                out.append((ev, v))
    return out


def _training_between(ctx: Ctx, a: int, b: int) -> bool:
    """A training step, or a call to a training function (``train(model, ...)``,
    ``train_one_epoch``) whose body the paste may not show, between events a and b."""
    return any(
        a < c.ev.idx < b
        for m in ("backward", "step", "fit", "fit_one_cycle")
        for c in ctx.prog.method_calls(m)
    ) or any(
        a < c.ev.idx < b and re.match(r"(?i)^(train|fit)(_|$)", c.name) for c in ctx.prog.calls
    )


def _unconditional_all(ctx: Ctx, ev: Event) -> bool:
    """``for p in model.parameters(): p.requires_grad = True`` with no ``if`` around it."""
    if not ev.loops:
        return False
    loop = ctx.prog.events[ev.loops[-1]].node
    if not isinstance(loop, ast.For):
        return False
    it = ast.unparse(loop.iter)
    if not re.search(r"^(self\.)?\w+\.(named_)?parameters\(\)$", it):
        return False  # model.layer4.parameters() unfreezes a part, not every parameter
    if any(ctx.prog.loop_trains(i) for i in ev.loops[:-1]):
        return False  # inside the epoch loop: between epochs, not before training
    return any(stmt is ev.node for stmt in loop.body)  # directly in the loop, not under an if


@check("torch.freeze_lost")
def check_freeze_lost(ctx: Ctx) -> None:
    """GL229: a freeze undone before training; a freeze list emptied before use; trainable
    sub-modules missing from the optimizer's parameter groups."""
    if not uses_torch(ctx):
        return
    sets = _requires_grad_sets(ctx)
    for i, (ev, value) in enumerate(sets):
        if value:
            continue
        later = next(
            (
                e
                for e, v in sets[i + 1 :]
                if v
                and _unconditional_all(ctx, e)
                and not _training_between(ctx, ev.idx, e.idx)
                and not exclusive(ctx, ev.node, e.node)
            ),
            None,
        )
        if later is None or _refrozen_after(sets, later) or not once(ctx, "freeze.undone"):
            continue
        _add(
            ctx,
            "The freeze is undone: every parameter is set trainable again before training",
            [ev.node.lineno, later.node.lineno],
            "requires_grad = False is set on some parameters, and then a loop over all the "
            "model's parameters sets requires_grad = True again, before any training step: "
            "nothing is frozen when training starts, so the pretrained layers are updated "
            "(and overwritten at the new head's learning rate) although the code meant to "
            "keep them fixed.",
            "Set requires_grad = True on all parameters first, then freeze the chosen ones:\n"
            "for name, p in model.named_parameters():\n"
            "    p.requires_grad = not any(name.startswith(f) for f in freeze)",
        )
        break
    _emptied_freeze_list(ctx)
    _missing_groups(ctx)
    _module_flag(ctx)
    _prefix_groups(ctx)
    _frozen_by_eval(ctx)


_OPTIMIZERS = {"SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam"}
_NOT_TUNING = re.compile(r"(?i)\bnot\b.*(fine_?tun|train_backbone|unfreez)")


def _frozen_by_eval(ctx: Ctx) -> None:
    """``self.backbone.eval()`` in the training step as the way to keep a pretrained part
    fixed (the ``if`` around it or the comment on it says freeze, or that this is not the
    fine-tuning stage), while nothing sets ``requires_grad = False`` on it and the optimizer is
    given its parameters: eval() only changes BatchNorm and Dropout, the weights still learn.
    Fine-tuning with BatchNorm statistics fixed is a correct recipe, so the intent to freeze
    must be written, and the finding is a warning."""
    parents = {c: p for p in ast.walk(ctx.src.tree) for c in ast.iter_child_nodes(p)}
    text = "\n".join(ctx.src.lines)
    for n in ast.walk(ctx.src.tree):
        if not (
            isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute)
            and n.func.attr == "eval"
            and not n.args
            and isinstance(n.func.value, ast.Attribute)
        ):
            continue
        part = ast.unparse(n.func.value)  # self.features.backbone
        if not (_in_training(n, parents) and _meant_frozen(ctx, n, parents)):
            continue
        attr = n.func.value.attr
        if re.search(rf"\b{re.escape(attr)}\b[^\n]*requires_grad", text):
            continue  # frozen for real somewhere
        opt = _optimizer_over(ctx, part)
        if opt is None or not once(ctx, "freeze.eval_only", n.lineno):
            continue
        _add(
            ctx,
            f"{part} is 'frozen' by .eval() only: its weights are still trained",
            [n.lineno, opt.lineno],
            f"{part}.eval() puts its BatchNorm and Dropout layers in inference mode; it does "
            "not stop gradients. Nothing sets requires_grad = False on it, and the optimizer "
            f"(line {opt.lineno}) is given its parameters, so the pretrained weights the code "
            "means to keep fixed are updated at every step. (Inferred from the condition or "
            "comment around the eval() call, which says this stage freezes it.)",
            f"{part}.requires_grad_(False) for this stage (keep the eval() for BatchNorm), or "
            "give the optimizer only the parameters meant to learn: "
            "[p for p in model.parameters() if p.requires_grad].",
        )


def _in_training(n: ast.AST, parents: dict) -> bool:
    """Inside a ``training_step`` or a loop that calls ``backward()``."""
    p = parents.get(n)
    while p is not None:
        if isinstance(p, ast.FunctionDef) and p.name in ("training_step", "train_step"):
            return True
        if isinstance(p, ast.For | ast.While) and any(
            isinstance(c, ast.Call)
            and isinstance(c.func, ast.Attribute)
            and c.func.attr == "backward"
            for c in ast.walk(p)
        ):
            return True
        p = parents.get(p)
    return False


def _meant_frozen(ctx: Ctx, n: ast.Call, parents: dict) -> bool:
    lines = ctx.src.lines
    near = " ".join(lines[i] for i in (n.lineno - 2, n.lineno - 1) if 0 <= i < len(lines))
    if "#" in near and _FREEZE_NAME.search(near.split("#", 1)[1] if "#" in near else ""):
        return True
    p = parents.get(n)
    while p is not None and not isinstance(p, ast.FunctionDef):
        if isinstance(p, ast.If) and n in [d for s in p.body for d in ast.walk(s)]:
            test = ast.unparse(p.test)
            if _FREEZE_NAME.search(test) or _NOT_TUNING.search(test):
                return True
        p = parents.get(p)
    return False


def _optimizer_over(ctx: Ctx, part: str) -> ast.Call | None:
    """The optimizer construction whose parameters include ``part``'s (its own, or those of a
    module that contains it), with no requires_grad filter."""
    pieces = part.split(".")
    owners = {".".join(pieces[:k]) for k in range(1, len(pieces) + 1)}
    for n in ast.walk(ctx.src.tree):
        if not isinstance(n, ast.Call):
            continue
        f = n.func
        name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
        if name not in _OPTIMIZERS or not n.args:
            continue
        given = ast.unparse(n.args[0])
        if "requires_grad" in given:
            continue
        for m in re.finditer(r"([\w.]+)\.parameters\(\)", given):
            if m.group(1) in owners:
                return n
    return None


def _prefix_groups(ctx: Ctx) -> None:
    """GL234: ``[p for n, p in model.named_parameters() if n.startswith("backbone")]`` where
    the model's classes (shown in the paste) hold the backbone one level down
    (``self.model = Inner()`` with ``self.backbone = ...`` in ``Inner``): parameter names
    start with ``model.backbone.``, the prefix matches nothing, the group is empty and its
    learning rate applies to no parameter."""
    from graftlab.doctor.script.torch_graph import _is_module

    classes = {n: c for n, c in ctx.prog.classes.items() if _is_module(c)}
    if not classes:
        return
    attrs = {name: _attributes(cls, classes) for name, cls in classes.items()}
    inner = {child for a in attrs.values() for child in a.values() if child}
    roots = [name for name in classes if name not in inner]
    hits: dict[tuple[str, str, str], list[int]] = {}
    for comp in (n for ev in ctx.prog.events for n in ast.walk(ev.node)):
        if not isinstance(comp, ast.ListComp | ast.GeneratorExp):
            continue
        gen = comp.generators[0]
        it = gen.iter
        if not (
            isinstance(it, ast.Call)
            and isinstance(it.func, ast.Attribute)
            and it.func.attr == "named_parameters"
        ):
            continue
        for prefix in _prefixes(gen.ifs):
            for root in roots:
                top = prefix.split(".")[0]
                if any(a.startswith(top) for a in attrs[root]):
                    continue
                path = _deeper(root, prefix, attrs)
                if path is not None:
                    hits.setdefault((root, prefix, path), []).append(comp.lineno)
    for (root, prefix, path), lines in hits.items():
        ctx.add(
            "GL234",
            "learning-rate",
            "warning",
            f"No parameter name starts with {prefix!r}: the names start with {path!r}",
            [*lines, classes[root].lineno],
            f"named_parameters() names each parameter by its full attribute path. {root} "
            f"holds the part named {prefix!r} one level down, so its parameters are named "
            f"{path}..., and the startswith({prefix!r}) test is never true: that group is "
            "empty and its learning rate applies to nothing, while the parameters meant for "
            "it go to the other group with its learning rate (inferred: the model given to "
            f"the optimizer is taken to be {root}, the outermost module class shown).",
            f'n.startswith("{path}")  # or select by module: model.{path.rstrip(".")}.parameters()',
            [REFS["torch_optim"]],
        )


def _prefixes(tests: list[ast.expr]) -> list[str]:
    out = []
    for t in tests:
        for n in ast.walk(t):
            if (
                isinstance(n, ast.Call)
                and isinstance(n.func, ast.Attribute)
                and n.func.attr == "startswith"
                and n.args
                and isinstance(n.args[0], ast.Constant)
                and isinstance(n.args[0].value, str)
                and n.args[0].value
            ):
                out.append(n.args[0].value)
    return out


def _attributes(cls: ast.ClassDef, classes: dict) -> dict[str, str | None]:
    """``self.<attr> = ...`` of ``__init__``, with the module class it builds if shown."""
    init = next(
        (f for f in cls.body if isinstance(f, ast.FunctionDef) and f.name == "__init__"), None
    )
    out: dict[str, str | None] = {}
    for n in ast.walk(init) if init else []:
        if not (isinstance(n, ast.Assign) and len(n.targets) == 1):
            continue
        t = n.targets[0]
        if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self":
            f = n.value.func if isinstance(n.value, ast.Call) else None
            name = getattr(f, "id", None) or getattr(f, "attr", None)
            out.setdefault(t.attr, name if name in classes else None)
    return out


def _deeper(root: str, prefix: str, attrs: dict, depth: int = 0) -> str | None:
    """``model.backbone.`` when ``root``'s attribute ``model`` is a class whose own
    attribute starts with ``prefix``; None if no such path."""
    if depth > 3:
        return None
    for attr, child in attrs.get(root, {}).items():
        if child is None:
            continue
        if any(a.startswith(prefix.split(".")[0]) for a in attrs.get(child, {})):
            return f"{attr}.{prefix}"
        deeper = _deeper(child, prefix, attrs, depth + 1)
        if deeper:
            return f"{attr}.{deeper}"
    return None


#: Tensors a model holds directly (``nn.Parameter``s and buffers): their own
#: ``requires_grad`` is the real flag.
_PARAM_NAME = re.compile(
    r"(?i)(^|_)(weight|bias|weights|param|params|parameter|token|tokens|embed|pos_embed|"
    r"embedding|scale|gamma|beta|alpha|temperature|logit_scale|mask|prompt|prompts|"
    r"running_mean|running_var|data|grad)s?$"
)
_MODEL_NAME = re.compile(r"(?i)(model|net|network|backbone|encoder|decoder|module)$")


def _module_flag(ctx: Ctx) -> None:
    """``model.requires_grad = False`` / ``model.outc.requires_grad = False``: on an
    ``nn.Module`` this creates a plain attribute and freezes nothing (the method is
    ``requires_grad_``, the flag lives on each parameter)."""
    from graftlab.doctor.script.torch_graph import torch_script

    ts = torch_script(ctx)
    for ev in ctx.prog.events:
        n = ev.node
        if not isinstance(n, ast.Assign) or len(n.targets) != 1:
            continue
        t = n.targets[0]
        if not (isinstance(t, ast.Attribute) and t.attr == "requires_grad"):
            continue
        v = ctx.prog.const(n.value, ev.idx, ev.scope)
        if not isinstance(v, bool):
            continue
        recv = t.value
        known = ts.model_of(recv, ev)
        if known is not None:
            what, sure = f"{ast.unparse(recv)} ({known.name})", True
        elif (
            isinstance(recv, ast.Attribute)
            and not _PARAM_NAME.search(recv.attr)
            and (
                ts.model_of(recv.value, ev) is not None
                or _MODEL_NAME.search(ast.unparse(recv.value).split(".")[-1])
            )
        ):
            what, sure = ast.unparse(recv), False
        else:
            continue
        if not once(ctx, "freeze.module_flag", ast.unparse(recv)):
            continue
        ctx.add(
            "GL229",
            "trainable-not-applied",
            "error" if sure else "warning",
            f"requires_grad = {v} is set on the module {ast.unparse(recv)}, not on its parameters",
            [n.lineno],
            f"{what} is an nn.Module: assigning .requires_grad to a module only adds a plain "
            "attribute; autograd reads the flag of each parameter, which stays "
            f"{not v}, so the layer is {'still trained' if not v else 'not unfrozen'}"
            + (
                "."
                if sure
                else f" (inferred: {recv.attr!r} is an attribute of the model, named like a "
                "sub-module, not like a parameter)."
            ),
            f"{ast.unparse(recv)}.requires_grad_({v})  # or: for p in "
            f"{ast.unparse(recv)}.parameters(): p.requires_grad = {v}",
            [REFS["torch_optim"]],
        )


def _refrozen_after(sets, ev: Event) -> bool:
    return any(e.idx > ev.idx and not v for e, v in sets)


def _emptied_freeze_list(ctx: Ctx) -> None:
    """``freeze = ['backbone']`` ... ``freeze = []`` before the freeze loop reads it."""
    binds: dict[str, list[tuple[Event, object]]] = {}
    for ev in ctx.prog.events:
        n = ev.node
        if not isinstance(n, ast.Assign) or len(n.targets) != 1:
            continue
        t = n.targets[0]
        if isinstance(t, ast.Name) and _FREEZE_NAME.search(t.id):
            binds.setdefault(t.id, []).append((ev, ctx.prog.const(n.value, ev.idx, ev.scope)))
    for name, seq in binds.items():
        for (ev_a, a), (ev_b, b) in itertools.pairwise(seq):
            if not (isinstance(a, list | tuple) and a) or b not in ([], (), None, 0, False):
                continue
            if _read_between(ctx, name, ev_a.idx, ev_b.idx) or not _read_after(ctx, name, ev_b):
                continue
            if exclusive(ctx, ev_a.node, ev_b.node):
                continue  # if ...: freeze = [...] else: freeze = []
            if not once(ctx, "freeze.emptied", name):
                continue
            _add(
                ctx,
                f"The freeze list {name} is emptied before it is used",
                [ev_a.node.lineno, ev_b.node.lineno],
                f"{name} is set to {a!r} and then reassigned to {b!r} before the code that "
                "freezes the layers reads it, so no layer is frozen: training updates every "
                "layer, the pretrained ones included.",
                f"Remove the second assignment of {name} (or merge the two lists).",
            )


def _read_between(ctx: Ctx, name: str, a: int, b: int) -> bool:
    for ev in ctx.prog.events[a + 1 : b]:
        for n in ast.walk(ev.node):
            if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load):
                return True
    return False


def _read_after(ctx: Ctx, name: str, ev: Event) -> bool:
    return _read_between(ctx, name, ev.idx, len(ctx.prog.events))


def _missing_groups(ctx: Ctx) -> None:
    """Parameter groups built from ``model.<part>.parameters()`` that leave out a layer the
    model's class creates (and never freezes)."""
    from graftlab.doctor.script.torch_graph import torch_script

    ts = torch_script(ctx)
    for opt in ctx.prog.calls:
        if opt.name not in ("SGD", "Adam", "AdamW", "RMSprop") or not opt.node.args:
            continue
        refs = ctx.prog.deps(opt.node.args[0], opt.ev, limit=40)
        parts: dict[str, set[str]] = {}
        whole = False
        for r in refs:
            for n in ast.walk(r.node):
                if not (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)):
                    continue
                if n.func.attr not in ("parameters", "named_parameters"):
                    continue
                recv = n.func.value
                if isinstance(recv, ast.Attribute) and isinstance(recv.value, ast.Name):
                    parts.setdefault(recv.value.id, set()).add(recv.attr)
                else:
                    whole = True
        if whole or not parts:
            continue
        for var, used in parts.items():
            site = ctx.prog.origin_call(ast.Name(id=var, ctx=ast.Load()), opt.ev)
            model = ts.model_of(ast.Name(id=var, ctx=ast.Load()), opt.ev) if site else None
            if model is None or model.cls is None:
                continue
            missing = [a for a in _layers_of(ctx, model.cls) if a not in used]
            missing = [a for a in missing if not _frozen_part(ctx, a)]
            if not missing or not once(ctx, "freeze.groups", opt.node.lineno):
                continue
            _add(
                ctx,
                f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} in no optimizer "
                "parameter group",
                [opt.node.lineno, model.line],
                f"The optimizer is given the parameters of {', '.join(sorted(used))} only, but "
                f"{model.name} also creates {', '.join(missing)}: those weights get gradients "
                "and are never updated, so they keep their random initial values.",
                "Add a group for every trainable part, e.g. {'params': model."
                f"{missing[0]}.parameters(), 'lr': base_lr}}, or build the groups from "
                "model.named_parameters().",
            )


def _layers_of(ctx: Ctx, cls: ast.ClassDef) -> list[str]:
    init = next(
        (f for f in cls.body if isinstance(f, ast.FunctionDef) and f.name == "__init__"), None
    )
    out = []
    for n in ast.walk(init) if init else []:
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.value, ast.Call):
            t = n.targets[0]
            f = n.value.func
            name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            if (
                isinstance(t, ast.Attribute)
                and isinstance(t.value, ast.Name)
                and t.value.id == "self"
                and name in _LAYERS
                and t.attr not in out
            ):
                out.append(t.attr)
    return out


def _frozen_part(ctx: Ctx, attr: str) -> bool:
    text = "\n".join(ctx.src.lines)
    return bool(re.search(rf"\.{re.escape(attr)}\b.*requires_grad", text))


def _add(ctx: Ctx, title: str, lines, why: str, fix: str) -> None:
    ctx.add(
        "GL229",
        "trainable-not-applied",
        "warning",
        title,
        lines,
        why,
        fix,
        [REFS["torch_optim"]],
    )
