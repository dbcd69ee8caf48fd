"""On-disk cache of pooled features, keyed by everything that determines them.

``<cache>/features/<key>/features.npy`` + ``meta.json``. The key is a stable hash of the
backbone name, a hash of its weights as loaded, ``Preprocess.to_dict()``, the content hash of
every image (in order), and the execution precision; changing any of them is a new key, so a
stale entry is never read. Both files are written atomically, ``meta.json`` last; it carries
the sha256 of ``features.npy``, so a truncated or corrupted entry is detected, deleted and
rebuilt rather than trusted.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

from graftlab._io import atomic_path, sha256_file, stable_hash, write_json
from graftlab._paths import CACHE_KINDS, cache_dir, cache_usage, clear_cache  # noqa: F401 (API)

log = logging.getLogger(__name__)

#: Part of every key; bump when the meaning of a cached feature changes (2: in float32,
#: computed with BatchNorm folded into the convolutions, features/fold.py; 3: under bf16 too).
FEATURES_VERSION = 3
#: The folders of the cache root that ``graftlab cache`` reports and clears; nothing else
#: there is touched, whatever ``--cache-dir`` points at.
KINDS = CACHE_KINDS  # cache_usage / clear_cache live in graftlab._paths (no torch needed)


def weights_fingerprint(model: torch.nn.Module) -> str:
    """sha256 of the backbone's tensors as loaded (the classifier is left out: features do not
    depend on it, so resetting the head keeps the cache valid)."""
    head = model.get_classifier() if hasattr(model, "get_classifier") else None
    head_ids = {id(t) for t in head.state_dict(keep_vars=True).values()} if head else set()
    h = hashlib.sha256()
    for name, tensor in sorted(model.state_dict(keep_vars=True).items()):
        if id(tensor) in head_ids:
            continue
        t = tensor.detach().cpu().contiguous().reshape(-1)
        h.update(f"{name}:{t.dtype}:{tuple(t.shape)};".encode())
        h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def feature_key(
    *,
    backbone: str,
    weights: str,
    preprocess: dict,
    hashes: list[str],
    precision: str,
) -> str:
    """The cache key for features of ``hashes`` (image content hashes, in order)."""
    images = hashlib.sha256("\n".join(hashes).encode()).hexdigest()
    return stable_hash(
        {
            "version": FEATURES_VERSION,
            "backbone": backbone,
            "weights": weights,
            "preprocess": preprocess,
            "images": images,
            "precision": precision,
        }
    )[:32]


class FeatureCache:
    """Feature arrays on disk under ``<cache root>/features``."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = cache_dir(root) / "features"

    def path(self, key: str) -> Path:
        return self.root / key

    def load(self, key: str) -> tuple[np.ndarray, dict] | None:
        """``(features, meta)`` of a complete, intact entry; None on a miss or a corrupt entry."""
        entry = self.path(key)
        meta_path, data_path = entry / "meta.json", entry / "features.npy"
        if not meta_path.is_file():
            return None
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            if sha256_file(data_path) != meta["sha256"]:
                raise ValueError("checksum mismatch")
            features = np.load(data_path, allow_pickle=False)
            if list(features.shape) != meta["shape"]:
                raise ValueError(f"shape {features.shape} != {meta['shape']}")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("Feature cache entry %s is corrupt (%s); rebuilding it.", entry, exc)
            shutil.rmtree(entry, ignore_errors=True)
            return None
        return features, meta

    def save(self, key: str, features: np.ndarray, meta: dict[str, Any] | None = None) -> Path:
        entry = self.path(key)
        entry.mkdir(parents=True, exist_ok=True)
        features = np.ascontiguousarray(features, dtype=np.float32)
        with atomic_path(entry / "features.npy") as tmp:
            with open(tmp, "wb") as fh:
                np.save(fh, features, allow_pickle=False)
            digest = sha256_file(tmp)
        write_json(
            entry / "meta.json",
            {**(meta or {}), "shape": list(features.shape), "sha256": digest},
        )
        return entry
