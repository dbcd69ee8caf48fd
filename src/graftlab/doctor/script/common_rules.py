"""Checks that apply whatever the framework."""

from __future__ import annotations

import ast

from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.knowledge import REFS

_SORTING_LOADERS = {"flow_from_directory", "image_dataset_from_directory", "ImageFolder"}
_LIST_WORDS = ("class", "label", "categor", "names", "species")


def once(ctx: Ctx, *key: object) -> bool:
    """True the first time ``key`` is seen in this diagnosis: one cause is one finding,
    however many calls, loops or phases show it."""
    seen = ctx.cache.setdefault("once", set())
    if key in seen:
        return False
    seen.add(key)
    return True


@check("common.class_names")
def check_class_names(ctx: Ctx) -> None:
    """GL301: a hand-written class-name list in another order than the folder loader's."""
    prog = ctx.prog
    loaders = [
        c
        for c in prog.calls
        if c.name in _SORTING_LOADERS and c.kw("classes") is None and c.kw("class_names") is None
    ]
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
        value = prog.const(node.value, ev.idx, ev.scope)
        if not (isinstance(value, list | tuple) and len(value) >= 2):
            continue
        if not all(isinstance(v, str) for v in value) or list(value) == sorted(value):
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
