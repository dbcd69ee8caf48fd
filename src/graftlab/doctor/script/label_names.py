"""Class names given to a prediction in another order than the labels were numbered in, with
no listing in sight: the two names of a binary threshold, and a literal name → index table
read back through a list in another order.

- A folder loader numbers the classes by their sorted folder names, so with two classes the
  sigmoid's "above 0.5" is the name that sorts *last*. ``"cat" if p > 0.5 else "dog"`` calls
  every dog a cat and every cat a dog: a well-trained model reads as one that is always wrong.
- ``{"normal": 0, "pneumonia": 1, "covid": 2}`` numbers the labels the model learns; a names
  list built as ``sorted(label_dict)`` or typed in another order names index 0 "covid".
- A class list given sorted where training numbers the classes (``sorted(config["labels"])``
  handed to the generators) and as written where the predictions are named: the two orders
  differ unless the list was written sorted.
- Keras 1 releases before June 2016 numbered ``flow_from_directory``'s folders in
  ``os.listdir`` order, not sorted (keras-team/keras#3052): a class list typed by hand in
  alphabetical order names the predictions of a Keras 1 script wrongly on those releases.
"""

from __future__ import annotations

import ast
import re

from graftlab.doctor._checks import declare
from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.common_rules import (
    CLASS_MAPPINGS,
    call_in_deps,
    once,
    source_text,
    written_names,
)
from graftlab.doctor.script.flow import Event, Ref
from graftlab.doctor.script.frameworks import uses_keras
from graftlab.doctor.script.knowledge import REFS
from graftlab.doctor.script.label_rules import (
    indexed_by_prediction,
    numbered_list,
    numbering_loaders,
)

declare(
    "GL323",
    "label-order-mismatch",
    "warning",
    "script",
    "A binary threshold names its two classes the other way round from the loader's indices",
    (REFS["keras_idfd"], REFS["tv_tutorial"]),
)
declare(
    "GL324",
    "label-order-mismatch",
    "warning",
    "script",
    "Class names read in another order than the name → index table that numbered the labels",
    (REFS["keras_idfd"],),
)
declare(
    "GL327",
    "label-order-mismatch",
    "warning",
    "script",
    "Class names typed by hand for a Keras 1 flow_from_directory (listdir order before 1.0.5)",
    (REFS["keras_idfd"], "https://github.com/keras-team/keras/pull/3052"),
)

#: Calls whose result is a score to threshold: Keras' predict, a sigmoid applied in PyTorch.
_SCORERS = {"predict", "predict_on_batch", "predict_proba", "sigmoid", "expit"}
_WORD = re.compile(r"[A-Za-z][\w-]*")


def _scored(ctx: Ctx, node: ast.expr, ev: Event) -> bool:
    """Whether ``node``'s value is computed from a model's score."""
    return call_in_deps(ctx, node, ev, _SCORERS, limit=30) > 0


def _threshold(test: ast.expr) -> tuple[ast.expr, bool] | None:
    """(the thresholded value, whether the first branch is the high side) of ``p > 0.5``,
    ``p >= t``, ``0.5 < p``, ``p < 0.5``; None for any other test."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return None
    left, op, right = test.left, test.ops[0], test.comparators[0]
    high = isinstance(op, ast.Gt | ast.GtE)
    if not high and not isinstance(op, ast.Lt | ast.LtE):
        return None
    for value, bound, first_high in ((left, right, high), (right, left, not high)):
        if (
            isinstance(bound, ast.Constant)
            and isinstance(bound.value, float)
            and (0 < bound.value < 1)
        ):
            return value, first_high
    return None


def _said(part: ast.AST | list[ast.stmt]) -> str | None:
    """The one string a branch says (``label = "cat"``, ``print("It is a cat")``), or None."""
    nodes = part if isinstance(part, list) else [part]
    texts = [
        n.value
        for st in nodes
        for n in ast.walk(st)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value.strip()
    ]
    return texts[0] if len(texts) == 1 else None


def _names(high: str, low: str) -> tuple[str, str] | None:
    """The class names two messages differ by: ``("dog", "cat")`` from "It is a dog !" and
    "It is a cat !"; None when they differ by more than a short name each."""
    a, b = _WORD.findall(high), _WORD.findall(low)
    while a and b and a[0].lower() == b[0].lower():
        a, b = a[1:], b[1:]
    while a and b and a[-1].lower() == b[-1].lower():
        a, b = a[:-1], b[:-1]
    if not (1 <= len(a) <= 2 and 1 <= len(b) <= 2):
        return None
    return " ".join(a), " ".join(b)


def _branches(ev: Event):
    """(test, first branch, other branch, line) of the ``if`` or conditional expression of a
    statement."""
    n = ev.node
    if isinstance(n, ast.If) and n.orelse:
        yield n.test, n.body, n.orelse, n.lineno
        return
    if isinstance(n, ast.If | ast.For | ast.While | ast.With | ast.Try):
        return
    for m in ast.walk(n):
        if isinstance(m, ast.IfExp):
            yield m.test, m.body, m.orelse, m.lineno


@check("common.binary_threshold_names")
def check_binary_threshold_names(ctx: Ctx) -> None:
    """GL323: ``"cat" if model.predict(x) > 0.5 else "dog"`` after a loader that numbers the
    sorted folder names: index 1 (above the threshold) is the name that sorts last."""
    loaders = numbering_loaders(ctx)
    if not loaders:
        return
    for ev in ctx.prog.events:
        for test, first, other, line in _branches(ev):
            found = _threshold(test)
            if found is None or not _scored(ctx, found[0], ev):
                continue
            said = _said(first), _said(other)
            if None in said:
                continue
            high, low = said if found[1] else said[::-1]
            names = _names(high, low)
            if names is None or names[0].lower() >= names[1].lower():
                continue
            if not once(ctx, "binary_threshold_names"):
                return
            _report_threshold(ctx, loaders[0], line, *names)


def _report_threshold(ctx: Ctx, loader, line: int, high: str, low: str) -> None:
    ctx.add(
        "GL323",
        "label-order-mismatch",
        "warning",
        f"Scores above the threshold are called {high!r}, but the loader gives {high!r} index 0",
        [loader.node.lineno, line],
        f"{loader.name} numbers the classes by their sorted folder names, so with two classes "
        f"index 0 is {min(high, low, key=str.lower)!r} and index 1, the one a sigmoid's score "
        f"above the threshold stands for, is {max(high, low, key=str.lower)!r}. This code "
        f"calls a high score {high!r}: every image gets the other class's name, and a model "
        "that learned well looks as if it were always wrong (inferred: the class folders are "
        f"taken to be named like {high!r} and {low!r}, or in the same order).",
        "Read the name from the loader instead of typing it:\n"
        "names = {v: k for k, v in train_gen.class_indices.items()}  # Keras\n"
        "label = names[int(score > 0.5)]\n"
        "# torchvision: train_set.classes[int(score > 0.5)]",
        [REFS["keras_idfd"], REFS["tv_tutorial"]],
    )


def _numbering(value: object) -> list[str] | None:
    """Names in index order of a literal table that numbers labels (``{"dog": 0, "cat": 1}``)."""
    if not (isinstance(value, dict) and len(value) >= 2):
        return None
    if not all(isinstance(k, str) and isinstance(v, int) for k, v in value.items()):
        return None
    if sorted(value.values()) != list(range(len(value))):
        return None
    return sorted(value, key=value.get)


def _order(ctx: Ctx, node: ast.expr, at: Event | Ref, tables: dict) -> tuple[list, str] | None:
    """(names, how) of a names list whose order the code fixes: ``sorted(table)`` /
    ``list(table)`` / ``list(table.keys())`` of a literal table, or a list of strings."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and len(node.args) == 1:
        inner = node.args[0]
        if (
            isinstance(inner, ast.Call)
            and isinstance(inner.func, ast.Attribute)
            and inner.func.attr == "keys"
            and not inner.args
        ):
            inner = inner.func.value
        if isinstance(inner, ast.Name) and inner.id in tables and not node.keywords:
            written = tables[inner.id][1]
            if node.func.id == "sorted":
                return sorted(written), f"sorted({inner.id})"
            if node.func.id in ("list", "tuple"):
                return list(written), f"{node.func.id}({inner.id}), the order the keys are written"
    if not isinstance(node, ast.List | ast.Tuple | ast.Name):
        return None
    value = ctx.prog.const(node, at.idx, at.scope)
    if isinstance(value, list | tuple) and len(value) >= 2:
        return (list(value), "as written") if all(isinstance(v, str) for v in value) else None
    return None


def _tables(ctx: Ctx) -> dict[str, tuple[list[str], list[str], int]]:
    """Literal name → index tables: (names in index order, names as written, line)."""
    out = {}
    for ev in ctx.prog.events:
        n = ev.node
        if (
            isinstance(n, ast.Assign)
            and len(n.targets) == 1
            and isinstance(n.targets[0], ast.Name)
            and isinstance(n.value, ast.Dict)  # a literal table: nothing else is evaluated
        ):
            value = ctx.prog.const(n.value, ev.idx, ev.scope)
            numbered = _numbering(value)
            if numbered is not None:
                out[n.targets[0].id] = (numbered, list(value), n.lineno)
    return out


@check("common.table_read_in_another_order")
def check_table_order(ctx: Ctx) -> None:
    """GL324: a literal name → index table numbers the labels; the list that names the
    predictions holds the same names in another order."""
    tables = _tables(ctx)
    if not tables:
        return
    for ev in ctx.prog.events:
        n = ev.node
        if not (isinstance(n, ast.Assign) and len(n.targets) == 1):
            continue
        t = n.targets[0]
        if not isinstance(t, ast.Name) or t.id in tables:
            continue
        got = _order(ctx, n.value, ev, tables)
        if got is None:
            continue
        names, how = got
        for table, (numbered, _, tline) in tables.items():
            if sorted(names) != sorted(numbered) or names == numbered:
                continue
            used = indexed_by_prediction(ctx, t.id, ev.idx)
            if not used or not once(ctx, "table_order", t.id):
                continue
            ctx.add(
                "GL324",
                "label-order-mismatch",
                "warning",
                f"{t.id} names the predicted indices in another order than {table} numbered "
                "the labels",
                [tline, n.lineno, used],
                f"{table} gives the labels the indices "
                f"{ {name: i for i, name in enumerate(numbered)} }, "
                f"so the model's output i means {table}'s name with value i. {t.id} ({how}) "
                f"lists {names}: {t.id}[prediction] names index 0 {names[0]!r} instead of "
                f"{numbered[0]!r}, and so on for every index that moved (inferred: {table} is "
                "taken to number the labels the model was trained on).",
                f"Invert the table that numbered the labels:\n"
                f"{t.id} = {{i: name for name, i in {table}.items()}}",
                [REFS["keras_idfd"]],
            )


#: Arguments and names that only the Keras 1 API has (renamed or removed in Keras 2).
_KERAS1 = re.compile(
    r"\b(?:nb_epoch|samples_per_epoch|nb_val_samples|border_mode|nb_filter)\s*=|"
    r"\bConvolution2D\(|\bModel\(\s*input\s*="
)


@check("keras.legacy_folder_order")
def check_legacy_folder_order(ctx: Ctx) -> None:
    """GL327: a Keras 1 script names flow_from_directory's predicted indices with a class list
    typed by hand, not with the generator's class_indices."""
    text = source_text(ctx)
    marker = _KERAS1.search(text)
    if marker is None or not uses_keras(ctx):
        return
    loaders = [c for c in numbering_loaders(ctx) if c.name == "flow_from_directory"]
    tree = ctx.src.tree
    if not loaders or any(
        isinstance(n, ast.Attribute) and n.attr in CLASS_MAPPINGS for n in ast.walk(tree)
    ):
        return  # the names come from the generator
    keras1_line = text.count("\n", 0, marker.start()) + 1
    for ev in ctx.prog.events:
        n = ev.node
        if not (isinstance(n, ast.Assign) and len(n.targets) == 1):
            continue
        t = n.targets[0]
        if not isinstance(t, ast.Name):
            continue
        names = written_names(ctx.prog.const(n.value, ev.idx, ev.scope), n.value)
        used = indexed_by_prediction(ctx, t.id, ev.idx) if names else 0
        if not used or not once(ctx, "legacy_order", t.id):
            continue
        loader = loaders[0].node.lineno
        ctx.add(
            "GL327",
            "label-order-mismatch",
            "warning",
            f"{t.id} is typed by hand to name the indices a Keras 1 flow_from_directory assigned",
            [n.lineno, loader, used, keras1_line],
            f"flow_from_directory (line {loader}) is given no classes=, so each output index "
            "is whatever index the generator gave a folder; the predictions are named through "
            f"{t.id}, typed by hand as {names}. The script uses the Keras 1 API "
            f"({marker.group(0).strip()} line {keras1_line}), and Keras 1 releases before "
            "June 2016 (up to 1.0.4) took the folders in os.listdir order, not sorted (fixed "
            "by keras-team/keras#3052): on those the list names most classes wrongly while "
            "accuracy looks fine. (Inferred: the installed Keras release is not shown; on "
            "later releases the indices follow the sorted folder names.)",
            "Take the names from the generator instead of typing them:\n"
            "names = {v: k for k, v in train_generator.class_indices.items()}\n"
            "label = names[int(np.argmax(probs))]\n"
            "# or fix the order: flow_from_directory(..., classes=[...])",
            [REFS["keras_idfd"], "https://github.com/keras-team/keras/pull/3052"],
        )
        return


#: Calls that only look at a list: a sorted copy passed there numbers nothing.
_LOOKS = {"print", "len", "set", "str", "repr", "format", "join", "write", "info", "debug"}
#: Calls that give a model its weights from a file (``torch.load`` by its module: ``np.load``
#: and ``json.load`` read data).
_MODEL_LOADS = {"load_model", "load_learner", "from_pretrained", "torch.load"}
#: Calls that make or read predictions; ``max`` only as ``torch.max``/``out.max``, not the
#: builtin.
_PREDICTING = {"predict", "predict_on_batch", "predict_classes", "argmax", "topk", "max"}


def _same_list(ctx: Ctx, node: ast.expr, at: Event | Ref) -> str | None:
    """A key naming the list ``node`` holds: the literal it was made from, or the expression
    read (``config['model']['labels']``) where nothing in the script makes it."""
    r = ctx.prog.origin(node, at.idx, at.scope)
    n = r.node
    if isinstance(n, ast.List | ast.Tuple):
        value = ctx.prog.const(n, r.idx, r.scope)
        if isinstance(value, list | tuple) and list(value) == sorted(value, key=str):
            return None  # written in sorted order: sorting it changes nothing
        return f"literal@{id(n)}"
    if isinstance(n, ast.Name | ast.Attribute | ast.Subscript):
        return ast.unparse(n)
    return None


def _sorted_numberings(ctx: Ctx) -> dict[str, tuple[int, int]]:
    """``{list key: (line of sorted(), line of the list)}`` of ``sorted(xs)`` (no key) whose
    value is kept: assigned, returned or handed to a call other than a print, not only looked
    at."""
    out: dict[str, tuple[int, int]] = {}
    for ev in ctx.prog.events:
        n = ev.node
        if not isinstance(n, ast.Assign | ast.Return | ast.Expr | ast.AnnAssign):
            continue
        calls = [c for c in ast.walk(n) if isinstance(c, ast.Call)]
        sorts = [
            c
            for c in calls
            if getattr(c.func, "id", "") == "sorted" and len(c.args) == 1 and not c.keywords
        ]
        if not sorts:
            continue
        looked = {
            id(a)
            for c in calls
            if getattr(c.func, "id", getattr(c.func, "attr", "")) in _LOOKS
            for a in c.args
        }
        for c in sorts:
            if id(c) not in looked and (key := _same_list(ctx, c.args[0], ev)) is not None:
                made = ctx.prog.origin(c.args[0], ev.idx, ev.scope).node
                out.setdefault(key, (c.lineno, getattr(made, "lineno", c.lineno)))
    return out


#: Keywords that hand a loader the class order to number by (``flow_from_directory``'s
#: ``classes``, ``image_dataset_from_directory``'s ``class_names``); not a plot's
#: ``classes=``, which only shows the names.
_ORDER_KEYWORDS = {"classes", "class_names"}
_ORDERED_LOADERS = re.compile(r"flow_from_(directory|dataframe)|\w+_dataset_from_directory")


def _numbered_as_written(ctx: Ctx) -> set[str]:
    """Keys (:func:`_same_list`) of the lists the script numbers in the order they are written:
    a class -> index mapping over the list (``{c: i for i, c in enumerate(xs)}``),
    ``xs.index(name)``, or the list handed to a loader as its class order. Where training
    numbers the list as written, a sorted copy of it numbers nothing the model learned."""
    out: set[str | None] = set()
    for ev in ctx.prog.events:
        if isinstance(ev.node, ast.For | ast.While | ast.With | ast.If | ast.Try):
            continue
        for m in ast.walk(ev.node):
            lists = [numbered_list(m)]
            if isinstance(m, ast.Call):
                if isinstance(m.func, ast.Attribute) and m.func.attr == "index":
                    lists.append(m.func.value)
                if _ORDERED_LOADERS.fullmatch(getattr(m.func, "attr", getattr(m.func, "id", ""))):
                    lists += [k.value for k in m.keywords if k.arg in _ORDER_KEYWORDS]
            out.update(_same_list(ctx, x, ev) for x in lists if x is not None)
    return out - {None}


def _predicted(ctx: Ctx, node: ast.expr, ev: Event) -> bool:
    """``node`` is computed from a model's predictions: a predicting call, or a call handed a
    model whose weights were loaded from a file."""
    for ref in ctx.prog.deps(node, ev, limit=40):
        for m in ast.walk(ref.node):
            if not isinstance(m, ast.Call):
                continue
            name = getattr(m.func, "attr", getattr(m.func, "id", ""))
            if name in _PREDICTING and (name != "max" or isinstance(m.func, ast.Attribute)):
                return True
            for a in m.args:
                site = ctx.prog.origin_call(a, ref) if isinstance(a, ast.Name) else None
                if site is None or site.node is m:
                    continue
                if site.name in _MODEL_LOADS or site.qual in _MODEL_LOADS:
                    return True
    return False


def _naming_uses(ctx: Ctx, keys: dict[str, tuple[int, int]]):
    """``(key, line)`` where a list is read as written to name predictions: indexed by a
    predicted index, or handed with predictions to a call (``draw_boxes(img, boxes, labels)``)."""
    for ev in ctx.prog.events:
        n = ev.node
        if isinstance(n, ast.For | ast.While | ast.With | ast.If | ast.Try):
            continue
        for m in ast.walk(n):
            if isinstance(m, ast.Subscript) and isinstance(m.ctx, ast.Load):
                key = _same_list(ctx, m.value, ev)
                computed = not isinstance(m.slice, ast.Constant | ast.Slice)
                if key in keys and computed and _predicted(ctx, m.slice, ev):
                    yield key, m.lineno
            elif isinstance(m, ast.Call) and len(m.args) >= 2:
                name = getattr(m.func, "id", getattr(m.func, "attr", ""))
                if name in _LOOKS or name == "sorted":
                    continue
                args = enumerate(m.args)
                listed = [(i, k) for i, a in args if (k := _same_list(ctx, a, ev)) in keys]
                if not listed:
                    continue
                # each argument traced once, not once per list beside it: that was quadratic
                # in the arguments (500 lists handed to one call took 8 s). One predicted
                # argument that is not a list names them all; one that is needs a second.
                at = {i for i, _ in listed}
                predicted: list[int] = []
                for j, a in enumerate(m.args):
                    if _predicted(ctx, a, ev):
                        predicted.append(j)
                        if j not in at or len(predicted) == 2:
                            break
                for i, key in listed:
                    if any(j != i for j in predicted):
                        yield key, m.lineno


def _cited_by_label_findings(ctx: Ctx) -> set[str]:
    """The evidence lines of the label-order findings made before GL324 (GL301: a list typed
    in another order than the loader's): a list or a naming line they cite is one cause, one
    finding. Read once, not per use: a scan of the findings per use was quadratic."""
    return {
        cited
        for f in ctx.findings
        if f.category == "label-order-mismatch"
        for cited in f.evidence.splitlines()
    }


@check("common.sorted_for_training_as_written_for_names")
def check_sorted_then_as_written(ctx: Ctx) -> None:
    """GL324: a class list sorted where the training numbers the classes and read as written
    where the predictions are named."""
    if "sorted(" not in source_text(ctx):
        return
    keys = _sorted_numberings(ctx)
    if keys:
        written = _numbered_as_written(ctx)
        keys = {k: lines for k, lines in keys.items() if k not in written}
    if not keys:
        return
    cited = _cited_by_label_findings(ctx)
    for key, line in _naming_uses(ctx, keys):
        origin_line, list_line = keys[key]
        if line == origin_line or {ctx.src.evidence(n) for n in (list_line, line)} & cited:
            continue
        if not once(ctx, "label.sorted_as_written", key):
            continue
        literal = key.startswith("literal@")
        shown = "the class list" if literal else key
        ctx.add(
            "GL324",
            "label-order-mismatch",
            "warning",
            f"{shown} is sorted where the classes are numbered but read as written where the "
            "predictions are named",
            [origin_line, line],
            f"sorted({shown}) (line {origin_line}) gives the order the classes are numbered in "
            f"for training, so the model's output i means the i-th name in sorted order; line "
            f"{line} names the predicted classes with {shown} in the order it is written. "
            "Unless the list is written in sorted order, every index whose name moved is "
            f"reported as another class (inferred: the sorted copy is taken to be the numbering "
            "the model was trained with).",
            f"Use one order in both places: labels = sorted({shown}) once, and name the "
            "predictions with that list (or save it with the model and read it back).",
            [REFS["keras_idfd"]],
        )
