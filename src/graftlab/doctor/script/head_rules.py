"""Classifier heads that are random where the code expects trained ones (PyTorch).

A new ``nn.Linear`` head is random until it is trained. That is the point of transfer learning,
and a bug when the code never trains it: a head replaced after the weights were loaded and used
straight away for predictions, a self-supervised hub model (SwAV, DINO, MoCo ...) whose ``fc``
was never trained, or a checkpoint loaded with its head keys filtered out when it is the
model's own (resuming, evaluating) rather than an ImageNet backbone.
"""

from __future__ import annotations

import ast
import re

from graftlab.doctor._checks import declare
from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.common_rules import exclusive, once
from graftlab.doctor.script.flow import Event
from graftlab.doctor.script.frameworks import uses_torch
from graftlab.doctor.script.knowledge import REFS, torchvision_head_attr

declare(
    "GL227",
    "head-mismatch",
    "warning",
    "script",
    "Predictions from a classifier head that was never trained",
    (REFS["torch_load"], REFS["tv_models"]),
)

_HEADS = re.compile(r"^(fc|classifier|head|heads|logits|last_linear|_fc|top|out|output|cls)$")
_LOADS = {"load_state_dict", "load_weights", "load_pretrained", "load_checkpoint"}
_SSL_REPOS = re.compile(r"swav|dino|barlowtwins|vicreg|moco|simclr|simsiam|byol|ibot|msn", re.I)
_OWN_CHECKPOINT = re.compile(
    r"resume|checkpoint|ckpt|best|last|epoch|finetuned|(?<!pre)trained", re.I
)
_RESUME = re.compile(r"resum|restart|continue_from|last_checkpoint", re.I)


def _trains(ctx: Ctx) -> bool:
    prog = ctx.prog
    return (
        bool(prog.method_calls("backward"))
        or any(c.name in ("fit", "Trainer", "fit_one_cycle", "fine_tune") for c in prog.calls)
        # a LightningModule: the Trainer that runs it may be in another file
        or any(f.endswith(".training_step") for f in prog.functions)
    )


def _predicts(ctx: Ctx) -> int:
    """A line where a model's outputs are read as predictions (argmax, topk, softmax ...)."""
    for c in ctx.prog.calls:
        if c.name in ("argmax", "topk", "softmax", "max", "predict", "decode_predictions"):
            return c.node.lineno
    return 0


def _head_assign(n: ast.stmt) -> ast.Attribute | None:
    if not isinstance(n, ast.Assign) or len(n.targets) != 1:
        return None
    t = n.targets[0]
    if not isinstance(t, ast.Attribute) or not _HEADS.match(t.attr):
        return None
    v = n.value
    if not isinstance(v, ast.Call):
        return None
    name = v.func.attr if isinstance(v.func, ast.Attribute) else getattr(v.func, "id", "")
    return t if name in ("Linear", "Sequential", "LazyLinear") else None


def _loaded_into(node: ast.stmt) -> str | None:
    """The network a load statement fills: ``net`` of ``net.load_state_dict(...)`` or of
    ``net = resnet18(pretrained=True)``; None when the statement does not say."""
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        return ast.unparse(node.targets[0])
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        f = node.value.func
        if isinstance(f, ast.Attribute) and (f.attr in _LOADS or f.attr.startswith("load_w")):
            return ast.unparse(f.value)
    return None


def _is_load(ctx: Ctx, ev: Event) -> bool:
    """Trained weights arrive here: a load call, ``torch.hub.load``, or a constructor asked
    for pretrained weights (``resnet50(pretrained=True)``, ``weights="DEFAULT"``)."""
    for n in ast.walk(ev.node) if not isinstance(ev.node, ast.For | ast.With | ast.If) else []:
        if not isinstance(n, ast.Call):
            continue
        f = n.func
        name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
        if name in _LOADS or name.startswith("load_weights"):
            return True
        if ast.unparse(f).endswith("hub.load"):
            return True
        for k in n.keywords:
            v = k.value
            if k.arg == "pretrained" and isinstance(v, ast.Constant) and v.value:
                return True
            if k.arg == "weights" and not (isinstance(v, ast.Constant) and v.value is None):
                return True
    return False


def _constructs(node: ast.stmt) -> bool:
    """The statement builds a network (``resnet50(pretrained=True)``) rather than loading
    weights into one that exists."""
    return (
        isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Call)
        and not any(
            isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute)
            and n.func.attr.startswith("load")
            for n in ast.walk(node.value)
        )
    )


@check("torch.untrained_head")
def check_untrained_head(ctx: Ctx) -> None:
    """GL227: a head built after the weights were loaded and never trained; a self-supervised
    hub model used as a classifier; a checkpoint's own head filtered out when loading it."""
    if not uses_torch(ctx):
        return
    trains = _trains(ctx)
    if trains:
        _filtered_own_head(ctx, _RESUME)  # resuming: the trained head is thrown away too
    # a training step placed after the new head trains it; training only before it (train,
    # save, then reload and replace the head to predict) leaves it random
    steps = [
        c.ev.idx
        for c in ctx.prog.calls
        if c.name in ("backward", "fit", "fit_one_cycle", "fine_tune", "train_one_epoch")
    ]
    pred = _predicts(ctx)
    loads = [ev.idx for ev in ctx.prog.events if _is_load(ctx, ev)]
    for ev in ctx.prog.events:
        t = _head_assign(ev.node)
        before = [i for i in loads if i < ev.idx]
        if t is not None:  # loads into another network do not count
            owner = ast.unparse(t.value)
            before = [i for i in before if _loaded_into(ctx.prog.events[i].node) in (owner, None)]
        if t is None or not before or not pred:
            continue
        owner = ast.unparse(t.value)
        if any(  # model.fc = nn.Linear(...); model.load_state_dict(...): the load fills it
            i > ev.idx
            and ctx.prog.events[i].node.lineno < pred
            and _loaded_into(ctx.prog.events[i].node) in (owner, None)
            and not _constructs(ctx.prog.events[i].node)
            for i in loads
        ):
            continue
        if trains and (not steps or max(steps) > ev.idx or pred < ev.node.lineno):
            continue
        if all(exclusive(ctx, ctx.prog.events[i].node, ev.node) for i in before):
            continue  # if resume: load ... else: new head
        if not once(ctx, "head.untrained"):
            return
        load_line = ctx.prog.events[max(i for i in loads if i < ev.idx)].node.lineno
        _add(
            ctx,
            f"{ast.unparse(t)} is replaced by a new layer after the weights are loaded, and "
            "nothing trains it",
            [load_line, ev.node.lineno, pred],
            f"The trained weights are loaded first, then {ast.unparse(t)} is assigned a new, "
            "randomly initialised layer, which throws the trained classifier away. Nothing in "
            "the code trains the new layer, so the predictions are random (and change from "
            "one run to the next).",
            "Build the layer before loading the weights (so they fill it), or keep the loaded "
            "layer; replace a head only when you then train it.",
        )
        return
    if trains:
        return
    for c in ctx.prog.calls:
        if c.qual != "torch.hub.load":
            continue
        repo = ctx.prog.const(c.arg(0, "repo_or_dir"), c.ev.idx, c.ev.scope)
        if isinstance(repo, str) and _SSL_REPOS.search(repo) and once(ctx, "head.ssl"):
            _add(
                ctx,
                f"The self-supervised model from {repo!r} has no trained classifier",
                [c.node.lineno],
                f"{repo} was pretrained without labels: its backbone is trained, but its final "
                "fully connected layer was never trained on ImageNet classes (it is random, or "
                "an identity). Reading class predictions from it gives arbitrary classes that "
                "change from one load to the next.",
                "Use it as a feature extractor (net.fc = nn.Identity()) and train a linear "
                "classifier on its features, or load the repository's linear-evaluation "
                "weights for the classifier.",
            )
    _filtered_own_head(ctx, _OWN_CHECKPOINT)


def _filtered_own_head(ctx: Ctx, own: re.Pattern) -> None:
    """A state dict with the head's keys dropped, loaded from the model's own checkpoint
    (``own`` matches its name or path): the head stays random, or restarts from random when
    training resumes."""
    for c in ctx.prog.method_calls("load_state_dict"):
        arg = c.arg(0, "state_dict")
        if arg is None:
            continue
        refs = ctx.prog.deps(arg, c.ev, limit=20)
        drop = next((r for r in refs if _drops_head_keys(r.node)), None)
        if drop is None:
            continue
        paths = [
            ctx.prog.const(m, r.idx, r.scope)
            for r in refs
            for m in ast.walk(r.node)
            if isinstance(m, ast.Name | ast.Constant | ast.Attribute | ast.JoinedStr)
        ]
        text = (
            " ".join(p for p in paths if isinstance(p, str))
            + " "
            + " ".join(ast.unparse(r.node) for r in refs)
        )
        if not own.search(text) or not once(ctx, "head.filtered"):
            continue
        cited = ctx.src.evidence(c.node.lineno)
        ctx.findings[:] = [  # strict=False at this load is the same cause, said here
            f for f in ctx.findings if not (f.code == "GL225" and cited in f.evidence)
        ]
        _add(
            ctx,
            "The checkpoint is loaded with its classifier keys filtered out",
            [drop.node.lineno if hasattr(drop.node, "lineno") else 0, c.node.lineno],
            "The keys of the classification head are removed before load_state_dict, as one "
            "does when starting from an ImageNet backbone. Here the checkpoint is the model's "
            "own (resumed or evaluated), so its trained head is thrown away and the layer "
            "keeps its random initial weights: predictions are random although the checkpoint "
            "is good (inferred from the checkpoint's name).",
            "Filter the head keys only when loading a backbone trained on other classes; load "
            "your own checkpoints whole: model.load_state_dict(torch.load(path)) (strict=True).",
        )


def _drops_head_keys(node: ast.AST) -> bool:
    """``{k: v for k, v in sd.items() if 'fc' not in k}`` and similar filters."""
    for n in ast.walk(node):
        if isinstance(n, ast.DictComp) and n.generators and n.generators[0].ifs:
            text = " ".join(ast.unparse(i) for i in n.generators[0].ifs)
            if re.search(r"['\"](fc|classifier|head|logits|last_linear|linear)[.'\"]", text):
                return True
    return False


def _add(ctx: Ctx, title: str, lines, why: str, fix: str) -> None:
    ctx.add(
        "GL227",
        "head-mismatch",
        "warning",
        title,
        lines,
        why,
        fix,
        [REFS["torch_load"], REFS["tv_models"]],
    )


declare(
    "GL233",
    "head-mismatch",
    "warning",
    "script",
    "A pretrained model keeps its 1000-class ImageNet head for another task",
    (REFS["tv_tutorial"], REFS["tv_models"]),
)

_NUM_CLASSES = re.compile(r"^(num_?classes|n_?classes|nb_?classes|classes_?num|n_?class)$", re.I)
_KNOWN_K = {"CIFAR10": 10, "MNIST": 10, "FashionMNIST": 10, "CIFAR100": 100, "SVHN": 10}


def _task_classes(ctx: Ctx) -> tuple[str, int] | None:
    """(what, line) saying how many classes the task has, when the code shows it."""
    for ev in ctx.prog.events:
        n = ev.node
        if isinstance(n, ast.Assign) and len(n.targets) == 1:
            t = n.targets[0]
            name = t.id if isinstance(t, ast.Name) else getattr(t, "attr", "")
            v = ctx.prog.const(n.value, ev.idx, ev.scope)
            if _NUM_CLASSES.match(name) and isinstance(v, int) and 2 <= v < 1000:
                return f"{name} = {v}", n.lineno
    for c in ctx.prog.calls:
        if c.name in _KNOWN_K:
            return f"{c.name} has {_KNOWN_K[c.name]} classes", c.node.lineno
        if c.name == "ImageFolder":
            return "ImageFolder's class folders", c.node.lineno
        if c.name in _FASTAI_DATA:
            return f"{c.name}'s labels (dls.c)", c.node.lineno
    return None


_FASTAI_DATA = {
    "from_folder",
    "from_name_func",
    "from_name_re",
    "from_df",
    "from_csv",
    "dataloaders",
}
_FASTAI_NETS = re.compile(r"^x(se_)?res(ne)?t\d+\w*$|^xception\w*$")


def _fastai_default_head(ctx: Ctx, task: tuple[str, int]) -> None:
    """fastai's ``xresnet50()`` (and relatives) given to a ``Learner`` without ``n_out``:
    the network is built with 1000 outputs whatever ``dls.c`` is."""
    for c in ctx.prog.calls:
        if not _FASTAI_NETS.match(c.name) or c.kw("n_out") or c.kw("c_out") or len(c.node.args) > 1:
            continue
        if not once(ctx, "head.never_replaced"):
            return
        ctx.add(
            "GL233",
            "head-mismatch",
            "warning",
            f"{c.name}() is built with its default 1000 outputs",
            [c.node.lineno, task[1]],
            f"fastai's {c.name}() takes the number of outputs from n_out, whose default is "
            f"1000 (ImageNet), not from the data ({task[0]}). Given to Learner directly, the "
            "model trains 1000 logits for a few labels: the unused outputs compete in the "
            "softmax and the metrics are not those of a model sized for the task (inferred "
            "from the constructor call).",
            f"model = {c.name}(n_out=dls.c)  # or vision_learner(dls, arch), which sizes the head",
            [REFS["tv_models"]],
        )


@check("torch.head_never_replaced")
def check_head_never_replaced(ctx: Ctx) -> None:
    """GL233: a torchvision/timm model trained on another task with its ImageNet head."""
    if not uses_torch(ctx) or not _trains(ctx):
        return
    from graftlab.doctor.script.torch_graph import torch_script

    ts = torch_script(ctx)
    task = _task_classes(ctx)
    if task is None:
        return
    _fastai_default_head(ctx, task)
    # built from scratch too: ``resnet18()`` without num_classes ends in 1000 outputs
    for m in (m for m in ts.models if m.kind in ("torchvision", "timm")):
        head = ts.head(m)
        if head is None or head.units != 1000 or _wrapped(ctx, m):
            continue
        if not once(ctx, "head.never_replaced"):
            return
        ctx.add(
            "GL233",
            "head-mismatch",
            "warning",
            f"{m.name} keeps its 1000-class ImageNet classifier",
            [m.line, task[1]],
            f"The {'pretrained ' if m.pretrained else ''}{m.name} still ends in the "
            "ImageNet-sized layer with 1000 outputs, "
            f"and nothing replaces it, while the task has fewer classes ({task[0]}). The loss "
            "trains 1000 logits for a handful of labels: the unused ImageNet classes compete "
            "in the softmax, predictions can land on them, and the classifier starts from "
            "ImageNet's class weights instead of a layer sized for your classes (inferred "
            "from the class count shown).",
            "Replace the head before training:\nmodel.fc = nn.Linear(model.fc.in_features, "
            "num_classes)  # torchvision ResNet\nor timm.create_model(name, pretrained=True, "
            "num_classes=num_classes).",
            [REFS["tv_tutorial"], REFS["tv_models"]],
        )


_PLAIN_USE = {
    "parameters",
    "named_parameters",
    "to",
    "cuda",
    "cpu",
    "train",
    "eval",
    "state_dict",
    "load_state_dict",
    "zero_grad",
    "float",
    "half",
}


def _wrapped(ctx: Ctx, model) -> bool:
    """The model is a part of another module (``nn.Sequential(backbone, head)``, passed to a
    class's constructor, cut with ``children()[:-1]``), whose own head follows it; any use
    beyond calling, moving and optimising it counts."""
    seen: dict[tuple[str, int], bool] = {}  # one origin lookup per name and scope
    for ev in ctx.prog.events:
        for n in ast.walk(ev.node) if not isinstance(ev.node, ast.For | ast.With) else []:
            if not isinstance(n, ast.Attribute) or n.attr in _PLAIN_USE:
                continue
            if not isinstance(n.value, ast.Name):
                continue
            key = (n.value.id, ev.scope)
            if key not in seen:
                site = ctx.prog.origin_call(n.value, ev)
                seen[key] = site is not None and site.node is model.site.node
            if seen[key]:
                return True
    for c in ctx.prog.calls:
        if c.name in ("to", "cuda", "DataParallel", "DistributedDataParallel", "compile"):
            continue
        for a in [*c.node.args, *[k.value for k in c.node.keywords]]:
            site = ctx.prog.origin_call(a, c.ev) if isinstance(a, ast.Name) else None
            same = site is not None and site.node is model.site.node
            if same and (c.name in ctx.prog.classes or c.name[:1].isupper()):
                return True  # nn.Sequential(model, ...), MyNet(model)
    return False


declare(
    "GL221",
    "head-mismatch",
    "error",
    "script",
    "A checkpoint with a new head is loaded into a network that still has the 1000-class head",
    (REFS["torch_load"], REFS["tv_models"]),
)


@check("torch.checkpoint_head")
def check_checkpoint_head(ctx: Ctx) -> None:
    """GL221: ``torch.save(model.state_dict(), path)`` of a network whose head was replaced,
    then ``net.load_state_dict(torch.load(path))`` into the same torchvision/timm family built
    without that head (the prediction script of the same paste)."""
    if not uses_torch(ctx):
        return
    from graftlab.doctor.script.torch_graph import torch_script

    ts = torch_script(ctx)
    saved: dict[str, tuple] = {}
    for c in ctx.prog.calls:
        if c.qual != "torch.save" or len(c.node.args) < 2:
            continue
        path = ctx.prog.const(c.node.args[1], c.ev.idx, c.ev.scope)
        sd = c.node.args[0]
        if not isinstance(path, str) or not (
            isinstance(sd, ast.Call) and getattr(sd.func, "attr", "") == "state_dict"
        ):
            continue
        model = ts.model_of(sd.func.value, c.ev)
        if model is not None and model.kind in ("torchvision", "timm") and _new_head(ts, model):
            saved[path] = (model, c)
    for c in ctx.prog.method_calls("load_state_dict"):
        arg = c.arg(0, "state_dict")
        load = ctx.prog.origin_call(arg, c.ev) if arg is not None else None
        if load is None or load.qual != "torch.load":
            continue
        path = ctx.prog.const(load.arg(0, "f"), load.ev.idx, load.ev.scope)
        target = ts.model_of(c.node.func.value, c.ev)
        if path not in saved or target is None or target.name != saved[path][0].name:
            continue
        if _new_head(ts, target) or not once(ctx, "head.checkpoint", c.node.lineno):
            continue
        model, save = saved[path]
        attr = torchvision_head_attr(target.name) or "fc"
        ctx.add(
            "GL221",
            "head-mismatch",
            "error",
            f"The checkpoint {path!r} has the new head, but {target.name} is rebuilt with the "
            "1000-class ImageNet head before loading it",
            [model.line, save.node.lineno, target.line, c.node.lineno],
            f"The network saved to {path!r} had its classifier replaced for this task, but the "
            f"network it is loaded into is a plain {target.name}() whose classifier still has "
            "1000 outputs: load_state_dict stops with a size mismatch for the head's weight "
            "and bias (or, with strict=False and filtered keys, keeps a random head).",
            "Rebuild the network exactly as it was saved before loading:\n"
            f"net = models.{target.name}()\n"
            f"net.{attr} = nn.Linear(...)  # the same head as in training\n"
            f"net.load_state_dict(torch.load({path!r}))",
            [REFS["torch_load"], REFS["tv_models"]],
        )


def _new_head(ts, model) -> bool:
    """The network's classifier is made for the task: a head assigned after it is built, a
    ``num_classes=`` argument, or ``reset_classifier``."""
    if model.site.kw("num_classes") is not None:
        return True
    if any(
        ts.model_of(c.node.func.value, c.ev) is model
        for c in ts.prog.method_calls("reset_classifier")
    ):
        return True
    return ts._assigned_head(model) is not None
