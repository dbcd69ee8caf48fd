"""Decode every file once at load time, hashing its bytes in the same read.

A file that fails here is reported by path before any training starts; one that passes is
known to decode, so a data loader never meets a bad file in the middle of an epoch. The pixels
are not kept: the image cache decodes each file once more, at the size the backbone needs.
"""

from __future__ import annotations

import contextlib
import functools
import multiprocessing
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

from PIL import Image
from tqdm.auto import tqdm

from graftlab._io import sha256_bytes
from graftlab.data._decode_pool import CHUNK, PROCESS_MIN_IMAGES, can_fork, default_workers
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
    decoded = decode_bytes(data, path, draft=_smallest, grey=True)  # no RGB copy to build
    w, h = decoded.size
    return sha256_bytes(data), ImageInfo(width=w, height=h, mode=decoded.mode)


def verify_files(
    paths: Sequence[str], *, progress: bool = True, workers: int | None = None
) -> tuple[dict[str, tuple[str, ImageInfo]], list[tuple[str, str]]]:
    """Decode and hash every file, on every core.

    Small images spend most of their time in Python between Pillow's calls, so threads,
    sharing one GIL, checked 7,000 Fashion-MNIST PNGs no faster than one thread did (0.9 s
    against 0.5-0.7 s): from :data:`PROCESS_MIN_IMAGES` files the work goes to forked
    processes, in chunks, as the image cache's decoding does (``_decode_pool``); below it, or
    where fork is unsafe, to threads.

    Args:
        paths: Files to check.
        progress: Show a progress bar (on stderr) when there are many files.
        workers: Processes (or threads); defaults to the cores this process may use, at most 8.

    Returns:
        ``{path: (sha256, info)}`` for the good files and ``[(path, reason), ...]`` for the
        bad ones, sorted by path.
    """
    workers = workers or default_workers()
    good: dict[str, tuple[str, ImageInfo]] = {}
    bad: list[tuple[str, str]] = []
    paths = list(paths)
    chunks = [range(i, min(i + CHUNK, len(paths))) for i in range(0, len(paths), CHUNK)]
    show = progress and len(paths) >= PROGRESS_MIN_FILES
    # decode_bytes refuses oversized images itself; Pillow's own warning for them would only
    # repeat that as noise. The filter is set here, in the calling thread, for it and the
    # threads (warnings.catch_warnings is not safe to enter from several threads at once),
    # and by each process as it starts.
    with (
        warnings.catch_warnings(),
        _pool(workers, paths) as imap,
        tqdm(total=len(paths), desc="Checking images", unit="img", disable=not show) as bar,
    ):
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        for rows in imap(chunks):
            for i, sha, size_mode, reason in rows:
                if size_mode is None:
                    bad.append((paths[i], reason))
                else:
                    good[paths[i]] = (sha, ImageInfo(*size_mode))
            bar.update(len(rows))
    return good, sorted(bad)


#: (row, sha256, (width, height, mode) or None, reason): plain tuples pickle fast.
Checked = tuple[int, str, "tuple[int, int, str] | None", str]
_child_paths: list[str] = []  # the paths a checking process's rows index (set as it starts)


@contextlib.contextmanager
def _pool(workers: int, paths: list[str]) -> Iterator[Callable]:
    """An ordered ``imap(chunks of rows)``: forked processes for many files (they inherit
    ``paths``; only row numbers and results cross), else threads."""
    if workers > 1 and len(paths) >= PROCESS_MIN_IMAGES and can_fork():
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(workers, initializer=_start_child, initargs=(paths,)) as pool:
            yield functools.partial(pool.imap, _child_rows)
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            yield functools.partial(pool.map, functools.partial(_check_rows, paths))


def _start_child(paths: list[str]) -> None:
    _child_paths[:] = paths
    warnings.simplefilter("ignore", Image.DecompressionBombWarning)


def _child_rows(rows: range) -> list[Checked]:
    return _check_rows(_child_paths, rows)


def _check_rows(paths: list[str], rows: range) -> list[Checked]:
    """``(row, sha256, (width, height, mode), "")`` for each good file among ``paths[rows]``,
    ``(row, "", None, reason)`` for each bad one."""
    out: list[Checked] = []
    for i in rows:
        try:
            sha, info = inspect_file(paths[i])
            out.append((i, sha, (info.width, info.height, info.mode), ""))
        except ImageDecodeError as exc:
            out.append((i, "", None, exc.reason))
    return out
