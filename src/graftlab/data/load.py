"""``load_dataset``: from a folder tree or a CSV to a verified :class:`Dataset` with splits.

Steps: read the layout (folders.py / csvfile.py), decode and hash every file (verify.py),
drop or refuse bad files, fix the class order (sorted names), check that the given splits
agree on their classes, make the missing splits (splits.py).

Class mismatch between splits the data gives:

* a class in val or test that train lacks is an error: the model cannot learn it;
* a class in train that val lacks is an error: checkpoints would be chosen on a validation
  set that cannot see that class, and the numbers would look better than they are;
* a class in train that test lacks is a warning (:class:`DataWarning`): test only reports,
  rare classes are sometimes legitimately absent from a fixed test set, and the per-class
  report will show the gap.
"""

from __future__ import annotations

import os
import warnings
from collections import Counter
from pathlib import Path

from graftlab.data._scan import Scan
from graftlab.data.csvfile import read_csv
from graftlab.data.dataset import SPLITS, Dataset, DataWarning, Record
from graftlab.data.folders import scan_folder
from graftlab.data.splits import check_fractions, stratified_split, stratify_keys
from graftlab.data.verify import verify_files
from graftlab.errors import DataError

_MAX_LISTED = 10  # files named in one message; the rest are counted


def load_dataset(
    path_or_csv: str | os.PathLike,
    *,
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
    seed: int = 0,
    strict: bool = False,
    allow_outside: bool = False,
    progress: bool = True,
    min_classes: int = 2,
) -> Dataset:
    """Load images and labels from a class-per-folder tree or a ``path,label[,split]`` CSV.

    Args:
        path_or_csv: A folder (``root/<class>/...`` or ``root/{train,val,test}/<class>/...``)
            or a CSV file with columns ``path,label`` and optionally ``split``.
        val_fraction: Share of each class moved from train to val when the data has no val
            split; 0 for no val split.
        test_fraction: Share of each class moved from train to test when the data has no test
            split; 0 for no test split.
        seed: Seed of the stratified split; the same seed and files give the same split.
        strict: Raise a DataError naming the files that cannot be decoded, instead of
            skipping them with a :class:`DataWarning`.
        allow_outside: Let CSV paths point outside the CSV's folder.
        progress: Show a progress bar while checking many images.
        min_classes: Fewest classes accepted: 2 to train, 1 to evaluate a trained model on
            images of one class.

    Returns:
        The dataset, with classes in sorted-name order.

    Raises:
        DataError: The path does not exist or holds no usable images, the CSV is malformed,
            there are fewer than 2 classes, given splits disagree on their classes, or
            (with ``strict``) a file cannot be decoded.
        ConfigError: A fraction is out of range.
    """
    check_fractions(val_fraction, test_fraction)
    source = Path(path_or_csv).expanduser().absolute()
    scan = _scan(source, allow_outside)

    good, bad = verify_files([c.path for c in scan.items], progress=progress)
    if bad and strict:
        raise DataError(
            f"{len(bad)} file(s) in {source} cannot be decoded: {_list_bad(bad)}. Remove or "
            "replace them, or load without strict to skip them."
        )
    if bad:
        warnings.warn(
            f"Skipped {len(bad)} file(s) in {source} that cannot be decoded: {_list_bad(bad)}.",
            DataWarning,
            stacklevel=2,
        )
    items = [c for c in scan.items if c.path in good]
    if not items:
        raise DataError(
            f"None of the {len(scan.items)} image file(s) in {source} can be decoded "
            f"(first: {_list_bad(bad[:1])}). Check that they are images."
        )

    classes = sorted({name for c in items for name in c.labels})
    _check_class_count(classes, source, scan, min_classes)
    _check_split_classes(scan, items, source)

    index = {name: i for i, name in enumerate(classes)}
    labels: list[int | tuple[int, ...]] = [
        tuple(index[n] for n in c.labels) if scan.multilabel else index[c.labels[0]] for c in items
    ]
    splits = _assign_splits(scan, items, labels, val_fraction, test_fraction, seed)
    if not scan.multilabel:
        given = {c.split for c in items if c.split is not None}
        _check_made_splits(classes, labels, splits, given, source)
    records = [
        Record(path=c.path, label=lab, split=split, sha256=good[c.path][0])
        for c, lab, split in zip(items, labels, splits, strict=True)
    ]
    records.sort(key=lambda r: (SPLITS.index(r.split), r.path))
    task = "multilabel" if scan.multilabel else "binary" if len(classes) == 2 else "multiclass"
    return Dataset(
        records=records,
        classes=classes,
        task=task,
        source=str(source),
        skipped=bad,
        ignored=dict(scan.ignored),
        image_info={c.path: good[c.path][1] for c in items},
    )


def _scan(source: Path, allow_outside: bool) -> Scan:
    if not source.exists():
        raise DataError(
            f"{source} does not exist. Pass a folder with one sub-folder per class, or a CSV "
            "file with columns path,label."
        )
    if source.is_dir():
        scan = scan_folder(source)
    elif source.suffix.lower() == ".csv":
        scan = read_csv(source, allow_outside=allow_outside)
    else:
        raise DataError(
            f"{source} is a file but not a .csv. Pass a folder with one sub-folder per class, "
            "or a CSV file with columns path,label."
        )
    if not scan.items:
        raise DataError(f"No images found in {source}{_ignored_note(scan)}. {_layout_hint()}")
    return scan


def _check_class_count(classes: list[str], source: Path, scan: Scan, least: int) -> None:
    if len(classes) >= least:
        return
    hint = (
        f" If {source / classes[0]} holds the class folders, pass that folder instead."
        if scan.layout == "folders" and classes
        else ""
    )
    raise DataError(
        f"Need at least 2 classes to train a classifier; found {len(classes)} "
        f"({', '.join(repr(c) for c in classes)}) in {source}.{hint} {_layout_hint()}"
    )


def _check_split_classes(scan: Scan, items: list, source: Path) -> None:
    """Compare the classes of the splits the data gives (see the module docstring)."""
    by_split: dict[str, set[str]] = {}
    for c in items:
        if c.split is not None:
            by_split.setdefault(c.split, set()).update(c.labels)
    if "train" not in by_split:
        if by_split:
            raise DataError(
                f"{source} gives {', '.join(sorted(by_split))} images but no train images. "
                "Mark some rows as train, or drop the split column to let graftlab make them."
            )
        return
    train = by_split["train"]
    name = scan.split_sources
    for split in ("val", "test"):
        other = by_split.get(split)
        if other is None:
            continue
        where = f"{name.get(split, split)} in {source}"
        extra = sorted(other - train)
        if extra:
            raise DataError(
                f"Class(es) {_names(extra)} appear in {where} but not in "
                f"{name.get('train', 'train')}: the model cannot learn a class it never sees. "
                f"Add training images for them, or remove them from {split}."
            )
        missing = sorted(train - other)
        if not missing:
            continue
        msg = (
            f"Class(es) {_names(missing)} have training images but none in {where}. "
            f"Add {split} images for them"
        )
        if split == "val":
            raise DataError(
                msg + ", or remove the val split so graftlab makes a stratified one "
                "(validation that cannot see a class makes checkpoint choice unreliable)."
            )
        warnings.warn(msg + "; test metrics will not cover them.", DataWarning, stacklevel=3)


def _assign_splits(
    scan: Scan,
    items: list,
    labels: list[int | tuple[int, ...]],
    val_fraction: float,
    test_fraction: float,
    seed: int,
) -> list[str]:
    """Given splits are kept; val and test are carved from train only where not given."""
    given = {c.split for c in items if c.split is not None}
    splits = [c.split or "train" for c in items]
    make_val = 0.0 if "val" in given else val_fraction
    make_test = 0.0 if "test" in given else test_fraction
    if make_val == 0.0 and make_test == 0.0:
        return splits
    pool = [i for i, s in enumerate(splits) if s == "train"]
    assigned = stratified_split(
        stratify_keys([labels[i] for i in pool]),
        [items[i].path for i in pool],
        val_fraction=make_val,
        test_fraction=make_test,
        seed=seed,
    )
    for i, split in zip(pool, assigned, strict=True):
        splits[i] = split
    return splits


def _check_made_splits(
    classes: list[str], labels: list, splits: list[str], given: set[str], source: Path
) -> None:
    """Warn about classes the splits graftlab made lack: with a single image a class stays in
    train only (every class with two gets a validation image, see ``split_sizes``). A *given*
    val split without a class is an error instead (:func:`_check_split_classes`): there the
    user can add images where they belong."""
    counts: dict[str, Counter] = {s: Counter() for s in SPLITS}
    for label, split in zip(labels, splits, strict=True):
        counts[split][label] += 1
    in_train = [k for k in range(len(classes)) if counts["train"][k]]
    for split in ("val", "test"):
        if split in given or not counts[split]:
            continue  # given (checked already), or not made at all (fraction 0)
        missing = [classes[k] for k in in_train if not counts[split][k]]
        if not missing:
            continue
        sizes = ", ".join(
            f"{classes[k]!r}: {sum(c[k] for c in counts.values())}"
            for k in in_train
            if classes[k] in missing
        )
        what = (
            "validation cannot measure them (checkpoint choice ignores them)"
            if split == "val"
            else "test metrics will not cover them"
        )
        warnings.warn(
            f"Class(es) {_names(missing)} in {source} have too few images for the {split} "
            f"split ({sizes}): {what}. Add images for them.",
            DataWarning,
            stacklevel=3,
        )


def _list_bad(bad: list[tuple[str, str]]) -> str:
    shown = "; ".join(f"{p} ({reason})" for p, reason in bad[:_MAX_LISTED])
    more = len(bad) - _MAX_LISTED
    return shown + (f"; and {more} more" if more > 0 else "")


def _names(names: list[str]) -> str:
    return ", ".join(repr(n) for n in names)


def _ignored_note(scan: Scan) -> str:
    parts = [f"{n} {k.replace('_', ' ')}" for k, n in scan.ignored.items() if n]
    return f" (ignored: {', '.join(parts)})" if parts else ""


def _layout_hint() -> str:
    return (
        "Expected root/<class>/<image>, root/train/<class>/<image> (with optional val/ and "
        "test/), or a CSV with columns path,label."
    )
