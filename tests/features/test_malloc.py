"""keep_freed_memory: freed activation blocks are reused, not faulted in again."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parents[2] / "src")

GLIBC = hasattr(os, "confstr") and "glibc" in (os.confstr("CS_GNU_LIBC_VERSION") or "")

# Ten 8 MB blocks allocated, written and freed per round, as a forward pass does with its
# activations: glibc as it is returns them to the kernel and faults them in again each round.
_PROBE = textwrap.dedent(
    """
    import resource
    import numpy as np
    from graftlab.features._malloc import keep_freed_memory

    def faults_per_round():
        for _ in range(2):
            [np.ones(1 << 20) for _ in range(10)]
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(5):
            [np.ones(1 << 20) for _ in range(10)]
        return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 5

    default = faults_per_round()
    kept = keep_freed_memory()
    print(default, kept, faults_per_round())
    """
)


@pytest.mark.skipif(not GLIBC, reason="the setting exists on glibc only")
def test_freed_blocks_are_reused_without_page_faults():
    out = subprocess.run(
        [sys.executable, "-c", _PROBE],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": SRC},
    ).stdout.split()
    default, kept, after = float(out[0]), out[1], float(out[2])
    assert kept == "True"
    assert default > 1000  # 80 MB a round come back from the kernel page by page
    assert after < 50


def test_set_once_per_process(monkeypatch):
    from graftlab.features import _malloc

    _malloc.keep_freed_memory.cache_clear()
    calls = []
    monkeypatch.setattr(_malloc.ctypes, "CDLL", lambda name: calls.append(name) or _FakeLibc())
    if not GLIBC:
        assert _malloc.keep_freed_memory() is False
        return
    assert _malloc.keep_freed_memory() is True
    assert _malloc.keep_freed_memory() is True
    assert calls == ["libc.so.6"]
    _malloc.keep_freed_memory.cache_clear()


class _FakeLibc:
    def mallopt(self, param, value):
        assert (param, value) in ((-1, 256 << 20), (-3, 256 << 20))
        return 1
