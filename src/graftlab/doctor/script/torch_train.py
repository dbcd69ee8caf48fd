"""PyTorch checks on the training procedure: eval mode, freezing, learning rates, loading."""

from __future__ import annotations

import ast
import re

from graftlab.doctor._checks import declare
from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.common_rules import once, source_text
from graftlab.doctor.script.flow import CallSite, Event, header
from graftlab.doctor.script.frameworks import uses_torch
from graftlab.doctor.script.keras_graph import role_of
from graftlab.doctor.script.knowledge import (
    REFS,
    torchvision_classifier_input,
    torchvision_features,
    torchvision_head_attr,
)
from graftlab.doctor.script.rates import torch_default_lr
from graftlab.doctor.script.torch_graph import TorchModel, _is_module, torch_script

declare(
    "GL226",
    "head-mismatch",
    "error",
    "script",
    "Setting out_features / in_features does not resize a layer",
    (REFS["tv_tutorial"], REFS["tv_models"]),
)

_NO_GRAD = {"no_grad", "inference_mode"}
#: Words in a function's name that say it evaluates or predicts.
_EVAL_WORDS = ("predict", "infer", "eval", "accuracy", "metric", "score", "classify", "detect")
_ACC = re.compile(r"(^|_)acc(_|$)|top1|top5")
#: Methods of a network that run its layers on the inputs they are given, like forward().
_RUNS_NETWORK = re.compile(r"^(generate|encode_\w+|embed\w*|extract_\w*feat\w*|get_\w*features)$")
_ADAPTIVE = {"Adam", "AdamW", "RMSprop", "Adamax", "NAdam", "RAdam", "Adagrad", "Lion"}
_OPTIMIZERS = _ADAPTIVE | {"SGD"}


def _mode_changes(ctx: Ctx) -> list[tuple[int, TorchModel | None, str | None]]:
    """(event idx, model, "train"/"eval"/None) for each ``.train()`` / ``.eval()`` call."""
    ts = torch_script(ctx)
    out = []
    for c in ctx.prog.calls:
        f = c.node.func
        if not isinstance(f, ast.Attribute) or f.attr not in ("train", "eval"):
            continue
        model = ts.model_of(f.value, c.ev)
        if f.attr == "eval":
            mode = "eval"
        elif not c.node.args and not c.node.keywords:
            mode = "train"
        else:
            v = ctx.prog.const(
                (c.node.args or [k.value for k in c.node.keywords])[0], c.ev.idx, c.ev.scope
            )
            mode = {True: "train", False: "eval"}.get(v) if isinstance(v, bool) else None
        out.append((c.ev.idx, model, mode))
    return out


def _grad_free(ctx: Ctx, ev: Event) -> bool:
    for w in ev.withs:
        if isinstance(w, ast.Call):
            name = ctx.prog.qualname(w.func, ev.idx, ev.scope) or ""
            if name.rsplit(".", 1)[-1] in _NO_GRAD:
                return True
            if name.endswith("set_grad_enabled") and w.args:
                # ``set_grad_enabled(phase == 'train')``: off in the evaluation phase
                return ctx.prog.const(w.args[0], ev.idx, ev.scope) is not True
    for fname in ev.funcs:  # @torch.no_grad() / @torch.inference_mode() on the function
        fn = ctx.prog.functions.get(fname)
        for dec in fn.decorator_list if fn else []:
            target = dec.func if isinstance(dec, ast.Call) else dec
            name = ctx.prog.qualname(target, ev.idx, 0) or ""
            if name.rsplit(".", 1)[-1] in _NO_GRAD:
                return True
    return _grad_switched_off(ctx, ev)


def _grad_switched_off(ctx: Ctx, ev: Event) -> bool:
    """``torch.set_grad_enabled(False)`` as a statement earlier in the same function, not
    switched back on before ``ev``."""
    state = None
    for c in ctx.prog.calls:
        if c.ev.idx >= ev.idx or c.ev.funcs != ev.funcs or not c.node.args:
            continue
        if c.name == "set_grad_enabled" and isinstance(c.ev.node, ast.Expr):
            state = ctx.prog.const(c.node.args[0], c.ev.idx, c.ev.scope)
    return state is False


def _trains_in_loop(ctx: Ctx, ev: Event) -> bool:
    """Whether the innermost loop around ``ev`` in the same function runs backward()."""
    own = [i for i in ev.loops if ctx.prog.events[i].funcs == ev.funcs]
    return bool(own) and ctx.prog.loop_trains(own[-1])


def _feeds_backward(ctx: Ctx, ev: Event) -> bool:
    """Whether the value computed at ``ev`` (inside a helper) reaches a ``.backward()`` of
    the loop around it."""
    loop = ev.loops[-1]
    end = ctx.prog.loop_end.get(loop, loop)
    for c in ctx.prog.method_calls("backward"):
        if not loop <= c.ev.idx <= end or not isinstance(c.node.func, ast.Attribute):
            continue
        if any(r.idx == ev.idx for r in ctx.prog.deps(c.node.func.value, c.ev, limit=40)):
            return True
    return False


def _phase(ctx: Ctx, ev: Event) -> str | None:
    """``for phase in ['train', 'val']: ... for x, y in loaders[phase]:`` - the loop runs the
    evaluation split too, although it also trains (the torchvision tutorial's shape)."""
    prog = ctx.prog
    for idx in ev.loops:
        loop = prog.events[idx].node
        subs = [n for n in ast.walk(getattr(loop, "iter", ast.Constant(None)))]
        keys = {
            n.slice.id
            for n in subs
            if isinstance(n, ast.Subscript) and isinstance(n.slice, ast.Name)
        }
        for outer in ev.loops:
            o = prog.events[outer].node
            if outer >= idx or not isinstance(o, ast.For) or not isinstance(o.target, ast.Name):
                continue
            if o.target.id not in keys:
                continue
            splits = prog.const(o.iter, outer, prog.events[outer].scope)
            if isinstance(splits, list | tuple):
                evals = [k for k in splits if isinstance(k, str) and role_of(k) in ("val", "test")]
                if evals:
                    return f"in the {evals[0]!r} phase of the loop over {ast.unparse(loop.iter)}"
    return None


_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _comprehension_iters(ev: Event, call: ast.Call | None) -> list[ast.expr]:
    """What the comprehensions around ``call`` iterate, innermost last: ``[model(x) for x, _
    in val_loader]`` is a loop of its own, and one that cannot run backward()."""
    if call is None:
        return []
    out: list[ast.expr] = []
    for part in header(ev.node):
        for n in ast.walk(part):
            if isinstance(n, _COMPREHENSIONS) and any(m is call for m in ast.walk(n)):
                out += [g.iter for g in n.generators]
    return out


def _eval_context(ctx: Ctx, ev: Event, call: ast.Call | None = None) -> str | None:
    """Why ``ev`` (the call ``call`` in it, when given) looks like evaluation or inference,
    or None."""
    phase = _phase(ctx, ev)
    if phase is not None:
        return phase
    comprehended = _comprehension_iters(ev, call)
    if not comprehended and _trains_in_loop(ctx, ev):
        return None
    if ev.funcs and ev.loops and _feeds_backward(ctx, ev):
        return None  # ``probs = classify(model, x)`` whose output the training loss uses
    if _grad_free(ctx, ev):
        return "under torch.no_grad()"
    for fn in reversed(ev.funcs):
        name = fn.rsplit(".", 1)[-1].lower()
        if (
            role_of(fn) in ("val", "test")
            or any(w in name for w in _EVAL_WORDS)
            or _ACC.search(name)
        ):
            return f"in {fn}()"
    ts = torch_script(ctx)
    loops = [(getattr(ctx.prog.events[i].node, "iter", None), ctx.prog.events[i]) for i in ev.loops]
    for it, at in [*loops, *((it, ev) for it in comprehended)]:
        text = ast.unparse(it) if it is not None else ""
        if role_of(text) in ("val", "test"):
            return f"in the loop over {text}"
        role = _loader_role(ctx, ts, it, at)
        if role in ("val", "test"):
            return f"in the loop over the {role} data ({text})"
    return None


def _inference(ctx: Ctx, ev: Event, model: TorchModel) -> str | None:
    """A model with trained weights run on data in a script that never trains (a prediction
    demo, an inference script)."""
    if _never_trains(ctx) and (model.pretrained or _weights_loaded(ctx, model)):
        return "at inference: the script never trains"
    return None


_RANDOM_TENSORS = frozenset({"randn", "rand", "zeros", "ones", "empty", "randint", "full"})


def _probe(ctx: Ctx, c: CallSite) -> bool:
    """``model(torch.randn(64, 3, 224, 224))``: a forward pass on a made-up tensor checks
    shapes; its outputs are not a prediction, so the mode they were computed in does not
    matter."""
    made = ctx.prog.origin_call(c.node.args[0], c.ev)
    return made is not None and made.qual.startswith("torch.") and made.name in _RANDOM_TENSORS


def _never_trains(ctx: Ctx) -> bool:
    prog = ctx.prog
    return not prog.method_calls("backward") and not any(
        c.name in ("fit", "Trainer", "train_one_epoch", "train_epoch") for c in prog.calls
    )


def _weights_loaded(ctx: Ctx, model: TorchModel) -> bool:
    """``model.load_state_dict(...)`` on this model somewhere in the script."""
    ts = torch_script(ctx)
    for c in ctx.prog.method_calls("load_state_dict"):
        recv = c.node.func.value
        if ts.model_of(recv, c.ev) is model:
            return True
        if model.kind == "inferred" and ast.unparse(recv) == model.name:
            return True  # a network built by a constructor the paste does not include
    return False


def _loader_role(ctx: Ctx, ts, it: ast.expr | None, ev: Event) -> str | None:
    """The role of the DataLoader a loop iterates (through ``enumerate``/``tqdm``), read from
    its dataset (``CIFAR10(train=False)``, ``ImageFolder('data/val')``)."""
    if it is None:
        return None
    for n in ast.walk(it):
        if not isinstance(n, ast.Name):
            continue
        for call, ds, role in ts.loaders():
            site = ctx.prog.origin_call(n, ev)
            if site is None or site.node is not call.node:
                continue
            if role:
                return role
            if ds is not None:
                train = ctx.prog.const(ds.site.kw("train"), ds.site.ev.idx, ds.site.ev.scope)
                if train is False:
                    return "test"
    return None


@check("torch.eval_mode")
def check_eval_mode(ctx: Ctx) -> None:
    """GL230 evaluation without model.eval(); GL231 evaluation that keeps autograd on."""
    if not uses_torch(ctx):
        return
    ts = torch_script(ctx)
    changes = _mode_changes(ctx)
    if any(
        isinstance(ev.node, ast.Expr)
        and isinstance(ev.node.value, ast.Attribute)
        and ev.node.value.attr == "eval"
        for ev in ctx.prog.events
    ):
        return  # ``model.eval`` without (): the cause, reported by check_mode_not_called
    for c in ctx.prog.calls:
        if isinstance(c.node.func, ast.Call):
            continue
        if _in_module_method(ctx, c.ev):
            continue  # forward / training_step: the caller (or Lightning) sets the mode
        f = c.node.func
        if isinstance(f, ast.Attribute) and f.attr == "forward":  # net.forward(x)
            model = ts.model_of(f.value, c.ev)
        elif isinstance(f, ast.Attribute) and _RUNS_NETWORK.match(f.attr) and c.node.args:
            # model.generate(pixels) (Hugging Face), model.encode_image(images) (CLIP),
            # model.extract_features(x): methods that run the network's layers on the batch
            as_call = ast.Call(func=f.value, args=c.node.args, keywords=[])
            ast.copy_location(as_call, c.node)
            model = ts.model_of(f.value, c.ev) or ts.guess_model(
                CallSite(as_call, c.ev, c.qual, c.prog)
            )
        else:
            model = ts.model_of(f, c.ev) or ts.guess_model(c)
        if model is None or (model.site.node is c.node and model.kind != "inferred"):
            continue
        if ".detection." in model.site.qual and len(c.node.args) >= 2:
            continue  # detection models return their losses only in training mode
        why = _eval_context(ctx, c.ev, c.node) or (
            _inference(ctx, c.ev, model) if c.node.args and not _probe(ctx, c) else None
        )
        if why is None:
            continue
        mode = "train"
        for idx, m, new in changes:
            if idx < c.ev.idx and (m is None or m is model):
                mode = new
        if not once(ctx, "torch.eval_mode", mode == "train", id(model.site.node)):
            continue  # one finding per model, however many evaluation calls
        if mode == "train":
            heavy = _has_bn_or_dropout(ctx, model) and model.kind not in ("loaded", "inferred")
            ctx.add(
                "GL230",
                "eval-mode-missing",
                "error" if heavy else "warning",
                f"The model is evaluated in training mode ({why}, no model.eval())",
                [c.node.lineno, model.line],
                "nn.Module starts in training mode and stays there until model.eval() is "
                "called. In training mode Dropout drops activations at random and BatchNorm "
                "normalises with the statistics of the current evaluation batch (and updates "
                "its running averages with them), so validation/test predictions are noisy, "
                "depend on the batch size and composition, and are lower than the model's "
                "real accuracy." + _inferred_mode(model),
                "model.eval()\nwith torch.no_grad():\n    outputs = model(inputs)\n"
                "# and call model.train() again before the next training epoch",
                [REFS["torch_eval"]],
            )
        elif not _grad_free(ctx, c.ev) and not why.startswith("under") and not _generates(c):
            ctx.add(
                "GL231",
                "eval-mode-missing",
                "info",
                f"Evaluation without torch.no_grad() ({why})",
                [c.node.lineno],
                "Autograd records every operation of the evaluation forward pass: memory and "
                "time grow for nothing (results are the same).",
                "with torch.no_grad():  # or torch.inference_mode()\n    outputs = model(x)",
                [REFS["torch_nograd"]],
            )
    _never_switched(ctx)


def _generates(c: CallSite) -> bool:
    """``model.generate(...)``: Hugging Face runs it without gradients already."""
    return isinstance(c.node.func, ast.Attribute) and c.node.func.attr == "generate"


def _never_switched(ctx: Ctx) -> None:
    """GL230 (inferred): a pretrained model in code that never trains, feeds it data through a
    DataLoader and never calls ``.eval()``: whatever evaluates it runs in training mode."""
    ts = torch_script(ctx)
    if any(f.code == "GL230" for f in ctx.findings) or not _never_trains(ctx):
        return
    if _mode_changes(ctx) or any(c.name in ("eval", "train") for c in ctx.prog.calls):
        return
    models = [m for m in ts.models if m.pretrained and m.kind != "hub"]
    loaders = [c for c, _, _ in ts.loaders()]
    if not models or not loaders or not _has_bn_or_dropout(ctx, models[0]):
        return
    m = models[0]
    ctx.add(
        "GL230",
        "eval-mode-missing",
        "warning",
        f"The pretrained {m.name} is never switched to eval mode",
        [m.line, loaders[0].node.lineno],
        "The code loads pretrained weights and a DataLoader but never trains and never calls "
        "model.eval(): nn.Module starts in training mode, so when it is evaluated BatchNorm "
        "normalises with each batch's statistics (with batch_size=1, a single image's) and "
        "Dropout stays active; accuracy is far below the published one (inferred: the "
        "evaluation itself is not in the code shown).",
        "model.eval()  # right after loading the weights\nwith torch.no_grad():\n"
        "    outputs = model(inputs)",
        [REFS["torch_eval"]],
    )


def _in_module_method(ctx: Ctx, ev: Event) -> bool:
    cls = ctx.prog.scope_class.get(ev.scope)
    node = ctx.prog.classes.get(cls) if cls else None
    return node is not None and _is_module(node)


def _inferred_mode(model: TorchModel) -> str:
    if model.kind == "loaded":
        return (
            " (Inferred: torch.load restores the mode the model was saved in; nothing in this "
            "script calls model.eval() before evaluating it, so a model saved during training "
            "is evaluated in training mode.)"
        )
    if model.kind == "inferred":
        return (
            f" (Inferred: {model.name} is not built in the code shown; it is called like a "
            "network on evaluation batches and model.eval() is never called on it.)"
        )
    return ""


def _has_bn_or_dropout(ctx: Ctx, model: TorchModel) -> bool:
    if model.kind in ("torchvision", "timm"):
        return True
    text = ast.unparse(model.cls) if model.cls is not None else ast.unparse(model.site.node)
    return any(w in text for w in ("BatchNorm", "Dropout", "resnet", "efficientnet", "timm"))


def _optimizers(ctx: Ctx) -> list[CallSite]:
    return [
        c
        for c in ctx.prog.calls
        if c.name in _OPTIMIZERS and c.qual.startswith(("torch.optim", *_OPTIMIZERS))
    ]


def _grad_sets(ctx: Ctx) -> list[tuple[Event, bool]]:
    """``p.requires_grad = True/False`` and ``requires_grad_(...)`` in execution order."""
    out = []
    for ev in ctx.prog.events:
        n = ev.node
        if isinstance(n, ast.Assign) and any(
            isinstance(t, ast.Attribute) and t.attr == "requires_grad" for t in n.targets
        ):
            v = ctx.prog.const(n.value, ev.idx, ev.scope)
            if isinstance(v, bool):
                out.append((ev, v))
    for c in ctx.prog.method_calls("requires_grad_"):
        v = ctx.prog.const(c.node.args[0], c.ev.idx, c.ev.scope) if c.node.args else True
        if isinstance(v, bool):
            out.append((c.ev, v))
    return sorted(out, key=lambda s: s[0].idx)


def _filtered(node: ast.expr | None) -> bool:
    """Parameters restricted to trainable ones or to a sub-module (``model.fc.parameters()``)."""
    if node is None:
        return False
    text = ast.unparse(node)
    if "requires_grad" in text:
        return True
    return any(f".{a}.parameters()" in text for a in ("fc", "classifier", "head", "heads"))


@check("torch.optimizer")
def check_optimizer(ctx: Ctx) -> None:
    """GL220 optimizer built before unfreezing; GL224 one high lr over a pretrained model."""
    if not uses_torch(ctx):
        return
    ts = torch_script(ctx)
    opts = _optimizers(ctx)
    sets = _grad_sets(ctx)
    for opt in opts:
        params = opt.arg(0, "params")
        r = ctx.prog.origin(params, opt.ev.idx, opt.ev.scope) if params is not None else None
        if (
            r is not None
            and isinstance(r.node, ast.List)
            and any(isinstance(e, ast.Dict) for e in r.node.elts)
        ):
            continue  # parameter groups: the user chose rates per group
        resolved = r.node if r is not None else params
        later = [ev for ev, v in sets if v and ev.idx > opt.ev.idx]
        if _filtered(resolved) and later:
            rebuilt = [o for o in opts if o.ev.idx > later[0].idx] or [
                c for c in ctx.prog.method_calls("add_param_group") if c.ev.idx > later[0].idx
            ]
            if not rebuilt:
                ctx.add(
                    "GL220",
                    "trainable-not-applied",
                    "error",
                    "Layers are unfrozen after the optimizer was built over the trainable "
                    "parameters only",
                    [opt.node.lineno, later[0].node.lineno],
                    "The optimizer only holds the parameters that were trainable when it was "
                    "created. Setting requires_grad=True later makes autograd compute their "
                    "gradients, but optimizer.step() never updates them: the 'fine-tuning' "
                    "phase trains the head only (and wastes time on backward passes).",
                    "After unfreezing, build a new optimizer (with a lower rate for the "
                    "backbone) or add the new parameters:\noptimizer.add_param_group("
                    "{'params': model.layer4.parameters(), 'lr': 1e-4})",
                    [REFS["torch_optim"]],
                )
        _learning_rate(ctx, ts, opt, resolved, sets, later)


def _learning_rate(ctx, ts, opt, resolved, sets, later) -> None:
    if resolved is None or not isinstance(resolved, ast.Call) or _filtered(resolved):
        return
    f = resolved.func
    if not (isinstance(f, ast.Attribute) and f.attr == "parameters"):
        return
    model = ts.model_of(f.value, opt.ev)
    backbone = ts.contains_backbone(model) if model else None
    if backbone is None:
        return
    frozen = [ev for ev, v in sets if not v and ev.idx < opt.ev.idx]
    if frozen and not later:
        return  # frozen backbone: only the head trains with this rate
    lr_node = opt.arg(1, "lr")
    lr = (
        torch_default_lr(opt.name)
        if lr_node is None
        else ctx.prog.const(lr_node, opt.ev.idx, opt.ev.scope)
    )
    if not isinstance(lr, int | float):
        return
    if not ((opt.name in _ADAPTIVE and lr >= 1e-3) or (opt.name == "SGD" and lr >= 0.01)):
        return
    ctx.add(
        "GL224",
        "learning-rate",
        "warning",
        f"One learning rate ({opt.name} lr={lr:g}) for the pretrained {backbone.name} and "
        "the new head",
        [opt.node.lineno, backbone.line],
        f"lr={lr:g} suits a randomly initialised head, not pretrained layers: updates that "
        "size overwrite the ImageNet features in the first epochs, and the random head's large "
        "early gradients flow into the backbone. Fine-tuning then ends below the linear probe "
        "(Kumar et al. 2022, LP-FT).",
        "Use parameter groups (or fit the head first, then fine-tune):\n"
        "optimizer = torch.optim.AdamW([\n"
        "    {'params': backbone_params, 'lr': 1e-5},\n"
        "    {'params': model.fc.parameters(), 'lr': 1e-3},\n], weight_decay=0.05)",
        [REFS["lpft"], REFS["torch_optim"], REFS["ulmfit"]],
    )


#: How a script names the linear-evaluation protocol (a linear classifier on frozen features).
_LINEAR_EVAL = re.compile(
    r"(?i)\blinear[ _-]?(?:eval(?:uation)?|prob(?:e|ing)|classification)\b|"
    r"\blincls\b"
)


@check("torch.batchnorm")
def check_batchnorm(ctx: Ctx) -> None:
    """GL222: a frozen backbone in training mode still updates BatchNorm statistics."""
    if not uses_torch(ctx):
        return
    ts = torch_script(ctx)
    frozen = [ev for ev, v in _grad_sets(ctx) if not v]
    if not frozen or any(v for _, v in _grad_sets(ctx)):
        return
    if ts.backbones:
        bb = ts.backbones[0]
        if bb.kind == "torchvision" and bb.name.startswith(("vgg", "alexnet", "vit_", "swin_")):
            return
        what, inferred = bb.name, ""
    elif ctx.prog.method_calls("load_state_dict") or any(
        m.pretrained for m in ts.models if m.kind in ("hub", "pretrained", "loaded")
    ):
        what = "loaded backbone"
        inferred = (
            " (Inferred: the backbone's architecture is not in the code shown; most CNN "
            "backbones have BatchNorm layers.)"
        )
    else:
        return
    trains = [idx for idx, _, mode in _mode_changes(ctx) if mode == "train"]
    if not trains or _handles_bn(ctx.src.tree):
        return
    # info, not warning: the official torchvision "fixed feature extractor" recipe does this
    # and works; the drift costs accuracy mainly with small batches from a new domain. A
    # linear evaluation of pretrained features (MoCo's main_lincls, SimCLR, DINO) must leave
    # the backbone exactly as it was: there the drift is the bug.
    protocol = _LINEAR_EVAL.search(source_text(ctx))
    if protocol:
        line = source_text(ctx).count("\n", 0, protocol.start()) + 1
        inferred += (
            f" The script says it is a linear evaluation ('{protocol.group(0)}', line {line}): "
            "that protocol measures the pretrained features as they are, and the running "
            "statistics are part of them, so the backbone must run in eval mode."
        )
    # Nothing is trained at all (no backward, no optimizer step, no fit): the passes in
    # training mode change the model only through its BatchNorm running statistics.
    untrained = not any(
        ctx.prog.method_calls(m) for m in ("backward", "step", "fit", "train_on_batch")
    )
    if untrained:
        inferred += (
            " Nothing in the script calls backward(), an optimizer's step() or fit(): the "
            "forward passes in training mode update no weight, only the running statistics, "
            "so the same input gives a different output from one pass to the next."
        )
    ctx.add(
        "GL222",
        "batchnorm",
        "warning" if protocol or untrained else "info",
        f"The frozen {what} is {'run' if untrained else 'trained'} in model.train() mode: its "
        "BatchNorm statistics still change",
        [frozen[0].node.lineno, ctx.prog.events[trains[0]].node.lineno],
        "requires_grad=False stops weight updates, but in training mode BatchNorm layers still "
        "normalise with batch statistics and overwrite their running mean/variance with those "
        "of your data. The 'frozen' features drift during training and differ between "
        "training and evaluation; with small batches this costs accuracy." + inferred,
        "After model.train(), put the frozen part back in eval mode:\n"
        "model.train(); backbone.eval()  # or: for m in model.modules(): "
        "if isinstance(m, nn.BatchNorm2d): m.eval()",
        [REFS["torch_eval"]],
    )


@check("torch.mode_not_called")
def check_mode_not_called(ctx: Ctx) -> None:
    """GL230: ``model.eval`` / ``model.train`` written without parentheses does nothing."""
    if not uses_torch(ctx):
        return
    for ev in ctx.prog.events:
        n = ev.node
        if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Attribute)):
            continue
        if n.value.attr not in ("eval", "train") or not once(ctx, "torch.no_parens", n.lineno):
            continue
        what = ast.unparse(n.value)
        ctx.add(
            "GL230",
            "eval-mode-missing",
            "error",
            f"`{what}` without parentheses does not change the mode",
            [n.lineno],
            f"`{what}` only looks the method up; it is never called, so the model stays in "
            "the mode it was in"
            + (
                ": evaluation runs in training mode (Dropout active, BatchNorm on batch "
                "statistics) and the validation/test numbers are noisy and low."
                if n.value.attr == "eval"
                else ": after an evaluation the model keeps training in eval mode "
                "(Dropout off, BatchNorm statistics frozen)."
            ),
            f"{what}()",
            [REFS["torch_eval"]],
        )


def _head_attribute(ctx: Ctx) -> None:
    """GL226: a new head assigned to an attribute the architecture's forward() never calls
    (``resnet.classifier = ...``, ``vgg.fc = ...``)."""
    ts = torch_script(ctx)
    for ev in ctx.prog.events:
        n = ev.node
        if not isinstance(n, ast.Assign) or len(n.targets) != 1:
            continue
        t = n.targets[0]
        if not (isinstance(t, ast.Attribute) and t.attr in ("fc", "classifier", "head", "heads")):
            continue
        model = ts.model_of(t.value, ev)
        if model is None or model.kind != "torchvision":
            continue
        right = torchvision_head_attr(model.name)
        if right is None or right == t.attr or not once(ctx, "torch.head_attr", n.lineno):
            continue
        once(ctx, "torch.width", model.line)  # the width of a head nobody calls is moot
        obj = ast.unparse(t.value)
        ctx.add(
            "GL226",
            "head-mismatch",
            "error",
            f"{model.name} has no `{t.attr}`: the new head is never called",
            [model.line, n.lineno],
            f"{model.name}'s forward() ends in `{right}`; assigning `{obj}.{t.attr}` adds a "
            "module that nothing calls. The model still outputs the 1000 ImageNet logits, and "
            "the loss is computed on them (or training fails on the label range).",
            f"Replace the classifier the architecture uses: {obj}.{right} = "
            f"nn.Linear({obj}.{right}"
            + ("[-1]" if right == "classifier" else "")
            + ".in_features, num_classes)",
            [REFS["tv_tutorial"], REFS["tv_models"]],
        )


def _head_width(ctx: Ctx) -> None:
    """GL226: a new head whose in_features is not the backbone's feature width."""
    ts = torch_script(ctx)
    for model in ts.models:
        if model.kind != "torchvision" or (width := torchvision_features(model.name)) is None:
            continue
        assigned = ts._assigned_head(model)
        if assigned is None:
            continue
        node, at = assigned
        whole = torchvision_classifier_input(model.name)
        if whole is not None and any(
            isinstance(t, ast.Attribute) and t.attr == "classifier"
            for t in getattr(at.node, "targets", [])
        ):
            width = whole  # model.classifier = Sequential(Linear(25088, ...), ...)
        site = ctx.prog.origin_call(node, at)
        if site is not None and site.name == "Sequential" and site.node.args:
            site = ctx.prog.origin_call(site.node.args[0], site.ev)
        if site is None or site.name != "Linear":
            continue
        given = ctx.prog.const(site.arg(0, "in_features"), site.ev.idx, site.ev.scope)
        if not isinstance(given, int) or given == width or not once(ctx, "torch.width", model.line):
            continue
        ctx.add(
            "GL226",
            "head-mismatch",
            "error",
            f"The new head expects {given} features; {model.name} gives {width}",
            [model.line, site.node.lineno],
            f"{model.name}'s pooled features have {width} channels, but the new nn.Linear "
            f"takes {given}: the first forward pass fails with a shape error (mat1 and mat2 "
            "shapes cannot be multiplied), or, if the head was built for another "
            "architecture, the weights loaded into it do not fit.",
            "Read the width from the layer you replace:\n"
            "model.fc = nn.Linear(model.fc.in_features, num_classes)",
            [REFS["tv_tutorial"], REFS["tv_models"]],
        )


@check("torch.layer_size")
def check_layer_size(ctx: Ctx) -> None:
    """GL226: ``model.fc.out_features = K`` changes a number, not the layer; a new head of
    the wrong width."""
    if not uses_torch(ctx):
        return
    _head_attribute(ctx)
    _head_width(ctx)
    for ev in ctx.prog.events:
        n = ev.node
        if not isinstance(n, ast.Assign):
            continue
        for t in n.targets:
            if not (
                isinstance(t, ast.Attribute)
                and t.attr in ("out_features", "in_features", "out_channels", "num_classes")
                and isinstance(t.value, ast.Attribute | ast.Subscript)
            ):
                continue
            if not once(ctx, "torch.layer_size", n.lineno):
                continue
            where = ast.unparse(t.value)
            ctx.add(
                "GL226",
                "head-mismatch",
                "error",
                f"Setting {ast.unparse(t)} does not resize the layer",
                [n.lineno],
                f"{t.attr} is only an attribute recorded when the layer was built; the weight "
                f"matrix of {where} keeps its shape, so the layer still outputs (or expects) "
                "the old number of units: the pretrained 1000-way head stays in place, the "
                "model predicts 1000 classes and the checkpoint keeps that head.",
                f"Replace the layer: {where} = nn.Linear({where}.in_features, num_classes)",
                [REFS["tv_tutorial"], REFS["tv_models"]],
            )


@check("torch.load")
def check_load(ctx: Ctx) -> None:
    """GL225: load_state_dict(strict=False) whose missing/unexpected keys are never looked at."""
    if not uses_torch(ctx):
        return
    for c in ctx.prog.method_calls("load_state_dict"):
        if ctx.prog.const(c.kw("strict"), c.ev.idx, c.ev.scope) is not False:
            continue
        if not isinstance(c.ev.node, ast.Expr):
            continue  # the result (missing / unexpected keys) is kept
        cited = ctx.src.evidence(c.node.lineno)
        if any(f.code == "GL227" and cited in f.evidence for f in ctx.findings):
            continue  # the head keys dropped on purpose at this load: one finding says it
        ctx.add(
            "GL225",
            "head-mismatch",
            "warning",
            "load_state_dict(strict=False) ignores every key that does not match",
            [c.node.lineno],
            "With strict=False, parameters whose names differ are silently skipped (a renamed "
            "or re-created head, a 'module.' prefix from DataParallel, keys filtered out "
            "before loading): the model keeps random weights there and you fine-tune or "
            "evaluate a different model than the one you saved.",
            "result = model.load_state_dict(state, strict=False)\n"
            "print(result.missing_keys, result.unexpected_keys)  # or drop the head keys "
            "explicitly and load with strict=True",
            [REFS["torch_load"]],
        )


def _handles_bn(tree: ast.Module) -> bool:
    """``isinstance(m, nn.BatchNorm2d)`` anywhere: the script manages BatchNorm itself."""
    return any(
        isinstance(n, ast.Call)
        and isinstance(n.func, ast.Name)
        and n.func.id == "isinstance"
        and len(n.args) == 2
        and "BatchNorm" in ast.unparse(n.args[1])
        for n in ast.walk(tree)
    )
