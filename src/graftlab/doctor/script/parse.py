"""Read a script, a notebook or a pasted fragment into one AST, repairing what does not parse.

People paste what they have: ``.py`` files, notebooks exported with ``!pip`` and ``%matplotlib``
lines, ``.ipynb`` JSON, Python 2 leftovers, half a function. The doctor analyses what it can and
says what it left out, instead of refusing the whole file.
"""

from __future__ import annotations

import ast
import json
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from graftlab.errors import DataError

# An IPython line: shell escape, line/cell magic, help (``obj?``) or ``x = !cmd``.
_MAGIC = re.compile(r"^(\s*)(?:!(?!=)|%%?[A-Za-z]|\?\??\w)")
_HELP = re.compile(r"^(\s*)[\w.]+\?\??\s*$")
_SHELL_ASSIGN = re.compile(r"^(\s*)([\w.,\s]+?)\s*=\s*(?:!|%[A-Za-z])")
_MAX_REPAIRS = 200


@dataclass
class Source:
    """The analysed text and how its lines map back to what the user gave.

    Attributes:
        filename: Name used in evidence (``train.py``, ``nb.ipynb``, ``<script>``).
        lines: The lines as written (magics included), 1-based through :meth:`line`.
        tree: The module that was analysed.
        cell_starts: For notebooks, the first line of each code cell (1-based), else empty.
        cell_numbers: For notebooks, each code cell's position among all cells (1-based).
        dropped: Lines that could not be parsed and were left out.
        notes: What was repaired, in words.
    """

    filename: str
    lines: list[str]
    tree: ast.Module
    cell_starts: list[int] = field(default_factory=list)
    cell_numbers: list[int] = field(default_factory=list)
    dropped: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def line(self, lineno: int) -> str:
        """The source line ``lineno`` as written, stripped."""
        if 1 <= lineno <= len(self.lines):
            return self.lines[lineno - 1].strip()
        return ""

    def where(self, lineno: int) -> str:
        """``file:line``; for notebooks ``file#cellN:line`` with the line inside the cell."""
        if not self.cell_starts:
            return f"{self.filename}:{lineno}"
        cell = max((i for i, s in enumerate(self.cell_starts) if s <= lineno), default=0)
        return (
            f"{self.filename}#cell{self.cell_numbers[cell]}:{lineno - self.cell_starts[cell] + 1}"
        )

    def evidence(self, lineno: int) -> str:
        """``file:line: <the source line>``."""
        return f"{self.where(lineno)}: {self.line(lineno)}"


def load_source(path_or_source: str | Path, filename: str | None = None) -> Source:
    """Read a file or take source text, and parse it as far as possible.

    Args:
        path_or_source: A path to a ``.py``/``.ipynb`` file, or the source text itself.
        filename: Name to use in evidence; defaults to the path, or ``<script>`` for text.

    Raises:
        DataError: ``path_or_source`` names a file that does not exist or cannot be read.
    """
    text, name = _read(path_or_source)
    name = filename or name
    cells = (
        _notebook_cells(text) if name.endswith(".ipynb") or text.lstrip().startswith("{") else None
    )
    if cells is None:
        return _parse_text(text, name)
    return _parse_cells(cells, name)


def _read(path_or_source: str | Path) -> tuple[str, str]:
    if isinstance(path_or_source, Path):
        path = path_or_source
    elif _looks_like_path(path_or_source):
        path = Path(path_or_source)
    else:
        return path_or_source, "<script>"
    if path.is_dir():
        raise DataError(f"{path} is a directory. Pass one .py or .ipynb file.")
    if not path.is_file():
        raise DataError(f"{path}: no such script or notebook. Pass a .py/.ipynb path or the code.")
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise DataError(f"{path}: cannot be read ({e.strerror}).") from None
    return raw.decode("utf-8", errors="replace"), str(path)


def _looks_like_path(text: str) -> bool:
    if "\n" in text or len(text) > 1024:
        return False
    if text.strip().endswith((".py", ".ipynb")) and " " not in text.strip():
        return True
    try:
        return Path(text).is_file()
    except (OSError, ValueError):
        return False


def _notebook_cells(text: str) -> list[tuple[int, str]] | None:
    """(position among all cells, source) of the code cells of an ``.ipynb`` document
    (nbformat 3 or 4), or None if ``text`` is not one."""
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    cells = doc.get("cells")
    if cells is None:  # nbformat 3 keeps cells in worksheets and code in "input"
        cells = [c for ws in doc.get("worksheets", []) for c in ws.get("cells", [])]
    out = []
    for i, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        src = cell.get("source", cell.get("input", ""))
        out.append((i, "".join(src) if isinstance(src, list) else str(src)))
    return out


def _neutralise_ipython(text: str) -> str:
    """Replace IPython-only lines by Python with the same line count and indentation."""
    lines = text.split("\n")
    out = []
    in_cell_magic = False
    for i, line in enumerate(lines):
        stripped = line.strip()
        if i == 0 and stripped.startswith("%%"):
            in_cell_magic = not stripped.startswith(("%%time", "%%capture", "%%timeit"))
            out.append("")
            continue
        if in_cell_magic:
            out.append("")
            continue
        m = _SHELL_ASSIGN.match(line)
        if m and not stripped.startswith(("#", "'", '"')) and "==" not in line.split("=")[0]:
            out.append(f"{m.group(1)}{m.group(2).strip()} = None")
        elif _MAGIC.match(line) or _HELP.match(line):
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}pass" if indent else "")
        else:
            out.append(line)
    return "\n".join(out)


def _parse_text(text: str, name: str) -> Source:
    lines = text.split("\n")
    tree, dropped = _parse_repairing(text)
    src = Source(name, lines, tree, dropped=dropped)
    _note_dropped(src)
    return src


def _parse_cells(cells: list[tuple[int, str]], name: str) -> Source:
    lines: list[str] = []
    starts: list[int] = []
    body: list[ast.stmt] = []
    dropped: list[int] = []
    for _, cell in cells:
        offset = len(lines)
        starts.append(offset + 1)
        cell_lines = cell.split("\n")
        lines.extend(cell_lines)
        tree, cell_dropped = _parse_repairing(cell)
        ast.increment_lineno(tree, offset)
        body.extend(tree.body)
        dropped.extend(d + offset for d in cell_dropped)
    module = ast.Module(body=body, type_ignores=[])
    src = Source(name, lines, module, starts, [n for n, _ in cells], dropped)
    _note_dropped(src)
    return src


def _parse_repairing(text: str) -> tuple[ast.Module, list[int]]:
    """Parse ``text``; on a syntax error blank the offending line and try again.

    A fragment copied from inside a function is dedented first. Line numbers are kept, so
    evidence still points at the user's lines.
    """
    for candidate in (text, _neutralise_ipython(text)):
        try:
            return ast.parse(candidate), []
        except (SyntaxError, ValueError):
            pass
    dedented = textwrap.dedent(_neutralise_ipython(text))
    lines = dedented.split("\n")
    dropped: list[int] = []
    for _ in range(min(_MAX_REPAIRS, len(lines) + 1)):
        try:
            return ast.parse("\n".join(lines)), sorted(set(dropped))
        except SyntaxError as e:
            lineno = e.lineno if e.lineno and 1 <= e.lineno <= len(lines) else len(lines)
            while lineno > 1 and not lines[lineno - 1].strip():
                lineno -= 1
            if lineno in dropped and not lines[lineno - 1].strip():
                break
            bad = lines[lineno - 1]
            indent = bad[: len(bad) - len(bad.lstrip())]
            # Keep a block header's body parseable: replace the header by ``if True:``.
            lines[lineno - 1] = f"{indent}if True:" if bad.rstrip().endswith(":") else ""
            dropped.append(lineno)
        except ValueError:  # null bytes
            lines = [ln.replace("\x00", "") for ln in lines]
    return ast.Module(body=[], type_ignores=[]), list(range(1, len(lines) + 1))


def _note_dropped(src: Source) -> None:
    if not src.dropped:
        return
    shown = ", ".join(str(n) for n in src.dropped[:8]) + (" ..." if len(src.dropped) > 8 else "")
    if len(src.dropped) >= max(1, len([ln for ln in src.lines if ln.strip()])):
        src.notes.append("Nothing in this file could be parsed as Python; no checks ran.")
    else:
        src.notes.append(
            f"{len(src.dropped)} line(s) could not be parsed as Python 3 and were left out "
            f"(lines {shown}); the rest of the file was analysed, but a problem on those "
            "lines would be missed."
        )
