"""Keep freed activation memory in the process between forward passes (glibc only).

PyTorch's CPU allocator is plain ``malloc``. glibc serves a block above its mmap threshold
from fresh pages of the kernel and returns them on ``free``, and it trims the top of the heap
once more than a threshold is free there. A forward pass allocates and frees every
activation of every batch, so the next batch gets new pages, which the kernel zero-fills one
page fault at a time: tf_efficientnet_lite0 at 112 px in bf16 faults about 680 times per
image, a third of the extraction's CPU time (4,249 Fashion-MNIST images on one core: 17.4
and 18.8 CPU s as glibc does it, 11.7 and 13.0 s with freed blocks kept; the features are
bit-identical). PyTorch's performance guide gets the same from jemalloc or tcmalloc, which
need ``LD_PRELOAD`` before the process starts; ``mallopt`` does it from inside.

The setting is process-wide and stays: glibc has no call that gives its adaptive threshold
back, and a later training or prediction pass gains the same way. What it costs is memory
the process keeps after a pass instead of returning it (up to ``KEEP_BYTES`` free at the top
of the heap; 40-60 MB more peak RSS in the measurement above).
"""

from __future__ import annotations

import ctypes
import functools
import logging
import os

logger = logging.getLogger(__name__)

#: Blocks up to this size are served from (and freed back to) the heap, and up to this much
#: free memory stays at its top. Above every activation of the CPU batches graftlab runs
#: (lite0's largest at 112 px and batch 64 is 13 MB in bf16; 103 MB at 224 px in fp32).
KEEP_BYTES = 256 << 20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's malloc.h


@functools.cache
def keep_freed_memory() -> bool:
    """Set glibc's mmap and trim thresholds to :data:`KEEP_BYTES`, once per process.

    Returns whether they were set (False off glibc, e.g. macOS, Windows, musl).
    """
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc"):
            return False
        libc = ctypes.CDLL("libc.so.6")
        done = bool(libc.mallopt(_M_MMAP_THRESHOLD, KEEP_BYTES)) and bool(
            libc.mallopt(_M_TRIM_THRESHOLD, KEEP_BYTES)
        )
    except (ValueError, OSError, AttributeError):  # not glibc: leave malloc as it is
        return False
    logger.debug("malloc keeps freed blocks up to %d MB for reuse: %s", KEEP_BYTES >> 20, done)
    return done
