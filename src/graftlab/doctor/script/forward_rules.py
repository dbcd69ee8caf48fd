"""Layers whose behaviour depends on the training mode, made anew inside ``forward()``.

``model.eval()`` switches the submodules the model holds. A ``nn.Dropout(0.5)`` or a
``nn.BatchNorm2d(c)`` constructed inside ``forward`` is a new module on every call, created in
training mode and never reached by ``eval()``: the dropout stays active at test time (the same
image gives different, worse predictions) and the BatchNorm normalises with the statistics of
each batch, with weights no optimizer ever sees. The functional ``F.dropout(x, p)`` has the same
effect: its ``training`` argument defaults to True, not to the module's mode.
"""

from __future__ import annotations

import ast

from graftlab.doctor._checks import declare
from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.flow import last
from graftlab.doctor.script.frameworks import uses_torch
from graftlab.doctor.script.knowledge import REFS

declare(
    "GL235",
    "eval-mode-missing",
    "error",
    "script",
    "Dropout or BatchNorm built inside forward(): model.eval() never switches it off",
    (REFS["torch_eval"],),
)

_MODE_LAYERS = {
    "Dropout",
    "Dropout1d",
    "Dropout2d",
    "Dropout3d",
    "AlphaDropout",
    "FeatureAlphaDropout",
    "BatchNorm1d",
    "BatchNorm2d",
    "BatchNorm3d",
    "SyncBatchNorm",
}
#: ``torch.nn.functional`` dropouts whose ``training`` argument (third) defaults to True (the
#: alpha dropouts default to False).
_FUNCTIONAL = {"dropout", "dropout1d", "dropout2d", "dropout3d"}


@check("torch.forward_modes")
def check_mode_layers_in_forward(ctx: Ctx) -> None:
    """GL235: a Dropout/BatchNorm module constructed in ``forward`` (error), or a functional
    dropout that does not pass ``training`` (warning)."""
    if not uses_torch(ctx):
        return
    for cls in (n for n in ast.walk(ctx.src.tree) if isinstance(n, ast.ClassDef)):
        for fn in cls.body:
            if isinstance(fn, ast.FunctionDef) and fn.name == "forward":
                _check_forward(ctx, cls.name, fn)


def _check_forward(ctx: Ctx, cls: str, fn: ast.FunctionDef) -> None:
    guarded = {id(n) for g in _training_guards(fn) for n in ast.walk(g)}
    for call in (n for n in ast.walk(fn) if isinstance(n, ast.Call)):
        if id(call) in guarded:
            continue
        qual = ctx.prog.qualname(call.func, len(ctx.prog.events), 0) or ""
        name = last(qual)
        if qual.startswith("torch.nn.") and name in _MODE_LAYERS and not _inactive(call, 0):
            _report_module(ctx, cls, name, call)
            return
        if qual.startswith("torch.nn.functional.") and name in _FUNCTIONAL:
            training = next((k.value for k in call.keywords if k.arg == "training"), None)
            if training is None and len(call.args) >= 3:
                training = call.args[2]
            if training is None and not _inactive(call, 1):
                _report_functional(ctx, cls, name, call)
                return


def _training_guards(fn: ast.FunctionDef) -> list[ast.AST]:
    """Branches that run only in training mode (``if self.training:``, ``... if
    self.training else x``): a layer made there is right to be in training mode."""
    out: list[ast.AST] = []
    for node in ast.walk(fn):
        if isinstance(node, ast.If | ast.IfExp) and "training" in ast.unparse(node.test):
            negated = isinstance(node.test, ast.UnaryOp) and isinstance(node.test.op, ast.Not)
            branch = node.orelse if negated else node.body
            out.extend(branch if isinstance(branch, list) else [branch])
    return out


def _inactive(call: ast.Call, pos: int) -> bool:
    """A dropout probability of 0 given as a constant (keyword ``p`` or argument ``pos``):
    the layer does nothing."""
    p = next((k.value for k in call.keywords if k.arg == "p"), None)
    if p is None and len(call.args) > pos:
        p = call.args[pos]
    return isinstance(p, ast.Constant) and p.value in (0, 0.0)


def _report_module(ctx: Ctx, cls: str, name: str, call: ast.Call) -> None:
    dropout = "Dropout" in name
    effect = (
        "so dropout stays active at test time: the same image gives different predictions "
        "on every run, and accuracy is lower than the model's"
        if dropout
        else "so it normalises every batch with that batch's own statistics, at test time "
        "too (one image alone is normalised to nothing useful), and its weight and bias are "
        "fresh parameters that no optimizer holds and no checkpoint saves"
    )
    ctx.add(
        "GL235",
        "eval-mode-missing",
        "error",
        f"nn.{name} is built inside {cls}.forward(): a new module on every call, always in "
        "training mode",
        [call.lineno],
        f"A module constructed inside forward() is not a submodule of {cls} when eval() is "
        "called: every call creates a fresh one, in training mode. model.eval() switches "
        f"the modules the model holds and never reaches this one, {effect}.",
        f"Build it once in __init__ and use it in forward:\n"
        f"    self.{'drop' if dropout else 'bn'} = nn.{name}(...)   # in __init__\n"
        f"    x = self.{'drop' if dropout else 'bn'}(x)              # in forward"
        + (
            "\nor use the functional form tied to the mode: "
            "x = F.dropout(x, p=0.5, training=self.training)"
            if dropout
            else ""
        ),
        [REFS["torch_eval"]],
    )


def _report_functional(ctx: Ctx, cls: str, name: str, call: ast.Call) -> None:
    # A warning: the code cannot say whether dropout at test time was wanted (Monte Carlo
    # dropout); an explicit training=True is taken as wanted and not reported at all.
    ctx.add(
        "GL235",
        "eval-mode-missing",
        "warning",
        f"F.{name} in {cls}.forward() without training=self.training: active after model.eval()",
        [call.lineno],
        f"torch.nn.functional.{name}'s training argument defaults to True; it does not "
        "follow the module's mode. model.eval() therefore leaves this dropout on: at test "
        "time the same image gives different predictions on every run, and accuracy is "
        "lower than the model's (inferred: dropout at test time is not wanted; for Monte "
        "Carlo dropout pass training=True explicitly).",
        f"x = F.{name}(x, p=0.5, training=self.training)\n"
        "# or build nn.Dropout(0.5) once in __init__ and call it in forward",
        [REFS["torch_eval"]],
    )
