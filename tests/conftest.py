"""Test-wide settings: nothing downloads, everything is small and on the CPU."""

import os

# Set before timm / huggingface_hub are imported anywhere: a test that tries the network fails.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Each test session gets its own graftlab cache so tests never see a user's cache."""
    monkeypatch.setenv("GRAFTLAB_CACHE", str(tmp_path_factory.getbasetemp() / "graftlab-cache"))
