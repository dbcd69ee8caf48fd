"""Training data built with the evaluation pipeline, or evaluation data with the training one.

Scripts build two configured objects of one kind side by side: two transforms
(``tf_train = Joint(p_flip=0.5)``, ``tf_val = Joint(p_flip=0)``) or two generators
(``gen = Gen(rotation_range=20)``, ``gen_val = Gen(rotation_range=0)``). When the value named for
training is built from the object named for evaluation (``train_set = MySet(path, tf_val)``,
``train_data = gen_val.flow(train_x)``), training runs without the augmentation its own
pipeline defines (GL321, augmentation-phase); the other way round, evaluation images are
randomly augmented (GL322, augmented-evaluation). Roles are read from names, so both are
``warning`` findings that say so. Either framework, any library: the two objects only need
the same constructor and different settings.
"""

from __future__ import annotations

import ast

from graftlab.doctor._checks import declare
from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.common_rules import once
from graftlab.doctor.script.flow import CallSite, canon, last
from graftlab.doctor.script.keras_graph import role_of
from graftlab.doctor.script.knowledge import REFS
from graftlab.doctor.script.torch_graph import torch_script

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
    """Another name bound to a call of the same constructor with other settings, whose name
    has one of the roles ``want`` (None: no role)."""
    kind = last(canon(site.qual))
    for ev in ctx.prog.events:
        n = ev.node
        if not (
            isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.value, ast.Call)
        ):
            continue
        t = n.targets[0]
        if not isinstance(t, ast.Name) or t.id == used or role_of(t.id) not in want:
            continue
        other = ctx.prog.call_site(n.value)
        if other is None or last(canon(other.qual)) != kind or other.node is site.node:
            continue
        if _settings(other) != _settings(site):
            return t.id, other
    return None


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
        role = role_of(made)
        if role is None:
            continue
        for name in _sources(c):
            used_role = role_of(name)
            if role == "train" and used_role in ("val", "test"):
                want, code = {"train", None}, "GL321"
            elif role in ("val", "test") and used_role == "train":
                want, code = {role, None}, "GL322"
            else:
                continue
            site = _ctor(ctx, name, c)
            if site is None or site.node is c.node or (code == "GL322" and _known(ctx, site)):
                continue
            sib = _sibling(ctx, name, site, want)
            if sib is None or not once(ctx, "common.role_swap", code, c.node.lineno):
                continue
            _report(ctx, code, made, name, site, sib, c)


def _report(ctx, code, made, name, site, sib, c) -> None:
    other, other_site = sib
    lines = [site.node.lineno, other_site.node.lineno, c.node.lineno]
    phase = "training" if code == "GL321" else "evaluation"
    inferred = (
        f"(inferred from the names: {made} is taken to be the {phase} "
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
            f"{made} is built from {name}, the one named for evaluation: training runs without "
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
            f"The evaluation data {made} is built from {name}, the object named for "
            f"training, while {other} is configured for it: if {name} augments, every "
            f"evaluation scores randomly distorted images and the numbers are noisy and low "
            f"{inferred}.",
            f"Build {made} from {other}.",
            [REFS["tv_tutorial"], REFS["keras_idg"]],
        )
