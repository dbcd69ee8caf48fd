"""Save and load the split manifest, so a run can be repeated on exactly the same images.

Two files, both written atomically:

* the manifest CSV, ``path,label,split,sha256``, one row per image; labels are class names
  (``|``-joined for multi-label) so a person can read and diff it;
* ``classes.json`` beside it: the class order (index ``i`` is ``classes[i]``), the task, the
  source, and the skipped and ignored files of the original load.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

from graftlab._io import sha256_file, write_json, write_text
from graftlab.data.dataset import SPLITS, TASKS, Dataset, Record
from graftlab.errors import DataError

COLUMNS = ("path", "label", "split", "sha256")
FORMAT_VERSION = 1


def classes_path(manifest_path: str | os.PathLike) -> Path:
    """Where ``classes.json`` lives for a manifest: in the same folder."""
    return Path(manifest_path).parent / "classes.json"


def save_manifest(ds: Dataset, path: str | os.PathLike) -> None:
    """Write ``ds`` to the manifest CSV ``path`` and ``classes.json`` beside it."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in ds.records:
        label = r.label if isinstance(r.label, tuple) else (r.label,)
        writer.writerow([r.path, "|".join(ds.classes[i] for i in label), r.split, r.sha256])
    write_json(
        classes_path(path),
        {
            "format_version": FORMAT_VERSION,
            "classes": list(ds.classes),
            "task": ds.task,
            "source": ds.source,
            "skipped": [list(s) for s in ds.skipped],
            "ignored": dict(ds.ignored),
        },
    )
    write_text(path, buf.getvalue())


def load_manifest(path: str | os.PathLike, *, verify: bool = False) -> Dataset:
    """Read a manifest written by :func:`save_manifest`; see :meth:`Dataset.load_manifest`."""
    path = Path(path).expanduser().absolute()
    meta = _read_classes(classes_path(path))
    classes, task = meta["classes"], meta["task"]
    index = {name: i for i, name in enumerate(classes)}
    records, problems = [], []
    for line, row in _read_rows(path):
        names = row["label"].split("|") if task == "multilabel" else [row["label"]]
        names = [n for n in names if n]
        unknown = [n for n in names if n not in index]
        no_label = not names and task != "multilabel"
        if (
            unknown
            or no_label
            or row["split"] not in SPLITS
            or not row["path"]
            or not row["sha256"]
        ):
            problems.append(line)
            continue
        ids = tuple(sorted(index[n] for n in names))
        label: int | tuple[int, ...] = ids if task == "multilabel" else ids[0]
        # Hand-edited manifests may hold relative paths; they mean "beside the manifest".
        file_path = os.path.normpath(path.parent / row["path"])
        records.append(Record(file_path, label, row["split"], row["sha256"]))
    if problems:
        lines = ", ".join(str(n) for n in problems[:10])
        raise DataError(
            f"{path}: rows {lines} have an empty path or hash, a split other than "
            f"train/val/test, or a label not in {classes_path(path)}. The manifest and "
            "classes.json must come from the same save_manifest call."
        )
    if verify:
        _verify_hashes(records, path)
    return Dataset(
        records=records,
        classes=classes,
        task=task,
        source=str(meta.get("source") or path),
        skipped=[(str(p), str(r)) for p, r in meta.get("skipped", [])],
        ignored={str(k): int(v) for k, v in meta.get("ignored", {}).items()},
    )


def _read_classes(path: Path) -> dict:
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(
            f"{path} does not exist; a manifest needs the classes.json written beside it by "
            "save_manifest (it fixes the class order)."
        ) from None
    except (OSError, ValueError) as exc:
        raise DataError(f"{path} is not valid JSON ({exc}).") from None
    if isinstance(meta, list):  # a bare list of names is a valid, older way to store the order
        meta = {"classes": meta}
    classes = meta.get("classes") if isinstance(meta, dict) else None
    if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes):
        raise DataError(f"{path} must hold a list of class names under 'classes'.")
    task = meta.get("task") or ("binary" if len(classes) == 2 else "multiclass")
    if task not in TASKS:
        raise DataError(f"{path}: task {task!r} is not one of {', '.join(TASKS)}.")
    return {**meta, "task": task}


def _read_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise DataError(
                    f"{path} is not a graftlab manifest: missing column(s) {', '.join(missing)} "
                    f"(expected header {','.join(COLUMNS)})."
                )
            return [
                (reader.line_num, {k: (v or "").strip() for k, v in row.items() if k})
                for row in reader
            ]
    except FileNotFoundError:
        raise DataError(f"Manifest {path} does not exist.") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{path} is not a readable CSV manifest ({exc}).") from None


def _verify_hashes(records: list[Record], path: Path) -> None:
    changed = []
    for r in records:
        try:
            ok = sha256_file(r.path) == r.sha256
        except OSError:
            ok = False
        if not ok:
            changed.append(r.path)
    if changed:
        shown = ", ".join(changed[:10]) + (
            f" and {len(changed) - 10} more" if len(changed) > 10 else ""
        )
        raise DataError(
            f"{len(changed)} file(s) listed in {path} are missing or changed since the manifest "
            f"was written: {shown}. The run cannot be repeated exactly on these files."
        )
