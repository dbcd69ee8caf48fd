"""Keras checks on the model's head: output units, activation, loss, metrics, include_top."""

from __future__ import annotations

import ast
import re
from dataclasses import replace

from graftlab.doctor._checks import declare
from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.common_rules import once
from graftlab.doctor.script.flow import UNKNOWN
from graftlab.doctor.script.frameworks import uses_keras
from graftlab.doctor.script.keras_graph import (
    KerasScript,
    activation_of,
    dense_activation,
    dense_units,
)
from graftlab.doctor.script.knowledge import REFS

_LOSS_NAME = {
    "binary": "binary_crossentropy",
    "categorical": "categorical_crossentropy",
    "sparse": "sparse_categorical_crossentropy",
}


def keras_script(ctx: Ctx) -> KerasScript:
    if "keras" not in ctx.cache:
        ctx.cache["keras"] = KerasScript(ctx.prog)
    return ctx.cache["keras"]


def floor_text(k: int) -> str:
    """``6/7 = 0.8571 (85.71%)`` for k = 7."""
    return f"{k - 1}/{k} = {(k - 1) / k:.4f} ({100 * (k - 1) / k:.2f}%)"


@check("keras.head")
def check_head(ctx: Ctx) -> None:
    """GL101 binary loss on a multi-class head, GL102 one-unit softmax, GL103 mismatches."""
    if not uses_keras(ctx):
        return
    ks = keras_script(ctx)
    prog = ctx.prog
    for dense in prog.find_calls("Dense", "TimeDistributedDense"):
        units = dense_units(prog, dense)
        act = dense_activation(prog, dense)
        if units == 1 and act == "softmax":
            _single_unit(ctx, [dense.node.lineno])
    for comp in ks.compiles():
        model = ks.model_for(comp)
        guessed = model is None and _built_elsewhere(ctx, comp)
        if guessed:
            model = ks.models[0]
        before = len(ctx.findings)
        _head_of(ctx, comp, model)
        for f in ctx.findings[before:] if guessed else ():
            f.severity = "warning" if f.severity == "error" else f.severity
            f.explanation += (
                f" (Inferred: the compiled model is not built in the code shown; the one model "
                f"the paste builds, line {model.site.node.lineno}, is taken to be it.)"
            )


def _built_elsewhere(ctx: Ctx, comp) -> bool:
    """``model.compile(...)`` on a name the paste never binds, while the paste builds exactly
    one model (a builder function's body pasted next to the training code)."""
    recv = comp.node.func.value if isinstance(comp.node.func, ast.Attribute) else None
    if not isinstance(recv, ast.Name):
        return False
    if ctx.prog.lookup(recv.id, comp.ev.idx, comp.ev.scope) is not None:
        return False
    return len(keras_script(ctx).models) == 1


def _head_of(ctx: Ctx, comp, model) -> None:
    """The checks of one compiled head: its output layer against its loss and labels."""
    ks = keras_script(ctx)
    prog = ctx.prog
    loss = ks.loss(comp)
    units, act, out_line = model.final(prog) if model else (UNKNOWN, None, 0)
    if units == 1 and act == "softmax":
        _single_unit(ctx, [out_line])
    if loss is None:
        return
    kind, from_logits, loss_line = loss
    if not once(ctx, "keras.head", out_line or loss_line, kind, from_logits):
        return  # the same head and loss compiled again for a second phase
    fits = ks.fits_for(comp)
    labels = {ks.label_format(f) for f in fits} - {None}
    metrics = ks.metrics(comp)
    acc = any(m in ("accuracy", "acc", "binary_accuracy") for m in metrics)
    lines = [out_line, loss_line]
    k = printed_classes(ctx)
    if kind == "binary" and units == 1 and k is not None and k > 2:
        flows = [ks.flow_of(f.arg(0, "x") or f.kw("generator"), f.ev) for f in fits]
        _one_unit_for_k_classes(ctx, k, lines + [f.line for f in flows if f is not None])
    elif kind == "binary":
        plain = any(m in ("accuracy", "acc") for m in metrics)  # not an explicit binary_accuracy
        _binary_multiclass(ctx, units, act, labels, acc, lines, plain)
    _mismatch(ctx, kind, from_logits, units, act, labels, lines, fits)


_FOUND = re.compile(r"Found (\d+) (?:images|files) belonging to (\d+) classes")


def printed_classes(ctx: Ctx) -> int | None:
    """The number of classes the loaders reported in the output pasted with the code
    (``Found 3000 images belonging to 3 classes.``), or None."""
    for line in ctx.src.printed():
        m = _FOUND.search(line)
        if m and int(m.group(1)) > 0:
            return int(m.group(2))
    return None


def _one_unit_for_k_classes(ctx: Ctx, k: int, lines: list[int]) -> None:
    ctx.add(
        "GL101",
        "binary-loss-multiclass",
        "error",
        f"The data has {k} classes, but the model has one output unit trained with binary "
        "cross-entropy",
        lines,
        f"The loader reported {k} classes ('Found ... images belonging to {k} classes' in the "
        "output shown with the code), but the model ends in a single unit and is trained with "
        "binary_crossentropy: one yes/no output cannot tell "
        f"{k} classes apart. With class_mode='binary' the labels are 0, 1, 2, ... and every "
        "class above 1 is an invalid target for the sigmoid, so the loss and the accuracy "
        "are meaningless and the model settles on the majority answer.",
        f"outputs = layers.Dense({k}, activation='softmax')(x)\n"
        "model.compile(loss='categorical_crossentropy', optimizer=..., metrics=['accuracy'])\n"
        "# and class_mode='categorical' in flow_from_directory (or label_mode='categorical')",
        [REFS["keras_losses"], REFS["keras_metrics"]],
    )


def _single_unit(ctx: Ctx, lines: list[int]) -> None:
    ctx.add(
        "GL102",
        "single-unit-softmax",
        "error",
        "Softmax over a single output unit: every prediction is 1.0",
        lines,
        "Softmax normalises over the units of each sample: with one unit it computes "
        "exp(z)/exp(z) = 1.0 whatever the image. Thresholded at 0.5 every image is predicted "
        "as the positive class, so accuracy equals the share of positive images (for example "
        "50% on a balanced set) and stays there; the loss is constant, so no gradient reaches "
        "the layers below and nothing learns.",
        "For two classes use one sigmoid unit:\n"
        "    outputs = layers.Dense(1, activation='sigmoid')(x)\n"
        "    model.compile(loss='binary_crossentropy', metrics=['accuracy'])  "
        "# class_mode='binary'\n"
        "or Dense(1) with keras.losses.BinaryCrossentropy(from_logits=True), or "
        "Dense(2, activation='softmax') with loss='categorical_crossentropy'.",
        [REFS["keras_losses"], REFS["keras_tl"]],
    )


_MULTI_LABEL = re.compile(
    r"(?i)multi[-_ ]?(?:label|hot|output)|MultiLabelBinarizer|\btags?\b|"
    r"class_mode\s*=\s*['\"](?:raw|other)|"
    r"(?:\b(?:y_?)?(?:pred\w*|prob\w*|scores?|outputs?)|predict\w*\([^()]*\))"
    r"\s*>=?\s*(?:0?\.\d|thresh\w*)"
)
_SINGLE_LABEL = re.compile(
    r"\b(?:argmax|predict_classes|to_categorical|confusion_matrix|classification_report)\("
)


def label_signs(ctx: Ctx) -> tuple[str | None, int]:
    """``("multi", line)`` when the code shows several labels per sample (a multi-hot encoder,
    predictions thresholded unit by unit, the words multi-label / tags); ``("single", line)``
    when it reads one class per sample (argmax, to_categorical, a confusion matrix); else
    ``(None, 0)``."""
    single = 0
    for i, line in enumerate(ctx.src.lines, 1):
        if _MULTI_LABEL.search(line):
            return "multi", i
        if not single and _SINGLE_LABEL.search(line.split("#", 1)[0]):
            single = i
    return ("single", single) if single else (None, 0)


def _binary_multiclass(ctx, units, act, labels, acc, lines, plain=False) -> None:
    one_hot = "onehot" in labels  # one label per image, from a class-per-folder loader
    inferred = ""
    if isinstance(units, int) and units > 2:
        k = units
        if act == "softmax":
            severity = "error"
        elif one_hot:
            severity = "error" if acc else "warning"
        elif not labels and plain and act == "sigmoid":
            # labels the paste does not show: single-label unless the code says otherwise
            kind, line = label_signs(ctx)
            if kind == "multi":
                return  # sigmoid units on multi-hot labels: a correct multi-label setup
            severity = "warning"
            lines = [*lines, *([line] if line else [])]
            inferred = (
                f" (Inferred: the labels are not in the code shown; line {line} reads one "
                "class per sample from the outputs.)"
                if line
                else " (Inferred: the labels are not in the code shown, and nothing in it "
                "says that a sample can have several classes. If it can (multi-label), "
                "sigmoid units with binary cross-entropy are right, but 'accuracy' is still "
                "this per-unit binary accuracy, inflated by the zeros: report "
                "precision/recall or AUC(multi_label=True) instead.)"
            )
        else:
            return  # sigmoid units on multi-hot labels: a correct multi-label setup
    elif units is UNKNOWN and one_hot:
        k, severity = None, "error" if acc else "warning"
    elif units is UNKNOWN and act == "softmax":
        k, severity = None, "warning"  # a softmax layer of K units: K > 2 is inferred
    else:
        return
    kk = f"the {k}" if k else "the K"
    floor = floor_text(k) if k else "(K-1)/K (6/7 = 0.8571, 85.71%, with 7 classes)"
    ctx.add(
        "GL101",
        "binary-loss-multiclass",
        severity,
        (
            f"Binary cross-entropy on {k} sigmoid units with 'accuracy': with one class per "
            f"sample it starts at {k - 1}/{k} = {100 * (k - 1) / k:.2f}% without learning"
            if inferred
            else f"Binary cross-entropy on a {k or 'K'}-class single-label head: 'accuracy' "
            "starts at "
            + (f"{k - 1}/{k} = {100 * (k - 1) / k:.2f}% without learning" if k else "(K-1)/K")
        ),
        lines,
        "With loss='binary_crossentropy', Keras turns metrics=['accuracy'] into "
        f"binary_accuracy: each of {kk} output units is thresholded at 0.5 and compared with "
        "its own 0/1 target, and the result is averaged over the units. With one-hot labels "
        f"only one target per image is 1, so predicting 0 for every unit already scores "
        f"{floor} without learning anything; the accuracy sits near that floor and is not "
        "classification accuracy. The loss also treats the classes as independent yes/no "
        f"questions instead of one choice among {k or 'K'}."
        + inferred
        + (
            ""
            if k
            else " (Inferred: the number of output units is not readable in the code shown; "
            "this holds when there are more than two classes.)"
        ),
        f"outputs = layers.Dense({k or 'num_classes'}, activation='softmax')(x)\n"
        "model.compile(optimizer=optimizer, loss='categorical_crossentropy',  "
        "# one-hot labels (class_mode='categorical')\n"
        "              metrics=['accuracy'])\n"
        "# with integer labels (class_mode='sparse' or image_dataset_from_directory's default "
        "label_mode='int') use loss='sparse_categorical_crossentropy'",
        [REFS["keras_metrics"], REFS["keras_losses"]],
    )


def _mismatch(ctx, kind, from_logits, units, act, labels, lines, fits) -> None:
    ks = keras_script(ctx)
    flows = [ks.flow_of(f.arg(0, "x") or f.kw("generator"), f.ev) for f in fits]
    fit_lines = [f.line for f in flows if f is not None][:1] or [f.node.lineno for f in fits][:1]

    def add(severity: str, title: str, why: str, fix: str, extra=()) -> None:
        ctx.add(
            "GL103",
            "activation-loss-mismatch",
            severity,
            title,
            [*lines, *extra],
            why,
            fix,
            [REFS["keras_losses"]],
        )

    loss_name = _LOSS_NAME.get(kind)
    if kind == "sparse" and "onehot" in labels:
        add(
            "error",
            "sparse_categorical_crossentropy with one-hot labels",
            "The generator yields one-hot label vectors (class_mode='categorical'), but the "
            "sparse loss expects one integer class index per image; Keras either fails on the "
            "shapes or reads the vectors as indices.",
            "Use loss='categorical_crossentropy' with one-hot labels, or class_mode='sparse' "
            "(label_mode='int') with the sparse loss.",
            fit_lines,
        )
    single_softmax = units == 1 and act == "softmax" and not labels & {"binary", "int"}
    if single_softmax:
        pass  # one cause: the one-unit softmax (GL102) says it
    elif kind == "categorical" and (units == 1 or labels & {"binary", "int"}):
        add(
            "error",
            "categorical_crossentropy with one output unit or integer labels",
            "Categorical cross-entropy needs one probability per class and one-hot targets. "
            "Over a single unit Keras normalises the output to 1.0, so the loss is 0 for every "
            "image and nothing learns; with integer labels (class_mode='binary'/'sparse') the "
            "shapes do not match.",
            "Two classes: Dense(1, activation='sigmoid') + loss='binary_crossentropy' with "
            "class_mode='binary'. K classes: Dense(K, activation='softmax') + "
            "'categorical_crossentropy' with class_mode='categorical' (or the sparse loss "
            "with integer labels).",
            fit_lines,
        )
    if kind == "binary" and units == 1 and "onehot" in labels:
        add(
            "error",
            "One output unit, but the generator yields one-hot labels",
            "flow_from_directory defaults to class_mode='categorical', which yields labels of "
            "shape (batch, 2) for two classes; the model outputs (batch, 1). Keras stops with "
            "a shape error or broadcasts the labels against the single unit.",
            "Pass class_mode='binary' to flow_from_directory (or label_mode='binary' to "
            "image_dataset_from_directory) to get one 0/1 label per image.",
            fit_lines,
        )
    if kind == "binary" and isinstance(units, int) and units >= 2 and "binary" in labels:
        add(
            "error",
            f"{units} output units, but class_mode='binary' yields one 0/1 label",
            "Each image has a single 0/1 label; Keras broadcasts it to every output unit, so "
            "all units are trained towards the same target and the accuracy is meaningless.",
            f"Use Dense(1, activation='sigmoid') with class_mode='binary', or "
            f"Dense({units}, activation='softmax') with class_mode='categorical' and "
            "loss='categorical_crossentropy'.",
            fit_lines,
        )
    if kind in ("categorical", "sparse") and act == "sigmoid" and units != 1 and not from_logits:
        add(
            "warning",
            f"Sigmoid output units trained with {loss_name or kind + ' cross-entropy'}",
            "Categorical cross-entropy expects one probability distribution over the classes "
            "(softmax outputs that sum to 1). Sigmoid units are independent yes/no scores: "
            "Keras divides them by their sum before the log, so the loss no longer matches "
            "what the model outputs, pushing the wrong units is barely penalised, and "
            "predict() returns scores that are not class probabilities.",
            "One class per sample: Dense(K, activation='softmax') with "
            "categorical_crossentropy (sparse_categorical_crossentropy for integer labels). "
            "Several labels per sample: keep sigmoid and use binary_crossentropy.",
        )
    if loss_name and from_logits and act in ("softmax", "sigmoid"):
        ctx.add(  # the activation applied twice: the model's own, then the loss's
            "GL107",
            "double-softmax",
            "warning",
            f"from_logits=True, but the model already ends in {act}: {act} is applied twice",
            lines,
            f"The loss applies {act} again to outputs that are already probabilities in "
            "[0, 1]: predictions are squashed towards uniform, gradients shrink, training is "
            "slow and the reported loss is wrong. Accuracy can still rise, which hides it.",
            "Either drop the activation (Dense(units) outputs logits) and keep "
            "from_logits=True, or keep the activation and use from_logits=False.",
            [REFS["keras_losses"]],
        )
    if loss_name and not from_logits and act == "linear":
        add(
            "error",
            f"{loss_name} on a linear output layer with from_logits=False",
            "The last Dense layer has no activation, so it outputs unbounded logits, but the "
            "loss is told it receives probabilities: Keras clips them to [1e-7, 1 - 1e-7] "
            "(and normalises by their sum for the categorical losses), so negative logits "
            "give no gradient and training stalls or diverges.",
            f"keras.losses.{_class_name(kind)}(from_logits=True), or give the last layer "
            f"activation={'sigmoid' if kind == 'binary' else 'softmax'}.",
        )


def _class_name(kind: str) -> str:
    return {
        "binary": "BinaryCrossentropy",
        "categorical": "CategoricalCrossentropy",
        "sparse": "SparseCategoricalCrossentropy",
    }[kind]


declare(
    "GL106",
    "double-softmax",
    "error",
    "script",
    "The activation the model already applies is applied again to its predictions",
    (REFS["keras_losses"],),
)
declare(
    "GL107",
    "double-softmax",
    "warning",
    "script",
    "from_logits=True on a model that already ends in softmax or sigmoid",
    (REFS["keras_losses"],),
)
_LOSS_CLASSES = {"CategoricalCrossentropy", "SparseCategoricalCrossentropy", "BinaryCrossentropy"}


@check("keras.loss_call")
def check_loss_call(ctx: Ctx) -> None:
    """GL107 for custom training code: ``loss_fn = SparseCategoricalCrossentropy(
    from_logits=True)`` called on ``model(x)`` of a model that already ends in softmax."""
    if not uses_keras(ctx):
        return
    ks = keras_script(ctx)
    prog = ctx.prog
    for c in prog.calls:
        f = c.node.func
        loss = prog.call_site(f) if isinstance(f, ast.Call) else prog.origin_call(f, c.ev)
        if loss is None or loss.name not in _LOSS_CLASSES or len(c.node.args) < 2:
            continue
        if prog.const(loss.kw("from_logits"), loss.ev.idx, loss.ev.scope) is not True:
            continue
        for ref in prog.deps(c.node.args[1], c.ev, limit=20):
            at = prog.events[min(ref.idx, len(prog.events) - 1)]
            for n in ast.walk(ref.node):
                model = ks.model_of(n.func, at) if isinstance(n, ast.Call) else None
                units, act, out_line = model.final(prog) if model else (UNKNOWN, None, 0)
                if act not in ("softmax", "sigmoid") or (units == 1 and act == "softmax"):
                    continue
                if not once(ctx, "keras.head", out_line, "logits-call"):
                    continue
                ctx.add(
                    "GL107",
                    "double-softmax",
                    "warning",
                    f"{loss.name}(from_logits=True) is computed on the output of a model "
                    f"that already ends in {act}",
                    sorted({out_line, n.lineno, c.node.lineno, loss.node.lineno}),
                    f"The model's last layer applies {act}, so {ast.unparse(n)} returns "
                    f"probabilities; the loss, told they are logits, applies {act} again: "
                    "predictions are squashed towards uniform, gradients shrink and training "
                    "converges slowly or not at all.",
                    f"Drop the activation of the last layer (Dense(units) outputs logits) and "
                    f"keep from_logits=True, or keep {act} and use from_logits=False.",
                    [REFS["keras_losses"]],
                )


_ACTIVATION_FNS = {"sigmoid": "sigmoid", "expit": "sigmoid", "softmax": "softmax"}
_PREDICTS = {"predict", "predict_on_batch", "predict_generator"}


@check("keras.activation_twice")
def check_activation_twice(ctx: Ctx) -> None:
    """GL106: ``tf.nn.sigmoid(model.predict(x))`` on a model that already ends in sigmoid."""
    if not uses_keras(ctx):
        return
    ks = keras_script(ctx)
    prog = ctx.prog
    _twice_in_model(ctx)
    for c in prog.calls:
        act = _ACTIVATION_FNS.get(c.name)
        if act is None or not c.node.args or not c.qual.startswith(("tf.", "keras.", "scipy")):
            continue
        for ref in prog.deps(c.node.args[0], c.ev, limit=20):
            for n in ast.walk(ref.node):
                site = prog.call_site(n) if isinstance(n, ast.Call) else None
                if site is None or site.name not in _PREDICTS:
                    continue
                model = ks.model_for(site)
                _, final, out_line = model.final(prog) if model else (UNKNOWN, None, 0)
                if final != act or not once(ctx, "keras.activation_twice", c.node.lineno):
                    continue
                ctx.add(
                    "GL106",
                    "double-softmax",
                    "error",
                    f"{act} is applied to predictions that already went through {act}",
                    [out_line, site.node.lineno, c.node.lineno],
                    f"The model's last layer already applies {act}, so predict() returns "
                    f"probabilities; applying {act} again "
                    + (
                        "maps every probability in [0, 1] into [0.5, 0.73]: thresholded at "
                        "0.5, every image is predicted as the positive class."
                        if act == "sigmoid"
                        else "flattens them towards uniform, so the reported confidences are "
                        "wrong (the argmax is kept)."
                    ),
                    f"Use the predictions as they are (they are {act} outputs), or end the "
                    f"model in a linear Dense layer (logits) if you want to apply {act} "
                    "yourself; then compile with from_logits=True.",
                    [REFS["keras_losses"]],
                )


_PASS = {"Dropout", "Flatten", "Reshape", "BatchNormalization", "GaussianNoise"}


def _twice_in_model(ctx: Ctx) -> None:
    """GL106: the model's output goes through softmax twice (``Dense(k, 'softmax')`` then
    ``Activation('softmax')`` / ``Softmax()``)."""
    ks = keras_script(ctx)
    prog = ctx.prog
    for model in ks.models:
        seen: list[tuple[str, int]] = []
        for layer in reversed(model.layers):
            site = layer.site
            if layer.kind in _PASS or site is None:
                continue
            if layer.kind == "Softmax":
                seen.append(("softmax", site.node.lineno))
            elif layer.kind == "Activation":
                seen.append(
                    (
                        activation_of(prog, site.arg(0, "activation"), site.ev) or "?",
                        site.node.lineno,
                    )
                )
            elif layer.kind == "Dense":
                seen.append(
                    (
                        activation_of(prog, site.arg(1, "activation"), site.ev) or "?",
                        site.node.lineno,
                    )
                )
                break
            else:
                break
        acts = [a for a, _ in seen if a != "linear"]
        if len(acts) < 2 or acts[0] != acts[1] or acts[0] not in ("softmax", "sigmoid"):
            continue
        if not once(ctx, "keras.twice_in_model", model.site.node.lineno):
            continue
        act = acts[0]
        ctx.add(
            "GL106",
            "double-softmax",
            "error",
            f"The model applies {act} twice at its output",
            [line for a, line in seen if a == act][:2],
            f"The last Dense layer already has activation='{act}' and the next layer applies "
            f"{act} again: the outputs are squashed "
            + (
                "towards a uniform distribution (softmax of probabilities), gradients are "
                "tiny and the loss stalls near log(K)."
                if act == "softmax"
                else "into [0.5, 0.73], so every prediction is the positive class."
            ),
            f"Keep one {act}: Dense(units, activation='{act}') and no extra Activation layer.",
            [REFS["keras_losses"]],
        )


@check("keras.include_top")
def check_include_top(ctx: Ctx) -> None:
    """GL104: layers stacked on a backbone that still has its ImageNet classifier."""
    if not uses_keras(ctx):
        return
    ks = keras_script(ctx)
    pops = [
        c
        for c in ctx.prog.method_calls("pop")
        if isinstance(c.node.func.value, ast.Attribute) and c.node.func.value.attr == "layers"
    ]
    if pops:
        _popped_top(ctx, pops)
        return  # the old "pop the classifier" idiom: the user taps features explicitly
    for model in ks.models:
        for i, layer in enumerate(model.layers[:-1]):
            app = layer.app
            if app is None or not app.include_top:
                continue
            nxt = model.layers[i + 1]
            nxt_line = nxt.applied or (nxt.site.node if nxt.site else None)
            _include_top(ctx, app, [app.site.node.lineno, getattr(nxt_line, "lineno", 0)])
    for pred in ctx.prog.method_calls("predict") + ctx.prog.method_calls("predict_generator"):
        app = ks.app_of(pred.node.func.value, pred.ev)
        if app is None or not app.include_top:
            continue
        name = ctx.prog.assigned_name(pred.node) or ""
        if any(w in name.lower() for w in ("feature", "bottleneck", "embed")):
            _include_top(ctx, app, [app.site.node.lineno, pred.node.lineno])


def _popped_top(ctx: Ctx, pops) -> None:
    """GL104: ``model.layers.pop()`` on a backbone with its classifier, then new layers on
    ``model.layers[-1].output`` / ``model.output``. In tf.keras ``model.layers`` is a copy, so
    nothing is removed and the head is stacked on the ImageNet softmax."""
    ks = keras_script(ctx)
    for pop in pops:
        app = ks.app_of(pop.node.func.value.value, pop.ev)
        if app is None or not app.include_top or not once(ctx, "keras.pop", pop.node.lineno):
            continue
        ctx.add(
            "GL104",
            "include-top",
            "error" if ctx.tf2 else "warning",
            f"model.layers.pop() does not remove {app.info.name}'s ImageNet classifier",
            [app.site.node.lineno, pop.node.lineno],
            "model.layers returns a list of the layers; popping from it changes the list, not "
            "the model: the model's output is still the 1000-way ImageNet softmax, and "
            "layers[-1].output / model.output is that softmax. The new head learns from 1000 "
            "class probabilities instead of image features, so accuracy plateaus low."
            + (
                ""
                if ctx.tf2
                else " (Standalone Keras 2 removed the layer from the list but also left "
                "model.output unchanged unless outputs were rewired by hand.)"
            ),
            f"Build the backbone without its classifier:\nbase = keras.applications."
            f"{app.info.name}(weights='imagenet', include_top=False, pooling='avg')\n"
            "outputs = Dense(num_classes, activation='softmax')(base.output)",
            [REFS["keras_tl"], REFS["keras_apps"]],
        )


def _include_top(ctx: Ctx, app, lines: list[int]) -> None:
    name = app.info.name
    ctx.add(
        "GL104",
        "include-top",
        "error",
        f"{name} keeps its ImageNet classifier (include_top=True) and new layers are stacked on it",
        lines,
        f"With include_top=True (the default) {name}'s output is the softmax over the 1000 "
        "ImageNet classes, not image features. The new head learns from 1000 probabilities "
        "that are near zero for anything that is not an ImageNet class, so accuracy "
        f"plateaus far below what the backbone's features allow. It also pins the input to "
        f"{app.info.size}x{app.info.size}.",
        f"base_model = keras.applications.{name}(weights='imagenet', include_top=False,\n"
        f"    input_shape=({app.info.size}, {app.info.size}, 3))\n"
        "x = base_model(inputs, training=False)\n"
        "x = keras.layers.GlobalAveragePooling2D()(x)\n"
        "outputs = keras.layers.Dense(num_classes, activation='softmax')(x)",
        [REFS["keras_tl"], REFS["keras_apps"]],
    )


@check("keras.monitor")
def check_monitor(ctx: Ctx) -> None:
    """GL105: callbacks monitoring a metric name the model never logs."""
    if not uses_keras(ctx):
        return
    ks = keras_script(ctx)
    prog = ctx.prog
    for cb in prog.find_calls("ModelCheckpoint", "EarlyStopping", "ReduceLROnPlateau"):
        pos = 1 if cb.name == "ModelCheckpoint" else 0
        if cb.name == "ModelCheckpoint" and cb.kw("save_best_only") is None:
            continue  # saves every epoch: the monitored value is never read
        if prog.const(cb.kw("save_best_only"), cb.ev.idx, cb.ev.scope) is False:
            continue
        node = cb.arg(pos, "monitor")
        monitor = "val_loss" if node is None else prog.const(node, cb.ev.idx, cb.ev.scope)
        if not isinstance(monitor, str):
            continue
        fits = [f for f in ks.fits() if _uses_callback(prog, f, cb)] or ks.fits()
        if not fits:
            continue
        base = monitor[4:] if monitor.startswith("val_") else monitor
        if monitor.startswith("val_") and not any(ks.has_validation(f) for f in fits):
            explicit = node is not None
            _monitor(
                ctx,
                cb,
                fits,
                "error" if explicit else "warning",
                f"{cb.name} monitors {monitor!r}, but fit() gets no validation data",
                f"Without validation_data (or validation_split) Keras logs no 'val_*' "
                f"values, so {monitor!r} never exists: {_consequence(cb.name, monitor)}",
                "Pass validation_data=val_data to fit(), or monitor a training metric "
                f"such as {base!r}.",
            )
            continue
        logged = {"loss"}
        comps = [c for c in (ks.compile_for(f) for f in fits) if c is not None]
        if not comps:
            continue  # the model was compiled where the script cannot be followed
        unknown = False
        for comp in comps:
            for m in ks.metrics(comp):
                unknown |= m is None
                logged.add(m or "")
        if base in logged or base.startswith(("lr", "learning_rate")):
            continue
        confusion = (base == "acc" and "accuracy" in logged) or (
            base == "accuracy" and "acc" in logged
        )
        if unknown and not confusion:
            continue
        if base == "acc" and "accuracy" in logged and not ctx.tf2:
            severity = "warning"
            version = (
                " Standalone Keras before 2.3 logged metrics=['accuracy'] as 'acc'; "
                "Keras 2.3+, tf.keras and Keras 3 log 'accuracy'."
            )
        else:
            severity, version = "error", ""
        logged_names = sorted(n for n in logged if n)
        shown = ", ".join(repr(n) for n in logged_names)
        val_shown = ", ".join(repr("val_" + n) for n in logged_names)
        _monitor(
            ctx,
            cb,
            fits,
            severity,
            f"{cb.name} monitors {monitor!r}, which the model does not log",
            f"The compiled model logs {shown} (and {val_shown} with validation data). "
            f"{monitor!r} is none of them: {_consequence(cb.name, monitor)}{version}",
            f"{cb.name}(..., monitor={'val_' + _closest(base, logged_names)!r}"
            f"{', mode=' + repr('max') if 'acc' in base else ''})  "
            "# the name must match history.history's keys",
        )


def _closest(base: str, names: list[str]) -> str:
    if "acc" in base:
        return next((n for n in names if "acc" in n), "accuracy")
    return "loss"


def _consequence(cb: str, monitor: str) -> str:
    return {
        "ModelCheckpoint": f"Keras warns 'Can save best model only with {monitor} available, "
        "skipping' every epoch and no checkpoint is ever written, so the 'best' model you "
        "load afterwards is missing or stale.",
        "EarlyStopping": f"Keras warns that {monitor} is not available and training never "
        "stops early (and restore_best_weights restores nothing).",
        "ReduceLROnPlateau": "the learning rate is never reduced.",
    }[cb]


def _monitor(ctx, cb, fits, severity, title, why, fix) -> None:
    # several callbacks watching values that are missing for the same reason are one cause:
    # one finding naming them all ("ModelCheckpoint and ReduceLROnPlateau monitor 'val_acc'")
    monitor = title.split(" monitors ", 1)[1].split("'")[1]
    rest = title.split(f"{monitor!r}", 1)[1]
    key = rest if "no validation data" in rest else f"{monitor}{rest}"
    lines = [cb.node.lineno, fits[0].node.lineno]
    merged = ctx.cache.setdefault("keras.monitor", {})
    if key in merged:
        i, names, monitors, seen = merged[key]
        names.append(cb.name)
        if monitor not in monitors:
            monitors.append(monitor)
        seen.update(lines)
        f = ctx.findings[i]
        ctx.findings[i] = replace(
            f,
            title=f"{' and '.join(names)} monitor {' and '.join(repr(m) for m in monitors)}{rest}",
            evidence="\n".join(ctx.src.evidence(n) for n in sorted(seen)),
            severity="error" if "error" in (f.severity, severity) else f.severity,
            explanation=f"{f.explanation} {cb.name}: {_consequence(cb.name, monitor)}",
        )
        return
    merged[key] = (len(ctx.findings), [cb.name], [monitor], set(lines))
    ctx.add(
        "GL105",
        "monitor-metric-missing",
        severity,
        title,
        [cb.node.lineno, fits[0].node.lineno],
        why,
        fix,
        [REFS["keras_checkpoint"], REFS["keras_compile"]],
    )


def _uses_callback(prog, fit, cb) -> bool:
    node = fit.kw("callbacks")
    if node is None:
        return False
    r = prog.origin(node, fit.ev.idx, fit.ev.scope)
    elts = r.node.elts if isinstance(r.node, ast.List | ast.Tuple) else []
    for e in elts:
        site = prog.origin_call(e, r)
        if site is not None and site.node is cb.node:
            return True
    return False
