"""The few exception classes graftlab raises for user mistakes.

Every message says what was wrong, what was found, and what to do. The command line turns a
:class:`GraftlabError` into one line on stderr and exit code 2; anything else is a bug and
keeps its traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class GraftlabError(Exception):
    """Base class of every error caused by input the user can fix."""


class DataError(GraftlabError):
    """A dataset, image file, CSV or manifest cannot be used as given."""


class ImageDecodeError(DataError):
    """One image file cannot be decoded; carries the path and the reason."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


class ConfigError(GraftlabError):
    """An option or argument has a value graftlab cannot use."""


class BackboneError(GraftlabError):
    """A backbone name or its weights cannot be resolved or loaded."""


class ArtifactError(GraftlabError):
    """A saved model, run directory or cache entry is missing, corrupt or of an unknown format."""


def did_you_mean(name: str, choices: Iterable[str], n: int = 3) -> str:
    """Return ``" Did you mean 'a', 'b'?"`` for the closest choices, or ``""`` if none is close."""
    close = difflib.get_close_matches(str(name), [str(c) for c in choices], n=n, cutoff=0.5)
    if not close:
        return ""
    return " Did you mean " + ", ".join(repr(c) for c in close) + "?"


def unknown_name(kind: str, name: str, choices: Iterable[str], hint: str = "") -> ConfigError:
    """Build the error for an unknown registry name, listing the nearest valid names."""
    choices = sorted(choices)
    msg = f"Unknown {kind} {name!r}.{did_you_mean(name, choices)}"
    msg += f" Valid names: {', '.join(choices)}." if len(choices) <= 12 else ""
    return ConfigError(msg + (f" {hint}" if hint else ""))
