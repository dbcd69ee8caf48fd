"""What ``graftlab doctor`` is given, read safely, and diagnosed together.

A target is a script, a notebook, a log, a paste holding code and log, a graftlab run directory
or any folder (a repository: every script, notebook and log in it). Input is untrusted: empty,
binary and unreadable files get a one-line :class:`DataError`, long files are read in part, and
findings of several targets given together that name one cause are merged
(:mod:`graftlab.doctor.combine`); the files of a walked folder stay apart.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

from graftlab.doctor._labelfile import names_file_order
from graftlab.doctor._logmerge import is_tensorboard_export, merge_exports
from graftlab.doctor._logruns import run_kind
from graftlab.doctor.combine import merge_targets
from graftlab.doctor.findings import Finding
from graftlab.doctor.link import cite_rates, rank_gap_causes
from graftlab.errors import DataError

#: Read at most this much of one file; the analysers bound themselves further.
MAX_READ_BYTES = 16_000_000
#: A folder walk skips files larger than this: data, checkpoints, not what people write.
MAX_WALK_BYTES = 5_000_000
#: Folders a walk never enters.
SKIP_DIRS = frozenset(
    {".git", ".hg", ".svn", "__pycache__", ".venv", "venv", "env", ".env", "node_modules",
     ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".ipynb_checkpoints",
     "site-packages", "dist", "build", ".eggs"}
)  # fmt: skip
SCRIPT_SUFFIXES = (".py", ".ipynb")
LOG_SUFFIXES = (".log", ".txt", ".csv", ".tsv", ".out")

# Line starts are matched with [ \t]*, not \s*: under re.M, \s* runs on over the newlines
# from every line start, quadratic in a run of blank lines (20,000 took 19 s).
_CODE = re.compile(
    r"^[ \t]*(?:import \w|from [\w.]+ import |def \w+\(|class \w+|\w+(?:\.\w+)*\.(?:fit|compile|"
    r"add|train|eval|backward|step)\(|\w+ = \w+(?:\.\w+)*\()",
    re.M,
)
_FRAME = re.compile(r'^[ \t]*File "[^"\n]*", line \d+.*\n.*$', re.M)
_LOG = re.compile(
    r"^[ \t]*Epoch \d+\s*/\s*\d+|\s-\s+(?:val_)?loss: [\d.]+(?:e-?\d+)?|loss[=:]\s*[\d.]+",
    re.M | re.I,
)


def read_bytes(path: Path) -> bytes:
    """The file's first :data:`MAX_READ_BYTES`, refusing what cannot be a script or a log."""
    if not path.exists():
        raise DataError(f"No such file or directory: {str(path)!r}.")
    if not path.is_file():
        raise DataError(f"{str(path)!r} is not a regular file.")
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_READ_BYTES)
    except OSError as exc:
        raise DataError(f"{str(path)!r} cannot be read ({exc.strerror}).") from None
    if not data.strip():
        raise DataError(f"{str(path)!r} is empty: nothing to diagnose.")
    if is_binary(data):
        raise DataError(f"{str(path)!r} is a binary file, not a script, notebook or training log.")
    return data


def is_binary(data: bytes) -> bool:
    """NUL bytes or many control characters in the first 8 KB (UTF-16 logs have a BOM)."""
    head = data[:8192]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    if b"\x00" in head:
        return True
    controls = sum(b < 32 and b not in b"\t\n\r\f\b\x1b" for b in head)
    return controls > len(head) // 20


def decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    return data.decode("utf-8-sig", errors="replace")


def diagnose_file(path: Path, framework: str = "auto", text: str | None = None) -> list[Finding]:
    """The findings of one file, whatever it holds (script, notebook, log, or code and log)."""
    if text is None:
        text = decode(read_bytes(path))
    if path.suffix.lower() == ".ipynb":
        return _notebook(path, text, framework)
    code = _is_code(path, text)
    findings = _script(path) if code else []
    seen = _reported(findings)
    if _has_log(path, text):  # a paste can hold both
        try:
            findings += _log(path, framework)
        except DataError:
            if not code:
                raise
    sources = [path] if code else []
    return cite_rates(rank_gap_causes(findings, sources, seen), sources)


def _reported(findings: Sequence[Finding]) -> list[str]:
    """Categories a script's findings report at warning or error: evidence for a log's
    ranked causes."""
    return [f.category for f in findings if f.severity != "info"]


def _is_code(path: Path, text: str) -> bool:
    suffix = path.suffix.lower()
    if suffix == ".py":
        return True
    # A traceback quotes the code of each frame: those lines are log, not a paste of code.
    head = _FRAME.sub("", text[:200_000])
    return suffix != ".ipynb" and len(_CODE.findall(head)) >= 2


def _has_log(path: Path, text: str) -> bool:
    return path.suffix.lower() not in SCRIPT_SUFFIXES or bool(_LOG.search(text))


def _log(path: Path, framework: str) -> list[Finding]:
    from graftlab.doctor.logs import check_log

    return check_log(path, framework=framework)  # the path: an export's metric is in its name


def _exports(
    paths: list[Path], framework: str, unread: list[tuple[str, DataError]]
) -> list[tuple[str, list[Finding]]]:
    """Several TensorBoard scalar exports of one run, checked as one table; an export with no
    rows goes to ``unread``."""
    from graftlab.doctor._logparse import parse_log
    from graftlab.doctor.logs import check_log

    parsed = []
    for path in paths:
        try:
            parsed.append((path, parse_log(path)))
        except DataError as exc:
            unread.append((str(path), exc))
    if not parsed:
        return []
    name = " + ".join(str(p) for p, _ in parsed)
    return [(name, check_log(merge_exports(parsed), framework=framework))]


def _script(path: Path) -> list[Finding]:
    from graftlab.doctor.script import check_script

    return list(check_script(path))


def _notebook(path: Path, text: str, framework: str) -> list[Finding]:
    from graftlab.doctor.logs import check_log

    try:
        nb = json.loads(text)
    except ValueError as exc:
        raise DataError(f"{str(path)!r} is not a readable notebook: {exc}.") from None
    cells = nb.get("cells", []) if isinstance(nb, dict) else []
    code = [c for c in cells if isinstance(c, dict) and c.get("cell_type") == "code"]
    source = "".join("".join(c.get("source") or "") for c in code)
    chunks = []
    for cell in code:
        for out in cell.get("outputs") or []:
            out_text = out.get("text") or (out.get("data") or {}).get("text/plain") or ""
            chunks.append("".join(out_text) if isinstance(out_text, list) else str(out_text))
    printed = "\n".join(chunks)
    if not source.strip() and not printed.strip():
        raise DataError(f"{str(path)!r} has no code cells and no output: nothing to diagnose.")
    findings = _script(path) if source.strip() else []
    if printed.strip():
        try:
            logged = check_log(printed + "\n", framework=framework)
        except DataError:
            logged = []
        for f in logged:
            f.evidence = "in the notebook's printed output (lines of the output):\n" + f.evidence
        sources = [path] if source.strip() else []
        logged = rank_gap_causes(logged, sources, _reported(findings))
        findings += cite_rates(logged, sources)
    return findings


def diagnose(
    targets: Sequence[str | os.PathLike], framework: str = "auto"
) -> list[tuple[str, Finding]]:
    """``(target, finding)`` for files and run directories diagnosed together: one finding per
    cause across them (a script and the log of its run).

    The scripts among the targets (``.py`` files, and pastes that are mostly code) are one
    program: a model defined in one file and trained in another is followed across them. The
    logs are read after them; a log without per-epoch metrics becomes an ``info`` note and the
    rest of the diagnosis stands.

    Raises:
        DataError: A lone target cannot be read (among several, an unreadable file becomes an
            ``info`` finding and the others are diagnosed), or a target is a folder that is not
            a run directory (walk it with :func:`scan` instead).
    """
    from graftlab.doctor.logs import check_run

    groups: list[tuple[str, list[Finding]]] = []
    unread: list[tuple[str, DataError]] = []
    texts: dict[Path, str] = {}
    for target in targets:
        path = Path(target)
        if path.is_dir():
            if not is_run_dir(path):
                raise DataError(
                    f"{str(path)!r} is a folder but not a run directory (graftlab, Lightning "
                    "CSVLogger or Trainer output); "
                    "pass it alone to analyse every script, notebook and log in it."
                )
            groups.append((str(path), check_run(path)))
            continue
        try:
            texts[path] = decode(read_bytes(path))
        except DataError as exc:
            if len(targets) == 1:
                raise
            unread.append((str(path), exc))
    if len(targets) == 1 and texts:
        path = next(iter(texts))
        return merge_targets([(str(path), diagnose_file(path, framework, texts[path]))])
    notebooks = [p for p in texts if p.suffix.lower() == ".ipynb"]
    for path in notebooks:
        try:
            groups.append((str(path), _notebook(path, texts[path], framework)))
        except DataError as exc:
            unread.append((str(path), exc))
    scripts = [p for p in texts if p not in notebooks and _is_code(p, texts[p])]
    groups += _program(scripts)
    exports = [p for p in texts if p not in scripts and is_tensorboard_export(texts[p])]
    if len(exports) >= 2:
        groups += _exports(exports, framework, unread)
    for path, text in texts.items():
        if path in notebooks or not _has_log(path, text) or (len(exports) >= 2 and path in exports):
            continue
        try:
            groups.append((str(path), _log(path, framework)))
        except DataError as exc:
            if path not in scripts:
                unread.append((str(path), exc))
        except Exception as exc:  # a reader bug on one log must not hide the rest
            unread.append(
                (
                    str(path),
                    DataError(
                        f"{str(path)!r} could not be read as a training log "
                        f"({type(exc).__name__}: {exc})."
                    ),
                )
            )
    for path, finding in names_file_order({p: t for p, t in texts.items() if p not in notebooks}):
        groups.append((str(path), [finding]))  # a names file is read, not an unreadable log
        unread = [(name, exc) for name, exc in unread if name != str(path)]
    if unread and not groups:
        raise unread[0][1]
    sources = [*scripts, *notebooks]  # a log's divergence cites the rate the scripts set
    names = {str(p) for p in sources}
    seen = [c for name, fs in groups if name in names for c in _reported(fs)]
    groups = [
        (name, cite_rates(rank_gap_causes(fs, sources, seen), sources)) for name, fs in groups
    ]
    for name, exc in unread:  # the other targets still say what they can
        groups.append((name, [_unread(exc)]))
    return merge_targets(groups)


def _program(scripts: list[Path]) -> list[tuple[str, list[Finding]]]:
    """The findings of several scripts read as one program, each under the file its evidence
    starts in. An error whose evidence spans files rests on a link the doctor inferred (that
    the files belong together, that a name means the same object in both): it is a warning."""
    if len(scripts) < 2:
        return [(str(p), _script(p)) for p in scripts]
    from graftlab.doctor.script import check_script

    names = {str(p): p for p in scripts}
    by_file: dict[str, list[Finding]] = {str(p): [] for p in scripts}
    for f in check_script(scripts):
        files = _evidence_files(f.evidence, names)
        if f.severity == "error" and len(files) > 1:
            f = replace(
                f,
                severity="warning",
                explanation=f"{f.explanation}\n\nA warning, not an error: the evidence spans "
                f"{' and '.join(files)}, and that they are one program (the same objects in "
                "both) was inferred.",
            )
        by_file[files[0] if files else str(scripts[0])].append(f)
    return list(by_file.items())  # files without findings too: they were read


def _evidence_files(evidence: str, names: dict[str, Path]) -> list[str]:
    """The files among ``names`` that evidence lines (``file:line: code``) point into, in
    order of first mention."""
    seen: list[str] = []
    for line in evidence.split("\n"):
        head = line.lstrip().split(": ", 1)[0]
        name = head.rsplit(":", 1)[0] if ":" in head else ""
        if name in names and name not in seen:
            seen.append(name)
    return seen


def _unread(exc: DataError) -> Finding:
    from graftlab.doctor._checks import make

    return make(
        "GL420",
        evidence=str(exc),
        explanation="This target was left out; the findings come from the other targets.",
        fix="Pass the training output with its per-epoch lines, or leave this file out.",
    )


#: The ``.py`` files of one directory are read as one program (a package: model.py defines,
#: train.py trains) when there are at most this many and they are this short together; a folder
#: of many unrelated example scripts is checked file by file.
PROGRAM_MAX_FILES = 8
PROGRAM_MAX_BYTES = 200_000


def scan(root: Path, framework: str = "auto") -> Iterator[tuple[Path, list[Finding] | str]]:
    """Every file of :func:`walk` with its findings, or the reason it was skipped. The scripts
    of one directory are one program (see :data:`PROGRAM_MAX_FILES`), each finding listed under
    the file its evidence starts in; other files are checked on their own, and findings of
    different files are not merged."""
    for _, group in itertools.groupby(walk(root), key=lambda p: p.parent):
        paths = list(group)
        program = _program_of(paths)
        done: dict[Path, list[Finding]] = {}
        if program:
            done = {Path(name): fs for name, fs in _program(program)}
        for path in paths:
            try:
                if path in done:
                    found = done[path]
                    text = decode(read_bytes(path))
                    if _has_log(path, text):
                        with contextlib.suppress(DataError):
                            found = found + _log(path, framework)
                    yield path, found
                else:
                    yield path, diagnose_file(path, framework)
            except DataError as exc:
                yield path, str(exc)


def _program_of(paths: list[Path]) -> list[Path]:
    """The readable ``.py`` files of one directory when they are few and short enough to be
    one program, else nothing."""
    scripts = [p for p in paths if p.suffix.lower() == ".py"]
    if not 2 <= len(scripts) <= PROGRAM_MAX_FILES:
        return []
    readable = []
    for p in scripts:
        try:
            read_bytes(p)
        except DataError:
            continue
        readable.append(p)
    if len(readable) < 2 or sum(p.stat().st_size for p in readable) > PROGRAM_MAX_BYTES:
        return []
    return readable


def is_run_dir(path: Path) -> bool:
    """graftlab's run folders, Lightning's CSVLogger versions, a Trainer's output folders."""
    return run_kind(path) is not None


def walk(root: Path) -> Iterator[Path]:
    """Scripts, notebooks and logs under ``root``, in sorted order; skips VCS folders,
    virtual environments, caches, hidden folders and files over :data:`MAX_WALK_BYTES`."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(
            d
            for d in dirnames
            if d not in SKIP_DIRS
            and not d.startswith(".")
            and not (Path(dirpath, d) / "pyvenv.cfg").exists()
        )
        for name in sorted(filenames):
            path = Path(dirpath, name)
            if not name.lower().endswith(SCRIPT_SUFFIXES + LOG_SUFFIXES):
                continue
            try:
                if not path.is_file() or path.stat().st_size > MAX_WALK_BYTES:
                    continue
            except OSError:
                continue
            yield path
