"""verify_files: every file decoded and hashed once, on processes for many files."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from _kit import make_image_tree

from graftlab.data import verify
from graftlab.data.dataset import ImageInfo


def _files(tmp_path: Path, per_class: int) -> list[str]:
    root = make_image_tree(tmp_path / "data", {"": per_class})
    bad = root / "cat" / "truncated.png"
    bad.write_bytes((root / "cat" / "0.png").read_bytes()[:60])
    return sorted(str(p) for p in root.rglob("*.png"))


@pytest.mark.parametrize("workers", [1, 2])
def test_good_files_hashed_and_bad_ones_reported_by_path(tmp_path, workers, monkeypatch):
    monkeypatch.setattr(verify, "PROCESS_MIN_IMAGES", 8)  # workers=2: the process pool
    paths = _files(tmp_path, per_class=5)
    good, bad = verify.verify_files(paths, progress=False, workers=workers)
    assert [p for p, _ in bad] == [p for p in paths if p.endswith("truncated.png")]
    assert bad[0][1]  # a reason a user can read
    assert set(good) == set(paths) - {bad[0][0]}
    for path, (sha, info) in good.items():
        assert sha == hashlib.sha256(Path(path).read_bytes()).hexdigest()
        assert info == ImageInfo(width=48, height=40, mode="RGB")


def test_processes_and_threads_give_the_same_answer(tmp_path, monkeypatch):
    paths = _files(tmp_path, per_class=30)  # more than one chunk of rows
    monkeypatch.setattr(verify, "PROCESS_MIN_IMAGES", 8)
    in_processes = verify.verify_files(paths, progress=False, workers=2)
    monkeypatch.setattr(verify, "PROCESS_MIN_IMAGES", 10**9)
    in_threads = verify.verify_files(paths, progress=False, workers=2)
    assert in_processes == in_threads
    assert len(in_processes[0]) == len(paths) - 1


def test_two_checks_at_once_in_threads_keep_their_own_files(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    a = _files(tmp_path / "a", per_class=3)
    b = sorted(str(p) for p in make_image_tree(tmp_path / "b", {"": 4}, seed=1).rglob("*.png"))
    with ThreadPoolExecutor(2) as pool:
        got_a, got_b = pool.map(lambda ps: verify.verify_files(ps, progress=False), [a, b])
    assert set(got_a[0]) | {p for p, _ in got_a[1]} == set(a)
    assert set(got_b[0]) == set(b) and not got_b[1]
    for path, (sha, _) in {**got_a[0], **got_b[0]}.items():
        assert sha == hashlib.sha256(Path(path).read_bytes()).hexdigest()
