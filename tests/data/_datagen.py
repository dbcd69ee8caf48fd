"""Tiny generated images and dataset trees for the data tests (imported by the tests)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

# A distinct colour per class so a mixed-up label would show in decoded pixels.
_COLOURS = [(200, 30, 30), (30, 200, 30), (30, 30, 200), (200, 200, 30), (30, 200, 200)]


def save_image(path: Path, size: tuple[int, int] = (8, 6), colour=(128, 64, 32), **kw) -> Path:
    """Write a small RGB image to ``path`` (format from the extension)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path, **kw)
    return path


def make_class_tree(root: Path, counts: dict[str, int], ext: str = ".png") -> Path:
    """``root/<class>/<i>.png`` with ``counts[class]`` images per class."""
    for k, (name, n) in enumerate(counts.items()):
        for i in range(n):
            save_image(root / name / f"{i:03d}{ext}", colour=_COLOURS[k % len(_COLOURS)])
    return root
