"""Class lists whose order is not the order the labels were numbered in, in either framework.

Folder loaders (``flow_from_directory``, ``image_dataset_from_directory``, ``ImageFolder``,
``load_files``) number classes by the *sorted* folder names. ``os.listdir``/``glob`` return
them in file-system order, ``set()`` in an order that changes from one run to the next (string
hashing is salted per process) and ``.unique()`` in order of first appearance: a class list
built that way and used to name predictions, or two label mappings built that way for the
training and the evaluation data, disagree with the indices the model learned.
"""

from __future__ import annotations

import ast
import re

from graftlab.doctor._checks import declare
from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.common_rules import (
    CLASS_MAPPINGS,
    SCORES,
    call_in_deps,
    once,
    sorting_loaders,
    source_text,
)
from graftlab.doctor.script.flow import ElementOf, Event, Ref, canon, dotted, last
from graftlab.doctor.script.keras_graph import role_of
from graftlab.doctor.script.knowledge import REFS

declare(
    "GL306",
    "label-order-mismatch",
    "warning",
    "script",
    "Class names or label indices taken in an unstable order (listdir, glob, set)",
    (REFS["keras_idfd"], REFS["tv_tutorial"]),
)

_LISTING = {"listdir", "glob", "iglob", "iterdir", "scandir", "walk"}
_SORTING_LOADERS = {
    "flow_from_directory",
    "image_dataset_from_directory",
    "ImageFolder",
    "DatasetFolder",
    "load_files",
    "flow_from_dataframe",
}
_UNNUMBERED_MODES = {"raw", "input", "multi_output", None}


def numbering_loaders(ctx: Ctx) -> list:
    """Folder and data-frame loaders that number the classes by their sorted names
    (``flow_from_dataframe`` too, unless its ``class_mode`` passes the column through)."""
    out = []
    for c in sorting_loaders(ctx, _SORTING_LOADERS):
        mode = c.kw("class_mode")
        passed = (
            mode is not None and ctx.prog.const(mode, c.ev.idx, c.ev.scope) in _UNNUMBERED_MODES
        )
        if c.name != "flow_from_dataframe" or not passed:
            out.append(c)
    return out


_PREDICTORS = {"argmax", "max", "topk", "predict", "predict_classes", "argsort", "predict_proba"}
_ORDER = {
    "listdir": "os.listdir/glob return entries in file-system order, not sorted",
    "set": "a set's iteration order over strings changes from one run to the next",
    "unique": ".unique() keeps the order of first appearance",
    "key": "it is sorted with a key (as numbers, naturally, ignoring case), while the folder "
    "loaders sort the plain names as strings: '1', '10', '2'",
}


def unstable_source(ctx: Ctx, node: ast.expr | None, at: Event | Ref, depth: int = 0):
    """``("listdir" | "set" | "unique", line)`` when ``node``'s order comes from a directory
    listing, a set or ``.unique()`` with no ``sorted()`` on the way; else None."""
    if node is None or depth > 6:
        return None
    r = ctx.prog.origin(node, at.idx, at.scope)
    n = r.node
    if isinstance(n, ast.ListComp | ast.GeneratorExp):
        it = n.generators[0].iter
        if _walks(ctx, it, r):
            return "listdir", n.lineno  # [d[0] for d in os.walk(root)][1:]
        return unstable_source(ctx, it, r, depth + 1)
    if isinstance(n, ast.Subscript) and _walks(ctx, n.value, r, first=True):
        return "listdir", n.lineno  # next(os.walk(root))[1]: the top folder's sub-folders
    if isinstance(n, ast.Subscript) and isinstance(n.slice, ast.Slice):
        return unstable_source(ctx, n.value, r, depth + 1)  # os.listdir(root)[1:]
    if isinstance(n, ast.SetComp | ast.Set):
        return "set", n.lineno
    if not isinstance(n, ast.Call):
        return None
    q = canon(ctx.prog.qualname(n.func, r.idx, r.scope) or "")
    name = last(q) if q else getattr(n.func, "attr", "")
    if name in ("sorted", "sort", "natsorted"):
        # a key (int, natural order, lower case) gives another order than the loaders' plain sort
        keyed = name == "natsorted" or any(k.arg == "key" for k in n.keywords)
        if keyed and n.args and unstable_source(ctx, n.args[0], r, depth + 1) is not None:
            return "key", n.lineno
        return None
    if name in _LISTING and name != "walk":
        return "listdir", n.lineno
    if name == "set" and n.args:
        return "set", n.lineno
    if name in _APPEARANCE and isinstance(n.func, ast.Attribute) and not n.args:
        return "unique", n.lineno
    if name == "unique" and n.args and q.startswith(("pandas.", "pd.")):
        return "unique", n.lineno  # pd.unique keeps the order of first appearance; np.unique sorts
    if name in ("list", "tuple", "enumerate", "dict") and n.args:
        return unstable_source(ctx, n.args[0], r, depth + 1)
    if name in _AS_LIST and isinstance(n.func, ast.Attribute) and not n.args:
        return unstable_source(ctx, n.func.value, r, depth + 1)
    return None


def _walks(ctx: Ctx, node: ast.expr, at: Event | Ref, first: bool = False) -> bool:
    """``os.walk(root)`` (or, with ``first``, ``next(os.walk(root))``): the folders it yields
    are in file-system order, like ``os.listdir``'s."""
    if first:
        if not (_called(node, "next") and isinstance(node.args[0], ast.Call)):
            return False
        node = node.args[0]
    if not isinstance(node, ast.Call):
        return False
    q = canon(ctx.prog.qualname(node.func, at.idx, at.scope) or "")
    return last(q) == "walk" and q.startswith(("os.", "walk", "tf.io.gfile", "tensorflow"))


#: A column's values in order of first appearance: ``s.unique()``, ``s.drop_duplicates()``.
_APPEARANCE = {"unique", "drop_duplicates"}
#: Conversions that keep the order: ``s.unique().tolist()`` is as unstable as ``s.unique()``.
_AS_LIST = {"tolist", "to_list", "to_numpy"}


def _class_lists(ctx: Ctx) -> list[tuple[str, Event, str, int]]:
    """(variable, event, order kind, line) of lists assigned from an unstable order."""
    out = []
    for ev in ctx.prog.events:
        n = ev.node
        if not isinstance(n, ast.Assign) or len(n.targets) != 1:
            continue
        t = n.targets[0]
        var = t.id if isinstance(t, ast.Name) else dotted(t)  # also self.class_names
        if not var:
            continue
        src = unstable_source(ctx, n.value, ev)
        if src is not None:
            out.append((var, ev, src[0], src[1]))
    return out


_LOADS = {"load_model", "load_state_dict", "load_weights", "load_learner"}


def _loaded_model(ctx: Ctx) -> bool:
    """The script predicts with weights trained elsewhere (``load_model``, ``load_state_dict``)."""
    if "label.loaded" not in ctx.cache:
        ctx.cache["label.loaded"] = any(c.name in _LOADS for c in ctx.prog.calls)
    return ctx.cache["label.loaded"]


def _numbers_with(ctx: Ctx, var: str) -> bool:
    """``enumerate(var)`` somewhere: the script numbers its own labels with this listing.
    The enumerated names are collected in one walk a script: a walk per listing was quadratic
    (800 listings took 13 s)."""
    if "label.enumerated" not in ctx.cache:
        ctx.cache["label.enumerated"] = {
            dotted(n.args[0])
            for n in ast.walk(ctx.src.tree)
            if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "enumerate" and n.args
        }
    return var in ctx.cache["label.enumerated"]


def _indexed(ctx: Ctx) -> list[tuple[Event, list[ast.Subscript], dict[str, ast.expr]]]:
    """Per event: its subscripts with a computed index (``names[i]``, not ``names[0]`` or a
    slice), and the iterables of its comprehensions by target name (in ``[names[i] for i in
    idxs]`` the index is an element of ``idxs``). Once a script: walked again for every list
    asked about, a script of many listings took minutes."""
    if "label.indexed" not in ctx.cache:
        out = []
        for ev in ctx.prog.events:
            nodes = list(ast.walk(ev.node)) if not isinstance(ev.node, ast.For | ast.With) else []
            comp_iters = {
                t.id: g.iter
                for g in nodes
                if isinstance(g, ast.comprehension)
                for t in ast.walk(g.target)
                if isinstance(t, ast.Name)
            }
            subscripts = [
                n
                for n in nodes
                if isinstance(n, ast.Subscript)
                and not isinstance(n.slice, ast.Constant | ast.Slice)
            ]
            out.append((ev, subscripts, comp_iters))
        ctx.cache["label.indexed"] = out
    return ctx.cache["label.indexed"]


def _subscripts_by_list(ctx: Ctx) -> tuple[dict, dict]:
    """The computed-index subscripts of the script in execution order, once a script, by the
    name of the list they read and by the expression that made that list (a Name's origin):
    ``({name: [(position, event, subscript, comprehension iterables)]}, {id(origin): [...]})``.
    Each list asked about looks up its own: a scan of every later subscript per list was
    quadratic (1,500 listings took 23 s)."""
    if "label.by_list" not in ctx.cache:
        by_name: dict[str, list] = {}
        by_origin: dict[int, list] = {}
        for pos, (ev, subscripts, comp_iters) in enumerate(_indexed(ctx)):
            for n in subscripts:
                item = (pos, ev, n, comp_iters)
                name = dotted(n.value)
                if name:
                    by_name.setdefault(name, []).append(item)
                if isinstance(n.value, ast.Name):
                    made = ctx.prog.origin(n.value, ev.idx, ev.scope).node
                    by_origin.setdefault(id(made), []).append(item)
        ctx.cache["label.by_list"] = (by_name, by_origin)
    return ctx.cache["label.by_list"]


def listing_indexed(ctx: Ctx) -> list[tuple[Event, str, ast.expr, int]]:
    """``(event, index name, indexed list, line)`` of every ``xs[i]`` read with a plain name as
    its index (``self.files[idx]``), from the per-event subscripts computed once a script."""
    out = []
    for ev, subscripts, _ in _indexed(ctx):
        for n in subscripts:
            if isinstance(n.slice, ast.Name) and isinstance(n.ctx, ast.Load):
                out.append((ev, n.slice.id, n.value, n.lineno))
    return out


def indexed_by_prediction(ctx: Ctx, var: str, after: int, unstable: bool = False) -> int:
    """First line where ``var[i]`` is read with ``i`` computed from a prediction, or 0. The
    list is followed by value, not by name: ``names[i]`` inside ``run(a3)`` called with ``var``
    reads ``var`` as well."""
    made = ctx.prog.events[after].node if after < len(ctx.prog.events) else None
    value = made.value if isinstance(made, ast.Assign) and "." not in var else None
    by_name, by_origin = _subscripts_by_list(ctx)
    found = {(item[0], id(item[2])): item for item in by_name.get(var, ())}
    if value is not None:
        found.update(((item[0], id(item[2])), item) for item in by_origin.get(id(value), ()))
    for pos, ev, n, comp_iters in sorted(found.values(), key=lambda item: item[0]):
        if pos < after:
            continue
        if "." not in var:
            b = ctx.prog.lookup(dotted(n.value), ev.idx, ev.scope)
            if b is None:
                continue
            at = Ref(b.value, b.vidx, b.vscope)
            if unstable and unstable_source(ctx, b.value, at) is None:
                continue  # rebound to a sorted list before this use
        index = n.slice
        if isinstance(index, ast.Name) and index.id in comp_iters:
            index = comp_iters[index.id]
        if call_in_deps(ctx, index, ev, _PREDICTORS, limit=25):
            return n.lineno
    return 0


def _called(n: ast.AST, name: str) -> bool:
    return isinstance(n, ast.Call) and getattr(n.func, "id", "") == name and bool(n.args)


def numbered_list(n: ast.AST) -> ast.expr | None:
    """The list a class → index mapping numbers by position, in any of its spellings:
    ``{c: i for i, c in enumerate(L)}``, ``{L[i]: i for i in range(len(L))}``,
    ``dict(zip(L, range(len(L))))``; else None."""
    if isinstance(n, ast.DictComp):
        gen = n.generators[0]
        if _called(gen.iter, "enumerate") or _called(gen.iter, "zip"):
            return gen.iter.args[0]
        counted = gen.iter.args[0] if _called(gen.iter, "range") else None
        if not (_called(counted, "len") and isinstance(gen.target, ast.Name)):
            return None
        listed = ast.dump(counted.args[0])
        for m in ast.walk(n.key):
            if (
                isinstance(m, ast.Subscript)
                and isinstance(m.slice, ast.Name)
                and m.slice.id == gen.target.id
                and ast.dump(m.value) == listed
            ):
                return counted.args[0]
        return None
    if _called(n, "dict") and _called(n.args[0], "zip") and len(n.args[0].args) == 2:
        first, second = n.args[0].args
        return first if _called(second, "range") else None
    return None


def numberings(ev: Event, index: bool = True) -> list[tuple[ast.AST, ast.expr]]:
    """``(node, list)`` of every place a statement numbers classes by their position in a list:
    a mapping (:func:`numbered_list`), a loop header ``for i, c in enumerate(L):`` that labels
    what it reads inside, or (with ``index``) ``L.index(name)``."""
    n = ev.node
    if isinstance(n, ast.For):
        it = n.iter
        numbered = _called(it, "enumerate") and isinstance(n.target, ast.Tuple)
        return [(n, it.args[0])] if numbered else []
    if isinstance(n, ast.With):
        return []
    out = []
    for m in ast.walk(n):
        listed = numbered_list(m)
        if listed is None and index and isinstance(m, ast.Call) and len(m.args) == 1:
            f = m.func
            listed = f.value if isinstance(f, ast.Attribute) and f.attr == "index" else None
        if listed is not None:
            out.append((m, listed))
    return out


def _mappings(ctx: Ctx) -> list[tuple[int, str, str | None, str, int]]:
    """(line, order kind, role, listing, listing's line) of label mappings built from an
    unstable order:
    ``{c: i for i, c in enumerate(os.listdir(d))}``, ``{names[i]: i for i in
    range(len(names))}`` with ``names = glob(...)``."""
    out = []
    for ev in ctx.prog.events:
        # two lists each read with .index() are GL315's (an encoding refitted per split)
        for n, listed in numberings(ev, index=False):
            src = unstable_source(ctx, listed, ev)
            if src is None or src[0] == "key":
                continue  # a keyed sort is the same order for every split
            role = _role_near(ctx, ev, listed)
            out.append((n.lineno, src[0], role, ast.unparse(listed), src[1]))
    return out


def _role_near(ctx: Ctx, ev: Event, node: ast.expr) -> str | None:
    """The data role a listing names: the target variable, or the path it lists."""
    n = ev.node
    named = isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name)
    if named and (r := role_of(n.targets[0].id)):
        return r
    for ref in ctx.prog.deps(node, ev, limit=15):
        for m in ast.walk(ref.node):
            v = ctx.prog.const(m, ref.idx, ref.scope) if isinstance(m, ast.expr) else None
            if isinstance(v, str):
                for part in v.replace("\\", "/").split("/"):
                    if part and (r := role_of(part)):
                        return r
            if isinstance(m, ast.Name) and (r := role_of(m.id)):
                return r
    return None


@check("common.unstable_class_order")
def check_unstable_order(ctx: Ctx) -> None:
    """GL306: class names from listdir/glob/set naming predictions numbered by a sorting
    loader; training and evaluation label mappings each built from an unstable order."""
    if not re.search(
        r"listdir|glob|iterdir|scandir|walk\(|set\(|\{|unique\(|drop_duplicates\(", source_text(ctx)
    ):
        return
    loaders = numbering_loaders(ctx)
    sorts = [c for c in ctx.prog.method_calls("sort") if not c.node.args]
    sorted_in_place = {dotted(c.node.func.value) for c in sorts if not c.node.keywords}
    keyed_in_place = {dotted(c.node.func.value) for c in sorts if c.kw("key") is not None}
    for var, ev, kind, line in _class_lists(ctx):
        if var in sorted_in_place:
            continue  # classes.sort() puts them in the loader's order
        kind = "key" if var in keyed_in_place else kind
        used = indexed_by_prediction(ctx, var, ev.idx, unstable=True)
        trained_elsewhere = kind == "listdir" and _loaded_model(ctx) and not _numbers_with(ctx, var)
        if not used or (
            kind in ("listdir", "unique", "key") and not loaders and not trained_elsewhere
        ):
            continue
        if not once(ctx, "label.unstable", var):
            continue
        by = f"{loaders[0].name} (line {loaders[0].node.lineno})" if loaders else None
        ctx.add(
            "GL306",
            "label-order-mismatch",
            "warning",
            f"{var} is sorted another way than the class indices it names"
            if kind == "key"
            else f"{var} is not sorted, but the class indices it names are",
            [line, *([loaders[0].node.lineno] if loaders else []), used],
            f"{var} is built from a listing whose order is not the label order: "
            f"{_ORDER[kind]}. "
            + (
                f"The model's class indices come from {by}, which numbers the classes by "
                "their sorted names. "
                if by
                else "The indices the model learned come from another run or another list"
                + (
                    " (inferred: the model is loaded from a file, and Keras' and "
                    "torchvision's folder loaders number classes by sorted folder name). "
                    if trained_elsewhere
                    else ". "
                )
            )
            + f"{var}[prediction] therefore names the wrong class whenever the two orders "
            "differ; the model can be right and the reported label wrong.",
            f"{var} = sorted(...) (the same order the loader uses), or better take the names "
            "from the loader: list(train_gen.class_indices) / train_ds.class_names / "
            "train_set.classes.",
            [REFS["keras_idfd"], REFS["tv_tutorial"]],
        )
    _range_labels(ctx)
    maps = _mappings(ctx)
    _per_instance(ctx)
    # one listing read twice in one run (``train.label.unique()`` for both splits) gives one
    # order: the two mappings agree
    pairs = [(a, b) for a in maps for b in maps if a[2] and b[2] and a[2] != b[2] and a[3] != b[3]]
    if pairs and once(ctx, "label.maps"):
        first, second = pairs[0]
        _maps(
            ctx,
            [first[0], second[0]],
            first[1],
            "The training and evaluation label mappings are each built from an unstable order",
            "Each split numbers its classes by its own listing, so the same class can get "
            "index 2 in training and index 5 in evaluation; evaluation then counts correct "
            "predictions as wrong.",
        )
    elif maps and any(m[1] == "set" for m in maps) and once(ctx, "label.maps"):
        line = next(m[0] for m in maps if m[1] == "set")
        _maps(
            ctx,
            [line],
            "set",
            "Label indices are numbered in a set's order, which changes between runs",
            "Python salts string hashing per process, so the class → index mapping differs "
            "from one run to the next: a model saved in one run and evaluated or used for "
            "prediction in another reads its outputs with the wrong class names.",
        )
    elif _scores_loaded_weights(ctx) and (
        listed := next((m for m in maps if m[1] == "listdir" and _looked_up(ctx, m[0])), None)
    ):
        listed = [listed]
        if once(ctx, "label.maps"):
            _maps(
                ctx,
                sorted({listed[0][4], listed[0][0]}),
                "listdir",
                "Class indices numbered in directory-listing order score weights trained in "
                "another run",
                f"The labels are numbered by the position of each class in {listed[0][3]}, "
                "and the predictions come from weights loaded from a file that this script "
                "does not train. Those weights learned the class order of the run that "
                "trained them; a listing's order depends on the file system and the machine, "
                "so where it differs every label names another class and the evaluation "
                "scores correct predictions as wrong (inferred: the training run's order "
                "is not in the script)",
            )


def _looked_up(ctx: Ctx, line: int) -> bool:
    """The mapping assigned on ``line`` is read to label data (``mapping[name]``,
    ``mapping.get(name)``), not only built or printed. The lines of such mappings are found in
    one pass a script: a pass over the events per mapping was quadratic (2,000 mappings
    never read took 0.9 s)."""
    if "label.looked_up" not in ctx.cache:
        read = set()
        for n in ast.walk(ctx.src.tree):
            if isinstance(n, ast.Subscript) and isinstance(n.ctx, ast.Load):
                read.add(dotted(n.value))
            elif (
                isinstance(n, ast.Call)
                and isinstance(n.func, ast.Attribute)
                and n.func.attr == "get"
            ):
                read.add(dotted(n.func.value))
        read.discard(None)
        ctx.cache["label.looked_up"] = {
            ev.node.lineno
            for ev in ctx.prog.events
            if isinstance(ev.node, ast.Assign)
            and len(ev.node.targets) == 1
            and dotted(ev.node.targets[0]) in read
            # the mapping's own statement, not another file's on the same line number
            and any(numbered_list(m) is not None for m in ast.walk(ev.node.value))
        }
    return line in ctx.cache["label.looked_up"]


#: Calls that train in the script: Keras and fastai's, and ``train`` for a Hugging Face
#: ``Trainer.train()`` or a torch ``model.train()`` before a loop in another file.
_TRAINING_CALLS = {
    "fit",
    "fit_generator",
    "train_on_batch",
    "fit_one_cycle",
    "fine_tune",
    "train",
    "Trainer",
}


def _scores_loaded_weights(ctx: Ctx) -> bool:
    """Predictions of a model whose weights are loaded from a file, in a script that does not
    train it: the class order the weights learned is another run's."""
    prog = ctx.prog
    trains = (
        prog.method_calls("backward")
        or any(c.name in _TRAINING_CALLS for c in prog.calls)
        # a LightningModule: the Trainer that runs it may be in another file
        or any(f.endswith(".training_step") for f in prog.functions)
    )
    predicts = any(c.name in _PREDICTORS for c in prog.calls)
    return _loaded_model(ctx) and predicts and not trains


def _slice_labels(ctx: Ctx) -> dict[str, list[tuple[int, object]]]:
    """``{array: [(line, class), ...]}`` for labels written by index range, ``y[0:150] = 0``."""
    out: dict[str, list[tuple[int, object]]] = {}
    for ev in ctx.prog.events:
        n = ev.node
        if not isinstance(n, ast.Assign) or len(n.targets) != 1:
            continue
        t = n.targets[0]
        if not (isinstance(t, ast.Subscript) and isinstance(t.slice, ast.Slice)):
            continue
        v = ctx.prog.const(n.value, ev.idx, ev.scope)
        base = dotted(t.value)
        if base and isinstance(v, int) and not isinstance(v, bool):
            out.setdefault(base, []).append((n.lineno, v))
    return out


def _range_labels(ctx: Ctx) -> None:
    """GL306: images appended folder by folder in ``os.listdir`` order, labels written
    afterwards by fixed index ranges (``y[0:150] = 0; y[150:330] = 1``) that assume an order."""
    ranges = {k: v for k, v in _slice_labels(ctx).items() if len({c for _, c in v}) >= 2}
    if not ranges:
        return
    for ev in ctx.prog.events:
        n = ev.node
        if not isinstance(n, ast.For) or ev.loops:
            continue  # a listing inside the class loop orders files within one class
        src = unstable_source(ctx, n.iter, ev)
        if src is None or src[0] != "listdir":
            continue
        collects = any(
            isinstance(c, ast.Call)
            and isinstance(c.func, ast.Attribute)
            and c.func.attr in ("append", "extend")
            for c in ast.walk(n)
        )
        later = [(k, v) for k, v in ranges.items() if v[0][0] > n.lineno]
        if not collects or not later or not once(ctx, "label.ranges", n.lineno):
            continue
        var, marks = later[0]
        ctx.add(
            "GL306",
            "label-order-mismatch",
            "warning",
            f"{var} labels images by index ranges, but the images are read in os.listdir order",
            [src[1], n.lineno, marks[0][0], marks[-1][0]],
            f"The images are appended class folder by class folder in the order the listing "
            f"returns them (line {src[1]}): {_ORDER['listdir']}. {var} is then written by fixed "
            f"index ranges ({len(marks)} of them, lines {marks[0][0]}-{marks[-1][0]}), which "
            "assume the folders came in one particular order (inferred: nothing ties a range "
            "to the folder its images came from). Where the listing returns the folders in "
            "another order, a whole block of images gets another class's label: the model "
            "learns swapped classes and the class names it reports are wrong for them.",
            "Take each image's label from the folder it is read from: for label, folder in "
            "enumerate(sorted(os.listdir(path))): ... labels.append(label); or use "
            "image_dataset_from_directory / ImageFolder, which number the sorted folders.",
            [REFS["keras_idfd"], REFS["tv_tutorial"]],
        )
        return


def _from_own_data(ctx: Ctx, node: ast.expr, at: Event) -> bool:
    """Class names taken from the data being loaded (its listing, ``set``, ``.unique()``),
    sorted or not: sorting fixes the order, not a class missing from one split."""
    r = ctx.prog.origin(node, at.idx, at.scope)
    n = r.node
    if isinstance(n, ast.Call) and getattr(n.func, "id", "") in ("sorted", "list") and n.args:
        return unstable_source(ctx, n.args[0], r) is not None
    return unstable_source(ctx, node, at) is not None


def _per_instance(ctx: Ctx) -> None:
    """One mapping expression run for several datasets (a Dataset class instantiated for
    training and for validation, each numbering the classes of its own file)."""
    runs: dict[int, list[tuple[Event, ast.expr]]] = {}
    for ev in ctx.prog.events:
        for n, listed in numberings(ev):
            # a mapping from sorted names still moves when a class is missing from one split;
            # a loop or .index() over sorted folder names is what ImageFolder itself does
            loose = isinstance(n, ast.For | ast.Call) and numbered_list(n) is None
            src = unstable_source(ctx, listed, ev) if loose else None
            if (src is not None and src[0] != "key") if loose else _from_own_data(ctx, listed, ev):
                runs.setdefault(id(n), []).append((ev, listed))
    for evs in runs.values():
        if len({e.scope for e, _ in evs}) < 2 or not once(ctx, "label.per_instance"):
            continue
        ev, listed = evs[0]
        kind = unstable_source(ctx, listed, ev)
        _maps(
            ctx,
            sorted({kind[1], ev.node.lineno}) if kind else [ev.node.lineno],
            kind[0] if kind else "unique",
            "Each dataset numbers its classes from its own data",
            "The class → index mapping is built inside the code that loads one split and is "
            "run once per split, each time from that split's own labels: when the order differs "
            "or a class is missing from one split, training and validation give the same class "
            "different indices, so validation counts correct predictions as wrong.",
        )


def _maps(ctx: Ctx, lines, kind: str, title: str, why: str) -> None:
    ctx.add(
        "GL306",
        "label-order-mismatch",
        "warning",
        title,
        lines,
        f"{why} ({_ORDER[kind]}.)",
        "Build one mapping from the sorted class names and use it for every split and run:\n"
        "classes = sorted(os.listdir(train_dir))\n"
        "class_to_idx = {c: i for i, c in enumerate(classes)}",
        [REFS["keras_idfd"], REFS["tv_tutorial"]],
    )


# a class folder named by a number: ``data/train/10``, ``Test/2/00409.png``
_NUMERIC_DIR = re.compile(r"(?:^|/)\d{1,4}(?:/?$|/[^/]+\.(?:png|jpe?g|bmp|ppm|gif|tiff?)$)", re.I)


# expressions that take a file's folder name: listings, basename/dirname, a path split on "/"
# and its second-to-last part, pathlib's ``.parent.name``, a dataset's (path, index) list
_FOLDER_NAME_WORDS = (
    "listdir",
    "basename",
    "dirname",
    "iterdir",
    "glob",
    ".parent.name",
    "split('/')",
    'split("/")',
    "split(os.sep)",
    ".imgs",
    ".samples",
)


_PATH_CALLS = {"join", "makedirs", "mkdir", "Path", "copy", "copyfile", "move", "imwrite", "save"}
_TABLE_READERS = {"read_csv", "read_excel", "loadtxt", "genfromtxt", "read_table"}


def _numbered_path(ctx: Ctx, n: ast.AST) -> bool:
    """``os.path.join(root, str(label))`` / ``os.makedirs(f"out/{label}")`` with ``label`` a
    number: the script files images into folders named by numbers."""
    if not isinstance(n, ast.Call):
        return False
    name = n.func.attr if isinstance(n.func, ast.Attribute) else getattr(n.func, "id", "")
    if name not in _PATH_CALLS:
        return False
    return any(
        isinstance(a, ast.Call)
        and getattr(a.func, "id", "") == "str"
        and len(a.args) == 1
        and not isinstance(a.args[0], ast.Constant)
        for a in n.args
    )


def _external_numeric_labels(ctx: Ctx, n: ast.AST, ev: Event) -> bool:
    """``pred == label`` where one side is a predicted index and the other is read from a
    table (a CSV column of class ids): the loader's indices are read as those numbers."""
    if isinstance(n, ast.Compare) and any(isinstance(o, ast.Eq) for o in n.ops):
        sides = [n.left, *n.comparators]
    elif isinstance(n, ast.Call) and getattr(n.func, "attr", getattr(n.func, "id", "")) in SCORES:
        sides = [*n.args[:2], *[k.value for k in n.keywords if k.arg in ("y_true", "y_pred")]]
    else:
        return False

    def reads(node: ast.expr, names: set[str]) -> bool:
        for ref in ctx.prog.deps(node, ev, limit=20):
            for m in ast.walk(ref.node):
                if isinstance(m, ast.Call):
                    q = last(canon(ctx.prog.qualname(m.func, ref.idx, ref.scope) or ""))
                    if q in names or getattr(m.func, "attr", "") in names:
                        return True
        return False

    predicted = [s for s in sides if reads(s, _PREDICTORS)]
    tabled = [s for s in sides if s not in predicted and reads(s, _TABLE_READERS)]
    return bool(predicted and tabled)


def _numeric_folder_evidence(ctx: Ctx) -> tuple[int, str]:
    """A line showing class folders named by numbers: a path literal ending in a number
    (``"data/train/10"``), ``int()`` of a folder name (``int(os.path.basename(d))``,
    ``int(folder)`` over a listing), folders made from ``str(label)``, or predicted indices
    compared with class ids read from a table."""
    for ev in ctx.prog.events:
        for n in ast.walk(ev.node) if not isinstance(ev.node, ast.For | ast.With) else []:
            if _numbered_path(ctx, n):
                return n.lineno, "folders made from str() of a label"
            if _external_numeric_labels(ctx, n, ev):
                return n.lineno, "predicted indices compared with class ids read from a table"
            path = isinstance(n, ast.Constant) and isinstance(n.value, str) and "/" in n.value
            if path and len(n.value) < 200 and _NUMERIC_DIR.search(n.value.rstrip("*")):
                return n.lineno, "a path ending in a number"
            if (
                isinstance(n, ast.Call)
                and isinstance(n.func, ast.Name)
                and n.func.id == "int"
                and len(n.args) == 1
            ):
                for ref in ctx.prog.deps(n.args[0], ev, limit=10):
                    text = ast.unparse(ref.node)
                    if any(w in text for w in _FOLDER_NAME_WORDS):
                        return n.lineno, "int() of a folder name"
                    if isinstance(ref.node, ElementOf) and unstable_source(
                        ctx, ref.node.value, ref
                    ):
                        return n.lineno, "int() of a folder name"
    return 0, ""


def _commented_numeric_folders(ctx: Ctx, loaders: list) -> tuple[int, str]:
    """A comment just above (or on) a loader's line that names the loader's own folder with a
    number under it (``# one folder per category id: places365/val/0 ... places365/val/364``):
    the poster describing the class folders the loader reads."""
    for c in loaders:
        root = ctx.prog.const(c.arg(0, "directory") or c.arg(0, "root"), c.ev.idx, c.ev.scope)
        if not isinstance(root, str) or not root.strip("./"):
            continue
        below = re.compile(re.escape(root.replace("\\", "/").rstrip("/")) + r"/\d{1,5}\b")
        first = c.node.lineno
        for i in range(max(1, first - 3), first + 1):
            text = ctx.src.line(i)
            comment = text[text.find("#") :] if "#" in text else ""
            if below.search(comment.replace("\\", "/")):
                return i, f"a comment naming its sub-folders by number ({below.search(comment)[0]})"
    return 0, ""


@check("common.numeric_folders_read_back")
def check_numeric_folders(ctx: Ctx) -> None:
    """GL304: folders named by numbers read by a sorting loader, predicted indices used as
    those numbers with no mapping back through the loader."""
    loaders = numbering_loaders(ctx)
    if not loaders or any(f.code == "GL304" for f in ctx.findings):
        return
    tree = ctx.src.tree
    if any(isinstance(n, ast.Attribute) and n.attr in CLASS_MAPPINGS for n in ast.walk(tree)):
        return  # indices are mapped back to folder names somewhere
    line, reason = _numeric_folder_evidence(ctx) or (0, "")
    if not line:
        line, reason = _commented_numeric_folders(ctx, loaders)
    preds = [c for c in ctx.prog.calls if c.name in _PREDICTORS]
    if not line or not preds:
        return
    ctx.add(
        "GL304",
        "label-order-mismatch",
        "warning",
        "Class folders are named by numbers, but the loader numbers them in string order",
        [line, loaders[0].node.lineno, preds[-1].node.lineno],
        f"{loaders[0].name} sorts class folder names as strings: '1', '10', '11', ..., '2', "
        "... so with ten or more numbered folders class index k is not folder k, and a "
        "predicted index read as the folder's number is wrong for most classes (inferred: the "
        f"folders are taken to be numbered, from {reason}; the code never maps indices back "
        "through the loader).",
        "Map indices back through the loader, not by value:\n"
        "idx_to_class = {v: k for k, v in train_set.class_to_idx.items()}  # torchvision\n"
        "label = int(idx_to_class[pred])\n"
        "# Keras: {v: k for k, v in train_gen.class_indices.items()}",
        [REFS["keras_idfd"], REFS["tv_tutorial"]],
    )


IMAGENET_TABLES = re.compile(r"imagenet_class|imagenet1000|synset|imagenet_labels", re.I)


@check("common.imagenet_names_new_head")
def check_imagenet_names(ctx: Ctx) -> None:
    """GL306: predictions of a new head named with ImageNet's 1000 class names."""
    prog = ctx.prog
    pops = [c.ev.idx for c in prog.method_calls("pop")]
    new_heads = []
    for c in prog.calls:
        if c.name not in ("Dense", "Linear"):
            continue
        node = c.arg(0, "units") if c.name == "Dense" else c.arg(1, "out_features")
        units = prog.const(node, c.ev.idx, c.ev.scope)
        if units == 1000:
            continue
        after_pop = any(i < c.ev.idx for i in pops)
        as_head = isinstance(c.ev.node, ast.Assign) and any(
            isinstance(t, ast.Attribute) and t.attr in ("fc", "classifier", "head")
            for t in c.ev.node.targets
        )
        if after_pop or as_head:
            new_heads.append(c)
    if not new_heads:
        return
    if not IMAGENET_TABLES.search(source_text(ctx)) and "decode_predictions" not in source_text(
        ctx
    ):
        return
    decode = next((c for c in prog.calls if c.name == "decode_predictions"), None)
    line = decode.node.lineno if decode else 0
    indexed = {
        dotted(n.value)
        for n in ast.walk(ctx.src.tree)
        if isinstance(n, ast.Subscript) and not isinstance(n.slice, ast.Constant | ast.Slice)
    }
    if not line:
        for ev in prog.events:
            n = ev.node
            if not isinstance(n, ast.Assign) or len(n.targets) != 1:
                continue
            var = dotted(n.targets[0])
            if var is None or var not in indexed:
                continue
            text = " ".join(
                str(prog.const(m, r.idx, r.scope))
                for r in prog.deps(n.value, ev, limit=15)
                for m in ast.walk(r.node)
                if isinstance(m, ast.Constant | ast.Name | ast.BinOp)
            )
            if IMAGENET_TABLES.search(text) and indexed_by_prediction(ctx, var, ev.idx):
                line = n.lineno
                break
    if not line or not once(ctx, "label.imagenet_names"):
        return
    head = new_heads[-1]
    ctx.add(
        "GL306",
        "label-order-mismatch",
        "warning",
        "Predictions of the new head are named with ImageNet's class names",
        [head.node.lineno, line],
        f"The ImageNet classifier is replaced by a new head ({ast.unparse(head.node)[:60]}), "
        "whose index 0, 1, ... are your classes in the loader's order, but the predicted "
        "indices are still turned into names through ImageNet's 1000-class list "
        "(decode_predictions / imagenet_class_index): index 0 prints 'tench', index 1 "
        "'goldfish', whatever the model predicted.",
        "Name predictions with your own classes: idx_to_class = {v: k for k, v in "
        "train_gen.class_indices.items()} (Keras) or train_set.classes (torchvision).",
        [REFS["keras_idfd"], REFS["tv_tutorial"]],
    )


declare(
    "GL312",
    "label-order-mismatch",
    "warning",
    "script",
    "Predictions gathered from a shuffling DataLoader are compared with the dataset's labels",
    (REFS["tv_tutorial"],),
)

_DATASET_LABELS = {"targets", "labels", "samples", "imgs", "y", "label", "y_test", "test_labels"}


@check("torch.shuffled_predictions")
def check_shuffled_predictions(ctx: Ctx) -> None:
    """GL312: ``DataLoader(test_set, shuffle=True)``, predictions appended batch by batch in a
    loop that does not train, then compared with ``test_set.targets`` (file order)."""
    prog = ctx.prog
    for c in (c for c in prog.calls if c.name == "DataLoader"):
        if prog.const(c.kw("shuffle"), c.ev.idx, c.ev.scope) is not True and not _random_sampler(
            prog, c
        ):
            continue
        ds = c.arg(0, "dataset")
        if ds is None:
            continue
        ds_origin = value_key(prog.origin(ds, c.ev.idx, c.ev.scope).node)
        for ev in prog.events:
            loop = ev.node
            if isinstance(loop, ast.For) and not prog.loop_trains(ev.idx):
                if not _iterates(prog, ev, loop.iter, c):
                    continue
                end = prog.loop_end.get(ev.idx, ev.idx)
                gathered = _gathered(prog, ev.idx, end)
            elif isinstance(loop, ast.Assign) and _comprehends(prog, ev, c):
                # preds = torch.cat([model(x).argmax(1) for x, _ in loader]): one statement
                end = ev.idx
                gathered = {t.id for t in loop.targets if isinstance(t, ast.Name)}
            else:
                continue
            hit = _labels_compared(prog, ds_origin, gathered, end) if gathered else None
            if hit is None or not once(ctx, "torch.shuffled_predictions", id(c.node)):
                continue
            cited = ctx.src.evidence(c.node.lineno)
            if any(f.code == "GL218" and cited in f.evidence for f in ctx.findings):
                continue  # the stored labels compared with a shuffled loader: said once
            ctx.add(
                "GL312",
                "label-order-mismatch",
                "warning",
                "Predictions from a shuffling DataLoader are compared with the dataset's labels",
                [c.node.lineno, loop.lineno, hit],
                "The DataLoader draws the samples in a new random order every pass ("
                + ("shuffle=True" if not _random_sampler(prog, c) else "a random sampler")
                + "), so the predictions gathered batch by batch are in that order, "
                "while the dataset's own label list is in file order. Matched index by index, "
                "they do not line up: accuracy and confusion matrix computed from them are near "
                "chance although the model is fine (inferred: the labels are read from the "
                "dataset, not from the batches).",
                "Use shuffle=False for evaluation, or keep the labels of each batch with its "
                "predictions:\nfor x, y in loader:\n    preds.append(model(x).argmax(1)); "
                "labels.append(y)",
                [REFS["tv_tutorial"]],
            )


def _iterates(prog, ev, node: ast.expr, loader) -> bool:
    """Whether ``node`` (a loop's iterable) reads the DataLoader built by call ``loader``."""
    return any(
        isinstance(n, ast.Name)
        and (site := prog.origin_call(n, ev)) is not None
        and site.node is loader.node
        for n in ast.walk(node)
    )


def _comprehends(prog, ev, loader) -> bool:
    """Whether an assignment's value holds a comprehension over the DataLoader ``loader``
    that calls something on each batch (a model, not only the labels)."""
    for n in ast.walk(ev.node.value):
        if not isinstance(n, ast.ListComp | ast.GeneratorExp):
            continue
        gen = n.generators[0]
        if _iterates(prog, ev, gen.iter, loader) and isinstance(n.elt, ast.Call | ast.Attribute):
            return any(isinstance(m, ast.Call) for m in ast.walk(n.elt))
    return False


_RANDOM_SAMPLERS = {"RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler"}


def _random_sampler(prog, loader) -> bool:
    """``DataLoader(ds, sampler=SubsetRandomSampler(idx))``: a random order, like shuffle=True."""
    site = prog.origin_call(loader.kw("sampler"), loader.ev) if loader.kw("sampler") else None
    return site is not None and site.name in _RANDOM_SAMPLERS


def _gathered(prog, start: int, end: int) -> set[str]:
    """Names that collect results inside a loop: ``preds.append(...)``, ``preds += ...``,
    ``preds.extend(...)``."""
    out: set[str] = set()
    for ev in prog.events[start + 1 : end + 1]:
        for n in ast.walk(ev.node):
            if (
                isinstance(n, ast.Call)
                and isinstance(n.func, ast.Attribute)
                and n.func.attr in ("append", "extend")
                and isinstance(n.func.value, ast.Name)
            ):
                out.add(n.func.value.id)
            if isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name):
                out.add(n.target.id)
    return out


def value_key(node: ast.AST) -> object:
    """A value's identity: the expression that made it, or the name of one never bound in the
    paste (``test_set`` of a fragment)."""
    return ("name", node.id) if isinstance(node, ast.Name) else id(node)


def _labels_compared(prog, ds_origin: object, gathered: set[str], end: int) -> int | None:
    """Line after the loop where a gathered name and ``dataset.targets`` meet in one statement
    (directly or through one rebinding such as ``preds = torch.cat(preds)``)."""
    derived, labelled = set(gathered), set()  # names holding predictions / stored labels
    for ev in prog.events[end + 1 :]:
        names = {n.id for n in ast.walk(ev.node) if isinstance(n, ast.Name)}
        reads = [
            n
            for n in ast.walk(ev.node)
            if isinstance(n, ast.Attribute)
            and n.attr in _DATASET_LABELS
            and value_key(prog.origin(n.value, ev.idx, ev.scope).node) == ds_origin
        ]
        if (reads or names & labelled) and names & derived:
            return ev.node.lineno
        if isinstance(ev.node, ast.Assign):
            bound = {t.id for t in ev.node.targets if isinstance(t, ast.Name)}
            if names & derived:
                derived |= bound
            elif reads or names & labelled:
                labelled |= bound
    return None
