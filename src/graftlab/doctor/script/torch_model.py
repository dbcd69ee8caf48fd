"""PyTorch checks on the model's output and the loss it is trained with."""

from __future__ import annotations

import ast
import re
from dataclasses import replace

from graftlab.doctor._checks import declare
from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.common_rules import once
from graftlab.doctor.script.flow import UNKNOWN, CallSite, ElementOf, Event, Ref, canon, last
from graftlab.doctor.script.frameworks import uses_torch
from graftlab.doctor.script.knowledge import REFS
from graftlab.doctor.script.torch_graph import (
    _RESHAPES,
    ACTIVATIONS,
    HEAD_ATTRS,
    LOSSES,
    Head,
    torch_script,
)

_TENSOR_WRAPPERS = {
    "squeeze",
    "view",
    "reshape",
    "float",
    "flatten",
    "unsqueeze",
    "double",
    "contiguous",
    "to",
    "type",
    "transpose",
    "permute",
    "t",
}
# products of two probability vectors stay in [0, 1]: a score matrix as bounded as softmax output
_PRODUCTS = {"matmul", "bmm", "einsum", "mm"}


def _and(a: str, b: str) -> str:
    return f"{a}; {b}" if a else b


def loss_calls(ctx: Ctx) -> list[tuple[CallSite, str, int]]:
    """(call, kind, line of the loss definition) for every loss computed in the script."""
    out = []
    for c in ctx.prog.calls:
        if c.name in LOSSES and c.name[0].islower() and c.qual.startswith("torch"):
            out.append((c, LOSSES[c.name], c.node.lineno))
            continue
        f = c.node.func
        if isinstance(f, ast.Call):  # nn.CrossEntropyLoss()(outputs, labels)
            ctor = ctx.prog.call_site(f)
            if ctor is not None and ctor.name in LOSSES and ctor.name[0].isupper():
                out.append((c, LOSSES[ctor.name], f.lineno))
            continue
        if not isinstance(f, ast.Name | ast.Attribute):
            continue
        # ``self.loss_func = F.binary_cross_entropy_with_logits`` ... ``self.loss_func(...)``
        r = ctx.prog.origin(c.node.func, c.ev.idx, c.ev.scope)
        if r.node is not c.node.func and isinstance(r.node, ast.Name | ast.Attribute):
            q = canon(ctx.prog.qualname(r.node, r.idx, r.scope))
            if q.startswith("torch") and last(q) in LOSSES and last(q)[0].islower():
                out.append((c, LOSSES[last(q)], r.node.lineno))
                continue
        ctor = ctx.prog.origin_call(c.node.func, c.ev)
        if ctor is not None and ctor.name in LOSSES and ctor.name[0].isupper():
            out.append((c, LOSSES[ctor.name], ctor.node.lineno))
    return out


#: A cross-entropy class of another library (``CrossEntropyLossNM``, ``SoftCrossEntropy``):
#: like torch's, it takes logits and applies the softmax itself. Binary ones are other losses.
_FOREIGN_CE = re.compile(r"^(?!.*(?:Binary|BCE|Focal))\w*CrossEntropy\w*$")


def _foreign_losses(ctx: Ctx, known: set[int]):
    """``loss_fn = CrossEntropyLossNM(...)`` ... ``loss_fn(logits=out, labels=y)``: a
    cross-entropy built by a library the paste only imports. Its kind is read from its name,
    so what it receives is judged at ``warning``."""
    for c in ctx.prog.calls:
        if id(c.node) in known or not isinstance(c.node.func, ast.Name | ast.Attribute):
            continue
        ctor = ctx.prog.origin_call(c.node.func, c.ev)
        if ctor is None or ctor.name in LOSSES or not _FOREIGN_CE.match(ctor.name):
            continue
        if ctor.qual.startswith("torch"):
            continue
        given = c.arg(0, "input") or c.kw("logits") or c.kw("preds") or c.kw("outputs")
        head = tensor_head(ctx, given, c.ev)
        if head is None:
            continue
        link = f"{ctor.name} is taken, from its name, to be a cross-entropy that takes logits"
        yield c, "ce", ctor.node.lineno, replace(head, link=_and(head.link, link))


def _called_losses(ctx: Ctx):
    known = set()
    for call, kind, def_line in loss_calls(ctx):
        known.add(id(call.node))
        yield call, kind, def_line, tensor_head(ctx, call.arg(0, "input"), call.ev)
    # a criterion injected from outside the paste (``self.loss_criterion(output, target)``):
    # its kind is unknown, only a head that changes with the mode can be judged against it,
    # unless the script's own factory says which loss it is (``get_criterion()`` below)
    yield from _foreign_losses(ctx, known)
    factory = _factory_loss(ctx)
    for c in ctx.prog.calls:
        f = c.node.func
        if id(c.node) in known or not isinstance(f, ast.Name | ast.Attribute) or not c.node.args:
            continue
        name = f.id if isinstance(f, ast.Name) else f.attr
        named = re.search(r"(?i)loss|criterion", name) or _backpropagated(ctx, c)
        if not named or ctx.prog.origin_call(f, c.ev):
            continue
        head = tensor_head(ctx, c.node.args[0], c.ev)
        if head is not None and head.eval_only:
            yield c, "injected", c.node.lineno, head
        elif head is not None and factory is not None:
            # inferred: the criterion passed in is the one loss the script's functions build
            link = (
                f"the criterion called is passed in; the script's own {factory[2]}() returns "
                "the only loss it builds, taken to be that criterion"
            )
            yield c, factory[0], factory[1], replace(head, link=_and(head.link, link))


def _backpropagated(ctx: Ctx, c: CallSite) -> bool:
    """``v = fn(out, y)`` ... ``v.backward()`` in the same run: whatever its name, ``fn``
    computes the loss."""
    var = ctx.prog.assigned_name(c.node)
    if var is None or "." in var:
        return False
    return any(
        isinstance(b.node.func.value, ast.Name)
        and b.node.func.value.id == var
        and b.ev.scope == c.ev.scope
        and b.ev.idx > c.ev.idx
        for b in ctx.prog.method_calls("backward")
    )


def _factory_loss(ctx: Ctx) -> tuple[str, int, str] | None:
    """(kind, line, function) of the loss the script's own functions build and return
    (``def get_criterion(...): return nn.CrossEntropyLoss(...).to(device)``); None when they
    return none, or losses of more than one kind, so an injected criterion stays unknown."""
    found = set()
    for fname, fn in ctx.prog.functions.items():
        for n in ast.walk(fn):
            if not isinstance(n, ast.Return) or not isinstance(n.value, ast.Call):
                continue
            call = n.value
            while (  # ``.to(device)`` / ``.cuda()`` return the same criterion
                isinstance(call.func, ast.Attribute)
                and call.func.attr in ("to", "cuda")
                and isinstance(call.func.value, ast.Call)
            ):
                call = call.func.value
            f = call.func
            name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            if name in LOSSES and name[0].isupper():
                found.add((LOSSES[name], n.lineno, fname))
    kinds = {k for k, _, _ in found}
    return min(found) if len(kinds) == 1 else None


_CE_NAMES = {
    "CrossEntropyLoss",
    "CrossEntropyLossFlat",
    "cross_entropy",
    "LabelSmoothingCrossEntropy",
}


def _learner_losses(ctx: Ctx):
    """fastai ``Learner(dls, model, loss_func=CrossEntropyLossFlat())``: the library calls the
    loss on the model's output, so the model's head meets the loss there."""
    ts = torch_script(ctx)
    for c in ctx.prog.calls:
        if c.name != "Learner":
            continue
        loss = c.kw("loss_func")
        site = ctx.prog.origin_call(loss, c.ev) if loss is not None else None
        name = (
            site.name
            if site is not None
            else last(canon(ctx.prog.qualname(loss, c.ev.idx, c.ev.scope) or ""))
            if loss is not None
            else ""
        )
        if name not in _CE_NAMES:
            continue
        net = c.arg(1, "model")
        model = ts.model_of(net, c.ev) if net is not None else None
        head = ts.head(model) if model is not None else None
        if head is None and net is not None:
            head = ts._module_head(net, c.ev)
        if head is not None:
            yield c, "ce", loss.lineno, head
    yield from _wrapper_losses(ctx)


#: Keywords by which a training wrapper receives its loss (skorch ``criterion=``, Keras-like
#: wrappers ``loss=``), and the network it computes that loss on.
_LOSS_KWS = ("criterion", "loss", "loss_fn")
_NET_KWS = ("module", "model", "net", "network")


def _wrapper_losses(ctx: Ctx):
    """``NeuralNetClassifier(MyModule, criterion=nn.CrossEntropyLoss)``: a wrapper given both
    the network (a module class or instance) and a cross-entropy class or instance computes
    that loss on the network's output; which library it is does not matter (inferred, said
    in the link)."""
    ts = torch_script(ctx)
    for c in ctx.prog.calls:
        if c.name == "Learner":
            continue  # fastai, read above
        loss = next((c.kw(k) for k in _LOSS_KWS if c.kw(k) is not None), None)
        if loss is None:
            continue
        site = ctx.prog.origin_call(loss, c.ev)
        name = (
            site.name
            if site is not None
            else last(canon(ctx.prog.qualname(loss, c.ev.idx, c.ev.scope) or ""))
        )
        if name not in _CE_NAMES:
            continue
        nets = [*c.node.args[:1], *(c.kw(k) for k in _NET_KWS if c.kw(k) is not None)]
        for net in nets:
            head = _net_head(ctx, ts, net, c.ev)
            if head is None:
                continue
            link = (
                f"{c.name}() is given the network and the loss {name}, and is taken to "
                "compute that loss on the network's output"
            )
            yield c, "ce", loss.lineno, replace(head, link=_and(head.link, link))
            break


def _net_head(ctx: Ctx, ts, net: ast.expr, at: Event) -> Head | None:
    """The head of a network passed as an instance, or as a module class defined in the code."""
    model = ts.model_of(net, at)
    if model is not None:
        return ts.head(model)
    if isinstance(net, ast.Name) and net.id in ctx.prog.classes:
        return ts._class_head(ctx.prog.classes[net.id])
    return ts._module_head(net, at)


def tensor_head(ctx: Ctx, node: ast.expr | None, at: Event | Ref, depth: int = 0) -> Head | None:
    """What produced a tensor: an activation function, or a model's head."""
    if node is None or depth > 8:
        return None
    ts = torch_script(ctx)
    r = ctx.prog.origin(node, at.idx, at.scope)
    n = r.node
    index = None
    if isinstance(n, ElementOf) and n.index is not None:  # out, aux = model(x)
        index, n = n.index, n.value
        r = ctx.prog.origin(n, r.idx, r.scope)
        n = r.node
    elif isinstance(n, ast.Subscript):  # model(x)[0]: one output of a tuple
        k = ctx.prog.const(n.slice, r.idx, r.scope)
        if not isinstance(k, int) or isinstance(k, bool):
            # probs[mask], logits[:, 5:]: selected elements keep the activation they had
            return tensor_head(ctx, n.value, r, depth + 1)
        index = k
        r = ctx.prog.origin(n.value, r.idx, r.scope)
        n = r.node
    if index is not None:
        if not isinstance(n, ast.Call):
            return None
        model = ts.model_of(n.func, r)
        if model is None or model.cls is None:
            return None
        return ts._class_head(model.cls, index)
    if not isinstance(n, ast.Call):
        return None
    f = n.func
    if isinstance(f, ast.Attribute) and f.attr in _TENSOR_WRAPPERS:
        q = canon(ctx.prog.qualname(f, r.idx, r.scope))
        # torch.transpose(x, 1, 2) versus x.transpose(1, 2)
        inner = (n.args[0] if n.args else None) if q.startswith("torch") else f.value
        head = tensor_head(ctx, inner, r, depth + 1)
        if head is not None and head.activation == "linear" and f.attr in _RESHAPES:
            # scores.view(-1, n_candidates) before the softmax: it runs over another axis
            head = replace(head, units=UNKNOWN, units_inferred=False)
        return head
    if (
        isinstance(f, ast.Attribute)
        and f.attr in _PRODUCTS
        and canon(ctx.prog.qualname(f, r.idx, r.scope)).startswith("torch")
    ):
        return _product_head(ctx, n, r, depth)
    if isinstance(f, ast.Attribute) and f.attr in ("softmax", "log_softmax", "sigmoid"):
        q = canon(ctx.prog.qualname(f, r.idx, r.scope))
        # torch.softmax(x, 1) / F.softmax(x, 1) versus x.softmax(1)
        inner = (n.args[0] if n.args else None) if q.startswith("torch") else f.value
        below = tensor_head(ctx, inner, r, depth + 1) if inner is not None else None
        return Head(ACTIVATIONS[f.attr], below.units if below else UNKNOWN, n.lineno)
    q = last(canon(ctx.prog.qualname(f, r.idx, r.scope)))
    if q in ("softmax", "log_softmax", "sigmoid"):
        below = tensor_head(ctx, n.args[0], r, depth + 1) if n.args else None
        return Head(ACTIVATIONS[q], below.units if below else UNKNOWN, n.lineno)
    mod = ctx.prog.origin_call(f, r)
    if mod is not None and mod.name in ("Softmax", "LogSoftmax", "Sigmoid"):
        below = tensor_head(ctx, n.args[0], r, depth + 1) if n.args else None
        return Head(ACTIVATIONS[mod.name], below.units if below else UNKNOWN, n.lineno)
    if isinstance(f, ast.Attribute) and f.attr == "forward":
        f = f.value  # model.forward(x) runs the same head as model(x)
    model = ts.model_of(f, r)
    if model is not None:
        return ts.head(model)
    assigned = _assigned_head_of_unknown(ctx, f, r)
    if assigned is not None:
        return assigned
    cls = ctx.prog.scope_class.get(r.scope)
    if isinstance(f, ast.Name) and f.id == "self" and cls in ctx.prog.classes:
        return ts._class_head(ctx.prog.classes[cls])  # ``self(x)`` inside the module
    guessed = ts.guess_model(ctx.prog.call_site(n)) if ctx.prog.call_site(n) else None
    if guessed is not None and (pasted := _pasted_module(ctx)) is not None:
        # ``def forward`` pasted without its class: taken to be the network called
        head = ts._class_head(pasted)
        return replace(head, inferred=True) if head is not None else None
    if guessed is not None:
        # ``net(x)`` with ``net`` built outside the paste, and the paste defines exactly one
        # module with a forward(): inferred to be that module
        modules = [
            c
            for c in ctx.prog.classes.values()
            if any(isinstance(f, ast.FunctionDef) and f.name == "forward" for f in c.body)
        ]
        if len(modules) > 1:
            # several modules: the one whose forward() takes as many inputs as the call gives
            # (``model(context, candidates)``), when only one does
            modules = [c for c in modules if _takes(c, len(n.args))]
        if len(modules) == 1:
            head = ts._class_head(modules[0])
            return replace(head, inferred=True) if head is not None else None
    return None


def _takes(cls: ast.ClassDef, k: int) -> bool:
    """Whether ``cls.forward`` accepts ``k`` positional inputs besides ``self``."""
    fwd = next(f for f in cls.body if isinstance(f, ast.FunctionDef) and f.name == "forward")
    if fwd.args.vararg is not None:
        return False  # any number: says nothing
    params = len(fwd.args.args) - 1
    return params - len(fwd.args.defaults) <= k <= params


def _product_head(ctx: Ctx, n: ast.Call, at: Ref, depth: int) -> Head | None:
    """``torch.matmul(p, q.transpose(1, 2))`` with both factors softmax outputs: every score
    is a dot product of two probability vectors, in [0, 1] like a probability itself."""
    tensors = [a for a in n.args if not isinstance(a, ast.Constant)]
    heads = [tensor_head(ctx, a, at, depth + 1) for a in tensors]
    if len(heads) != 2 or any(h is None or h.activation != "softmax" for h in heads):
        return None
    first = heads[0]
    link = (
        f"the loss input is the {n.func.attr}() of two softmax outputs (line {n.lineno}), "
        "so every score lies in [0, 1] as a probability does"
    )
    return replace(first, units=UNKNOWN, link=_and(first.link, link), link_line=n.lineno)


def _assigned_head_of_unknown(ctx: Ctx, f: ast.expr, at: Ref) -> Head | None:
    """``model.classifier = nn.Sequential(..., nn.Softmax(dim=1))`` on a ``model`` built in
    code not shown: its head is the module assigned last before the call (inferred: the
    attribute is taken to be the layer forward() ends with)."""
    if (
        not isinstance(f, ast.Name)
        or f.id in ("self", "cls")
        or ctx.prog.lookup(f.id, at.idx, at.scope) is not None
    ):
        return None
    found = None
    for ev in ctx.prog.events[: at.idx]:
        n = ev.node
        if isinstance(n, ast.Assign) and any(
            isinstance(t, ast.Attribute)
            and t.attr in HEAD_ATTRS
            and isinstance(t.value, ast.Name)
            and t.value.id == f.id
            for t in n.targets
        ):
            found = (n.value, ev)
    if found is None:
        return None
    head = torch_script(ctx)._module_head(*found)
    return replace(head, inferred=True) if head is not None else None


def _pasted_module(ctx: Ctx) -> ast.ClassDef | None:
    """The module whose methods were pasted without their ``class`` line: a top-level
    ``def forward(self, ...)`` (with ``__init__`` when it is there)."""
    fwd = ctx.prog.functions.get("forward")
    if fwd is None or not fwd.args.args or fwd.args.args[0].arg != "self":
        return None
    body = [f for f in (ctx.prog.functions.get("__init__"), fwd) if f is not None]
    return ast.ClassDef(name="<pasted>", bases=[], keywords=[], body=body, decorator_list=[])


@check("torch.head")
def check_head(ctx: Ctx) -> None:
    """GL201 double softmax; GL202 one-unit softmax / CE; GL203 activation-loss mismatches."""
    if not uses_torch(ctx):
        return
    ts = torch_script(ctx)
    for model in ts.models:
        head = ts.head(model)
        if head and head.activation == "softmax" and head.units == 1:
            _single(ctx, [head.line], "softmax", head)
    for call, kind, def_line, head in [*_learner_losses(ctx), *_called_losses(ctx)]:
        if head is None or not once(ctx, "torch.head", head.line, kind):
            continue  # the same output and loss, reached from the training and the eval loop
        lines = [head.line, *([head.link_line] if head.link_line else []), def_line]
        lines.append(call.node.lineno)
        act = head.activation
        if kind == "injected" and act in ("softmax", "sigmoid"):
            ctx.add(
                "GL201",
                "double-softmax",
                "warning",
                f"In eval mode the model returns {act} outputs, and the same loss is computed on "
                "them",
                lines,
                f"forward() applies {act} only when not self.training, and the validation pass "
                "computes the training criterion on that output. Losses for classification "
                "and segmentation (CrossEntropyLoss, BCEWithLogitsLoss, Dice with a "
                f"normalisation) apply {act} themselves, so in validation it is applied twice: "
                "the validation loss is not comparable with the training loss, and early "
                "stopping or schedulers reading it are misled (inferred: the criterion is "
                "passed in from code not shown).",
                "Return logits from forward() in both modes and apply the activation only for "
                "predictions and metrics, or compute the validation loss on the logits.",
                [REFS["torch_ce"]],
            )
        elif kind == "ce" and act == "softmax" and head.eval_only:
            ctx.add(
                "GL201",
                "double-softmax",
                "warning",
                "In eval mode the model returns probabilities, and the validation loss applies "
                "softmax again",
                lines,
                "forward() applies softmax only when not self.training, so training losses see "
                "logits but every loss computed after model.eval() gets probabilities, and "
                "CrossEntropyLoss applies log_softmax on top: the validation loss is computed on "
                "softmax(softmax(x)), stays near log(K) and does not follow the training loss; "
                "schedulers and early stopping that read it are misled.",
                "Return logits from forward() in both modes and apply softmax where the "
                "probabilities are needed (prediction, metrics).",
                [REFS["torch_ce"]],
            )
        elif kind == "ce" and act == "softmax":
            ctx.add(
                "GL201",
                "double-softmax",
                "warning" if head.inferred or head.link else "error",
                "CrossEntropyLoss receives probabilities: softmax is applied twice",
                lines,
                "nn.CrossEntropyLoss (and F.cross_entropy) applies log_softmax itself and "
                "expects raw logits. Fed softmax outputs in [0, 1], it computes softmax of "
                "probabilities, which is nearly uniform: the loss stalls near log(K), gradients "
                "are tiny and accuracy creeps up slowly or not at all."
                + (
                    " (Inferred: the network called is not built in the code shown; its "
                    "head is taken to be the module the code defines or assigns to it.)"
                    if head.inferred
                    else ""
                )
                + (f" (Inferred: {head.link}.)" if head.link else ""),
                "Return logits from the model (remove nn.Softmax / F.softmax before the loss) "
                "and apply softmax only for reporting: probs = logits.softmax(dim=1).",
                [REFS["torch_ce"]],
            )
        elif kind == "ce" and head.units == 1:
            _single(ctx, lines, "cross-entropy", head)
        elif kind == "nll" and act in ("softmax", "linear"):
            _mismatch(
                ctx,
                lines,
                "error",
                f"NLLLoss on {act} outputs",
                "nn.NLLLoss expects log-probabilities (log_softmax outputs); on "
                f"{'probabilities' if act == 'softmax' else 'raw logits'} it just "
                "negates the picked value, so the loss is unbounded or meaningless and "
                "training does not converge.",
                "Use nn.CrossEntropyLoss on logits, or end the model with "
                "nn.LogSoftmax(dim=1) for NLLLoss.",
            )
        elif kind == "bce" and act == "linear":
            _mismatch(
                ctx,
                lines,
                "error",
                "BCELoss on raw logits",
                "nn.BCELoss expects probabilities in [0, 1]; the model outputs unbounded "
                "logits, so the loss fails ('all elements of input should be between 0 "
                "and 1') or is computed on meaningless values.",
                "criterion = nn.BCEWithLogitsLoss()  # takes logits, numerically stable",
            )
        elif kind == "bcel" and act == "sigmoid":
            _mismatch(
                ctx,
                lines,
                "warning",
                "BCEWithLogitsLoss after a sigmoid",
                "BCEWithLogitsLoss applies the sigmoid itself; after the model's sigmoid "
                "the outputs are squashed twice into [0.5, 0.73], gradients shrink and "
                "the loss never reaches low values.",
                "Remove the sigmoid from the model (return logits), or use nn.BCELoss.",
            )
        elif kind == "ce" and act == "sigmoid":
            _mismatch(
                ctx,
                lines,
                "warning",
                "CrossEntropyLoss after a sigmoid",
                "CrossEntropyLoss expects logits; sigmoid squashes them into [0, 1], so "
                "the softmax inside the loss is nearly uniform and learning is slow.",
                "Return logits from the model and let CrossEntropyLoss apply softmax.",
            )
        if act == "softmax" and head.units == 1:
            _single(ctx, lines, "softmax", head)
    _include_top(ctx)


def _single(ctx: Ctx, lines: list[int], what: str, head: Head) -> None:
    reported = ctx.cache.setdefault("torch_single_unit", set())
    if lines[0] in reported:
        return  # the same head, already reported from the model's definition
    reported.add(lines[0])
    ctx.add(
        "GL202",
        "single-unit-softmax",
        "warning" if head.units_inferred else "error",
        f"{'Softmax' if what == 'softmax' else 'Cross-entropy'} over a single output unit",
        lines,
        "Softmax over one logit is exp(z)/exp(z) = 1.0 for every image (CrossEntropyLoss "
        "applies that softmax internally): the loss is always 0, no gradient flows and the "
        "prediction is the same class for every input, so accuracy equals that class's share."
        + (
            " (Inferred: the width is that of the last nn.Linear the module defines; what "
            "forward() feeds the softmax was not traced to it. A one-unit scorer whose "
            "outputs are regrouped, one score per candidate or per position, and normalised "
            "over them is correct.)"
            if head.units_inferred
            else ""
        ),
        "Two classes: nn.Linear(in_features, 1) with nn.BCEWithLogitsLoss() and float 0/1 "
        "targets, or nn.Linear(in_features, 2) with nn.CrossEntropyLoss() and integer targets.",
        [REFS["torch_ce"], REFS["torch_bce"]],
    )


def _mismatch(ctx: Ctx, lines, severity: str, title: str, why: str, fix: str) -> None:
    ctx.add(
        "GL203",
        "activation-loss-mismatch",
        severity,
        title,
        lines,
        why,
        fix,
        [REFS["torch_ce"], REFS["torch_bce"], REFS["torch_nll"]],
    )


def _include_top(ctx: Ctx) -> None:
    ts = torch_script(ctx)
    end = len(ctx.prog.events)
    for bb in ts.backbones:
        if bb.kind == "timm" and bb.site.kw("num_classes") is not None:
            continue
        if ts._assigned_head(bb) is not None or any(
            c.name == "reset_classifier" for c in ctx.prog.calls
        ):
            continue
        for n in ast.walk(ctx.src.tree):
            if not isinstance(n, ast.Call) or last(canon(ctx.prog.qualname(n.func, end, 0))) != (
                "Linear"
            ):
                continue
            first = (
                n.args[0]
                if n.args
                else next((k.value for k in n.keywords if k.arg == "in_features"), None)
            )
            if ctx.prog.const(first, end, 0) == 1000:
                ctx.add(
                    "GL204",
                    "include-top",
                    "warning",
                    f"A new layer is stacked on {bb.name}'s 1000 ImageNet logits",
                    [bb.line, n.lineno],
                    f"{bb.name}'s classifier is kept, so the new nn.Linear(1000, ...) learns "
                    "from the 1000 ImageNet class scores instead of the pooled features: "
                    "information that does not map to ImageNet classes is already lost, and "
                    "accuracy plateaus below what the backbone can give.",
                    "Replace the classifier instead of stacking on it:\n"
                    "model.fc = nn.Linear(model.fc.in_features, num_classes)  # ResNet\n"
                    "# timm: timm.create_model(name, pretrained=True, num_classes=num_classes)",
                    [REFS["tv_tutorial"], REFS["tv_models"]],
                )
                return


declare(
    "GL205",
    "binary-loss-multiclass",
    "warning",
    "script",
    "Binary cross-entropy on one-hot targets of a single-label multi-class task",
    (REFS["torch_ce"], REFS["torch_bce"]),
)

_ONE_HOT = {"one_hot", "to_categorical", "get_dummies"}


@check("torch.binary_loss_multiclass")
def check_binary_loss_multiclass(ctx: Ctx) -> None:
    """GL205: BCELoss / BCEWithLogitsLoss with targets made by one-hot encoding one integer
    class per sample (``F.one_hot(y, K)``, ``torch.eye(K)[y]``): a single-label task trained as
    K independent yes/no questions."""
    if not uses_torch(ctx):
        return
    for call, kind, def_line in loss_calls(ctx):
        target = call.arg(1, "target")
        if kind not in ("bce", "bcel") or target is None:
            continue
        made = _one_hot_line(ctx, target, call.ev)
        if not made or not once(ctx, "torch.bce_onehot"):
            continue
        ctx.add(
            "GL205",
            "binary-loss-multiclass",
            "warning",
            "Binary cross-entropy on one-hot targets of single-label classes",
            [def_line, made, call.node.lineno],
            "Each sample has exactly one class (the targets are one-hot encodings of integer "
            "labels), but the loss is binary cross-entropy: it treats every class as an "
            "independent yes/no question. Nothing makes the outputs compete, so thresholded "
            "predictions can name no class or several, and an accuracy computed per output "
            "unit starts at (K-1)/K by predicting 'no' everywhere.",
            "One class per sample: logits = model(x); loss = nn.CrossEntropyLoss()(logits, y) "
            "with the integer labels y (no one-hot), and predictions logits.argmax(1).",
            [REFS["torch_ce"], REFS["torch_bce"]],
        )


def _one_hot_line(ctx: Ctx, node: ast.expr, at: Event) -> int:
    """Line where ``node``'s value is one-hot encoded from integer labels, or 0."""
    for ref in ctx.prog.deps(node, at, limit=20):
        for n in ast.walk(ref.node):
            if isinstance(n, ast.Call):
                name = last(canon(ctx.prog.qualname(n.func, ref.idx, ref.scope) or ""))
                if name in _ONE_HOT or getattr(n.func, "attr", "") in _ONE_HOT:
                    return n.lineno
            if (  # torch.eye(K)[y]
                isinstance(n, ast.Subscript)
                and isinstance(n.value, ast.Call)
                and last(canon(ctx.prog.qualname(n.value.func, ref.idx, ref.scope) or "")) == "eye"
            ):
                return n.lineno
    return 0
