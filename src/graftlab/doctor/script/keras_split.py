"""Keras checks on what is evaluated on: leakage, shuffling and label order."""

from __future__ import annotations

import ast
import re

from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.common_rules import SCORES, once
from graftlab.doctor.script.flow import CallSite, ElementOf
from graftlab.doctor.script.frameworks import uses_keras
from graftlab.doctor.script.keras_graph import _DATASET_METHODS, Flow, role_of
from graftlab.doctor.script.keras_model import keras_script
from graftlab.doctor.script.knowledge import REFS, say
from graftlab.doctor.script.label_rules import value_key


def same_dir_finding(
    ctx: Ctx, path: str, lines: list[int], role: str, code: str, *, named: bool = True
) -> None:
    """GL302. ``named``: the held-out data's own name says it is held out (``val_flow``,
    ``test_generator``), so its author believes it is new images: an error. When only its use
    (``evaluate(flow)``) gives the role, and the folder's own name says it is training data,
    the author evaluates on the training folder knowingly (a fit-versus-evaluate comparison on
    the same images): a question, or a warning when it is the validation data that steers
    early stopping and checkpoints."""
    knowingly = not named and role_of(path.rstrip("/")) == "train"
    if named:
        severity = "error"
        title = f"Training and {say(role)} data are read from the same folder {path!r}"
    elif knowingly and role == "test":
        severity = "info"
        title = f"Is evaluating on the training folder {path!r} meant as a check on seen images?"
    else:
        severity = "warning"
        title = f"Training and {say(role)} data are read from the same folder {path!r}"
    inferred = (
        ""
        if named
        else f" (The {say(role)} role is read from where the data is used, not from a name; "
        "comparing fit and evaluate on the same images is a legitimate check, but then the "
        "score is not a measure on new images.)"
    )
    ctx.add(
        "GL302",
        "data-leakage",
        severity,
        title,
        lines,
        f"The {say(role)} images are the training images, so the {say(role)} score measures "
        "memorisation: it tracks training accuracy, looks excellent and says nothing about "
        "new images. Early stopping and checkpoint selection are blind to overfitting." + inferred,
        f"Point the {say(role)} loader at its own folder (data/{role}), or split once with a "
        "fixed seed and keep the split (graftlab does this for you).",
        [REFS["keras_idfd"] if code == "keras" else REFS["tv_tutorial"]],
    )


@check("keras.leakage")
def check_leakage(ctx: Ctx) -> None:
    """GL302 same folder; GL116 validation on the training data or overlapping subsets."""
    if not uses_keras(ctx):
        return
    ks = keras_script(ctx)
    flows = ks.flows
    for tr in (f for f in flows if f.role == "train"):
        for other in flows:
            if other.role not in ("val", "test") or other is tr:
                continue
            if not isinstance(tr.directory, str) or tr.directory != other.directory:
                continue
            if _split_subsets(ctx, tr, other):
                continue
            if other.kwc("subset", None) == "validation" and tr.kwc("subset", None) is None:
                _leak(
                    ctx,
                    [other.line, tr.line],
                    "The training flow reads the whole folder, including the validation subset",
                    "With validation_split, only the flow created with subset='training' "
                    "excludes the validation images; this training flow has no subset, so "
                    "it trains on the validation images too.",
                    "Pass subset='training' to the training flow_from_directory call.",
                )
                continue
            named = other.name_role() in ("val", "test")
            same_dir_finding(
                ctx, tr.directory, [tr.line, other.line], other.role, "keras", named=named
            )
    for fit in ks.fits():
        _validation_is_training(ctx, fit)
    _idfd_seeds(ctx, flows)
    _test_is_validation(ctx, flows)
    _tfds_same_split(ctx)


def _fed_to(ctx: Ctx, load: CallSite) -> str | None:
    """The role of a dataset by where it ends up, whatever its variable is called: the data
    ``fit`` trains on, its ``validation_data``, or what ``evaluate`` reads."""
    for c in ctx.prog.calls:
        if c.name in ("fit", "fit_generator"):
            parts = [("train", c.arg(0, "x")), ("val", c.kw("validation_data"))]
        elif c.name == "evaluate":
            parts = [("test", c.arg(0, "x"))]
        else:
            continue
        for role, node in parts:
            refs = ctx.prog.deps(node, c.ev, limit=30) if node is not None else []
            if any(n is load.node for r in refs for n in ast.walk(r.node)):
                return role
    return None


def _tfds_same_split(ctx: Ctx) -> None:
    """GL116: ``tfds.load(name, split="train")`` for training and the same split (or a slice
    of it, ``"train[80%:]"``, while training reads all of it) for validation or test."""
    loads = []
    for c in ctx.prog.calls:
        if c.name != "load" or not c.qual.startswith(("tensorflow_datasets", "tfds")):
            continue
        name = ctx.prog.const(c.arg(0, "name"), c.ev.idx, c.ev.scope)
        split = ctx.prog.const(c.kw("split"), c.ev.idx, c.ev.scope)
        var = ctx.prog.assigned_name(c.node)
        role = (role_of(var) if var else None) or _fed_to(ctx, c)
        if isinstance(name, str) and isinstance(split, str) and role:
            loads.append((name, split.replace(" ", ""), role, c.node.lineno))
    for name, tr_split, tr_role, tr_line in loads:
        if tr_role != "train":
            continue
        for other, split, role, line in loads:
            if other != name or role not in ("val", "test"):
                continue
            base = split.split("[", 1)[0]
            if split != tr_split and tr_split != base:
                continue  # another split, or two slices (train[:80%] / train[80%:])
            _leak(
                ctx,
                [tr_line, line],
                f"The {say(role)} data is the training split {split!r} of {name!r}",
                f"tfds.load({name!r}) gives training the split {tr_split!r} and the "
                f"{say(role)} set {split!r}, "
                + (
                    "the same split"
                    if split == tr_split
                    else f"a slice of the {base!r} split that training reads whole"
                )
                + f": the {say(role)} images are training images, so the score measures "
                "memorisation.",
                f"tfds.load({name!r}, split=['{base}[:80%]', '{base}[80%:]']) (or the "
                "dataset's own 'test'/'validation' split) for the held-out part.",
            )


def _test_is_validation(ctx: Ctx, flows: list[Flow]) -> None:
    """GL116: the test flow reads the validation folder (the one that chose the model)."""
    for test in (f for f in flows if f.role == "test" and _dir_key(f) is not None):
        val = next((f for f in flows if f.role == "val" and _dir_key(f) == _dir_key(test)), None)
        named = _dir_role(ctx, test)
        if val is None and named != "val":
            continue
        if not once(ctx, "keras.test_is_val", test.line):
            continue
        lines = [test.line] + ([val.line] if val is not None else [])
        ctx.add(
            "GL116",
            "data-leakage",
            "error" if val is not None else "warning",
            f"The test data is read from the validation folder {_dir_key(test)[1]}",
            lines,
            "The images the model is tested on are the validation images, which already chose "
            "the epoch, the checkpoint and the hyper-parameters: the 'test' accuracy repeats "
            "the validation accuracy and is optimistic; no untouched data is measured."
            + (
                ""
                if val is not None
                else " (Inferred from the folder's name: the validation flow itself was not "
                "found in the code shown.)"
            ),
            "Read the test folder for the test generator:\n"
            "test_generator = test_datagen.flow_from_directory(test_dir, ...)",
            [REFS["keras_idfd"], REFS["keras_compile"]],
        )


def _dir_key(flow: Flow) -> tuple[str, str] | None:
    """The folder a flow reads: its path when it can be folded, else the variable holding it
    (two flows given the same ``validation_dir`` read the same folder)."""
    if isinstance(flow.directory, str):
        return ("path", repr(flow.directory))
    pos = 1 if flow.site.name == "flow_from_dataframe" else 0
    node = flow.site.arg(pos, "directory")
    return ("name", node.id) if isinstance(node, ast.Name) else None


def _dir_role(ctx: Ctx, flow: Flow) -> str | None:
    """The role the folder's path or variable name says (``validation_dir``)."""
    if isinstance(flow.directory, str) and (r := role_of(flow.directory.rstrip("/"))):
        return r
    pos = 1 if flow.site.name == "flow_from_dataframe" else 0
    node = flow.site.arg(pos, "directory")
    return role_of(node.id) if isinstance(node, ast.Name) else None


def _split_subsets(ctx: Ctx, a: Flow, b: Flow) -> bool:
    subsets = {a.kwc("subset", None), b.kwc("subset", None)}
    return subsets == {"training", "validation"}


_SLICE = re.compile(r"^\w+\[[^\]]*\]$")  # a tfds split slice, "train[:80%]"


def _validation_is_training(ctx: Ctx, fit: CallSite) -> None:
    ks = keras_script(ctx)
    val = fit.kw("validation_data")
    x = fit.arg(0, "x") or fit.kw("generator")
    if val is None or x is None:
        return
    vflow, xflow = ks.flow_of(val, fit.ev), ks.flow_of(x, fit.ev)
    same = vflow is not None and vflow is xflow
    if same:  # one flow call in a helper run twice (get_flow(train_dir), get_flow(val_dir))
        rv, rx = (
            ctx.prog.origin(val, fit.ev.idx, fit.ev.scope),
            ctx.prog.origin(x, fit.ev.idx, fit.ev.scope),
        )
        same = rv.idx == rx.idx and rv.scope == rx.scope
    named = False  # only the variable's name says it is training data
    first = val.elts[0] if isinstance(val, ast.Tuple | ast.List) and val.elts else None
    if first is not None and isinstance(first, ast.Name):
        same |= isinstance(x, ast.Name) and first.id == x.id
        named |= role_of(first.id) == "train"
    if isinstance(val, ast.Name) and isinstance(x, ast.Name):
        same |= val.id == x.id
        named |= role_of(val.id) == "train" and vflow is None
    if named and not same and once(ctx, "keras.val", fit.node.lineno):
        _leak(
            ctx,
            [fit.node.lineno],
            "fit() validates on data named as training data",
            "validation_data is a variable named as training data; if it is the training "
            "set, val_loss / val_accuracy repeat the training numbers, hide overfitting and "
            "mislead every callback that monitors them (inferred from the name only).",
            "model.fit(x_train, y_train, validation_data=(x_val, y_val), ...)  "
            "# a held-out split, e.g. train_test_split(..., stratify=y, random_state=0)",
            severity="warning",
        )
        return
    if not same and val is not None:
        names = {
            n.id
            for ref in ctx.prog.deps(val, fit.ev, limit=30)
            for n in ast.walk(ref.node)
            if isinstance(n, ast.Name)
        }
        names -= {n.id for n in ast.walk(val) if isinstance(n, ast.Name)}  # its own name
        # subset="validation", a "val/" path: a held-out part named by a string
        names |= {
            n.value
            for ref in ctx.prog.deps(val, fit.ev, limit=30)
            for n in ast.walk(ref.node)
            if isinstance(n, ast.Constant)
            and isinstance(n.value, str)
            and len(n.value) < 200
            and not _SLICE.match(n.value)  # "train[80%:]": a held-out slice, read by the caller
        }
        roles = {role_of(n) for n in names} - {None}
        if (
            "train" in roles
            and not roles & {"val", "test"}
            and once(ctx, "keras.val", fit.node.lineno)
        ):
            ctx.add(
                "GL116",
                "data-leakage",
                "warning",
                "The validation data is built from the training data",
                [val.lineno, fit.node.lineno],
                "validation_data is made only from names of the training data ("
                + ", ".join(sorted(n for n in names if role_of(n) == "train"))
                + "), so val_loss / val_accuracy repeat the training numbers and hide "
                "overfitting (inferred from the variable names: no validation source is used).",
                "Build the validation data from the held-out split (val_dataloader / x_val).",
                [REFS["keras_idfd"], REFS["keras_compile"]],
            )
        return
    if same:
        held_out = _held_out_source(ctx)
        _leak(
            ctx,
            [fit.node.lineno, held_out],
            "fit() validates on the training data",
            "validation_data is the training set, so val_loss / val_accuracy repeat the "
            "training numbers: they look excellent, hide overfitting, and every callback that "
            "monitors them (checkpoints, early stopping) picks the wrong epoch."
            + (
                " The script has held-out data that is not used for validation."
                if held_out
                else " (The code shows no held-out data at all, so this may be deliberate, "
                "for example to compare the model's training-mode and inference-mode numbers "
                "on the same images; then the val_ numbers are not a generalisation "
                "estimate.)"
            ),
            "model.fit(x_train, y_train, validation_data=(x_val, y_val), ...)  "
            "# a held-out split, e.g. train_test_split(..., stratify=y, random_state=0)",
            severity="error" if held_out else "warning",
        )


def _held_out_source(ctx: Ctx) -> int:
    """First line that makes validation or test data (a variable, a folder or a flow whose
    name says so), or 0 when the script has none: then validating on the training data cannot
    be a slip between two sources."""
    for ev in ctx.prog.events:
        node = ev.node
        if isinstance(node, ast.Assign):
            for t in node.targets:
                for n in ast.walk(t):
                    if isinstance(n, ast.Name) and role_of(n.id) in ("val", "test"):
                        return node.lineno
        for n in ast.walk(node) if isinstance(node, ast.Assign | ast.Expr) else ():
            if (
                isinstance(n, ast.Constant)
                and isinstance(n.value, str)
                and len(n.value) < 200
                and role_of(n.value) in ("val", "test")
            ):
                return node.lineno
            if isinstance(n, ast.keyword) and n.arg in ("validation_split", "test_size"):
                return node.lineno
    return 0


def _idfd_seeds(ctx: Ctx, flows: list[Flow]) -> None:
    by_dir: dict[str, list[Flow]] = {}
    for f in flows:
        if (
            f.site.name == "image_dataset_from_directory"
            and isinstance(f.directory, str)
            and f.kwc("validation_split", None) is not None
        ):
            by_dir.setdefault(f.directory, []).append(f)
    for group in by_dir.values():
        subsets = {f.kwc("subset", None): f for f in group}
        tr, va = subsets.get("training"), subsets.get("validation")
        if tr is None or va is None or tr.shuffle is False:
            continue
        seeds = (tr.kwc("seed", None), va.kwc("seed", None))
        if seeds[0] == seeds[1] and seeds[0] is not None:
            continue
        _leak(
            ctx,
            [tr.line, va.line],
            "The training and validation subsets are drawn with different seeds",
            f"image_dataset_from_directory shuffles the file list with `seed` before cutting "
            f"off the validation_split; with seeds {seeds[0]!r} and {seeds[1]!r} the two "
            "calls cut different shuffles, so most validation images are also training "
            "images (and recent Keras refuses a missing seed for exactly this reason).",
            "Use the same seed in both calls: seed=123.",
        )


def _leak(ctx: Ctx, lines, title: str, why: str, fix: str, severity: str = "error") -> None:
    ctx.add(
        "GL116",
        "data-leakage",
        severity,
        title,
        lines,
        why,
        fix,
        [REFS["keras_idfd"], REFS["keras_compile"]],
    )


@check("keras.shuffle")
def check_shuffle(ctx: Ctx) -> None:
    """GL117: training data that is not shuffled."""
    if not uses_keras(ctx):
        return
    ks = keras_script(ctx)
    for f in ks.flows:
        if f.role != "train" or f.shuffle is not False:
            continue
        sorted_by_class = f.site.name != "flow"
        ctx.add(
            "GL117",
            "no-shuffle",
            "error" if sorted_by_class else "warning",
            "The training data is not shuffled (shuffle=False)",
            [f.line],
            (
                "flow_from_directory/image_dataset_from_directory list files class by class, so "
                "with shuffle=False every batch holds one class: the model is pulled towards "
                "each class in turn, BatchNorm statistics are computed on single-class batches "
                "and the network ends predicting whichever class came last."
                if sorted_by_class
                else "Without shuffling, every epoch sees the arrays in the same order; if they "
                "are sorted (by class, by source), batches are not representative and training "
                "oscillates."
            ),
            "shuffle=True for the training data (keep shuffle=False only for the data you "
            "predict on and compare with .classes).",
            [REFS["keras_idg"]],
        )
    for fit in ks.fits():
        if (
            ctx.prog.const(fit.kw("shuffle"), fit.ev.idx, fit.ev.scope) is False
            and ks.flow_of(fit.arg(0, "x"), fit.ev) is None
        ):
            ctx.add(
                "GL117",
                "no-shuffle",
                "warning",
                "fit(..., shuffle=False) on arrays",
                [fit.node.lineno],
                "The arrays are fed in their stored order every epoch; if they were built "
                "class by class (os.listdir per class folder) each batch holds one class.",
                "Drop shuffle=False (fit shuffles arrays by default).",
                [REFS["keras_compile"]],
            )


@check("keras.label_order")
def check_label_order(ctx: Ctx) -> None:
    """GL118: predictions and labels that are not in the same order."""
    if not uses_keras(ctx):
        return
    ks = keras_script(ctx)
    prog = ctx.prog
    preds = prog.method_calls("predict") + prog.method_calls("predict_generator")
    for f in ks.flows:
        if f.shuffle is False:
            continue
        for pred in preds:
            if ks.flow_of(pred.arg(0, "x") or pred.kw("generator"), pred.ev) is not f:
                continue
            labels = _label_reads(ctx, f) or scored_against(ctx, pred)
            rows = [] if labels else _frame_rows(ctx, f, pred)
            if not labels and f.site.name == "flow" and ctx.prog.assigned_name(pred.node):
                # flow(x) keeps no file order to read labels back from: the predictions
                # can only be compared with the arrays, which are in another order
                labels = [pred.node.lineno]
            if not (labels or rows) or not once(ctx, "keras.label_order", f.line):
                continue
            ctx.add(
                "GL118",
                "label-order-mismatch",
                "error",
                "Predictions on a shuffled stream are "
                + (
                    "written into the rows of the frame it reads"
                    if rows
                    else "compared with labels in file order"
                ),
                [f.line, pred.node.lineno, (labels or rows)[0]],
                "The stream shuffles (shuffle=True is the default), so predict() returns "
                "images in a random order, while the labels are read in another order "
                + (
                    "(the data frame keeps its own row order, so row i gets the prediction of "
                    "some other image)"
                    if rows
                    else "(generator.classes is in file order; iterating a tf.data dataset again "
                    "reshuffles it)"
                )
                + ". Predictions and labels do not line up: the confusion matrix "
                "and the accuracy computed from them are near chance although model.evaluate() "
                "reports a good accuracy.",
                "Create the evaluation stream with shuffle=False (and call generator.reset() "
                "before predict), or collect labels and predictions in the same pass:\n"
                "for x, y in ds: y_true.append(y); y_pred.append(model.predict_on_batch(x))",
                [REFS["keras_idg"], REFS["keras_idfd"]],
            )
    _shuffled_pipelines(ctx, preds)
    _batches_of_shuffled(ctx, preds)
    _unseen_generators(ctx, preds)
    _class_lists(ctx)


def _drawn_from(ctx: Ctx, pred: CallSite) -> Flow | None:
    """The flow whose batches ``pred`` predicts one at a time: ``x, _ = gen[i]``,
    ``x, _ = next(gen)``, ``for x, _ in gen``."""
    ks = keras_script(ctx)
    data = pred.arg(0, "x")
    for ref in ctx.prog.deps(data, pred.ev, limit=30) if data is not None else ():
        if not isinstance(ref.node, ElementOf):
            continue
        v = ref.node.value
        if isinstance(v, ast.Subscript):
            v = v.value
        elif isinstance(v, ast.Call) and getattr(v.func, "id", "") == "next" and v.args:
            v = v.args[0]
        at = ctx.prog.events[min(ref.idx, len(ctx.prog.events) - 1)]
        if isinstance(v, ast.Name) and (flow := ks.flow_of(v, at)) is not None:
            return flow
    return None


def _batches_of_shuffled(ctx: Ctx, preds: list[CallSite]) -> None:
    """GL118: predictions made batch by batch on a shuffling flow (``gen[i]``, ``next(gen)``)
    and scored against ``gen.classes``: the batches come in the shuffled order, the classes
    in file order. Labels taken from the same batches are paired right and not reported."""
    for pred in preds:
        flow = _drawn_from(ctx, pred)
        if flow is None or flow.shuffle is False:
            continue
        labels = _label_reads(ctx, flow, attributes_only=True)
        scored = [line for line in scored_against(ctx, pred) if _reads_labels(ctx, line, flow)]
        if not (labels and scored) or not once(ctx, "keras.label_order", flow.line):
            continue
        ctx.add(
            "GL118",
            "label-order-mismatch",
            "error",
            "Predictions on the batches of a shuffled stream are compared with labels in file "
            "order",
            [flow.line, pred.node.lineno, labels[0]],
            "The stream shuffles (shuffle=True is the default), so gen[i] and next(gen) return "
            "batches of images drawn in a random order, while generator.classes lists the "
            "labels in file order. Predictions and labels do not line up: the accuracy and "
            "confusion matrix computed from them are near chance although model.evaluate() "
            "reports a good accuracy.",
            "Create the evaluation stream with shuffle=False, or keep the labels of each batch "
            "with its predictions:\n"
            "for i in range(len(gen)): x, y = gen[i]; y_true.append(y); "
            "y_pred.append(model.predict(x))",
            [REFS["keras_idg"], REFS["keras_idfd"]],
        )


def _reads_labels(ctx: Ctx, line: int, flow: Flow) -> bool:
    """Whether the statement at ``line`` scores with ``flow``'s labels in file order."""
    ks = keras_script(ctx)
    for c in ctx.prog.calls:
        if c.node.lineno != line:
            continue
        args = [*c.node.args, *[k.value for k in c.node.keywords]] if c.name in SCORES else []
        args += [
            m
            for n in ast.walk(c.ev.node)
            if isinstance(n, ast.Compare)
            for m in [n.left, *n.comparators]
        ]
        for ref in (r for a in args for r in ctx.prog.deps(a, c.ev, limit=30)):
            at = ctx.prog.events[min(ref.idx, len(ctx.prog.events) - 1)]
            for n in ast.walk(ref.node):
                if (
                    isinstance(n, ast.Attribute)
                    and n.attr in ("classes", "labels")
                    and ks.flow_of(n.value, at) is flow
                ):
                    return True
    return False


def _unseen_generators(ctx: Ctx, preds: list[CallSite]) -> None:
    """GL118 (inferred): a fragment predicts on a generator it never creates and scores the
    predictions against that generator's ``.classes``. Keras' directory and data-frame
    iterators shuffle unless told not to, and the paste does not show that they were."""
    prog = ctx.prog
    for pred in preds:
        data = pred.arg(0, "x") or pred.kw("generator")
        if not isinstance(data, ast.Name) or prog.lookup(data.id, pred.ev.idx, pred.ev.scope):
            continue  # made in the paste: the flows above know how it shuffles
        for line in scored_against(ctx, pred) + _paired(ctx, pred):
            ev = next(e for e in prog.events if e.node.lineno <= line <= e.node.end_lineno)
            seen = [ev.node]  # the statement, and the values of the names it uses
            for m in ast.walk(ev.node):
                b = prog.lookup(m.id, ev.idx, ev.scope) if isinstance(m, ast.Name) else None
                if b is not None:
                    seen.append(b.value)
            attr = next(
                (
                    n.attr
                    for x in seen
                    for n in ast.walk(x)
                    if isinstance(n, ast.Attribute)
                    and n.attr in ("classes", "labels", "filenames", "filepaths")
                    and isinstance(n.value, ast.Name)
                    and n.value.id == data.id
                ),
                None,
            )
            if attr is None or not once(ctx, "keras.unseen_generator", data.id):
                continue
            how = "paired with" if attr in ("filenames", "filepaths") else "scored against"
            ctx.add(
                "GL118",
                "label-order-mismatch",
                "warning",
                f"Predictions on {data.id} are {how} {data.id}.{attr}, which is in file order",
                [pred.node.lineno, line],
                f"{data.id}.{attr} lists the samples in file order, while predict() returns "
                f"the images in the order {data.id} yields them. The two line up only when the "
                "generator was created with shuffle=False; flow_from_directory and "
                "flow_from_dataframe shuffle by default, and then the confusion matrix and "
                "accuracy are near chance although evaluate() looks fine (inferred: the paste "
                f"does not show how {data.id} was created).",
                "Create the evaluation generator with shuffle=False (and call "
                f"{data.id}.reset() before predict), or collect labels and predictions in the "
                "same pass.",
                [REFS["keras_idg"], REFS["keras_idfd"]],
            )
            break


def _paired(ctx: Ctx, pred: CallSite) -> list[int]:
    """Lines after ``pred`` that pair its predictions row by row with other values in a dict
    or a ``zip`` (``DataFrame({"file": gen.filenames, "label": preds})``)."""
    prog = ctx.prog
    out = []
    for ev in prog.events[pred.ev.idx :]:
        for n in ast.walk(ev.node) if _parts(ev.node) else ():
            cols = (
                [v for v in n.values if v is not None]
                if isinstance(n, ast.Dict)
                else list(n.args)
                if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "zip"
                else []
            )
            if len(cols) >= 2 and any(
                m is pred.node for c in cols for r in prog.deps(c, ev, 30) for m in ast.walk(r.node)
            ):
                out.append(n.lineno)
                break
    return out


def _shuffle_in_chain(ctx: Ctx, node: ast.expr | None, ev) -> ast.Call | None:
    """The ``.shuffle(n)`` of a tf.data chain (``from_tensor_slices(...).shuffle(n).batch(b)``)
    that reshuffles on every pass; None when there is none or it keeps one order
    (``reshuffle_each_iteration=False``). Followed as expressions where they run, so that a
    helper called for training and for testing is read per call."""
    prog = ctx.prog
    if node is None:
        return None
    r = prog.origin(node, ev.idx, ev.scope)
    for _ in range(20):
        n = r.node
        fn = n.func if isinstance(n, ast.Call) else None
        if isinstance(fn, ast.Attribute) and fn.attr == "list_files":
            # Dataset.list_files shuffles the file names unless shuffle=False
            keep = next((k.value for k in n.keywords if k.arg == "shuffle"), None)
            if keep is None and len(n.args) >= 2:
                keep = n.args[1]
            return n if prog.const(keep, r.idx, r.scope) is not False else None
        if not isinstance(fn, ast.Attribute) or fn.attr not in _DATASET_METHODS:
            return None
        at = prog.events[min(r.idx, len(prog.events) - 1)]
        if fn.attr == "shuffle" and not (at.scope == r.scope and prog.ruled_out(at)):
            keep = next((k.value for k in n.keywords if k.arg == "reshuffle_each_iteration"), None)
            return n if prog.const(keep, r.idx, r.scope) is not False else None
        r = prog.origin(fn.value, r.idx, r.scope)
    return None


def _shuffled_pipelines(ctx: Ctx, preds: list[CallSite]) -> None:
    """GL118: ``model.predict(ds)`` on a tf.data pipeline that shuffles, its predictions scored
    against labels: no labels read outside that one pass are in the order it drew."""
    ks = keras_script(ctx)
    for pred in preds:
        data = pred.arg(0, "x")
        if data is None or ks.flow_of(data, pred.ev) is not None:
            continue  # the flows are checked above
        shuffle = _shuffle_in_chain(ctx, data, pred.ev)
        scored = scored_against(ctx, pred) if shuffle is not None else []
        if not scored or not once(ctx, "keras.label_order", shuffle.lineno):
            continue
        ctx.add(
            "GL118",
            "label-order-mismatch",
            "error",
            "Predictions on a shuffled tf.data pipeline are compared with labels read apart",
            [shuffle.lineno, pred.node.lineno, scored[0]],
            (
                "Dataset.list_files shuffles the file names (shuffle=True is its default), "
                if _method_name(shuffle) == "list_files"
                else "The pipeline shuffles, "
            )
            + "and draws a new order on every pass "
            "(reshuffle_each_iteration defaults to True), so predict() returns the samples in "
            "an order no other read of the labels shares: not the arrays it was built from, "
            "not another loop over the dataset. The confusion matrix and accuracy computed "
            "from them are near chance although model.evaluate() reports a good accuracy.",
            "Shuffle only the training pipeline; build the evaluation one without .shuffle() "
            "(and list_files(..., shuffle=False)), or collect labels and predictions in the "
            "same pass:\n"
            "for x, y in ds: y_true.append(y); y_pred.append(model.predict_on_batch(x))",
            [REFS["keras_idfd"]],
        )


def _method_name(call: ast.Call) -> str:
    return call.func.attr if isinstance(call.func, ast.Attribute) else ""


def _label_reads(ctx: Ctx, flow: Flow, attributes_only: bool = False) -> list[int]:
    """Lines that read labels of ``flow`` separately: ``gen.classes`` or, unless
    ``attributes_only``, ``[y for x, y in ds]``."""
    ks = keras_script(ctx)
    out = []
    for ev in ctx.prog.events:
        for part in _parts(ev.node):
            for n in ast.walk(part):
                if isinstance(n, ast.Attribute) and n.attr in (
                    "classes",
                    "labels",
                    "filenames",
                    "filepaths",
                    "file_paths",
                ):
                    if ks.flow_of(n.value, ev) is flow:
                        out.append(n.lineno)
                elif attributes_only:
                    continue
                elif isinstance(n, ast.ListComp | ast.GeneratorExp) and len(n.generators) == 1:
                    gen = n.generators[0]
                    label = _label_target(gen.target)
                    uses = label and any(
                        isinstance(m, ast.Name) and m.id == label for m in ast.walk(n.elt)
                    )
                    if uses and ks.flow_of(gen.iter, ev) is flow:
                        out.append(n.lineno)
                elif isinstance(n, ast.For) and (label := _label_target(n.target)):
                    appends = any(
                        isinstance(c, ast.Call)
                        and isinstance(c.func, ast.Attribute)
                        and c.func.attr in ("append", "extend")
                        and any(
                            isinstance(m, ast.Name) and m.id == label
                            for a in c.args
                            for m in ast.walk(a)
                        )
                        for c in ast.walk(n)
                    )
                    if appends and ks.flow_of(n.iter, ev) is flow:
                        out.append(n.lineno)
    return out


def scored_against(ctx: Ctx, pred: CallSite) -> list[int]:
    """Lines where the predictions of ``pred`` are scored against labels (a metric call or
    an ``==`` comparison): with a shuffling stream no labels read elsewhere line up."""
    prog = ctx.prog
    out = []
    for c in prog.calls:
        if c.ev.idx <= pred.ev.idx:
            continue
        compare = any(
            isinstance(n, ast.Compare) and any(isinstance(o, ast.Eq) for o in n.ops)
            for n in ast.walk(c.ev.node)
        )
        if c.name not in SCORES and not compare:
            continue
        args = [*c.node.args, *[k.value for k in c.node.keywords]]
        if compare and c.name not in SCORES:
            args = [n for n in ast.walk(c.ev.node) if isinstance(n, ast.Compare)]
        for a in args:
            refs = prog.deps(a, c.ev, limit=30)
            if any(n is pred.node for r in refs for n in ast.walk(r.node)):
                out.append(c.node.lineno)
                break
    return out


def _frame_rows(ctx: Ctx, flow: Flow, pred: CallSite) -> list[int]:
    """Lines where the predictions of a ``flow_from_dataframe`` stream are written into the
    rows of the frame it reads (``test_df["label"] = preds``, ``pd.DataFrame({"id":
    test_df.id, "label": preds})``): the frame is in its own row order, the stream's in the
    order it shuffled to."""
    if flow.site.name != "flow_from_dataframe" or flow.shuffle is not True:
        return []
    frame = flow.site.arg(0, "dataframe")
    if frame is None:
        return []
    prog = ctx.prog
    key = value_key(prog.origin(frame, flow.site.ev.idx, flow.site.ev.scope).node)

    def is_frame(node: ast.expr, ev) -> bool:
        return value_key(prog.origin(node, ev.idx, ev.scope).node) == key

    def predicted(node: ast.expr, ev) -> bool:
        return any(n is pred.node for r in prog.deps(node, ev, limit=30) for n in ast.walk(r.node))

    out = []
    for ev in prog.events[pred.ev.idx :]:
        n = ev.node
        written = isinstance(n, ast.Assign) and any(
            isinstance(t, ast.Subscript | ast.Attribute) and is_frame(t.value, ev)
            for t in n.targets
        )
        if written and predicted(n.value, ev):
            out.append(n.lineno)
            continue
        for d in (m for m in ast.walk(n) if isinstance(m, ast.Dict)) if _parts(n) else ():
            columns = [v for v in d.values if isinstance(v, ast.Subscript | ast.Attribute)]
            if any(is_frame(v.value, ev) for v in columns) and any(
                predicted(v, ev) for v in d.values
            ):
                out.append(n.lineno)
                break
    return out


def _label_target(target: ast.expr) -> str | None:
    if isinstance(target, ast.Tuple) and len(target.elts) == 2:
        t = target.elts[1]
        return t.id if isinstance(t, ast.Name) else None
    return None


def _parts(node: ast.stmt) -> list[ast.AST]:
    if isinstance(node, ast.For):
        return [node]
    if isinstance(node, ast.If | ast.While | ast.With | ast.Try | ast.FunctionDef):
        return []
    return [node]


def _class_lists(ctx: Ctx) -> None:
    ks = keras_script(ctx)
    lists = [(f, f.kwc("classes", None) or f.kwc("class_names", None)) for f in ks.flows]
    lists = [(f, v) for f, v in lists if isinstance(v, list | tuple)]
    _one_side_listed(ctx, ks, lists)
    for f, v in lists:
        for g, w in lists:
            if f.role == "train" and g.role in ("val", "test", "predict") and list(v) != list(w):
                ctx.add(
                    "GL118",
                    "label-order-mismatch",
                    "error",
                    f"The training and {say(g.role)} flows list the classes in different orders",
                    [f.line, g.line],
                    f"classes= fixes the class → index mapping: training uses {list(v)}, "
                    f"{say(g.role)} uses {list(w)}. The same image gets a different label index in "
                    "the two sets, so the evaluation counts correct predictions as wrong.",
                    "Define CLASSES = [...] once and pass classes=CLASSES to every flow.",
                    [REFS["keras_idg"]],
                )


def _one_side_listed(ctx: Ctx, ks, lists: list) -> None:
    """GL118 (inferred): one flow numbers the classes by a ``classes=`` list that is not
    sorted, the flow of the other split by its sorted folder names."""
    listed = {id(f) for f, _ in lists}
    for f, v in lists:
        if not all(isinstance(c, str) for c in v) or list(v) == sorted(v):
            continue
        for g in ks.flows:
            if id(g) in listed or g.site.name == "flow" or g.site.kw("classes") is not None:
                continue
            if g.site.kw("class_names") is not None or {f.role, g.role} not in _SPLIT_PAIRS:
                continue
            if not once(ctx, "keras.one_side_listed", f.line):
                continue
            listing, other = (f, g) if f.role == "train" else (g, f)
            ctx.add(
                "GL118",
                "label-order-mismatch",
                "warning",
                "One flow lists its classes in a given order, the other numbers them sorted",
                sorted({f.line, g.line}),
                f"classes={list(v)} makes index 0 {v[0]!r}, index 1 {v[1]!r}, ... in the "
                f"{say(f.role)} flow, while the {say(g.role)} flow ({g.site.name}) numbers its "
                f"folders in sorted order: {sorted(v)}. The same class gets a different index in "
                "the two splits, so the model is scored against labels numbered another way "
                f"(inferred: the {say(g.role)} folders are taken to be named as in the list).",
                "Pass the same list to every flow: CLASSES = [...]; "
                f"flow_from_directory(..., classes=CLASSES) for {say(listing.role)} and "
                f"{say(other.role)} alike.",
                [REFS["keras_idg"], REFS["keras_idfd"]],
            )


_SPLIT_PAIRS = [{"train", "val"}, {"train", "test"}]


__all__ = ["ElementOf", "same_dir_finding"]
