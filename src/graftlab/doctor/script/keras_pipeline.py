"""Keras checks on the image pipeline: preprocessing, input size, augmentation per phase."""

from __future__ import annotations

import ast
import re

from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.aug_rules import random_calls
from graftlab.doctor.script.common_rules import once, resized_to
from graftlab.doctor.script.flow import CallSite
from graftlab.doctor.script.frameworks import uses_keras
from graftlab.doctor.script.keras_graph import App, Flow, Model, role_of
from graftlab.doctor.script.keras_model import keras_script
from graftlab.doctor.script.keras_pre import Op, Preprocessing, combine
from graftlab.doctor.script.keras_reference import evaluated_alike
from graftlab.doctor.script.knowledge import KERAS_AUG_LAYERS, MODES, REFS, say


def preprocessing(ctx: Ctx) -> Preprocessing:
    if "keras_pre" not in ctx.cache:
        ctx.cache["keras_pre"] = Preprocessing(ctx.prog, keras_script(ctx))
    return ctx.cache["keras_pre"]


def expected_mode(app: App) -> str:
    if app.info.mode == "raw" and app.site.kw("include_preprocessing") is not None:
        v = app.site.kw("include_preprocessing")
        if isinstance(v, ast.Constant) and v.value is False:
            return "tf"
    return app.info.mode


def _app_in(model: Model | None, apps: list[App]) -> App | None:
    if model is not None:
        found = next((layer.app for layer in model.layers if layer.app), None)
        if found is not None or model.complete:
            return found
    return apps[0] if len(apps) == 1 else None


def training_feeds(ctx: Ctx) -> list[tuple[CallSite, App, list[Op], int]]:
    """(call, backbone, ops, data line) for each fit/predict that runs a pretrained backbone;
    the line is negative when the ops were found by tracing arrays rather than read from one
    generator."""
    ks, pp = keras_script(ctx), preprocessing(ctx)
    apps = [a for a in ks.apps if a.pretrained]
    out = []
    for call in (
        ks.fits() + ctx.prog.method_calls("predict") + ctx.prog.method_calls("predict_generator")
    ):
        model = ks.model_for(call)
        app = _app_in(model, apps)
        if app is None:
            continue
        # predictions of a trained model are checked against training instead; a feature
        # extractor (backbone + pooling) that is never trained must follow the backbone's own
        # convention
        whole = call.name.startswith("predict") and not (model and model.layers[-1].kind == "app")
        if whole and (model is None or any(ks.model_for(f) is model for f in ks.fits())):
            continue
        x = call.arg(0, "x") or call.kw("generator")
        flow = ks.flow_of(x, call.ev)
        if flow is not None and flow.datagen is not None:
            ops, line = pp.flow_ops(flow), flow.datagen.node.lineno
        else:
            ops, line = pp.data_ops(x, call.ev) or [], call.node.lineno
            # steps found by following the arrays' history may belong to other uses of the
            # same variables: the link is inferred
            line = -line
        out.append((call, app, ops + pp.model_ops(model), line))
    return out


@check("keras.preprocessing")
def check_preprocessing(ctx: Ctx) -> None:
    """GL110: pixel preprocessing that does not match the backbone's convention."""
    if not uses_keras(ctx):
        return
    apps = [a for a in keras_script(ctx).apps if a.pretrained]
    if len({expected_mode(a) for a in apps}) != 1:
        return  # several conventions in one script: cannot tell which data feeds which
    groups: dict[tuple[str, str], list] = {}
    for _call, app, ops, data_line in training_feeds(ctx):
        want, got = expected_mode(app), combine(ops)
        if got not in ("?", want):
            groups.setdefault((app.info.name, got), []).append((app, ops, data_line))
    reported = {id(feeds[0][0].site.node) for feeds in groups.values()}
    for app, ops in _in_model_steps(ctx):
        want, got = expected_mode(app), combine(ops)
        if id(app.site.node) not in reported and got not in ("?", "raw", want):
            reported.add(id(app.site.node))
            # steps the model applies to every input: what the data held before them is not
            # shown, so this is a warning (the data would have to undo them to be right)
            groups.setdefault((app.info.name, got), []).append((app, ops, 0))
    for (_name, got), feeds in groups.items():
        app = feeds[0][0]
        want = expected_mode(app)
        inferred = any(line <= 0 for _, _, line in feeds)
        if (got == "double" or (want == "raw" and got in ("unit", "tf", "torch"))) and not inferred:
            severity = "error"
        else:
            severity = "warning"
        ops = [o for _, feed_ops, _ in feeds for o in feed_ops if o.mode != "raw"]
        steps = "; ".join(sorted({f"{o.what} (line {o.line})" for o in ops}))
        given = f"{MODES[got]}: {steps}" if steps else "raw 0..255 pixels: no preprocessing at all"
        lines = [a.site.node.lineno for a, _, _ in feeds] + [o.line for o in ops]
        if not steps:
            lines += [abs(line) for _, _, line in feeds if line]
        ctx.add(
            "GL110",
            "preprocessing-mismatch",
            severity,
            f"{app.info.name} expects {want!r} preprocessing but gets "
            f"{'two scalings' if got == 'double' else repr(got)}",
            lines,
            f"{app.info.name}'s ImageNet weights were trained on {MODES[want]}. This script "
            f"feeds it {given}. {_consequence(want, got)}",
            _fix(app, want),
            [REFS["keras_apps"], REFS["keras_tl"]],
        )


def _in_model_steps(ctx: Ctx) -> list[tuple[App, list[Op]]]:
    """(backbone, steps) for each pretrained backbone a model applies after preprocessing
    steps of its own (a Rescaling layer, preprocess_input on the input tensor): those steps
    reach the backbone whatever data the model is given, trained or not."""
    ks, pp = keras_script(ctx), preprocessing(ctx)
    out = []
    for model in ks.models:
        at = next(
            (i for i, layer in enumerate(model.layers) if layer.app and layer.app.pretrained),
            None,
        )
        if not at:
            continue
        before = Model(model.site, model.layers[:at], model.complete)
        ops = [o for o in pp.model_ops(before) if o.mode != "raw"]
        if ops:
            out.append((model.layers[at].app, ops))
    return out


def _consequence(want: str, got: str) -> str:
    if got == "double":
        return (
            "Scaling twice squeezes the pixels into a tiny range (ImageDataGenerator applies "
            "preprocessing_function first, then rescale), so the backbone sees nearly "
            "uniform images; its features carry little information and accuracy stays low."
        )
    if want == "raw":
        return (
            "The model divides by 255 again inside itself, so the images reach the first "
            "convolution with values around 0.004: nearly black, and the pretrained features "
            "are close to useless."
        )
    return (
        "The first layers see inputs with a different scale and offset"
        + (" and swapped colour channels" if "caffe" in (want, got) else "")
        + " than the weights were trained on; the pretrained features are distorted, "
        "frozen-feature accuracy drops and fine-tuning has to spend its updates undoing it."
    )


def _fix(app: App, want: str) -> str:
    if want == "raw":
        return (
            f"Feed raw 0..255 pixels to {app.info.name}: remove rescale=1./255 / "
            "Rescaling(1./255) / preprocess_input from other families; "
            f"keras.applications.{app.info.module}.preprocess_input is a pass-through."
        )
    return (
        f"from tensorflow.keras.applications.{app.info.module} import preprocess_input\n"
        "datagen = ImageDataGenerator(preprocessing_function=preprocess_input)  "
        "# and no rescale=\n"
        "# or inside the model: x = preprocess_input(inputs); x = base_model(x, "
        "training=False)\n# use the same preprocessing for training, validation and "
        "prediction"
    )


@check("keras.train_eval_preprocessing")
def check_train_eval(ctx: Ctx) -> None:
    """GL111 generators that preprocess differently; GL112 predictions on raw images."""
    if not uses_keras(ctx):
        return
    ks, pp = keras_script(ctx), preprocessing(ctx)
    trains = [f for f in ks.flows if f.role == "train" and f.datagen is not None]
    for tr in trains:
        for other in ks.flows:
            if other.role not in ("val", "test", "predict") or other.datagen is None:
                continue
            if other.datagen.node is tr.datagen.node:
                continue
            a, b = _signature(ctx, tr.datagen), _signature(ctx, other.datagen)
            if a == b or not once(ctx, "keras.train_eval", other.datagen.node.lineno):
                continue
            ma, mb = combine(pp.datagen_ops(tr.datagen)), combine(pp.datagen_ops(other.datagen))
            ctx.add(
                "GL111",
                "train-eval-preprocessing-mismatch",
                "error",
                f"The {say(other.role)} generator preprocesses images differently from the "
                "training generator",
                [tr.datagen.node.lineno, other.datagen.node.lineno],
                f"Training images get {_describe(ma, a)}; {say(other.role)} images get "
                f"{_describe(mb, b)}. The network is evaluated on inputs of a different scale "
                "than it was trained on, so its activations shift: validation/test accuracy is "
                "low or stuck near chance while training accuracy looks fine.",
                "Give every generator the same preprocessing and put augmentation only in the "
                "training one:\n"
                f"train_datagen = ImageDataGenerator({a[0]}, horizontal_flip=True, ...)\n"
                f"{other.role}_datagen = ImageDataGenerator({a[0]})",
                [REFS["keras_idg"]],
            )
    _raw_predictions(ctx)
    _raw_validation_arrays(ctx)
    _skipped_preprocessing(ctx)


_PREP_NAME = re.compile(r"preprocess|normali[sz]|standardi[sz]|mean_sub|sub(tract)?_mean|whiten")


def _prep_calls(ctx: Ctx, node: ast.expr | None, at) -> dict[str, int]:
    """Preprocessing-like functions applied to a value on its way (name -> line): named like
    one, or the script's own function that shifts or scales its argument (``x -= 128.8``)."""
    out: dict[str, int] = {}
    if node is None:
        return out

    def prep(name: str) -> bool:
        fn = ctx.prog.functions.get(name)
        return bool(_PREP_NAME.search(name.lower())) or (fn is not None and _rescales(fn))

    for ref in ctx.prog.deps(node, at, limit=40):
        for n in ast.walk(ref.node):
            if isinstance(n, ast.Call):
                f = n.func
                name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
                if prep(name):
                    out.setdefault(name, n.lineno)
            elif (
                isinstance(n, ast.Name) and n.id in ctx.prog.functions and prep(n.id)
            ):  # map(preprocess, ...), Lambda(preprocess)
                out.setdefault(n.id, n.lineno)
    return out


def _rescales(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Whether a one-parameter function shifts or scales its argument by a number and gives
    it back: ``x -= 128.8; return x``, ``return (x - mean) / std``, ``return x / 255.0``."""
    params = [a.arg for a in fn.args.args if a.arg not in ("self", "cls")]
    if len(params) != 1 or len(fn.body) > 6:
        return False
    x = params[0]
    for n in ast.walk(fn):
        if (
            isinstance(n, ast.AugAssign)
            and isinstance(n.target, ast.Name)
            and n.target.id == x
            and isinstance(n.op, ast.Sub | ast.Div | ast.Mult)
        ):
            return True
        if isinstance(n, ast.Return) and isinstance(n.value, ast.BinOp):
            left = n.value.left
            left = left.left if isinstance(left, ast.BinOp) else left
            if (
                isinstance(left, ast.Name)
                and left.id == x
                and isinstance(n.value.op, ast.Sub | ast.Div | ast.Mult)
            ):
                return True
    return False


def _skipped_preprocessing(ctx: Ctx) -> None:
    """GL112 (inferred): the training arrays go through a preprocessing function (the
    script's own ``preprocess_input``, ``normalize`` ...) that the arrays given to
    predict()/evaluate() never go through."""
    ks = keras_script(ctx)
    train: dict[str, int] = {}
    train_vars: set[str] = set()
    for fit in ks.fits():
        x = fit.arg(0, "x") or fit.kw("generator")
        flow = ks.flow_of(x, fit.ev)
        if flow is not None and flow.site.name == "flow":
            x = flow.site.arg(0, "x")
            at = flow.site.ev
        elif flow is not None:
            continue  # a directory flow: its generator's settings are compared elsewhere
        else:
            at = fit.ev
        if isinstance(x, ast.Name):
            train_vars.add(x.id)
        train.update(_prep_calls(ctx, x, at))
    if not train:
        return
    for call in [
        c
        for m in ("predict", "predict_on_batch", "evaluate", "predict_classes")
        for c in ctx.prog.method_calls(m)
    ]:
        x = call.arg(0, "x")
        if x is None or ks.flow_of(x, call.ev) is not None:
            continue
        refs = ctx.prog.deps(x, call.ev, limit=40)
        names = {n.id for r in refs for n in ast.walk(r.node) if isinstance(n, ast.Name)}
        if names & train_vars or _prep_calls(ctx, x, call.ev):
            continue
        cited = ctx.src.evidence(call.node.lineno)
        if any(f.code == "GL112" and cited in f.evidence.split("\n") for f in ctx.findings):
            continue  # this prediction's preprocessing is already one finding
        if not once(ctx, "keras.skipped_prep"):
            return
        fn, line = next(iter(train.items()))
        ctx.add(
            "GL112",
            "train-eval-preprocessing-mismatch",
            "warning",
            f"The arrays passed to {call.name}() skip {fn}(), which every training image "
            "goes through",
            [line, call.node.lineno],
            f"The training data is prepared with {fn}() (line {line}); the arrays given to "
            f"{call.name}() are built without it, so the model sees inputs on another scale or "
            "offset than in training and its predictions are wrong or near chance although "
            f"training looked fine (inferred from the function's name, {fn!r}).",
            f"Apply the same function before predicting: x = {fn}(x), or move the "
            "preprocessing into the model (a Lambda/Normalization layer after Input) so that "
            "training and evaluation cannot differ.",
            [REFS["keras_tl"]],
        )
        return


_FEATUREWISE = ("featurewise_center", "featurewise_std_normalization", "zca_whitening")


def _raw_validation_arrays(ctx: Ctx) -> None:
    """GL111: the training data goes through a generator that standardises (featurewise) or
    rescales, the validation arrays given to fit() go through nothing."""
    ks, pp = keras_script(ctx), preprocessing(ctx)
    for fit in ks.fits():
        flow = ks.flow_of(fit.arg(0, "x") or fit.kw("generator"), fit.ev)
        val = fit.kw("validation_data")
        if flow is None or flow.datagen is None or not isinstance(val, ast.Tuple | ast.List):
            continue
        if not val.elts or ks.flow_of(val.elts[0], fit.ev) is not None:
            continue
        dg = flow.datagen
        featurewise = [
            k for k in _FEATUREWISE if ctx.prog.const(dg.kw(k), dg.ev.idx, dg.ev.scope) is True
        ]
        refs = ctx.prog.deps(val.elts[0], fit.ev, limit=30)
        text = " ".join(ast.unparse(r.node) for r in refs)
        if featurewise:
            if "standardize" in text or "featurewise" in text:
                continue
            what = ", ".join(featurewise) + " (mean/std computed by datagen.fit)"
        else:
            train_ops = pp.datagen_ops(dg)
            if flow.site.name == "flow" and (xs := flow.site.arg(0, "x")) is not None:
                # datagen.flow(x_train / 255, ...): the arrays' own steps count too
                train_ops = train_ops + pp.expr_ops(ctx.prog.deps(xs, flow.site.ev, limit=30))
            train_mode = combine(train_ops)
            val_mode = combine(pp.expr_ops(refs))
            if "?" in (train_mode, val_mode) or train_mode == val_mode:
                continue
            what = f"{MODES.get(train_mode, train_mode)}"
        if not once(ctx, "keras.raw_val", fit.node.lineno):
            continue
        ctx.add(
            "GL111",
            "train-eval-preprocessing-mismatch",
            "error",
            "The validation arrays skip the training generator's preprocessing",
            [dg.node.lineno, val.lineno],
            f"Training batches come from the ImageDataGenerator, which applies {what}; "
            "validation_data=(x, y) arrays are passed to the model as they are: fit() does not "
            "send them through the generator. The model is validated on inputs of another "
            "scale, so validation accuracy is low or erratic while training looks fine.",
            "Send the validation arrays through the same preprocessing, e.g.\n"
            "val_flow = ImageDataGenerator(<same rescale/featurewise settings>)  # fit it on "
            "x_train too\nmodel.fit(train_flow, validation_data=val_flow.flow(x_val, y_val, "
            "shuffle=False))\n# or x_val = datagen.standardize(x_val.astype('float32'))",
            [REFS["keras_idg"]],
        )


def _signature(ctx: Ctx, datagen: CallSite) -> tuple[str, ...]:
    parts = []
    for k in (
        "rescale",
        "preprocessing_function",
        "featurewise_center",
        "samplewise_center",
        "featurewise_std_normalization",
        "samplewise_std_normalization",
    ):
        node = datagen.kw(k)
        if node is None:
            continue
        v = ctx.prog.const(node, datagen.ev.idx, datagen.ev.scope)
        text = repr(round(v, 8)) if isinstance(v, float) else ast.unparse(node)
        parts.append(f"{k}={text}")
    return (", ".join(parts) or "no preprocessing",)


def _describe(mode: str, sig: tuple[str, ...]) -> str:
    return f"{sig[0]} ({MODES[mode]})" if mode in MODES else sig[0]


def _raw_predictions(ctx: Ctx) -> None:
    ks, pp = keras_script(ctx), preprocessing(ctx)
    for pred in (
        ctx.prog.method_calls("predict")
        + ctx.prog.method_calls("predict_on_batch")
        + ctx.prog.method_calls("evaluate")
    ):
        x = pred.arg(0, "x")
        if x is None or ks.flow_of(x, pred.ev) is not None:
            continue
        load_line = pp.loads_images(x, pred.ev)
        if not load_line:
            continue
        model = ks.model_for(pred)
        fits = [f for f in ks.fits() if ks.same_receiver(f, pred) and f.ev.idx < pred.ev.idx]
        if not fits:
            fits = [f for f in ks.fits() if model and ks.model_for(f) is model]
        linked = ""
        if not fits:
            fits, linked = _saved_then_loaded(ctx, pred)
        if not fits:
            fits, linked = evaluated_alike(ctx, pred, pp)
        if not fits:
            continue
        fit = fits[-1]
        xf = fit.arg(0, "x") or fit.kw("generator")
        flow = ks.flow_of(xf, fit.ev)
        train_ops = pp.flow_ops(flow) if flow and flow.datagen else pp.data_ops(xf, fit.ev) or []
        inside = pp.model_ops(ks.model_for(fit))
        pred_ops = pp.data_ops(x, pred.ev) or []
        got, want = combine(pred_ops + inside), combine(train_ops + inside)
        if "?" in (got, want) or got == want or not once(ctx, "keras.raw_pred", load_line):
            continue  # the same loaded images given to evaluate() and predict(): one cause
        steps = ", ".join(o.what for o in train_ops) or "nothing"
        ctx.add(
            "GL112",
            "train-eval-preprocessing-mismatch",
            "warning" if linked else "error",
            f"Images passed to {pred.name}() are not preprocessed the way training images were",
            [load_line, pred.node.lineno, *[o.line for o in train_ops][:1]],
            f"Training applied {steps} ({MODES.get(want, want)}), but the images loaded for "
            f"prediction get {MODES.get(got, got)}. The model sees inputs on another scale than "
            "during training, so predictions are wrong or always the same class although "
            f"validation accuracy was good.{linked}",
            "Apply exactly the training preprocessing before predict(), e.g.\n"
            "x = img_to_array(load_img(path, target_size=SIZE))[None]\n"
            + (
                "x = x / 255.0  # as rescale=1./255 in training"
                if want == "unit"
                else "x = preprocess_input(x)  # the backbone family's function"
            )
            + "\nor move preprocessing into the model (a Rescaling / preprocess_input step "
            "after Input) so no caller can forget it.",
            [REFS["keras_tl"]],
        )


def _saved_then_loaded(ctx: Ctx, pred: CallSite) -> tuple[list[CallSite], str]:
    """The fit() of the model that ``pred``'s model was loaded from: ``load_model(path)`` of
    a path some trained model was saved to with ``model.save(path)`` in the same paste."""
    ks = keras_script(ctx)
    site = ctx.prog.origin_call(pred.node.func.value, pred.ev)
    if site is None or site.name != "load_model":
        return [], ""
    path = ctx.prog.const(site.arg(0, "filepath"), site.ev.idx, site.ev.scope)
    if not isinstance(path, str):
        return [], ""
    for save in ctx.prog.method_calls("save"):
        if ctx.prog.const(save.arg(0, "filepath"), save.ev.idx, save.ev.scope) != path:
            continue
        fits = [f for f in ks.fits() if ks.same_receiver(f, save) and f.ev.idx < save.ev.idx]
        if fits:
            return fits, (
                f" (Inferred: the predicting model is loaded from {path!r}, which the trained "
                "model was saved to.)"
            )
    return [], ""


@check("keras.input_size")
def check_input_size(ctx: Ctx) -> None:
    """GL113 sizes that differ between phases or from the model; GL303 vs the native size."""
    if not uses_keras(ctx):
        return
    ks = keras_script(ctx)
    flows = [f for f in ks.flows if f.role and f.size]
    for tr in (f for f in flows if f.role == "train"):
        for other in flows:
            if other.role != "train" and other.size != tr.size:
                _size(
                    ctx,
                    [tr.line, other.line],
                    f"Images are resized to {_hw(tr.size)} for training but "
                    f"{_hw(other.size)} for {say(other.role)}",
                    "A CNN's features depend on the scale of the objects in the image; a head "
                    "trained on features of one size sees different features at another, so "
                    f"{say(other.role)} results are worse than the model can do.",
                    f"Use one constant: IMG_SIZE = {tr.size}, target_size=IMG_SIZE everywhere.",
                )
    declared = _declared_sizes(ctx)
    distinct = {size for size, _ in declared}
    if len(distinct) > 1:
        _size(
            ctx,
            [line for _, line in declared],
            "The model's input size changes between phases: "
            + " vs ".join(_hw(s) for s in sorted(distinct)),
            "Features (and Flatten sizes) computed at one input size do not match those at "
            "another, so a head trained in one phase starts the next from the wrong features.",
            "Build every phase with the same input_shape.",
        )
    if len(distinct) == 1:
        size, line = declared[0]
        for f in flows:
            if f.role == "train" and f.size != size:
                given = f.site.kw("target_size") or f.site.kw("image_size")
                default = "" if given is not None else " (the default, since it is not given)"
                _size(
                    ctx,
                    [line, f.line],
                    f"The model is built for {_hw(size)} inputs but the training images are "
                    f"{_hw(f.size)}{default}",
                    "Keras only warns when a model built for one input shape is called on "
                    "another; with global pooling it silently computes features at the wrong "
                    "scale, with Flatten it fails on the shapes.",
                    f"target_size={size}  # the same tuple as input_shape[:2]",
                )
    _native(ctx, declared, flows)
    _prediction_size(ctx, flows, declared)


def _prediction_size(ctx: Ctx, flows: list[Flow], declared) -> None:
    """GL113: an image loaded for predict() at another size than the model was trained at."""
    trained = {f.size for f in flows if f.role == "train" and f.size}
    sizes = trained or {size for size, _ in declared}
    if len(sizes) != 1:
        return
    size = sizes.pop()
    line = next((f.line for f in flows if f.role == "train"), 0) or declared[0][1]
    for pred in (
        ctx.prog.method_calls("predict")
        + ctx.prog.method_calls("predict_on_batch")
        + ctx.prog.method_calls("evaluate")
    ):
        x = pred.arg(0, "x")
        if x is None:
            continue
        for ref in ctx.prog.deps(x, pred.ev):
            for n in ast.walk(ref.node):
                got = resized_to(ctx, n, ref) if isinstance(n, ast.Call) else None
                if got is None or got == tuple(size):
                    continue
                if not once(ctx, "keras.predict_size", n.lineno):
                    continue
                _size(
                    ctx,
                    [line, n.lineno, pred.node.lineno],
                    f"The model was trained on {_hw(size)} images but predicts on images "
                    f"loaded at {_hw(tuple(got))}",
                    "The image given to predict() is resized to another size than the "
                    "training images: Keras fails on the shape (Flatten, a fixed Input) or, with "
                    "global pooling, computes features at another object scale, so the "
                    "prediction is unreliable although validation accuracy was good.",
                    f"load_img(path, target_size={tuple(size)})  # the training target_size",
                )


def _declared_sizes(ctx: Ctx) -> list[tuple[tuple, int]]:
    out = []
    for c in ctx.prog.calls:
        if c.name == "Input" or (c.name in ("InputLayer",)):
            shape = ctx.prog.const(c.arg(0, "shape"), c.ev.idx, c.ev.scope)
        elif any(a.site.node is c.node for a in keras_script(ctx).apps):
            shape = ctx.prog.const(c.kw("input_shape"), c.ev.idx, c.ev.scope)
        else:
            continue
        if (
            isinstance(shape, tuple | list)
            and len(shape) == 3
            and all(isinstance(v, int) for v in shape[:2])
        ):
            out.append((tuple(shape[:2]), c.node.lineno))
    return out


def _native(ctx: Ctx, declared, flows: list[Flow]) -> None:
    for app in keras_script(ctx).apps:
        if not app.pretrained or app.include_top:
            continue
        shape = ctx.prog.const(app.site.kw("input_shape"), app.site.ev.idx, app.site.ev.scope)
        if isinstance(shape, tuple | list) and len(shape) == 3:
            size, line = tuple(shape[:2]), app.site.node.lineno
        else:
            train = {f.size for f in flows if f.role == "train"}
            if len(train) != 1:
                continue
            size = train.pop()
            line = next(f.line for f in flows if f.role == "train")
        native = app.info.size
        if not all(isinstance(s, int) for s in size) or size == (native, native):
            continue
        if not once(ctx, "keras.native_size", app.info.name, size):
            continue
        ratio = min(size) / native
        extreme = ratio <= 0.5 or ratio >= 2
        ctx.add(
            "GL303",
            "input-size-mismatch",
            "warning" if extreme else "info",
            f"{app.info.name} runs at {_hw(size)}; its ImageNet weights were trained at "
            f"{native}x{native}",
            sorted({app.site.node.lineno, line}),
            f"Pretrained filters respond to objects at the scale seen in pre-training. "
            f"At {ratio:.2f}x the native size "
            + (
                "features change substantially and accuracy usually drops (the last feature "
                "map also becomes very small)."
                if extreme
                else "this usually works but costs some accuracy; it is a trade-off, not an error."
            ),
            f"input_shape=({native}, {native}, 3) and target_size=({native}, {native}), if "
            "memory and speed allow.",
            [REFS["keras_apps"]],
        )


def _hw(size) -> str:
    return f"{size[0]}x{size[1]}" if isinstance(size, tuple | list) else str(size)


def _size(ctx: Ctx, lines, title: str, why: str, fix: str) -> None:
    ctx.add(
        "GL113",
        "input-size-mismatch",
        "error",
        title,
        lines,
        why,
        fix,
        [REFS["keras_apps"], REFS["keras_idg"]],
    )


@check("keras.augmentation")
def check_augmentation(ctx: Ctx) -> None:
    """GL114 augmented validation/test data; GL115 augmentation in one phase only."""
    if not uses_keras(ctx):
        return
    ks = keras_script(ctx)
    for f in ks.flows:
        role = f.role if f.role != "predict" else f.name_role()
        aug = f.augmenting
        if role in ("val", "test") and aug and once(ctx, "keras.aug", f.datagen.node.lineno):
            split = (
                ctx.prog.const(
                    f.datagen.kw("validation_split"), f.datagen.ev.idx, f.datagen.ev.scope
                )
                if f.datagen
                else None
            )
            shared = isinstance(split, float) and split > 0
            ctx.add(
                "GL114",
                "augmented-evaluation",
                "warning",
                f"The {say(role)} images are augmented ({', '.join(aug)})",
                [f.datagen.node.lineno, f.line],
                f"The generator that feeds {say(role)} data applies random "
                f"{', '.join(aug)}, so every evaluation scores different, distorted images: "
                f"the {say(role)} numbers are noisy and lower than the model's real accuracy, and "
                "checkpoint selection / early stopping follow the noise."
                + (
                    " With validation_split, the 'validation' subset is drawn through the same "
                    "augmenting ImageDataGenerator."
                    if shared
                    else ""
                ),
                "Use a separate generator without augmentation for evaluation"
                + (
                    " (same validation_split, same directory, subset='validation')"
                    if shared
                    else ""
                )
                + ":\nval_datagen = ImageDataGenerator(rescale=1./255"
                + (", validation_split=0.2" if shared else "")
                + ")",
                [REFS["keras_idg"]],
            )
    _phase(ctx)
    _unused_augmentation(ctx)
    _mapped_augmentation(ctx)


def _augmenting_call(ctx: Ctx, n: ast.AST, at) -> bool:
    """A call of an augmentation layer, or of a Sequential made only of them."""
    if not isinstance(n, ast.Call):
        return False
    site = ctx.prog.origin_call(n.func, at) if isinstance(n.func, ast.Name) else None
    if site is None and isinstance(n.func, ast.Call):
        site = ctx.prog.call_site(n.func)
    if site is None:
        return False
    if site.name in KERAS_AUG_LAYERS:
        return True
    model = next((m for m in keras_script(ctx).models if m.site.node is site.node), None)
    kinds = [layer.kind for layer in model.layers] if model else []
    return bool(kinds) and all(k in KERAS_AUG_LAYERS for k in kinds)


def _mapped_augmentation(ctx: Ctx) -> None:
    """GL114: ``val_ds.map(lambda x, y: (augment(x, training=True), y))``."""
    for c in ctx.prog.method_calls("map"):
        recv = c.node.func.value
        name = recv.id if isinstance(recv, ast.Name) else ctx.prog.assigned_name(c.node)
        role = role_of(name or "")
        if role not in ("val", "test") or not c.node.args:
            continue
        fn = c.node.args[0]
        body = fn.body if isinstance(fn, ast.Lambda) else None
        if body is None and isinstance(fn, ast.Name) and fn.id in ctx.prog.functions:
            body = ctx.prog.functions[fn.id]
        layers = any(_augmenting_call(ctx, n, c.ev) for n in ast.walk(body)) if body else False
        if body is None or not (layers or random_calls(ctx, body, c.ev)):
            continue  # tf.image.random_* in the mapped function augments as well
        if not once(ctx, "keras.aug", c.node.lineno):
            continue
        ctx.add(
            "GL114",
            "augmented-evaluation",
            "warning",
            f"The {say(role)} dataset is mapped through the augmentation",
            [c.node.lineno],
            f"{name} is mapped through random augmentation, so every evaluation "
            f"scores different, distorted images: the {say(role)} numbers are noisy and "
            "lower than the model's real accuracy, and checkpoint selection follows the "
            "noise.",
            "Map only the training dataset through the augmentation (or put the "
            "augmentation layers in the model: they are inactive at evaluation).",
            [REFS["keras_tl"]],
        )


def _unused_augmentation(ctx: Ctx) -> None:
    """GL115: an augmentation model (RandomFlip, RandomRotation ...) is built and the model
    that is trained never applies it (nor does any ``ds.map``)."""
    ks = keras_script(ctx)
    if not ks.fits():
        return
    for model in ks.models:
        kinds = [layer.kind for layer in model.layers]
        if model.site.name != "Sequential" or not kinds:
            continue
        if not all(k in KERAS_AUG_LAYERS for k in kinds):
            continue
        name = ctx.prog.assigned_name(model.site.node)
        if not name:
            continue
        used = any(
            isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load)
            for ev in ctx.prog.events
            if ev.idx > model.site.ev.idx
            and not any(_only_plots(ctx.prog.events[i].node) for i in (*ev.loops, ev.idx))
            for n in ast.walk(ev.node)
        )
        if used or not once(ctx, "keras.unused_aug", model.site.node.lineno):
            continue
        fit = ks.fits()[0]
        ctx.add(
            "GL115",
            "augmentation-phase",
            "warning",
            f"{name} is built but the trained model never applies it",
            [model.site.node.lineno, fit.node.lineno],
            f"{name} holds only augmentation layers ({', '.join(kinds)}), but it is not a "
            "layer of the model that is trained and no dataset is mapped through it (at most "
            "it is used to plot examples): the training runs without augmentation, and the "
            "small dataset overfits.",
            f"Make it the first step of the model: x = {name}(inputs), then the "
            "preprocessing and the backbone.",
            [REFS["keras_tl"]],
        )


def _only_plots(node: ast.stmt) -> bool:
    """A statement (or loop) that only shows images: its calls are plotting calls."""
    text = ast.unparse(node) if isinstance(node, ast.For | ast.With) else ""
    return "plt." in text and ".fit(" not in text


def _phase(ctx: Ctx) -> None:
    ks = keras_script(ctx)
    bottleneck = []
    for pred in ctx.prog.method_calls("predict") + ctx.prog.method_calls("predict_generator"):
        if ks.app_of(pred.node.func.value, pred.ev) is None:
            continue
        flow = ks.flow_of(pred.arg(0, "x") or pred.kw("generator"), pred.ev)
        if flow is not None and flow.datagen is not None and not flow.augmenting:
            bottleneck.append((pred, flow))
    if not bottleneck:
        return
    for f in ks.flows:
        if f.role == "train" and f.augmenting:
            pred, flow = bottleneck[0]
            ctx.add(
                "GL115",
                "augmentation-phase",
                "warning",
                "Bottleneck features were computed without augmentation; fine-tuning uses it",
                [pred.node.lineno, f.datagen.node.lineno],
                "The head was fitted on features of clean images (computed once, no "
                f"augmentation), and the fine-tuning phase feeds it augmented images "
                f"({', '.join(f.augmenting)}). At the start of fine-tuning the head sees a "
                "different input distribution, its loss jumps and the large gradients flow "
                "into the pretrained layers, so fine-tuning can end worse than the frozen "
                "model (the LP-FT argument: keep the head's starting point valid).",
                "Either compute the bottleneck features from the same augmenting generator "
                "(several passes), or fit the head end-to-end on the frozen backbone with the "
                "augmenting generator before unfreezing; keep the same augmentation in both "
                "phases.",
                [REFS["lpft"], REFS["keras_blog"]],
            )
            return
