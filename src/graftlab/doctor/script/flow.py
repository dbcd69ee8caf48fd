"""A small data-flow model of a script: statements in execution order and what names hold.

Scripts people paste are flat or call a few of their own functions (``build_model``,
``train_one_epoch``, ``evaluate``). :class:`Program` walks the statements in the order they
would run, inlining calls to the script's own functions (parameters bound to the arguments),
so ``Dense(num_classes)`` inside ``build_model(num_classes=7)`` resolves to 7 and the
``model.eval()`` inside ``evaluate`` counts where ``evaluate`` is called. Both branches of an
``if`` are walked, loops once. Class bodies are not executed (``nn.Module`` subclasses are
read separately by the PyTorch rules).
"""

from __future__ import annotations

import ast
import os.path
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from graftlab.doctor.script._fold import UNKNOWN, binop, bounded
from graftlab.doctor.script.knowledge import KERAS_APPS, PREPROCESS_MODULES

_MAX_EVENTS = 20_000
_KERAS_PREFIXES = (
    "tensorflow.python.keras.",
    "tensorflow.compat.v1.keras.",
    "tensorflow.compat.v2.keras.",
    "tensorflow.keras.",
    "tf.keras.",
    "keras.src.",
    "tf_keras.",
)


#: What a name means in a paste that leaves its imports out, when nothing in it binds the
#: name: the aliases the libraries' own documentation uses.
CONVENTIONAL_ALIASES = {
    "np": "numpy",
    "tf": "tensorflow",
    "nn": "torch.nn",
    "F": "torch.nn.functional",
    "optim": "torch.optim",
    "K": "keras.backend",
    "pl": "pytorch_lightning",
    "tfds": "tensorflow_datasets",
}

#: Modules a paste without its imports reaches through their usual ``from ... import`` name:
#: ``layers.Dense`` is ``keras.layers.Dense``. ``models`` is Keras's for the Keras model
#: classes and loaders, torchvision's otherwise (``models.resnet50``).
_CONVENTIONAL_MODULES = {
    "keras": "keras",
    "layers": "keras.layers",
    "optimizers": "keras.optimizers",
    "callbacks": "keras.callbacks",
    "applications": "keras.applications",
    "losses": "keras.losses",
    "transforms": "torchvision.transforms",
}
_KERAS_APP_FUNCTIONS = {"preprocess_input", "decode_predictions"}
_KERAS_MODELS = {
    "Sequential",
    "Model",
    "Functional",
    "load_model",
    "model_from_json",
    "clone_model",
}


def conventional_module(name: str, attr: str) -> str:
    """The module that an unbound ``name`` in ``name.attr`` stands for in a paste without its
    imports (``name`` itself when there is no usual meaning)."""
    if name == "models":
        return "keras.models" if attr in _KERAS_MODELS else "torchvision.models"
    if name in PREPROCESS_MODULES and (attr in KERAS_APPS or attr in _KERAS_APP_FUNCTIONS):
        return f"keras.applications.{name}"  # vgg16.VGG16, mobilenet_v2.preprocess_input
    return _CONVENTIONAL_MODULES.get(name) or CONVENTIONAL_ALIASES.get(name, name)


#: Names scripts give the parsed command-line options when the parsing is not in the paste.
_OPTION_NAMES = ("args", "opt", "opts", "cfg", "config", "FLAGS", "hparams", "options")


def canon(qual: str | None) -> str:
    """One spelling per API: ``tf.keras.layers.Dense`` → ``keras.layers.Dense``."""
    if not qual:
        return ""
    for pre in _KERAS_PREFIXES:
        if qual.startswith(pre):
            return "keras." + qual[len(pre) :]
    if qual.startswith("tensorflow."):
        return "tf." + qual[len("tensorflow.") :]
    return qual


def last(qual: str) -> str:
    """The last dotted component: ``keras.layers.Dense`` → ``Dense``."""
    return qual.rsplit(".", 1)[-1]


class ImportRef(ast.expr):
    """Synthetic value bound by an import statement."""

    _fields = ()

    def __init__(self, qual: str) -> None:
        super().__init__()
        self.qual = qual


class ElementOf(ast.expr):
    """Synthetic value of a loop variable or an unpacked tuple: an element of ``value``."""

    _fields = ("value",)

    def __init__(self, value: ast.expr, index: int | None = None) -> None:
        super().__init__()
        self.value = value
        self.index = index


@dataclass(frozen=True)
class Event:
    """One statement as it runs.

    Attributes:
        idx: Position in execution order.
        node: The statement.
        scope: 0 for module level, else the id of one inlined call.
        funcs: Names of the script's functions being run, outermost first.
        loops: ``idx`` of the enclosing ``for``/``while`` events.
        withs: Context-manager expressions of the enclosing ``with`` statements.
    """

    idx: int
    node: ast.stmt
    scope: int
    funcs: tuple[str, ...]
    loops: tuple[int, ...]
    withs: tuple[ast.expr, ...]


@dataclass(frozen=True)
class Binding:
    name: str
    time: float  # visible to events with idx > time
    scope: int
    value: ast.expr
    vidx: int  # event at which ``value`` is evaluated
    vscope: int


@dataclass(frozen=True)
class Ref:
    """An expression together with where it is evaluated."""

    node: ast.expr
    idx: int
    scope: int


@dataclass(frozen=True)
class CallSite:
    """A call in the trace with its canonical dotted name (``keras.layers.Dense``)."""

    node: ast.Call
    ev: Event
    qual: str
    prog: Program | None = field(default=None, compare=False, repr=False)

    @property
    def name(self) -> str:
        return last(self.qual)

    @property
    def unimported(self) -> bool:
        """The callee's root name is bound by nothing the paste shows (``summary(...)`` or
        ``BertConfig.from_pretrained(...)`` with the imports left out)."""
        f = self.node.func
        while isinstance(f, ast.Attribute):
            f = f.value
        return (
            isinstance(f, ast.Name)
            and self.prog is not None
            and self.prog.lookup(f.id, self.ev.idx, self.ev.scope) is None
            and f.id not in self.prog.functions
            and f.id not in self.prog.classes
        )

    def kw(self, name: str) -> ast.expr | None:
        """Keyword argument ``name``, also from a ``**options`` dict the code builds
        (``Normalize(**IMAGENET_STATS)``, ``DataLoader(ds, **loader_kwargs)``)."""
        found = next((k.value for k in self.node.keywords if k.arg == name), None)
        if found is not None or self.prog is None:
            return found
        for k in self.node.keywords:
            if k.arg is not None:
                continue
            d = self.prog.origin(k.value, self.ev.idx, self.ev.scope).node
            if isinstance(d, ast.Dict):
                for key, value in zip(d.keys, d.values, strict=True):
                    if isinstance(key, ast.Constant) and key.value == name:
                        return value
            elif isinstance(d, ast.Call) and getattr(d.func, "id", "") == "dict":
                hit = next((x.value for x in d.keywords if x.arg == name), None)
                if hit is not None:
                    return hit
        return None

    def arg(self, pos: int, name: str | None = None) -> ast.expr | None:
        """Positional argument ``pos``, or keyword ``name``."""
        if name is not None and (v := self.kw(name)) is not None:
            return v
        args = [a for a in self.node.args if not isinstance(a, ast.Starred)]
        return args[pos] if 0 <= pos < len(args) else None


def header(node: ast.stmt) -> list[ast.AST]:
    """The parts of a statement that run before (or instead of) its nested body."""
    if isinstance(node, ast.For | ast.AsyncFor):
        return [node.target, node.iter]
    if isinstance(node, ast.While | ast.If):
        return [node.test]
    if isinstance(node, ast.With | ast.AsyncWith):
        return list(node.items)
    if isinstance(node, ast.Try | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return []
    if isinstance(node, ast.Match):
        return [node.subject]
    return [node]


def calls_in(node: ast.stmt) -> list[ast.Call]:
    """Calls in a statement's header, outermost first."""
    return [n for part in header(node) for n in ast.walk(part) if isinstance(n, ast.Call)]


class Program:
    """The trace of a module and queries on it."""

    def __init__(self, tree: ast.Module, files: Iterable[str] = ()) -> None:
        """Args:
        tree: The module to trace.
        files: Names of the files pasted together in ``tree`` (``model.py``, ``task.py``):
            ``model.model_fn(...)`` calls the pasted ``model.py``'s function even when the
            import of ``model`` is left out.
        """
        self.tree = tree
        self.functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
        self.classes: dict[str, ast.ClassDef] = {}
        self.events: list[Event] = []
        self.loop_end: dict[int, int] = {}
        self.returns: dict[int, Ref] = {}
        self._bindings: dict[str, list[Binding]] = defaultdict(list)
        self._parent: dict[int, int] = {0: 0}  # scope -> the scope its function was defined in
        self._def_scope: dict[int, int] = {}  # id of a def -> scope its definition ran in
        self._stack: list[str] = []
        self._scopes = 0
        #: Methods of the script's classes: class name -> method name -> definition.
        self.methods: dict[str, dict[str, ast.FunctionDef | ast.AsyncFunctionDef]] = {}
        #: The class whose method an inlined scope runs (``self.x`` is read per class).
        self.scope_class: dict[int, str] = {}
        self._cls: list[str] = []
        self._ran: set[int] = set()  # ids of the method definitions that were run
        self._class_defs: list[ast.ClassDef] = []  # every class definition, repeats included
        # Files pasted one after another define a function or class twice: a call runs the
        # definition walked last before it, as Python would.
        self._latest: dict[str, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef] = {}
        #: The class definition in force at each ``Cls(...)`` call (by id of the call).
        self.class_at: dict[int, ast.ClassDef] = {}
        self._collect_defs(tree.body)
        self._flags = _constant_flags(tree)
        called = {
            n.func.id
            for n in ast.walk(tree)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
        }
        # ``utils.build_model(...)`` / ``model.model_fn(...)``: a function of another file of
        # the same paste, called through the module it was imported as
        self._modules = _module_aliases(tree)
        stems = {os.path.splitext(os.path.basename(f))[0] for f in files}
        self._modules |= _unimported_modules(tree, self.functions) & stems
        called |= {
            n.func.attr
            for n in ast.walk(tree)
            if isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute)
            and isinstance(n.func.value, ast.Name)
            and n.func.value.id in self._modules
        }
        self._called = called & set(self.functions)
        self._called_methods = {
            n.func.attr
            for n in ast.walk(tree)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
        }
        # functions some call names, in the order their definitions were walked: the ones no
        # call ran by the end (see below)
        self._unrun: list[tuple[ast.FunctionDef | ast.AsyncFunctionDef, int, tuple, tuple]] = []
        self._walk(tree.body, 0, (), ())
        for node in self._class_defs:  # methods no call reached: run in place
            for fn in node.body:
                if (
                    isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef)
                    and id(fn) not in self._ran
                ):
                    self._inline(fn, None, 0, (), (), cls=node.name)
        # a function of a later file of the paste, called from an earlier one: the call ran
        # before its definition (at module level or in that file's main()) was walked, so nothing
        # ran it; run it in place, as a function no call reaches
        for fn, scope, loops, withs in self._unrun:
            if id(fn) not in self._ran:
                self._inline(fn, None, scope, loops, withs)
        self.calls: list[CallSite] = [
            CallSite(c, ev, canon(self.qualname(c.func, ev.idx, ev.scope)), self)
            for ev in self.events
            for c in calls_in(ev.node)
        ]
        self._site_of: dict[int, CallSite] = {}
        self._by_method: dict[str, list[CallSite]] = defaultdict(list)
        for c in self.calls:
            self._site_of.setdefault(id(c.node), c)
            if isinstance(c.node.func, ast.Attribute):
                self._by_method[c.node.func.attr].append(c)
        self._names: dict[int, str | None] | None = None
        self.memo: dict = {}  # analyses derived from the trace, computed once per script

    # -- building the trace ---------------------------------------------------------------
    def _collect_defs(self, body: list[ast.stmt], nested: list | None = None) -> None:
        """The functions and classes the script defines: at module level first, then those
        defined inside functions (a script wrapped in ``def main():``), so that a module-level
        definition wins a name both use."""
        top = nested is None
        nested = [] if top else nested
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                self.functions.setdefault(node.name, node)
                nested.append(node.body)
            elif isinstance(node, ast.ClassDef):
                self.classes.setdefault(node.name, node)
                self._class_defs.append(node)
                methods = self.methods.setdefault(node.name, {})
                for fn in node.body:
                    if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                        methods.setdefault(fn.name, fn)
                        self.functions.setdefault(f"{node.name}.{fn.name}", fn)
                        nested.append(fn.body)
            elif isinstance(node, ast.If | ast.Try | ast.With):
                for part in ("body", "orelse", "finalbody"):
                    self._collect_defs(getattr(node, part, []), nested)
        while top and nested:
            self._collect_defs(nested.pop(0), nested)

    def _walk(self, body: list[ast.stmt], scope: int, loops: tuple, withs: tuple) -> None:
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                # a function defined inside another one reads that one's names (a closure)
                for fn in [node, *(node.body if isinstance(node, ast.ClassDef) else ())]:
                    self._def_scope[id(fn)] = scope
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                if not self._stack:
                    self._latest[node.name] = node
                if node.name not in self._called and node.name not in self._stack:
                    self._inline(node, None, scope, loops, withs)  # never called: run in place
                else:
                    self._unrun.append((node, scope, loops, withs))
                continue
            if isinstance(node, ast.ClassDef):
                self._latest[node.name] = node
                continue
            for call in calls_in(node):
                f = call.func
                if isinstance(f, ast.Name) and isinstance(self._latest.get(f.id), ast.ClassDef):
                    self.class_at[id(call)] = self._latest[f.id]
                if isinstance(f, ast.Name) and f.id in self._called and f.id not in self._stack:
                    fn = self._latest.get(f.id)
                    fn = fn if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef) else None
                    self._inline(fn or self.functions[f.id], call, scope, loops, withs)
                elif (
                    isinstance(f, ast.Attribute)
                    and isinstance(f.value, ast.Name)
                    and f.value.id in self._modules
                    and f.attr in self._called
                    and f.attr not in self._stack
                    and isinstance(self._latest.get(f.attr), ast.FunctionDef)
                ):
                    self._inline(self._latest[f.attr], call, scope, loops, withs)
                elif (target := self._method_of(call, scope)) is not None:
                    cls, fn = target
                    if f"{cls}.{fn.name}" not in self._stack:
                        self._inline(fn, call, scope, loops, withs, cls=cls)
            ev = Event(len(self.events), node, scope, tuple(self._stack), loops, withs)
            self.events.append(ev)
            self._bind_statement(ev)
            if isinstance(node, ast.For | ast.AsyncFor | ast.While):
                self._walk(node.body, scope, (*loops, ev.idx), withs)
                self.loop_end[ev.idx] = len(self.events) - 1
                self._walk(node.orelse, scope, loops, withs)
            elif isinstance(node, ast.If):
                # A branch the script never runs as posted (`if False:`, a flag set once to
                # False) binds nothing: its assignments must not replace the live values.
                truth = _constant_truth(node.test, self._flags)
                if truth is not False:
                    self._walk(node.body, scope, loops, withs)
                if truth is not True:
                    self._walk(node.orelse, scope, loops, withs)
            elif isinstance(node, ast.With | ast.AsyncWith):
                ctx = tuple(item.context_expr for item in node.items)
                self._walk(node.body, scope, loops, withs + ctx)
            elif isinstance(node, ast.Try):
                for part in (node.body, *[h.body for h in node.handlers]):
                    self._walk(part, scope, loops, withs)
                self._walk(node.orelse, scope, loops, withs)
                self._walk(node.finalbody, scope, loops, withs)
            elif isinstance(node, ast.Match):
                for case in node.cases:
                    self._walk(case.body, scope, loops, withs)

    def _method_of(self, call: ast.Call, scope: int) -> tuple[str, ast.FunctionDef] | None:
        """The script method a call runs: ``Cls(...)`` (its ``__init__``), ``self.m(...)``
        inside Cls, or ``obj.m(...)`` where ``obj`` was made by ``Cls(...)``."""
        f = call.func
        if isinstance(f, ast.Name) and f.id in self.methods and f.id not in self._called:
            init = self._method(f.id, "__init__", call)
            b = self.lookup(f.id, len(self.events), scope)
            if init is not None and (b is None or isinstance(b.value, ImportRef)):
                return f.id, init
            return None
        if not isinstance(f, ast.Attribute) or f.attr not in self._called_methods:
            return None
        owners = [c for c, ms in self.methods.items() if f.attr in ms]
        if not owners:
            return None
        if isinstance(f.value, ast.Name) and f.value.id in ("self", "cls"):
            cls = self._cls[-1] if self._cls else None
            return (cls, self._method(cls, f.attr)) if cls in owners else None
        named = f.value.id if isinstance(f.value, ast.Name) else None
        if isinstance(f.value, ast.Attribute):
            named = f.value.attr  # module.Builder.build(...) with the module pasted too
        if named in owners:
            return named, self._method(named, f.attr)  # Builder.build(...)
        r = self.origin(f.value, len(self.events), scope)
        if isinstance(r.node, ast.Call) and isinstance(r.node.func, ast.Name):
            cls = r.node.func.id
            if cls in owners:
                return cls, self._method(cls, f.attr, r.node)
        return None

    def _method(self, cls: str, name: str, made: ast.Call | None = None):
        """Method ``name`` of the definition of ``cls`` in force where the object was made
        (``made``, the ``Cls(...)`` call) or, failing that, walked last: two files of one
        paste may each define a class of that name."""
        node = self.class_at.get(id(made)) if made is not None else None
        node = node or self._latest.get(cls)
        if isinstance(node, ast.ClassDef):
            for fn in node.body:
                if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef) and fn.name == name:
                    return fn
        return self.methods.get(cls, {}).get(name)

    def _inline(
        self,
        fn,
        call: ast.Call | None,
        caller: int,
        loops: tuple,
        withs: tuple,
        cls: str | None = None,
    ) -> None:
        if len(self.events) > _MAX_EVENTS:  # a pathological call graph: stop inlining
            return
        self._scopes += 1
        scope = self._scopes
        self._parent[scope] = self._def_scope.get(id(fn), 0)
        at = len(self.events)
        time = at - 0.5
        params = [*fn.args.posonlyargs, *fn.args.args]
        self._ran.add(id(fn))
        if cls is not None:
            self.scope_class[scope] = cls
            is_static = any(
                isinstance(d, ast.Name) and d.id == "staticmethod" for d in fn.decorator_list
            )
            params = params if is_static else params[1:]  # ``self`` is the object itself
        defaults = dict(zip([p.arg for p in params][::-1], fn.args.defaults[::-1], strict=False))
        for p, d in zip(fn.args.kwonlyargs, fn.args.kw_defaults, strict=True):
            if d is not None:
                defaults[p.arg] = d
        given: dict[str, ast.expr] = {}
        if call is not None:
            args = [a for a in call.args if not isinstance(a, ast.Starred)]
            for p, a in zip(params, args, strict=False):
                given[p.arg] = a
            for k in call.keywords:
                if k.arg:
                    given[k.arg] = k.value
        for p in [*params, *fn.args.kwonlyargs]:
            if p.arg in given:
                self._bind(p.arg, time, scope, given[p.arg], at, caller)
            elif p.arg in defaults:
                self._bind(p.arg, time, scope, defaults[p.arg], at, 0)
        self._stack.append(f"{cls}.{fn.name}" if cls else fn.name)
        if cls is not None:
            self._cls.append(cls)
        self._walk(fn.body, scope, loops, withs)
        if cls is not None:
            self._cls.pop()
        self._stack.pop()
        if call is not None:
            rets = [
                ev
                for ev in self.events[at:]
                if ev.scope == scope and isinstance(ev.node, ast.Return) and ev.node.value
            ]
            if rets:
                self.returns[id(call)] = Ref(rets[-1].node.value, rets[-1].idx, scope)

    def _bind(self, name: str, time: float, scope: int, value, vidx: int, vscope: int) -> None:
        self._bindings[name].append(Binding(name, time, scope, value, vidx, vscope))

    def _bind_target(self, target: ast.expr, value: ast.expr, ev: Event) -> None:
        if isinstance(target, ast.Name):
            self._bind(target.id, ev.idx, ev.scope, value, ev.idx, ev.scope)
        elif isinstance(target, ast.Attribute) and (d := dotted(target)):
            cls = self.scope_class.get(ev.scope)
            if cls is not None and d.startswith("self."):
                # an attribute of the object: visible to every method of its class
                self._bind(f"{cls}::{d}", -1, 0, value, ev.idx, ev.scope)
            else:
                self._bind(d, ev.idx, ev.scope, value, ev.idx, ev.scope)
        elif isinstance(target, ast.Tuple | ast.List):
            if isinstance(value, ast.Tuple | ast.List) and len(value.elts) == len(target.elts):
                for t, v in zip(target.elts, value.elts, strict=True):
                    self._bind_target(t, v, ev)
            else:
                for i, t in enumerate(target.elts):
                    self._bind_target(t, ast.copy_location(ElementOf(value, i), value), ev)
        elif isinstance(target, ast.Starred):
            self._bind_target(target.value, ast.copy_location(ElementOf(value), value), ev)

    def _bind_statement(self, ev: Event) -> None:
        node = ev.node
        if isinstance(node, ast.Assign):
            for t in node.targets:
                self._bind_target(t, node.value, ev)
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            self._bind_target(node.target, node.value, ev)
        elif isinstance(node, ast.AugAssign):
            value = ast.copy_location(
                ast.BinOp(left=node.target, op=node.op, right=node.value), node
            )
            self._bind_target(node.target, value, ev)
        elif isinstance(node, ast.For | ast.AsyncFor):
            self._bind_target(node.target, ast.copy_location(ElementOf(node.iter), node.iter), ev)
        elif isinstance(node, ast.With | ast.AsyncWith):
            for item in node.items:
                if item.optional_vars is not None:
                    self._bind_target(item.optional_vars, item.context_expr, ev)
        elif isinstance(node, ast.Import):
            for a in node.names:
                local = a.asname or a.name.split(".")[0]
                qual = a.name if a.asname else a.name.split(".")[0]
                self._bind(local, ev.idx, ev.scope, ImportRef(qual), ev.idx, ev.scope)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                if a.name != "*":
                    ref = ImportRef(f"{node.module}.{a.name}")
                    self._bind(a.asname or a.name, ev.idx, ev.scope, ref, ev.idx, ev.scope)

    # -- queries ----------------------------------------------------------------------------
    def lookup(self, name: str, idx: int, scope: int) -> Binding | None:
        """The binding of ``name`` visible at event ``idx`` in ``scope`` (then module scope)."""
        if name.startswith("self.") and (cls := self.scope_class.get(scope)) is not None:
            name = f"{cls}::{name}"
        bindings = self._bindings.get(name, ())
        for s in self._enclosing(scope):
            for b in reversed(bindings):
                if b.scope == s and b.time < idx:
                    return b
        return next((b for b in reversed(bindings) if b.scope == 0), None)

    def alternatives(self, name: str, idx: int, scope: int) -> list[Binding]:
        """The bindings of ``name`` that may hold at event ``idx``: the one :meth:`lookup`
        finds (the branch walked last) and those made in the other branch of the ``if`` it
        sits in (``tf = A if flag else B`` written as an if/else statement)."""
        b = self.lookup(name, idx, scope)
        if b is None:
            return []
        made = self.events[b.vidx].node if b.vidx < len(self.events) else None
        out = [b]
        for e in self.events[: b.vidx]:
            if e.scope != b.scope or not isinstance(e.node, ast.If) or made is None:
                continue
            for mine, other in ((e.node.body, e.node.orelse), (e.node.orelse, e.node.body)):
                if not any(n is made for st in mine for n in ast.walk(st)):
                    continue
                inside = {id(n) for st in other for n in ast.walk(st)}
                out += [
                    x
                    for x in self._bindings.get(name, ())
                    if x.scope == b.scope
                    and x is not b
                    and x.vidx < len(self.events)
                    and id(self.events[x.vidx].node) in inside
                ]
        return out

    def sees(self, scope: int, other: int) -> bool:
        """Whether code running in ``scope`` reads the names of ``other``: the same scope, or
        one of the functions it is nested in (module level for every function)."""
        return other in self._enclosing(scope)

    def _enclosing(self, scope: int) -> list[int]:
        """``scope``, the scopes of the functions it is nested in, then module scope."""
        chain = [scope]
        while chain[-1] != 0 and len(chain) < 50:
            chain.append(self._parent.get(chain[-1], 0))
        return chain

    def bindings(self, name: str) -> list[Binding]:
        return list(self._bindings.get(name, ()))

    def origin(self, node: ast.expr, idx: int, scope: int, _depth: int = 0) -> Ref:
        """Follow names, attributes bound by assignment and the script's own function returns
        back to the expression that made the value."""
        if _depth > 40:
            return Ref(node, idx, scope)
        key = node.id if isinstance(node, ast.Name) else None
        if isinstance(node, ast.Attribute):
            key = dotted(node)
        if key is not None:
            b = self.lookup(key, idx, scope)
            if b is not None and not isinstance(b.value, ImportRef):
                return self.origin(b.value, b.vidx, b.vscope, _depth + 1)
            return Ref(node, idx, scope)
        if isinstance(node, ast.Call) and id(node) in self.returns:
            r = self.returns[id(node)]
            return self.origin(r.node, r.idx, r.scope, _depth + 1)
        if isinstance(node, ast.Subscript):
            container = self.origin(node.value, idx, scope, _depth + 1)
            k = self.const(node.slice, idx, scope)
            if isinstance(container.node, ast.Dict) and isinstance(k, str):
                for kn, vn in zip(container.node.keys, container.node.values, strict=True):
                    if kn is not None and self.const(kn, container.idx, container.scope) == k:
                        return self.origin(vn, container.idx, container.scope, _depth + 1)
        if isinstance(node, ElementOf) and node.index is not None:
            container = self.origin(node.value, idx, scope, _depth + 1)
            if isinstance(container.node, ast.Tuple | ast.List) and node.index < len(
                container.node.elts
            ):
                elt = container.node.elts[node.index]
                return self.origin(elt, container.idx, container.scope, _depth + 1)
        return Ref(node, idx, scope)

    def origin_call(self, node: ast.expr | None, at: Event | Ref) -> CallSite | None:
        """The call that made the value of ``node`` (evaluated at ``at``), with its name."""
        if node is None:
            return None
        r = self.origin(node, at.idx, at.scope)
        if not isinstance(r.node, ast.Call):
            return None
        ev_at = self.events[min(r.idx, len(self.events) - 1)]
        return self.call_site(r.node) or CallSite(
            r.node, ev_at, canon(self.qualname(r.node.func, r.idx, r.scope)), self
        )

    def call_site(self, node: ast.Call) -> CallSite | None:
        return self._site_of.get(id(node))

    def qualname(self, node: ast.expr, idx: int, scope: int, _depth: int = 0) -> str | None:
        """Dotted name of a reference, import aliases expanded (``np.mean`` → ``numpy.mean``)."""
        if _depth > 20:
            return None
        if isinstance(node, ast.Name):
            b = self.lookup(node.id, idx, scope)
            if b is None:  # a fragment without its imports: the alias everyone uses
                return CONVENTIONAL_ALIASES.get(node.id, node.id)
            if isinstance(b.value, ImportRef):
                return b.value.qual
            if isinstance(b.value, ast.Name | ast.Attribute):
                return self.qualname(b.value, b.vidx, b.vscope, _depth + 1)
            return node.id
        if isinstance(node, ast.Attribute):
            v = node.value
            if isinstance(v, ast.Name) and self.lookup(v.id, idx, scope) is None:
                return f"{conventional_module(v.id, node.attr)}.{node.attr}"
            base = self.qualname(v, idx, scope, _depth + 1)
            return f"{base}.{node.attr}" if base else None
        if isinstance(node, ast.Call):  # ``Dense(4)(x)`` is not a call of ``Dense``
            base = self.qualname(node.func, idx, scope, _depth + 1)
            return f"{base}()" if base else None
        return None

    def const(self, node: ast.expr | None, idx: int, scope: int, _depth: int = 0):
        """The Python value of ``node`` if it is a constant after propagation, else UNKNOWN.

        Every value is bounded (:func:`bounded`): a folded string, list or tuple holds at most
        ``MAX_ITEMS`` items and an integer at most ``MAX_INT_BITS`` bits."""
        return bounded(self._const(node, idx, scope, _depth))

    def _const(self, node: ast.expr | None, idx: int, scope: int, _depth: int = 0):
        if node is None or _depth > 40:
            return UNKNOWN
        c = lambda n: self.const(n, idx, scope, _depth + 1)  # noqa: E731
        if isinstance(node, ast.Constant):
            return bounded(node.value)
        if isinstance(node, ast.Name | ast.Attribute):
            key = node.id if isinstance(node, ast.Name) else dotted(node)
            b = self.lookup(key, idx, scope) if key else None
            if b is None and isinstance(node, ast.Attribute):
                v = self._class_attr(node, idx, scope, _depth)
                return v if v is not UNKNOWN else self._option_default(node, idx, scope, _depth)
            if b is None or isinstance(b.value, ImportRef):
                return UNKNOWN
            return self.const(b.value, b.vidx, b.vscope, _depth + 1)
        if isinstance(node, ast.Tuple | ast.List):
            vals = [c(e) for e in node.elts]
            if any(v is UNKNOWN for v in vals):
                return UNKNOWN
            return tuple(vals) if isinstance(node, ast.Tuple) else vals
        if isinstance(node, ast.UnaryOp):
            v = c(node.operand)
            if isinstance(v, int | float) and isinstance(node.op, ast.USub):
                return -v
            if isinstance(node.op, ast.Not) and v is not UNKNOWN:
                return not v
            return v if isinstance(node.op, ast.UAdd) else UNKNOWN
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            return self._compare(node, idx, scope, _depth)
        if isinstance(node, ast.BinOp):
            return binop(node.op, c(node.left), c(node.right))
        if isinstance(node, ast.JoinedStr):
            parts = [c(v.value) if isinstance(v, ast.FormattedValue) else c(v) for v in node.values]
            return UNKNOWN if any(p is UNKNOWN for p in parts) else "".join(map(str, parts))
        if isinstance(node, ast.Subscript):
            v, k = c(node.value), c(node.slice)
            if isinstance(node.slice, ast.Slice):
                lo, hi = c(node.slice.lower), c(node.slice.upper)
                if isinstance(v, tuple | list | str):
                    return v[
                        lo if isinstance(lo, int) else None : hi if isinstance(hi, int) else None
                    ]
                return UNKNOWN
            try:
                return v[k] if v is not UNKNOWN and k is not UNKNOWN else UNKNOWN
            except (TypeError, IndexError, KeyError):
                return UNKNOWN
        if isinstance(node, ast.Dict):
            keys = [c(k) if k is not None else UNKNOWN for k in node.keys]
            return {k: c(v) for k, v in zip(keys, node.values, strict=True) if k is not UNKNOWN}
        if isinstance(node, ast.Call):
            return self._const_call(node, idx, scope, _depth)
        return UNKNOWN

    def _compare(self, node: ast.Compare, idx: int, scope: int, depth: int):
        """``a == b`` / ``a != b`` of known values; ``x is None`` / ``x is not None`` also when
        ``x`` was made by a call or a literal (an optimizer passed in: not None), the test of a
        function shared by training and evaluation (``train = optimizer is not None``)."""
        op, right = node.ops[0], node.comparators[0]
        left_v = self.const(node.left, idx, scope, depth + 1)
        right_v = self.const(right, idx, scope, depth + 1)
        if isinstance(op, ast.Is | ast.IsNot) and isinstance(right, ast.Constant):
            if right.value is not None:
                return UNKNOWN
            if left_v is UNKNOWN:
                made = self.origin(node.left, idx, scope).node
                if not isinstance(made, ast.Call | ast.List | ast.Dict | ast.Lambda | ast.Tuple):
                    return UNKNOWN
                left_v = made  # an object, whatever it holds
            return (left_v is None) == isinstance(op, ast.Is)
        if left_v is UNKNOWN or right_v is UNKNOWN or not isinstance(op, ast.Eq | ast.NotEq):
            return UNKNOWN
        try:
            return (left_v == right_v) == isinstance(op, ast.Eq)
        except Exception:  # a folded value whose comparison fails: not known
            return UNKNOWN

    def _class_attr(self, node: ast.Attribute, idx: int, scope: int, depth: int):
        """``cfg.NUM_CLASSES`` / ``Config.NUM_CLASSES`` read from the script's class body
        (``class Config: NUM_CLASSES = 4``, a dataclass field default), or from the keyword the
        instance was built with (``Config(NUM_CLASSES=3)``)."""
        if not isinstance(node.value, ast.Name):
            return UNKNOWN
        owner = node.value.id
        b = self.lookup(owner, idx, scope)
        call = b.value if b is not None and isinstance(b.value, ast.Call) else None
        if call is not None and isinstance(call.func, ast.Name):
            owner = call.func.id
            for k in call.keywords:
                if k.arg == node.attr:
                    return self.const(k.value, b.vidx, b.vscope, depth + 1)
        elif b is not None:
            return UNKNOWN
        cls = self.classes.get(owner)
        for stmt in cls.body if cls is not None else []:
            if isinstance(stmt, ast.Assign):
                targets, value = stmt.targets, stmt.value
            elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
                targets, value = [stmt.target], stmt.value
            else:
                continue
            if any(isinstance(t, ast.Name) and t.id == node.attr for t in targets):
                return self.const(value, 0, 0, depth + 1)
        return UNKNOWN

    def _option_default(self, node: ast.Attribute, idx: int, scope: int, depth: int):
        """``args.batch_size`` read from ``parser.add_argument('--batch_size', default=1)``
        (or ``--batch-size``): the value the script runs with when no option is given. The
        object is the result of ``parse_args()`` (whatever its name), or named like one."""
        if not isinstance(node.value, ast.Name):
            return UNKNOWN
        made = self.origin(node.value, idx, scope).node
        if isinstance(made, ElementOf):  # args, unknown = parser.parse_known_args()
            made = made.value
        parsed = (
            isinstance(made, ast.Call)
            and isinstance(made.func, ast.Attribute)
            and made.func.attr in ("parse_args", "parse_known_args")
        )
        if not parsed and node.value.id not in _OPTION_NAMES:
            return UNKNOWN
        if not hasattr(self, "memo"):
            return UNKNOWN  # still building the trace
        if "options" not in self.memo:
            found: dict[str, tuple[ast.expr, int, int]] = {}
            for c in self._by_method.get("add_argument", ()):
                names = [a.value for a in c.node.args if isinstance(a, ast.Constant)]
                dest = next((k.value for k in c.node.keywords if k.arg == "dest"), None)
                default = next((k.value for k in c.node.keywords if k.arg == "default"), None)
                if default is None:
                    continue
                keys = [str(n).lstrip("-").replace("-", "_") for n in names if str(n)[:2] == "--"]
                if isinstance(dest, ast.Constant):
                    keys = [str(dest.value)]
                for k in keys:
                    found.setdefault(k, (default, c.ev.idx, c.ev.scope))
            self.memo["options"] = found
        hit = self.memo["options"].get(node.attr)
        if hit is None:
            return UNKNOWN
        return self.const(hit[0], hit[1], hit[2], depth + 1)

    def _const_call(self, node: ast.Call, idx: int, scope: int, depth: int):
        if id(node) in self.returns:
            r = self.returns[id(node)]
            return self.const(r.node, r.idx, r.scope, depth + 1)
        name = canon(self.qualname(node.func, idx, scope))
        if name == "dict" and not node.args and all(k.arg for k in node.keywords):
            # dict(rotation_range=0.2, ...): unknown values stay UNKNOWN, the keys are known
            return {k.arg: self.const(k.value, idx, scope, depth + 1) for k in node.keywords}
        args = [self.const(a, idx, scope, depth + 1) for a in node.args]
        if any(a is UNKNOWN for a in args) or node.keywords:
            return UNKNOWN
        fn = {
            "int": int,
            "float": float,
            "tuple": tuple,
            "list": list,
            "len": len,
            "str": str,
            "round": round,
            "max": max,
            "min": min,
            "sorted": sorted,
        }.get(name)
        try:
            if fn is not None:
                return bounded(fn(*args))
            if name in ("os.path.join", "posixpath.join") and all(isinstance(a, str) for a in args):
                return os.path.join(*args).replace("\\", "/")
            if last(name) in ("Path", "PurePath") and len(args) == 1 and isinstance(args[0], str):
                return args[0]
        except (TypeError, ValueError, OverflowError, MemoryError):
            return UNKNOWN
        return UNKNOWN

    # -- conveniences for rules ---------------------------------------------------------------
    def find_calls(self, *names: str, prefix: str = "") -> list[CallSite]:
        """Calls whose last name is one of ``names`` (and whose name starts with ``prefix``)."""
        return [c for c in self.calls if c.name in names and c.qual.startswith(prefix)]

    def method_calls(self, method: str) -> list[CallSite]:
        """Calls ``<something>.method(...)``."""
        return list(self._by_method.get(method, ()))

    def loop_trains(self, loop_idx: int) -> bool:
        """Whether the loop starting at event ``loop_idx`` calls ``.backward()`` / ``.step()``."""
        end = self.loop_end.get(loop_idx, loop_idx)
        return any(
            loop_idx <= c.ev.idx <= end and not self.ruled_out(c.ev, loop_idx)
            for method in ("backward", "step")
            for c in self._by_method.get(method, ())
        )

    def ruled_out(self, ev: Event, since: int = 0) -> bool:
        """Whether ``ev`` sits in a branch of an ``if`` (run from event ``since`` on, in the same
        call) whose test is known to choose the other branch: ``if train: loss.backward()`` in
        ``run_epoch(model, loader, optimizer=None)`` called for evaluation."""
        for e in self.events[since : ev.idx]:
            if e.scope != ev.scope or not isinstance(e.node, ast.If):
                continue
            test = self.const(e.node.test, e.idx, e.scope)
            if test is UNKNOWN:
                continue
            branch = e.node.orelse if test else e.node.body
            if any(n is ev.node for st in branch for n in ast.walk(st)):
                return True
        return False

    def events_in(self, start: int, end: int) -> Iterator[Event]:
        yield from self.events[max(start, 0) : end + 1]

    def assigned_name(self, node: ast.expr) -> str | None:
        """The variable a call's result is assigned to directly (``train_gen = ...``)."""
        if self._names is None:
            self._names = {}
            for ev in self.events:
                n = ev.node
                if isinstance(n, ast.Assign) and len(n.targets) == 1:
                    t = n.targets[0]
                    self._names[id(n.value)] = t.id if isinstance(t, ast.Name) else dotted(t)
                elif isinstance(n, ast.AnnAssign) and n.value is not None:
                    t = n.target
                    self._names[id(n.value)] = t.id if isinstance(t, ast.Name) else None
        return self._names.get(id(node))

    def deps(self, node: ast.expr, at: Event | Ref, limit: int = 60) -> list[Ref]:
        """Expressions that contribute to ``node``'s value: its definition, the definitions of
        the names in it, ``xs.append(...)`` arguments and the script's functions it calls."""
        out: list[Ref] = []
        todo = [Ref(node, at.idx, at.scope)]
        seen: set[int] = set()
        while todo and len(out) < limit:
            ref = todo.pop(0)
            if id(ref.node) in seen:
                continue
            seen.add(id(ref.node))
            out.append(ref)
            local = _local_names(ref.node)
            for n in ast.walk(ref.node):
                if isinstance(n, ast.Name) and n.id not in local:
                    b = self.lookup(n.id, ref.idx, ref.scope)
                    if b is not None and not isinstance(b.value, ImportRef):
                        todo.append(Ref(b.value, b.vidx, b.vscope))
                    todo.extend(self._mutations(n.id, ref.idx))
                elif isinstance(n, ast.Call):
                    if id(n) in self.returns:
                        todo.append(self.returns[id(n)])
                    f = n.func
                    if isinstance(f, ast.Name) and f.id in self.functions:
                        todo.extend(self.body_refs(self.functions[f.id]))
        return out

    def body_refs(self, fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[Ref]:
        """The expressions of a function's statements (values, returns, calls), each where it
        runs in the first call of ``fn``, so its names resolve to the function's own
        assignments before it, not to a later variable of the same name."""
        first = next((e for e in self.events if fn.name in e.funcs), None)
        if first is None:
            return []
        mine = {id(s) for s in ast.walk(ast.Module(body=fn.body, type_ignores=[]))}
        out: list[Ref] = []
        for e in self.events[first.idx :]:
            if fn.name not in e.funcs:
                break
            node = e.node
            if (
                e.scope == first.scope
                and id(node) in mine
                and isinstance(node, ast.Assign | ast.AugAssign | ast.Return | ast.Expr)
                and node.value is not None
            ):
                out.append(Ref(node.value, e.idx, e.scope))
        return out

    def items(self, args: list[ast.expr], at: Event | Ref, _depth: int = 0) -> list[Ref]:
        """The elements of an argument list with ``*layers`` spread out: ``layers`` followed to
        its list literal, ``a + b`` concatenations and ``+=`` (read as the concatenation they
        are bound as), then the ``append``/``extend`` calls made on it before ``at``."""
        out: list[Ref] = []
        for a in args:
            if not isinstance(a, ast.Starred):
                out.append(Ref(a, at.idx, at.scope))
                continue
            out.extend(self._spread(a.value, at.idx, at.scope, _depth))
        return out

    def _spread(self, node: ast.expr, idx: int, scope: int, depth: int) -> list[Ref]:
        if depth > 8:
            return [Ref(ast.Starred(value=node), idx, scope)]
        r = self.origin(node, idx, scope)
        if isinstance(r.node, ast.List | ast.Tuple):
            out = self.items(list(r.node.elts), r, depth + 1)
        elif isinstance(r.node, ast.BinOp) and isinstance(r.node.op, ast.Add):
            out = self._spread(r.node.left, r.idx, r.scope, depth + 1)
            out += self._spread(r.node.right, r.idx, r.scope, depth + 1)
        else:
            return [Ref(ast.Starred(value=node), idx, scope)]  # not known: kept as one unknown
        if isinstance(node, ast.Name):
            for m in self._mutations(node.id, idx):
                if m.idx > r.idx:
                    out.extend(
                        self._spread(m.node, m.idx, m.scope, depth + 1)
                        if self._is_extend(m)
                        else [m]
                    )
        return out

    def _is_extend(self, ref: Ref) -> bool:
        ev = self.events[min(ref.idx, len(self.events) - 1)]
        return any(
            isinstance(c.func, ast.Attribute) and c.func.attr == "extend" and ref.node in c.args
            for c in calls_in(ev.node)
        )

    def _mutations(self, name: str, before: int) -> list[Ref]:
        out = []
        for method in ("append", "extend", "insert", "update"):
            for c in self._by_method.get(method, ()):
                f = c.node.func
                if c.ev.idx < before and isinstance(f.value, ast.Name) and f.value.id == name:
                    out.extend(Ref(a, c.ev.idx, c.ev.scope) for a in c.node.args)
        return out

    def receiver(self, call: CallSite) -> Ref | None:
        """Origin of ``x`` in ``x.method(...)``."""
        if not isinstance(call.node.func, ast.Attribute):
            return None
        return self.origin(call.node.func.value, call.ev.idx, call.ev.scope)


def _module_aliases(tree: ast.Module) -> set[str]:
    """Names that modules are imported as (``import trainer.model as model`` → ``model``,
    ``from trainer import model`` → ``model``, ``import utils`` → ``utils``)."""
    out: set[str] = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Import):
            out.update(a.asname or a.name.split(".")[0] for a in n.names)
        elif isinstance(n, ast.ImportFrom):
            out.update(a.asname or a.name for a in n.names if a.name != "*")
    return out


def _unimported_modules(tree: ast.Module, functions: dict) -> set[str]:
    """Names used as a module of the paste although no import says so: ``model.model_fn(...)``
    where ``model_fn`` is a module-level function of the paste and ``model`` is bound neither at
    module level nor in the function making the call (a paste of ``model.py`` and ``task.py``
    with the imports left out; the caller keeps the names that are files of the paste)."""
    top = {n for n in functions if "." not in n}
    module_level = _bound_outside_functions(tree.body)
    out: set[str] = set()

    def visit(body: list[ast.stmt], local: set[str]) -> None:
        for st in body:
            for n in _walk_same_function(st):
                if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                    args = {a.arg for a in (*n.args.posonlyargs, *n.args.args, *n.args.kwonlyargs)}
                    args |= {a.arg for a in (n.args.vararg, n.args.kwarg) if a is not None}
                    body_ = n.body if isinstance(n.body, list) else [ast.Expr(n.body)]
                    stores = {
                        x.id
                        for b in body_
                        for x in ast.walk(b)
                        if isinstance(x, ast.Name) and isinstance(x.ctx, ast.Store)
                    }
                    visit(body_, local | args | stores)
                elif (
                    isinstance(n, ast.Call)
                    and isinstance(n.func, ast.Attribute)
                    and isinstance(n.func.value, ast.Name)
                    and n.func.attr in top
                    and n.func.value.id not in local
                ):
                    out.add(n.func.value.id)

    visit(tree.body, module_level)
    return out


def _walk_same_function(node: ast.AST) -> Iterator[ast.AST]:
    """``ast.walk`` that yields nested function definitions and lambdas without entering them."""
    todo = [node]
    while todo:
        n = todo.pop()
        yield n
        if not isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            todo.extend(ast.iter_child_nodes(n))


def _bound_outside_functions(body: list[ast.stmt]) -> set[str]:
    """Names the module level binds (assignments, loop targets, imports, defs, classes)."""
    out: set[str] = set()
    for st in body:
        for n in _walk_same_function(st):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                out.add(n.id)
            elif isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                out.add(n.name)
            elif isinstance(n, ast.alias):
                out.add((n.asname or n.name).split(".")[0])
    return out


def self_assignments(fn: ast.AST) -> list[tuple[str, ast.expr]]:
    """``(attribute, value)`` of every ``self.<attribute> = value`` in ``fn``, tuple assignments
    included (``self.df, self.transform = df, transform``)."""
    out = []
    for n in ast.walk(fn):
        if not isinstance(n, ast.Assign):
            continue
        pairs = [(t, n.value) for t in n.targets]
        for t, v in list(pairs):
            if isinstance(t, ast.Tuple) and isinstance(v, ast.Tuple) and len(t.elts) == len(v.elts):
                pairs += list(zip(t.elts, v.elts, strict=True))
        for t, v in pairs:
            if isinstance(t, ast.Attribute) and getattr(t.value, "id", None) == "self":
                out.append((t.attr, v))
    return out


def dotted(node: ast.expr) -> str | None:
    """``a.b.c`` for a chain of attributes on a name, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id, *reversed(parts)])
    return None


def _local_names(node: ast.AST) -> set[str]:
    """Names bound inside an expression (lambda parameters, comprehension targets): they do
    not refer to the script's variables of the same name."""
    out: set[str] = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Lambda):
            a = n.args
            out.update(p.arg for p in [*a.posonlyargs, *a.args, *a.kwonlyargs])
            out.update(p.arg for p in (a.vararg, a.kwarg) if p is not None)
        elif isinstance(n, ast.comprehension):
            out.update(t.id for t in ast.walk(n.target) if isinstance(t, ast.Name))
    return out


def _constant_flags(tree: ast.Module) -> dict[str, object]:
    """Names the script binds exactly once, at module level, to a literal ``True``, ``False``,
    ``None`` or number (``USE_SKLEARN = False``): the flags whose ``if`` has one live branch."""
    stores: dict[str, int] = defaultdict(int)
    for n in ast.walk(tree):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store | ast.Del):
            stores[n.id] += 1
        elif isinstance(n, ast.Global | ast.Nonlocal):
            for name in n.names:
                stores[name] += 2  # rebound from inside a function: not a constant
    flags: dict[str, object] = {}
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.Constant)
            and (node.value.value is None or isinstance(node.value.value, bool | int | float))
            and stores[node.targets[0].id] == 1
        ):
            flags[node.targets[0].id] = node.value.value
    return flags


def _constant_truth(test: ast.expr, flags: dict[str, object]) -> bool | None:
    """Whether an ``if`` test is always true or always false as posted; None when it depends."""
    if isinstance(test, ast.Constant):
        return bool(test.value)
    if isinstance(test, ast.Name) and test.id in flags:
        return bool(flags[test.id])
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = _constant_truth(test.operand, flags)
        return None if inner is None else not inner
    return None
