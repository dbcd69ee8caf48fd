"""A ``labels=`` list for Keras' folder loader given in another order than its files.

- **GL146** (label-order-mismatch): ``image_dataset_from_directory(d, labels=L)`` pairs
  ``L[i]`` with the i-th file in the *sorted* order of the file paths. A list built while
  walking the folder in file-system order (``os.walk``, ``os.listdir``, ``glob`` with no
  ``sorted()``) puts the labels in another order: whole runs of images get other images'
  labels and the model learns little above chance. The order is read from the code, whether
  the file system happens to return sorted names is not, so it is a warning.
"""

from __future__ import annotations

import ast

from graftlab.doctor._checks import declare
from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.common_rules import once
from graftlab.doctor.script.flow import Ref
from graftlab.doctor.script.knowledge import REFS
from graftlab.doctor.script.label_rules import _walks, unstable_source

declare(
    "GL146",
    "label-order-mismatch",
    "warning",
    "script",
    "labels= list built in file-system order for a loader that sorts its files",
    (REFS["keras_idfd"],),
)

_FOLDER_LOADERS = {"image_dataset_from_directory", "text_dataset_from_directory"}


def _unsorted_walk(ctx: Ctx, ref: Ref) -> int:
    """Line of the listing when ``ref`` (a value that went into the labels) was made inside a
    loop over an unsorted listing, or comes from one; else 0."""
    prog = ctx.prog
    ev = prog.events[min(ref.idx, len(prog.events) - 1)]
    for i in ev.loops:
        loop = prog.events[i]
        if not isinstance(loop.node, ast.For):
            continue
        it = loop.node.iter
        if _walks(ctx, it, loop):
            return loop.node.lineno
        src = unstable_source(ctx, it, loop)
        if src is not None and src[0] == "listdir":
            return src[1]
    if isinstance(ref.node, ast.expr):
        src = unstable_source(ctx, ref.node, ref)
        if src is not None and src[0] == "listdir":
            return src[1]
    return 0


@check("keras.label_list_order")
def check_label_list_order(ctx: Ctx) -> None:
    """GL146: ``labels=`` of a sorting folder loader built in file-system order."""
    for c in ctx.prog.calls:
        if c.name not in _FOLDER_LOADERS:
            continue
        given = c.kw("labels")
        if given is None or isinstance(given, ast.Constant):
            continue  # "inferred" or None
        line = 0
        for ref in ctx.prog.deps(given, c.ev, limit=30):
            if isinstance(ref.node, ast.Call) and getattr(ref.node.func, "id", "") == "sorted":
                break  # the labels themselves put in path order
            line = _unsorted_walk(ctx, ref)
            if line:
                break
        if not line or not once(ctx, "keras.label_list_order", c.node.lineno):
            continue
        ctx.add(
            "GL146",
            "label-order-mismatch",
            "warning",
            f"The labels= list is built in file-system order, but {c.name} sorts its files",
            [line, c.node.lineno],
            f"{c.name} pairs labels[i] with the i-th image in the alphanumeric order of the "
            "file paths; the list given here is built while listing the folder in file-system "
            "order (os.walk / os.listdir / glob return entries unsorted), so wherever the two "
            "orders differ an image gets another image's label and training stays near chance "
            "(inferred: the listing is not sorted on the way).",
            "Build the labels from the sorted paths: paths = sorted(glob.glob(f'{root}/**/*.jpg',"
            " recursive=True)); labels = [label_of(p) for p in paths], or use labels='inferred' "
            "with one folder per class.",
            [REFS["keras_idfd"]],
        )
