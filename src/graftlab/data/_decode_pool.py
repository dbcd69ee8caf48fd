"""Decode many files into the rows of a memory-mapped array, on every core.

Threads overlap well for large photos (Pillow releases the GIL while it decodes and resizes),
but small images spend most of their time in Python between those calls, so two threads
decode Fashion-MNIST no faster than one. Forked processes do not share a GIL: each opens the
same ``.npy`` file and writes its own rows. Forking is what PyTorch's DataLoader does on Linux;
the children only run Pillow and NumPy, never torch's thread pools. Elsewhere, and for a
few images, threads are used.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from graftlab.errors import ImageDecodeError

#: Below this many images a process pool's start-up (tens of ms) is not worth it.
PROCESS_MIN_IMAGES = 256
#: Images per task sent to a process: large enough that messages cost nothing, small enough
#: for a smooth progress bar and an even share of the work.
CHUNK = 64

Failure = tuple[int, str, str]  # (row, path, reason)
_child: dict = {}  # set in each forked child by _init


def decode_rows(
    array_path: Path,
    out: np.ndarray,
    paths: list[str],
    load: Callable[[str], np.ndarray],
    workers: int,
) -> Iterator[tuple[int, list[Failure]]]:
    """Fill ``out`` (the memory map of ``array_path``) with ``load(path)`` row by row.

    Yields ``(rows done, failures among them)`` as work completes; an undecodable file leaves
    its row zero and is reported as ``(row, path, reason)``.
    """
    chunks = [range(i, min(i + CHUNK, len(paths))) for i in range(0, len(paths), CHUNK)]
    if workers > 1 and len(paths) >= PROCESS_MIN_IMAGES and can_fork():
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(workers, initializer=_init, initargs=(array_path, paths, load)) as pool:
            yield from pool.imap_unordered(_child_chunk, chunks)
        return

    def one(i: int) -> list[Failure]:
        return _decode_into(out, i, paths[i], load)

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for failures in pool.map(one, range(len(paths))):
            yield 1, failures


def default_workers() -> int:
    """The cores this process may run on, at most 8."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(8, cores))


def can_fork() -> bool:
    # macOS lists fork but its system libraries are not fork-safe; Windows has no fork.
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


def _decode_into(
    out: np.ndarray, i: int, path: str, load: Callable[[str], np.ndarray]
) -> list[Failure]:
    try:
        out[i] = load(path)
    except ImageDecodeError as exc:
        out[i] = 0
        return [(i, path, exc.reason)]
    return []


def _init(array_path: Path, paths: list[str], load: Callable[[str], np.ndarray]) -> None:
    _child.update(out=np.load(array_path, mmap_mode="r+"), paths=paths, load=load)


def _child_chunk(rows: range) -> tuple[int, list[Failure]]:
    out, paths, load = _child["out"], _child["paths"], _child["load"]
    # No flush: on Linux, the only place processes are forked, every shared map of a file
    # sees the same page cache, so the parent reads these rows through its own map at once,
    # and its fsync when the entry is complete writes them to disk. A flush per chunk synced
    # the whole map each time (50,000 images at 128 px: 2.4 GB, 660 times).
    return len(rows), [f for i in rows for f in _decode_into(out, i, paths[i], load)]
