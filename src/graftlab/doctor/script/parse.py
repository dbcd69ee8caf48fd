"""Read a script, a notebook or a pasted fragment into one AST, repairing what does not parse.

People paste what they have: ``.py`` files, notebooks exported with ``!pip`` and ``%matplotlib``
lines, ``.ipynb`` JSON, Python 2 leftovers, half a function. The doctor analyses what it can and
says what it left out, instead of refusing the whole file.
"""

from __future__ import annotations

import ast
import itertools
import json
import re
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

from graftlab.errors import DataError

# An IPython line: shell escape, line/cell magic, help (``obj?``) or ``x = !cmd``.
_MAGIC = re.compile(r"^(\s*)(?:!(?!=)|%%?[A-Za-z]|\?\??\w)")
_HELP = re.compile(r"^(\s*)[\w.]+\?\??\s*$")
_SHELL_ASSIGN = re.compile(r"^(\s*)([\w.,\s]+?)\s*=\s*(?:!|%[A-Za-z])")
_MAX_REPAIRS = 200
#: Code beyond this many characters is not analysed (a real training script is far shorter;
#: the data-flow analysis grows faster than linearly with the number of statements).
MAX_CODE_CHARS = 200_000
#: Repairing a pathological file stops after this much CPU time and leaves the rest out. CPU
#: time, not the wall clock, as the checks' budget: a file's findings must not depend on how
#: loaded the machine is (at load 5 on 2 cores a nested-expression paste lost its findings).
_PARSE_BUDGET_S = 3.0


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
    #: For several files read as one program: (first line, file name) of each file.
    parts: list[tuple[int, str]] = field(default_factory=list)
    #: Python 2 lines read as their Python 3 equivalent (``print x`` → ``print(x)``).
    converted: list[int] = field(default_factory=list)
    #: For notebooks, the text the code cells printed (outputs saved with the notebook).
    outputs: list[str] = field(default_factory=list)

    def printed(self) -> list[str]:
        """Text the script printed, as far as the paste shows it: a notebook's saved outputs,
        and lines that were left out because they are not code (a log pasted with it)."""
        return [*self.outputs, *(self.line(n) for n in self.dropped)]

    def line(self, lineno: int) -> str:
        """The source line ``lineno`` as written, stripped."""
        if 1 <= lineno <= len(self.lines):
            return self.lines[lineno - 1].strip()
        return ""

    def where(self, lineno: int) -> str:
        """``file:line``; for notebooks ``file#cellN:line`` with the line inside the cell."""
        if self.parts:
            start, name = max((p for p in self.parts if p[0] <= lineno), default=self.parts[0])
            return f"{name}:{lineno - start + 1}"
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
    if isinstance(path_or_source, list | tuple):
        return load_sources(path_or_source)
    text, name = _read(path_or_source)
    name = filename or name
    cells = (
        _notebook_cells(text) if name.endswith(".ipynb") or text.lstrip().startswith("{") else None
    )
    if cells is None:
        return _parse_text(text, name)
    src = _parse_cells(cells, name)
    src.outputs = _notebook_outputs(text)
    return src


def load_sources(paths: list[str | Path] | tuple[str | Path, ...]) -> Source:
    """Several ``.py`` files of one post (``train.py`` + ``model.py``) as one program, in the
    order given, so values are followed across them; evidence names each file and its own
    line numbers. Each file is parsed on its own (one broken file does not hide the others).

    Raises:
        DataError: A path does not exist or cannot be read, or is a notebook.
    """
    lines: list[str] = []
    body: list[ast.stmt] = []
    dropped: list[int] = []
    converted: list[int] = []
    parts: list[tuple[int, str]] = []
    budget = MAX_CODE_CHARS
    cut: int | None = None
    for path in paths:
        text, name = _read(Path(path))
        if name.endswith(".ipynb"):
            raise DataError(f"{name}: pass notebooks one at a time, not with other files.")
        offset = len(lines)
        parts.append((offset + 1, name))
        file_lines = text.split("\n")
        lines.extend(file_lines)
        if cut is not None or _looks_binary(text):
            continue
        code, file_cut = _bounded_code(file_lines, budget)
        budget -= len(code)
        tree, bad = _parse_repairing(code)
        ast.increment_lineno(tree, offset)
        body.extend(tree.body)
        dropped.extend(n + offset for n in bad)
        converted.extend(n + offset for n in _converted_lines(code, bad))
        if file_cut is not None:
            cut = offset + file_cut
    name = " + ".join(n for _, n in parts)
    src = Source(name, lines, ast.Module(body=body, type_ignores=[]), dropped=dropped, parts=parts)
    src.converted = converted
    _note_dropped(src)
    _note_cut(src, cut, len(lines))
    _note_empty(src, notebook=False)
    return src


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


def _notebook_outputs(text: str) -> list[str]:
    """The text outputs saved with a notebook's code cells (streams and plain-text results),
    at most 200 kB of them."""
    try:
        doc = json.loads(text)
    except ValueError:
        return []
    cells = doc.get("cells") if isinstance(doc, dict) else None
    if cells is None and isinstance(doc, dict):
        cells = [c for ws in doc.get("worksheets", []) for c in ws.get("cells", [])]
    out: list[str] = []
    size = 0
    for cell in cells or []:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        for o in cell.get("outputs", []) or []:
            if not isinstance(o, dict):
                continue
            part = o.get("text") or (o.get("data") or {}).get("text/plain") or ""
            part = "".join(part) if isinstance(part, list) else str(part)
            size += len(part)
            if size > 200_000:
                return out
            out.extend(part.splitlines())
    return out


_PY2_PRINT = re.compile(r"^(\s*)print(?:\s+(?![\s(=.,)\[])(.*?)|\s*)(\s*#.*)?$")
_PY2_EXCEPT = re.compile(r"^(\s*except\s+[\w.]+|\s*except\s*\([^)]*\))\s*,\s*(\w+)\s*:")


def _python2(text: str) -> str:
    """Python 2 statements rewritten as Python 3 on the same lines: ``print x, y`` →
    ``print(x, y)``, ``except E, e:`` → ``except E as e:``, ``print >>f, x`` → ``print(x)``."""
    out = []
    for line in text.split("\n"):
        m = _PY2_PRINT.match(line)
        if m:
            args = (m.group(2) or "").rstrip().rstrip(",")
            if args.startswith(">>"):  # print >>sys.stderr, x
                args = args.split(",", 1)[1].strip() if "," in args else ""
            line = f"{m.group(1)}print({args})"
        else:
            line = _PY2_EXCEPT.sub(r"\1 as \2:", line)
        out.append(line)
    return "\n".join(out)


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
    if _looks_binary(text):
        src = Source(name, [], ast.Module(body=[], type_ignores=[]))
        src.notes.append("This is not a text file (it holds binary data); no checks ran.")
        return src
    code, cut = _bounded_code(lines)
    tree, dropped = _parse_repairing(code)
    src = Source(name, lines, tree, dropped=dropped, converted=_converted_lines(code, dropped))
    _note_dropped(src)
    _note_cut(src, cut, len(lines))
    _note_empty(src, notebook=False)
    return src


def _parse_cells(cells: list[tuple[int, str]], name: str) -> Source:
    lines: list[str] = []
    starts: list[int] = []
    body: list[ast.stmt] = []
    dropped: list[int] = []
    converted: list[int] = []
    cut: int | None = None
    budget = MAX_CODE_CHARS
    for _, cell in cells:
        offset = len(lines)
        starts.append(offset + 1)
        cell_lines = cell.split("\n")
        lines.extend(cell_lines)
        if cut is not None:
            continue
        code, cell_cut = _bounded_code(cell_lines, budget)
        budget -= len(code)
        tree, cell_dropped = _parse_repairing(code)
        ast.increment_lineno(tree, offset)
        body.extend(tree.body)
        dropped.extend(d + offset for d in cell_dropped)
        converted.extend(d + offset for d in _converted_lines(code, cell_dropped))
        if cell_cut is not None:
            cut = offset + cell_cut
    module = ast.Module(body=body, type_ignores=[])
    src = Source(name, lines, module, starts, [n for n, _ in cells], dropped)
    src.converted = converted
    _note_dropped(src)
    _note_cut(src, cut, len(lines))
    _note_empty(src, notebook=True)
    return src


def _looks_binary(text: str) -> bool:
    head = text[:8192]
    return "\x00" in head or head.count("\ufffd") > max(8, len(head) // 100)


def _bounded_code(lines: list[str], budget: int | None = None) -> tuple[str, int | None]:
    """The first lines that fit in ``budget`` characters (default :data:`MAX_CODE_CHARS`),
    and how many lines were kept when the text was cut (None when it was not)."""
    budget = MAX_CODE_CHARS if budget is None else budget
    total = 0
    for k, line in enumerate(lines):
        total += len(line) + 1
        if total > budget:
            return "\n".join(lines[:k]), k
    return "\n".join(lines), None


def _note_empty(src: Source, notebook: bool) -> None:
    if src.tree.body or src.notes:
        return
    if notebook and not src.cell_starts:
        src.notes.append("The notebook has no code cells; no checks ran.")
    else:
        src.notes.append("The file holds no Python statements; no checks ran.")


def _note_cut(src: Source, kept: int | None, total: int) -> None:
    if kept is not None:
        src.notes.append(
            f"The code is longer than the doctor reads ({MAX_CODE_CHARS:,} characters): lines "
            f"1-{kept} of {total} were analysed, the rest was not."
        )


_PARSE_ERRORS = (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError)
# A statement that cannot continue the one before it starts at column 0 with one of these
# keywords excluded (they continue an ``if``/``try`` above them).
_CONTINUATIONS = ("else", "elif", "except", "finally", "case")


def _try_parse(text: str) -> ast.Module | None:
    """The module, or None when ``text`` does not parse (syntax, nesting too deep, null
    bytes)."""
    try:
        return ast.parse(text)
    except _PARSE_ERRORS:
        return None


def _parse_repairing(text: str) -> tuple[ast.Module, list[int]]:
    """Parse ``text``; what does not parse is left out line by line, the rest is kept.

    A fragment copied from inside a function is dedented first. The text is cut into
    top-level blocks (a block starts at a column-0 statement) and each block is parsed on its
    own, so one bad line costs its block a few parses instead of the whole file hundreds, and
    files pasted one after another are read block by block. Line numbers are kept, so evidence
    still points at the user's lines.
    """
    for candidate in (text, _neutralise_ipython(text), _python2(_neutralise_ipython(text))):
        tree = _try_parse(candidate)
        if tree is not None:
            return tree, []
    lines = _dedent(_python2(_neutralise_ipython(text))).replace("\x00", "").split("\n")
    deadline = time.process_time() + _PARSE_BUDGET_S
    blocks = _blocks(lines)
    body: list[ast.stmt] = []
    dropped: list[int] = []
    i = 0
    while i < len(blocks):
        start, end = blocks[i]
        if time.process_time() > deadline:  # out of time: leave the rest out
            dropped.extend(n for n in range(start + 1, len(lines) + 1) if lines[n - 1].strip())
            break
        tree = _try_parse("\n".join(lines[start:end]))
        if tree is None and lines[start][:1] in (" ", "\t"):
            # the first block of a fragment cut from inside a class (``    def forward``),
            # followed by column-0 code: dedent that block alone
            tree = _try_parse(textwrap.dedent("\n".join(lines[start:end])))
        j = i
        # A block may end at a column-0 line inside brackets or a string: try with the next.
        while tree is None and j + 1 < len(blocks) and j - i < 4:
            j += 1
            tree = _try_parse("\n".join(lines[start : blocks[j][1]]))
        if tree is None:
            j = i
            tree, bad = _repair(lines[start:end], deadline)
            dropped.extend(start + n for n in bad)
        ast.increment_lineno(tree, start)
        body.extend(tree.body)
        i = j + 1
    return ast.Module(body=body, type_ignores=[]), sorted(set(dropped))


def _dedent(text: str) -> str:
    """``textwrap.dedent`` that lets comment lines stand at column 0: code copied from inside
    a function is often pasted under a ``# file.py`` comment of the poster's own."""
    lines = text.split("\n")
    code = [ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    width = min((len(ln) - len(ln.lstrip(" ")) for ln in code), default=0)
    if width == 0 or any(ln[:width].strip() for ln in code):
        return textwrap.dedent(text)
    return "\n".join(ln[width:] if not ln[:width].strip() else ln.lstrip() for ln in lines)


def _blocks(lines: list[str]) -> list[tuple[int, int]]:
    """(start, end) line ranges (0-based, end excluded) of the top-level blocks."""
    starts = [0]
    in_string = False
    prev = ""
    for k, line in enumerate(lines):
        opens = line.count('"""') + line.count("'''")
        if k and not in_string and _starts_statement(line, prev):
            starts.append(k)
        in_string ^= opens % 2 == 1
        if line.strip() and not line.lstrip().startswith("#"):
            prev = line
    starts.append(len(lines))
    return [(a, b) for a, b in itertools.pairwise(starts) if a < b]


def _starts_statement(line: str, prev: str) -> bool:
    if not line or line[0] in " \t#)]}" or not line.strip():
        return False
    word = re.match(r"[A-Za-z_]*", line).group(0)
    if word in _CONTINUATIONS:
        return False
    p = prev.rstrip()
    return not (p.startswith("@") or p.endswith(("\\", ",", "(", "[", "{", ":")))


def _repair(lines: list[str], deadline: float) -> tuple[ast.Module, list[int]]:
    """Parse one block, blanking each line a syntax error points at (1-based line numbers of
    what was left out); past the deadline the rest of the block is left out."""
    lines = list(lines)
    dropped: list[int] = []
    for _ in range(min(_MAX_REPAIRS, len(lines) + 1)):
        if time.process_time() > deadline:
            break
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
            # and a body line by ``pass``, so the block around it keeps a body
            lines[lineno - 1] = (
                f"{indent}if True:"
                if bad.rstrip().endswith(":")
                else f"{indent}pass"
                if indent and lineno not in dropped
                else ""
            )
            dropped.append(lineno)
        except _PARSE_ERRORS:  # nesting too deep for the parser: no line to blame
            break
    return ast.Module(body=[], type_ignores=[]), [
        n for n in range(1, len(lines) + 1) if lines[n - 1].strip()
    ]


def _converted_lines(code: str, dropped: list[int]) -> list[int]:
    """Lines (1-based) that were read through :func:`_python2`, when the code as written did
    not parse."""
    if _try_parse(code) is not None or _try_parse(_neutralise_ipython(code)) is not None:
        return []
    gone = set(dropped)
    return [
        n
        for n, line in enumerate(code.split("\n"), 1)
        if n not in gone and line.strip() != "print" and _python2(line) != line
    ]


def _note_dropped(src: Source) -> None:
    if src.converted:
        shown = ", ".join(str(n) for n in src.converted[:8])
        more = " ..." if len(src.converted) > 8 else ""
        src.notes.append(
            f"{len(src.converted)} Python 2 line(s) (print statements, 'except E, e') were read "
            f"as their Python 3 equivalent (lines {shown}{more})."
        )
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
