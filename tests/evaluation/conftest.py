"""Fixtures for the evaluation tests: one tiny run directory per module (built in seconds)."""

from __future__ import annotations

import pytest
from _tinyrun import make_run


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A run directory (see ``_tinyrun.make_run``); treat it as read-only."""
    return make_run(tmp_path_factory.mktemp("tiny"))
