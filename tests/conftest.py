"""Test-wide settings: nothing downloads, everything is small and on the CPU."""

import os

# Set before timm / huggingface_hub are imported anywhere: a test that tries the network fails.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Each test session gets its own graftlab cache and data folder, never the user's."""
    monkeypatch.setenv("GRAFTLAB_CACHE", str(tmp_path_factory.getbasetemp() / "graftlab-cache"))
    monkeypatch.setenv("GRAFTLAB_DATA", str(tmp_path_factory.getbasetemp() / "graftlab-data"))


# -- shared runs and the CLI runner (see _kit.py) -------------------------------------------
@pytest.fixture
def cli(capsys):
    """``cli(*argv) -> (exit code, stdout, stderr)`` through graftlab's real entry point."""
    from _kit import cli_runner

    return cli_runner(capsys)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """A real LP-FT run (``_kit.train_run``) with its report: shared, so treat it as read-only;
    ``run_copy`` gives a copy to change."""
    from _kit import train_run

    return train_run(tmp_path_factory.mktemp("tiny-run"))


@pytest.fixture(scope="session")
def lp_run(tmp_path_factory):
    """A real linear-probe-only run (``--strategy lp``); read-only."""
    from _kit import train_run

    return train_run(tmp_path_factory.mktemp("lp-run"), strategy="lp")


@pytest.fixture
def run_copy(tiny_run, tmp_path):
    """A fresh copy of ``tiny_run`` (with its data) that a test may change or break."""
    from _kit import copy_run

    return copy_run(tiny_run, tmp_path / "copy")
