"""Atomic file writes and content hashing: nothing half-written survives a crash."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        # mkstemp creates 0600; a run's files are shared like any other file the user writes.
        os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()


def _umask() -> int:
    """The process umask, read without changing it (os.umask would, for a moment, for every
    thread); Linux reports it in /proc, elsewhere the set-and-restore fallback."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: str | os.PathLike, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def write_json(path: str | os.PathLike, obj: Any) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=_json_default) + "\n")


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def stable_hash(obj: Any) -> str:
    """Hash of a JSON-able object, independent of dict order; used for cache keys."""
    text = json.dumps(obj, sort_keys=True, default=_json_default, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- cached arrays: an .npy beside a meta.json written last, with sampled row checksums ------
CHECKED_ROWS = 8  # rows whose checksum is verified on every reuse (cheap, catches damage)


def checked_rows(n: int) -> list[int]:
    """The rows of an n-row array whose checksums a cache entry stores."""
    return sorted({int(i) for i in np.linspace(0, n - 1, min(n, CHECKED_ROWS))})


def row_sha(row: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(row).tobytes()).hexdigest()


def check_array_entry(
    entry: Path, name: str, fmt: int, shape: tuple[int, ...], dtype: str | None = None
) -> str | None:
    """None when ``entry`` (``meta.json`` + ``name``) is complete and intact, else what is
    wrong with it: absent, another format or shape, truncated, a damaged header or row."""
    meta_path, data_path = entry / "meta.json", entry / name
    if not meta_path.exists():
        return "absent"
    try:
        meta = json.loads(meta_path.read_text())
        if meta.get("format") != fmt or meta.get("shape") != list(shape):
            return "of another format or shape"
        if not data_path.exists() or data_path.stat().st_size != meta["file_size"]:
            return "truncated (file size differs from its meta.json)"
        data = np.load(data_path, mmap_mode="r")
        if data.shape != tuple(shape) or data.dtype.name != (dtype or meta["dtype"]):
            return f"damaged (array header says {data.shape} {data.dtype})"
        for i, sha in meta["row_sha256"].items():
            if row_sha(data[int(i)]) != sha:
                return f"damaged (row {i} checksum differs)"
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return f"unreadable ({type(exc).__name__}: {exc})"
    return None
