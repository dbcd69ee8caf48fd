"""The learning rates a script gives its optimizers, for findings of other targets to cite.

A training log that diverges says that the loss exploded, not why; the script given with it says
which optimizer and rate made the steps. :func:`optimizer_rates` reads every optimizer the
script builds (``torch.optim.SGD(params, lr=0.1)``, ``keras.optimizers.Adam(learning_rate=
base_lr)``, ``compile(optimizer="adam")``) with its rate folded to a number where the values
can be followed, and :func:`high` says whether that rate is the first suspect of a divergence.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from graftlab.doctor.script.flow import CallSite, Program, canon, last
from graftlab.doctor.script.parse import load_source
from graftlab.errors import DataError

#: Optimizers that scale steps per parameter: 1e-3 is their usual from-scratch rate.
ADAPTIVE = {"adam", "adamw", "nadam", "radam", "rmsprop", "adamax", "adagrad", "adadelta", "lion"}
#: Optimizers whose ``lr`` multiplies a step already sized by the method itself (Adadelta's
#: ratio of update and gradient RMS, L-BFGS's quasi-Newton step, Rprop's initial step that the
#: signs then grow or shrink): their published default is their normal rate, not a high one.
SELF_SIZED = {"adadelta", "lbfgs", "rprop"}
#: Rates at which a divergence points at the rate first: the usual from-scratch rates of
#: ImageNet training (SGD 0.1, Adam 1e-3) and above; a self-sized optimizer only above its
#: framework's default.
HIGH = {"sgd": 0.05, "adaptive": 1e-3}
#: torch 2.x's rate when none is given (``inspect.signature`` of each ``torch.optim`` class in
#: torch 2.14); SGD has had one since 2.2, before which ``lr`` was required.
TORCH_DEFAULT_LR = {
    "sgd": 1e-3,
    "asgd": 1e-2,
    "adam": 1e-3,
    "adamw": 1e-3,
    "radam": 1e-3,
    "sparseadam": 1e-3,
    "adamax": 2e-3,
    "nadam": 2e-3,
    "rmsprop": 1e-2,
    "adagrad": 1e-2,
    "rprop": 1e-2,
    "adadelta": 1.0,
    "lbfgs": 1.0,
}
#: Every optimizer whose rate this module reads.
OPTIMIZERS = ADAPTIVE | set(TORCH_DEFAULT_LR)


def keras_default_lr(optimizer: str) -> float:
    """Keras's rate when none is given: SGD 0.01, every other optimizer 0.001."""
    return 0.01 if optimizer.lower() == "sgd" else 1e-3


def torch_default_lr(optimizer: str) -> float | None:
    """torch's rate when none is given, or None for an optimizer outside ``torch.optim``
    (a ``Lion`` from another package has its own)."""
    return TORCH_DEFAULT_LR.get(optimizer.lower())


@dataclass(frozen=True)
class Rate:
    """One optimizer a script builds.

    Attributes:
        evidence: ``file:line: code`` of the construction.
        optimizer: Its class name, lower case (``sgd``, ``adam``).
        lr: The rate when it folds to a number, else None.
        text: The rate as written (``base_lr``, ``1e-3``), or ``default``.
    """

    evidence: str
    optimizer: str
    lr: float | None
    text: str


def optimizer_rates(paths: list[Path]) -> list[Rate]:
    """Every optimizer the scripts or notebooks at ``paths`` build, in file and line order;
    a file that cannot be read gives none."""
    out: list[Rate] = []
    for path in paths:
        try:
            src = load_source(path)
        except DataError:  # an unreadable file only has no rates to cite
            continue
        prog = Program(src.tree)
        for site in prog.calls:
            rate = _rate(prog, site)
            if rate is not None:
                name, lr, text = rate
                out.append(Rate(src.evidence(site.node.lineno), name, lr, text))
    return list(dict.fromkeys(out))


def _rate(prog: Program, site: CallSite) -> tuple[str, float | None, str] | None:
    qual = canon(site.qual)
    name = last(qual).lower()
    if name == "compile" and (opt := site.arg(0, "optimizer")) is not None:
        value = prog.const(opt, site.ev.idx, site.ev.scope)
        if isinstance(value, str) and value.lower() in ADAPTIVE | {"sgd"}:  # Keras's names
            return value.lower(), keras_default_lr(value), "default"
        return None
    torch = qual.startswith("torch.optim.")
    # ``optimizers.SGD`` in a paste without its imports is Keras's module all the same
    keras = qual.startswith(("keras.optimizers.", "optimizers."))
    if not (torch or keras) or name not in (OPTIMIZERS if torch else ADAPTIVE | {"sgd"}):
        return None
    node = site.kw("lr") or site.kw("learning_rate") or site.arg(1 if torch else 0)
    groups = _group_rates(prog, site) if torch else []
    if groups:  # parameter groups with rates of their own: the highest one
        return name, None if None in groups else max(groups), "per parameter group"
    if node is None:
        default = torch_default_lr(name) if torch else keras_default_lr(name)
        return name, default, "default"
    value = prog.const(node, site.ev.idx, site.ev.scope)
    lr = float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
    return name, lr, ast.unparse(node)


def _group_rates(prog: Program, site: CallSite) -> list[float | None]:
    """The ``lr`` of each ``{"params": ..., "lr": ...}`` group passed to a torch optimizer
    (None where it does not fold to a number), or [] without such groups."""
    params = site.arg(0, "params")
    if params is None:
        return []
    ref = prog.origin(params, site.ev.idx, site.ev.scope)
    node = ref.node
    if not isinstance(node, ast.List | ast.Tuple):
        return []
    out: list[float | None] = []
    for elt in node.elts:
        if not isinstance(elt, ast.Dict):
            continue
        for key, value in zip(elt.keys, elt.values, strict=True):
            if isinstance(key, ast.Constant) and key.value == "lr":
                v = prog.const(value, ref.idx, ref.scope)
                out.append(float(v) if isinstance(v, int | float) else None)
    return out


def high(rate: Rate) -> bool:
    """Whether the rate is at or above the usual from-scratch rate of its optimizer (above the
    default for a self-sized one: Adadelta at 1.0 is the method as published)."""
    if rate.lr is None:
        return False
    if rate.optimizer in SELF_SIZED:
        return rate.lr > TORCH_DEFAULT_LR[rate.optimizer]
    return rate.lr >= HIGH["sgd" if rate.optimizer in ("sgd", "asgd") else "adaptive"]
