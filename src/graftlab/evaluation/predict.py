"""``predict``: class probabilities for image files, folders and globs, with unreadable files
reported rather than fatal."""

from __future__ import annotations

import csv
import glob
import io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from graftlab._io import write_text
from graftlab.errors import ConfigError
from graftlab.evaluation._inference import (
    as_artifact,
    predict_files,
    task_kind,
)

_GLOB_CHARS = frozenset("*?[")


#: Why an input gave no file: a mistake in the command (exit code 1), unlike a file that exists
#: but cannot be decoded (listed, and the others predicted).
NOT_FOUND = ("file not found", "no file matches this pattern", "folder holds no image files")


def expand_inputs(inputs: list[str | os.PathLike]) -> tuple[list[str], dict[str, str]]:
    """Turn files, folders (searched recursively for images) and glob patterns into files.

    A file named explicitly is kept whatever its extension (decoding decides); in folders only
    image extensions count and hidden files and folders are skipped. Order: as given, folder
    contents sorted; duplicates dropped.

    Returns:
        The absolute file paths, and ``{input: reason}`` for inputs that matched nothing.
    """
    found: dict[str, None] = {}
    missing: dict[str, str] = {}
    for raw in inputs:
        text = os.path.expanduser(str(raw))
        if any(ch in text for ch in _GLOB_CHARS) and not os.path.exists(text):
            matches = sorted(glob.glob(text, recursive=True))
            files = [m for m in matches if os.path.isfile(m)]
            files += [f for m in matches if os.path.isdir(m) for f in _walk_images(m)]
            if not files:
                missing[str(raw)] = NOT_FOUND[1]
            found.update(dict.fromkeys(os.path.abspath(f) for f in files))
        elif os.path.isdir(text):
            files = _walk_images(text)
            if not files:
                missing[str(raw)] = NOT_FOUND[2]
            found.update(dict.fromkeys(files))
        elif os.path.exists(text):
            found[os.path.abspath(text)] = None
        else:
            missing[str(raw)] = NOT_FOUND[0]
    return list(found), missing


def _walk_images(folder: str) -> list[str]:
    from graftlab.data._scan import is_image_file

    out = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        out += [
            os.path.abspath(os.path.join(root, f))
            for f in sorted(files)
            if not f.startswith(".") and is_image_file(f)
        ]
    return out


def predict(
    model_or_path: Any,
    inputs: list[str | os.PathLike],
    *,
    top_k: int = 5,
    batch_size: int | None = None,
    progress: bool = False,
) -> list[dict]:
    """Predict the class of every image in ``inputs``.

    Args:
        model_or_path: A run directory, a model directory or a loaded model.
        inputs: Image files, folders (recursive) and glob patterns.
        top_k: How many of the most probable classes each row lists (at most the number of
            classes).
        batch_size: Images per forward pass.
        progress: Show a progress bar.

    Returns:
        One row per file (and per input that matched nothing): ``path``, ``prediction`` (the
        top class; for multi-label every label with probability >= 0.5, ``|``-joined),
        ``probability`` (of the top class), ``top_k`` (``[{"class", "probability"}]``, most
        probable first) and ``error`` (``None``, or why the file was not predicted).
    """
    if not isinstance(top_k, int) or top_k < 1:
        raise ConfigError(f"'top_k' must be a positive integer. Got {top_k!r}.")
    artifact = as_artifact(model_or_path)
    paths, missing = expand_inputs(inputs)
    if not paths and not missing:
        raise ConfigError("No images given. Pass image files, folders or glob patterns.")
    classes = list(artifact.classes)
    multilabel = task_kind(artifact) == "multilabel"
    preds = predict_files(artifact, paths, batch_size=batch_size, progress=progress)
    rows = [_error_row(p, reason) for p, reason in missing.items()]
    ok_rows = iter(preds.probs)
    for i, path in enumerate(paths):
        if not preds.ok[i]:
            rows.append(_error_row(path, preds.errors[i]))
            continue
        p = next(ok_rows)
        order = np.argsort(-p, kind="stable")[: min(top_k, len(classes))]
        if multilabel:
            prediction = "|".join(classes[j] for j in np.flatnonzero(p >= 0.5))
        else:
            prediction = classes[int(order[0])]
        rows.append(
            {
                "path": path,
                "prediction": prediction,
                "probability": float(p[order[0]]),
                "top_k": [{"class": classes[j], "probability": float(p[j])} for j in order],
                "error": None,
            }
        )
    return rows


def _error_row(path: str, reason: str) -> dict:
    return {"path": path, "prediction": None, "probability": None, "top_k": [], "error": reason}


def format_predictions(rows: list[dict], fmt: str) -> str:
    """Rows of :func:`predict` as CSV or JSON text.

    CSV columns: ``path, prediction, probability, top1_class, top1_prob, ..., error``; empty
    cells where a file was not predicted. JSON: a list of the rows as they are.
    """
    if fmt == "json":
        return json.dumps(rows, indent=2) + "\n"
    if fmt != "csv":
        raise ConfigError(f"Unknown predictions format {fmt!r}; use .csv or .json.")
    k = max((len(r["top_k"]) for r in rows), default=0)
    header = ["path", "prediction", "probability"]
    header += [f"top{i}_{what}" for i in range(1, k + 1) for what in ("class", "prob")]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([*header, "error"])
    for r in rows:
        cells = [r["path"], r["prediction"] or "", _num(r["probability"])]
        for i in range(k):
            top = r["top_k"][i] if i < len(r["top_k"]) else None
            cells += [top["class"], _num(top["probability"])] if top else ["", ""]
        writer.writerow([*cells, r["error"] or ""])
    return buf.getvalue()


def _num(value: float | None) -> str:
    # 9 significant digits round-trip a float32 exactly.
    return "" if value is None else f"{value:.9g}"


def write_predictions(rows: list[dict], path: str | os.PathLike) -> Path:
    """Write rows to ``path``: JSON when it ends in ``.json``, CSV otherwise."""
    path = Path(path)
    write_text(path, format_predictions(rows, "json" if path.suffix.lower() == ".json" else "csv"))
    return path
