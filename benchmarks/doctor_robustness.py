"""The doctor on the same bugs written another way: dev recall under meaning-preserving rewrites.

    python benchmarks/doctor_robustness.py                 # every transformation
    python benchmarks/doctor_robustness.py --only rename   # one (or several, comma-separated)
    python benchmarks/doctor_robustness.py --lost          # also list every cause lost
    python benchmarks/doctor_robustness.py --json out.json

Posts vary in ways that do not change the bug: the names people pick (``rename``), code wrapped
in a ``main()`` or a class (``main``, ``class``), a notebook instead of a file or the reverse
(``notebook``, ``nb2py``), several files pasted as one (``concat``), a model built in a helper
that returns it (``build_model``), the model or every value handed to a training function or
kept as an attribute (``param``, ``params``, ``attr``), Python 2 prints (``py2print``), the
imports left out (``noimports``), and two of these at once. Each transformation rewrites the
code of the dev cases of the real-world corpus (``tests/doctor/realworld``) in one such way, and
the doctor is run on the rewritten case exactly as ``benchmarks/doctor_recall.py`` runs it (its
functions, not a copy): a cause counts as found when its category is reported at ``warning``
or ``error``. Per transformation it prints the dev recall on the cases it applies to, before and
after, and the causes lost; and for the clean dev scripts, every ``error`` and any script with
more than one ``warning`` after the rewrite.

Only cases whose ``case.json`` says ``"split": "dev"`` are opened: the test part is measured by
doctor_recall.py and never rewritten here. A file that does not parse as Python 3 (or a
notebook cell that does not) leaves its case out of the AST rewrites, and a rewrite that does
not apply to a case (no model built at module level, no ``print`` to turn into Python 2) leaves
the case out of that rewrite; the table says how many cases each one covers.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import hashlib
import json
import re
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from doctor_recall import CORPUS, ROOT, load_cases, run_case

#: A case's code: file name -> text (``.py`` source, or ``.ipynb`` JSON).
Files = dict[str, str]

_BUILTINS = set(dir(builtins)) | {"__name__", "__file__", "__doc__", "self", "cls", "_"}


# ---------------------------------------------------------------- reading a case's code


def _code_files(case: dict) -> list[str]:
    return [n for n in case["files"] if n.endswith((".py", ".ipynb"))]


def _cells(text: str) -> list[str] | None:
    """The code cells' sources of a notebook, or None when it is not nbformat 4 JSON."""
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    if not isinstance(doc, dict) or "cells" not in doc:
        return None
    return [
        "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
        for c in doc["cells"]
        if c.get("cell_type") == "code"
    ]


def _with_cells(text: str, sources: list[str]) -> str:
    """The notebook ``text`` with its code cells' sources replaced, in order."""
    doc = json.loads(text)
    it = iter(sources)
    for c in doc["cells"]:
        if c.get("cell_type") == "code":
            c["source"] = next(it).splitlines(keepends=True)
    return json.dumps(doc, indent=1)


def _parse(text: str) -> ast.Module | None:
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError):
        return None


def _modules(files: Files) -> dict[str, list[ast.Module]] | None:
    """Every code file's parsed modules (one per notebook cell), or None if any does not parse."""
    out = {}
    for name, text in files.items():
        sources = _cells(text) if name.endswith(".ipynb") else [text]
        trees = [_parse(s) for s in sources or []]
        if sources is None or any(t is None for t in trees):
            return None
        out[name] = trees
    return out


# ---------------------------------------------------------------- (a) renaming


def _bound_names(tree: ast.AST) -> tuple[set[str], set[str], set[str], set[str]]:
    """(names the code binds, names imports bind, methods, class-body names) of ``tree``."""
    bound: set[str] = set()
    imported: set[str] = set()
    methods: set[str] = set()
    class_level: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            bound.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        elif isinstance(node, ast.alias):
            imported.add((node.asname or node.name).split(".")[0])
        if isinstance(node, ast.ClassDef):
            for st in node.body:
                if isinstance(st, ast.FunctionDef | ast.AsyncFunctionDef):
                    methods.add(st.name)
                for sub in ast.walk(st) if not isinstance(st, ast.FunctionDef) else ():
                    if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                        class_level.add(sub.id)
    return bound, imported, methods, class_level


def _renaming(modules: dict[str, list[ast.Module]]) -> dict[str, str]:
    """old -> new for the user's own identifiers across every file of the case."""
    bound, imported, methods, class_level, user_callables = set(), set(), set(), set(), set()
    for trees in modules.values():
        for tree in trees:
            b, i, m, c = _bound_names(tree)
            bound |= b
            imported |= i
            methods |= m
            class_level |= c
            user_callables |= {
                n.name
                for n in ast.walk(tree)
                if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            }
    local_modules = {Path(n).stem for n in modules}
    # A keyword is renamed only in calls of the user's own functions and classes by name; a
    # parameter also passed by keyword to anything else keeps its name everywhere.
    kept_keywords = set()
    for trees in modules.values():
        for tree in trees:
            for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
                if not (isinstance(call.func, ast.Name) and call.func.id in user_callables):
                    kept_keywords |= {k.arg for k in call.keywords if k.arg}
    keep = imported | methods | class_level | _BUILTINS | kept_keywords | local_modules
    names = sorted(n for n in bound if n not in keep and not n.startswith("__"))
    return {old: f"v{i}" for i, old in enumerate(names)}


class _Rename(ast.NodeTransformer):
    def __init__(
        self, mapping: dict[str, str], local_modules: set[str], params: dict, aliases: set[str]
    ):
        self.mapping = mapping
        self.local_modules = local_modules
        self.module_aliases = aliases  # names that files of the paste are imported as
        self.params = params  # user callable name -> its parameter names

    def _new(self, name: str) -> str:
        return self.mapping.get(name, name)

    def visit_Name(self, node):
        node.id = self._new(node.id)
        return node

    def visit_arg(self, node):
        node.arg = self._new(node.arg)
        self.generic_visit(node)
        return node

    def visit_FunctionDef(self, node):
        node.name = self._new(node.name)
        self.generic_visit(node)
        return node

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node):
        node.name = self._new(node.name)
        self.generic_visit(node)
        return node

    def visit_ExceptHandler(self, node):
        if node.name:
            node.name = self._new(node.name)
        self.generic_visit(node)
        return node

    def visit_Global(self, node):
        node.names = [self._new(n) for n in node.names]
        return node

    visit_Nonlocal = visit_Global

    def visit_Attribute(self, node):
        # `model.model_fn(...)` where `model` is a file of the same paste imported as a module
        if isinstance(node.value, ast.Name) and node.value.id in self.module_aliases:
            node.attr = self._new(node.attr)
        self.generic_visit(node)
        return node

    def visit_ImportFrom(self, node):
        # `from model import Net` where model.py is a file of the same paste: Net is the user's
        if node.module and _local(node.module, self.local_modules):
            for a in node.names:
                a.name = self._new(a.name)
                a.asname = a.asname and self._new(a.asname)
        return node

    def visit_Call(self, node):
        if isinstance(node.func, ast.Name) and node.func.id in self.params:
            for k in node.keywords:
                if k.arg in self.params[node.func.id]:
                    k.arg = self._new(k.arg)
        self.generic_visit(node)
        return node


def rename(files: Files) -> Files | None:
    """(a) Every identifier the user chose (variables, functions, classes, parameters) renamed
    ``v0``, ``v1``... consistently across the files; library names, attributes, methods that
    override a library's, keyword arguments of library calls and strings are left alone."""
    modules = _modules(files)
    if modules is None:
        return None
    mapping = _renaming(modules)
    if not mapping:
        return None
    params: dict[str, set[str]] = {}
    for trees in modules.values():
        for tree in trees:
            for n in ast.walk(tree):
                if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef):
                    params.setdefault(n.name, set()).update(a.arg for a in _all_args(n.args))
                elif isinstance(n, ast.ClassDef):
                    for st in n.body:
                        if isinstance(st, ast.FunctionDef) and st.name == "__init__":
                            params.setdefault(n.name, set()).update(
                                a.arg for a in _all_args(st.args)
                            )
    stems = {Path(n).stem for n in files}
    aliases = {
        a.asname or a.name
        for trees in modules.values()
        for tree in trees
        for n in ast.walk(tree)
        if isinstance(n, ast.Import)
        for a in n.names
        if _local(a.name, stems) and (a.asname or "." not in a.name)
    }
    renamer = _Rename(mapping, stems, params, aliases)
    out = {}
    for name, trees in modules.items():
        new = [ast.unparse(renamer.visit(t)) for t in trees]
        out[name] = _with_cells(files[name], new) if name.endswith(".ipynb") else new[0] + "\n"
    return out


def _all_args(a: ast.arguments) -> list[ast.arg]:
    return [*a.posonlyargs, *a.args, *a.kwonlyargs, *filter(None, [a.vararg, a.kwarg])]


def unparse(files: Files) -> Files | None:
    """The control: each file parsed and written back by ``ast.unparse`` (comments and layout
    go, nothing else changes), so that the other rewrites' losses are theirs."""
    modules = _modules(files)
    if modules is None:
        return None
    out = {}
    for name, trees in modules.items():
        new = [ast.unparse(t) for t in trees]
        out[name] = _with_cells(files[name], new) if name.endswith(".ipynb") else new[0] + "\n"
    return out


# ---------------------------------------------------------------- (b) def main()


def _imported_locally(files: Files) -> set[str]:
    """Files of the paste that another file imports (``from model import Net``)."""
    stems = {Path(n).stem: n for n in files}
    out = set()
    for name, text in files.items():
        tree = _parse(text) if name.endswith(".py") else None
        for n in ast.walk(tree) if tree else ():
            mods = []
            if isinstance(n, ast.ImportFrom) and n.module and not n.level:
                mods = [n.module]
            elif isinstance(n, ast.Import):
                mods = [a.name for a in n.names]
            out |= {stems[_local(m, stems)] for m in mods if _local(m, stems)}
    return out


def _local(module: str, stems) -> str | None:
    """The file stem of the paste that ``module`` names (``trainer.model`` -> ``model``)."""
    parts = module.split(".")
    return next((p for p in (parts[-1], parts[0]) if p in stems), None)


def _py_trees(files: Files) -> dict[str, ast.Module] | None:
    """The ``.py`` files parsed, or None when one does not parse or there are none."""
    py = {n: _parse(t) for n, t in files.items() if n.endswith(".py")}
    if not py or any(t is None for t in py.values()):
        return None
    return py


def wrap_main(files: Files) -> Files | None:
    """(b) Each file's statements (imports stay on top) moved into ``def main():`` followed by
    ``main()``. A file that another file of the paste imports is left as it is; a file with a
    ``global`` statement (whose meaning the move would change) leaves the case out."""
    trees = _py_trees(files)
    if trees is None:
        return None
    imported = _imported_locally(files)
    out = dict(files)
    for name, tree in trees.items():
        if name in imported:
            continue
        if any(isinstance(n, ast.Global | ast.Nonlocal) for n in ast.walk(tree)):
            return None
        head = [s for s in tree.body if isinstance(s, ast.Import | ast.ImportFrom)]
        rest = [s for s in tree.body if not isinstance(s, ast.Import | ast.ImportFrom)]
        if not rest:
            continue
        main = _unused_name(tree, "main")
        tree.body = [
            *head,
            ast.FunctionDef(main, _no_args(), rest, [], None, None),
            ast.Expr(ast.Call(ast.Name(main, ast.Load()), [], [])),
        ]
        out[name] = ast.unparse(ast.fix_missing_locations(tree)) + "\n"
    return None if out == files else out


def wrap_class(files: Files) -> Files | None:
    """(b') As (b), but the statements become the method ``run(self)`` of a class, and the file
    ends with ``Experiment().run()``."""
    wrapped = wrap_main(files)
    if wrapped is None:
        return None
    out = dict(wrapped)
    for name, text in wrapped.items():
        if text == files.get(name) or not name.endswith(".py"):
            continue
        tree = ast.parse(text)
        *head, main, _ = tree.body
        cls = _unused_name(tree, "Experiment")
        main.name = "run"
        main.args = _no_args("self")
        tree.body = [
            *head,
            ast.ClassDef(cls, [], [], [main], []),
            ast.Expr(
                ast.Call(
                    ast.Attribute(ast.Call(ast.Name(cls, ast.Load()), [], []), "run", ast.Load()),
                    [],
                    [],
                )
            ),
        ]
        out[name] = ast.unparse(ast.fix_missing_locations(tree)) + "\n"
    return out


def concatenate(files: Files) -> Files | None:
    """Several ``.py`` files of one post pasted into one file, in their order; imports of one
    file from another (``from model import Net``) go, the names are defined above. A paste that
    imports one of its files as a module (``import model``) is left out."""
    trees = _py_trees(files)
    if trees is None or len(trees) < 2:
        return None
    stems = {Path(n).stem for n in trees}
    parts = []
    for tree in trees.values():
        body = []
        for st in tree.body:
            if isinstance(st, ast.Import) and any(_local(a.name, stems) for a in st.names):
                return None
            if isinstance(st, ast.ImportFrom) and st.module and _local(st.module, stems):
                continue
            body.append(st)
        parts.append(ast.unparse(ast.Module(body, [])))
    out = {n: t for n, t in files.items() if n not in trees}
    out[next(iter(trees))] = "\n\n".join(parts) + "\n"
    return out


def _no_args(*names: str) -> ast.arguments:
    return ast.arguments([], [ast.arg(n) for n in names], None, [], [], None, [])


def _unused_name(tree: ast.AST, want: str) -> str:
    used = {getattr(n, "id", None) or getattr(n, "name", None) for n in ast.walk(tree)}
    used |= {getattr(n, "arg", None) for n in ast.walk(tree)}
    while want in used:
        want += "_"
    return want


# ---------------------------------------------------------------- (c) notebook


def to_notebook(files: Files) -> Files | None:
    """(c) The ``.py`` files of the case as one notebook (``.ipynb`` JSON, no outputs), split
    into code cells at the blank lines between top-level statements; each file starts a cell.
    The source text is kept as written (comments included)."""
    trees = _py_trees(files)
    if trees is None:
        return None
    cells: list[str] = []
    for name, tree in trees.items():
        lines = files[name].split("\n")
        cut = 0
        for prev, st in zip(tree.body, tree.body[1:], strict=False):
            start = min([st.lineno, *(d.lineno for d in getattr(st, "decorator_list", []))])
            between = lines[prev.end_lineno : start - 1]
            if any(not ln.strip() for ln in between):
                cells.append("\n".join(lines[cut : start - 1]).strip("\n"))
                cut = start - 1
        cells.append("\n".join(lines[cut:]).strip("\n"))
    doc = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "metadata": {},
                "outputs": [],
                "source": c.splitlines(keepends=True),
            }
            for c in cells
            if c.strip()
        ],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    out = {n: t for n, t in files.items() if n not in trees}
    out[Path(next(iter(trees))).stem + ".ipynb"] = json.dumps(doc, indent=1)
    return out


def from_notebook(files: Files) -> Files | None:
    """(c') The reverse of (c): a notebook's code cells pasted one after another as a ``.py``
    file (cell magics and shell lines kept as they are), its saved outputs left out."""
    out = {}
    for name, text in files.items():
        cells = _cells(text) if name.endswith(".ipynb") else None
        if cells is None:
            out[name] = text
            continue
        out[str(Path(name).with_suffix(".py"))] = "\n\n".join(c.strip("\n") for c in cells) + "\n"
    return None if out == files else out


# ---------------------------------------------------------------- (d) build_model()

#: A call of one of these on a name marks it as the model (it is trained, compiled, evaluated).
_MODEL_USES = {
    "compile",
    "fit",
    "fit_generator",
    "train_on_batch",
    "parameters",
    "named_parameters",
    "train",
    "eval",
    "predict",
    "predict_generator",
    "evaluate",
    "evaluate_generator",
    "summary",
    "state_dict",
    "to",
    "cuda",
}


def _names(node: ast.AST, ctx: type) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ctx)}


def _uses_model(st: ast.stmt, name: str) -> bool:
    return any(
        isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and n.func.attr in _MODEL_USES
        and isinstance(n.func.value, ast.Name)
        and n.func.value.id == name
        for n in ast.walk(st)
    )


def _model_at_module_level(tree: ast.Module) -> tuple[str, int] | None:
    """(name, index of the statement that first assigns it) of the first module-level name
    assigned from a call and later compiled, trained, evaluated or moved like a model."""
    body = tree.body
    for k, st in enumerate(body):
        if not (isinstance(st, ast.Assign) and isinstance(st.value, ast.Call)):
            continue
        for target in st.targets:
            if (
                isinstance(target, ast.Name)
                and any(_uses_model(later, target.id) for later in body[k + 1 :])
                and not any(target.id in _names(s, ast.Store) for s in body[:k])
            ):
                return target.id, k
    return None


_PLAIN = ast.Assign | ast.AugAssign | ast.AnnAssign | ast.Expr | ast.For | ast.If | ast.With


def build_model(files: Files) -> Files | None:
    """(d) Where a model is built at module level, its construction (the statements that build
    it and the ones just before that only feed it) moved into ``def build_model(): ... return
    model`` and ``model = build_model()`` in its place. Names the construction defines that the
    rest of the file reads stay module-level through a ``global`` statement."""
    trees = _py_trees(files)
    if trees is None:
        return None
    for name, tree in trees.items():
        found = _model_at_module_level(tree)
        if found is None:
            continue
        model, k = found
        body = tree.body
        block = [k]
        made = _names(body[k], ast.Store)
        for j in range(k + 1, len(body)):  # the model's layers, heads and freezing
            st = body[j]
            if not isinstance(st, _PLAIN) or _uses_model(st, model):
                break
            if not (_names(st, ast.Load) | _names(st, ast.Store)) & (made | {model}):
                break
            block.append(j)
            made |= _names(st, ast.Store)
        read = set().union(*(_names(body[j], ast.Load) for j in block))
        i = k
        while i > 0 and isinstance(body[i - 1], ast.Assign):  # `x = base.output` feeding it
            stores = _names(body[i - 1], ast.Store)
            if not stores or not stores <= read or model in _names(body[i - 1], ast.Load):
                break
            i -= 1
            block.insert(0, i)
            read |= _names(body[i], ast.Load)
            made |= stores
        if any(isinstance(n, ast.Global | ast.Nonlocal) for j in block for n in ast.walk(body[j])):
            return None
        outside = set().union(
            *(_names(st, ast.Load) for j, st in enumerate(body) if j not in block)
        )
        escaping = sorted((made - {model}) & outside)
        func = _unused_name(tree, "build_model")
        stmts = [body[j] for j in block]
        if escaping:
            stmts.insert(0, ast.Global(escaping))
        defn = ast.FunctionDef(
            func, _no_args(), [*stmts, ast.Return(ast.Name(model, ast.Load()))], [], None, None
        )
        call = ast.Assign([ast.Name(model, ast.Store())], ast.Call(ast.Name(func), [], []))
        tree.body = [*body[: block[0]], defn, call, *body[block[-1] + 1 :]]
        return {**files, name: ast.unparse(ast.fix_missing_locations(tree)) + "\n"}
    return None


# ---------------------------------------------------------------- (e) through a parameter


_REFUSED = object()


def _tail_from_model(tree: ast.Module):
    """``(model name, index, statements)``: the code from the first statement that uses the
    module-level model to the end of the file; None without such a model; ``_REFUSED`` when
    moving that code into a function would change its meaning (earlier code reads a name it
    assigns, ``global``/``nonlocal``, ``import *``)."""
    found = _model_at_module_level(tree)
    if found is None:
        return None
    model, k = found
    body = tree.body
    s = next(j for j in range(k + 1, len(body)) if _uses_model(body[j], model))
    moved = body[s:]
    before = set().union(*(_names(st, ast.Load) for st in body[:s]))
    assigned = set().union(*(_names(st, ast.Store) for st in moved))
    if assigned & before or any(
        isinstance(n, ast.Global | ast.Nonlocal)
        or (isinstance(n, ast.ImportFrom) and any(a.name == "*" for a in n.names))
        for st in moved
        for n in ast.walk(st)
    ):
        return _REFUSED
    return model, s, moved


def pass_model(files: Files) -> Files | None:
    """(e) From the first statement that trains, compiles or evaluates the module-level model to
    the end of the file, the code moved into ``def run(net): ...`` with the model as its
    parameter, and ``run(model)``. Left out when earlier functions read a name that the moved
    code assigns (their meaning would change)."""
    trees = _py_trees(files)
    if trees is None:
        return None
    for name, tree in trees.items():
        tail = _tail_from_model(tree)
        if tail is None:
            continue
        if tail is _REFUSED:
            return None
        model, s, moved = tail
        body = tree.body
        param = _unused_name(tree, "net")
        for st in moved:
            for n in ast.walk(st):
                if isinstance(n, ast.Name) and n.id == model:
                    n.id = param
        func = _unused_name(tree, "run")
        defn = ast.FunctionDef(func, _no_args(param), moved, [], None, None)
        call = ast.Expr(ast.Call(ast.Name(func, ast.Load()), [ast.Name(model, ast.Load())], []))
        tree.body = [*body[:s], defn, call]
        return {**files, name: ast.unparse(ast.fix_missing_locations(tree)) + "\n"}
    return None


def model_attribute(files: Files) -> Files | None:
    """(e') The module-level model kept as an attribute of an object (``run.model``, where
    ``run = types.SimpleNamespace()``) everywhere it is used. Left out when a function has a
    parameter or a local variable of the model's name."""
    trees = _py_trees(files)
    if trees is None:
        return None
    for name, tree in trees.items():
        found = _model_at_module_level(tree)
        if found is None:
            continue
        model = found[0]
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                local = {a.arg for a in _all_args(fn.args)}
                body = fn.body if isinstance(fn.body, list) else [fn.body]
                local |= set().union(*(_names(st, ast.Store) for st in body))
                if model in local:
                    return None
        holder = _unused_name(tree, "run")
        for n in ast.walk(tree):
            for field_name, value in ast.iter_fields(n):
                if isinstance(value, list):
                    for i, v in enumerate(value):
                        if isinstance(v, ast.Name) and v.id == model:
                            value[i] = ast.Attribute(ast.Name(holder, ast.Load()), model, v.ctx)
                elif isinstance(value, ast.Name) and value.id == model:
                    setattr(
                        n, field_name, ast.Attribute(ast.Name(holder, ast.Load()), model, value.ctx)
                    )
        k = max(
            (
                i + 1
                for i, st in enumerate(tree.body)
                if isinstance(st, ast.Import | ast.ImportFrom)
            ),
            default=0,
        )
        tree.body[k:k] = ast.parse(f"import types\n{holder} = types.SimpleNamespace()").body
        return {**files, name: ast.unparse(ast.fix_missing_locations(tree)) + "\n"}
    return None


def drop_imports(files: Files) -> Files | None:
    """(g) The paste as a fragment: every ``import`` line left out (people paste the part they
    think matters), the rest of the text unchanged."""
    trees = _py_trees(files)
    if trees is None:
        return None
    out = dict(files)
    for name, tree in trees.items():
        lines = files[name].split("\n")
        gone = {
            i
            for st in ast.walk(tree)
            if isinstance(st, ast.Import | ast.ImportFrom)
            for i in range(st.lineno - 1, st.end_lineno)
        }
        if gone:
            # an import inside a block becomes `pass` so that the block stays valid
            out[name] = "\n".join(
                ln[: len(ln) - len(ln.lstrip())] + "pass"
                if i in gone and ln.startswith(" ")
                else ("" if i in gone else ln)
                for i, ln in enumerate(lines)
            )
    return None if out == files else out


def pass_values(files: Files) -> Files | None:
    """(e'') As (e), but every module-level value the moved code reads (the model, loaders,
    optimizer, loss, sizes) is handed in as a parameter named ``a0``, ``a1``... in the
    function, so each one reaches the training code only through a parameter."""
    trees = _py_trees(files)
    if trees is None:
        return None
    for name, tree in trees.items():
        tail = _tail_from_model(tree)
        if tail is None:
            continue
        if tail is _REFUSED:
            return None
        model, s, moved = tail
        body = tree.body
        data = set().union(
            *(
                _names(st, ast.Store)
                for st in body[:s]
                if isinstance(st, ast.Assign | ast.AnnAssign | ast.AugAssign | ast.For | ast.With)
            )
        )
        read = set().union(*(_names(st, ast.Load) for st in moved))
        # a name the moved code assigns before reading stays local to it
        assigned = set().union(*(_names(st, ast.Store) for st in moved))
        handed = sorted((read & data) - assigned)
        if model not in handed:
            return None
        params = {old: _unused_name(tree, f"a{i}") for i, old in enumerate(handed)}
        for st in moved:
            for n in ast.walk(st):
                if isinstance(n, ast.Name) and n.id in params:
                    n.id = params[n.id]
        func = _unused_name(tree, "run")
        defn = ast.FunctionDef(func, _no_args(*params.values()), moved, [], None, None)
        call = ast.Expr(
            ast.Call(ast.Name(func, ast.Load()), [ast.Name(h, ast.Load()) for h in handed], [])
        )
        tree.body = [*body[:s], defn, call]
        return {**files, name: ast.unparse(ast.fix_missing_locations(tree)) + "\n"}
    return None


# ---------------------------------------------------------------- (f) Python 2 prints

_PRINT_CALL = re.compile(r"print\((.*)\)$")


def python2_prints(files: Files) -> Files | None:
    """(f) Every one-line ``print(a, b)`` statement written as Python 2's ``print a, b`` (the
    file no longer parses as Python 3; the rest of the text is unchanged)."""
    trees = _py_trees(files)
    if trees is None:
        return None
    out = dict(files)
    for name, tree in trees.items():
        lines = files[name].split("\n")
        for n in ast.walk(tree):
            if not (
                isinstance(n, ast.Expr)
                and isinstance(n.value, ast.Call)
                and isinstance(n.value.func, ast.Name)
                and n.value.func.id == "print"
                and not n.value.keywords
                and n.value.args
                and not any(isinstance(a, ast.Starred) for a in n.value.args)
                and n.lineno == n.end_lineno
            ):
                continue
            line = lines[n.lineno - 1]
            text = line[n.col_offset : n.end_col_offset]
            if not _PRINT_CALL.match(text) or line[n.end_col_offset :].strip():
                continue
            args = ", ".join(ast.get_source_segment(files[name], a) or "" for a in n.value.args)
            lines[n.lineno - 1] = line[: n.col_offset] + "print " + args
        out[name] = "\n".join(lines)
    return None if out == files else out


def _both(first: Callable, second: Callable) -> Callable[[Files], Files | None]:
    def both(files: Files) -> Files | None:
        once = first(files)
        return second(once) if once is not None else None

    both.__doc__ = f"{first.__name__} then {second.__name__}"
    return both


TRANSFORMS: dict[str, Callable[[Files], Files | None]] = {
    "unparse": unparse,
    "rename": rename,
    "main": wrap_main,
    "class": wrap_class,
    "concat": concatenate,
    "notebook": to_notebook,
    "nb2py": from_notebook,
    "build_model": build_model,
    "param": pass_model,
    "params": pass_values,
    "attr": model_attribute,
    "py2print": python2_prints,
    "noimports": drop_imports,
    # two at once, as a post may differ in both ways
    "rename+main": _both(rename, wrap_main),
    "rename+notebook": _both(rename, to_notebook),
    "build_model+param": _both(build_model, pass_model),
}


# ---------------------------------------------------------------- running


@dataclass
class Outcome:
    """One transformation over the dev cases: what it covered, found and lost."""

    name: str
    cases: int = 0
    causes: int = 0
    found_before: int = 0
    found_after: int = 0
    skipped: int = 0
    lost: list[tuple[str, str]] = field(default_factory=list)
    gained: list[tuple[str, str]] = field(default_factory=list)
    clean_scripts: int = 0
    clean_noisy: list[tuple[str, int, int, list[str]]] = field(default_factory=list)

    @property
    def recall_before(self) -> float:
        return self.found_before / self.causes if self.causes else 0.0

    @property
    def recall_after(self) -> float:
        return self.found_after / self.causes if self.causes else 0.0


def dev_script_cases(root: Path = CORPUS, ids: set[str] | None = None) -> list[tuple[Path, dict]]:
    """The dev cases and clean dev scripts that hold code; test cases are never returned."""
    out = []
    for folder, case in load_cases(root):
        if case.get("split") != "dev" or not _code_files(case):
            continue
        if ids is None or case["id"] in ids:
            out.append((folder, case))
    return out


def pinned_sample(root: Path = CORPUS) -> list[tuple[Path, dict]]:
    """The fixed sample tests/doctor/test_robustness.py pins: about a third of
    :func:`dev_script_cases`, chosen by the sha1 of each case's id, so a case added to the corpus
    joins the sample or not by itself and never moves others in or out (an every-third slice
    of the sorted cases shifted with each round of new cases)."""
    return [(f, c) for f, c in dev_script_cases(root) if _in_sample(c["id"])]


def _in_sample(case_id: str) -> bool:
    return int(hashlib.sha1(case_id.encode()).hexdigest(), 16) % 3 == 1


def transformed(folder: Path, case: dict, fn: Callable, into: Path) -> tuple[Path, dict] | None:
    """The case rewritten by ``fn`` into the folder ``into``, or None when it does not apply."""
    files = {n: (folder / n).read_text("utf-8", errors="replace") for n in _code_files(case)}
    new = fn(files)
    if new is None:
        return None
    into.mkdir(parents=True, exist_ok=True)
    order = [n for n in case["files"] if n not in files]  # logs and configs, unchanged
    for n in order:
        (into / n).parent.mkdir(parents=True, exist_ok=True)
        (into / n).write_bytes((folder / n).read_bytes())
    for n, text in new.items():
        (into / n).parent.mkdir(parents=True, exist_ok=True)
        (into / n).write_text(text, "utf-8")
    return into, {**case, "files": [*new, *order]}


def measure(
    cases: list[tuple[Path, dict]], names: list[str], workdir: Path
) -> tuple[list[Outcome], dict[str, object]]:
    """Every transformation of ``names`` over ``cases``; also the untransformed results."""
    base = {case["id"]: run_case(folder, case) for folder, case in cases}
    outcomes = []
    for name in names:
        o = Outcome(name)
        for folder, case in cases:
            got = transformed(folder, case, TRANSFORMS[name], workdir / name / case["id"])
            if got is None:
                o.skipped += 1
                continue
            r = run_case(*got)
            before = base[case["id"]]
            if r.clean:
                o.clean_scripts += 1
                if r.errors or len(r.warnings) > 1:
                    titles = [f"{c} {t}" for c, _, t in r.errors + r.warnings]
                    o.clean_noisy.append((r.id, len(r.errors), len(r.warnings), titles))
                continue
            o.cases += 1
            o.causes += len(r.labels)
            o.found_before += len(before.hits)
            o.found_after += len(r.hits)
            o.lost += [(r.id, c) for c in before.hits if c not in r.hits]
            o.gained += [(r.id, c) for c in r.hits if c not in before.hits]
        outcomes.append(o)
    return outcomes, base


def report(outcomes: list[Outcome], *, lost: bool) -> str:
    lines = [
        f"{'transformation':<18}{'cases':>6}{'skipped':>8}{'recall before':>15}"
        f"{'after':>7}{'lost':>6}{'gained':>7}{'clean':>7}{'noisy':>6}"
    ]
    for o in outcomes:
        lines.append(
            f"{o.name:<18}{o.cases:>6}{o.skipped:>8}{o.recall_before:>15.3f}"
            f"{o.recall_after:>7.3f}{len(o.lost):>6}{len(o.gained):>7}"
            f"{o.clean_scripts:>7}{len(o.clean_noisy):>6}"
        )
    lines.append(
        "(recall on the dev cases each rewrite applies to, untransformed vs rewritten; clean: "
        "dev clean scripts rewritten; noisy: of those, with an error or more than one warning)"
    )
    for o in outcomes:
        for cid, n_err, n_warn, titles in o.clean_noisy:
            lines.append(f"  {o.name}: clean {cid}: {n_err} errors, {n_warn} warnings")
            lines += [f"      {t}" for t in titles]
    if lost:
        for o in outcomes:
            for cid, c in o.lost:
                lines.append(f"  {o.name}: lost {cid}: {c}")
            for cid, c in o.gained:
                lines.append(f"  {o.name}: gained {cid}: {c}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated transformations: " + ", ".join(TRANSFORMS))
    parser.add_argument("--lost", action="store_true", help="list every cause lost or gained")
    parser.add_argument("--json", metavar="PATH", help="also write the numbers as JSON")
    args = parser.parse_args(argv)
    names = args.only.split(",") if args.only else list(TRANSFORMS)
    unknown = [n for n in names if n not in TRANSFORMS]
    if unknown:
        parser.error(f"unknown transformation {unknown[0]!r}; choose from {', '.join(TRANSFORMS)}")
    sys.path.insert(0, str(ROOT / "src"))
    with tempfile.TemporaryDirectory(prefix="graftlab-robust-") as tmp:
        outcomes, _ = measure(dev_script_cases(), names, Path(tmp))
    print(report(outcomes, lost=args.lost))
    if args.json:
        data = {
            o.name: {
                "cases": o.cases,
                "skipped": o.skipped,
                "recall_before": o.recall_before,
                "recall_after": o.recall_after,
                "lost": o.lost,
                "gained": o.gained,
                "clean_scripts": o.clean_scripts,
                "clean_noisy": o.clean_noisy,
            }
            for o in outcomes
        }
        Path(args.json).write_text(json.dumps(data, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
