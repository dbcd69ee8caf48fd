"""How a PyTorch model's parts meet: what forward() hands on, and what a new head is given.

- **GL206** (double-softmax): a pretrained network's definition (the paste loads weights into
  it) whose ``forward`` (directly, or through a method it ends in such as ``self.logits(x)``)
  returns softmax probabilities, in a paste that computes no loss. Whoever fine-tunes it uses
  ``nn.CrossEntropyLoss``, the usual loss, which applies softmax again. The loss is not in the
  code shown, so this is a ``warning``.
- **GL207** (head-mismatch): an ``nn.Linear`` sized for a torchvision backbone's pooled
  features (2048 for ResNet-50) applied to the output of that backbone called whole, whose own
  classifier is still in place: the layer receives the 1000 ImageNet logits and the first
  forward pass fails on the shapes (``mat1 and mat2 shapes cannot be multiplied``).
"""

from __future__ import annotations

import ast

from graftlab.doctor._checks import declare
from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.common_rules import once
from graftlab.doctor.script.flow import Ref, canon
from graftlab.doctor.script.frameworks import uses_torch
from graftlab.doctor.script.knowledge import REFS, torchvision_features, torchvision_head_attr
from graftlab.doctor.script.torch_graph import TorchModel, _is_module, torch_script
from graftlab.doctor.script.torch_model import loss_calls

declare(
    "GL206",
    "double-softmax",
    "warning",
    "script",
    "A model definition's forward() returns softmax probabilities",
    (REFS["torch_ce"],),
)
declare(
    "GL207",
    "head-mismatch",
    "error",
    "script",
    "A Linear sized for the backbone's pooled features is given its 1000 ImageNet logits",
    (REFS["tv_tutorial"], REFS["tv_models"]),
)

#: Calls that hand a tensor on with the same features per row.
_SAME_WIDTH = {"view", "reshape", "flatten", "squeeze", "contiguous", "to", "float"}
_PASS_THROUGH = {"Dropout", "Flatten", "Identity", "ReLU"}


def _computes_loss(ctx: Ctx) -> bool:
    """Whether the paste trains or evaluates a loss anywhere (then the loss rules judge the
    head against it)."""
    if loss_calls(ctx) or ctx.prog.method_calls("backward"):
        return True
    return any(
        "loss" in c.name.lower() or "criterion" in c.name.lower() or c.name == "Learner"
        for c in ctx.prog.calls
    )


def _submodules(ctx: Ctx) -> set[str]:
    """Names of classes another module class builds into itself: parts, not the model. (A
    plain class around the whole script, ``class Experiment: def run(self): ...``, builds the
    model but does not contain it.)"""
    names = set(ctx.prog.classes)
    used = set()
    for cls in ctx.prog.classes.values():
        if not _is_module(cls):
            continue
        for n in ast.walk(cls):
            if (
                isinstance(n, ast.Call)
                and isinstance(n.func, ast.Name)
                and n.func.id in names
                and n.func.id != cls.name
            ):
                used.add(n.func.id)
    return used


def _loads_pretrained(ctx: Ctx, cls: ast.ClassDef) -> bool:
    """The paste loads trained weights into an instance of ``cls``
    (``model = Cls(); model.load_state_dict(model_zoo.load_url(url))``): a pretrained network
    others fine-tune, as model-zoo packages ship them."""
    ts = torch_script(ctx)
    for c in ctx.prog.method_calls("load_state_dict"):
        model = ts.model_of(c.node.func.value, c.ev)
        if model is not None and model.cls is cls:
            return True
    return False


def _has_linear(cls: ast.ClassDef) -> bool:
    return any(
        isinstance(n, ast.Call) and ast.unparse(n.func).endswith("Linear") for n in ast.walk(cls)
    )


@check("torch.definition_softmax")
def check_definition_softmax(ctx: Ctx) -> None:
    """GL206: a classifier module whose forward() returns probabilities, no loss in sight."""
    if not uses_torch(ctx) or _computes_loss(ctx):
        return
    ts = torch_script(ctx)
    parts = _submodules(ctx)
    for cls in ctx.prog.classes.values():
        if cls.name in parts or not _is_module(cls) or not _has_linear(cls):
            continue
        head = ts._class_head(cls)
        if head is None or head.activation != "softmax" or head.eval_only:
            continue
        if not _loads_pretrained(ctx, cls):
            continue  # a network of the poster's own: how it is trained is not in the paste
        if not once(ctx, "torch.definition_softmax"):
            return
        forward = next(
            f for f in cls.body if isinstance(f, ast.FunctionDef) and f.name == "forward"
        )
        ctx.add(
            "GL206",
            "double-softmax",
            "warning",
            f"{cls.name}.forward() returns softmax probabilities, not logits",
            [head.line, forward.lineno],
            f"{cls.name} ends in a softmax, so calling the model gives probabilities. Models "
            "are fine-tuned with nn.CrossEntropyLoss, which applies log_softmax itself and "
            "expects logits: on this output it computes softmax of probabilities, nearly "
            "uniform, so the loss stalls near log(K) and gradients are tiny (inferred: no loss "
            "is computed in the code shown; the usual cross-entropy is assumed, and the "
            "weights loaded into it make it a network others fine-tune).",
            "Return the last Linear layer's logits from forward(), and apply softmax only where "
            "probabilities are needed: probs = model(x).softmax(dim=1).",
            [REFS["torch_ce"]],
        )


def _intact_backbone(ctx: Ctx, node: ast.expr, at: Ref, module: bool = False) -> TorchModel | None:
    """The torchvision backbone whose whole output ``node`` is (through view/flatten), or with
    ``module`` the backbone ``node`` is, when the code shown keeps its ImageNet classifier."""
    ts = torch_script(ctx)
    for _ in range(6):
        r = ctx.prog.origin(node, at.idx, at.scope)
        n = r.node
        if not isinstance(n, ast.Call):
            return None
        f = n.func
        if isinstance(f, ast.Attribute) and f.attr in _SAME_WIDTH:
            q = canon(ctx.prog.qualname(f, r.idx, r.scope) or "")
            node = (n.args[0] if n.args else None) if q.startswith("torch") else f.value
            if node is None:
                return None
            at = r
            continue
        model = ts.model_of(f, r)
        if model is None and module:
            model = ts.model_of(n, r)  # the element of a Sequential: the backbone itself
        if model is None or model.kind != "torchvision" or not model.pretrained:
            return None
        attr = torchvision_head_attr(model.name)
        if attr is None or ts._assigned_head(model) is not None:
            return None
        if any(ts.model_of(c.node.func.value, c.ev) is model for c in _head_edits(ctx)):
            return None
        return model
    return None


def _head_edits(ctx: Ctx) -> list:
    return [
        *ctx.prog.method_calls("reset_classifier"),
        *ctx.prog.method_calls("add_module"),
        *ctx.prog.method_calls("register_forward_hook"),
    ]


def _linear_width(ctx: Ctx, f: ast.expr, at: Ref) -> tuple[int, int] | None:
    """(in_features, line) of the nn.Linear that ``f`` calls."""
    site = ctx.prog.origin_call(f, at)
    if site is None or site.name != "Linear" or not site.qual.startswith("torch"):
        return None
    n = ctx.prog.const(site.arg(0, "in_features"), site.ev.idx, site.ev.scope)
    return (n, site.node.lineno) if isinstance(n, int) and not isinstance(n, bool) else None


@check("torch.head_after_classifier")
def check_head_after_classifier(ctx: Ctx) -> None:
    """GL207: ``self.classifier(self.backbone(x))`` with the backbone's fc still in place and
    the new Linear sized for the pooled features; also inside one nn.Sequential."""
    if not uses_torch(ctx):
        return
    for c in ctx.prog.calls:
        if not c.node.args or not isinstance(c.node.func, ast.Name | ast.Attribute):
            continue
        width = _linear_width(ctx, c.node.func, c.ev)
        if width is None:
            continue
        model = _intact_backbone(ctx, c.node.args[0], c.ev)
        if model is not None:
            _report(ctx, model, width, c.node.lineno)
    for seq in ctx.prog.calls:
        if seq.name != "Sequential" or not seq.qual.startswith("torch"):
            continue
        elts = ctx.prog.items(list(seq.node.args), seq.ev)
        for i, ref in enumerate(elts[:-1]):
            model = _intact_backbone(ctx, ref.node, ref, module=True)
            if model is None:
                continue
            for nxt in elts[i + 1 :]:
                site = ctx.prog.origin_call(nxt.node, nxt)
                if site is not None and site.name in _PASS_THROUGH:
                    continue
                if site is not None and site.name == "Linear":
                    n = ctx.prog.const(site.arg(0, "in_features"), site.ev.idx, site.ev.scope)
                    if isinstance(n, int) and not isinstance(n, bool):
                        _report(ctx, model, (n, site.node.lineno), seq.node.lineno)
                break


def _report(ctx: Ctx, model: TorchModel, width: tuple[int, int], call_line: int) -> None:
    given, line = width
    pooled = torchvision_features(model.name)
    if given == 1000 or pooled is None or given != pooled:
        return  # 1000: stacked on the logits on purpose (GL204); other widths: another cause
    if not once(ctx, "torch.head_after_classifier", model.line):
        return
    attr = torchvision_head_attr(model.name) or "fc"
    ctx.add(
        "GL207",
        "head-mismatch",
        "error",
        f"nn.Linear({given}, ...) is given {model.name}'s 1000 ImageNet logits, not its "
        f"{pooled} pooled features",
        [model.line, line, call_line],
        f"The new layer is sized for {model.name}'s pooled features ({pooled}), but it is "
        f"applied to the output of the whole {model.name}, whose own classifier "
        f"(`{attr}`, 1000 ImageNet classes) is still in place: the layer receives 1000 "
        f"values per image, and the first forward pass fails ('mat1 and mat2 shapes cannot be "
        f"multiplied (Bx1000 and {given}x...)').",
        f"Take the pooled features instead of the logits: backbone.{attr} = nn.Identity() "
        f"(then nn.Linear({pooled}, num_classes) fits), or replace the classifier itself:\n"
        f"backbone.{attr} = nn.Linear(backbone.{attr}"
        + ("[-1]" if attr == "classifier" else "")
        + ".in_features, num_classes)",
        [REFS["tv_tutorial"], REFS["tv_models"]],
    )
