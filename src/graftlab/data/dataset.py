"""The dataset every other package consumes: a manifest of (path, label, split, sha256) records.

A :class:`Dataset` is plain data. It is built by :func:`graftlab.data.load_dataset` or read back
from a saved manifest, and carries its class order so that label ``3`` means the same class in
training, evaluation, the saved model and any later prediction.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from graftlab.errors import ConfigError, did_you_mean

SPLITS = ("train", "val", "test")
TASKS = ("multiclass", "binary", "multilabel")


class DataWarning(UserWarning):
    """Something in the data is worth a look but does not stop loading (skipped files, ...)."""


@dataclass(frozen=True)
class Record:
    """One image of the dataset.

    Attributes:
        path: Absolute path of the image file.
        label: Class index, or a sorted tuple of class indices for multi-label data.
        split: ``"train"``, ``"val"`` or ``"test"``.
        sha256: Hash of the file's bytes; ties cached features and manifests to the content.
    """

    path: str
    label: int | tuple[int, ...]
    split: str
    sha256: str


@dataclass(frozen=True)
class ImageInfo:
    """What decoding a file revealed; kept for :meth:`Dataset.summary`, not saved in manifests."""

    width: int
    height: int
    mode: str


@dataclass
class Dataset:
    """Images, labels and splits, with the class order defined once.

    Attributes:
        records: One :class:`Record` per usable image.
        classes: Class names in index order (sorted names when built by ``load_dataset``).
        task: ``"multiclass"``, ``"binary"`` (two classes) or ``"multilabel"``.
        source: What the dataset was loaded from (folder, CSV or manifest path).
        skipped: ``(path, reason)`` for every file that could not be decoded.
        ignored: Counts of what was left out on purpose (hidden, non-image files, ...).
        image_info: Size and original mode per path, when the files were decoded at load time.
    """

    records: list[Record]
    classes: list[str]
    task: str
    source: str = ""
    skipped: list[tuple[str, str]] = field(default_factory=list)
    ignored: dict[str, int] = field(default_factory=dict)
    image_info: dict[str, ImageInfo] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.records)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def splits(self) -> list[str]:
        """The splits that hold at least one record, in ``train, val, test`` order."""
        present = {r.split for r in self.records}
        return [s for s in SPLITS if s in present]

    def subset(self, split: str) -> Dataset:
        """A dataset with only the records of ``split``; classes and task are unchanged."""
        split = _check_split(split)
        records = [r for r in self.records if r.split == split]
        info = {r.path: self.image_info[r.path] for r in records if r.path in self.image_info}
        return Dataset(
            records=records,
            classes=list(self.classes),
            task=self.task,
            source=self.source,
            skipped=list(self.skipped),
            ignored=dict(self.ignored),
            image_info=info,
        )

    def _select(self, split: str | None) -> list[Record]:
        if split is None:
            return self.records
        split = _check_split(split)
        return [r for r in self.records if r.split == split]

    def paths(self, split: str | None = None) -> list[str]:
        """Absolute image paths, in record order, of one split or of all."""
        return [r.path for r in self._select(split)]

    def hashes(self, split: str | None = None) -> list[str]:
        """sha256 of each file's bytes, aligned with :meth:`paths`."""
        return [r.sha256 for r in self._select(split)]

    def labels(self, split: str | None = None) -> np.ndarray:
        """Labels aligned with :meth:`paths`.

        Returns:
            ``(N,)`` int64 class indices, or for multi-label data an ``(N, K)`` int64 matrix of
            0/1 indicators (K = number of classes).
        """
        records = self._select(split)
        if self.task == "multilabel":
            out = np.zeros((len(records), len(self.classes)), dtype=np.int64)
            for i, r in enumerate(records):
                out[i, list(_as_tuple(r.label))] = 1
            return out
        return np.asarray([int(r.label) for r in records], dtype=np.int64)  # type: ignore[arg-type]

    def save_manifest(self, path: str | os.PathLike) -> None:
        """Write ``path`` (CSV: path,label,split,sha256) and ``classes.json`` beside it, atomically.

        Labels are written as class names (``|``-joined for multi-label) so the file can be
        read by a person; ``classes.json`` fixes the index order.
        """
        from graftlab.data.manifest import save_manifest

        save_manifest(self, path)

    @classmethod
    def load_manifest(cls, path: str | os.PathLike, *, verify: bool = False) -> Dataset:
        """Read a manifest written by :meth:`save_manifest`.

        Args:
            path: The manifest CSV; ``classes.json`` must be beside it.
            verify: Re-hash every file and raise a DataError if one is missing or changed.
                Off by default because it reads every image.
        """
        from graftlab.data.manifest import load_manifest

        return load_manifest(path, verify=verify)

    def summary(self) -> dict[str, Any]:
        """Per-class per-split counts, image sizes, modes, skipped files and class imbalance."""
        from graftlab.data.summary import summarize

        return summarize(self)


def _check_split(split: str) -> str:
    if split not in SPLITS:
        raise ConfigError(
            f"Unknown split {split!r}; expected one of {', '.join(SPLITS)}."
            + did_you_mean(split, SPLITS)
        )
    return split


def _as_tuple(label: int | tuple[int, ...]) -> tuple[int, ...]:
    return label if isinstance(label, tuple) else (int(label),)
