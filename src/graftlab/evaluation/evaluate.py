"""``evaluate``: a saved model on a labelled split, with every metric of ``full_metrics``."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from graftlab.data.dataset import SPLITS
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
    split: str | None = None,
    tta: bool = False,
    *,
    batch_size: int | None = None,
    progress: bool = False,
) -> dict:
    """Evaluate a model on labelled data; the result says which images were scored.

    What is scored when ``split`` is None (the default):

    * the run's own data (``data`` None, the run directory, its ``manifest.csv``, or the
      folder or CSV it was trained on): its **test** split, the images training never saw
      (its validation split when the run has no test split, and the result says so);
    * any other folder, CSV or :class:`~graftlab.data.Dataset`: **every** image of it.

    Args:
        model_or_path: A run directory, a model (artifact) directory, a loaded artifact or a
            :class:`graftlab.ImageClassifier`.
        data: A :class:`graftlab.data.Dataset`; a run directory (its ``manifest.csv``); a
            folder or CSV for :func:`graftlab.load_dataset`; or ``None`` for the manifest of
            the run the model was saved in.
        split: None (see above), ``train``, ``val``, ``test`` or ``all``. On the run's own
            data the split is the run's; on other data without that split, it is made with
            the same defaults and seed as ``graftlab train``.
        tta: Also report metrics with horizontal-flip test-time augmentation (probabilities
            of the image and its mirror averaged), under the key ``"tta"``.
        batch_size: Images per forward pass.
        progress: Show a progress bar.

    Returns:
        :func:`full_metrics` of the readable images, plus ``split`` (the split scored, or
        ``all``), ``scored`` (one sentence: which images, how many, and why), ``model``,
        ``data`` and ``skipped`` (``[{"path", "reason"}]`` for files that could not be
        decoded), and ``tta`` when asked.

    Raises:
        DataError: The data has classes the model does not know, a different task, or no
            images in ``split``.
    """
    if split is not None and split not in (*SPLITS, ALL):
        from graftlab.errors import ConfigError, did_you_mean

        raise ConfigError(
            f"'split' must be one of {', '.join((*SPLITS, ALL))}. Got {split!r}."
            + did_you_mean(split, (*SPLITS, ALL))
        )
    artifact = as_artifact(model_or_path)
    scope = _what_to_score(data, artifact, split, progress=progress)
    dataset, split = scope.dataset, scope.split
    classes = list(artifact.classes)
    task = task_kind(artifact)
    y = aligned_labels(dataset, None if split == ALL else split, classes, task)
    paths = dataset.paths(None if split == ALL else split)
    if not paths:
        raise DataError(
            f"The {split!r} split of {dataset.source or 'the data'} has no images; it has "
            f"splits {', '.join(sorted({r.split for r in dataset.records}))}. Pass --split."
        )
    missing = [p for p in paths if not os.path.exists(p)]
    if len(missing) == len(paths):
        raise DataError(
            f"None of the {len(paths)} images of {scope.sentence(len(paths))} exist any more "
            f"(first: {missing[0]}). Restore them, or evaluate on other data: "
            "graftlab evaluate RUN DATA."
        )
    preds = predict_files(
        artifact, paths, batch_size=batch_size, tta=tta, progress=progress, desc=f"eval {split}"
    )
    if not preds.ok.any():
        raise DataError(f"None of the {len(paths)} images of the {split!r} split can be decoded.")
    y_ok = y[preds.ok]
    result = full_metrics(preds.probs, y_ok, classes, task)
    result["split"] = split
    result["scored"] = scope.sentence(int(preds.ok.sum()))
    result["model"] = str(getattr(artifact, "path", "") or "")
    result["data"] = str(dataset.source or "")
    result["skipped"] = [{"path": paths[i], "reason": r} for i, r in sorted(preds.errors.items())]
    if tta:
        result["tta"] = full_metrics(preds.tta_probs, y_ok, classes, task)
    return result


@dataclass
class _Scope:
    """The images an evaluation scores and the words that say so."""

    dataset: Any
    split: str
    where: str  # "the run's data", "data/" ...
    note: str = ""  # why this split, or what was left out

    def sentence(self, n: int) -> str:
        what = "every image" if self.split == ALL else f"the {self.split} split"
        text = f"{what} of {self.where}: {n} image{'s' if n != 1 else ''}"
        return f"{text} ({self.note})" if self.note else text


def _what_to_score(data: Any, artifact: Any, split: str | None, *, progress: bool) -> _Scope:
    from graftlab.data.dataset import Dataset

    run = run_dir_of(artifact)
    own = Dataset.load_manifest(run / "manifest.csv") if run is not None else None
    if data is None:
        if own is None:
            raise DataError(
                "No data given and the model is not inside a run directory with a "
                "manifest.csv. Pass the data: graftlab evaluate MODEL DATA."
            )
        return _run_scope(own, split, "the run's data")
    if isinstance(data, Dataset):
        given = data
    elif isinstance(data, str | os.PathLike):
        manifest = _manifest_of(Path(data))
        if manifest is not None:
            same = own is not None and run is not None and manifest == run / "manifest.csv"
            where = "the run's data" if same else f"the data of run {manifest.parent}"
            return _run_scope(Dataset.load_manifest(manifest), split, where)
        from graftlab.data import load_dataset

        if split in (None, ALL) or own is not None:
            # No split is made up: the data's own train/val/test folders or split column
            # are kept, everything else is scored.
            given = load_dataset(
                data, val_fraction=0, test_fraction=0, progress=progress, min_classes=1
            )
        else:
            given = load_dataset(data, progress=progress, min_classes=1)
    else:
        raise DataError(f"'data' must be a Dataset or a path. Got {type(data).__name__}.")
    where = str(given.source or "the data")
    if own is not None:
        seen = {r.sha256 for r in own.records if r.split in ("train", "val")}
        overlap = sum(r.sha256 in seen for r in given.records)
        if overlap:
            # The run's own images (or copies of them): score them as the run split them,
            # never the images the model was trained or selected on unless asked.
            hashes = {r.sha256 for r in given.records}
            mine = [r for r in own.records if r.sha256 in hashes]
            ds = Dataset(records=mine, classes=list(own.classes), task=own.task, source=where)
            scope = _run_scope(ds, split, where)
            if scope.split == ALL:
                scope.note = (
                    f"{overlap} of them were used for training or validation, so the "
                    "numbers are optimistic"
                )
            elif not scope.note:
                left = len(given.records) - len(ds.subset(scope.split).records)
                scope.note = (
                    f"the run's split; the other {left} are its training and validation images"
                )
            return scope
    if split is None:
        return _Scope(given, ALL, where, "not the run's data, so every image is scored")
    if split != ALL and split not in {r.split for r in given.records} and given is not data:
        from graftlab.data import load_dataset

        given = load_dataset(given.source, progress=progress, min_classes=1)
    return _Scope(given, split, where)


def _run_scope(ds: Any, split: str | None, where: str) -> _Scope:
    splits = {r.split for r in ds.records}
    if split is not None:
        return _Scope(ds, split, where)
    if "test" in splits:
        return _Scope(ds, "test", where, "the images training never saw")
    return _Scope(
        ds,
        "val",
        where,
        "the run has no test split; validation chose the model, so the numbers are optimistic",
    )


def _manifest_of(path: Path) -> Path | None:
    """``path``'s manifest.csv when ``path`` is a run directory or a run's manifest."""
    if path.is_dir() and (path / "manifest.csv").is_file() and (path / "classes.json").is_file():
        return path / "manifest.csv"
    if path.name == "manifest.csv" and (path.parent / "classes.json").is_file():
        return path
    return None


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
