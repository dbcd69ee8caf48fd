"""Label encodings learned once per split instead of once for the whole task.

``LabelEncoder``/``OneHotEncoder``/``LabelBinarizer`` number the classes *they were fitted
on*, in sorted order; ``pd.factorize`` and ``.unique()`` in order of first appearance;
``astype("category").cat.codes`` by the categories present; Keras ``StringLookup.adapt`` by
frequency. Fitted again on the validation or test labels, each gives that split its own
class → index mapping, which matches the training one only by luck (every class present, and
for factorize/StringLookup the same order of appearance or frequency).
"""

from __future__ import annotations

import ast
import re

from graftlab.doctor._checks import declare
from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.common_rules import once, source_text
from graftlab.doctor.script.flow import Event, canon, last
from graftlab.doctor.script.keras_graph import role_of
from graftlab.doctor.script.knowledge import REFS, say
from graftlab.doctor.script.label_rules import unstable_source

declare(
    "GL315",
    "label-order-mismatch",
    "warning",
    "script",
    "A label encoding is fitted again on the validation or test labels",
    (REFS["sk_label_encoder"], REFS["keras_idfd"]),
)

_ENCODERS = {"LabelEncoder", "OrdinalEncoder", "OneHotEncoder", "LabelBinarizer"}
_LOOKUPS = {"StringLookup", "IntegerLookup"}
# how each kind orders the classes: said in the finding, and whether a split that holds every
# class in any order gets the training mapping (sorted kinds) or not
_ORDER = {
    "sorted": "it numbers the classes present in the data it is fitted on, in sorted order: "
    "the two mappings agree only when both splits hold exactly the same classes",
    "appearance": "it numbers the classes in order of first appearance in the data it is "
    "given, so two splits almost never get the same mapping",
    "frequency": "adapt() numbers the vocabulary by frequency in the data it is given, so two "
    "splits with different class counts get different mappings",
    "set": "a set has no order: the list built from it can differ between the two splits (and "
    "between runs, for strings)",
}
_PRECHECK = re.compile(
    r"Encoder|Binarizer|factorize|cat\.codes|Categorical|Lookup|get_dummies|unique\(|set\("
)


def _fitted(ctx: Ctx, n: ast.Call, ev: Event) -> tuple[str, ast.expr] | None:
    """``(order kind, data)`` when call ``n`` learns a label encoding from ``data``:
    ``le.fit_transform(y)``, ``le.fit(y)``, ``pd.factorize(y)`` / ``y.factorize()``,
    ``pd.Categorical(y)``, ``lookup.adapt(y)``, ``np.unique(y, return_inverse=True)``."""
    prog = ctx.prog
    f = n.func
    name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
    if name in ("fit", "fit_transform", "adapt") and isinstance(f, ast.Attribute) and n.args:
        site = prog.origin_call(f.value, ev)
        made = site.name if site is not None else ""
        if name != "adapt" and made in _ENCODERS:
            return "sorted", n.args[0]
        if name == "adapt" and made in _LOOKUPS:
            return "frequency", n.args[0]
        return None
    if name == "factorize":
        if isinstance(f, ast.Attribute) and not n.args:
            return "appearance", f.value
        q = canon(prog.qualname(f, ev.idx, ev.scope) or "")
        if n.args and (q.startswith("pandas") or last(q) == "factorize"):
            return "appearance", n.args[0]
    if name == "get_dummies" and n.args:
        fixed = any(  # pd.Categorical(y, categories=CLASSES): the columns follow CLASSES
            isinstance(m, ast.Call) and any(k.arg == "categories" for k in m.keywords)
            for r in prog.deps(n.args[0], ev, limit=10)
            for m in ast.walk(r.node)
        )
        return None if fixed else ("sorted", n.args[0])
    if name == "Categorical" and n.args and not any(k.arg == "categories" for k in n.keywords):
        return "sorted", n.args[0]
    if name == "unique" and n.args and any(k.arg == "return_inverse" for k in n.keywords):
        return "sorted", n.args[0]
    return None


def _sorted_values_map(ctx: Ctx, n: ast.AST, ev: Event) -> ast.expr | None:
    """``data`` of ``{c: i for i, c in enumerate(sorted(set(data)))}`` (or ``.unique()``): a
    mapping numbered by the sorted classes one split holds. A sorted folder listing is left
    out: ImageFolder does the same per split, and a folder tree holds every class folder."""
    if not isinstance(n, ast.DictComp):
        return None
    it = n.generators[0].iter
    if not (isinstance(it, ast.Call) and getattr(it.func, "id", "") == "enumerate" and it.args):
        return None
    r = ctx.prog.origin(it.args[0], ev.idx, ev.scope)
    inner = r.node
    if not (isinstance(inner, ast.Call) and getattr(inner.func, "id", "") == "sorted"):
        return None
    got = unstable_source(ctx, inner.args[0], r) if inner.args else None
    return inner.args[0] if got is not None and got[0] in ("set", "unique") else None


def _cat_codes(n: ast.AST) -> ast.expr | None:
    """``y`` of ``y.astype("category").cat.codes``: codes of the categories ``y`` holds."""
    if not (isinstance(n, ast.Attribute) and n.attr == "codes"):
        return None
    cat = n.value
    if not (isinstance(cat, ast.Attribute) and cat.attr == "cat"):
        return None
    call = cat.value
    if (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr == "astype"
        and call.args
        and isinstance(call.args[0], ast.Constant)
        and call.args[0].value == "category"
    ):
        return call.func.value
    return None


def _role(ctx: Ctx, ev: Event, data: ast.expr) -> str | None:
    """The split whose labels ``data`` holds: from the variable the encoding is stored in,
    then from the names and paths the data comes from."""
    node = ev.node
    if isinstance(node, ast.Assign):
        for t in node.targets:
            for m in ast.walk(t):
                if isinstance(m, ast.Name) and (r := role_of(m.id)):
                    return r
    for ref in ctx.prog.deps(data, ev, limit=15):
        for m in ast.walk(ref.node):
            if isinstance(m, ast.Name) and (r := role_of(m.id)):
                return r
            if isinstance(m, ast.Constant) and isinstance(m.value, str) and len(m.value) < 200:
                for part in re.split(r"[\\/.]", m.value):
                    if part and (r := role_of(part)):
                        return r
    return None


def _encodings(ctx: Ctx) -> list[tuple[Event, ast.AST, str, str | None]]:
    """(event, node, order kind, split) of every label encoding the script learns."""
    out = []
    for ev in ctx.prog.events:
        if isinstance(ev.node, ast.For | ast.While | ast.With | ast.If | ast.Try):
            continue
        for n in ast.walk(ev.node):
            got = _fitted(ctx, n, ev) if isinstance(n, ast.Call) else None
            if got is None and (data := _cat_codes(n)) is not None:
                got = "sorted", data
            if got is None and (data := _sorted_values_map(ctx, n, ev)) is not None:
                got = "sorted", data
            if got is not None:
                out.append((ev, n, got[0], _role(ctx, ev, got[1])))
        if (got := _looked_up_list(ctx, ev)) is not None:
            out.append((ev, ev.node.value, got[0], _role(ctx, ev, got[1])))
    return out


def _looked_up_list(ctx: Ctx, ev: Event) -> tuple[str, ast.expr] | None:
    """``(order kind, data)`` of ``classes = list(df.label.unique())`` (or ``list(set(...))``)
    when the script numbers labels by it: ``classes.index(label)``."""
    n = ev.node
    if not (
        isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name)
    ):
        return None
    got = unstable_source(ctx, n.value, ev)
    if got is None or got[0] not in ("unique", "set"):
        return None
    var = n.targets[0].id
    if not any(
        isinstance(c.node.func, ast.Attribute)
        and c.node.func.attr == "index"
        and isinstance(c.node.func.value, ast.Name)
        and c.node.func.value.id == var
        and ctx.prog.lookup(var, c.ev.idx, c.ev.scope) is not None
        and ctx.prog.lookup(var, c.ev.idx, c.ev.scope).vidx == ev.idx
        for c in ctx.prog.calls
    ):
        return None
    return ("appearance" if got[0] == "unique" else "set"), n.value


@check("common.encoder_per_split")
def check_encoder_per_split(ctx: Ctx) -> None:
    """GL315: a label encoding learned from the training labels and learned again from the
    validation or test labels (or one encoding expression run once per split)."""
    if not _PRECHECK.search(source_text(ctx)):
        return
    found = _encodings(ctx)
    train = [e for e in found if e[3] == "train"]
    held = [e for e in found if e[3] in ("val", "test")]
    pair = (train[0], held[0]) if train and held else None
    if pair is None:  # one expression run for several splits (a Dataset class, a helper)
        runs: dict[int, list] = {}
        for e in found:
            if not isinstance(e[1], ast.DictComp):  # label_rules says those (GL306, per split)
                runs.setdefault(id(e[1]), []).append(e)
        pair = next(
            ((es[0], es[1]) for es in runs.values() if len({e[0].scope for e in es}) >= 2),
            None,
        )
    if pair is None or not once(ctx, "label.encoder_per_split"):
        return
    (a, _, kind, role_a), (b, _, _, role_b) = pair
    cited = {ctx.src.evidence(a.node.lineno), ctx.src.evidence(b.node.lineno)}
    if any(f.code == "GL306" and any(c in f.evidence for c in cited) for f in ctx.findings):
        return  # the same mappings already said as built per split (label_rules, run first)
    splits = (
        f"the {say(role_a)} and the {say(role_b)} labels"
        if role_a and role_b and role_a != role_b
        else "the labels of each split it is run for"
    )
    ctx.add(
        "GL315",
        "label-order-mismatch",
        "warning",
        "The label encoding is fitted again on the evaluation labels",
        sorted({a.node.lineno, b.node.lineno}),
        f"A label encoding is learned separately from {splits}, so each split gets its own "
        f"class → index mapping: {_ORDER[kind]}. Where they differ, the model is scored "
        "against labels numbered another way, and correct predictions count as wrong "
        "(inferred: the two encodings are taken to be the training and evaluation targets, "
        "from the names and paths of the data they are fitted on).",
        "Fit the encoding once, on the training labels (or on the full list of classes), and "
        "only transform the other splits:\nle = LabelEncoder().fit(train_df.label)\n"
        "y_val = le.transform(val_df.label)",
        [REFS["sk_label_encoder"], REFS["keras_idfd"]],
    )


declare(
    "GL325",
    "label-order-mismatch",
    "warning",
    "script",
    "The class index is numbered by the classes found among the files of the folder it reads",
    (REFS["tv_imagefolder"],),
)

_LISTINGS = {"walk", "listdir", "scandir", "glob", "iglob", "iterdir", "rglob"}


def _listing_iter(it: ast.expr) -> ast.expr | None:
    """The folder argument of ``os.walk(folder)`` / ``os.listdir(folder)`` / ``glob(...)`` /
    ``Path(folder).iterdir()`` used as a loop's iterable, else None."""
    call = (
        it.args[0]
        if isinstance(it, ast.Call)
        and getattr(it.func, "id", "")
        in (
            "sorted",
            "list",
        )
        and it.args
        else it
    )
    if not isinstance(call, ast.Call):
        return None
    f = call.func
    name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
    if name not in _LISTINGS:
        return None
    if call.args:
        return call.args[0]
    return f.value if isinstance(f, ast.Attribute) else None


def _collected_per_file(ctx: Ctx) -> dict[str, tuple[int, ast.expr]]:
    """``{list name: (line, folder)}`` of lists filled with one label per file found while
    walking a folder (``for root, _, files in os.walk(folder): ... labels.append(label)``)."""
    out: dict[str, tuple[int, ast.expr]] = {}
    for loop in ast.walk(ctx.src.tree):
        if not isinstance(loop, ast.For):
            continue
        folder = _listing_iter(loop.iter)
        if folder is None:
            continue
        for n in ast.walk(loop):
            if (
                isinstance(n, ast.Call)
                and isinstance(n.func, ast.Attribute)
                and n.func.attr == "append"
                and isinstance(n.func.value, ast.Name)
            ):
                out.setdefault(n.func.value.id, (n.lineno, folder))
    return out


def _numbered_by(ctx: Ctx, n: ast.DictComp, ev: Event) -> str | None:
    """The list a ``{c: i for i, c in enumerate(sorted(set(labels)))}`` mapping is numbered by
    (through ``list(...)``, ``sorted(..., key=...)`` and ``set``/``np.unique``), else None."""
    it = n.generators[0].iter
    if not (isinstance(it, ast.Call) and getattr(it.func, "id", "") == "enumerate" and it.args):
        return None
    node, at, name = it.args[0], ev, None
    for _ in range(8):
        if isinstance(node, ast.Name):
            name = node.id  # the list itself, or a name bound to what it is numbered by
            r = ctx.prog.origin(node, at.idx, at.scope)
            if r.node is node or not isinstance(r.node, ast.Call):
                break
            node, at = r.node, r
            continue
        if isinstance(node, ast.Call) and node.args:
            called = last(canon(ctx.prog.qualname(node.func, at.idx, at.scope) or ""))
            if (called or getattr(node.func, "id", "")) in (
                "list",
                "sorted",
                "tuple",
                "set",
                "unique",
            ):
                node = node.args[0]
                continue
        break
    return name


@check("common.classes_from_files_found")
def check_classes_from_files_found(ctx: Ctx) -> None:
    """GL325: a class → index mapping numbered by the labels of the files found in a folder
    given to the code (a split's folder), rather than by the task's list of classes."""
    if "append" not in source_text(ctx) or "enumerate" not in source_text(ctx):
        return
    collected = _collected_per_file(ctx)
    if not collected:
        return
    for ev in ctx.prog.events:
        for n in ast.walk(ev.node):
            if not isinstance(n, ast.DictComp):
                continue
            name = _numbered_by(ctx, n, ev)
            if name not in collected:
                continue
            line, folder = collected[name]
            if isinstance(folder, ast.Constant) or not once(ctx, "label.files_found"):
                continue  # one literal folder: one split, nothing to be numbered apart from
            cited = ctx.src.evidence(n.lineno)
            if any(f.code == "GL306" and cited in f.evidence for f in ctx.findings):
                continue  # said already as run once per split, from the calls shown
            ctx.add(
                "GL325",
                "label-order-mismatch",
                "warning",
                "The class index is numbered by the classes found among the files of the "
                "folder it reads",
                sorted({line, n.lineno}),
                f"The labels are collected one per file found under {ast.unparse(folder)}, and "
                "the class → index mapping is numbered from the sorted set of those labels. Run "
                "for each split's folder, it gives each split its own mapping: a class with "
                "no images in the validation or test folder (an empty class folder) is left "
                "out, and every class sorted after it gets an index one lower than in training, "
                "so the model is scored against shifted labels and accuracy collapses on those "
                "classes (inferred: the folder is taken to be one split's, as it is passed in "
                "rather than fixed).",
                "Build the mapping once, from the training split or the full list of class "
                "folder names, and pass it to every split's dataset:\n"
                "class_to_idx = {c: i for i, c in enumerate(sorted(os.listdir(train_dir)))}",
                [REFS["tv_imagefolder"]],
            )
