"""Checks that apply whatever the framework."""

from __future__ import annotations

import ast

from graftlab.doctor._checks import declare
from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.knowledge import REFS

declare(
    "GL304",
    "label-order-mismatch",
    "warning",
    "script",
    "Class folders named by numbers, indices read back as those numbers",
    (REFS["keras_idfd"], REFS["tv_tutorial"]),
)

_SORTING_LOADERS = {"flow_from_directory", "image_dataset_from_directory", "ImageFolder"}
_LIST_WORDS = ("class", "label", "categor", "names", "species")


def source_text(ctx: Ctx) -> str:
    """The whole analysed text, once per script: cheap word tests let a check skip a
    script that cannot hold what it looks for."""
    if "text" not in ctx.cache:
        ctx.cache["text"] = "\n".join(ctx.src.lines)
    return ctx.cache["text"]


def exclusive(ctx: Ctx, a: ast.stmt, b: ast.stmt) -> bool:
    """Whether ``a`` and ``b`` sit in different branches of one ``if`` (or try/except)."""
    for n in ast.walk(ctx.src.tree):
        if isinstance(n, ast.If):
            branches = [n.body, n.orelse]
        elif isinstance(n, ast.Try):
            branches = [n.body, *[h.body for h in n.handlers]]
        else:
            continue
        where = [
            i
            for i, br in enumerate(branches)
            for x in (a, b)
            if any(x is m for s in br for m in ast.walk(s))
        ]
        if len(where) == 2 and where[0] != where[1]:
            return True
    return False


def call_in_deps(ctx: Ctx, node: ast.expr, at, names, limit: int) -> int:
    """Line of the first call named in ``names`` (``f(...)`` or ``x.f(...)``) among the
    statements ``node`` is computed from (``ctx.prog.deps``, up to ``limit``), or 0."""
    for ref in ctx.prog.deps(node, at, limit=limit):
        for n in ast.walk(ref.node):
            if isinstance(n, ast.Call):
                f = n.func
                if (f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")) in names:
                    return n.lineno
    return 0


def once(ctx: Ctx, *key: object) -> bool:
    """True the first time ``key`` is seen in this diagnosis: one cause is one finding,
    however many calls, loops or phases show it."""
    seen = ctx.cache.setdefault("once", set())
    if key in seen:
        return False
    seen.add(key)
    return True


def sorting_loaders(ctx: Ctx, names: frozenset[str] | set[str] = _SORTING_LOADERS) -> list:
    """Calls of folder loaders that number the classes in sorted order (no explicit
    ``classes=`` / ``class_names=`` list given)."""
    return [
        c
        for c in ctx.prog.calls
        if c.name in names and c.kw("classes") is None and c.kw("class_names") is None
    ]


@check("common.class_names")
def check_class_names(ctx: Ctx) -> None:
    """GL301: a hand-written class-name list in another order than the folder loader's."""
    prog = ctx.prog
    loaders = sorting_loaders(ctx)
    if not loaders:
        return
    indexed = {
        n.value.id
        for n in ast.walk(ctx.src.tree)
        if isinstance(n, ast.Subscript)
        and isinstance(n.value, ast.Name)
        and not isinstance(n.slice, ast.Constant | ast.Slice)
    }
    for ev in prog.events:
        node = ev.node
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1):
            continue
        target = node.targets[0]
        if not isinstance(target, ast.Name) or target.id not in indexed:
            continue
        if not any(w in target.id.lower() for w in _LIST_WORDS):
            continue
        value = written_names(prog.const(node.value, ev.idx, ev.scope), node.value)
        if value is None or value == sorted(value):
            continue
        ctx.add(
            "GL301",
            "label-order-mismatch",
            "warning",
            f"{target.id} is not in the order the folder loader assigns class indices",
            [node.lineno, loaders[0].node.lineno],
            f"{loaders[0].name} numbers classes by sorting the folder names: "
            f"{sorted(value)}. {target.id} lists them as {list(value)}, so "
            f"{target.id}[prediction] names the wrong class for every index that differs "
            "(the model can be right and the reported label wrong).",
            "Take the names from the loader instead of typing them:\n"
            "class_names = list(train_gen.class_indices)  # Keras flow_from_directory\n"
            "class_names = train_ds.class_names            # image_dataset_from_directory\n"
            "class_names = train_set.classes               # torchvision ImageFolder",
            [REFS["keras_idfd"], REFS["tv_tutorial"]],
        )


def written_names(value: object, node: ast.expr) -> list[str] | None:
    """Class names as the code writes them, in index order: a list or tuple of strings, a
    ``{0: "dog", 1: "cat"}`` dict, or ``"tulip rose daisy".split()``; else None."""
    if isinstance(value, dict) and sorted(value) == list(range(len(value))):
        value = [value[i] for i in range(len(value))]
    elif (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "split"
        and isinstance(node.func.value, ast.Constant)
        and isinstance(node.func.value.value, str)
        and len(node.args) <= 1
        and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in node.args)
    ):
        sep = node.args[0].value if node.args else None
        value = [w.strip() for w in node.func.value.value.split(sep)]
    if not (isinstance(value, list | tuple) and len(value) >= 2):
        return None
    return list(value) if all(isinstance(v, str) and v for v in value) else None


_WRITERS = {"makedirs", "mkdir", "copy", "copyfile", "copy2", "move", "save", "imwrite", "symlink"}
# attributes that map a loader's class index back to its folder name
CLASS_MAPPINGS = {"classes", "class_to_idx", "class_indices", "class_names", "idx_to_class"}
# scikit-learn metrics that score predictions against labels, position by position
SCORES = {
    "confusion_matrix",
    "classification_report",
    "accuracy_score",
    "f1_score",
    "precision_score",
    "recall_score",
    "roc_auc_score",
    "balanced_accuracy_score",
}


def _numeric_component(node: ast.AST) -> bool:
    """``str(label)`` or ``f"{label}"`` used as a folder name."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "str":
        return len(node.args) == 1 and not isinstance(node.args[0], ast.Constant)
    if isinstance(node, ast.JoinedStr):
        return len(node.values) == 1 and isinstance(node.values[0], ast.FormattedValue)
    return False


@check("common.numeric_folders")
def check_numeric_folders(ctx: Ctx) -> None:
    """GL304: class folders named by numbers, indices read back as those numbers."""
    prog = ctx.prog
    loaders = sorting_loaders(ctx)
    if not loaders:
        return
    writes = [
        c
        for c in prog.calls
        if c.name in _WRITERS and any(_numeric_component(n) for n in ast.walk(c.node))
    ]
    if not writes:
        return
    tree = ctx.src.tree
    if any(isinstance(n, ast.Attribute) and n.attr in CLASS_MAPPINGS for n in ast.walk(tree)):
        return  # indices are mapped back to folder names somewhere
    preds = [c for c in prog.calls if c.name in ("argmax", "predict", "predict_classes", "max")]
    if not preds or not once(ctx, "common.numeric_folders"):
        return
    ctx.add(
        "GL304",
        "label-order-mismatch",
        "warning",
        "Class folders are named by numbers, but the loader numbers them in string order",
        [writes[0].node.lineno, loaders[0].node.lineno, preds[-1].node.lineno],
        "The script writes images into folders named by their label "
        f"({ast.unparse(writes[0].node)[:60]}), then reads them with {loaders[0].name}, which "
        "sorts folder names as strings: '0', '1', '10', '11', ..., '2', ... With more than ten "
        "classes, class index 2 is folder '10', not label 2, and a "
        "predicted index used as the label is wrong for every class past 9 (inferred: the "
        "folders are numbered from the code that creates them; with at most 10 classes "
        "numbered 0-9 the orders agree).",
        "Map indices back through the loader, not by value:\n"
        "idx_to_class = {v: k for k, v in train_set.class_to_idx.items()}  # torchvision\n"
        "label = int(idx_to_class[pred])\n"
        "# Keras: {v: k for k, v in train_gen.class_indices.items()}; or pass "
        "classes=[str(i) for i in range(n)] to fix the order",
        [REFS["keras_idfd"], REFS["tv_tutorial"]],
    )


def resized_to(ctx: Ctx, n: ast.Call, ref) -> tuple | None:
    """(height, width) an image is loaded or resized to by this call: ``load_img(path,
    target_size=(h, w))``, PIL's ``img.resize((w, h))``, ``cv2.resize(img, (w, h))``,
    ``tf.image.resize(img, (h, w))``."""
    name = last_name(n.func)
    if name == "load_img":
        node = next((k.value for k in n.keywords if k.arg == "target_size"), None)
        flip = False
    elif name == "resize" and isinstance(n.func, ast.Attribute):
        owner = ast.unparse(n.func.value)
        if owner in ("cv2", "tf.image", "tensorflow.image"):
            node = (
                n.args[1]
                if len(n.args) > 1
                else next((k.value for k in n.keywords if k.arg in ("dsize", "size")), None)
            )
        else:  # PIL Image.resize(size)
            node = (
                n.args[0]
                if n.args
                else next((k.value for k in n.keywords if k.arg == "size"), None)
            )
        flip = owner != "tf.image" and owner != "tensorflow.image"  # (w, h)
    else:
        return None
    got = ctx.prog.const(node, ref.idx, ref.scope) if node is not None else None
    if not (isinstance(got, tuple | list) and len(got) == 2):
        return None
    if not all(isinstance(v, int) for v in got):
        return None
    return (got[1], got[0]) if flip else tuple(got)


def last_name(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""
