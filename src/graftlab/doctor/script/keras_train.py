"""Keras checks on the fine-tuning procedure: freezing, BatchNorm, learning rate, saved heads."""

from __future__ import annotations

import ast

from graftlab.doctor._checks import declare
from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.common_rules import once
from graftlab.doctor.script.flow import CallSite, ElementOf, Event
from graftlab.doctor.script.frameworks import uses_keras
from graftlab.doctor.script.keras_graph import App, Model, target_root, trainable_sets
from graftlab.doctor.script.keras_model import keras_script
from graftlab.doctor.script.knowledge import REFS

declare(
    "GL127",
    "batchnorm",
    "warning",
    "script",
    "Frozen BatchNorm layers use batch statistics in training under Keras 2",
    (REFS["keras_bn"], REFS["keras_tl"]),
)
declare(
    "GL126",
    "trainable-not-applied",
    "error",
    "script",
    "Every layer of the compiled model is frozen, the new head included",
    (REFS["keras_tl"],),
)

_ADAPTIVE = {"adam", "adamw", "nadam", "rmsprop", "adamax", "lion"}


def _related(ctx: Ctx, ev: Event, target: ast.expr, model: Model | None) -> bool:
    """Whether ``x.trainable = ...`` touches ``model`` (itself, a backbone in it, its layers)."""
    if model is None:
        return True
    cache = ctx.cache.setdefault("keras_related", {})
    key = (ev.idx, id(target), id(model))
    if key not in cache:
        root = target_root(ctx.prog, target, ev)
        site = ctx.prog.origin_call(root, ev)
        if site is None:
            cache[key] = not model.complete
        else:
            cache[key] = site.node is model.site.node or any(
                layer.site is not None and layer.site.node is site.node for layer in model.layers
            )
    return cache[key]


def _whole(target: ast.expr) -> bool:
    """``base.trainable = ...`` (the whole object) rather than ``layer.trainable`` in a loop."""
    return isinstance(target, ast.Name | ast.Attribute)


@check("keras.trainable")
def check_trainable(ctx: Ctx) -> None:
    """GL120 trainable changed after compile; GL121 a fine-tune phase that unfreezes nothing."""
    if not uses_keras(ctx):
        return
    ks = keras_script(ctx)
    sets = trainable_sets(ctx.prog)
    for fit in ks.fits():
        comp = ks.compile_for(fit)
        if comp is None:
            continue
        model = ks.model_for(fit)
        late = [
            (ev, t, v)
            for ev, t, v in sets
            if comp.ev.idx < ev.idx < fit.ev.idx and _related(ctx, ev, t, model)
        ]
        if late:
            first = next((s for s in late if s[2] is True), late[0])
            ev = first[0]
            if not once(ctx, "keras.trainable", ev.node.lineno, comp.node.lineno):
                continue
            verb = "unfreezes layers" if first[2] is True else "changes `trainable`"
            ctx.add(
                "GL120",
                "trainable-not-applied",
                "error",
                f"The script {verb} after compile() and trains without compiling again",
                [ev.node.lineno, comp.node.lineno, fit.node.lineno],
                "compile() fixes which weights the training step updates. Changing "
                "`trainable` afterwards has no effect until compile() is called again, so "
                "this fit() trains exactly the layers that were trainable at compile time: the "
                "intended fine-tuning (or freezing) never happens.",
                "Call model.compile(...) again after changing `trainable` and before fit() "
                "(with a low learning rate when unfreezing, e.g. Adam(1e-5)).",
                [REFS["keras_tl"], REFS["keras_compile"]],
            )
    _never_unfrozen(ctx, sets)
    _no_compile_after(ctx, sets)
    _all_frozen(ctx, sets)


def _all_frozen(ctx: Ctx, sets) -> None:
    """GL121: every layer of the model being compiled is frozen (its new head included)."""
    ks = keras_script(ctx)
    for comp in ks.compiles():
        model = ks.model_for(comp)
        if model is None or not ks.fits_for(comp):
            continue
        state = None
        for ev, t, v in sets:
            if ev.idx > comp.ev.idx or not isinstance(v, bool):
                continue
            whole = _whole_model(ctx, ev, t, model)
            if whole:
                state = (ev, v)
            elif v is True and _related(ctx, ev, t, model):
                state = None  # some layers were unfrozen after the freeze
        if state is None or state[1] is not False or _added_after(ctx, state[0], comp, model):
            continue
        if not once(ctx, "keras.all_frozen", comp):
            continue
        ev = state[0]
        ctx.add(
            "GL126",
            "trainable-not-applied",
            "error",
            "Every layer of the compiled model is frozen, the new head included",
            [ev.node.lineno, comp.node.lineno, ks.fits_for(comp)[0].node.lineno],
            "trainable = False is set on all the layers of the model that is compiled and "
            "trained (not only on the pretrained base), so fit() updates no weight at all: "
            "the loss and accuracy stay where the random head put them.",
            "Freeze only the pretrained part:\nbase_model.trainable = False  # or: for layer "
            "in base_model.layers: layer.trainable = False\nand leave the new layers "
            "trainable before compile().",
            [REFS["keras_tl"]],
        )


def _added_after(ctx: Ctx, freeze: Event, comp: CallSite, model: Model) -> bool:
    """Layers added with ``model.add(...)`` after a loop froze the layers there were then
    (``for layer in model.layers: layer.trainable = False``): the new ones stay trainable."""
    if not isinstance(freeze.node, ast.Assign) or not freeze.loops:
        return False
    for add in ctx.prog.method_calls("add"):
        if not freeze.idx < add.ev.idx < comp.ev.idx:
            continue
        r = ctx.prog.origin_call(add.node.func.value, add.ev)
        if r is not None and r.node is model.site.node:
            return True
    return False


def _whole_model(ctx: Ctx, ev: Event, target: ast.expr, model: Model) -> bool:
    """``model.trainable = ...`` or ``for layer in model.layers: layer.trainable = ...`` on
    the whole compiled model (no slice of its layers)."""
    prog = ctx.prog
    node = target
    if isinstance(node, ast.Name):
        r = prog.origin(node, ev.idx, ev.scope)
        if isinstance(r.node, ElementOf) and r.node.index is None:
            it = r.node.value
            if not (isinstance(it, ast.Attribute) and it.attr == "layers"):
                return False
            node = it.value
    site = prog.origin_call(node, ev)
    return site is not None and site.node is model.site.node


def _no_compile_after(ctx: Ctx, sets) -> None:
    """GL120 (inferred): layers are unfrozen and no compile() follows in the code shown."""
    ks = keras_script(ctx)
    changes = [(ev, t, v) for ev, t, v in sets if v is True]
    if not changes or any(c.ev.idx > changes[-1][0].idx for c in ks.compiles()):
        return
    ev = changes[-1][0]
    before = [c for c in ks.compiles() if c.ev.idx < ev.idx]
    fits = [f for f in ks.fits() if f.ev.idx > ev.idx]
    if before and fits:
        return  # compile, unfreeze, fit: the complete case, reported above as an error
    if not once(ctx, "keras.trainable", ev.node.lineno):
        return
    then = (
        f"fit() on line {fits[0].node.lineno} trains without a compile() after it"
        if fits
        else "no compile() follows in the code shown"
    )
    ctx.add(
        "GL120",
        "trainable-not-applied",
        "warning",
        "Layers are unfrozen (trainable = True), but no compile() follows",
        [ev.node.lineno, *[f.node.lineno for f in fits[:1]]],
        f"The script sets `trainable = True` and {then}. A Keras model trains the layers "
        "that were trainable when compile() was last called, so unless the model is compiled "
        "again after this line the unfrozen layers keep their weights and the fine-tuning "
        "phase trains only the head (inferred: the compile() that fixed the trainable set "
        "is not after this line in what was posted).",
        "After changing `trainable`, compile again (with a low learning rate) before fit():\n"
        "for layer in base_model.layers[-30:]: layer.trainable = True\n"
        "model.compile(optimizer=keras.optimizers.Adam(1e-5), loss=..., metrics=[...])\n"
        "model.fit(...)",
        [REFS["keras_tl"], REFS["keras_compile"]],
    )


def _never_unfrozen(ctx: Ctx, sets) -> None:
    ks = keras_script(ctx)
    fits = ks.fits()
    for i, fit2 in enumerate(fits):
        c2 = ks.compile_for(fit2)
        earlier = [f for f in fits[:i] if ks.same_receiver(f, fit2)]
        c1 = ks.compile_for(earlier[-1]) if earlier else None
        if c1 is None or c2 is None or c1 is c2 or c2.ev.idx < earlier[-1].ev.idx:
            continue
        fit1 = earlier[-1]
        model = ks.model_for(fit2)
        if model is None or not any(layer.app for layer in model.layers):
            continue
        rel = [(ev, t, v) for ev, t, v in sets if _related(ctx, ev, t, model)]
        frozen = [s for s in rel if s[0].idx < c1.ev.idx and s[2] is False]
        # freezing the lower layers again is not unfreezing: only ``trainable = True`` counts
        thawed = [s for s in rel if fit1.ev.idx < s[0].idx < fit2.ev.idx and s[2] is True]
        if not frozen or thawed:
            continue
        ctx.add(
            "GL121",
            "trainable-not-applied",
            "warning",
            "The second training phase unfreezes nothing",
            [frozen[0][0].node.lineno, c2.node.lineno, fit2.node.lineno],
            "The backbone was frozen before the first phase and nothing sets "
            "`trainable = True` before the second compile(), so the 'fine-tuning' "
            "phase trains the same head again (usually with a smaller learning rate) "
            "and the pretrained layers never adapt.",
            "Before the second compile():\nbase_model.trainable = True  # or only the "
            "top blocks: for layer in base_model.layers[-30:]: layer.trainable = True\n"
            "model.compile(optimizer=keras.optimizers.Adam(1e-5), ...)",
            [REFS["keras_tl"]],
        )
        return


def _unfreezes(ctx: Ctx, app: App) -> list[Event]:
    """Events that set trainable = True on ``app`` or its layers (or on a model holding it)."""
    out = []
    for ev, target, value in trainable_sets(ctx.prog):
        if value is not True:
            continue
        root = target_root(ctx.prog, target, ev)
        site = ctx.prog.origin_call(root, ev)
        if site is None:
            continue
        if site.node is app.site.node:
            out.append(ev)
            continue
        model = next((m for m in keras_script(ctx).models if m.site.node is site.node), None)
        if model is not None and any(layer.app is app for layer in model.layers):
            out.append(ev)
    return out


@check("keras.batchnorm")
def check_batchnorm(ctx: Ctx) -> None:
    """GL122 BatchNorm layers left in training mode when fine-tuning; GL123 old-Keras note."""
    if not uses_keras(ctx):
        return
    ks = keras_script(ctx)
    if _handles_bn(ctx.src.tree):
        return  # the script treats BatchNormalization layers explicitly
    for app in ks.apps:
        if not app.info.has_bn or not app.pretrained:
            continue
        thaw = _unfreezes(ctx, app)
        if not thaw:
            _old_keras_note(ctx, app)
            continue
        for model in ks.models:
            for layer in model.layers:
                if layer.app is not app:
                    continue
                if layer.applied is not None:
                    kw = next((k for k in layer.applied.keywords if k.arg == "training"), None)
                    if kw is not None:
                        continue
                    where = layer.applied.lineno
                    how = f"{app.info.name} is called without training=False"
                else:
                    where = model.site.node.lineno
                    how = (
                        f"{app.info.name} is used as a layer of a Sequential model"
                        if model.site.name == "Sequential"
                        else "the model is built from base_model.input/.output, so "
                        "training=False cannot be passed"
                    )
                if once(ctx, "keras.batchnorm", app.site.node.lineno):
                    _bn(ctx, app, [where, thaw[0].node.lineno], how)


def _handles_bn(tree: ast.Module) -> bool:
    """``isinstance(layer, BatchNormalization)`` anywhere in the script."""
    return any(
        isinstance(n, ast.Call)
        and isinstance(n.func, ast.Name)
        and n.func.id == "isinstance"
        and len(n.args) == 2
        and "BatchNormalization" in ast.unparse(n.args[1])
        for n in ast.walk(tree)
    )


def _bn(ctx: Ctx, app: App, lines: list[int], how: str) -> None:
    ctx.add(
        "GL122",
        "batchnorm",
        "warning",
        f"Fine-tuning {app.info.name} with its BatchNorm layers in training mode",
        lines,
        f"{how}, and its layers are unfrozen later. Since TF 2.0, a BatchNormalization layer "
        "with trainable=False runs in inference mode (its moving mean/variance are used and "
        "not updated) - but once unfrozen it normalises with the statistics of each small "
        "batch of your images and overwrites the ImageNet running statistics. With small "
        "batches from a new domain this destroys the features the head was trained on: "
        "validation accuracy drops as soon as fine-tuning starts.",
        "inputs = keras.Input(shape=...)\n"
        "x = base_model(inputs, training=False)  # BN stays in inference mode even when "
        "unfrozen\n# build the functional model this way, then base_model.trainable = True "
        "and recompile with a low learning rate",
        [REFS["keras_tl"], REFS["keras_bn"]],
    )


def _standalone_keras(ctx: Ctx) -> bool:
    """Keras imported on its own (``import keras``), not through TensorFlow, and none of Keras
    3's own idioms: the code was written for Keras 2, whose frozen BatchNorm layers still used
    batch statistics in training before 2.1.3 / TF 2.0."""
    if ctx.tf2:
        return False
    text = "\n".join(ctx.src.lines)
    return "keras.ops" not in text and "keras_core" not in text and "keras_cv" not in text


def _called_in_inference(ctx: Ctx, app: App) -> bool:
    return any(
        layer.app is app
        and layer.applied is not None
        and any(k.arg == "training" for k in layer.applied.keywords)
        for model in keras_script(ctx).models
        for layer in model.layers
    )


def _old_keras_note(ctx: Ctx, app: App) -> None:
    fits = [c for c in ctx.prog.calls if c.name in ("fit", "fit_generator")]
    if ctx.tf2 or not fits:
        return
    old = any(c.name == "fit_generator" for c in fits)
    frozen = [ev for ev, t, v in trainable_sets(ctx.prog) if v is False]
    if not frozen or not once(ctx, "keras.old_bn"):
        return  # a fact about the Keras version, said once
    if _standalone_keras(ctx) and not _called_in_inference(ctx, app):
        ctx.add(
            "GL127",
            "batchnorm",
            "warning",
            f"Frozen {app.info.name} BatchNorm layers still use batch statistics in training "
            "under Keras 2",
            [app.site.node.lineno, frozen[0].node.lineno, fits[0].node.lineno],
            "The script uses standalone Keras 2 (inferred from its imports). There, "
            "trainable=False freezes a BatchNormalization layer's weights but not its mode: "
            "during fit() it normalises with the statistics of each batch of your images, "
            "while evaluate()/predict() use the stored ImageNet moving averages. The frozen "
            "base computes different features in training and inference, so the head is fitted "
            "to features it never sees at test time: training accuracy is high, validation and "
            "evaluate() on the very same data are much worse.",
            "Use tf.keras (TF >= 2), where frozen BN runs in inference mode, and call the base "
            "with training=False:\nx = base_model(inputs, training=False)\nOn old Keras, "
            "extract the base's features once with predict() and train the head on them, or "
            "set K.set_learning_phase(0) before building the frozen base.",
            [REFS["keras_bn"], REFS["keras_tl"]],
        )
        return
    if not old:
        return
    ctx.add(
        "GL123",
        "batchnorm",
        "info",
        f"Frozen {app.info.name} under standalone Keras 2: BatchNorm semantics depend on the "
        "version",
        [app.site.node.lineno, frozen[0].node.lineno],
        "Before TF 2.0 / Keras 2.3, a BatchNormalization layer with trainable=False still "
        "normalised with the current batch's statistics during training, so a 'frozen' "
        "backbone produced different features in training and inference (training accuracy "
        "high, validation low). TF 2.x runs frozen BN layers in inference mode.",
        "Upgrade to tf.keras (TF 2.x) or call the backbone with training=False; on old Keras, "
        "set K.set_learning_phase(0) before building the frozen backbone.",
        [REFS["keras_bn"]],
    )


def _lr_text(ctx: Ctx, comp: CallSite) -> str | None:
    """The learning rate of a compile call as a value or, when it cannot be folded, as the
    expression that gives it (``CONFIG.LEARNING_RATE``)."""
    node = comp.arg(0, "optimizer")
    if node is None:
        return None
    v = ctx.prog.const(node, comp.ev.idx, comp.ev.scope)
    if isinstance(v, str):
        return f"{v.lower()} default"
    site = ctx.prog.origin_call(node, comp.ev)
    if site is None:
        return None
    lr = site.kw("learning_rate") or site.kw("lr") or site.arg(0)
    if lr is None:
        return f"{site.name} default"
    value = ctx.prog.const(lr, site.ev.idx, site.ev.scope)
    text = repr(value) if isinstance(value, int | float) else ast.unparse(lr)
    return f"{site.name} {text}"


def _same_rate_after_unfreezing(ctx: Ctx, sets) -> None:
    """GL124 (inferred): the fine-tuning compile uses the head phase's learning rate."""
    ks = keras_script(ctx)
    fits = ks.fits()
    for i, fit2 in enumerate(fits):
        c2 = ks.compile_for(fit2)
        earlier = [f for f in fits[:i] if ks.same_receiver(f, fit2)]
        c1 = ks.compile_for(earlier[-1]) if earlier else None
        if c1 is None or c2 is None or c1 is c2:
            continue
        thawed = [ev for ev, _, v in sets if v is True and earlier[-1].ev.idx < ev.idx < c2.ev.idx]
        r1, r2 = _lr_text(ctx, c1), _lr_text(ctx, c2)
        if not thawed or r1 is None or r1 != r2 or not once(ctx, "keras.lr", c2.node.lineno):
            continue
        ctx.add(
            "GL124",
            "learning-rate",
            "warning",
            "The fine-tuning phase reuses the head phase's learning rate",
            [c1.node.lineno, thawed[0].node.lineno, c2.node.lineno],
            f"Both compile() calls use the same optimizer and rate ({r2}), but the second one "
            "follows `trainable = True`: the rate that fitted a new head from scratch now "
            "updates pretrained layers, and its large steps overwrite what they learned, so "
            "the loss jumps when fine-tuning starts and validation gets worse (inferred: the "
            "rate was meant for the head phase).",
            "Recompile the fine-tuning phase with a 10-100x smaller rate, e.g.\n"
            "model.compile(optimizer=keras.optimizers.Adam(1e-5), loss=..., metrics=[...])",
            [REFS["keras_tl"], REFS["ulmfit"]],
        )


@check("keras.learning_rate")
def check_learning_rate(ctx: Ctx) -> None:
    """GL124: one high learning rate for pretrained and new layers while fine-tuning."""
    if not uses_keras(ctx):
        return
    ks = keras_script(ctx)
    sets = trainable_sets(ctx.prog)
    _same_rate_after_unfreezing(ctx, sets)
    for comp in ks.compiles():
        model = ks.model_for(comp)
        app = next((layer.app for layer in model.layers if layer.app), None) if model else None
        if app is None or not app.pretrained or not ks.fits_for(comp):
            continue
        state = True  # keras.applications models are trainable when built
        partial = False
        for ev, t, v in sets:
            if ev.idx >= comp.ev.idx or not _related(ctx, ev, t, model):
                continue
            if _whole(t) and v in (True, False):
                state, partial = v, False
            elif v is True:
                partial = True
        if not (state or partial):
            continue
        opt = ks.learning_rate(comp)
        if opt is None or not isinstance(opt[1], int | float):
            continue
        name, lr, line = opt
        high = (name in _ADAPTIVE and lr >= 1e-3) or (name == "sgd" and lr >= 0.01)
        if not high:
            continue
        if not once(ctx, "keras.lr", comp.node.lineno):
            continue  # one finding per compile() about its learning rate
        never_frozen = not any(v is False for _, _, v in sets)
        ctx.add(
            "GL124",
            "learning-rate",
            "warning",
            f"Fine-tuning pretrained {app.info.name} layers with {name} lr={lr:g}",
            [line, comp.node.lineno],
            f"lr={lr:g} is a from-scratch learning rate. Applied to pretrained layers it makes "
            "updates large enough to overwrite the ImageNet features in the first epochs, so "
            "validation accuracy drops below the frozen-feature model and does not recover."
            + (
                " Here the new head is also random when training starts: its large early "
                "gradients flow straight into the backbone (LP-FT: fit the head first, then "
                "fine-tune)."
                if never_frozen
                else ""
            ),
            "Train the head with the backbone frozen first, then unfreeze and recompile with a "
            "10-100x smaller rate:\nmodel.compile(optimizer=keras.optimizers.Adam(1e-5), ...)  "
            "# SGD(learning_rate=1e-4, momentum=0.9) also works",
            [REFS["keras_tl"], REFS["lpft"], REFS["ulmfit"]],
        )


@check("keras.head_weights")
def check_head_weights(ctx: Ctx) -> None:
    """GL125: weights saved from one head architecture and loaded into another."""
    if not uses_keras(ctx):
        return
    ks = keras_script(ctx)
    prog = ctx.prog
    saves = [c for c in prog.calls if c.name in ("save_weights", "save")]
    _unwritten_weights(ctx, saves)
    for load in prog.method_calls("load_weights"):
        path = prog.const(load.arg(0, "filepath"), load.ev.idx, load.ev.scope)
        by_name = prog.const(load.kw("by_name"), load.ev.idx, load.ev.scope) is True
        target = ks.model_for(load)
        for save in saves:
            spath = prog.const(save.arg(0, "filepath"), save.ev.idx, save.ev.scope)
            if not isinstance(path, str) or spath != path:
                continue
            source = ks.model_for(save)
            if source is None or target is None or source.site.node is target.site.node:
                continue
            a, b = _signature(ctx, source), _signature(ctx, target)
            if a and b and a != b:
                ctx.add(
                    "GL125",
                    "head-mismatch",
                    "error",
                    "The weights loaded were saved from a different head",
                    [save.node.lineno, load.node.lineno],
                    f"{path!r} was saved from layers {a} and is loaded into layers {b}. Keras "
                    "either fails on the shapes or, with by_name=True, skips the layers that "
                    "differ; the head you fine-tune is not the head you trained, so "
                    "fine-tuning starts from a random or wrong head and ends worse than the "
                    "bottleneck model.",
                    "Build the head with one function used in both phases, e.g.\n"
                    "def build_head(input_shape): ...\nand load into exactly that "
                    "architecture.",
                    [REFS["keras_blog"], REFS["keras_tl"]],
                )
        skip = prog.const(load.kw("skip_mismatch"), load.ev.idx, load.ev.scope) is True
        if by_name and skip and path not in _written_paths(ctx, saves) and _trains_after(ctx, load):
            # by name with every mismatch skipped: a file whose layer names differ loads nothing
            ctx.add(
                "GL125",
                "head-mismatch",
                "warning",
                "load_weights(by_name=True, skip_mismatch=True) can load nothing, silently",
                [load.node.lineno],
                f"{path!r} is not written by this script; its layers are matched by name and "
                "every layer whose name or shape differs is skipped without a message. If the "
                "file was saved from a model with other layer names (automatic numbering such "
                "as dense_3, activation_191, or a rebuilt head), the model trained next starts "
                "from random weights and its loss explodes or stays at chance. Inferred: the "
                "names stored in the file are not visible here.",
                "Load without by_name into the same architecture, or list what matched, e.g.\n"
                "import h5py; print(list(h5py.File(path)['model_weights']))  # vs model.layers",
                [REFS["keras_tl"]],
            )
        elif by_name:
            ctx.add(
                "GL125",
                "head-mismatch",
                "info",
                "load_weights(by_name=True) silently skips layers whose names differ",
                [load.node.lineno],
                "Only layers with identical names receive weights; renamed or rebuilt layers "
                "keep their random initialisation without any message.",
                "Load without by_name into the same architecture, or check the loaded layers.",
                [REFS["keras_tl"]],
            )


def _trains_after(ctx: Ctx, load: CallSite) -> bool:
    """A fit call follows the load in the script's order of events."""
    return any(
        c.ev.idx > load.ev.idx for m in ("fit", "fit_generator") for c in ctx.prog.method_calls(m)
    )


def _written_paths(ctx: Ctx, saves: list[CallSite]) -> dict[str, CallSite]:
    """Weight files the script writes: ``save``/``save_weights`` and ``ModelCheckpoint``."""
    prog = ctx.prog
    out: dict[str, CallSite] = {}
    for c in [*saves, *prog.find_calls("ModelCheckpoint")]:
        v = prog.const(c.arg(0, "filepath"), c.ev.idx, c.ev.scope)
        if isinstance(v, str) and "{" not in v:
            out.setdefault(v, c)
    return out


def _unwritten_weights(ctx: Ctx, saves: list[CallSite]) -> None:
    """GL125 (inferred): the head's weights are saved under one file name and loaded from
    another one that this script never writes."""
    ks = keras_script(ctx)
    prog = ctx.prog
    written = _written_paths(ctx, saves)
    if not written:
        return  # a script that only loads: the file comes from elsewhere, nothing to compare
    for load in prog.method_calls("load_weights"):
        path = prog.const(load.arg(0, "filepath"), load.ev.idx, load.ev.scope)
        if not isinstance(path, str) or path in written or _stem(path) in map(_stem, written):
            continue
        same_kind = [p for p in written if _ext(p) == _ext(path)]
        if not same_kind or not once(ctx, "keras.unwritten", path):
            continue
        saved = same_kind[0]
        save = written[saved]
        source, target = ks.model_for(save), ks.model_for(load)
        a = _signature(ctx, source) if source else []
        b = _signature(ctx, target) if target else []
        differ = bool(a and b and a != b)
        ctx.add(
            "GL125",
            "head-mismatch",
            "warning",
            f"Weights are saved as {saved!r} but loaded from {path!r}",
            [save.node.lineno, load.node.lineno],
            f"This script writes the trained weights to {saved!r}, but loads {path!r}, a file "
            "it never writes (inferred link: the file saved is the one meant to be loaded). "
            "The model is then initialised from an older or different training run"
            + (
                f"; and the two heads differ (saved from layers {a}, loaded into {b}), so "
                "even the right file would not fit"
                if differ
                else ""
            )
            + ". Fine-tuning starts from a head that is not the one you trained, and ends "
            "worse than the bottleneck model.",
            "Keep one constant for the weights file and build the head with one function used "
            "in both phases:\nTOP_WEIGHTS = 'top_model.weights.h5'\n"
            "top_model.save_weights(TOP_WEIGHTS)  # phase 1\n"
            "top_model = build_head(...); top_model.load_weights(TOP_WEIGHTS)  # phase 2",
            [REFS["keras_blog"], REFS["keras_tl"]],
        )


def _stem(path: str) -> str:
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    return name.split(".", 1)[0]


def _ext(path: str) -> str:
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    return name.split(".", 1)[1] if "." in name else ""


def _signature(ctx: Ctx, model: Model) -> list[str]:
    out = []
    for layer in model.layers:
        site: CallSite | None = layer.site
        if site is None:
            continue
        if layer.kind in ("Dense", "Conv2D"):
            units = ctx.prog.const(site.arg(0), site.ev.idx, site.ev.scope)
            out.append(f"{layer.kind}({units if isinstance(units, int) else '?'})")
        elif layer.kind in ("Flatten", "GlobalAveragePooling2D", "GlobalMaxPooling2D"):
            out.append(layer.kind)
        elif layer.kind == "app" and layer.app is not None:
            out.append(layer.app.info.name)
    return out
