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


class SetupError(GraftlabError):
    """The environment lacks something graftlab needs: an optional package, a writable folder,
    free disk space."""


def install_hint(extra: str) -> str:
    """The command that installs graftlab's optional ``extra``, as the README installs it."""
    return f'pip install -c constraints.txt -e ".[{extra}]"'


def require_extra(extra: str, modules: Iterable[str], purpose: str) -> None:
    """Raise :class:`SetupError` naming the install command when a module of ``extra`` is
    missing; checked before the work starts, not by a traceback half-way through it."""
    import importlib.util

    missing = []
    for module in modules:
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(module)
    if missing:
        raise SetupError(
            f"{purpose} needs {', '.join(missing)}, from graftlab's optional '{extra}' extra, "
            f"which is not installed. In the graftlab folder: {install_hint(extra)}"
        )


def storage_error(exc: OSError) -> SetupError | None:
    """One line for a folder that cannot be written (read-only, full, not ours), with where
    to point graftlab instead; None for other OS errors, which stay bugs with tracebacks."""
    import errno
    import os
    from pathlib import Path

    codes = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT}
    if exc.errno not in codes:
        return None
    where = Path(str(exc.filename)) if exc.filename else None
    what = exc.strerror or str(exc)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        fix = "Free space there or choose another folder."
    else:
        fix = "Choose a writable folder."
    if where is not None:
        from graftlab._paths import cache_dir, data_dir

        home = Path(os.path.expanduser("~"))
        if _under(where, cache_dir()):
            fix += " The cache: --cache-dir DIR or GRAFTLAB_CACHE=DIR."
        elif _under(where, data_dir()):
            fix += " Demo data: GRAFTLAB_DATA=DIR."
        elif _under(where, home):
            fix += " If HOME is read-only, set GRAFTLAB_CACHE and GRAFTLAB_DATA."
        else:
            fix += " Runs: --project DIR; files: --out FILE."
    return SetupError(f"Cannot write {where or 'a file'}: {what}. {fix}")


def _under(path: object, root: object) -> bool:
    from pathlib import Path

    try:
        return Path(str(path)).absolute().is_relative_to(Path(str(root)).absolute())
    except (OSError, ValueError):
        return False


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
