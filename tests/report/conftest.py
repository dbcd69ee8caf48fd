"""Fixtures for the report tests: synthetic run directories built by ``_tinyrun``."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

# The run builder lives with the evaluation tests; the report tests share it.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "evaluation"))
from _tinyrun import make_run


@pytest.fixture(scope="session")
def _full_run(tmp_path_factory):
    return make_run(tmp_path_factory.mktemp("report-full"))


@pytest.fixture
def full_run(_full_run, tmp_path):
    """A run directory with every file the report reads; a fresh copy per test."""
    run = tmp_path / "run"
    shutil.copytree(_full_run, run)
    return run
