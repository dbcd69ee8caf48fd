"""Class names listed from the data folder with its files, against a loader that numbers only its
sub-folders.

``flow_from_directory``, ``image_dataset_from_directory`` and ``ImageFolder`` number the
*sub-folders* of the folder they read and skip its files. ``sorted(os.listdir(train_dir))`` or
``sorted(p.name for p in root.glob('*'))`` keeps every entry: a ``.DS_Store`` that macOS Finder
leaves in any folder it opens, ``Thumbs.db``, the ``LICENSE.txt`` shipped with a data set. Such a
list has one name more than the model has outputs, and every class that sorts after the file is
read with the previous class's name (``.DS_Store`` sorts first: every name is shifted).

A note (``info``), not a warning: most data folders hold no such file, and a sorted listing is
then the loader's order. The printed list shows whether it does (GL460, in the log); given
together, the two are one finding with the script's lines and the printed list as evidence.
"""

from __future__ import annotations

import ast

from graftlab.doctor._checks import declare
from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.common_rules import once, source_text
from graftlab.doctor.script.flow import Event, Ref, canon, dotted, last
from graftlab.doctor.script.knowledge import REFS
from graftlab.doctor.script.label_rules import indexed_by_prediction, numbering_loaders

declare(
    "GL336",
    "label-order-mismatch",
    "info",
    "script",
    "Class names listed from the data folder with its files, but the loader numbers folders only",
    (REFS["keras_idfd"], REFS["tv_tutorial"]),
)

#: Listings of a folder's entries, files included.
_LISTING = {"listdir", "glob", "iglob", "iterdir", "scandir"}
#: Calls that keep a listing's order and entries.
_KEEPING = {"sorted", "list", "tuple", "array", "asarray", "natsorted"}
#: Loaders that number the sub-folders of the folder they read (not a data frame's column).
_FOLDER_LOADERS = {"flow_from_directory", "image_dataset_from_directory", "ImageFolder"}


def _listing(ctx: Ctx, node: ast.expr | None, at: Event | Ref, depth: int = 0):
    """``(listing call, listed folder or None)`` when ``node`` holds every entry of a folder
    listing (no ``if`` that keeps folders or drops names, no pattern that selects), else None."""
    if node is None or depth > 6:
        return None
    r = ctx.prog.origin(node, at.idx, at.scope)
    n = r.node
    if isinstance(n, ast.ListComp | ast.GeneratorExp | ast.SetComp):
        gen = n.generators[0]
        if gen.ifs or len(n.generators) > 1:
            return None  # ``if p.is_dir()``, ``if not name.startswith('.')``
        return _listing(ctx, gen.iter, r, depth + 1)
    if not isinstance(n, ast.Call):
        return None
    q = canon(ctx.prog.qualname(n.func, r.idx, r.scope) or "")
    name = last(q) if q else getattr(n.func, "attr", "")
    if name in _KEEPING and n.args and not any(k.arg == "key" for k in n.keywords):
        return _listing(ctx, n.args[0], r, depth + 1)
    if name not in _LISTING:
        return None
    module_fn = q in ("glob.glob", "glob.iglob", "os.listdir", "os.scandir") or isinstance(
        n.func, ast.Name
    )
    receiver = n.func.value if isinstance(n.func, ast.Attribute) and not module_fn else None
    folder = None
    if name in ("glob", "iglob"):
        pattern = _tail(ctx, n.args[0], r) if n.args else None
        if pattern is None:
            return None
        pattern = pattern.replace("\\", "/")
        # ``glob('*')`` / ``glob(d + '/*')`` take every entry; ``'*/'``, ``'*.jpg'`` select
        if not pattern.endswith("*") or "*" in pattern[:-1] or "?" in pattern or "[" in pattern:
            return None
        if receiver is None:
            folder = pattern[:-1].rstrip("/") or None
    elif receiver is None and n.args:
        folder = _path(ctx, n.args[0], r)
    if receiver is not None:
        folder = _path(ctx, receiver, r)
    return n, folder


def _tail(ctx: Ctx, node: ast.expr, at: Event | Ref) -> str | None:
    """A glob pattern's text, or its last literal part when the folder before it is not known
    (``train_dir + '/*'``, ``os.path.join(d, '*')``, ``f'{d}/*'``)."""
    r = ctx.prog.origin(node, at.idx, at.scope)
    v = ctx.prog.const(r.node, r.idx, r.scope)
    if isinstance(v, str):
        return v
    n = r.node
    if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Add):
        part = n.right
    elif isinstance(n, ast.JoinedStr) and n.values:
        part = n.values[-1]
    elif isinstance(n, ast.Call) and last(dotted(n.func) or "") == "join" and n.args:
        part = n.args[-1]
    else:
        return None
    tail = ctx.prog.const(part, r.idx, r.scope)
    return "/" + tail.lstrip("/") if isinstance(tail, str) and tail.strip("/") == "*" else None


def _path(ctx: Ctx, node: ast.expr, at: Event | Ref) -> str | None:
    """The folder a path expression names, through ``Path(...)``, when it folds to a string."""
    r = ctx.prog.origin(node, at.idx, at.scope)
    n = r.node
    if isinstance(n, ast.Call) and last(dotted(n.func) or "") in ("Path", "PurePath") and n.args:
        n = n.args[0]
    v = ctx.prog.const(n, r.idx, r.scope)
    return v.replace("\\", "/").rstrip("/") if isinstance(v, str) else None


def _edits(ctx: Ctx) -> tuple[dict[str, list[ast.stmt]], set[str]]:
    """(statements that bind each name, names sliced or with an entry removed), from one walk
    of the script: a walk per listing made the check quadratic in the script's length."""
    if "label.edits" not in ctx.cache:
        binds: dict[str, list[ast.stmt]] = {}
        changed: set[str] = set()
        for n in ast.walk(ctx.src.tree):
            if isinstance(n, ast.Assign | ast.AugAssign):
                for t in n.targets if isinstance(n, ast.Assign) else [n.target]:
                    if name := dotted(t):
                        binds.setdefault(name, []).append(n)
            elif (
                isinstance(n, ast.Call)
                and isinstance(n.func, ast.Attribute)
                and n.func.attr in ("remove", "pop", "discard")
            ):
                changed.add(dotted(n.func.value))
            elif isinstance(n, ast.Delete):
                changed |= {dotted(t.value) for t in n.targets if isinstance(t, ast.Subscript)}
        ctx.cache["label.edits"] = binds, changed
    return ctx.cache["label.edits"]


def _edited(ctx: Ctx, var: str, made: ast.stmt) -> bool:
    """``var`` is rebound, sliced or has an entry removed after the listing made it."""
    binds, changed = _edits(ctx)
    return var in changed or any(n is not made for n in binds.get(var, ()))


@check("common.listed_files_as_classes")
def check_listed_files(ctx: Ctx) -> None:
    """GL336: a class list made from every entry of a folder names the predictions of a model
    whose classes a folder loader numbered (folders only)."""
    text = source_text(ctx)
    if not any(w in text for w in ("listdir", "glob", "iterdir", "scandir")):
        return
    loaders = [c for c in numbering_loaders(ctx) if c.name in _FOLDER_LOADERS]
    if not loaders:
        return
    for ev in ctx.prog.events:
        n = ev.node
        if not isinstance(n, ast.Assign) or len(n.targets) != 1:
            continue
        var = dotted(n.targets[0])
        found = _listing(ctx, n.value, ev) if var else None
        if found is None or _edited(ctx, var, n):
            continue
        call, folder = found
        used = indexed_by_prediction(ctx, var, ev.idx)
        if not used or not once(ctx, "label.listed_files", var):
            continue
        if any(f.code == "GL306" and ctx.src.evidence(used) in f.evidence for f in ctx.findings):
            continue  # the same list, unsorted: GL306's fix (the loader's names) mends both
        loader = loaders[0]
        for c in loaders:
            arg = c.node.args[0] if c.node.args else c.kw("directory") or c.kw("root")
            if arg is not None and folder is not None and _path(ctx, arg, c.ev) == folder:
                loader = c
                break
        where = f" of {folder!r}" if folder else ""
        ctx.add(
            "GL336",
            "label-order-mismatch",
            "info",
            f"{var} lists every entry{where}, files included; {loader.name} numbers only its "
            "sub-folders",
            [call.lineno, loader.node.lineno, used],
            f"{var} is made from a listing of the data folder (line {call.lineno}) that keeps "
            f"its files as well as its class folders, while {loader.name} (line "
            f"{loader.node.lineno}) numbers the model's outputs by the sub-folders alone. A "
            "file there (.DS_Store, which macOS Finder writes into every folder it opens; "
            "Thumbs.db; a data set's LICENSE.txt) takes a place in the list: every class "
            f"sorted after it is read as the class before it, and {var}[prediction] can even "
            "be the file's name. Inferred: the folder holds such a file (the script cannot "
            "show it; the printed list would).",
            f"{var} = list(train_gen.class_indices)  # or train_ds.class_names / "
            "train_set.classes\n"
            "# or keep folders only:\n"
            f"{var} = sorted(p.name for p in data_dir.iterdir() if p.is_dir())",
            [REFS["keras_idfd"], REFS["tv_tutorial"]],
        )
