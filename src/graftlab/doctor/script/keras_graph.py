"""What a Keras script builds: backbones, model heads, losses, data flows and their roles."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from functools import cached_property

from graftlab.doctor.script.flow import (
    UNKNOWN,
    CallSite,
    ElementOf,
    Event,
    Program,
    canon,
    last,
)
from graftlab.doctor.script.knowledge import (
    KERAS_APPS,
    KERAS_AUG_KWARGS,
    PREPROCESS_MODULES,
    KerasApp,
)
from graftlab.doctor.script.rates import keras_default_lr

_PASSTHROUGH = {
    "Dropout",
    "Flatten",
    "Reshape",
    "BatchNormalization",
    "GaussianNoise",
    "SpatialDropout2D",
    "ActivityRegularization",
    "AlphaDropout",
    "GaussianDropout",
}
_DATASET_METHODS = {
    "map",
    "prefetch",
    "cache",
    "batch",
    "shuffle",
    "repeat",
    "unbatch",
    "take",
    "skip",
    "apply",
    "with_options",
}
_FLOWS = {"flow_from_directory", "flow_from_dataframe", "flow", "image_dataset_from_directory"}


@dataclass
class App:
    """A ``keras.applications`` backbone built in the script."""

    site: CallSite
    info: KerasApp

    @property
    def include_top(self) -> bool:
        v = self.site.kw("include_top")
        return v is None or (isinstance(v, ast.Constant) and v.value is True)

    @property
    def pretrained(self) -> bool:
        v = self.site.kw("weights")
        return v is None or not (isinstance(v, ast.Constant) and v.value is None)


@dataclass
class Layer:
    """One step of a model: a layer, a backbone, or a function applied to a tensor."""

    kind: str  # "Dense", "Activation", ..., "app", "fn", "model"
    site: CallSite | None  # the constructor (or the function / app)
    applied: ast.Call | None = None  # ``layer(x)``: where it is called on a tensor
    app: App | None = None


@dataclass
class Model:
    site: CallSite
    layers: list[Layer] = field(default_factory=list)  # input → output; may be partial
    complete: bool = True  # False when part of the chain could not be followed

    def final(self, prog: Program) -> tuple[object, str | None, int]:
        """(units, activation, line) of the output layer; units UNKNOWN if not found."""
        activation: str | None = None
        act_line = 0
        for layer in reversed(self.layers):
            if layer.kind in _PASSTHROUGH:
                continue
            if layer.kind in ("Activation", "Softmax") and activation is None and layer.site:
                activation = (
                    "softmax"
                    if layer.kind == "Softmax"
                    else activation_of(prog, layer.site.arg(0, "activation"), layer.site.ev)
                )
                act_line = layer.site.node.lineno
                continue
            if layer.kind == "Dense" and layer.site is not None:
                s = layer.site
                units = dense_units(prog, s)
                if activation is None:
                    activation = dense_activation(prog, s)
                    act_line = s.node.lineno
                return units, activation, act_line or s.node.lineno
            if layer.kind == "app" and layer.app is not None and layer.app.include_top:
                return 1000, activation or "softmax", act_line or layer.app.site.node.lineno
            break
        return UNKNOWN, activation, act_line


def activation_of(prog: Program, node: ast.expr | None, ev: Event) -> str | None:
    """``"softmax"``, ``"sigmoid"``, ``"linear"`` ... or None when it cannot be told."""
    if node is None:
        return "linear"
    v = prog.const(node, ev.idx, ev.scope)
    if v is None:
        return "linear"
    if isinstance(v, str):
        return v.lower()
    q = canon(prog.qualname(node, ev.idx, ev.scope))
    if q and last(q) in ("softmax", "sigmoid", "linear", "relu", "tanh"):
        return last(q)
    return None


class KerasScript:
    """Lazily computed Keras facts of one script."""

    def __init__(self, prog: Program) -> None:
        self.prog = prog
        self._compile_of: dict[tuple[int, int], CallSite | None] = {}

    @cached_property
    def apps(self) -> list[App]:
        out = []
        seen: set[int] = set()
        for c in self.prog.calls:
            info = KERAS_APPS.get(c.name)
            known = info and (c.qual.startswith("keras.") or c.qual == c.name)
            if known and id(c.node) not in seen:
                seen.add(id(c.node))
                out.append(App(c, info))
        return out

    def app_of(self, node: ast.expr | None, ev: Event) -> App | None:
        site = self.prog.origin_call(node, ev)
        return next((a for a in self.apps if site and a.site.node is site.node), None)

    @cached_property
    def models(self) -> list[Model]:
        out = []
        for c in self.prog.calls:
            if c.name == "Sequential":
                out.append(self._sequential(c))
            elif c.name in ("Model", "Functional") and c.qual.startswith(("keras", "Model")):
                out.append(self._functional(c))
        return out

    @cached_property
    def _unbound_models(self) -> dict[str, Model]:
        """Models of fragments: ``model.add(layer)`` on a name the code shown never binds is
        a Sequential model built before the paste starts."""
        out: dict[str, Model] = {}
        for add in self.prog.method_calls("add"):
            recv = add.node.func.value
            if not isinstance(recv, ast.Name) or not add.node.args:
                continue
            if self.prog.lookup(recv.id, add.ev.idx, add.ev.scope) is not None:
                continue
            model = out.setdefault(recv.id, Model(add, [], complete=False))
            model.layers.append(self._layer(self.prog.origin_call(add.node.args[0], add.ev)))
        return out

    def model_of(self, node: ast.expr | None, ev: Event) -> Model | None:
        site = self.prog.origin_call(node, ev)
        if site is None:
            if isinstance(node, ast.Name) and self.prog.lookup(node.id, ev.idx, ev.scope) is None:
                return self._unbound_models.get(node.id)
            return None
        found = next((m for m in self.models if m.site.node is site.node), None)
        if found is None and (app := self.app_of(node, ev)):
            return Model(app.site, [Layer("app", app.site, app=app)])
        return found

    def _layer(self, site: CallSite | None, applied: ast.Call | None = None) -> Layer:
        if site is None:
            return Layer("?", None, applied)
        if site.name in ("TimeDistributed", "Bidirectional") and site.node.args:
            inner = self.prog.origin_call(site.node.args[0], site.ev)
            if inner is not None:  # TimeDistributed(Dense(k)): per step, the Dense's head
                return self._layer(inner, applied)
        app = next((a for a in self.apps if a.site.node is site.node), None)
        if app:
            return Layer("app", site, applied, app)
        if site.name in ("Sequential", "Model", "Functional"):
            return Layer("model", site, applied)
        if site.name in ("TimeDistributedDense", "MaxoutDense"):  # Keras 0.x/1 layers
            return Layer("Dense", site, applied)
        return Layer(site.name, site, applied)

    def _sequential(self, c: CallSite) -> Model:
        layers = []
        first = c.arg(0, "layers")
        if isinstance(first, ast.List | ast.Tuple):
            for elt in first.elts:
                layers.append(self._layer(self.prog.origin_call(elt, c.ev)))
        for add in self.prog.method_calls("add"):
            r = self.prog.receiver(add)
            if r is not None and r.node is c.node and add.node.args:
                layers.append(self._layer(self.prog.origin_call(add.node.args[0], add.ev)))
        return Model(c, layers)

    def _functional(self, c: CallSite) -> Model:
        out = c.arg(1, "outputs") or c.kw("output")
        layers: list[Layer] = []
        complete = False
        node, at = out, c.ev
        for _ in range(200):
            if node is None:
                break
            r = self.prog.origin(node, at.idx, at.scope)
            at, n = r, r.node
            if isinstance(n, ast.List | ast.Tuple) and len(n.elts) == 1:
                node = n.elts[0]  # Model(inputs=[inp], outputs=[out]): one output
                continue
            if isinstance(n, ast.Attribute) and n.attr == "output":
                base = self.prog.origin_call(n.value, at)
                layers.append(self._layer(base))
                complete = True
                given = base.kw("input_tensor") if base is not None else None
                if given is None:
                    break
                # VGG16(input_tensor=Lambda(preprocess_input)(inputs)): the steps before it
                node, at, complete = given, base.ev, False
                continue
            if not isinstance(n, ast.Call):
                break
            site = self.prog.call_site(n)
            if site and site.name in ("Input", "InputLayer"):
                complete = True
                break
            if isinstance(n.func, ast.Call):
                layers.append(self._layer(self.prog.call_site(n.func), n))
            else:
                fsite = self.prog.origin_call(n.func, at)
                if fsite is not None:
                    layers.append(self._layer(fsite, n))
                else:
                    ev = self.prog.events[min(r.idx, len(self.prog.events) - 1)]
                    q = canon(self.prog.qualname(n.func, r.idx, r.scope))
                    layers.append(Layer("fn", CallSite(n, ev, q), n))
            node = n.args[0] if n.args else None
        return Model(c, list(reversed(layers)), complete)

    # -- losses, metrics, optimisers --------------------------------------------------------
    def loss(self, compile_site: CallSite) -> tuple[str, bool, int] | None:
        """(kind, from_logits, line) with kind binary / categorical / sparse / other."""
        node = compile_site.arg(1, "loss")
        if node is None:
            return None
        ev = compile_site.ev
        v = self.prog.const(node, ev.idx, ev.scope)
        if isinstance(v, str):
            return _loss_kind(v), False, node.lineno
        site = self.prog.origin_call(node, ev)
        if site is not None:
            fl = self.prog.const(site.kw("from_logits"), site.ev.idx, site.ev.scope)
            return _loss_kind(site.name), fl is True, node.lineno
        q = canon(self.prog.qualname(node, ev.idx, ev.scope))
        return (_loss_kind(last(q)), False, node.lineno) if q else None

    def metrics(self, compile_site: CallSite) -> list[str | None]:
        """Logged metric names (None for a metric whose name cannot be told)."""
        node = compile_site.arg(2, "metrics")
        if node is None:
            return []
        ev = compile_site.ev
        r = self.prog.origin(node, ev.idx, ev.scope)
        if not isinstance(r.node, ast.List | ast.Tuple):
            return [None]
        names: list[str | None] = []
        for elt in r.node.elts:
            v = self.prog.const(elt, r.idx, r.scope)
            if isinstance(v, str):
                names.append(v)
                continue
            site = self.prog.origin_call(elt, r)
            if site is not None:
                given = self.prog.const(site.kw("name"), site.ev.idx, site.ev.scope)
                names.append(given if isinstance(given, str) else _snake(site.name))
            elif isinstance(elt, ast.Name):
                names.append(elt.id)
            else:
                names.append(None)
        return names

    def learning_rate(self, compile_site: CallSite) -> tuple[str, object, int] | None:
        """(optimizer name, lr or UNKNOWN, line) of a compile call."""
        node = compile_site.arg(0, "optimizer")
        if node is None:
            return ("rmsprop", 1e-3, compile_site.node.lineno)
        ev = compile_site.ev
        v = self.prog.const(node, ev.idx, ev.scope)
        if isinstance(v, str):
            return v.lower(), keras_default_lr(v), node.lineno
        site = self.prog.origin_call(node, ev)
        if site is None:
            return None
        lr_node = site.kw("learning_rate") or site.kw("lr") or site.arg(0)
        if lr_node is None:
            lr = keras_default_lr(site.name)
        else:
            lr = self.prog.const(lr_node, site.ev.idx, site.ev.scope)
        return site.name.lower(), lr, site.node.lineno

    # -- data --------------------------------------------------------------------------------
    @cached_property
    def flows(self) -> list[Flow]:
        out = []
        seen: set[int] = set()
        for c in self.prog.calls:
            if c.name not in _FLOWS or id(c.node) in seen:
                continue  # a function called twice runs the same flow call twice: one flow
            seen.add(id(c.node))
            datagen = None
            if c.name != "image_dataset_from_directory":
                r = self.prog.receiver(c)
                if r is None:
                    continue
                if not isinstance(r.node, ast.Call):
                    # a fragment: ``train_datagen.flow_from_directory(...)`` on a generator
                    # made in code not shown (flow() also exists on other objects)
                    if c.name == "flow" or not isinstance(r.node, ast.Name | ast.Attribute):
                        continue
                    out.append(Flow(self, c, None))
                    continue
                datagen = self.prog.call_site(r.node)
                if datagen is None or datagen.name != "ImageDataGenerator":
                    continue
            out.append(Flow(self, c, datagen))
        self.__dict__["flows"] = out  # visible to flow_of while the roles are worked out
        for f in out:
            f.role = f.usage_role() or f.name_role()
        return out

    def flow_of(self, node: ast.expr | None, ev: Event) -> Flow | None:
        """The flow behind a data argument, through ``ds.map(...).prefetch(...)`` chains."""
        for _ in range(20):
            r = self.prog.origin(node, ev.idx, ev.scope) if node is not None else None
            if r is not None and isinstance(r.node, ast.Subscript):  # batch = next(gen); batch[0]
                node, ev = r.node.value, self.prog.events[min(r.idx, len(self.prog.events) - 1)]
                continue
            site = self.prog.origin_call(node, ev)
            if site is None:
                return None
            if site.name in ("next", "__next__") and (site.node.args or site.node.func):
                fn = site.node.func
                node = site.node.args[0] if site.node.args else getattr(fn, "value", None)
                ev = site.ev
                if node is not None:
                    continue
            f = next((f for f in self.flows if f.site.node is site.node), None)
            if f is not None:
                return f
            fn = site.node.func
            if isinstance(fn, ast.Attribute) and fn.attr in _DATASET_METHODS:
                node, ev = fn.value, site.ev
                continue
            return None
        return None

    def fits(self) -> list[CallSite]:
        return list(self._fits)

    def compiles(self) -> list[CallSite]:
        return list(self._compiles)

    @cached_property
    def _fits(self) -> list[CallSite]:
        fits = self.prog.method_calls("fit") + self.prog.method_calls("fit_generator")
        return sorted(fits, key=lambda c: c.ev.idx)

    @cached_property
    def _compiles(self) -> list[CallSite]:
        return self.prog.method_calls("compile")

    def same_receiver(self, a: CallSite, b: CallSite) -> bool:
        ra, rb = self.prog.receiver(a), self.prog.receiver(b)
        if ra is None or rb is None:
            return False
        if isinstance(ra.node, ast.Name) and isinstance(rb.node, ast.Name):
            return ra.node.id == rb.node.id
        return ra.node is rb.node

    def compile_for(self, fit: CallSite) -> CallSite | None:
        """The compile call in force when ``fit`` runs (same model, latest before it)."""
        key = (id(fit.node), fit.ev.idx)
        if key not in self._compile_of:
            before = [c for c in self._compiles if c.ev.idx < fit.ev.idx]
            self._compile_of[key] = next(
                (c for c in reversed(before) if self.same_receiver(c, fit)), None
            )
        return self._compile_of[key]

    def fits_for(self, comp: CallSite) -> list[CallSite]:
        return [f for f in self.fits() if self.compile_for(f) is comp]

    def model_for(self, site: CallSite) -> Model | None:
        """The model ``site`` (``model.compile``/``model.fit``) is called on."""
        if not isinstance(site.node.func, ast.Attribute):
            return None
        return self.model_of(site.node.func.value, site.ev)

    def label_format(self, fit: CallSite) -> str | None:
        flow = self.flow_of(fit.arg(0, "x") or fit.kw("generator"), fit.ev)
        if flow is not None:
            return flow.label_format
        y = self._label_source(fit.arg(1, "y"), fit.ev)
        if y is None:
            return None
        if y.name in ("to_categorical", "get_dummies"):
            return "onehot"
        if y.name in ("fit_transform", "transform") and isinstance(y.node.func, ast.Attribute):
            # LabelBinarizer / OneHotEncoder: one 1 per row; MultiLabelBinarizer: multi-hot
            enc = self.prog.origin_call(y.node.func.value, y.ev)
            if enc is not None and enc.name in ("LabelBinarizer", "OneHotEncoder"):
                return "onehot"
        return None

    def _label_source(self, node: ast.expr | None, at) -> CallSite | None:
        """The call that made the labels, through ``.values``, ``.to_numpy()``,
        ``.astype(...)`` and ``np.array(...)``."""
        for _ in range(4):
            if node is None:
                return None
            r = self.prog.origin(node, at.idx, at.scope)
            if isinstance(r.node, ast.Attribute) and r.node.attr == "values":
                node, at = r.node.value, r
                continue
            site = self.prog.origin_call(node, at)
            if site is None:
                return None
            if site.name in ("to_numpy", "astype") and isinstance(site.node.func, ast.Attribute):
                node, at = site.node.func.value, site.ev
                continue
            if site.name in ("array", "asarray") and site.node.args:
                node, at = site.node.args[0], site.ev
                continue
            return site
        return None

    def has_validation(self, fit: CallSite) -> bool:
        if fit.kw("validation_data") is not None:
            return True
        split = self.prog.const(fit.kw("validation_split"), fit.ev.idx, fit.ev.scope)
        return isinstance(split, int | float) and split > 0


@dataclass
class Flow:
    """A stream of images: ``flow_from_directory``, ``flow``, ``image_dataset_from_directory``."""

    ks: KerasScript
    site: CallSite
    datagen: CallSite | None
    role: str | None = None

    def kwc(self, name: str, default=UNKNOWN, site: CallSite | None = None):
        s = site or self.site
        node = s.kw(name)
        if node is None:
            return default
        return self.ks.prog.const(node, s.ev.idx, s.ev.scope)

    @property
    def line(self) -> int:
        return self.site.node.lineno

    @property
    def var(self) -> str | None:
        return self.ks.prog.assigned_name(self.site.node)

    @property
    def directory(self):
        if self.site.name == "flow":
            return UNKNOWN
        pos = 1 if self.site.name == "flow_from_dataframe" else 0
        node = self.site.arg(pos, "directory")
        return self.ks.prog.const(node, self.site.ev.idx, self.site.ev.scope)

    @property
    def size(self):
        if self.site.name == "image_dataset_from_directory":
            v = self.kwc("image_size", (256, 256))
        elif self.site.name == "flow":
            return UNKNOWN
        else:
            v = self.kwc("target_size", (256, 256))
        return tuple(v) if isinstance(v, tuple | list) and len(v) == 2 else UNKNOWN

    @property
    def shuffle(self):
        return self.kwc("shuffle", True)

    @property
    def label_format(self) -> str | None:
        """``onehot``, ``binary``, ``int`` or None (other / unknown)."""
        if self.site.name == "image_dataset_from_directory":
            mode = self.kwc("label_mode", "int")
            return {"int": "int", "categorical": "onehot", "binary": "binary"}.get(mode)
        if self.site.name == "flow":
            return None
        mode = self.kwc("class_mode", "categorical")
        if self.site.name == "flow_from_dataframe" and mode == "categorical":
            return None  # y_col may hold lists of labels: multi-hot, a legitimate multi-label setup
        return {"categorical": "onehot", "binary": "binary", "sparse": "int"}.get(mode)

    @property
    def augmenting(self) -> list[str]:
        if self.datagen is None:
            return []
        out = []
        dg = self.datagen
        for k in dg.node.keywords:
            if k.arg in KERAS_AUG_KWARGS:
                v = self.ks.prog.const(k.value, dg.ev.idx, dg.ev.scope)
                if v not in (0, 0.0, False, None, (1, 1), [1, 1], (1.0, 1.0)):
                    out.append(k.arg)
            elif k.arg is None:  # ImageDataGenerator(**data_gen_args)
                d = self.ks.prog.const(k.value, dg.ev.idx, dg.ev.scope)
                for key, v in d.items() if isinstance(d, dict) else ():
                    if key in KERAS_AUG_KWARGS and v not in (0, 0.0, False, None, (1, 1)):
                        out.append(key)
        return out

    def usage_role(self) -> str | None:
        prog = self.ks.prog
        for c in prog.calls:
            if c.name in ("fit", "fit_generator"):
                if self.ks.flow_of(c.arg(0, "x") or c.kw("generator"), c.ev) is self:
                    return "train"
                if self.ks.flow_of(c.kw("validation_data"), c.ev) is self:
                    return "val"
            elif c.name in ("evaluate", "evaluate_generator"):
                if self.ks.flow_of(c.arg(0, "x") or c.kw("generator"), c.ev) is self:
                    return "test"
            elif (
                c.name in ("predict", "predict_generator")
                and self.ks.flow_of(c.arg(0, "x") or c.kw("generator"), c.ev) is self
            ):
                return "predict"
        return None

    def name_role(self) -> str | None:
        subset = self.kwc("subset", None)
        if subset in ("training", "train"):
            return "train"
        if subset in ("validation", "val"):
            return "val"
        for text in (self.var, self.directory if isinstance(self.directory, str) else None):
            if text and (r := role_of(text)):
                return r
        return None


_ROLE_AFFIX = re.compile(
    r"^(?:(?:x|y|my|the|full|img|image|images)?)"
    r"(train|training|trn|test|testing|val|valid|validation|eval|holdout|dev)"
    r"(?:set|sets|loader|loaders|data|dataset|ds|dl|gen|generator|iter|batches|dir|path|"
    r"folder|imgs|images|x|y|labels|flow)?$"
)


def role_of(text: str) -> str | None:
    """``train`` / ``val`` / ``test`` from a variable name or a path (``trainloader``,
    ``testset``, ``valid_gen``, ``data/validation``)."""
    words = set(re.split(r"[^a-z]+", re.sub(r"([a-z])([A-Z])", r"\1_\2", text).lower()))
    words |= {m.group(1) for w in words if (m := _ROLE_AFFIX.match(w))}
    if words & {"val", "valid", "validation", "validate", "dev"}:
        return "val"
    if words & {"test", "testing", "eval", "evaluate", "evaluation", "holdout"}:
        return "test"
    if words & {"train", "training", "trn"}:
        return "train"
    return None


def preprocess_module(qual: str) -> str | None:
    """``keras.applications.vgg16.preprocess_input`` → ``vgg16``."""
    parts = qual.split(".")
    if parts[-1] != "preprocess_input":
        return None
    for p in reversed(parts[:-1]):
        if p in PREPROCESS_MODULES:
            return p
    return None


def _loss_kind(name: str) -> str:
    n = name.lower().replace("_", "")
    if n.startswith("sparsecategorical"):
        return "sparse"
    if n.startswith("categorical") or n == "cce":
        return "categorical"
    if n.startswith("binary") or n == "bce":
        return "binary"
    return "other"


def _snake(name: str) -> str:
    s = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()
    return {"a_u_c": "auc", "auc": "auc"}.get(s, s)


def trainable_sets(prog: Program) -> list[tuple[Event, ast.expr, object]]:
    """``x.trainable = value`` statements: (event, target object expr, value or UNKNOWN)."""
    if "trainable_sets" in prog.memo:
        return prog.memo["trainable_sets"]
    out = prog.memo["trainable_sets"] = []
    for ev in prog.events:
        n = ev.node
        if isinstance(n, ast.Assign):
            for t in n.targets:
                if isinstance(t, ast.Attribute) and t.attr == "trainable":
                    out.append((ev, t.value, prog.const(n.value, ev.idx, ev.scope)))
    return out


def target_root(prog: Program, node: ast.expr, ev: Event) -> ast.expr:
    """The object whose layers are (un)frozen: ``base`` for ``layer`` in
    ``for layer in base.layers[:n]``, ``base.get_layer("x")`` or ``model.layers[0]``."""
    n = node
    for _ in range(12):
        if isinstance(n, ast.Name):
            r = prog.origin(n, ev.idx, ev.scope)
            if isinstance(r.node, ElementOf) and r.node.index is None:
                n = r.node.value  # a loop variable: look at what is iterated
                continue
            return n
        if isinstance(n, ast.Subscript) or (isinstance(n, ast.Attribute) and n.attr == "layers"):
            n = n.value
        elif (
            isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute)
            and (n.func.attr == "get_layer")
        ):
            n = n.func.value
        else:
            return n
    return n


def _old_api(prog, site) -> bool:
    """Keras 0.x ``Dense(input_dim, output_dim)``: the second positional argument is a count,
    where Keras >= 1 has the activation."""
    if len(site.node.args) < 2:
        return False
    return isinstance(prog.const(site.node.args[1], site.ev.idx, site.ev.scope), int)


def dense_units(prog, site):
    """Output units of a Dense call: ``units`` / first argument, Keras 1's ``output_dim=``,
    or the second argument of Keras 0.x ``Dense(input_dim, output_dim)``."""
    if _old_api(prog, site):
        return prog.const(site.node.args[1], site.ev.idx, site.ev.scope)
    node = site.arg(0, "units")
    if node is None:
        node = site.kw("output_dim")
    return prog.const(node, site.ev.idx, site.ev.scope)


def dense_activation(prog, site):
    if _old_api(prog, site):
        return activation_of(prog, site.kw("activation"), site.ev)
    return activation_of(prog, site.arg(1, "activation"), site.ev)
