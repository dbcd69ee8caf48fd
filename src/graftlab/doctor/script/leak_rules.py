"""Leakage that no single loader call shows, in either framework.

A folder loader reads every class sub-folder of its root, so an evaluation folder *inside* the
training root (``data/`` for training, ``data/test/`` for testing) is part of the training data
(as an extra class). And augmented copies made before a random split put copies of one image
on both sides of it: the test score measures recognising a blurred twin, not a new image.
"""

from __future__ import annotations

import ast
import re

from graftlab.doctor._checks import declare
from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.common_rules import once
from graftlab.doctor.script.keras_graph import role_of
from graftlab.doctor.script.knowledge import REFS

declare(
    "GL308",
    "data-leakage",
    "warning",
    "script",
    "Evaluation images reach the training data (nested folder, copies split apart)",
    (REFS["keras_idfd"], REFS["tv_tutorial"]),
)

_FOLDER_LOADERS = {
    "flow_from_directory": 0,
    "image_dataset_from_directory": 0,
    "ImageFolder": 0,
    "DatasetFolder": 0,
    "from_folder": 0,
}
_SPLITS = {"train_test_split", "random_split"}
_AUG_WORDS = re.compile(
    r"nois|blur|rotat|flip|affine|shift|zoom|augment|random_transform|warp|bright|contrast|"
    r"jitter|shear|distort",
    re.I,
)


def _folders(ctx: Ctx) -> list[tuple[str, str | None, int, str]]:
    """(path, role, line, loader) of every folder loader whose path can be folded."""
    out = []
    for c in ctx.prog.calls:
        if c.name not in _FOLDER_LOADERS:
            continue
        node = c.arg(0, "directory") or c.kw("root") or c.kw("path")
        path = ctx.prog.const(node, c.ev.idx, c.ev.scope)
        if not isinstance(path, str) or not path.strip("./"):
            continue
        name = ctx.prog.assigned_name(c.node) or ""
        role = role_of(name) or role_of(path.rstrip("/").rsplit("/", 1)[-1])
        subset = ctx.prog.const(c.kw("subset"), c.ev.idx, c.ev.scope)
        if subset in ("training", "train"):
            role = "train"
        root = path.replace("\\", "/").rstrip("/")
        out.append((root, role, c.node.lineno, c.name))
        out += _named_subfolders(ctx, c, root)
    return out


def _named_subfolders(ctx: Ctx, c, root: str) -> list[tuple[str, str | None, int, str]]:
    """fastai's ``from_folder(path, valid_pct=0.2, test='test')``: with ``valid_pct`` the
    whole of ``path`` is read and split at random, so the ``test``/``valid`` folder named
    relative to it lies inside what is read."""
    pct = c.kw("valid_pct")
    if c.name != "from_folder" or pct is None or getattr(pct, "value", 0) is None:
        return []
    out = []
    for kw, role in (("test", "test"), ("valid", "val")):
        sub = ctx.prog.const(c.kw(kw), c.ev.idx, c.ev.scope)
        if isinstance(sub, str) and sub.strip("./") and not sub.startswith(("/", "..")):
            out.append((f"{root}/{sub.strip('/')}", role, c.node.lineno, c.name))
    return out


@check("common.nested_folders")
def check_nested_folders(ctx: Ctx) -> None:
    """GL308: the evaluation folder is a sub-folder of the training folder."""
    folders = _folders(ctx)
    named_train = any(r == "train" for _, r, _, _ in folders)
    for tr_path, tr_role, tr_line, loader in folders:
        # the training loader: named so, or the one loader no name assigns a role to
        if not (tr_role == "train" or (tr_role is None and not named_train)):
            continue
        for ev_path, ev_role, ev_line, _ in folders:
            if ev_role not in ("val", "test") or not ev_path.startswith(tr_path + "/"):
                continue
            if not once(ctx, "leak.nested", tr_path):
                continue
            ctx.add(
                "GL308",
                "data-leakage",
                "warning",
                f"The {ev_role} folder {ev_path!r} lies inside the training folder {tr_path!r}",
                [tr_line, ev_line],
                f"{loader} makes one class of every sub-folder of {tr_path!r}, so "
                f"{ev_path!r} is read as training data too (as an extra class, or inside the "
                "classes it holds): the model is trained on the images it is then evaluated "
                "on, and the number of classes is off by one (inferred from the folder paths; "
                "check the folder layout).",
                f"Keep the folders side by side (data/train/<class>/, data/{ev_role}/<class>/) "
                "and point the training loader at data/train.",
                [REFS["keras_idfd"], REFS["tv_tutorial"]],
            )


def _augments(ctx: Ctx, n: ast.AST) -> bool:
    """A call named like augmentation, or a reference to the script's own augmenting function
    (``augment = [blur_image, noise_image]`` ... ``fn(img)``): named so, or one whose body
    blurs, warps, flips or adds random noise, whatever it is called."""
    if isinstance(n, ast.Call):
        f = n.func
        return bool(
            _AUG_WORDS.search(f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", ""))
        )
    if not (isinstance(n, ast.Name) and n.id in ctx.prog.functions):
        return False
    return bool(_AUG_WORDS.search(n.id)) or _augmenting_body(ctx.prog.functions[n.id])


#: ``np.random.normal(...)``, ``random.uniform(...)``: noise drawn into the image.
_DRAWS = re.compile(r"(^|\.)random\.(normal|uniform|randn|rand|randint|choice)$")


def _augmenting_body(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for n in ast.walk(fn):
        if isinstance(n, ast.Call):
            f = n.func
            name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            if _AUG_WORDS.search(name) or _DRAWS.search(ast.unparse(f)):
                return True
    return False


@check("common.augment_before_split")
def check_augment_before_split(ctx: Ctx) -> None:
    """GL308: augmented copies are added to the data before it is split at random."""
    for c in ctx.prog.calls:
        if c.name not in _SPLITS or not c.node.args:
            continue
        for ref in ctx.prog.deps(c.node.args[0], c.ev, limit=60):
            hit = next((n for n in ast.walk(ref.node) if _augments(ctx, n)), None)
            if hit is None or not once(ctx, "leak.aug_split"):
                continue
            ctx.add(
                "GL308",
                "data-leakage",
                "warning",
                f"Augmented copies are made before {c.name} splits the data",
                [hit.lineno, c.node.lineno],
                f"The data given to {c.name} already holds augmented copies of each image "
                f"({ast.unparse(getattr(hit, 'func', hit))}), so copies of one picture land in "
                "training and in the test or validation part: the held-out score measures "
                "recognising a near-duplicate and is optimistic.",
                "Split the original images first, then augment the training part only (or "
                "augment on the fly with a training-only generator).",
                [REFS["keras_idg"]],
            )
            return


#: Imaging where one subject (patient, lesion, scan) gives several images.
_MEDICAL = re.compile(
    r"(?i)x-?ray|chest|covid|chexpert|mimic|padchest|isic|derm|lesion|mammo|retin|fundus|"
    r"histo|patholog|\bmri\b|_mri|mri_|\bct\b|_ct_|ultrasound|patient|dicom|radiolog|"
    r"torchxrayvision|medmnist"
)
_GROUPED = {"GroupShuffleSplit", "GroupKFold", "StratifiedGroupKFold", "LeaveOneGroupOut"}


@check("common.subject_split")
def check_subject_split(ctx: Ctx) -> None:
    """GL308: medical images split at random by image, not by patient."""
    if any(c.name in _GROUPED for c in ctx.prog.calls) or re.search(
        r"(?i)patient_?id|subject_?id|groups\s*=", "\n".join(ctx.src.lines)
    ):
        return
    for c in ctx.prog.calls:
        # random_split / train_test_split, and Keras' validation_split subsets of one folder
        keras_subset = c.name in ("image_dataset_from_directory", "flow_from_directory") and (
            c.kw("subset") is not None
        )
        if (c.name not in _SPLITS and not keras_subset) or not c.node.args:
            continue
        hit = _medical_source(ctx, c)
        if hit is None or not once(ctx, "leak.subject_split"):
            continue
        ctx.add(
            "GL308",
            "data-leakage",
            "warning",
            f"Medical images are split by image with {c.name}"
            + (" (validation_split)" if keras_subset else "")
            + ", not by patient",
            [hit[1], c.node.lineno],
            f"The data split here comes from {hit[0]}; such datasets usually hold several "
            f"images per patient (follow-up scans, views, crops). {c.name} assigns images at "
            "random, so one patient's images land in training and in the held-out part, and "
            "the held-out score partly measures recognising the patient (inferred from the "
            "dataset's name; check whether patients repeat).",
            "Split by patient: sklearn.model_selection.GroupShuffleSplit(test_size=0.2)."
            "split(X, y, groups=patient_ids), then Subset(dataset, idx) for each part.",
            [REFS["tv_tutorial"]],
        )
        return


def _medical_source(ctx: Ctx, split) -> tuple[str, int] | None:
    """(what, line) of a medical-imaging dataset or path the split data comes from."""
    for ref in ctx.prog.deps(split.node.args[0], split.ev, limit=40):
        for n in ast.walk(ref.node):
            if isinstance(n, ast.Call):
                text = ast.unparse(n.func)
                if _MEDICAL.search(text):
                    return text, n.lineno
            elif isinstance(n, ast.Constant | ast.JoinedStr):
                text = ast.unparse(n)
                if _MEDICAL.search(text):
                    return text, n.lineno
    return None


#: A partner drawn at random: ``random.choice(files)``, ``np.random.randint``, ``draw_other(f)``.
_PARTNER_DRAW = re.compile(
    r"(^|\.)(random\.(choice|choices|sample|randint|randrange)|"
    r"(draw|pick|choose|sample)_?\w*)$",
    re.I,
)
_TUPLE_ITEMS = re.compile(r"tuple|pair|siamese|triplet", re.I)
_RANDOM_SPLITTERS = {"RandomSplitter", "TrainTestSplitter", "RandomSubsetSplitter"}


def _random_partner(node: ast.AST) -> ast.AST | None:
    """A comprehension that makes each item a tuple of an element and a partner drawn at
    random (``[(a, random.choice(files)) for a in files]``, ``[[f, *draw_other(f)] ...]``)."""
    for n in ast.walk(node):
        if not isinstance(n, ast.ListComp | ast.GeneratorExp):
            continue
        elt = n.elt
        if not isinstance(elt, ast.Tuple | ast.List) or len(elt.elts) < 2:
            continue
        for part in elt.elts:
            for m in ast.walk(part):
                if isinstance(m, ast.Call) and _PARTNER_DRAW.search(ast.unparse(m.func)):
                    return n
    return None


def _pair_items(ctx: Ctx, c) -> tuple[int, str] | None:
    """(line, what) when the items ``c`` splits at random are pairs or tuples of images."""
    if c.name == "DataBlock":
        splitter = ctx.prog.origin_call(c.kw("splitter"), c.ev) if c.kw("splitter") else None
        if splitter is None or splitter.name not in _RANDOM_SPLITTERS:
            return None
        items = c.kw("get_items")
        fn = ctx.prog.functions.get(items.id) if isinstance(items, ast.Name) else None
        comp = _random_partner(fn) if fn is not None else None
        if comp is not None:
            return comp.lineno, "items that pair each image with one drawn at random"
        blocks = c.kw("blocks")
        if blocks is not None and any(
            isinstance(n, ast.Name) and _TUPLE_ITEMS.search(n.id) for n in ast.walk(blocks)
        ):
            return blocks.lineno, "items that are tuples of images"
        return None
    if c.name not in _SPLITS or not c.node.args:
        return None
    data = c.node.args[0]
    site = ctx.prog.origin_call(data, c.ev)
    if site is not None and _TUPLE_ITEMS.search(site.name):
        return site.node.lineno, f"{site.name} items, pairs or tuples of images"
    for ref in ctx.prog.deps(data, c.ev, limit=30):
        if (comp := _random_partner(ref.node)) is not None:
            return comp.lineno, "items that pair each image with one drawn at random"
    return None


@check("common.pairs_before_split")
def check_pairs_before_split(ctx: Ctx) -> None:
    """GL308: pairs (or tuples) of images made from the whole pool, then split at random."""
    for c in ctx.prog.calls:
        found = _pair_items(ctx, c)
        if found is None or not once(ctx, "leak.pairs"):
            continue
        line, what = found
        ctx.add(
            "GL308",
            "data-leakage",
            "warning",
            f"{what[0].upper() + what[1:]} are made from all images, then split at random",
            [line, c.node.lineno],
            f"The data is split after it was made into {what}, each built from the whole pool "
            "of images. One image is then the anchor or the partner of several items, and "
            "those items fall on both sides of the split: the validation items show images "
            "the model was trained on, and the validation score is optimistic (inferred: "
            "the partners are taken to come from the same pool as the anchors).",
            "Split the images first, then build the pairs inside each part, drawing partners "
            "only from that part (e.g. a splitter on the anchor files, and a pair builder "
            "given the training files or the validation files).",
            [REFS["tv_tutorial"]],
        )
        return
