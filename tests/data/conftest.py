"""Fixtures for the data tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from _kit import make_class_tree


@pytest.fixture
def class_tree(tmp_path: Path) -> Callable[..., Path]:
    """Factory: ``class_tree({"cat": 10, "dog": 10}, sub="data")`` → the tree's root."""

    def make(counts: dict[str, int], sub: str = "data") -> Path:
        return make_class_tree(tmp_path / sub, counts)

    return make
