"""Which pixel preprocessing a Keras pipeline applies, as a mode of :data:`knowledge.MODES`.

An *op* is one scaling step found in the code (``rescale=1./255``, ``preprocess_input``,
``Rescaling(1/127.5, offset=-1)``, ``x / 255.``). A pipeline's ops combine into one mode:
none → ``raw``, one → its mode, two scalings → ``double``; ``?`` when something cannot be told.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from graftlab.doctor.script.flow import UNKNOWN, CallSite, Event, Program, Ref, canon, last
from graftlab.doctor.script.keras_graph import Flow, KerasScript, Model, preprocess_module
from graftlab.doctor.script.knowledge import PREPROCESS_MODULES

_LOADERS = {
    "load_img",
    "img_to_array",
    "imread",
    "open",
    "read_file",
    "decode_jpeg",
    "decode_image",
    "decode_png",
    "imdecode",
    "array_to_img",
}


@dataclass(frozen=True)
class Op:
    mode: str  # a key of MODES, "raw" for a pass-through, "?" when unknown
    line: int
    what: str  # the code that does it, for messages


def combine(ops: list[Op]) -> str:
    # One step reached along two paths (the data and the model) is still one step.
    unique = {(o.line, o.what): o for o in ops}.values()
    modes = [o.mode for o in unique if o.mode != "raw"]
    if "?" in modes:
        return "?"
    if not modes:
        return "raw"
    return modes[0] if len(modes) == 1 else "double"


def _scale_mode(value) -> str:
    if not isinstance(value, int | float) or value == 0:
        return "?"
    if abs(value * 255 - 1) < 1e-3:
        return "unit"
    if abs(value * 127.5 - 1) < 1e-3:
        return "tf"
    return "?"


class Preprocessing:
    """Finds ops in expressions, functions, generators and models of one script."""

    def __init__(self, prog: Program, ks: KerasScript) -> None:
        self.prog = prog
        self.ks = ks

    def fn_ops(self, node: ast.expr | None, at: Event | Ref, _depth: int = 0) -> list[Op]:
        """Ops of a function reference (``preprocessing_function=...``, ``ds.map(f)``,
        ``ds.map(partial(f, ...))``), following the script's functions it calls."""
        if node is None:
            return []
        if isinstance(node, ast.Lambda):
            return self.expr_ops([Ref(node.body, at.idx, at.scope)])
        if (
            isinstance(node, ast.Call)
            and last(canon(self.prog.qualname(node.func, at.idx, at.scope))) == "partial"
            and node.args
        ):
            return self.fn_ops(node.args[0], at, _depth)
        q = canon(self.prog.qualname(node, at.idx, at.scope))
        if last(q) == "preprocess_input":
            mod = self._module(q)
            return [Op(PREPROCESS_MODULES[mod] if mod else "?", node.lineno, q)]
        if isinstance(node, ast.Name) and node.id in self.prog.functions:
            fn = self.prog.functions[node.id]
            ev = next((e for e in self.prog.events if fn.name in e.funcs), None)
            if ev is None:
                return [Op("?", node.lineno, node.id)]
            feeding = _feeding_values(fn)
            ops = self.expr_ops([r for r in self.prog.body_refs(fn) if id(r.node) in feeding])
            if _alternatives(fn, ops):
                # one scaling per branch (``if mode == 'vgg': return preprocess_input(x)``
                # ``return x / 255.``): which one runs is not known, and they never add up
                return [Op("?", node.lineno, node.id)]
            exprs = [s.value for s in ast.walk(fn) if isinstance(s, ast.Return) and s.value]
            exprs += [s.value for s in ast.walk(fn) if isinstance(s, ast.Assign | ast.AugAssign)]
            exprs = [e for e in exprs if id(e) in feeding]
            if _depth < 3:  # helpers it calls: read_tfrecord -> decode_image
                for e in exprs:
                    for n in ast.walk(e):
                        if (
                            isinstance(n, ast.Call)
                            and isinstance(n.func, ast.Name)
                            and n.func.id in self.prog.functions
                            and n.func.id != fn.name
                        ):
                            ops.extend(self.fn_ops(n.func, ev, _depth + 1))
            return ops
        return [Op("?", node.lineno, q or "?")]

    def _module(self, q: str) -> str | None:
        """The ``keras.applications`` module of a ``preprocess_input``: from its import, or,
        when the paste leaves the import out, the module of the one backbone it builds."""
        mod = preprocess_module(q)
        if mod is None and q == "preprocess_input":
            mods = {a.info.module for a in self.ks.apps}
            mod = mods.pop() if len(mods) == 1 else None
        return mod

    def expr_ops(self, refs: list[Ref]) -> list[Op]:
        """Ops written inside the given expressions (not following names)."""
        ops: list[Op] = []
        seen: set[int] = set()
        for ref in refs:
            todo = [ref.node]
            while todo:
                n = todo.pop()
                if id(n) in seen:
                    continue
                seen.add(id(n))
                if isinstance(n, ast.IfExp) and (alt := self._alternative_ops(n, ref)):
                    ops.append(alt)
                    todo.append(n.test)
                    continue
                op = self._op(n, ref)
                if op is not None:
                    ops.append(op)
                    if isinstance(n, ast.Call) and op.what.endswith("preprocess_input"):
                        todo.extend(n.args)  # preprocess_input(x * 255.0): a step before it
                        continue
                    if isinstance(n, ast.Call):
                        continue  # ``Rescaling(1 / 127.5)`` is one step, not two
                todo.extend(ast.iter_child_nodes(n))
        return sorted(ops, key=lambda o: o.line)

    def _alternative_ops(self, n: ast.IfExp, ref: Ref) -> Op | None:
        """``preprocess_input(x) if pretrained else x / 255.``: one scaling or the other runs,
        never both, and which one is not known here."""
        body = self.expr_ops([Ref(n.body, ref.idx, ref.scope)])
        orelse = self.expr_ops([Ref(n.orelse, ref.idx, ref.scope)])
        if body and orelse:
            return Op("?", n.lineno, ast.unparse(n))
        return None

    def _op(self, n: ast.AST, ref: Ref) -> Op | None:
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Div | ast.Mult):
            v = self.prog.const(n.right, ref.idx, ref.scope)
            if isinstance(n.op, ast.Div) and isinstance(v, int | float) and v:
                v = 1 / v
            mode = _scale_mode(v)
            if mode != "?":
                return Op(mode, n.lineno, ast.unparse(n))
            if isinstance(v, int | float) and v >= 2:
                # ``x * 255`` or ``x * 2``: a scale undone or a range moved (float images back
                # to 0..255 for preprocess_input, [0, 1] to [-1, 1]); how it composes with the
                # other steps is not modelled, so the chain is not judged
                return Op("?", n.lineno, ast.unparse(n))
            return None
        if isinstance(n, ast.Call):
            q = canon(self.prog.qualname(n.func, ref.idx, ref.scope))
            name = last(q)
            if name == "preprocess_input":
                mod = self._module(q)
                mode = PREPROCESS_MODULES[mod] if mod else "?"
                given = next((k.value for k in n.keywords if k.arg == "mode"), None)
                if given is not None:  # imagenet_utils.preprocess_input(x, mode='tf')
                    v = self.prog.const(given, ref.idx, ref.scope)
                    mode = v if v in ("caffe", "tf", "torch") else "?"
                return Op(mode, n.lineno, q)
            if name == "Rescaling":
                scale = self.prog.const(_arg(n, 0, "scale"), ref.idx, ref.scope)
                return Op(_scale_mode(scale), n.lineno, ast.unparse(n))
            if name in ("convert_image_dtype", "img_as_float", "img_as_float32"):
                return Op("unit", n.lineno, ast.unparse(n))
            if name in ("resize", "rescale") and q.startswith("skimage") and not _keeps_range(n):
                # skimage.transform.resize returns floats in [0, 1] unless preserve_range=True
                return Op("unit", n.lineno, ast.unparse(n))
            if name in ("Normalization", "standardize", "per_image_standardization"):
                return Op("?", n.lineno, ast.unparse(n))
        return None

    def datagen_ops(self, datagen: CallSite | None) -> list[Op]:
        if datagen is None:
            return []
        ops = self.fn_ops(datagen.kw("preprocessing_function"), datagen.ev)
        rescale = datagen.kw("rescale")
        if rescale is not None:
            v = self.prog.const(rescale, datagen.ev.idx, datagen.ev.scope)
            if v not in (None, 1, 1.0):
                ops.append(
                    Op(_scale_mode(v), datagen.node.lineno, f"rescale={ast.unparse(rescale)}")
                )
        for k in (
            "featurewise_center",
            "samplewise_center",
            "featurewise_std_normalization",
            "samplewise_std_normalization",
            "zca_whitening",
        ):
            if self.prog.const(datagen.kw(k), datagen.ev.idx, datagen.ev.scope) is True:
                ops.append(Op("?", datagen.node.lineno, k))
        return ops

    def flow_ops(self, flow: Flow) -> list[Op]:
        return self.datagen_ops(flow.datagen)

    def model_ops(self, model: Model | None, _depth: int = 0) -> list[Op]:
        """Ops inside the model (Rescaling layers, preprocess_input on the input tensor)."""
        if model is None or _depth > 3:
            return []
        ops: list[Op] = []
        for layer in model.layers:
            if layer.site is None or layer.kind == "app":
                continue
            site = layer.site
            if layer.kind == "Rescaling":
                scale = self.prog.const(site.arg(0, "scale"), site.ev.idx, site.ev.scope)
                ops.append(Op(_scale_mode(scale), site.node.lineno, ast.unparse(site.node)))
            elif layer.kind == "fn" or layer.kind == "preprocess_input":
                ops.extend(self.expr_ops([Ref(site.node, site.ev.idx, site.ev.scope)]))
            elif layer.kind == "Lambda":
                fn = site.arg(0, "function")
                if fn is not None and self.prog.const(fn, site.ev.idx, site.ev.scope) is None:
                    continue  # ``if prep: x = Lambda(prep)(x)`` with prep=None: not applied
                ops.extend(self.fn_ops(fn, site.ev))
            elif layer.kind in ("Normalization",):
                ops.append(Op("?", site.node.lineno, "Normalization"))
            elif layer.kind in ("model", "Sequential"):
                inner = next((m for m in self.ks.models if m.site.node is site.node), None)
                ops.extend(self.model_ops(inner, _depth + 1))
        return ops

    def data_ops(self, node: ast.expr | None, at: Event | Ref) -> list[Op] | None:
        """Ops applied to arrays or a ``tf.data`` pipeline outside any generator; None when
        ``node`` comes from an ImageDataGenerator flow (use :meth:`flow_ops`)."""
        if node is None:
            return []
        if self.ks.flow_of(node, at) is not None and self._is_generator(node, at):
            return None
        if isinstance(node, ast.Name) and self.prog.lookup(node.id, at.idx, at.scope) is None:
            # arrays made in code not shown: their preprocessing is unknown, not absent
            return [Op("?", node.lineno, node.id)]
        refs = self.prog.deps(node, at)
        # batches drawn from a generator (``for x, y in gen``, ``next(gen)``) carry its
        # ImageDataGenerator's steps, which are keywords, not expressions
        datagens = {id(c.node): c for c in self.prog.calls if c.name == "ImageDataGenerator"}
        ops = self.expr_ops([r for r in refs if id(r.node) not in datagens])
        for ref in refs:
            if id(ref.node) in datagens:
                ops.extend(self.datagen_ops(datagens[id(ref.node)]))
        for ref in refs:  # ds.map(fn): the function's ops
            for n in ast.walk(ref.node):
                if (
                    isinstance(n, ast.Call)
                    and isinstance(n.func, ast.Attribute)
                    and n.func.attr == "map"
                    and n.args
                    and not isinstance(n.args[0], ast.Lambda)
                ):
                    ops.extend(self.fn_ops(n.args[0], ref))
        return ops

    def _is_generator(self, node: ast.expr, at: Event | Ref) -> bool:
        flow = self.ks.flow_of(node, at)
        return flow is not None and flow.datagen is not None

    def loads_images(self, node: ast.expr, at: Event | Ref) -> int:
        """First line where ``node``'s value is read from an image file, or 0."""
        lines = []
        for ref in self.prog.deps(node, at):
            for n in ast.walk(ref.node):
                if isinstance(n, ast.Call):
                    q = canon(self.prog.qualname(n.func, ref.idx, ref.scope))
                    if last(q) in _LOADERS and (last(q) != "open" or "Image" in q):
                        lines.append(n.lineno)
        return min(lines, default=0)


def _alternatives(fn: ast.FunctionDef | ast.AsyncFunctionDef, ops: list[Op]) -> bool:
    """Whether two scaling steps of ``fn`` lie on paths that exclude each other: different
    branches of one ``if``, or different ``return`` statements."""
    paths: dict[int, tuple] = {}

    def visit(stmts: list[ast.stmt], path: tuple) -> None:
        for k, st in enumerate(stmts):
            here = (*path, ("ret", id(st))) if isinstance(st, ast.Return) else path
            for line in range(st.lineno, (st.end_lineno or st.lineno) + 1):
                paths[line] = here
            if isinstance(st, ast.If):
                visit(st.body, (*path, (id(st), "body")))
                visit(st.orelse, (*path, (id(st), "else")))
                if st.body and isinstance(st.body[-1], ast.Return):  # early return: the rest
                    visit(stmts[k + 1 :], (*path, (id(st), "else")))  # is the other branch
                    return
            elif isinstance(st, ast.For | ast.While | ast.With | ast.Try):
                visit(getattr(st, "body", []), path)

    visit(fn.body, ())
    scaled = [paths.get(o.line) for o in ops if o.mode not in ("raw", "?")]
    for i, a in enumerate(scaled):
        for b in scaled[i + 1 :]:
            if a is None or b is None or a == b:
                continue
            for x, y in zip(a, b, strict=False):
                if x != y and (x[0] == y[0] or (x[0] == "ret" and y[0] == "ret")):
                    return True
    return False


def _feeding_values(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> set[int]:
    """Ids of the values of ``fn``'s statements that reach what it returns: the returns, and
    the assignments (and calls that may change a value in place) to the names they read, and
    to the names those read. A scaling of another value (``shown = img / 255.`` for a plot)
    is not applied to the image the function returns. Every value when ``fn`` returns none."""
    stmts = [
        s for s in ast.walk(fn) if isinstance(s, ast.Assign | ast.AugAssign | ast.Return | ast.Expr)
    ]
    returns = [s for s in stmts if isinstance(s, ast.Return) and s.value is not None]
    if not returns:
        return {id(s.value) for s in stmts if s.value is not None}
    needed = {n.id for r in returns for n in ast.walk(r.value) if isinstance(n, ast.Name)}
    keep = {id(r.value) for r in returns}
    grew = True
    while grew:
        grew = False
        for st in stmts:
            if id(st.value) in keep or isinstance(st, ast.Return):
                continue
            targets = [st.target] if isinstance(st, ast.AugAssign) else getattr(st, "targets", [])
            names = {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
            if isinstance(st, ast.Expr):  # np.clip(x, 0, 1, out=x), x.div_(255); not a plot
                names = _changed_in_place(st.value)
            if names & needed:
                keep.add(id(st.value))
                needed |= {n.id for n in ast.walk(st.value) if isinstance(n, ast.Name)}
                grew = True
    return keep


def _changed_in_place(value: ast.expr) -> set[str]:
    if not isinstance(value, ast.Call):
        return set()
    out = next((k.value for k in value.keywords if k.arg == "out"), None)
    if isinstance(out, ast.Name):
        return {out.id}
    fn = value.func
    if isinstance(fn, ast.Attribute) and fn.attr.endswith("_") and isinstance(fn.value, ast.Name):
        return {fn.value.id}
    return set()


def _keeps_range(call: ast.Call) -> bool:
    kw = next((k.value for k in call.keywords if k.arg == "preserve_range"), None)
    return isinstance(kw, ast.Constant) and kw.value is True


def _arg(call: ast.Call, pos: int, name: str) -> ast.expr | None:
    for k in call.keywords:
        if k.arg == name:
            return k.value
    return call.args[pos] if len(call.args) > pos else None


__all__ = ["UNKNOWN", "Op", "Preprocessing", "combine"]
