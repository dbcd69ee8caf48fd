"""Stratified train/val/test assignment with a fixed seed.

Rules (the same for folders and CSVs):

* Within each class, files are ordered by path, shuffled with ``numpy.random.default_rng(seed)``
  and the first ``round(n * val_fraction)`` go to val, the next ``round(n * test_fraction)``
  to test (halves round up). The result depends on the seed and the set of files, not on the
  order in which they were listed.
* Every class keeps at least one training image. When a class is too small for its share, the
  test share is cut first, then the val share: a class with 1 or 2 images (at the default
  0.15/0.15) stays entirely in train, and so it has no val or test image. The summary shows
  these per-class counts so it is visible.
* Multi-label records are stratified by their rarest label (approximate, but it keeps rare
  labels in every split when there are enough of them); records with no label form a group.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np

from graftlab.errors import ConfigError


def check_fractions(val_fraction: float, test_fraction: float) -> None:
    """Raise a ConfigError unless both fractions are in [0, 1) and sum to less than 1."""
    for name, value in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not isinstance(value, int | float) or not 0.0 <= value < 1.0:
            raise ConfigError(
                f"'{name}' must be a number in [0, 1). Got {name}={value!r}. "
                "Typical values are 0.1 to 0.2; 0 disables the split."
            )
    if val_fraction + test_fraction >= 1.0:
        raise ConfigError(
            f"val_fraction + test_fraction must be below 1 so some images are left to train. "
            f"Got {val_fraction} + {test_fraction} = {val_fraction + test_fraction}."
        )


def stratify_keys(labels: Sequence[int | tuple[int, ...]]) -> list[int]:
    """One stratification key per record: the class, or for multi-label the rarest label."""
    if not any(isinstance(lab, tuple) for lab in labels):
        return [int(lab) for lab in labels]  # type: ignore[arg-type]
    freq = Counter(c for lab in labels for c in lab)  # type: ignore[union-attr]
    return [min(lab, key=lambda c: (freq[c], c)) if lab else -1 for lab in labels]  # type: ignore[arg-type]


def stratified_split(
    keys: Sequence[int],
    paths: Sequence[str],
    *,
    val_fraction: float,
    test_fraction: float,
    seed: int,
) -> list[str]:
    """Assign ``"train"``, ``"val"`` or ``"test"`` to each record of a pool.

    Args:
        keys: Stratification key per record (see :func:`stratify_keys`).
        paths: Path per record; fixes the order before shuffling so the split does not depend
            on listing order.
        val_fraction: Share of each class sent to val (0 for none).
        test_fraction: Share of each class sent to test (0 for none).
        seed: Seed of the shuffle; the same seed and files give the same split.

    Returns:
        The split name per record, aligned with ``keys``.
    """
    check_fractions(val_fraction, test_fraction)
    out = ["train"] * len(keys)
    rng = np.random.default_rng(seed)
    by_key: dict[int, list[int]] = {}
    for i, key in enumerate(keys):
        by_key.setdefault(int(key), []).append(i)
    for key in sorted(by_key):
        idx = sorted(by_key[key], key=lambda i: paths[i])
        order = [idx[j] for j in rng.permutation(len(idx))]
        n_val, n_test = split_sizes(len(order), val_fraction, test_fraction)
        for i in order[:n_val]:
            out[i] = "val"
        for i in order[n_val : n_val + n_test]:
            out[i] = "test"
    return out


def split_sizes(n: int, val_fraction: float, test_fraction: float) -> tuple[int, int]:
    """Val and test counts for a class of ``n`` images, leaving at least one for train.

    Validation gets at least one image of every class that has two (a class validation
    cannot see is an error: checkpoint choice would ignore it); test only its rounded share.
    """
    n_val = math.floor(n * val_fraction + 0.5)
    if val_fraction > 0 and n >= 2:
        n_val = max(n_val, 1)
    n_test = math.floor(n * test_fraction + 0.5)
    while n_val + n_test > n - 1 and n_val + n_test > 0:
        if n_test > 0:
            n_test -= 1
        else:
            n_val -= 1
    return n_val, n_test
