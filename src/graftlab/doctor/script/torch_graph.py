"""What a PyTorch script builds: backbones, heads, losses, transforms, datasets and loaders."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field, replace
from functools import cached_property

from graftlab.doctor.script.flow import (
    UNKNOWN,
    CallSite,
    ElementOf,
    Event,
    Program,
    Ref,
    canon,
    dotted,
    last,
)
from graftlab.doctor.script.keras_graph import role_of
from graftlab.doctor.script.knowledge import TORCH_RANDOM_TRANSFORMS, timm_size, torchvision_size
from graftlab.doctor.script.torch_roles import (
    path_role,
    role_from_loaders,
    transform_params,
    usage_role,
)

_WRAPPERS = {
    "to",
    "cuda",
    "cpu",
    "float",
    "double",
    "half",
    "train",
    "eval",
    "requires_grad_",
    "share_memory",
    "bfloat16",
}
_LOSS_CALL = re.compile(r"(?i)loss|criterion|cross_entropy|nll")
_MODEL_WORDS = re.compile(r"model|net|classifier|backbone|resnet|vgg|densenet|efficientnet|vit")
HEAD_ATTRS = {"fc", "classifier", "head", "heads", "last_linear", "_fc", "top"}
ACTIVATIONS = {
    "softmax": "softmax",
    "Softmax": "softmax",
    "log_softmax": "log_softmax",
    "LogSoftmax": "log_softmax",
    "sigmoid": "sigmoid",
    "Sigmoid": "sigmoid",
    "Linear": "linear",
}
LOSSES = {
    "CrossEntropyLoss": "ce",
    "cross_entropy": "ce",
    "NLLLoss": "nll",
    "nll_loss": "nll",
    "BCELoss": "bce",
    "binary_cross_entropy": "bce",
    "BCEWithLogitsLoss": "bcel",
    "binary_cross_entropy_with_logits": "bcel",
}
# ``transforms.Compose`` / ``T.Compose`` in fragments whose imports are not shown
_COMPOSE_PREFIXES = (
    "torchvision",
    "Compose",
    "transforms.",
    "T.",
    "tvt.",
    "trn.",
    "albumentations",
    "A.",
)
_DATASETS = {
    "ImageFolder",
    "DatasetFolder",
    "CIFAR10",
    "CIFAR100",
    "MNIST",
    "FashionMNIST",
    "ImageNet",
    "Food101",
    "OxfordIIITPet",
    "Flowers102",
    "STL10",
    "Caltech101",
}


@dataclass
class TorchModel:
    """A network the script builds: torchvision/timm backbone, nn.Module class, Sequential."""

    site: CallSite
    # "torchvision" | "timm" | "class" | "sequential" | "hub" (torch.hub.load), "loaded"
    # (torch.load of a whole model), "inferred" (a name that is called like a model and
    # never bound in the code shown)
    kind: str
    name: str
    pretrained: bool
    cls: ast.ClassDef | None = None

    @property
    def line(self) -> int:
        return self.site.node.lineno


# tensor methods that regroup the elements (a softmax after them runs over another axis) or
# keep the shape
_RESHAPES = {"view", "reshape", "flatten", "transpose", "permute", "t", "unflatten", "expand"}
_KEEP_SHAPE = {"float", "double", "contiguous", "to", "type"}


@dataclass
class Head:
    activation: str | None  # softmax / log_softmax / sigmoid / linear / None (unknown)
    units: object  # int or UNKNOWN
    line: int
    eval_only: bool = False  # applied under ``if not self.training``: evaluation outputs only
    inferred: bool = False  # the model was matched to its class by a guess, not by the code
    link: str = ""  # another link inferred on the way to the loss, said in the evidence
    link_line: int = 0  # the line that link rests on, cited with the head
    # the width is the last nn.Linear the module defines, not traced to the activation's input
    units_inferred: bool = False


@dataclass
class Pipeline:
    """A transform: ``Compose([...])``, timm ``create_transform``, ``weights.transforms()``."""

    site: CallSite
    kind: str  # "compose" | "library"
    steps: list[CallSite] = field(default_factory=list)
    role: str | None = None

    @property
    def line(self) -> int:
        return self.site.node.lineno

    def step(self, *names: str) -> CallSite | None:
        return next((s for s in self.steps if s.name in names), None)

    @property
    def random(self) -> list[str]:
        return [s.name for s in self.steps if s.name in TORCH_RANDOM_TRANSFORMS]


@dataclass
class Dataset:
    site: CallSite
    pipeline: Pipeline | None
    role: str | None
    root: object  # str or UNKNOWN
    parent: Dataset | None = None  # for random_split / Subset

    @property
    def line(self) -> int:
        return self.site.node.lineno


class TorchScript:
    """Lazily computed PyTorch facts of one script."""

    def __init__(self, prog: Program) -> None:
        self.prog = prog
        self._building_datasets = False

    def unwrap(self, node: ast.expr | None, at: Event | Ref) -> Ref | None:
        """Origin of a model reference through ``.to(device)``, ``.cuda()``, ``DataParallel``."""
        if node is None:
            return None
        for _ in range(10):
            r = self.prog.origin(node, at.idx, at.scope)
            n = r.node
            if (
                isinstance(n, ast.Call)
                and isinstance(n.func, ast.Attribute)
                and (n.func.attr in _WRAPPERS)
            ):
                node, at = n.func.value, r
                continue
            if isinstance(n, ast.Call) and n.args and isinstance(n.func, ast.Name | ast.Attribute):
                q = last(canon(self.prog.qualname(n.func, r.idx, r.scope)))
                if q in ("DataParallel", "DistributedDataParallel", "compile"):
                    node, at = n.args[0], r
                    continue
            return r
        return None

    @cached_property
    def models(self) -> list[TorchModel]:
        out = []
        for c in self.prog.calls:
            pre = self._pretrained(c)
            if c.qual.startswith("torchvision.models") and torchvision_size(c.name):
                out.append(TorchModel(c, "torchvision", c.name, pre))
            elif c.name == "create_model" and c.qual.startswith("timm"):
                name = self.prog.const(c.arg(0, "model_name"), c.ev.idx, c.ev.scope)
                out.append(TorchModel(c, "timm", name if isinstance(name, str) else "?", pre))
            elif c.name in self.prog.classes:
                cls = self.prog.class_at.get(id(c.node), self.prog.classes[c.name])
                if _is_module(cls):
                    out.append(TorchModel(c, "class", c.name, False, cls))
            elif c.name == "Sequential" and c.qual.startswith("torch"):
                out.append(TorchModel(c, "sequential", "Sequential", False))
            elif c.qual in ("torch.hub.load",):
                name = self.prog.const(c.arg(1, "model"), c.ev.idx, c.ev.scope)
                out.append(TorchModel(c, "hub", name if isinstance(name, str) else "?", True))
            elif c.qual in ("torch.load", "torch.jit.load") and self._called(c):
                out.append(TorchModel(c, "loaded", "the loaded model", True))
            elif c.name == "load_from_checkpoint":  # LightningModule.load_from_checkpoint(path)
                out.append(TorchModel(c, "loaded", "the model loaded from the checkpoint", True))
            elif self._named_pretrained(c):
                # resnet18(pretrained=True) from the poster's own module, pretrainedmodels...
                out.append(TorchModel(c, "pretrained", c.name or "the model", True))
        return out

    def _named_pretrained(self, c: CallSite) -> bool:
        """A constructor asked for pretrained weights by keyword (``pretrained=True``,
        ``pretrained='imagenet'``, ``weights='DEFAULT'``), whatever library it comes from."""
        if c.name.endswith(("Sampler", "Loss")) or c.name in ("load_state_dict", "load"):
            return False
        p = self.prog.const(c.kw("pretrained"), c.ev.idx, c.ev.scope)
        if p is True or (isinstance(p, str) and p):
            return True
        w = c.kw("weights")
        if w is None:
            return False
        v = self.prog.const(w, c.ev.idx, c.ev.scope)
        text = v if isinstance(v, str) else ast.unparse(w)
        return bool(re.search(r"imagenet|DEFAULT|IMAGENET", text))

    def _called(self, load: CallSite) -> bool:
        """Whether what ``torch.load`` returned is called like a module (``model(x)``,
        ``model.eval()``), rather than being a state dict."""
        for c in self.prog.calls:
            f = c.node.func
            target = f.value if isinstance(f, ast.Attribute) and f.attr in _WRAPPERS else f
            if isinstance(f, ast.Attribute) and f.attr not in _WRAPPERS:
                continue
            r = self.unwrap(target, c.ev)
            if r is not None and r.node is load.node:
                return True
        return False

    def guess_model(self, call: CallSite) -> TorchModel | None:
        """A model inferred from a call ``model(x)`` whose name is bound nowhere in the code
        shown (a fragment, a parameter of a function that is never called), when the name
        says it is a network. All calls through one name share one guess."""
        f = call.node.func
        name = f.id if isinstance(f, ast.Name) else dotted(f)
        if not name:
            return None
        if (
            not _MODEL_WORDS.search(name.rsplit(".", 1)[-1].lower())
            and name not in self._used_as_modules
        ):
            return None
        if name in self.prog.classes or name in self.prog.functions or not call.node.args:
            return None
        root = name.split(".", 1)[0]
        if "." in name and root != "self":
            return None  # ``timm.create_model(...)``, ``models.resnet18(...)``: a factory
        r = self.unwrap(f, call.ev) or self.prog.origin(f, call.ev.idx, call.ev.scope)
        if isinstance(r.node, ast.Call):
            # made by a constructor of a library the code shown does not include
            # (``vgg.vgg16_bn(num_classes=10)`` from the poster's own package)
            ctor = last(canon(self.prog.qualname(r.node.func, r.idx, r.scope) or ""))
            known = ctor in self.prog.classes or ctor in self.prog.functions
            if known or not _MODEL_WORDS.search(ctor.lower()):
                return None
        else:
            end = r.node.id if isinstance(r.node, ast.Name) else dotted(r.node)
            if end is None or self.prog.lookup(end, r.idx, r.scope) is not None:
                return None  # bound to something the script builds or imports: not a guess
        guesses = self.prog.memo.setdefault("torch_guesses", {})
        if name not in guesses:
            guesses[name] = TorchModel(call, "inferred", name, False)
        return guesses[name]

    @cached_property
    def _used_as_modules(self) -> set[str]:
        """Names the code treats as networks whatever they are called (``self.phi.train()``,
        ``optim.SGD(self.phi.parameters())``)."""
        out = set()
        for method in ("train", "eval", "parameters", "named_parameters", "modules", "children"):
            for c in self.prog.method_calls(method):
                name = dotted(c.node.func.value)
                if name and not name.endswith(("optimizer", "opt", "scheduler")):
                    out.add(name)
        # ``loss = F.cross_entropy(self.phi(x), y)``: what produces a loss's input is a network
        for c in self.prog.calls:
            if not _LOSS_CALL.search(c.name):
                continue
            for a in c.node.args[:1]:
                r = self.prog.origin(a, c.ev.idx, c.ev.scope)
                if isinstance(r.node, ast.Call) and r.node.args:
                    name = dotted(r.node.func)
                    known = name in self.prog.classes or name in self.prog.functions
                    if name and not known and "." not in name.removeprefix("self."):
                        out.add(name)
        return out

    def _pretrained(self, c: CallSite) -> bool:
        p = self.prog.const(c.kw("pretrained"), c.ev.idx, c.ev.scope)
        if p is True:
            return True
        w = c.kw("weights")
        return w is not None and not (isinstance(w, ast.Constant) and w.value is None)

    def model_of(self, node: ast.expr | None, at: Event | Ref) -> TorchModel | None:
        r = self.unwrap(node, at)
        if r is None or not isinstance(r.node, ast.Call):
            return None
        return next((m for m in self.models if m.site.node is r.node), None)

    @property
    def backbones(self) -> list[TorchModel]:
        return [m for m in self.models if m.kind in ("torchvision", "timm") and m.pretrained]

    def contains_backbone(self, model: TorchModel) -> TorchModel | None:
        """The pretrained backbone inside ``model`` (itself, or built in its class)."""
        if model.kind in ("torchvision", "timm"):
            return model if model.pretrained else None
        if model.cls is not None:
            inner = {id(n) for n in ast.walk(model.cls)}
            return next((b for b in self.backbones if id(b.site.node) in inner), None) or (
                self.backbones[0]
                if len(self.backbones) == 1 and _calls_backbone(model.cls)
                else None
            )
        if model.kind == "sequential":
            return next(
                (
                    self.model_of(a, model.site.ev)
                    for a in model.site.node.args
                    if self.model_of(a, model.site.ev)
                ),
                None,
            )
        return None

    # -- heads -------------------------------------------------------------------------------
    def head(self, model: TorchModel) -> Head | None:
        base = self._head(model)
        if base is None or model.kind not in ("torchvision", "timm"):
            return base
        # ``model.classifier.add_module('7', nn.Softmax(dim=1))`` after construction: the
        # network now ends in that activation
        for c in self.prog.method_calls("add_module"):
            recv = c.node.func.value
            owner = recv.value if isinstance(recv, ast.Attribute) else recv
            if isinstance(recv, ast.Attribute) and recv.attr not in HEAD_ATTRS:
                continue
            if len(c.node.args) < 2 or self.model_of(owner, c.ev) is not model:
                continue
            added = self.prog.origin_call(c.node.args[1], c.ev)
            if added is not None and added.name in ACTIVATIONS and c.ev.idx > model.site.ev.idx:
                base = Head(ACTIVATIONS[added.name], base.units, c.node.lineno)
        return base

    def _head(self, model: TorchModel) -> Head | None:
        if model.kind in ("torchvision", "timm"):
            assigned = self._assigned_head(model)
            if assigned is not None:
                return self._module_head(assigned[0], assigned[1])
            if model.kind == "timm":
                n = self.prog.const(
                    model.site.kw("num_classes"), model.site.ev.idx, model.site.ev.scope
                )
                return Head(
                    "linear", n if model.site.kw("num_classes") is not None else 1000, model.line
                )
            n = self.prog.const(
                model.site.kw("num_classes"), model.site.ev.idx, model.site.ev.scope
            )
            return Head(
                "linear", n if model.site.kw("num_classes") is not None else 1000, model.line
            )
        if model.kind == "sequential":
            return self._sequence_head(self.prog.items(list(model.site.node.args), model.site.ev))
        if model.cls is not None:
            return self._class_head(model.cls)
        return None

    def _assigned_head(self, model: TorchModel) -> tuple[ast.expr, Event] | None:
        found = None
        for ev in self.prog.events:
            n = ev.node
            if not isinstance(n, ast.Assign):
                continue
            for t in n.targets:
                attr_node = t.value if isinstance(t, ast.Subscript) else t
                if not isinstance(attr_node, ast.Attribute) or attr_node.attr not in HEAD_ATTRS:
                    if (
                        isinstance(attr_node, ast.Attribute)
                        and isinstance(attr_node.value, ast.Attribute)
                        and attr_node.value.attr in HEAD_ATTRS
                    ):
                        attr_node = attr_node.value  # model.heads.head = ...
                    else:
                        continue
                if self.model_of(attr_node.value, ev) is model:
                    found = (n.value, ev)
        for c in self.prog.method_calls("reset_classifier"):
            if self.model_of(c.node.func.value, c.ev) is model:
                return None
        return found

    def _module_head(self, node: ast.expr, at: Event | Ref) -> Head | None:
        site = self.prog.origin_call(node, at)
        if site is None:
            return None
        if site.name == "Sequential":
            args = list(site.node.args)
            named = self.prog.origin_call(args[0], site.ev) if len(args) == 1 else None
            if named is not None and named.name == "OrderedDict" and named.node.args:
                # Sequential(OrderedDict([('fc1', nn.Linear(...)), ..., ('out', nn.Softmax())]))
                pairs = self.prog.origin(named.node.args[0], named.ev.idx, named.ev.scope)
                if isinstance(pairs.node, ast.List | ast.Tuple):
                    elts = [
                        Ref(p.elts[1], pairs.idx, pairs.scope)
                        for p in pairs.node.elts
                        if isinstance(p, ast.Tuple) and len(p.elts) == 2
                    ]
                    return self._sequence_head(elts)
            return self._sequence_head(self.prog.items(args, site.ev))
        if site.name == "Linear":
            units = self.prog.const(site.arg(1, "out_features"), site.ev.idx, site.ev.scope)
            return Head("linear", units, site.node.lineno)
        return None

    def _sequence_head(self, elts: list[Ref]) -> Head | None:
        act, act_line = None, 0
        for ref in reversed(elts):
            e, at = ref.node, ref
            site = self.prog.origin_call(e, at)
            if site is None:
                return None
            if site.name in ("Dropout", "Flatten", "Identity", "BatchNorm1d"):
                continue
            if site.name in ("Softmax", "LogSoftmax", "Sigmoid") and act is None:
                act, act_line = ACTIVATIONS[site.name], site.node.lineno
                continue
            if site.name == "Linear":
                units = self.prog.const(site.arg(1, "out_features"), site.ev.idx, site.ev.scope)
                return Head(act or "linear", units, act_line or site.node.lineno)
            model = self.model_of(e, at)
            if model is not None:
                inner = self.head(model)
                if inner is not None and act:
                    return Head(act, inner.units, act_line)
                return inner
            return Head(act, UNKNOWN, act_line) if act else None
        return None

    def _class_head(self, cls: ast.ClassDef, index: int = 0, _depth: int = 0) -> Head | None:
        """The head of a module class: what its ``forward`` returns (element ``index`` of a
        returned tuple: ``return class_output, domain_output``)."""
        modules: dict[str, ast.Call] = {}
        added: dict[str, str] = {}  # self.x.add_module(name, nn.Softmax()): the last one added
        forward = None
        for fn in cls.body:
            if not isinstance(fn, ast.FunctionDef):
                continue
            if fn.name == "forward":
                forward = fn
            for n in ast.walk(fn):
                if (
                    isinstance(n, ast.Call)
                    and isinstance(n.func, ast.Attribute)
                    and n.func.attr == "add_module"
                    and len(n.args) == 2
                    and isinstance(n.func.value, ast.Attribute)
                    and isinstance(n.args[1], ast.Call)
                ):
                    added[n.func.value.attr] = last(
                        canon(self.prog.qualname(n.args[1].func, len(self.prog.events), 0))
                    )
                if isinstance(n, ast.Assign) and isinstance(n.value, ast.Call):
                    for t in n.targets:
                        if (
                            isinstance(t, ast.Attribute)
                            and isinstance(t.value, ast.Name)
                            and (t.value.id == "self")
                        ):
                            modules[t.attr] = n.value
        if forward is None:
            return None
        return self._method_head(cls, forward, modules, added, index, _depth)

    def _method_head(
        self,
        cls: ast.ClassDef,
        forward: ast.FunctionDef,
        modules: dict[str, ast.Call],
        added: dict[str, str],
        index: int,
        _depth: int,
    ) -> Head | None:
        """What one method of a module class returns: ``forward``, or a method it ends in
        (``return self.logits(x)``, as pretrained-model packages split forward())."""
        rets = [n for n in ast.walk(forward) if isinstance(n, ast.Return) and n.value]
        if not rets:
            return None
        value = rets[-1].value
        eval_only = False
        if isinstance(value, ast.Tuple):
            if index >= len(value.elts):
                return None
            value = value.elts[index]
        for _ in range(5):
            if isinstance(value, ast.Name):
                assigns = [
                    n
                    for n in ast.walk(forward)
                    if isinstance(n, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == value.id for t in n.targets)
                ]
                if not assigns:
                    return None
                eval_only = _under_not_training(forward, assigns[-1])
                value = assigns[-1].value
                continue
            break
        end = len(self.prog.events)
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Call):
            # ``nn.Softmax(1)(x)``: the layer built and applied in one expression
            name = last(canon(self.prog.qualname(value.func.func, end, 0)))
            if name in ("Softmax", "LogSoftmax", "Sigmoid"):
                units, guessed = self._act_units(forward, value, modules)
                return Head(
                    ACTIVATIONS[name], units, value.lineno, eval_only, units_inferred=guessed
                )
            return None
        if isinstance(value, ast.Call):
            f = value.func
            name = (
                last(canon(self.prog.qualname(f, end, 0)))
                if not (
                    isinstance(f, ast.Attribute)
                    and isinstance(f.value, ast.Name)
                    and f.value.id == "self"
                )
                else None
            )
            if isinstance(f, ast.Attribute) and f.attr in ("softmax", "log_softmax", "sigmoid"):
                name = f.attr
            if name in ACTIVATIONS:
                act = ACTIVATIONS[name]
                units, guessed = self._act_units(forward, value, modules)
                return Head(act, units, value.lineno, eval_only, units_inferred=guessed)
            if (
                isinstance(f, ast.Attribute)
                and isinstance(f.value, ast.Name)
                and (f.value.id == "self")
                and f.attr in modules
            ):
                ctor = modules[f.attr]
                cname = last(canon(self.prog.qualname(ctor.func, end, 0)))
                if cname in ("Softmax", "LogSoftmax", "Sigmoid"):
                    act = ACTIVATIONS[cname]
                    units, guessed = self._act_units(forward, value, modules)
                    return Head(act, units, value.lineno, eval_only, units_inferred=guessed)
                if cname == "Linear":
                    units = self.prog.const(_arg(ctor, 1, "out_features"), end, 0)
                    return Head("linear", units, value.lineno)
                if cname == "Sequential":
                    if added.get(f.attr) in ("Softmax", "LogSoftmax", "Sigmoid"):
                        act = ACTIVATIONS[added[f.attr]]
                        return Head(act, self._last_linear(modules), value.lineno)
                    return self._layers_head(list(ctor.args), {}, end, to_linear=True)
                inner = self.prog.classes.get(cname)
                if inner is not None and inner is not cls and _depth < 3 and _is_module(inner):
                    return self._class_head(inner, 0, _depth + 1)  # self.head = Head(...)
                if inner is None:
                    wrapped = self._wrapped_layer_head(value, modules, f.attr, cname)
                    if wrapped is not None:
                        return replace(wrapped, eval_only=eval_only)
            if (
                isinstance(f, ast.Attribute)
                and isinstance(f.value, ast.Name)
                and f.value.id == "self"
                and f.attr not in modules
                and _depth < 3
            ):
                method = next(
                    (
                        m
                        for m in cls.body
                        if isinstance(m, ast.FunctionDef) and m.name == f.attr and m is not forward
                    ),
                    None,
                )
                if method is not None:
                    return self._method_head(cls, method, modules, added, 0, _depth + 1)
        return None

    def _wrapped_layer_head(
        self, call: ast.Call, modules: dict[str, ast.Call], attr: str, cname: str
    ) -> Head | None:
        """``self.cd4(x, nn.Sequential(self.fc4, self.softmax))``: a module whose class the code
        does not show, called with a layer besides its input (a dropout or checkpoint wrapper
        that runs the layer it is given). Its output is taken to be that layer's output, so
        the head is the layer's, with the inference said in the link."""
        end = len(self.prog.events)
        for arg in [*call.args[1:], *(k.value for k in call.keywords)]:
            elts = [arg]
            if isinstance(arg, ast.Call) and not isinstance(arg.func, ast.Call):
                if last(canon(self.prog.qualname(arg.func, end, 0))) != "Sequential":
                    continue
                elts = list(arg.args)
            head = self._layers_head(elts, modules, end)
            if head is None or head.activation in (None, "linear"):
                continue  # only a wrapped activation changes what the wrapper is taken to end in
            link = (
                f"self.{attr} ({cname}, not defined in the code shown) is given the layer "
                f"{ast.unparse(arg)} and is taken to return that layer's output"
            )
            return replace(head, link=link, link_line=call.lineno)
        return None

    def _layers_head(
        self,
        elts: list[ast.expr],
        modules: dict[str, ast.Call],
        end: int,
        *,
        to_linear: bool = False,
    ):
        """The head of a chain of layers written inline or as ``self.<layer>`` attributes.

        ``to_linear``: only a chain that ends in a ``Linear`` (then its activation) has a
        head; otherwise an activation after any layer is one.
        """
        act, line = None, 0
        for e in reversed(elts):
            ctor = e
            if (
                isinstance(e, ast.Attribute)
                and isinstance(e.value, ast.Name)
                and e.value.id == "self"
                and e.attr in modules
            ):
                ctor = modules[e.attr]
            if not isinstance(ctor, ast.Call) or isinstance(ctor.func, ast.Call):
                return None
            name = last(canon(self.prog.qualname(ctor.func, end, 0)))
            if name in ("Dropout", "Flatten", "Identity"):
                continue
            if name in ("Softmax", "LogSoftmax", "Sigmoid") and act is None:
                act, line = ACTIVATIONS[name], e.lineno
                continue
            if name == "Linear":
                units = self.prog.const(_arg(ctor, 1, "out_features"), end, 0)
                return Head(act or "linear", units, line or e.lineno)
            break
        return Head(act, UNKNOWN, line) if act and not to_linear else None

    def _act_units(
        self, forward: ast.FunctionDef, act: ast.Call, modules: dict[str, ast.Call]
    ) -> tuple[object, bool]:
        """The width of what an activation in ``forward`` is applied to, and whether it was
        guessed: traced back through ``forward``'s assignments to a ``self.<Linear>`` call;
        unknown after a reshape (``scores.view(-1, n)`` turns one score per candidate into
        one row per question, ``softmax(dim=1)`` then runs over the candidates); else the
        last nn.Linear the module defines, a guess."""
        end = len(self.prog.events)
        f = act.func
        node = act.args[0] if act.args else None
        if node is None and isinstance(f, ast.Attribute) and f.attr in ACTIVATIONS:
            node = f.value  # x.softmax(1)
        line = act.lineno
        for _ in range(8):
            if isinstance(node, ast.Name):
                assigns = [
                    n
                    for n in ast.walk(forward)
                    if isinstance(n, ast.Assign)
                    and n.lineno < line
                    and any(isinstance(t, ast.Name) and t.id == node.id for t in n.targets)
                ]
                if not assigns:
                    break
                line = assigns[-1].lineno
                node = assigns[-1].value
                continue
            if not isinstance(node, ast.Call):
                break
            g = node.func
            name = last(canon(self.prog.qualname(g, end, 0))) if not isinstance(g, ast.Call) else ""
            if (isinstance(g, ast.Attribute) and g.attr in _RESHAPES) or name in ("cat", "stack"):
                return UNKNOWN, False
            if (
                isinstance(g, ast.Attribute)
                and isinstance(g.value, ast.Name)
                and g.value.id == "self"
                and g.attr in modules
            ):
                ctor = modules[g.attr]
                if last(canon(self.prog.qualname(ctor.func, end, 0))) == "Linear":
                    return self.prog.const(_arg(ctor, 1, "out_features"), end, 0), False
                break
            if isinstance(g, ast.Attribute) and g.attr in _KEEP_SHAPE:
                node = g.value
                continue
            break
        return self._last_linear(modules), True

    def _last_linear(self, modules: dict[str, ast.Call]) -> object:
        end = len(self.prog.events)
        units = UNKNOWN
        for ctor in modules.values():
            if last(canon(self.prog.qualname(ctor.func, end, 0))) == "Linear":
                units = self.prog.const(_arg(ctor, 1, "out_features"), end, 0)
        return units

    # -- data ----------------------------------------------------------------------------------
    @cached_property
    def pipelines(self) -> list[Pipeline]:
        out = []
        for c in self.prog.calls:
            if c.name == "Compose" and (
                c.qual.startswith(_COMPOSE_PREFIXES) or self._looks_like_transforms(c)
            ):
                steps = []
                arg = c.arg(0, "transforms")
                ref = self.prog.origin(arg, c.ev.idx, c.ev.scope) if arg is not None else None
                for e, at in self._list_items(ref.node if ref else None, ref):
                    s = self.prog.origin_call(e, at)
                    if s is not None:
                        steps.append(s)
                out.append(Pipeline(c, "compose", steps))
            elif c.name in ("create_transform", "transforms") and (
                c.qual.startswith("timm") or c.name == "transforms"
            ):
                out.append(Pipeline(c, "library"))
        for p in out:
            p.role = self._pipeline_role(p)
        self.__dict__["pipelines"] = out
        if not self._building_datasets:
            self.datasets  # noqa: B018  (gives unnamed pipelines the role of their use)
        return out

    def _looks_like_transforms(self, c: CallSite) -> bool:
        """``custom_transforms.Compose([...])`` of a project's own module: a Compose whose
        steps are named like image transforms."""
        arg = c.arg(0, "transforms")
        ref = self.prog.origin(arg, c.ev.idx, c.ev.scope) if arg is not None else None
        names = {
            last(canon(self.prog.qualname(e.func, at.idx, at.scope) or ""))
            for e, at in self._list_items(ref.node if ref else None, ref)
            if isinstance(e, ast.Call)
        }
        return bool(names & {"Normalize", "ToTensor", "ArrayToTensor", "Resize", "CenterCrop"})

    def _list_items(self, node, at, depth: int = 0) -> list:
        """Elements of a transform list, also when it is built in steps
        (``ops = [Resize(n)]; ops += [RandomCrop(n)]; ops += [ToTensor()]``)."""
        if node is None or depth > 8:
            return []
        if isinstance(node, ast.List | ast.Tuple):
            return [(e, at) for e in node.elts]
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            out = []
            for side in (node.left, node.right):
                r = self.prog.origin(side, at.idx, at.scope)
                out += self._list_items(r.node, r, depth + 1)
            return out
        return []

    def _pipeline_role(self, p: Pipeline) -> str | None:
        if p.kind == "library" and p.site.name == "create_transform":
            t = self.prog.const(p.site.kw("is_training"), p.site.ev.idx, p.site.ev.scope)
            return "train" if t is True else "val"
        name = self.prog.assigned_name(p.site.node)
        if name and (r := role_of(name)):
            return r
        key = self._dict_keys.get(id(p.site.node))  # data_transforms = {"train": Compose(...)}
        return role_of(key) if key else None

    @cached_property
    def _dict_keys(self) -> dict[int, str]:
        out = {}
        for n in ast.walk(self.prog.tree):
            if isinstance(n, ast.Dict):
                for k, v in zip(n.keys, n.values, strict=True):
                    if isinstance(k, ast.Constant) and isinstance(k.value, str):
                        out[id(v)] = k.value
        return out

    def pipeline_of(self, node: ast.expr | None, at: Event | Ref) -> Pipeline | None:
        site = self.prog.origin_call(node, at) if node is not None else None
        if site is None:
            return None
        return next((p for p in self.pipelines if p.site.node is site.node), None)

    @cached_property
    def datasets(self) -> list[Dataset]:
        self._building_datasets = True
        try:
            out = self._datasets()
        finally:
            self._building_datasets = False
        self._roles_from_use(out)
        return out

    def _roles_from_use(self, datasets: list[Dataset]) -> None:
        """A dataset that no name, path or flag gives a role takes the role its loaders' use
        shows, when that is training or per-epoch validation (a loop over it outside training
        may be feature extraction); a transform without a role takes the one role of the
        datasets it serves."""
        for d in datasets:
            if d.role is None and d.parent is None:
                d.role = role_from_loaders(self.prog, d.site)
        served: dict[int, set[str | None]] = {}
        for d in datasets:
            for p in self._pipelines_given(d):
                served.setdefault(id(p), set()).add(d.role)
        for p in self.pipelines:
            roles = served.get(id(p), set())
            if p.role is None and len(roles) == 1 and roles <= {"train", "val", "test"}:
                p.role = roles.pop()

    def _pipelines_given(self, d: Dataset) -> list[Pipeline]:
        """The transforms a dataset may be built with: its own, and those an if/else assigns
        to the name it is given (``tf = Compose(a) if ... else Compose(b)`` as statements)."""
        out = [d.pipeline] if d.pipeline is not None else []
        pos = 1 if d.site.name in ("ImageFolder", "DatasetFolder") else -1
        arg = d.site.arg(pos, "transform") if pos > 0 else d.site.kw("transform")
        if isinstance(arg, ast.Name):
            for b in self.prog.alternatives(arg.id, d.site.ev.idx, d.site.ev.scope):
                p = self.pipeline_of(b.value, Ref(b.value, b.vidx, b.vscope))
                if p is not None and p not in out:
                    out.append(p)
        return out

    def _datasets(self) -> list[Dataset]:
        out: list[Dataset] = []
        for c in self.prog.calls:
            own = c.name in self.prog.classes or c.name.endswith("Dataset")
            given = self._own_transform(c) if own else c.kw("transform")
            if c.name in _DATASETS or (own and given is not None):
                pos = 1 if c.name in ("ImageFolder", "DatasetFolder") else -1
                pipe = self.pipeline_of(c.arg(pos, "transform") if pos > 0 else given, c.ev)
                root = self.prog.const(c.arg(0, "root"), c.ev.idx, c.ev.scope)
                key = self._dict_keys.get(id(c.node))  # {"train": CIFAR10(...), "test": ...}
                role = _role(self.prog.assigned_name(c.node) or key, root) or self._flag_role(c)
                role = role or path_role(self.prog, c.arg(0, "root"), c.ev)
                out.append(Dataset(c, pipe, role, root))
        self.__dict__["datasets"] = out
        for c in self.prog.calls:
            if c.name in ("random_split", "Subset") and c.node.args:
                parent = self.dataset_of(c.node.args[0], c.ev)
                if parent is not None:
                    out.append(Dataset(c, parent.pipeline, None, parent.root, parent))
        return out

    def _own_transform(self, c: CallSite) -> ast.expr | None:
        """The transform given to the script's own dataset class: ``transform=`` or the
        positional argument of its ``__init__`` parameter named like one (``MyDS(df, tf)``
        with ``def __init__(self, df, transform)``)."""
        if (given := c.kw("transform")) is not None:
            return given
        init = self.prog.methods.get(c.name, {}).get("__init__")
        if init is None:
            return None
        kept = transform_params(init)
        for i, p in enumerate(init.args.args[1:]):
            if p.arg in kept:
                return c.arg(i, p.arg)
        return None

    def dataset_of(self, node: ast.expr | None, at: Event | Ref) -> Dataset | None:
        if node is None:
            return None
        r = self.prog.origin(node, at.idx, at.scope)
        n = r.node.value if isinstance(r.node, ElementOf) else r.node
        if not isinstance(n, ast.Call):
            return None
        return next((d for d in self.datasets if d.site.node is n), None)

    def loaders(self) -> list[tuple[CallSite, Dataset | None, str | None]]:
        """``(DataLoader call, its dataset, its role)`` for every loader the script builds."""
        memo = self.prog.memo
        if "torch.loaders" not in memo:
            memo["torch.loaders"] = self._loaders()
        return list(memo["torch.loaders"])

    def _loaders(self) -> list[tuple[CallSite, Dataset | None, str | None]]:
        out = []
        # DataLoader and its subclasses of other libraries (BatchMetaDataLoader, ...)
        sites = [c for c in self.prog.calls if c.name.endswith("DataLoader")]
        usage = {id(c.node): usage_role(self.prog, c) for c in sites}
        for c in sites:
            ds = self.dataset_of(c.arg(0, "dataset"), c.ev)
            name = self.prog.assigned_name(c.node)
            role = role_of(name) if name else None
            if role is None and isinstance(c.node.args[0] if c.node.args else None, ast.Name):
                role = role_of(c.node.args[0].id)
            used = usage[id(c.node)]
            if role is None and used not in (None, "train") and ds is not None:
                # a loader over the dataset another loader trains on, evaluated once per epoch
                # or holding indices a sampler kept out: validation, whatever it is called
                sampled = c.kw("sampler") is not None or c.kw("batch_sampler") is not None
                sibling = any(
                    usage[id(o.node)] == "train"
                    and self.dataset_of(o.arg(0, "dataset"), o.ev) is ds
                    for o in sites
                    if o is not c
                )
                role = "val" if sibling and (sampled or used == "val") else None
            # a loop that trains on a loader says it is the training loader; a loop that does
            # not may be evaluation or feature extraction, so that use comes last
            role = role or (used if used == "train" else None)
            role = role or (ds.role if ds else None) or self._split_role(c) or used
            out.append((c, ds, role))
        return out

    def _split_role(self, loader: CallSite) -> str | None:
        """The role the dataset's own split argument names: ``train=True``,
        ``split='val'``, ``meta_split='train'``."""
        site = self.prog.origin_call(loader.arg(0, "dataset"), loader.ev)
        return self._flag_role(site) if site is not None else None

    def _flag_role(self, site: CallSite) -> str | None:
        for kw in ("train", "split", "meta_split", "subset"):
            v = self.prog.const(site.kw(kw), site.ev.idx, site.ev.scope)
            if isinstance(v, bool):
                return "train" if v else "test"
            if isinstance(v, str) and (r := role_of(v)):
                return r
        return None


def _role(name: str | None, root: object) -> str | None:
    if name and (r := role_of(name)):
        return r
    return role_of(root) if isinstance(root, str) else None


def _under_not_training(fn: ast.FunctionDef, stmt: ast.stmt) -> bool:
    """Whether ``stmt`` sits under ``if not self.training:`` (or the else of
    ``if self.training:``) in ``fn``: it runs in eval mode only."""
    for n in ast.walk(fn):
        if not isinstance(n, ast.If) or "self.training" not in ast.unparse(n.test):
            continue
        negated = isinstance(n.test, ast.UnaryOp) or "not " in ast.unparse(n.test)
        branch = n.body if negated else n.orelse
        if any(stmt is m for b in branch for m in ast.walk(b)):
            return True
    return False


def _is_module(cls: ast.ClassDef) -> bool:
    """A torch module: its base says so, or (a framework's own module base, ``TrainableNM``)
    it defines ``forward`` and builds ``nn.`` layers into ``self``."""
    if any("Module" in ast.unparse(b) for b in cls.bases):
        return True
    methods = {f.name: f for f in cls.body if isinstance(f, ast.FunctionDef)}
    if "forward" not in methods or "__init__" not in methods:
        return False
    return any(
        isinstance(n, ast.Assign)
        and isinstance(n.value, ast.Call)
        and ast.unparse(n.value.func).startswith(("nn.", "torch.nn."))
        and any(ast.unparse(t).startswith("self.") for t in n.targets)
        for n in ast.walk(methods["__init__"])
    )


def _calls_backbone(cls: ast.ClassDef) -> bool:
    return any(
        isinstance(n, ast.Attribute)
        and n.attr in ("backbone", "base", "features", "encoder", "base_model")
        for n in ast.walk(cls)
    )


def _arg(call: ast.Call, pos: int, name: str) -> ast.expr | None:
    for k in call.keywords:
        if k.arg == name:
            return k.value
    return call.args[pos] if len(call.args) > pos else None


def torch_script(ctx) -> TorchScript:
    if "torch" not in ctx.cache:
        ctx.cache["torch"] = TorchScript(ctx.prog)
    return ctx.cache["torch"]


def timm_or_tv_size(model: TorchModel) -> int | None:
    """Native input side of a pretrained network: torchvision's constructors, a size written
    in a timm name, and a torchvision family name built through ``torch.hub.load`` or the
    poster's own module (``inception_v3(pretrained=True)``)."""
    if model.kind in ("torchvision", "hub", "pretrained"):
        return torchvision_size(model.name) if model.pretrained else None
    return timm_size(model.name) if model.kind == "timm" else None
