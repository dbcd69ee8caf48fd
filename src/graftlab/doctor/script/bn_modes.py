"""BatchNorm put in eval mode once, then switched back to training mode by ``model.train()``.

``nn.Module.train()`` sets the mode of every submodule. A script that "freezes" BatchNorm by
calling ``m.eval()`` on its BatchNorm layers (in the constructor, in a ``freeze_bn()`` helper,
with ``model.apply(set_bn_eval)``) before the training loop, and then calls ``model.train()``
at the start of each epoch, trains with BatchNorm in training mode after all: the layers
normalise with the statistics of each (often small) batch and overwrite the pretrained running
mean and variance, which evaluation then uses. The correct idioms re-apply the freeze after
every ``model.train()``, or override ``train()`` in the model so that it does.
"""

from __future__ import annotations

import ast
import re

from graftlab.doctor._checks import declare
from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.common_rules import once, source_text
from graftlab.doctor.script.flow import Event, calls_in, dotted
from graftlab.doctor.script.frameworks import uses_torch
from graftlab.doctor.script.knowledge import REFS

declare(
    "GL243",
    "batchnorm",
    "warning",
    "script",
    "BatchNorm layers set to eval() once, switched back to training mode by model.train()",
    (REFS["torch_eval"],),
)

_BN = re.compile(r"(?i)batch_?norm|\bbn\d*\b|_bn\b")


def _is_mode_call(n: ast.AST, mode: str) -> bool:
    """``x.eval()`` / ``x.train(False)`` for ``eval``; ``x.train()`` / ``x.train(True)``."""
    if not (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)):
        return False
    args = [*n.args, *[k.value for k in n.keywords]]
    flag = args[0].value if len(args) == 1 and isinstance(args[0], ast.Constant) else None
    if n.func.attr == "eval" and not args:
        return mode == "eval"
    if n.func.attr != "train" or len(args) > 1 or (args and flag not in (True, False)):
        return False
    return mode == ("eval" if flag is False else "train")


def _bn_evals(tree: ast.Module) -> set[int]:
    """ids of the ``eval()`` calls that put BatchNorm layers (only) in eval mode: under an
    ``if`` that tests for BatchNorm, in a ``lambda`` / conditional expression that does, or on
    a receiver named as one (``self.bn1.eval()``)."""
    out: set[int] = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.If | ast.IfExp) and _BN.search(ast.unparse(n.test)):
            body = n.body if isinstance(n, ast.If) else [n.body]
            out.update(id(m) for s in body for m in ast.walk(s) if _is_mode_call(m, "eval"))
        elif _is_mode_call(n, "eval"):
            recv = dotted(n.func.value) or ""
            if _BN.search(recv.rsplit(".", 1)[-1]):
                out.add(id(n))
    return out


def _part_evals(ctx: Ctx) -> list[tuple[Event, str]]:
    """(event, receiver) of ``backbone.eval()`` / ``model.features.eval()`` outside loops and
    functions: a part of a network put in eval mode once, which is how people keep a frozen
    backbone's BatchNorm statistics; a ``train()`` of the whole network undoes it."""
    out = []
    for c in ctx.prog.method_calls("eval"):
        recv = dotted(c.node.func.value) or ""
        top = recv and not c.ev.loops and not c.ev.funcs
        if top and _is_mode_call(c.node, "eval") and not ctx.prog.ruled_out(c.ev):
            out.append((c.ev, recv))
    return out


def _made_from(tree: ast.Module) -> dict[str, set[str]]:
    """name -> the root names in the values assigned to it (``backbone = nn.Sequential(*list(
    model.children())[:-1])`` -> {"nn", "list", "model"}), read in one walk."""
    out: dict[str, set[str]] = {}
    for n in ast.walk(tree):
        if isinstance(n, ast.Assign):
            roots = {m.id for m in ast.walk(n.value) if isinstance(m, ast.Name)}
            for t in n.targets:
                if isinstance(t, ast.Name):
                    out.setdefault(t.id, set()).update(roots)
    return out


def _part_of(made: dict[str, set[str]], part: str, whole: str) -> bool:
    """Whether ``part`` names a submodule of ``whole``: an attribute of it (``model.features``),
    a name made from it (``backbone = model.backbone``) or a name it is made from
    (``model = nn.Sequential(backbone, head)``)."""
    if not part or part == whole:
        return False
    if part.startswith(whole + "."):
        return True
    if "." in part or "." in whole:
        return False
    return whole in made.get(part, ()) or part in made.get(whole, ())


def _applies(ctx: Ctx, call: ast.Call, bn_fns: set[str]) -> bool:
    """``model.apply(set_bn_eval)``: a function of the script that puts BatchNorm in eval."""
    if not (isinstance(call.func, ast.Attribute) and call.func.attr == "apply" and call.args):
        return False
    fn = call.args[0]
    return isinstance(fn, ast.Name) and fn.id in bn_fns


def _freezes(ctx: Ctx) -> list[Event]:
    """Events that put BatchNorm layers in eval mode and may run (not in a branch ruled out)."""
    evals = _bn_evals(ctx.src.tree)
    if not evals:
        return []
    bn_fns = {
        name for name, fn in ctx.prog.functions.items() if any(id(m) in evals for m in ast.walk(fn))
    }
    # a helper that no call names (passed to apply(), or never used) is traced in place: its
    # body is not a freeze, the apply() that runs it is
    called = {
        n.func.id if isinstance(n.func, ast.Name) else n.func.attr
        for n in ast.walk(ctx.src.tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name | ast.Attribute)
    }
    out = []
    for ev in ctx.prog.events:
        calls = calls_in(ev.node)
        runs = not ev.funcs or ev.funcs[-1].rsplit(".", 1)[-1] in called
        hit = (runs and any(id(c) in evals for c in calls)) or any(
            _applies(ctx, c, bn_fns) for c in calls
        )
        if hit and not ctx.prog.ruled_out(ev):
            out.append(ev)
    return out


def _trains(ctx: Ctx) -> list[tuple[Event, ast.Call]]:
    """``model.train()`` calls on something other than a trainer object."""
    out = []
    for c in ctx.prog.method_calls("train"):
        recv = dotted(c.node.func.value) or ""
        if _is_mode_call(c.node, "train") and recv and "trainer" not in recv.lower():
            out.append((c.ev, c.node))
    return out


def _overrides_train(ctx: Ctx, cls: ast.ClassDef) -> bool:
    """A module class of the script that defines its own ``train()``."""
    names = {f.name for f in cls.body if isinstance(f, ast.FunctionDef)}
    module = "forward" in names or any("Module" in ast.unparse(b) for b in cls.bases)
    return module and "train" in names


def _steps(ctx: Ctx) -> list[int]:
    return sorted(c.ev.idx for c in ctx.prog.method_calls("backward"))


def _undone(ctx: Ctx, t: Event, freeze_idx: list[int], steps: list[int]) -> bool:
    """Whether training steps run after ``t`` before BatchNorm is put back in eval mode: in
    ``t``'s loop the events after ``t``, then (next iteration) those before it."""
    if t.loops:
        loop = t.loops[-1]
        end = ctx.prog.loop_end.get(loop, loop)
        order = [*range(t.idx + 1, end + 1), *range(loop, t.idx)]
    else:
        order = range(t.idx + 1, len(ctx.prog.events))
    frozen, stepped = set(freeze_idx), set(steps)
    for i in order:
        if i in frozen:
            return False
        if i in stepped:
            return True
    return False


@check("torch.bn_freeze_undone")
def check_bn_freeze_undone(ctx: Ctx) -> None:
    """GL243: BatchNorm put in eval mode before the loop, reset by each epoch's train()."""
    if not uses_torch(ctx) or not re.search(r"\.eval\(|train\(False", source_text(ctx)):
        return
    freezes = _freezes(ctx)
    parts = _part_evals(ctx)
    if not freezes and not parts:
        return
    # the model overrides train() (to re-freeze after it) or freezes in forward(): correct
    if any(_overrides_train(ctx, cls) for cls in ctx.prog.classes.values()):
        return
    if any(f.rsplit(".", 1)[-1] == "forward" for ev in freezes for f in ev.funcs):
        return
    steps = _steps(ctx)
    made = _made_from(ctx.src.tree)
    evals = [(c.ev.idx, dotted(c.node.func.value) or "") for c in ctx.prog.method_calls("eval")]
    for t, node in _trains(ctx):
        whole = dotted(node.func.value) or ""
        mine = [ev for ev, part in parts if _part_of(made, part, whole)]
        # every eval() of a part is a freeze: one after train() re-freezes it
        again = [i for i, part in evals if _part_of(made, part, whole)]
        idx = [ev.idx for ev in freezes] + [ev.idx for ev in mine] + again
        before = sorted((ev for ev in [*freezes, *mine] if ev.idx < t.idx), key=lambda e: e.idx)
        if not before or not _undone(ctx, t, idx, steps):
            continue
        if not once(ctx, "torch.bn_undone"):
            return
        first = before[0]
        # the statement that called the helper: __init__'s ``self.freeze_bn()``
        callers = [ev for ev in ctx.prog.events if ev.idx > first.idx and ev.scope < first.scope]
        via = [callers[0].node.lineno] if callers and first.funcs else []
        what = ast.unparse(node.func.value)
        ctx.add(
            "GL243",
            "batchnorm",
            "warning",
            f"BatchNorm is put in eval mode once, but {what}.train() switches it back to "
            "training mode",
            [first.node.lineno, *via, t.node.lineno],
            f"The BatchNorm layers are set to eval mode (line {first.node.lineno}) before "
            f"training, but {what}.train() (line {t.node.lineno}) is called afterwards and "
            "nn.Module.train() sets the mode of every submodule, BatchNorm included. The "
            "training steps that follow run with BatchNorm in training mode: each layer "
            "normalises with the current batch's statistics and overwrites its pretrained "
            "running mean and variance (momentum 0.1), which evaluation then uses; with small "
            "batches the model does well in training and badly in eval mode, even on the "
            "training images. (Inferred: the layers set to eval are taken to be submodules of "
            f"{what}.)",
            f"Freeze after every {what}.train():\n"
            f"{what}.train()\n"
            f"for m in {what}.modules():\n"
            "    if isinstance(m, nn.modules.batchnorm._BatchNorm):\n"
            "        m.eval()\n"
            "# or override train() in the model:\n"
            "def train(self, mode=True):\n"
            "    super().train(mode)\n"
            "    if mode and self.bn_frozen:\n"
            "        self.freeze_bn()\n"
            "    return self",
            [REFS["torch_eval"]],
        )
        return


declare(
    "GL254",
    "batchnorm",
    "warning",
    "script",
    "BatchNorm 'frozen' with momentum = 0 while the layers stay in training mode",
    (REFS["torch_bn"], REFS["torch_eval"]),
)


def _is_zero(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) in (int, float) and node.value == 0


def _zero_momentum(tree: ast.Module) -> list[ast.Assign]:
    """``m.momentum = 0`` on a BatchNorm layer: under an ``if`` that tests for BatchNorm, or on
    a receiver named as one (``model.bn1.momentum = 0``)."""
    out: dict[int, ast.Assign] = {}
    for n in ast.walk(tree):
        guarded = isinstance(n, ast.If) and bool(_BN.search(ast.unparse(n.test)))
        if not guarded and not isinstance(n, ast.Assign):
            continue
        for a in (m for s in (n.body if guarded else [n]) for m in ast.walk(s)):
            if not (isinstance(a, ast.Assign) and _is_zero(a.value)):
                continue
            for t in a.targets:
                if isinstance(t, ast.Attribute) and t.attr == "momentum":
                    recv = (dotted(t.value) or "").rsplit(".", 1)[-1]
                    if guarded or _BN.search(recv):
                        out[id(a)] = a
    return sorted(out.values(), key=lambda a: a.lineno)


@check("torch.bn_momentum_zero")
def check_bn_momentum_zero(ctx: Ctx) -> None:
    """GL254: BatchNorm 'frozen' by ``momentum = 0`` in a model that trains in train() mode."""
    if not uses_torch(ctx) or "momentum" not in source_text(ctx):
        return
    tree = ctx.src.tree
    zeros = _zero_momentum(tree)
    # the layers are put in eval mode somewhere (GL243 judges whether train() undoes it), or
    # they never keep statistics at all: batch statistics in both modes, nothing to disagree
    if not zeros or _bn_evals(tree) or "track_running_stats" in source_text(ctx):
        return
    if not _steps(ctx) or not once(ctx, "torch.bn_momentum_zero"):
        return
    trains = [node for _, node in _trains(ctx)]
    lines = [a.lineno for a in zeros[:2]] + [n.lineno for n in trains[:1]]
    where = f"{ast.unparse(trains[0].func.value)}.train()" if trains else "training mode"
    ctx.add(
        "GL254",
        "batchnorm",
        "warning",
        "BatchNorm is 'frozen' with momentum = 0, but its layers still run in training mode",
        lines,
        f"momentum = 0 (line {zeros[0].lineno}) stops the running mean and variance from "
        "updating, and requires_grad = False keeps gamma and beta, but it does not freeze what "
        f"the layer computes: in {where} a BatchNorm layer normalises every input with the "
        "mean and variance of its own batch, not with the running statistics. The rest of the "
        "network is trained on batch-normalised features (noisy with small batches), and "
        "eval() then normalises with the old pretrained running statistics the layers were "
        "never used with: the same weights score well in train mode and badly in eval mode. "
        "(Inferred: the layers are submodules of the model being trained.)",
        "Put the BatchNorm layers in eval mode for training, after every model.train():\n"
        "model.train()\n"
        "for m in model.modules():\n"
        "    if isinstance(m, nn.modules.batchnorm._BatchNorm):\n"
        "        m.eval()  # normalise with the running statistics, and keep them\n"
        "        m.weight.requires_grad_(False)\n"
        "        m.bias.requires_grad_(False)",
        [REFS["torch_bn"], REFS["torch_eval"]],
    )
