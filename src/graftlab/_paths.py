"""Where graftlab keeps its cache, its data and its run directories."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path


def cache_dir(override: str | os.PathLike | None = None) -> Path:
    """The cache root: ``override``, else ``$GRAFTLAB_CACHE``, else ``~/.cache/graftlab``."""
    if override:
        return Path(override).expanduser()
    env = os.environ.get("GRAFTLAB_CACHE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "graftlab"


def new_run_dir(
    project: str | os.PathLike = "runs",
    command: str = "train",
    name: str | None = None,
    exist_ok: bool = False,
) -> Path:
    """Create ``project/command/name``, or ``name2``, ``name3``... when taken (ultralytics)."""
    base = Path(project) / command
    name = name or "exp"
    candidate = base / name
    if exist_ok or not candidate.exists():
        candidate.mkdir(parents=True, exist_ok=True)
        return candidate
    stem = re.sub(r"\d+$", "", name) or name
    i = 2
    while (base / f"{stem}{i}").exists():
        i += 1
    candidate = base / f"{stem}{i}"
    candidate.mkdir(parents=True)
    return candidate


#: Marker a failed command leaves in a run directory it keeps (because it holds something
#: worth resuming); its text is the error.
FAILED_MARKER = "FAILED"


@contextlib.contextmanager
def run_dir_for(
    project: str | os.PathLike = "runs",
    command: str = "train",
    name: str | None = None,
    *,
    keep_if: tuple[str, ...] = (),
    path: str | os.PathLike | None = None,
) -> Iterator[Path]:
    """Create a run directory for a command; undo it if the command fails.

    On an exception (Ctrl-C included) the directory is removed when none of the files
    ``keep_if`` (relative paths, e.g. ``"weights/last.pt"``) exist in it, so a failed command
    leaves no ``exp7`` behind; otherwise it is kept, with a ``FAILED`` file holding the error,
    so that ``--resume`` can continue it and nobody mistakes it for a finished run. A
    directory ``path`` given by the caller is never removed if it existed before.

    Usage (``graftlab train``)::

        with run_dir_for(project, "train", name, keep_if=("weights/last.pt",)) as run:
            ...  # write the run
    """
    if path is not None:
        run = Path(path)
        existed = run.exists()
        run.mkdir(parents=True, exist_ok=True)
    else:
        run, existed = new_run_dir(project, command, name), False
    try:
        yield run
    except BaseException as exc:
        undo_run_dir(run, exc, existed=existed, keep_if=keep_if)
        raise
    else:
        finish_run_dir(run)


def undo_run_dir(
    run: Path, exc: BaseException, *, existed: bool, keep_if: tuple[str, ...] = ()
) -> None:
    """After ``exc`` ended a command: remove ``run`` when it is new and holds none of
    ``keep_if``, else mark it with a ``FAILED`` file holding the error (:func:`run_dir_for`)."""
    if not existed and not any((run / f).exists() for f in keep_if):
        shutil.rmtree(run, ignore_errors=True)
    elif run.is_dir():
        with contextlib.suppress(OSError):
            text = f"{type(exc).__name__}: {exc}\n"
            (run / FAILED_MARKER).write_text(text, encoding="utf-8")


def finish_run_dir(run: Path) -> None:
    """A run that finished is no longer FAILED (a resumed one that had been)."""
    with contextlib.suppress(FileNotFoundError):
        (run / FAILED_MARKER).unlink()


def data_dir(override: str | os.PathLike | None = None) -> Path:
    """Where graftlab writes data that runs point to (the demo's PNG folders).

    ``override``, else ``$GRAFTLAB_DATA``, else ``$XDG_DATA_HOME/graftlab``, else
    ``~/.local/share/graftlab``. Not under the cache: ``graftlab cache clear`` must never
    delete images that a run's manifest names.
    """
    if override:
        return Path(override).expanduser()
    env = os.environ.get("GRAFTLAB_DATA")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "graftlab"


#: The kinds of entries under the cache root. Every one can be rebuilt from the images;
#: ``datasets`` is where older versions wrote the demo images (now under :func:`data_dir`).
CACHE_KINDS = ("features", "images", "activations", "execution", "datasets")
#: What ``cache clear`` removes without ``--kind``: runs may still read their images from
#: ``datasets``, so deleting it is only done when asked by name.
CLEARED_BY_DEFAULT = ("features", "images", "activations", "execution")


def cache_usage(root: str | os.PathLike | None = None) -> dict[str, dict[str, int]]:
    """``{kind: {"entries": n, "bytes": b}}`` for each folder of the cache root."""
    base = cache_dir(root)
    usage: dict[str, dict[str, int]] = {}
    if not base.is_dir():
        return usage
    for kind in (base / k for k in CACHE_KINDS):
        if not kind.is_dir():
            continue
        files = [f for f in kind.rglob("*") if f.is_file()]
        usage[kind.name] = {
            "entries": sum(1 for _ in kind.iterdir()),
            "bytes": sum(f.stat().st_size for f in files),
        }
    return usage


def clear_cache(
    root: str | os.PathLike | None = None, kinds: list[str] | None = None
) -> dict[str, int]:
    """Delete the cache folders ``kinds`` (:data:`CLEARED_BY_DEFAULT` when None); bytes freed."""
    base = cache_dir(root)
    wanted = CLEARED_BY_DEFAULT if kinds is None else kinds
    freed: dict[str, int] = {}
    for kind, info in cache_usage(base).items():
        if kind in wanted:
            shutil.rmtree(base / kind, ignore_errors=True)
            freed[kind] = info["bytes"]
    return freed
