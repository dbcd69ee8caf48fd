"""Where graftlab keeps its cache and its run directories."""

from __future__ import annotations

import os
import re
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
