"""Predictions paired with file names listed in another order than the loader read the files.

Folder loaders (``ImageFolder``, ``flow_from_directory``, ``image_dataset_from_directory``)
read the files of each class folder in *sorted* order; ``os.listdir``/``glob``/``iterdir``
return them in file-system order. A submission built as ``DataFrame({"id":
os.listdir(test_dir), "label": preds})`` pairs row i of the listing with the prediction for
another file whenever the two orders differ.
"""

from __future__ import annotations

import ast

from graftlab.doctor._checks import declare
from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.common_rules import once
from graftlab.doctor.script.flow import Event, canon, last
from graftlab.doctor.script.knowledge import REFS
from graftlab.doctor.script.label_rules import unstable_source

declare(
    "GL316",
    "label-order-mismatch",
    "warning",
    "script",
    "Predictions paired with a file listing in another order than the loader read the files",
    (REFS["tv_tutorial"], REFS["keras_idfd"]),
)

_FOLDER_LOADERS = {
    "ImageFolder",
    "DatasetFolder",
    "flow_from_directory",
    "image_dataset_from_directory",
}
_PREDICTORS = {"argmax", "predict", "predict_classes", "topk", "predict_on_batch"}
# calls that only look at a listing: using it there does not make it the loader's order
_READ_ONLY = {"len", "print", "zip", "DataFrame", "dict", "enumerate", "Series", "to_csv", "list"}


def _predicted(ctx: Ctx, node: ast.expr, ev: Event) -> ast.Call | None:
    """The folder loader whose images ``node``'s predictions were made on, or None when
    ``node`` is not predicted or its images come from elsewhere."""
    predicted, loader = False, None
    for ref in ctx.prog.deps(node, ev, limit=60):
        for m in ast.walk(ref.node):
            if not isinstance(m, ast.Call):
                continue
            f = m.func
            name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            predicted = predicted or name in _PREDICTORS
            site = ctx.prog.call_site(m)
            if loader is None and site is not None and site.name in _FOLDER_LOADERS:
                loader = m
    return loader if predicted else None


def _listing(ctx: Ctx, node: ast.expr, ev: Event) -> tuple[str | None, int] | None:
    """(variable, line) when ``node`` is a directory listing in file-system order."""
    src = unstable_source(ctx, node, ev)
    if src is None or src[0] != "listdir":
        return None
    return (node.id if isinstance(node, ast.Name) else None), src[1]


def _columns(n: ast.AST) -> list[ast.expr]:
    """The values paired row by row: a dict's values, ``zip(a, b)``'s arguments."""
    if isinstance(n, ast.Dict):
        return [v for v in n.values if v is not None]
    if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "zip":
        return list(n.args)
    return []


def _feeds_a_dataset(ctx: Ctx, var: str, pairing: ast.stmt) -> bool:
    """Whether ``var`` is passed to anything but a read-only call outside the pairing:
    a listing handed to a Dataset is the order that dataset reads in."""
    for c in ctx.prog.calls:
        if c.ev.node is pairing:
            continue
        f = c.node.func
        name = last(canon(ctx.prog.qualname(f, c.ev.idx, c.ev.scope) or "")) or getattr(
            f, "attr", ""
        )
        if name in _READ_ONLY:
            continue
        args = [*c.node.args, *[k.value for k in c.node.keywords]]
        if any(isinstance(m, ast.Name) and m.id == var for a in args for m in ast.walk(a)):
            return True
    return False


@check("common.listing_paired_with_predictions")
def check_listing_pairing(ctx: Ctx) -> None:
    """GL316: predictions of a folder loader paired with an ``os.listdir``/``glob`` listing."""
    prog = ctx.prog
    loaders = [c for c in prog.calls if c.name in _FOLDER_LOADERS]
    if not loaders:
        return
    for ev in prog.events:
        if isinstance(ev.node, ast.For | ast.While | ast.With | ast.If | ast.Try):
            continue
        for n in ast.walk(ev.node):
            cols = _columns(n)
            loader = next((x for c in cols if (x := _predicted(ctx, c, ev)) is not None), None)
            if len(cols) < 2 or loader is None:
                continue
            listed = next((x for c in cols if (x := _listing(ctx, c, ev)) is not None), None)
            if listed is None or (listed[0] and _feeds_a_dataset(ctx, listed[0], ev.node)):
                continue
            if not once(ctx, "label.listing_pairing"):
                return
            loader = prog.call_site(loader)
            ctx.add(
                "GL316",
                "label-order-mismatch",
                "warning",
                "Predictions are paired with a file listing in another order than the loader's",
                sorted({loader.node.lineno, listed[1], ev.node.lineno}),
                f"{loader.name} reads the files of each folder in sorted order, so its "
                "predictions come out in that order, but they are paired row by row with a "
                "listing from os.listdir/glob, which is in file-system order: row i names one "
                "file and holds the prediction for another (inferred: the listing is taken to "
                "be the folder the loader reads).",
                "Take the names from the loader, in its order: test_gen.filenames (Keras, "
                "shuffle=False), test_ds.file_paths, [p for p, _ in test_set.samples] "
                "(torchvision); or sort the listing: sorted(os.listdir(test_dir)).",
                [REFS["tv_tutorial"], REFS["keras_idfd"]],
            )
            return
