"""graftlab.features: pooled backbone features, extracted once and cached on disk."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from graftlab.distributed import broadcast_object, is_main, main_first
from graftlab.distributed import world as dist_world
from graftlab.features.cache import (
    FeatureCache,
    cache_usage,
    clear_cache,
    feature_key,
    weights_fingerprint,
)
from graftlab.features.extract import (
    as_execution,
    extract_features,
    head_logits,
    pooled_features,
    predict_logits,
)

__all__ = [
    "FeatureCache",
    "Features",
    "as_execution",
    "cache_usage",
    "clear_cache",
    "dataset_features",
    "extract_features",
    "feature_key",
    "head_logits",
    "pooled_features",
    "predict_logits",
    "weights_fingerprint",
]


@dataclass
class Features:
    """Features of a list of images and where they came from.

    Attributes:
        features: (N, D) float32; rows of undecodable images are zeros.
        ok: (N,) bool, False for images that could not be decoded.
        cached: True when read from the feature cache (no image was decoded).
        seconds: Wall time, including decoding on a miss.
        key: The feature-cache key.
    """

    features: np.ndarray
    ok: np.ndarray
    cached: bool
    seconds: float
    key: str


def dataset_features(
    model: torch.nn.Module,
    preprocess: Any,
    paths: list[str],
    hashes: list[str],
    *,
    execution: Any = None,
    cache_root: str | Path | None = None,
    use_cache: bool = True,
    batch_size: int | None = None,
    progress: bool = True,
    desc: str = "features",
    weights: str | None = None,
    distributed: bool = False,
) -> Features:
    """Pooled features of image files, from the feature cache or computed and cached.

    Args:
        model: A timm model (its classifier is not used).
        preprocess: The :class:`~graftlab.data.transforms.Preprocess` of every phase.
        paths, hashes: Image files and their content sha256, aligned.
        execution: A ``graftlab.hardware.Execution``; None means fp32 on the CPU.
        cache_root: Cache root (default ``graftlab._paths.cache_dir()``).
        use_cache: Read and write the cache.
        weights: Fingerprint of the backbone weights; computed from the model when None.
        distributed: Every rank of a ``torch.distributed`` run calls this together: rank 0
            reads the cache (or decodes the images) first, the ranks extract a share each,
            and rank 0 writes the entry one process would write (same key, same rows).
    """
    from graftlab.data.image_cache import ImageCache

    start = time.perf_counter()
    execution = as_execution(execution)
    key = feature_key(
        backbone=getattr(model, "graftlab_name", None) or type(model).__name__,
        weights=weights or weights_fingerprint(model),
        preprocess=preprocess.to_dict(),
        hashes=list(hashes),
        precision=execution.describe(),
    )
    cache = FeatureCache(cache_root)
    shared = distributed and dist_world().size > 1
    progress = progress and dist_world().is_main
    # Rank 0 looks first: a corrupt entry is deleted by the one process that finds it.
    entry = cache.load(key) if use_cache and (not shared or is_main()) else None
    if shared and broadcast_object(entry is not None) and entry is None:
        entry = cache.load(key)
    if entry is not None:
        features, meta = entry
        ok = np.asarray(meta.get("ok", [True] * len(features)), dtype=bool)
        return Features(features, ok, True, time.perf_counter() - start, key)
    with main_first() if shared else contextlib.nullcontext():
        images, ok = ImageCache(cache_root).get(paths, hashes, preprocess, progress=progress)
    features = extract_features(
        model,
        images,
        preprocess,
        execution=execution,
        batch_size=batch_size,
        progress=progress,
        desc=desc,
        distributed=shared,
    )
    ok = np.asarray(ok, dtype=bool)
    features[~ok] = 0.0
    if use_cache and (not shared or is_main()):
        cache.save(
            key,
            features,
            {
                "backbone": getattr(model, "graftlab_name", None),
                "precision": execution.describe(),
                "preprocess": preprocess.to_dict(),
                "n": len(paths),
                "ok": ok.tolist(),
            },
        )
    return Features(features, ok, False, time.perf_counter() - start, key)
