"""BatchNorm in the wrong mode: batches of one, a forced training flag, a global learning phase.

BatchNorm behaves differently in training (statistics of the current batch, running averages
updated) and in inference (the stored running averages). Three ways people post to get that
wrong whatever the backbone: training with one image per batch (the batch statistics are one
image's, the running averages follow them), forcing ``training=True`` on a layer or backbone
(evaluation then depends on the batch it is in), and switching Keras' global learning phase
(``K.set_learning_phase``) instead of the layer's own flag.
"""

from __future__ import annotations

import ast
import re

from graftlab.doctor._checks import declare
from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.common_rules import once
from graftlab.doctor.script.frameworks import uses_keras, uses_torch
from graftlab.doctor.script.knowledge import KERAS_APPS, REFS, normalises_inside

declare(
    "GL128",
    "batchnorm",
    "warning",
    "script",
    "BatchNorm forced into one mode (training=True, a global learning phase)",
    (REFS["keras_bn"], REFS["keras_tl"]),
)
declare(
    "GL228",
    "batchnorm",
    "warning",
    "script",
    "BatchNorm layers trained with one image per batch",
    (REFS["torch_eval"],),
)

declare(
    "GL240",
    "batchnorm",
    "warning",
    "script",
    "A model summary's forward pass in training mode updates BatchNorm statistics",
    (REFS["torch_eval"],),
)

_BN_CALLS = {"BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm", "BatchNormalization"}
#: Families whose pretrained networks contain BatchNorm layers.
_BN_FAMILIES = re.compile(
    r"resnet|resnext|mobilenet|efficientnet|densenet|shufflenet|inception|regnet|mnasnet|"
    r"xception|nasnet|hrnet|darknet|cspnet|_bn\b|vgg\d+_bn",
    re.I,
)


def _has_bn(ctx: Ctx) -> str | None:
    for c in ctx.prog.calls:
        if c.name in _BN_CALLS:
            return f"{c.name} (line {c.node.lineno})"
    for c in ctx.prog.calls:
        m = _BN_FAMILIES.search(c.name)
        if m:
            return f"{c.name} (line {c.node.lineno}; inferred: that family has BatchNorm layers)"
    return None


def _one_image_batch(ctx: Ctx, node: ast.expr | None, ev) -> bool:
    """``x.unsqueeze(0)``, ``x[None]``, ``torch.unsqueeze(x, 0)``, ``x.view(1, ...)``: a batch
    made of one image (read through the names it is assigned to)."""
    for _ in range(3):
        if node is None:
            return False
        if isinstance(node, ast.Subscript):
            first = node.slice.elts[0] if isinstance(node.slice, ast.Tuple) else node.slice
            return isinstance(first, ast.Constant) and first.value is None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            name, args = node.func.attr, node.args
            if name == "unsqueeze":
                dim = args[-1] if args else None
                return isinstance(dim, ast.Constant) and dim.value == 0
            if name in ("view", "reshape") and args:
                return isinstance(args[0], ast.Constant) and args[0].value == 1
            if name in ("to", "cuda", "float", "cpu"):
                node = node.func.value
                continue
            return False
        if isinstance(node, ast.Name):
            site = ctx.prog.origin_call(node, ev)
            node = site.node if site is not None else None
            continue
        return False
    return False


def _single_image_steps(ctx: Ctx) -> list[tuple[int, str]]:
    """(line, what) of a model called on a batch of one image in a loop that trains: the
    loop runs over the dataset itself, one sample at a time, with no DataLoader."""
    from graftlab.doctor.script.torch_graph import torch_script
    from graftlab.doctor.script.torch_train import _feeds_backward

    ts = torch_script(ctx)
    for c in ctx.prog.calls:
        if not c.node.args or not c.ev.loops or not ctx.prog.loop_trains(c.ev.loops[-1]):
            continue
        if ts.model_of(c.node.func, c.ev) is None:
            continue
        if _one_image_batch(ctx, c.node.args[0], c.ev) and _feeds_backward(ctx, c.ev):
            return [(c.node.lineno, "The training loop feeds the network one image at a time")]
    return []


def _handles_bn(tree: ast.Module) -> bool:
    """The script puts BatchNorm layers in eval mode or freezes their statistics itself."""
    for n in ast.walk(tree):
        check_type = isinstance(n, ast.Call) and getattr(n.func, "id", "") == "isinstance"
        if check_type and len(n.args) == 2 and "BatchNorm" in ast.unparse(n.args[1]):
            return True
        if isinstance(n, ast.Name | ast.Attribute) and "FrozenBatchNorm" in ast.unparse(n):
            return True
        if isinstance(n, ast.keyword) and n.arg in ("track_running_stats", "norm_layer"):
            return True
    return False


@check("torch.batchnorm_batch1")
def check_batch_of_one(ctx: Ctx) -> None:
    """GL228: a training DataLoader with batch_size=1 feeding a network with BatchNorm layers."""
    if not uses_torch(ctx):
        return
    from graftlab.doctor.script.torch_graph import torch_script
    from graftlab.doctor.script.torch_roles import loops_over

    if _handles_bn(ctx.src.tree) or any(normalises_inside(c.name) for c in ctx.prog.calls):
        return  # torchvision's detection models freeze their BatchNorm (FrozenBatchNorm2d)
    bn = None
    batches = [
        (call.node.lineno, "The training DataLoader gives batches of one image")
        for call, _ds, role in torch_script(ctx).loaders()
        if role not in ("val", "test")
        and ctx.prog.const(call.arg(1, "batch_size"), call.ev.idx, call.ev.scope) == 1
        and any(i >= 0 and ctx.prog.loop_trains(i) for i in loops_over(ctx.prog, call))
    ]
    batches += _single_image_steps(ctx)
    for line, what in batches:
        bn = bn or _has_bn(ctx)
        if bn is None or not once(ctx, "torch.bn1"):
            return
        ctx.add(
            "GL228",
            "batchnorm",
            "warning",
            "BatchNorm layers are trained with one image per batch",
            [line],
            f"{what}, and the network has "
            f"BatchNorm layers ({bn}). In training mode each BatchNorm normalises with the "
            "mean and variance of that single image and moves its running statistics toward "
            "them: the statistics are noisy, a pretrained backbone's ImageNet statistics are "
            "overwritten, and the model behaves differently (usually worse) in eval mode than "
            "during training.",
            "Use a larger batch (>= 8), or keep BatchNorm in eval mode while training: after "
            "model.train(): for m in model.modules():\n    if isinstance(m, nn.BatchNorm2d): "
            "m.eval()\n(or replace BatchNorm by GroupNorm / FrozenBatchNorm2d).",
            [REFS["torch_eval"]],
        )
        return


declare(
    "GL129",
    "eval-mode-missing",
    "error",
    "script",
    "A Keras model predicts in training mode (learning phase 1 or training=True)",
    (REFS["keras_bn"], REFS["keras_tl"]),
)
_KERAS_TRAINS = {"fit", "fit_generator", "train_on_batch", "apply_gradients", "GradientTape"}


def _predicts_in_training_mode(ctx: Ctx) -> bool:
    """GL129: a script that never trains sets the learning phase to 1, or calls the model
    with training=True, and predicts: Dropout drops units and BatchNorm uses each batch's
    statistics at inference, the Keras form of a missing model.eval()."""
    if any(c.name in _KERAS_TRAINS for c in ctx.prog.calls):
        return False
    preds = [c for c in ctx.prog.calls if c.name in ("predict", "evaluate", "predict_on_batch")]
    lines = []
    for c in ctx.prog.calls:
        if c.name == "set_learning_phase" and preds:
            v = ctx.prog.const(c.arg(0, "value"), c.ev.idx, c.ev.scope)
            if v in (1, True):
                lines.append(c.node.lineno)
        kw = next((k for k in c.node.keywords if k.arg == "training"), None)
        forced = kw is not None and isinstance(kw.value, ast.Constant) and kw.value.value is True
        if forced and (preds or c.ev.loops) and not _training_step(c.ev):
            lines.append(c.node.lineno)
    if not lines:
        return False
    # a model loaded from a file is only used here: the script is an inference script
    loaded = any(c.name in ("load_model", "load_weights") for c in ctx.prog.calls)
    ctx.add(
        "GL129",
        "eval-mode-missing",
        "error" if loaded else "warning",
        "The model predicts in training mode",
        [*lines[:2], *[p.node.lineno for p in preds[:1]]],
        "This code only runs the model for predictions, but forces the training phase "
        "(K.set_learning_phase(1) or training=True): Dropout keeps dropping units at random "
        "and BatchNormalization normalises with each batch's own statistics instead of its "
        "moving averages, so the predictions change from run to run and with the batch, and "
        "are worse than the accuracy measured in training."
        + ("" if loaded else " (Inferred: no training is shown, so this is read as inference.)"),
        "Predict in inference mode: remove K.set_learning_phase(1) and training=True "
        "(model.predict(x) and model(x, training=False) use the inference behaviour).",
        [REFS["keras_bn"], REFS["keras_tl"]],
    )
    return True


@check("keras.batchnorm_forced")
def check_forced_mode(ctx: Ctx) -> None:
    """GL128: ``training=True`` forced on BatchNorm or a backbone; ``K.set_learning_phase``;
    GL129 when the script only predicts."""
    if not uses_keras(ctx) or _predicts_in_training_mode(ctx):
        return
    for c in ctx.prog.calls:
        if c.name == "set_learning_phase" and once(ctx, "keras.learning_phase"):
            bn = _has_bn(ctx)
            if bn is None:
                continue
            ctx.add(
                "GL128",
                "batchnorm",
                "warning",
                "The global learning phase switches BatchNorm between batch and moving statistics",
                [c.node.lineno],
                "K.set_learning_phase() decides for every BatchNormalization layer at once "
                f"whether it uses the current batch's statistics (1) or its moving averages (0); "
                f"the network has BatchNorm layers ({bn}). After a short fine-tuning the moving "
                "averages still hold ImageNet's statistics (momentum 0.99), so the same model "
                "scores well in one phase and badly in the other: what fit() reported is not "
                "what the saved model does.",
                "Do not set the learning phase by hand. Freeze the backbone's BatchNorm layers "
                "and call it with training=False (tf.keras): x = base_model(inputs, "
                "training=False); or fine-tune long enough (and with large enough batches) for "
                "the moving statistics to follow the new data.",
                [REFS["keras_bn"], REFS["keras_tl"]],
            )
    for n, line in _forced_training(ctx):
        if once(ctx, "keras.forced_training"):
            ctx.add(
                "GL128",
                "batchnorm",
                "warning",
                "BatchNorm is forced into training mode (training=True)",
                [line],
                f"{n} is called with training=True, so its BatchNorm layers use the statistics "
                "of the current batch also in evaluate() and predict(): predictions depend on "
                "which other images share the batch, a batch of one gives garbage, and frozen "
                "layers keep updating their moving averages in fit().",
                "Let Keras pass the flag (omit training=, or pass the training argument of "
                "call() through), and call a frozen pretrained backbone with training=False.",
                [REFS["keras_bn"], REFS["keras_tl"]],
            )


def _training_step(ev) -> bool:
    """The call runs in a custom training step, where ``training=True`` is what it should
    be: under ``with tf.GradientTape()`` or in a function named like a training step."""
    if any("GradientTape" in ast.unparse(w) for w in ev.withs):
        return True
    return any("train" in f.rsplit(".", 1)[-1].lower() for f in ev.funcs)


def _overrides_flag(value: ast.expr) -> bool:
    """``training=True`` or ``training=not self.freeze``: a flag that ignores the mode Keras
    passes in (``training=False`` freezes the statistics on purpose; passing the
    ``training`` argument through is correct)."""
    if isinstance(value, ast.Constant):
        return value.value is True
    names = {n.id for n in ast.walk(value) if isinstance(n, ast.Name)}
    return "training" not in names


def _forced_training(ctx: Ctx) -> list[tuple[str, int]]:
    """(what, line) of calls passing the constant ``training=True`` to something with BatchNorm:
    a BatchNormalization layer, a pretrained backbone (or a name that says so), or
    ``super().call`` inside a BatchNormalization subclass."""
    bn_classes = {
        id(n)
        for n in ast.walk(ctx.src.tree)
        if isinstance(n, ast.ClassDef) and any("BatchNorm" in ast.unparse(b) for b in n.bases)
    }
    inside: set[int] = set()
    for n in ast.walk(ctx.src.tree):
        if id(n) in bn_classes:
            inside.update(id(m) for m in ast.walk(n))
    out = []
    for c in ctx.prog.calls:
        node = c.node
        kw = next((k for k in node.keywords if k.arg == "training"), None)
        if kw is None:
            continue
        what = ast.unparse(node.func)[:40]
        f = node.func
        if _training_step(c.ev):
            continue  # model(x, training=True) under a GradientTape / in train_step: correct
        if what.startswith("super(") and id(node) in inside and _overrides_flag(kw.value):
            out.append((f"{what} in a BatchNormalization subclass", node.lineno))
            continue
        if not (isinstance(kw.value, ast.Constant) and kw.value.value is True):
            continue
        site = ctx.prog.call_site(f) if isinstance(f, ast.Call) else ctx.prog.origin_call(f, c.ev)
        name = site.name if site is not None else what.rsplit(".", 1)[-1]
        if (
            name in KERAS_APPS
            or name in ("BatchNormalization", "load_model")
            or _BN_FAMILIES.search(name)
            or (site is None and re.fullmatch(r"(base|base_model|backbone|pretrained\w*)", name))
        ):
            out.append((what, node.lineno))
    return out


_PRETRAINED_TEXT = re.compile(r"pretrained\s*=\s*True|weights\s*=\s*['\"\w]|load_state_dict\(")
_EVALUATES = re.compile(r"(?i)^(validate|evaluate|eval|test)(_|$)")


def _chw(ctx: Ctx, c) -> bool:
    """The input size is one image's (channels, height, width), without a batch dimension:
    torchsummary's ``input_size``; torchinfo's is usually given with the batch."""
    size = ctx.prog.const(c.arg(1, "input_size"), c.ev.idx, c.ev.scope)
    return isinstance(size, tuple | list) and len(size) == 3 and size[0] in (1, 3)


@check("torch.summary_updates_bn")
def check_summary_updates_bn(ctx: Ctx) -> None:
    """GL240: ``torchsummary.summary(model, (3, 224, 224))`` on a pretrained model still in
    training mode, evaluated afterwards. The summary runs a forward pass on random inputs; in
    training mode every BatchNorm layer folds that batch's statistics into its running mean and
    variance (momentum 0.1), which evaluation then uses. torchinfo runs its pass in eval mode
    unless told ``mode="train"``."""
    if not uses_torch(ctx):
        return
    text = "\n".join(ctx.src.lines)
    if not _PRETRAINED_TEXT.search(text):
        return
    for c in ctx.prog.calls:
        if c.name != "summary" or not c.node.args or not isinstance(c.node.args[0], ast.Name):
            continue
        lib = c.qual.split(".")[0]
        if lib == "summary" and c.unimported and _chw(ctx, c):
            lib = "torchsummary"  # summary(model, (3, 224, 224)): torchsummary's signature
        mode = ctx.prog.const(c.kw("mode"), c.ev.idx, c.ev.scope) if c.kw("mode") else None
        if not (lib == "torchsummary" or (lib == "torchinfo" and mode == "train")):
            continue
        var = c.node.args[0].id
        modes = [
            m
            for name in ("eval", "train")
            for m in ctx.prog.method_calls(name)
            if isinstance(m.node.func.value, ast.Name) and m.node.func.value.id == var
        ]
        before = [m for m in modes if m.ev.idx < c.ev.idx]
        if before and max(before, key=lambda m: m.ev.idx).name == "eval":
            continue  # the summary runs in eval mode
        later = [
            x
            for x in ctx.prog.calls
            if x.ev.idx > c.ev.idx and (_EVALUATES.match(x.name) or x.name == "eval")
        ]
        if not later or not once(ctx, "torch.summary_bn", c.node.lineno):
            continue
        ctx.add(
            "GL240",
            "batchnorm",
            "warning",
            f"summary({var}, ...) runs a forward pass in training mode: BatchNorm statistics "
            "are overwritten before evaluation",
            [c.node.lineno, later[0].node.lineno],
            f"torchsummary's summary() pushes a random batch through {var}, which is still in "
            "training mode (a new or loaded model is), so each BatchNorm layer mixes the "
            "statistics of that random batch into its running mean and variance. The "
            "evaluation that follows normalises with these corrupted statistics: a pretrained "
            "model loses accuracy (typically a few points) with no error.",
            f"Call {var}.eval() before summary() (and {var}.train() before training), print "
            "the summary before loading the weights, or use torchinfo.summary, which runs "
            "in eval mode.",
            [REFS["torch_eval"]],
        )
