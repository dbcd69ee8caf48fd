"""A PyTorch criterion the paste builds but never calls, judged against the one network it
defines.

- **GL201** (double-softmax, ``warning``): ``criterion = nn.CrossEntropyLoss()`` next to the
  only classifier module of the paste, whose ``forward`` ends in a softmax, with the training
  loop left out (no loss is computed, nothing is back-propagated). The criterion is taken to
  receive that network's output, which is the one link inferred: then cross-entropy applies
  softmax a second time.
- **GL203** (activation-loss-mismatch, ``warning``): the same shape with the other pairs that
  clash: ``nn.BCEWithLogitsLoss()`` for a network ending in a sigmoid, ``nn.NLLLoss()`` for one
  ending in a softmax (not its log).
"""

from __future__ import annotations

import ast
import re

from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.common_rules import once
from graftlab.doctor.script.frameworks import uses_torch
from graftlab.doctor.script.knowledge import REFS
from graftlab.doctor.script.torch_graph import LOSSES, Head, _is_module, torch_script
from graftlab.doctor.script.torch_model import loss_calls, tensor_head
from graftlab.doctor.script.torch_wiring import _has_linear


def _built_criteria(ctx: Ctx) -> list:
    """Loss modules the paste constructs (``nn.CrossEntropyLoss()``)."""
    return [
        c
        for c in ctx.prog.calls
        if c.name in LOSSES and c.name[0].isupper() and c.qual.startswith("torch")
    ]


def _classifiers(ctx: Ctx) -> list[tuple[ast.ClassDef, Head]]:
    """(class, head) of every top-level module the paste defines that ends in a Linear layer
    and returns its softmax in both modes. Parts built into another class are left out."""
    ts = torch_script(ctx)
    modules = [c for c in ctx.prog.classes.values() if _is_module(c)]
    # a class another module builds into itself is a part; one a plain class builds (the
    # ``Experiment`` that runs it) is still the network
    parts = {
        n.func.id
        for m in modules
        for n in ast.walk(m)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id != m.name
    }
    out = []
    for cls in modules:
        if cls.name in parts or not _has_linear(cls):
            continue
        head = ts._class_head(cls)
        if head is not None:
            out.append((cls, head))
    return out


def _activation_layer_line(cls: ast.ClassDef, activation: str) -> int | None:
    """The line building the ``nn.Softmax`` / ``nn.Sigmoid`` layer that forward() ends in, if
    the class builds it as a layer."""
    layer = activation.capitalize()
    for n in ast.walk(cls):
        if isinstance(n, ast.Call) and ast.unparse(n.func).split(".")[-1] == layer:
            return n.lineno
    return None


def _shows_training(ctx: Ctx) -> bool:
    """Whether the paste computes a loss anywhere, under any name (``loss_fn(out, y)`` with
    ``loss_fn`` passed in), or runs a network outside its definition: then the step is shown
    and the loss rules judge what the loss receives."""
    if loss_calls(ctx) or ctx.prog.method_calls("backward"):
        return True
    for c in ctx.prog.calls:
        f = c.node.func
        if not any("." in fn for fn in c.ev.funcs) and tensor_head(ctx, c.node, c.ev):
            return True  # ``out = net(x)`` outside a module's methods
        name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
        if c.node.args and re.search(r"(?i)loss|criterion", name) and name not in LOSSES:
            return True
    return False


#: (loss kind, last activation) -> (code, category, what the loss does with that output, fix)
_CLASHES = {
    ("ce", "softmax"): (
        "GL201",
        "double-softmax",
        "applies log_softmax itself and expects raw logits. On probabilities in [0, 1] it "
        "computes the softmax of a softmax, which is nearly uniform: the loss stalls near "
        "log(K), gradients are tiny and accuracy climbs slowly and stops early",
        "Return the last Linear layer's logits from forward() (remove the softmax) and apply "
        "softmax only where probabilities are needed: probs = model(x).softmax(dim=1).",
    ),
    ("bcel", "sigmoid"): (
        "GL203",
        "activation-loss-mismatch",
        "applies the sigmoid itself. After the model's sigmoid the outputs are squashed twice "
        "into [0.5, 0.73]: gradients shrink and the loss never reaches low values",
        "Return logits from forward() (remove the sigmoid) and keep BCEWithLogitsLoss; apply "
        "torch.sigmoid only for predictions.",
    ),
    ("nll", "softmax"): (
        "GL203",
        "activation-loss-mismatch",
        "expects log-probabilities and only negates the value picked for the target. On "
        "probabilities it is bounded in [-1, 0] and its gradient is not that of cross-entropy: "
        "training is slow or stalls",
        "End forward() with log_softmax (F.log_softmax(x, dim=1)) for NLLLoss, or return "
        "logits and use nn.CrossEntropyLoss.",
    ),
}


@check("torch.uncalled_criterion")
def check_uncalled_criterion(ctx: Ctx) -> None:
    """GL201 / GL203: a built but uncalled criterion and the paste's one classifier, whose last
    activation the criterion applies again or does not expect."""
    if not uses_torch(ctx) or _shows_training(ctx):
        return
    criteria = _built_criteria(ctx)
    kinds = {LOSSES[c.name] for c in criteria}
    if len(kinds) != 1:
        return  # no criterion, or several kinds: which one meets the network is unknown
    nets = _classifiers(ctx)
    if len(nets) != 1:
        return  # several networks: which one is trained is not in the paste
    cls, head = nets[0]
    kind = kinds.pop()
    clash = _CLASHES.get((kind, head.activation))
    if clash is None or head.eval_only or head.inferred:
        return
    code, category, does, fix = clash
    if not once(ctx, "torch.head", head.line, kind):
        return
    crit = criteria[0]
    layer = _activation_layer_line(cls, head.activation)
    lines = sorted({*([layer] if layer else []), head.line, crit.node.lineno})
    ctx.add(
        code,
        category,
        "warning",
        f"{crit.name} is built for {cls.name}, whose forward() ends in a {head.activation}",
        lines,
        f"{cls.name}.forward() ends in a {head.activation} (line {head.line}), and the "
        f"criterion is nn.{crit.name} (line {crit.node.lineno}), which {does} (inferred: the "
        f"training loop is not shown; the criterion is taken to receive the output of "
        f"{cls.name}, the only network the code defines).",
        fix,
        [REFS["torch_ce"], REFS["torch_bce"], REFS["torch_nll"]],
    )
