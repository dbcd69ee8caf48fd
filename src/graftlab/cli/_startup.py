"""What a command does once per process before its real work: import the heavy libraries
without paying for the garbage collector to walk them again and again.

Importing torch, torchvision (which pulls in torch._dynamo) and timm builds about a million
Python objects that live until the process ends. Each full collection of the cyclic garbage
collector walks all of them: on a 5,000-image ``graftlab train --strategy lp`` it ran eight
times, 0.8 s of CPU (six during the imports, one in the dataset check, one in the report's
matplotlib import), and the interpreter's last collection at exit took another 1.5 s (exit
after importing them: 1.8 s, 0.3 s frozen). Pausing the collector during the imports and then
freezing what they built (:func:`gc.freeze`, CPython's own remedy for long-lived module
state) leaves later collections only the objects the run itself makes. Only the command line
does this: the process is its own, where a library call must not change the caller's
collector.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def heavy_imports() -> Iterator[None]:
    """Import inside this block with the cyclic collector paused; afterwards every object that
    exists is frozen (never collected, never walked again) and the collector is on again."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
