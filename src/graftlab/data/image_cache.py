"""Decoded images, kept on disk as one uint8 array per (dataset, preprocessing) pair.

Decoding and resizing a JPEG costs far more than a forward pass of a small backbone on the
stored square, so each image is decoded once: :meth:`ImageCache.get` returns a read-only
memory map ``(N, S, S, 3)`` that epochs, feature extraction and evaluation all read.

An entry lives in ``<cache>/images/<key>/``: ``images.npy`` (written under a temporary name and
renamed) and ``meta.json`` (written last: an entry without it is incomplete). The meta holds
the shape, the file size and checksums of a few rows, so a truncated or damaged entry is
detected and rebuilt instead of feeding garbage to a model.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from graftlab._io import check_array_entry, checked_rows, row_sha, stable_hash, write_json
from graftlab._paths import cache_dir
from graftlab.data._decode_pool import decode_rows, default_workers
from graftlab.data.transforms import JPEG_REDUCING_GAP, Preprocess
from graftlab.errors import ConfigError

logger = logging.getLogger("graftlab.data")

_FORMAT = 2  # bump when the stored layout or the resize code changes (2: JPEG draft decoding)


class ImageCache:
    """Decode each image once per preprocessing and share the result between runs.

    Args:
        cache_root: Root of the graftlab cache; ``None`` uses ``graftlab._paths.cache_dir()``.
        workers: Decoding processes on Linux (threads elsewhere, and for fewer than
            ``PROCESS_MIN_IMAGES`` images); ``None`` uses the cores available, at most 8.
    """

    def __init__(self, cache_root: str | os.PathLike | None = None, workers: int | None = None):
        self.cache_root = cache_root
        self.workers = workers

    def key(self, hashes: Sequence[str], preprocess: Preprocess) -> str:
        """The entry name: the file hashes plus every setting that changes the stored squares."""
        load = {
            "store_size": preprocess.store_size,
            "interpolation": preprocess.interpolation,
            "crop_mode": preprocess.crop_mode,
            # The centre square is placed relative to the final crop (see Preprocess.load).
            "input_size": preprocess.input_size,
            "jpeg_reducing_gap": JPEG_REDUCING_GAP,
        }
        if preprocess.crop_mode == "border":  # padding is filled with the mean colour
            load["mean"] = list(preprocess.mean)
        return stable_hash({"format": _FORMAT, "hashes": list(hashes), "load": load})[:32]

    def entry_dir(self, hashes: Sequence[str], preprocess: Preprocess) -> Path:
        return cache_dir(self.cache_root) / "images" / self.key(hashes, preprocess)

    def get(
        self,
        paths: Sequence[str | os.PathLike],
        hashes: Sequence[str],
        preprocess: Preprocess,
        progress: bool = True,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return the decoded squares of ``paths`` and a mask of the images that decoded.

        Args:
            paths: Image files, in dataset order.
            hashes: The sha256 of each file (``Dataset.hashes()``): the cache key, so an edited
                file is decoded again.
            preprocess: Decides the stored size and resampling.
            progress: Show a progress bar while decoding.

        Returns:
            ``(images, ok)``: a read-only ``np.memmap`` ``(N, S, S, 3)`` uint8 (rows of
            undecodable images are zeros) and a bool array ``(N,)``. Undecodable files are
            reported in a warning with their paths.
        """
        paths = [str(p) for p in paths]
        hashes = [str(h) for h in hashes]
        if len(paths) != len(hashes):
            raise ConfigError(
                f"ImageCache.get needs one hash per path. Got {len(paths)} paths and "
                f"{len(hashes)} hashes."
            )
        s = preprocess.store_size
        if not paths:
            return np.zeros((0, s, s, 3), np.uint8), np.zeros(0, bool)
        entry = self.entry_dir(hashes, preprocess)
        problem = _check_entry(entry, len(paths), s)
        if problem is None:
            meta = json.loads((entry / "meta.json").read_text())
            logger.info("Decoded images reused from %s.", entry)
        else:
            if problem != "absent":
                warnings.warn(
                    f"Image cache entry {entry} is {problem}; rebuilding it.", stacklevel=2
                )
            meta = self._build(entry, paths, preprocess, progress)
        ok = np.ones(len(paths), dtype=bool)
        failed = meta.get("failed", [])
        for i, _, _ in failed:
            ok[i] = False
        if failed:
            listed = "; ".join(f"{p}: {r}" for _, p, r in failed[:5])
            more = f"; ... {len(failed) - 5} more" if len(failed) > 5 else ""
            warnings.warn(
                f"{len(failed)} of {len(paths)} images could not be decoded and are masked "
                f"out: {listed}{more}",
                stacklevel=2,
            )
        return np.load(entry / "images.npy", mmap_mode="r"), ok

    def _build(self, entry: Path, paths: list[str], pre: Preprocess, progress: bool) -> dict:
        entry.mkdir(parents=True, exist_ok=True)
        n, s = len(paths), pre.store_size
        started = time.perf_counter()
        fd, tmp_name = tempfile.mkstemp(prefix=".images.", suffix=".npy.tmp", dir=entry)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=(n, s, s, 3))
            workers = self.workers or default_workers()
            failed = _fill(out, tmp, paths, pre, workers, progress)
            out.flush()
            checksums = {str(i): row_sha(out[i]) for i in checked_rows(n)}
            del out
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, entry / "images.npy")
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        meta = {
            "format": _FORMAT,
            "count": n,
            "shape": [n, s, s, 3],
            "dtype": "uint8",
            "file_size": (entry / "images.npy").stat().st_size,
            "row_sha256": checksums,
            "failed": [list(f) for f in failed],
            "preprocess": pre.to_dict(),
            "seconds": round(time.perf_counter() - started, 3),
        }
        write_json(entry / "meta.json", meta)  # written last: its presence marks a complete entry
        logger.info("Decoded %d images in %.1f s into %s.", n, meta["seconds"], entry)
        return meta


def _fill(
    out: np.ndarray,
    out_path: Path,
    paths: list[str],
    pre: Preprocess,
    workers: int,
    progress: bool,
) -> list[tuple[int, str, str]]:
    """Decode ``paths`` into the rows of ``out`` (the map of ``out_path``); return the failures."""
    failed: list[tuple[int, str, str]] = []
    bar = tqdm(total=len(paths), desc="Decoding images", unit="img", disable=not progress)
    with bar:
        for done, failures in decode_rows(out_path, out, paths, pre.load, workers):
            failed += failures
            bar.update(done)
    return sorted(failed)


def _check_entry(entry: Path, n: int, s: int) -> str | None:
    """None when ``entry`` is complete and intact, else what is wrong with it."""
    return check_array_entry(entry, "images.npy", _FORMAT, (n, s, s, 3), "uint8")
