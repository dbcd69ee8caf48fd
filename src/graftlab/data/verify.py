"""Decode every file once at load time, hashing its bytes in the same read.

A file that fails here is reported by path before any training starts; one that passes is
known to decode, so a data loader never meets a bad file in the middle of an epoch. The pixels
are not kept: the image cache decodes each file once more, at the size the backbone needs.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from PIL import Image
from tqdm.auto import tqdm

from graftlab._io import sha256_bytes
from graftlab.data.dataset import ImageInfo
from graftlab.data.decode import decode_bytes, read_file
from graftlab.errors import ImageDecodeError

# Below this many files the check takes well under a second and a bar is only noise.
PROGRESS_MIN_FILES = 200


def _smallest(size: tuple[int, int]) -> tuple[int, int]:
    return 1, 1


def inspect_file(path: str) -> tuple[str, ImageInfo]:
    """Return ``(sha256, info)`` of one image file after decoding it.

    JPEGs are decoded at 1/8 scale: that still entropy-decodes every byte of the stream, so a
    truncated or corrupt file fails here as it would in full, at a fraction of the cost.

    Raises:
        ImageDecodeError: As :func:`graftlab.data.decode.decode_image`.
    """
    data = read_file(path)
    decoded = decode_bytes(data, path, draft=_smallest)
    w, h = decoded.size
    return sha256_bytes(data), ImageInfo(width=w, height=h, mode=decoded.mode)


def verify_files(
    paths: Sequence[str], *, progress: bool = True, workers: int | None = None
) -> tuple[dict[str, tuple[str, ImageInfo]], list[tuple[str, str]]]:
    """Decode and hash every file on a thread pool.

    Pillow and file reads release the GIL, so threads overlap decoding without the start-up
    cost and pickling of processes.

    Args:
        paths: Files to check.
        progress: Show a progress bar (on stderr) when there are many files.
        workers: Threads; defaults to twice the CPU count, at most 16.

    Returns:
        ``{path: (sha256, info)}`` for the good files and ``[(path, reason), ...]`` for the
        bad ones, sorted by path.
    """
    workers = workers or min(16, 2 * (os.cpu_count() or 1))
    good: dict[str, tuple[str, ImageInfo]] = {}
    bad: list[tuple[str, str]] = []

    def check(path: str) -> tuple[str, tuple[str, ImageInfo] | None, str]:
        try:
            return path, inspect_file(path), ""
        except ImageDecodeError as exc:
            return path, None, exc.reason

    show = progress and len(paths) >= PROGRESS_MIN_FILES
    # decode_bytes refuses oversized images itself; Pillow's own warning for them would only
    # repeat that as noise. The filter is set once here, in the calling thread, because
    # warnings.catch_warnings is not safe to enter from several threads at once.
    with (
        warnings.catch_warnings(),
        ThreadPoolExecutor(max_workers=workers) as pool,
        tqdm(total=len(paths), desc="Checking images", unit="img", disable=not show) as bar,
    ):
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        for path, result, reason in pool.map(check, paths):
            if result is None:
                bad.append((path, reason))
            else:
                good[path] = result
            bar.update(1)
    return good, sorted(bad)
