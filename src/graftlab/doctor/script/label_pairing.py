"""Predictions paired with names kept in another order or under other keys than the loader's,
and inputs paired with their labels by position in two directory listings.

Folder loaders (``ImageFolder``, ``flow_from_directory``, ``image_dataset_from_directory``)
read the files of each class folder in *sorted* order; ``os.listdir``/``glob``/``iterdir``
return them in file-system order. A submission built as ``DataFrame({"id":
os.listdir(test_dir), "label": preds})`` pairs row i of the listing with the prediction for
another file whenever the two orders differ. And the loader's class index is a position in
its sorted folder names, not a folder name: ``cat_to_name[str(index)]`` looks up a table keyed
by folder names ("1" ... "102") with a position, which names the wrong class for most indices.
Two folders listed apart (features and labels, images and masks) and read item by item with one
index pair file i of one listing with file i of the other: unless both are sorted, nothing makes
the two orders agree.
"""

from __future__ import annotations

import ast

from graftlab.doctor._checks import declare
from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.common_rules import CLASS_MAPPINGS, SCORES, once, source_text
from graftlab.doctor.script.flow import ElementOf, Event, Ref, canon, last
from graftlab.doctor.script.knowledge import REFS
from graftlab.doctor.script.label_rules import IMAGENET_TABLES, listing_indexed, unstable_source

declare(
    "GL316",
    "label-order-mismatch",
    "warning",
    "script",
    "Predictions paired with a file listing in another order than the loader read the files",
    (REFS["tv_tutorial"], REFS["keras_idfd"]),
)

declare(
    "GL317",
    "label-order-mismatch",
    "warning",
    "script",
    "Predictions on a subset scored against the labels of the whole dataset",
    (REFS["torch_loader"],),
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


def _statements(prog):
    """The simple statements' events (a compound statement's body has events of its own)."""
    compound = ast.For | ast.While | ast.With | ast.If | ast.Try
    return (ev for ev in prog.events if not isinstance(ev.node, compound))


@check("common.listing_paired_with_predictions")
def check_listing_pairing(ctx: Ctx) -> None:
    """GL316: predictions of a folder loader paired with an ``os.listdir``/``glob`` listing."""
    prog = ctx.prog
    if not any(c.name in _FOLDER_LOADERS for c in prog.calls):
        return
    for ev in _statements(prog):
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


_TABLE_LOADS = {"load", "loads", "read_json", "safe_load"}
# variables that hold the loader's mapping once it is inverted (``classes`` is too common a
# name for the predicted indices themselves to count)
_MAPPING_NAMES = {"idx_to_class", "class_to_idx", "idx2class", "index_to_class", "class_indices"}


def _keyed_by_index(ctx: Ctx, n: ast.AST, ev: Event) -> bool:
    """``table[str(i)]`` with ``table`` read from a JSON/YAML file and ``i`` a predicted
    index never passed through the loader's own mapping."""
    if not (isinstance(n, ast.Subscript) and isinstance(n.slice, ast.Call | ast.JoinedStr)):
        return False
    key = n.slice
    if isinstance(key, ast.Call):
        if getattr(key.func, "id", "") != "str" or len(key.args) != 1:
            return False
        index = key.args[0]
    else:
        parts = [v for v in key.values if isinstance(v, ast.FormattedValue)]
        if len(parts) != 1 or len(key.values) != 1:
            return False
        index = parts[0].value
    table = ctx.prog.origin_call(n.value, ev)
    if table is None or table.name not in _TABLE_LOADS:
        return False
    read = " ".join(
        str(ctx.prog.const(m, r.idx, r.scope))
        for r in ctx.prog.deps(table.node, table.ev, limit=10)
        for m in ast.walk(r.node)
        if isinstance(m, ast.Constant | ast.Name)
    )
    if IMAGENET_TABLES.search(read):
        return False  # ImageNet's table is keyed by the class index itself
    # [cat_to_name[str(c)] for c in classes]: the key is an element of classes
    comps = {
        t.id: g.iter
        for g in ast.walk(ev.node)
        if isinstance(g, ast.comprehension)
        for t in ast.walk(g.target)
        if isinstance(t, ast.Name)
    }
    if isinstance(index, ast.Name) and index.id in comps:
        index = comps[index.id]
    refs = ctx.prog.deps(index, ev, limit=60)
    mapped = any(
        (isinstance(m, ast.Attribute) and m.attr in CLASS_MAPPINGS)
        or (isinstance(m, ast.Name) and m.id in _MAPPING_NAMES)
        for r in refs
        for m in ast.walk(r.node)
    )
    return not mapped and _predicted_index(refs)


def _predicted_index(refs) -> bool:
    for r in refs:
        for m in ast.walk(r.node):
            if isinstance(m, ast.Call):
                f = m.func
                if (
                    f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
                ) in _PREDICTORS:
                    return True
    return False


@check("common.name_table_by_index")
def check_name_table_by_index(ctx: Ctx) -> None:
    """GL304: a predicted class index used as the key of a name table keyed by folder name."""
    prog = ctx.prog
    if not any(c.name in _FOLDER_LOADERS for c in prog.calls):
        return
    for ev in _statements(prog):
        hit = next((n for n in ast.walk(ev.node) if _keyed_by_index(ctx, n, ev)), None)
        if hit is None or not once(ctx, "label.name_table_by_index"):
            continue
        # one cause: this finding names the lookup, the numbered-folder one only the folders
        ctx.findings[:] = [f for f in ctx.findings if f.code != "GL304"]
        table = prog.origin_call(hit.value, ev)
        loader = next(c for c in prog.calls if c.name in _FOLDER_LOADERS)
        ctx.add(
            "GL304",
            "label-order-mismatch",
            "warning",
            "A predicted class index is looked up as a folder name",
            sorted({loader.node.lineno, table.node.lineno, hit.lineno}),
            f"{ast.unparse(hit)[:60]} looks up a table read from a file, keyed by class folder "
            f"names, with the index the model predicts. {loader.name} numbers the folders by "
            "their sorted names, so index k is the k-th folder in sorted order, not the folder "
            "named k: with numbered folders ('1', '10', '100', '101', ..., '2') most indices "
            "name the wrong class (inferred: the table's keys are taken to be the folder "
            "names; the index never passes through class_to_idx / class_indices).",
            "Map the index back to its folder name first, then look the name up:\n"
            "idx_to_class = {v: k for k, v in train_data.class_to_idx.items()}\n"
            "name = cat_to_name[idx_to_class[index]]",
            [REFS["tv_tutorial"], REFS["keras_idfd"]],
        )
        return


_LABEL_ATTRS = {"targets", "labels", "samples", "imgs"}


def _parent_labels(ctx: Ctx, node: ast.expr, ev: Event) -> ast.Attribute | None:
    """``val_ds.dataset.targets`` with ``val_ds`` a ``Subset`` or a part of ``random_split``:
    the labels of the whole dataset the subset was cut from, in its order."""
    for ref in ctx.prog.deps(node, ev, limit=20):
        if "indices" in ast.unparse(ref.node):
            continue  # [ds.dataset.targets[i] for i in ds.indices]: the subset's own labels
        for m in ast.walk(ref.node):
            if not (
                isinstance(m, ast.Attribute)
                and m.attr in _LABEL_ATTRS
                and isinstance(m.value, ast.Attribute)
                and m.value.attr == "dataset"
            ):
                continue
            r = ctx.prog.origin(m.value.value, ref.idx, ref.scope)
            made = r.node.value if isinstance(r.node, ElementOf) else r.node
            site = ctx.prog.call_site(made) if isinstance(made, ast.Call) else None
            if site is not None and site.name in ("random_split", "Subset"):
                return m
    return None


@check("torch.subset_scored_against_parent")
def check_subset_parent_labels(ctx: Ctx) -> None:
    """GL317: predictions on a ``Subset``/``random_split`` part scored against
    ``part.dataset.targets``, the labels of the whole dataset."""
    prog = ctx.prog
    for ev in prog.events:
        if isinstance(ev.node, ast.For | ast.While | ast.With | ast.If | ast.Try):
            continue
        for n in ast.walk(ev.node):
            if isinstance(n, ast.Compare) and any(isinstance(o, ast.Eq) for o in n.ops):
                sides = [n.left, *n.comparators]
            elif (
                isinstance(n, ast.Call)
                and getattr(n.func, "attr", getattr(n.func, "id", "")) in SCORES
            ):
                sides = list(n.args[:2])
            else:
                continue
            if len(sides) != 2:
                continue
            labels = [x for s in sides if (x := _parent_labels(ctx, s, ev)) is not None]
            predicted = [s for s in sides if _predicted_index(prog.deps(s, ev, limit=60))]
            if not labels or not predicted or not once(ctx, "torch.subset_parent_labels"):
                continue
            ctx.add(
                "GL317",
                "label-order-mismatch",
                "warning",
                "Predictions on a subset are scored against the labels of the whole dataset",
                sorted({labels[0].lineno, n.lineno}),
                f"{ast.unparse(labels[0])} is the label list of the dataset the subset was cut "
                "from: every sample, in the parent's order, while the predictions follow the "
                "subset's indices (random ones for random_split). Matched position by position "
                "they belong to different images, so the score is near chance although the "
                "model is fine (inferred: the predictions are taken to be the subset's).",
                "Take the subset's own labels: [part.dataset.targets[i] for i in part.indices], "
                "or collect y from the same batches as the predictions.",
                [REFS["torch_loader"]],
            )
            return


_SORTS = {"sorted", "natsorted"}
_WRAPPERS = {"list", "tuple", "array", "asarray"}


def _listing_call(ctx: Ctx, node: ast.expr, at: Event | Ref, depth: int = 0):
    """``(listing call, sorted)`` when ``node``'s items come from one directory listing
    (``os.listdir``, ``glob``, ``iterdir``, ``scandir``), through comprehensions and copies, with
    ``sorted`` on the way or ``.sort()`` on the listing, or not; else None. Lists derived item
    by item from one listing (``[f.split('_')[0] for f in files]``) trace to the same call: one
    order."""
    if depth > 6:
        return None
    r = ctx.prog.origin(node, at.idx, at.scope)
    n = r.node
    if isinstance(n, ast.ListComp | ast.GeneratorExp):
        return _listing_call(ctx, n.generators[0].iter, r, depth + 1)
    if not isinstance(n, ast.Call):
        return None
    q = canon(ctx.prog.qualname(n.func, r.idx, r.scope) or "")
    name = last(q) if q else getattr(n.func, "attr", "")
    if name in _SORTS or name in _WRAPPERS:
        inner = _listing_call(ctx, n.args[0], r, depth + 1) if n.args else None
        return (inner[0], True) if inner and name in _SORTS else inner
    src = unstable_source(ctx, n, r)
    if src is None or src[0] != "listdir":
        return None
    return n, id(n) in _sorted_in_place(ctx)


def _sorted_in_place(ctx: Ctx) -> set[int]:
    """The values a script sorts in place (``self.images.sort()``), by the expression that
    made them, so that ``files = os.listdir(d); files.sort(); self.files = files`` counts too."""
    if "label.sorted_in_place" not in ctx.cache:
        ctx.cache["label.sorted_in_place"] = {
            id(ctx.prog.origin(c.node.func.value, c.ev.idx, c.ev.scope).node)
            for c in ctx.prog.method_calls("sort")
            if not c.node.args
        }
    return ctx.cache["label.sorted_in_place"]


@check("common.listings_paired_by_position")
def check_listings_paired(ctx: Ctx) -> None:
    """GL306: two directory listings read item by item with one index (``a[idx]``, ``b[idx]``
    in one ``__getitem__``) or zipped, at least one of them not sorted."""
    if not any(w in source_text(ctx) for w in ("listdir", "glob", "iterdir", "scandir")):
        return
    groups: dict[tuple, dict[int, tuple]] = {}
    for ev, name, holder, index_line in listing_indexed(ctx):
        found = _listing_call(ctx, holder, ev)
        if found is not None:
            groups.setdefault((ev.scope, name), {})[id(found[0])] = (*found, holder, index_line)
    for ev in ctx.prog.events:
        for n in ast.walk(ev.node) if not isinstance(ev.node, ast.For | ast.With) else []:
            if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "zip" and len(n.args) >= 2:
                key = (ev.scope, id(n))
                for a in n.args:
                    found = _listing_call(ctx, a, ev)
                    if found is not None:
                        groups.setdefault(key, {})[id(found[0])] = (*found, a, n.lineno)
    for listings in groups.values():
        if len(listings) < 2 or all(v[1] for v in listings.values()):
            continue  # one listing, or every one sorted: the same order
        (call_a, sorted_a, a, line), (call_b, sorted_b, b, _) = list(listings.values())[:2]
        if ast.dump(call_a) == ast.dump(call_b):
            continue  # one folder listed twice the same way: the same order
        cited = {ctx.src.evidence(call_a.lineno), ctx.src.evidence(call_b.lineno)}
        if any(f.code == "GL306" and any(c in f.evidence for c in cited) for f in ctx.findings):
            continue  # the listing is already reported as unstable: one cause, one finding
        if not once(ctx, "label.listings_paired", call_a.lineno, call_b.lineno):
            continue
        names = f"{ast.unparse(a)} and {ast.unparse(b)}"
        how = (
            "each in os.listdir/glob order"
            if not (sorted_a or sorted_b)
            else "one sorted, the other in os.listdir/glob order"
        )
        ctx.add(
            "GL306",
            "label-order-mismatch",
            "warning",
            f"{names} pair files by position, {how}",
            sorted({call_a.lineno, call_b.lineno, line}),
            f"{names} list two folders separately (lines {call_a.lineno} and "
            f"{call_b.lineno}) and item i of one is read with item i of the other (line "
            f"{line}). os.listdir, glob, iterdir and scandir return entries in file-system "
            "order, which is neither sorted nor the same for two folders: file i of one "
            "listing is not the file i of the other, and each input is trained or scored with "
            "another one's label (inferred: the two folders hold one file per sample under "
            "matching names, as pairing by position assumes).",
            "Sort both listings (features = sorted(os.listdir(features_dir)); labels = "
            "sorted(os.listdir(labels_dir))), or list one folder and derive the other file's "
            "path from each name: os.path.join(labels_dir, name).",
            [REFS["tv_tutorial"]],
        )
