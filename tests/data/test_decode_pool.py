"""decode_rows: many files into a memory-mapped array, in forked processes on Linux."""

from __future__ import annotations

import os
import sys
import time

import numpy as np
import pytest
from PIL import Image

from graftlab.data._decode_pool import PROCESS_MIN_IMAGES, decode_rows
from graftlab.data.transforms import Preprocess

PRE = Preprocess(24, "bilinear", 0.75, "center", (0.5,) * 3, (0.5,) * 3)  # store 32


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """PROCESS_MIN_IMAGES + 9 small PNGs of different colours; number 100 is not an image."""
    root = tmp_path_factory.mktemp("pool")
    paths = []
    for i in range(PROCESS_MIN_IMAGES + 9):
        path = root / f"{i:04d}.png"
        if i == 100:
            path.write_text("not an image")
        else:
            Image.new("RGB", (40, 36 + i % 5), (i % 256, 255 - i % 256, 7)).save(path)
        paths.append(str(path))
    return paths


def _fill(tmp_path, paths, load, workers):
    path = tmp_path / f"rows-{workers}.npy"
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8, shape=(len(paths), 32, 32, 3))
    done, failed = 0, []
    for n, failures in decode_rows(path, out, paths, load, workers):
        done += n
        failed += failures
    return np.load(path), done, sorted(failed)


@pytest.mark.parametrize("workers", [1, 2])
def test_every_row_is_its_file_and_a_bad_file_is_reported(tmp_path, files, workers):
    rows, done, failed = _fill(tmp_path, files, PRE.load, workers)
    assert done == len(files)
    assert [(i, p) for i, p, _ in failed] == [(100, files[100])]
    assert "not an image" in failed[0][2]
    assert not rows[100].any()
    for i in (0, 99, 101, len(files) - 1):
        assert np.array_equal(rows[i], PRE.load(files[i]))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forked workers on Linux only")
def test_large_batches_are_decoded_in_other_processes(tmp_path, files):
    def pid_square(path):  # the square records which process decoded the file
        time.sleep(0.001)  # a chunk lasts longer than a worker takes to start
        pid = os.getpid()
        return np.full((32, 32, 3), [pid & 255, (pid >> 8) & 255, pid >> 16], np.uint8)

    def pids(rows):
        px = rows[:, 0, 0].astype(int)
        return set((px[:, 0] | px[:, 1] << 8 | px[:, 2] << 16).tolist())

    rows, _, _ = _fill(tmp_path, files, pid_square, workers=2)
    assert os.getpid() not in pids(rows)
    assert len(pids(rows)) == 2  # both workers took a share

    few, _, _ = _fill(tmp_path, files[: PROCESS_MIN_IMAGES - 1], pid_square, workers=2)
    assert pids(few) == {os.getpid()}  # threads: too few images for a pool
