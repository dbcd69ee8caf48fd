"""One rich Console for the commands: wide enough that piped output is not truncated."""

from __future__ import annotations

import shutil

from rich.console import Console


def console(stderr: bool = False) -> Console:
    """A Console that uses the terminal's width, or 160 columns when output is piped."""
    probe = Console(stderr=stderr)
    if probe.is_terminal:
        return probe
    return Console(stderr=stderr, width=max(160, shutil.get_terminal_size((160, 24)).columns))
