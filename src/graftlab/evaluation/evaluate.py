"""``evaluate``: a saved model on a labelled split, with every metric of ``full_metrics``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from graftlab.errors import DataError
from graftlab.evaluation._inference import (
    as_artifact,
    predict_files,
    run_dir_of,
    task_kind,
)
from graftlab.evaluation.metrics import full_metrics

#: ``split="all"`` evaluates every image of the data, whatever split it is in.
ALL = "all"


def evaluate(
    model_or_path: Any,
    data: Any = None,
    split: str = "test",
    tta: bool = False,
    *,
    batch_size: int | None = None,
    progress: bool = False,
) -> dict:
    """Evaluate a model on one split of labelled data.

    Args:
        model_or_path: A run directory, a model (artifact) directory, a loaded artifact or a
            :class:`graftlab.ImageClassifier`.
        data: A :class:`graftlab.data.Dataset`; a run directory (its ``manifest.csv``); a folder
            or CSV for :func:`graftlab.load_dataset` (splits it does not give are made with
            the same defaults and seed as ``graftlab train``); or ``None`` for the manifest of
            the run the model was saved in.
        split: ``train``, ``val``, ``test`` or ``all``.
        tta: Also report metrics with horizontal-flip test-time augmentation (probabilities
            of the image and its mirror averaged), under the key ``"tta"``.
        batch_size: Images per forward pass.
        progress: Show a progress bar.

    Returns:
        :func:`full_metrics` of the readable images, plus ``split``, ``model``, ``data`` and
        ``skipped`` (``[{"path", "reason"}]`` for files that could not be decoded), and
        ``tta`` when asked.

    Raises:
        DataError: The data has classes the model does not know, a different task, or no
            images in ``split``.
    """
    artifact = as_artifact(model_or_path)
    dataset = _as_dataset(data, artifact, progress=progress)
    classes = list(artifact.classes)
    task = task_kind(artifact)
    y = aligned_labels(dataset, None if split == ALL else split, classes, task)
    paths = dataset.paths(None if split == ALL else split)
    if not paths:
        raise DataError(
            f"The {split!r} split of {dataset.source or 'the data'} has no images; it has "
            f"splits {', '.join(sorted({r.split for r in dataset.records}))}. Pass --split."
        )
    preds = predict_files(
        artifact, paths, batch_size=batch_size, tta=tta, progress=progress, desc=f"eval {split}"
    )
    if not preds.ok.any():
        raise DataError(f"None of the {len(paths)} images of the {split!r} split can be decoded.")
    y_ok = y[preds.ok]
    result = full_metrics(preds.probs, y_ok, classes, task)
    result["split"] = split
    result["model"] = str(getattr(artifact, "path", "") or "")
    result["data"] = str(dataset.source or "")
    result["skipped"] = [{"path": paths[i], "reason": r} for i, r in sorted(preds.errors.items())]
    if tta:
        result["tta"] = full_metrics(preds.tta_probs, y_ok, classes, task)
    return result


def aligned_labels(dataset: Any, split: str | None, classes: list[str], task: str) -> np.ndarray:
    """The labels of ``split`` as indices into the model's ``classes``.

    Data loaded from a folder numbers its classes in sorted-name order of the classes *it*
    holds; a test folder without one class would shift every index after it. Matching by
    name makes the numbers right whatever the data holds (DESIGN.md section 5).
    """
    y = dataset.labels(split)
    if (task == "multilabel") != (dataset.task == "multilabel"):
        raise DataError(
            f"The model is {task} but the data ({dataset.source}) is {dataset.task}; "
            "evaluate it on data labelled the way it was trained."
        )
    if list(dataset.classes) == list(classes):
        return y
    index = {name: i for i, name in enumerate(classes)}
    unknown = [c for c in dataset.classes if c not in index]
    if unknown:
        raise DataError(
            f"The data has classes the model was not trained on: {', '.join(unknown[:10])}. "
            f"The model knows: {', '.join(classes[:20])}."
        )
    mapping = np.asarray([index[c] for c in dataset.classes], dtype=np.int64)
    if task == "multilabel":
        out = np.zeros((len(y), len(classes)), dtype=np.int64)
        out[:, mapping] = y
        return out
    return mapping[y] if len(y) else y


def _as_dataset(data: Any, artifact: Any, *, progress: bool) -> Any:
    from graftlab.data.dataset import Dataset

    if isinstance(data, Dataset):
        return data
    if data is None:
        run = run_dir_of(artifact)
        if run is None:
            raise DataError(
                "No data given and the model is not inside a run directory with a "
                "manifest.csv. Pass the data: graftlab evaluate MODEL DATA."
            )
        return Dataset.load_manifest(run / "manifest.csv")
    if not isinstance(data, str | os.PathLike):
        raise DataError(f"'data' must be a Dataset or a path. Got {type(data).__name__}.")
    path = Path(data)
    if path.is_dir() and (path / "manifest.csv").is_file() and (path / "classes.json").is_file():
        return Dataset.load_manifest(path / "manifest.csv")
    if path.name == "manifest.csv" and (path.parent / "classes.json").is_file():
        return Dataset.load_manifest(path)
    from graftlab.data import load_dataset

    return load_dataset(path, progress=progress)
