"""Random augmentation reaching evaluation through the poster's own generators and scripts.

Library pipelines are read elsewhere (ImageDataGenerator arguments, torchvision transforms).
People also write their own: a Python generator or a ``keras.utils.Sequence`` that flips and
shifts images with ``np.random`` and is handed to ``validation_data=`` as well, or an
inference script that keeps the random training transform. The randomness is found in the
function's body; a flag that turns it off (``augment=False`` at the validation call) is read.
"""

from __future__ import annotations

import ast
import re

from graftlab.doctor._checks import declare
from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.common_rules import once
from graftlab.doctor.script.flow import CallSite, canon
from graftlab.doctor.script.frameworks import uses_torch
from graftlab.doctor.script.knowledge import REFS

declare(
    "GL307",
    "augmented-evaluation",
    "warning",
    "script",
    "Validation or inference data goes through random augmentation",
    (REFS["keras_idg"], REFS["tv_tutorial"]),
)

# Random draws that change an image; index shuffling (shuffle, permutation, choice) is not.
_RANDOM = re.compile(
    r"^(numpy\.random\.(rand|randn|randint|uniform|normal|random|random_sample|binomial)|"
    r"random\.(random|uniform|randint|gauss|choice)|tf\.image\.(random_|stateless_random_)\w+)$"
)
_AUG_CALLS = re.compile(r"random_transform|random_(flip|crop|rotat|shift|zoom|brightness)|^Fliplr$")


def random_calls(ctx: Ctx, body: ast.AST, at) -> list[ast.Call]:
    """Calls in ``body`` that draw random numbers to change an image."""
    out = []
    for n in ast.walk(body):
        if not isinstance(n, ast.Call):
            continue
        q = canon(ctx.prog.qualname(n.func, at.idx, at.scope) or "")
        name = n.func.attr if isinstance(n.func, ast.Attribute) else getattr(n.func, "id", "")
        if _RANDOM.match(q) or _AUG_CALLS.search(name):
            out.append(n)
    return out


def _guards(fn: ast.AST, node: ast.AST) -> list[str]:
    """Names tested by the ``if`` statements that enclose ``node`` in ``fn``
    (``if augment:`` → ``augment``, ``if self.augment:`` → ``augment``)."""
    out: list[str] = []

    def visit(n: ast.AST, tests: list[ast.expr]) -> bool:
        if n is node:
            for t in tests:
                for m in ast.walk(t):
                    if isinstance(m, ast.Name):
                        out.append(m.id)
                    elif isinstance(m, ast.Attribute):
                        out.append(m.attr)
            return True
        if isinstance(n, ast.If):
            return (
                visit(n.test, tests)
                or any(visit(c, [*tests, n.test]) for c in n.body)
                or any(visit(c, tests) for c in n.orelse)
            )
        return any(visit(c, tests) for c in ast.iter_child_nodes(n))

    visit(fn, [])
    return out


def _arg_value(ctx: Ctx, call: CallSite, fn: ast.FunctionDef, name: str, method: bool):
    """The constant passed for parameter ``name`` of ``fn`` at ``call`` (its default when not
    given), or None when it cannot be told."""
    params = [p.arg for p in [*fn.args.posonlyargs, *fn.args.args]]
    if method:
        params = params[1:]
    for k in call.node.keywords:
        if k.arg == name:
            return ctx.prog.const(k.value, call.ev.idx, call.ev.scope)
    if name in params:
        i = params.index(name)
        args = call.node.args
        if i < len(args):
            return ctx.prog.const(args[i], call.ev.idx, call.ev.scope)
        defaults = dict(
            zip([p.arg for p in fn.args.args][::-1], fn.args.defaults[::-1], strict=False)
        )
        if name in defaults:
            return ctx.prog.const(defaults[name], call.ev.idx, call.ev.scope)
    return None


def _augments(ctx: Ctx, site: CallSite) -> tuple[ast.Call, str] | None:
    """(random call, where) when the script's generator function or Sequence class called at
    ``site`` applies random changes with the arguments given there."""
    prog = ctx.prog
    name = site.name
    if name in prog.functions and "." not in name:
        fn, method, bodies = prog.functions[name], False, [prog.functions[name]]
    elif name in prog.methods:
        ms = prog.methods[name]
        init = ms.get("__init__")
        bodies = [m for k, m in ms.items() if k in ("__getitem__", "__next__", "__iter__")]
        bodies += [m for k, m in ms.items() if k not in ("__init__", "__len__") and m not in bodies]
        fn, method = init, True
    else:
        return None
    for body in bodies:
        for r in random_calls(ctx, body, site.ev):
            flags = _guards(body, r)
            values = [_arg_value(ctx, site, fn, g, method) for g in flags] if fn else []
            if any(v is False or v == 0 for v in values):
                continue  # turned off at this call: augment=False
            return r, f"{name}()"
    return None


@check("common.custom_augmentation")
def check_custom_generators(ctx: Ctx) -> None:
    """GL307: the poster's own augmenting generator used for validation / evaluation; a random
    transform in a script that only predicts."""
    for c in ctx.prog.calls:
        if c.name not in ("fit", "fit_generator", "evaluate", "evaluate_generator"):
            continue
        target = (
            c.kw("validation_data")
            if c.name.startswith("fit")
            else (c.arg(0, "x") or c.kw("generator"))
        )
        site = ctx.prog.origin_call(target, c.ev) if target is not None else None
        if site is None:
            continue
        found = _augments(ctx, site)
        if found is None or not once(ctx, "aug.custom", site.node.lineno):
            continue
        rnd, where = found
        ctx.add(
            "GL307",
            "augmented-evaluation",
            "warning",
            f"The validation data comes from {where}, which augments at random",
            [rnd.lineno, site.node.lineno],
            f"{where} applies random changes ({ast.unparse(rnd.func)}) to every batch it "
            f"yields, and it is also what {c.name}() evaluates on: validation images are "
            "distorted differently at each epoch, so the validation score is noisy and lower "
            "than the model's accuracy on real images, and model selection follows the noise.",
            "Give the generator a flag and turn augmentation off for validation and test:\n"
            "def generator(x, y, augment=False): ...\n"
            "model.fit(generator(x_tr, y_tr, augment=True), "
            "validation_data=generator(x_val, y_val, augment=False))",
            [REFS["keras_idg"]],
        )
    _random_inference(ctx)


def _random_inference(ctx: Ctx) -> None:
    """A torchvision transform with random steps in code that never trains (prediction)."""
    if not uses_torch(ctx) or ctx.prog.method_calls("backward"):
        return
    from graftlab.doctor.script.torch_graph import torch_script

    ts = torch_script(ctx)
    if any(f.category == "augmented-evaluation" for f in ctx.findings):
        return
    if not ts.models:
        return
    for p in ts.pipelines:
        random = [s for s in p.random if s != "RandomApply"]
        if not random or p.role == "train" or not once(ctx, "aug.inference"):
            continue
        ctx.add(
            "GL307",
            "augmented-evaluation",
            "warning",
            f"Predictions go through a random transform ({', '.join(random)})",
            [p.line],
            "This code never trains, so the transform prepares images for prediction; its "
            f"random steps ({', '.join(random)}) crop, flip or jitter each image differently "
            "every time: the same image gets different predictions and accuracy is below what "
            "the model reaches on the deterministic evaluation transform.",
            "Predict with the evaluation transform: Resize + CenterCrop + ToTensor + "
            "Normalize (or the weights' own transforms()). For test-time augmentation, "
            "average the predictions over several fixed views instead.",
            [REFS["tv_tutorial"]],
        )
        return
