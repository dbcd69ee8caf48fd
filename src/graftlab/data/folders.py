"""Read a class-per-folder tree, with or without ``train/``, ``val/``, ``test/`` split folders.

Layouts understood::

    root/cat/*.jpg, root/dog/*.jpg                      class per folder, no splits
    root/train/cat/*.jpg, root/val/cat/*.jpg, ...       split folders, each class per folder

``val/`` may also be spelled ``valid/`` or ``validation/``. Images may sit in sub-folders of a
class folder (they keep the class of the top folder). Left out, and counted in
``Dataset.ignored``: dot-prefixed files and folders (``.DS_Store``, ``.ipynb_checkpoints``),
files without an image extension, class folders with no image, and files lying directly in
the root or a split folder where no class can be read from the path.
"""

from __future__ import annotations

import os
from pathlib import Path

from graftlab.data._scan import SPLIT_ALIASES, Candidate, Scan, is_image_file
from graftlab.errors import DataError


def scan_folder(root: str | os.PathLike) -> Scan:
    """List the image files of a folder tree with their class names and given splits.

    Args:
        root: The dataset folder.

    Returns:
        A :class:`Scan` of candidates, sorted by path within each split.

    Raises:
        DataError: Split folders are mixed with other folders, a split is given twice
            (``val/`` and ``valid/``), or split folders exist without ``train/``.
    """
    root = Path(root).absolute()
    scan = Scan(items=[], multilabel=False, layout="folders")
    subdirs = _subdirs(root)
    split_dirs = {
        d: SPLIT_ALIASES[d.name.lower()] for d in subdirs if d.name.lower() in SPLIT_ALIASES
    }
    if not split_dirs:
        _scan_classes(root, None, scan)
        return scan

    scan.layout = "split-folders"
    _count_root_entries(root, scan)
    others = sorted(d.name for d in subdirs if d not in split_dirs)
    if others:
        raise DataError(
            f"{root} mixes split folders ({', '.join(sorted(d.name + '/' for d in split_dirs))}) "
            f"with other folders ({', '.join(o + '/' for o in others)}). Put every class folder "
            "inside train/ (and val/, test/), or, if these are class names, list the images "
            "in a CSV with columns path,label."
        )
    for split in ("train", "val", "test"):
        dirs = sorted(d.name for d, s in split_dirs.items() if s == split)
        if len(dirs) > 1:
            raise DataError(
                f"{root} has {len(dirs)} folders for the {split} split "
                f"({', '.join(d + '/' for d in dirs)}). Keep one of them."
            )
    if "train" not in split_dirs.values():
        given = ", ".join(sorted(d.name + "/" for d in split_dirs))
        raise DataError(
            f"{root} has {given} but no train/ folder. Add train/ with one folder per class, "
            "or pass the folder that holds the class folders."
        )
    for d, split in sorted(
        split_dirs.items(), key=lambda kv: ("train", "val", "test").index(kv[1])
    ):
        scan.split_sources[split] = d.name + "/"
        _scan_classes(d, split, scan)
    return scan


def _subdirs(folder: Path) -> list[Path]:
    """Non-hidden sub-folders of ``folder``, sorted by name."""
    return sorted(
        Path(e.path) for e in os.scandir(folder) if e.is_dir() and not e.name.startswith(".")
    )


def _count_root_entries(root: Path, scan: Scan) -> None:
    """Count hidden entries and loose files beside the split folders."""
    for entry in os.scandir(root):
        if entry.name.startswith("."):
            scan.ignored["hidden"] += 1
        elif not entry.is_dir():
            scan.ignored["loose_files"] += 1


def _scan_classes(folder: Path, split: str | None, scan: Scan) -> None:
    """Add the images under each class folder of ``folder`` to ``scan``."""
    prefix = f"{folder.name}/" if split is not None else ""
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if entry.name.startswith("."):
            scan.ignored["hidden"] += 1
        elif not entry.is_dir():
            scan.ignored["loose_files"] += 1
        else:
            files = _images_under(Path(entry.path), scan)
            if not files:
                scan.ignored["empty_class_folders"] += 1
            where = f"{prefix}{entry.name}/"
            scan.items.extend(Candidate(f, (entry.name,), split, where) for f in files)


def _images_under(class_dir: Path, scan: Scan) -> list[str]:
    """Image files anywhere below ``class_dir``, sorted; hidden and non-image files counted."""
    found = []
    for dirpath, dirnames, filenames in os.walk(class_dir):
        hidden_dirs = [d for d in dirnames if d.startswith(".")]
        scan.ignored["hidden"] += len(hidden_dirs)
        # Pruning in place stops os.walk from descending into hidden folders.
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if name.startswith("."):
                scan.ignored["hidden"] += 1
            elif not is_image_file(name):
                scan.ignored["non_image"] += 1
            else:
                found.append(os.path.join(dirpath, name))
    return sorted(found)
