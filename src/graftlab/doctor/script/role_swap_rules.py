"""Training data built with the evaluation pipeline, or evaluation data with the training one.

Scripts build two configured objects of one kind side by side: two transforms
(``tf_train = Joint(p_flip=0.5)``, ``tf_val = Joint(p_flip=0)``) or two generators
(``gen = Gen(rotation_range=20)``, ``gen_val = Gen(rotation_range=0)``). When the value named for
training is built from the object named for evaluation (``train_set = MySet(path, tf_val)``,
``train_data = gen_val.flow(train_x)``), training runs without the augmentation its own
pipeline defines (GL321, augmentation-phase); the other way round, evaluation images are
randomly augmented (GL322, augmented-evaluation). Roles are read from names, or, where the
names say nothing (``v3 = Gen(...)``), from use: what ``fit`` trains on or a loop that steps
the optimizer iterates is training data, ``validation_data`` or a per-epoch evaluation loop's
is validation data, and a pipeline object takes the phase of the data built from it. Both are
``warning`` findings that say how the roles were read. Either framework, any library: the two
objects only need the same constructor and different settings.
"""

from __future__ import annotations

import ast

from graftlab.doctor._checks import declare
from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.common_rules import once
from graftlab.doctor.script.flow import UNKNOWN, CallSite, canon, last
from graftlab.doctor.script.keras_graph import role_of
from graftlab.doctor.script.knowledge import REFS
from graftlab.doctor.script.torch_graph import torch_script
from graftlab.doctor.script.torch_roles import value_role

declare(
    "GL321",
    "augmentation-phase",
    "warning",
    "script",
    "The training data is built with the evaluation transform or generator",
    (REFS["tv_tutorial"], REFS["keras_idg"]),
)
declare(
    "GL322",
    "augmented-evaluation",
    "warning",
    "script",
    "Evaluation data is built with the training transform or generator",
    (REFS["tv_tutorial"], REFS["keras_idg"]),
)


def _ctor(ctx: Ctx, name: str, c: CallSite) -> CallSite | None:
    """The call that made what ``name`` holds where ``c`` runs."""
    return ctx.prog.origin_call(ast.Name(id=name, ctx=ast.Load()), c.ev)


def _settings(site: CallSite) -> str:
    return ast.unparse(
        ast.Call(func=ast.Name("f"), args=site.node.args, keywords=site.node.keywords)
    )


def _sibling(ctx: Ctx, used: str, site: CallSite, want: set) -> tuple[str, CallSite] | None:
    """Another name bound to a call of the same constructor with other settings, whose role
    (its name's, else its use's) is one of ``want`` (None: no role)."""
    kind = last(canon(site.qual))
    for ev in ctx.prog.events:
        n = ev.node
        if not (
            isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.value, ast.Call)
        ):
            continue
        t = n.targets[0]
        if not isinstance(t, ast.Name) or t.id == used:
            continue
        other = ctx.prog.call_site(n.value)
        if other is None or last(canon(other.qual)) != kind or other.node is site.node:
            continue
        if _settings(other) != _settings(site) and _pipeline_role(ctx, t.id, other) in want:
            return t.id, other
    return None


def _settings_on(ctx: Ctx, site: CallSite) -> int:
    """How many of a constructor's keyword settings are switched on (a known value that is
    neither 0, False nor None): ``p_flip=0.5``, ``horizontal_flip=True``, ``rotation_range=20``."""
    values = [ctx.prog.const(k.value, site.ev.idx, site.ev.scope) for k in site.node.keywords]
    return sum(1 for v in values if v is not UNKNOWN and v is not None and bool(v))


def _data_role(ctx: Ctx, made: str, c: CallSite) -> str | None:
    """The phase of the data ``made`` (built by ``c``): its name's, else its use's."""
    return role_of(made) or value_role(ctx.prog, c)


def _pipeline_role(ctx: Ctx, name: str, site: CallSite, but: CallSite | None = None) -> str | None:
    """The phase of the pipeline object ``name`` (made at ``site``): its name's, else the one
    phase of the data built from it (``but`` that call) when they all agree."""
    role = role_of(name)
    if role is not None:
        return role
    roles = set()
    for c in _built_from(ctx).get(id(site.node), ()):
        made = ctx.prog.assigned_name(c.node)
        if c is but or c.node is site.node or made is None or "." in made:
            continue
        roles.add(_data_role(ctx, made, c))
    if roles == {"val", "test"}:
        return "val"
    return roles.pop() if len(roles) == 1 else None


def _built_from(ctx: Ctx) -> dict[int, list[CallSite]]:
    """The calls that build a value from each object (by the node id of the call that made
    the object), found once per script."""
    memo = ctx.prog.memo.get("built_from")
    if memo is None:
        memo = {}
        for c in ctx.prog.calls:
            for name in set(_sources(c)):
                site = _ctor(ctx, name, c)
                if site is not None and site.node is not c.node:
                    memo.setdefault(id(site.node), []).append(c)
        ctx.prog.memo["built_from"] = memo
    return memo


def _known(ctx: Ctx, site: CallSite) -> bool:
    """A pipeline the framework rules read step by step (torchvision/albumentations Compose,
    ImageDataGenerator): they judge from its content whether evaluation data is augmented, so
    one cause stays one finding."""
    if site.name in ("ImageDataGenerator", "Compose"):
        return True
    return torch_script(ctx).pipeline_of(site.node, site.ev) is not None


def _sources(c: CallSite) -> list[str]:
    """Names a call builds its value from: its receiver (``gen.flow``) and its arguments."""
    out = []
    f = c.node.func
    if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name):
        out.append(f.value.id)
    out += [a.id for a in c.node.args if isinstance(a, ast.Name)]
    out += [k.value.id for k in c.node.keywords if isinstance(k.value, ast.Name)]
    return out


@check("common.role_swap")
def check_role_swap(ctx: Ctx) -> None:
    """GL321 / GL322: a value named for one phase built from the object named for the other."""
    for c in ctx.prog.calls:
        made = ctx.prog.assigned_name(c.node)
        if made is None or "." in made:
            continue
        role = _data_role(ctx, made, c)
        if role is None:
            continue
        for name in _sources(c):
            site = _ctor(ctx, name, c)
            if site is None or site.node is c.node:
                continue
            used_role = _pipeline_role(ctx, name, site, but=c)
            if role == "train" and used_role in ("val", "test"):
                want, code = {"train", None}, "GL321"
            elif role in ("val", "test") and used_role == "train":
                want, code = {role, None}, "GL322"
            else:
                continue
            if code == "GL322" and _known(ctx, site):
                continue
            sib = _sibling(ctx, name, site, want)
            if sib is None:
                continue
            if not (role_of(made) and role_of(name)):
                # a role read from use: an object that builds data of both phases is the
                # evaluation pipeline when its sibling augments more, the training one when less
                plain, augmenting = (site, sib[1]) if code == "GL321" else (sib[1], site)
                if _settings_on(ctx, plain) >= _settings_on(ctx, augmenting):
                    continue
            if not once(ctx, "common.role_swap", code, c.node.lineno):
                continue
            by_use = not (role_of(made) and role_of(name))
            _report(ctx, code, made, name, site, sib, c, by_use)


def _report(ctx, code, made, name, site, sib, c, by_use: bool) -> None:
    other, other_site = sib
    lines = [site.node.lineno, other_site.node.lineno, c.node.lineno]
    phase = "training" if code == "GL321" else "evaluation"
    how = "how the data is used" if by_use else "the names"
    meant = "used" if by_use else "named"
    inferred = (
        f"(inferred from {how}: {made} is taken to be the {phase} "
        f"data, {name} and {other} the two pipelines of one kind, "
        f"{last(canon(site.qual))}, configured differently)"
    )
    if code == "GL321":
        ctx.add(
            code,
            "augmentation-phase",
            "warning",
            f"{made} is built with {name}, not with {other}",
            lines,
            f"The script configures {other} and {name} differently, and the training data "
            f"{made} is built from {name}, the one {meant} for evaluation: training runs without "
            f"the augmentation (or other settings) that {other} defines, so the model overfits "
            f"the unaugmented images {inferred}.",
            f"Build the training data from {other} and keep {name} for validation/test.",
            [REFS["tv_tutorial"], REFS["keras_idg"]],
        )
    else:
        ctx.add(
            code,
            "augmented-evaluation",
            "warning",
            f"{made} is built with {name}, the training pipeline",
            lines,
            f"The evaluation data {made} is built from {name}, the object {meant} for "
            f"training, while {other} is configured for it: if {name} augments, every "
            f"evaluation scores randomly distorted images and the numbers are noisy and low "
            f"{inferred}.",
            f"Build {made} from {other}.",
            [REFS["tv_tutorial"], REFS["keras_idg"]],
        )
