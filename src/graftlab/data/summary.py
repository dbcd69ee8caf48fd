"""``Dataset.summary()``: the numbers a person checks before training on a dataset."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from graftlab.data.dataset import SPLITS

if TYPE_CHECKING:
    from graftlab.data.dataset import Dataset


def summarize(ds: Dataset) -> dict[str, Any]:
    """Describe a dataset as a JSON-able dict.

    Keys: ``source``, ``task``, ``classes``, ``num_images``, ``split_sizes`` (images per
    split), ``counts`` (``{class: {"train": n, "val": n, "test": n, "total": n}}``; a
    multi-label image counts once for each of its labels), ``image_size``
    (``min_width/max_width/min_height/max_height``, or None when the files were not decoded,
    as after ``load_manifest``), ``modes`` (images per original Pillow mode), ``skipped``
    (``[{"path", "reason"}]``), ``ignored`` and ``imbalance_ratio`` (largest / smallest
    class count in train; None when a class has no training image).
    """
    counts = {name: dict.fromkeys((*SPLITS, "total"), 0) for name in ds.classes}
    for r in ds.records:
        for i in r.label if isinstance(r.label, tuple) else (r.label,):
            counts[ds.classes[i]][r.split] += 1
            counts[ds.classes[i]]["total"] += 1
    split_sizes = dict(Counter(r.split for r in ds.records))
    train_counts = [c["train"] for c in counts.values()]
    return {
        "source": ds.source,
        "task": ds.task,
        "classes": list(ds.classes),
        "num_images": len(ds.records),
        "split_sizes": {s: split_sizes.get(s, 0) for s in SPLITS},
        "counts": counts,
        "image_size": _size_range(ds),
        "modes": dict(sorted(Counter(info.mode for info in ds.image_info.values()).items())),
        "skipped": [{"path": p, "reason": reason} for p, reason in ds.skipped],
        "ignored": dict(ds.ignored),
        "imbalance_ratio": (
            max(train_counts) / min(train_counts) if train_counts and min(train_counts) else None
        ),
    }


def _size_range(ds: Dataset) -> dict[str, int] | None:
    infos = [ds.image_info[r.path] for r in ds.records if r.path in ds.image_info]
    if not infos:
        return None
    return {
        "min_width": min(i.width for i in infos),
        "max_width": max(i.width for i in infos),
        "min_height": min(i.height for i in infos),
        "max_height": max(i.height for i in infos),
    }
