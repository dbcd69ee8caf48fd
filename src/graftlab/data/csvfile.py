"""Read a CSV of images and labels: header ``path,label[,split]``.

* ``path``: relative paths resolve against the CSV's folder. A path that leaves that folder
  (``../other/x.jpg`` or an absolute path elsewhere) is refused unless ``allow_outside=True``:
  a CSV copied from somewhere else must not make graftlab read arbitrary files by accident.
  The check is on the written path (``..`` resolved), not on symlink targets, so a dataset
  folder that links to images stored elsewhere still works.
* ``label``: one class name, or several separated by ``|`` or ``;``. If any row holds several,
  the whole dataset is multi-label and every label becomes a set.
* ``split`` (optional): ``train``, ``val`` (``valid``, ``validation``) or ``test`` on every row.

Other columns are ignored. Column names are case-insensitive.
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

from graftlab.data._scan import SPLIT_ALIASES, Candidate, Scan
from graftlab.errors import DataError, did_you_mean

REQUIRED_COLUMNS = ("path", "label")
_MULTI_SEP = re.compile(r"[|;]")
_MAX_LISTED = 5  # rows named in one error message; the rest are counted


class OutsidePathsError(DataError):
    """CSV paths leave the CSV's folder; a command with an option to allow it can say so."""


def read_csv(csv_path: str | os.PathLike, *, allow_outside: bool = False) -> Scan:
    """Read the rows of a label CSV into candidates.

    Args:
        csv_path: The CSV file.
        allow_outside: Accept paths outside the CSV's folder.

    Returns:
        A :class:`Scan` with one candidate per row, in file order.

    Raises:
        DataError: The file cannot be read, a required column is missing, cells are empty,
            a split name is unknown, a path escapes the folder, or a path is listed twice.
    """
    csv_path = Path(csv_path).absolute()
    rows, columns = _read_rows(csv_path)
    base = csv_path.parent
    has_split = "split" in columns
    problems: dict[str, list[str]] = {}
    raw: list[tuple[str, str, str | None, str]] = []
    for line, row in rows:
        cell_path = (row.get("path") or "").strip()
        cell_label = (row.get("label") or "").strip()
        cell_split = (row.get("split") or "").strip() if has_split else ""
        where = f"{csv_path.name}:{line}"
        if not cell_path:
            problems.setdefault("the path cell is empty", []).append(f"line {line}")
            continue
        if not cell_label or not _split_labels(cell_label):
            problems.setdefault("the label cell is empty", []).append(f"line {line}")
            continue
        split = None
        if has_split:
            split = SPLIT_ALIASES.get(cell_split.lower())
            if split is None:
                problems.setdefault("the split is not train, val or test", []).append(
                    f"line {line} ({cell_split!r})"
                )
                continue
        raw.append((cell_path, cell_label, split, where))
    if problems:
        raise DataError(f"{csv_path}: {_describe(problems)}. Fix these rows and load it again.")
    if not raw:
        raise DataError(f"{csv_path} has a header but no rows. Add one row per image.")

    multilabel = any(_MULTI_SEP.search(label) for _, label, _, _ in raw)
    items, outside, seen, dupes = [], [], {}, []
    for cell_path, cell_label, split, where in raw:
        path = _resolve(cell_path, base)
        if not allow_outside and not _inside(path, base):
            outside.append(f"{where} ({cell_path})")
        if path in seen:
            dupes.append(f"{where} repeats {seen[path]} ({cell_path})")
        seen.setdefault(path, where)
        labels = _split_labels(cell_label) if multilabel else (cell_label,)
        items.append(Candidate(path, labels, split, where))
    if outside:
        raise OutsidePathsError(
            f"{csv_path}: {_listing(outside)} point outside the CSV's folder {base}. Put the "
            "CSV in a folder that holds the images (paths are read relative to it); if the "
            "paths are meant to leave it, load_dataset(..., allow_outside=True) accepts them."
        )
    if dupes:
        raise DataError(
            f"{csv_path}: the same image is listed more than once: {_listing(dupes)}. "
            "Keep one row per image (multi-label rows join labels with '|')."
        )
    return Scan(items=items, multilabel=multilabel, layout="csv")


def _read_rows(csv_path: Path) -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    """Return (line number, row) pairs with lower-cased column names, and the columns."""
    try:
        with open(csv_path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None:
                raise DataError(
                    f"{csv_path} is empty. Expected a header line 'path,label' (optionally "
                    "',split') and one row per image."
                )
            columns = [c.strip().lower() for c in header]
            missing = [c for c in REQUIRED_COLUMNS if c not in columns]
            if missing:
                hint = _header_hint(header, missing, columns)
                raise DataError(
                    f"{csv_path} is missing the column(s) {', '.join(missing)}; its header is "
                    f"{','.join(header)!r}.{hint} Expected a header 'path,label' (optionally "
                    "',split'), comma-separated."
                )
            rows = []
            for values in reader:
                if not any(v.strip() for v in values):
                    continue  # blank lines, often at the end of hand-edited files
                rows.append((reader.line_num, dict(zip(columns, values, strict=False))))
    except FileNotFoundError:
        raise DataError(f"{csv_path} does not exist.") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"{csv_path} is not UTF-8 text ({exc.reason}). Save it as UTF-8.") from None
    except csv.Error as exc:
        raise DataError(f"{csv_path} is not a valid CSV file ({exc}).") from None
    return rows, columns


def _header_hint(header: list[str], missing: list[str], columns: list[str]) -> str:
    """What probably went wrong with a header: another separator, or a misspelt column."""
    if len(header) == 1:
        for sep, name in ((";", "semicolon"), ("\t", "tab"), ("|", "pipe")):
            if sep in header[0]:
                return (
                    f" It looks {name}-separated ({header[0]!r}); graftlab reads "
                    "comma-separated CSV: save it with commas."
                )
    hints = dict.fromkeys(did_you_mean(m, columns) for m in missing)  # each said once
    return "".join(h for h in hints if h)


def _split_labels(cell: str) -> tuple[str, ...]:
    """Sorted unique label names of a ``|``- or ``;``-separated cell."""
    return tuple(sorted({p.strip() for p in _MULTI_SEP.split(cell) if p.strip()}))


def _resolve(cell: str, base: Path) -> str:
    # CSVs written on Windows use backslashes; on POSIX a backslash in a file name is rarer
    # than a Windows CSV, so it is read as a separator.
    if os.sep == "/":
        cell = cell.replace("\\", "/")
    p = Path(cell).expanduser()
    return os.path.normpath(p if p.is_absolute() else base / p)


def _inside(path: str, base: Path) -> bool:
    return Path(path).is_relative_to(os.path.normpath(base))


def _listing(items: list[str]) -> str:
    shown = ", ".join(items[:_MAX_LISTED])
    more = len(items) - _MAX_LISTED
    return f"{shown} and {more} more" if more > 0 else shown


def _describe(problems: dict[str, list[str]]) -> str:
    return "; ".join(f"{what} on {_listing(where)}" for what, where in problems.items())
