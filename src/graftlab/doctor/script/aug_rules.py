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
from graftlab.doctor.script.common_rules import once, source_text
from graftlab.doctor.script.flow import CallSite, canon, self_assignments
from graftlab.doctor.script.frameworks import uses_torch
from graftlab.doctor.script.knowledge import KERAS_AUG_KWARGS, REFS

declare(
    "GL307",
    "augmented-evaluation",
    "warning",
    "script",
    "Validation or inference data goes through random augmentation",
    (REFS["keras_idg"], REFS["tv_tutorial"]),
)

# Random draws that change an image; index shuffling (shuffle, permutation, choice) is not.
# (randint and choice are left out: generators use them to pick batch indices)
_RANDOM = re.compile(
    r"^(numpy\.random\.(rand|randn|uniform|normal|random|random_sample|binomial)|"
    r"random\.(random|uniform|gauss)|tf\.image\.(random_|stateless_random_)\w+)$"
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
                visit(n.test, [*tests, n.test])  # ``if augment and np.random.rand() > .5``
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
        if fn is not None:
            passed = _passed_augmentation(ctx, site, fn, body, method)
            if passed is not None:
                return passed[0], f"{name}() through {passed[1]}()"
    return None


def _passed_augmentation(
    ctx: Ctx, site: CallSite, fn: ast.FunctionDef, body: ast.AST, method: bool
) -> tuple[ast.Call, str] | None:
    """A function handed in as a parameter (``batch_generator(X, y, transform=augment)``,
    ``self.transform = transform``) and called in ``body``, whose own body draws random
    changes: the generator augments whatever it is built for."""
    params = [p.arg for p in [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]]
    stored = _stored_params(fn, params) if method else {}
    called = set()
    for n in ast.walk(body):
        if isinstance(n, ast.Call):
            f = n.func
            if isinstance(f, ast.Name) and f.id in params:
                called.add(f.id)
            elif (
                isinstance(f, ast.Attribute)
                and isinstance(f.value, ast.Name)
                and f.value.id == "self"
                and (f.attr in params or f.attr in stored)
            ):
                called.add(stored.get(f.attr, f.attr))
    for pname in called:
        expr = _arg_expr(site, fn, pname, method)
        steps = _random_pipeline(ctx, expr, site.ev) if expr is not None else None
        if steps is not None:
            return steps[0], f"{ast.unparse(expr)}"
        if not isinstance(expr, ast.Name) or expr.id not in ctx.prog.functions:
            continue
        draws = random_calls(ctx, ctx.prog.functions[expr.id], site.ev)
        if draws:
            return draws[0], expr.id
    return None


def _stored_params(init: ast.FunctionDef, params: list[str]) -> dict[str, str]:
    """``self.<attribute>`` -> the ``__init__`` parameter stored in it (``self.transform = fn``),
    whatever the parameter is called."""
    return {
        attr: v.id
        for attr, v in self_assignments(init)
        if isinstance(v, ast.Name) and v.id in params
    }


# random steps of augmentation libraries (albumentations, imgaug, torchvision, Keras layers)
_RANDOM_STEP = re.compile(
    r"^Random|^Rand|Flip(lr|ud)?$|^Transpose$|^ShiftScaleRotate$|^Rotate$|^Affine$|"
    r"^GaussNoise$|^CoarseDropout$|^Cutout$|^ColorJitter$|^HueSaturationValue$|Blur$|"
    r"^ElasticTransform$|^GridDistortion$|^OpticalDistortion$|^Perspective$|^TrivialAugment"
)


def _random_pipeline(ctx: Ctx, expr: ast.expr, at) -> list[ast.Call] | None:
    """The random steps of an augmentation pipeline object (``A.Compose([A.HorizontalFlip(),
    ...])``, ``iaa.Sequential([...])``, ``T.Compose([T.RandomCrop(...), ...])``), or None."""
    site = ctx.prog.origin_call(expr, at)
    if site is None or site.name not in ("Compose", "Sequential", "OneOf", "SomeOf"):
        return None
    first = site.node.args[0] if site.node.args else site.kw("transforms")
    if first is None:
        return None
    out = []
    for ref in ctx.prog.items([first], site.ev):
        r = ctx.prog.origin(ref.node, ref.idx, ref.scope)
        items = r.node.elts if isinstance(r.node, ast.List | ast.Tuple) else [r.node]
        for n in items:
            if isinstance(n, ast.Call):
                name = n.func.attr if isinstance(n.func, ast.Attribute) else ""
                name = name or getattr(n.func, "id", "")
                if _RANDOM_STEP.search(name):
                    out.append(n)
    return out or None


def _arg_expr(call: CallSite, fn: ast.FunctionDef, name: str, method: bool) -> ast.expr | None:
    """The expression passed for parameter ``name`` of ``fn`` at ``call`` (or its default)."""
    for k in call.node.keywords:
        if k.arg == name:
            return k.value
    params = [p.arg for p in [*fn.args.posonlyargs, *fn.args.args]][1 if method else 0 :]
    if name in params:
        i = params.index(name)
        if i < len(call.node.args):
            return call.node.args[i]
        defaults = dict(
            zip([p.arg for p in fn.args.args][::-1], fn.args.defaults[::-1], strict=False)
        )
        return defaults.get(name)
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
    _random_loading_for_prediction(ctx)
    _random_inference(ctx)


def _random_loading_for_prediction(ctx: Ctx) -> None:
    """GL307: arrays given to predict()/evaluate() built by the script's own loading function,
    which draws random flips or shifts (a flag that turns them off at that call is read)."""
    prog = ctx.prog
    for c in ctx.prog.calls:
        if c.name not in ("predict", "evaluate") or any(
            f.category == "augmented-evaluation" for f in ctx.findings
        ):
            continue
        x = c.arg(0, "x")
        for ref in prog.deps(x, c.ev, limit=30) if x is not None else []:
            for n in ast.walk(ref.node):
                f = n.func if isinstance(n, ast.Call) else None
                if not (isinstance(f, ast.Name) and f.id in prog.functions):
                    continue
                site = prog.call_site(n)
                found = _augments(ctx, site) if site is not None else None
                if found is None or not once(ctx, "aug.custom", n.lineno):
                    continue
                rnd, where = found
                ctx.add(
                    "GL307",
                    "augmented-evaluation",
                    "warning",
                    f"The images given to {c.name}() are loaded by {where}, which changes them "
                    "at random",
                    [rnd.lineno, n.lineno, c.node.lineno],
                    f"{where} draws random changes ({ast.unparse(rnd.func)}) for every image it "
                    f"loads, and its output is what {c.name}() sees: each image is distorted "
                    "differently from one run to the next, so predictions change between runs "
                    "and the accuracy is lower than the model's accuracy on real images.",
                    "Load evaluation and prediction images without random changes: give the "
                    "loader a flag (def load(path, augment=False)) and pass augment=True only "
                    "for training.",
                    [REFS["keras_idg"]],
                )
                return


def _infers(ctx: Ctx) -> bool:
    """A model built outside the paste is run for prediction: ``model.eval()`` or
    ``torch.no_grad()`` appear."""
    return bool(ctx.prog.method_calls("eval")) or any(
        c.name in ("no_grad", "inference_mode") for c in ctx.prog.calls
    )


def _random_inference(ctx: Ctx) -> None:
    """A torchvision transform with random steps in code that never trains (prediction), or
    one applied by hand to an image under ``torch.no_grad()``."""
    if not uses_torch(ctx):
        return
    if ctx.prog.method_calls("backward"):
        _random_transform_under_no_grad(ctx)
        return
    from graftlab.doctor.script.torch_graph import torch_script

    ts = torch_script(ctx)
    if any(f.category == "augmented-evaluation" for f in ctx.findings):
        return
    if not ts.models and not _infers(ctx):
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


declare(
    "GL311",
    "overfitting",
    "warning",
    "script",
    "The augmentation draws the same transform for every image",
    (REFS["keras_idg"], REFS["tv_tutorial"]),
)

_SEEDS = {"seed", "manual_seed", "set_seed"}


def _seeded_each_call(ctx: Ctx, fn: ast.FunctionDef) -> ast.Call | None:
    """``np.random.seed(seed)`` inside an augmenting function, before its random draws."""
    seeds = [
        n
        for n in ast.walk(fn)
        if isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and n.func.attr in _SEEDS
        and "random" in ast.unparse(n.func.value) + n.func.attr
        and n.args
    ]
    if not seeds:
        return None
    at = next((e for e in ctx.prog.events if fn.name in e.funcs), None)
    if at is None or not random_calls(ctx, fn, at):
        return None
    return seeds[0]


def _zero_width(ctx: Ctx, n: ast.Call) -> bool:
    """``np.random.uniform(r, r)`` / ``randint(a, a)``: a range with no width."""
    name = n.func.attr if isinstance(n.func, ast.Attribute) else getattr(n.func, "id", "")
    if name not in ("uniform", "randint", "randrange") or len(n.args) < 2:
        return False
    return ast.unparse(n.args[0]) == ast.unparse(n.args[1])


@check("common.frozen_augmentation")
def check_frozen_augmentation(ctx: Ctx) -> None:
    """GL311: an augmentation function reseeds its random generator with a fixed value on
    every call (or draws from a zero-width range), so every image gets the same transform."""
    if not re.search(r"seed\(|uniform\(|randint\(|randrange\(", source_text(ctx)):
        return
    for fn in ctx.prog.functions.values():
        if "." in fn.name:
            continue
        seed = _seeded_each_call(ctx, fn)
        calls = [c for c in ctx.prog.calls if c.name == fn.name]
        fixed = seed is not None and _fixed_seed(ctx, fn, seed, calls)
        zero = next(
            (n for n in ast.walk(fn) if isinstance(n, ast.Call) and _zero_width(ctx, n)), None
        )
        if not fixed and zero is None:
            continue
        if not calls or not once(ctx, "aug.frozen", fn.name):
            continue
        what = (
            f"{fn.name}() reseeds the random generator with a fixed value on every call"
            if fixed
            else f"{fn.name}() draws from a range of zero width ({ast.unparse(zero)})"
        )
        ctx.add(
            "GL311",
            "overfitting",
            "warning",
            f"The augmentation is not random: {what}",
            [(seed if fixed else zero).lineno, calls[0].node.lineno],
            f"{what}, so every image gets exactly the same 'random' crop, rotation or flip: the "
            "augmentation adds no variety, and a network fine-tuned on a small data set "
            "overfits as if there were no augmentation at all.",
            "Seed once at the start of the program (or pass a numpy Generator in), never inside "
            "the per-image function; draw angles from a real range, e.g. "
            "np.random.uniform(-rotation_range, rotation_range).",
            [REFS["keras_idg"]],
        )


def _fixed_seed(ctx: Ctx, fn: ast.FunctionDef, seed: ast.Call, calls: list) -> bool:
    """The seed is a constant, or a parameter every call gives a constant (or its constant
    default)."""
    arg = seed.args[0]
    if isinstance(arg, ast.Constant):
        return arg.value is not None
    if not isinstance(arg, ast.Name):
        return False
    params = [p.arg for p in fn.args.args]
    if arg.id not in params:
        return False
    for c in calls:
        v = _arg_value(ctx, c, fn, arg.id, False)
        if not isinstance(v, int) or isinstance(v, bool):
            return False
    return bool(calls)


_AUG_FLAG = re.compile(r"^(data_)?augment(ation)?$|^use_aug\w*$|^do_aug\w*$|^aug$", re.I)


def _flag_test(test: ast.expr) -> tuple[ast.Name, bool] | None:
    """(flag, negated) for ``if flag:`` / ``if not flag:`` / ``if flag == False:``."""
    if isinstance(test, ast.Name):
        return test, False
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = _flag_test(test.operand)
        return (inner[0], not inner[1]) if inner else None
    if (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and len(test.ops) == 1
        and isinstance(test.ops[0], ast.Eq | ast.Is)
        and isinstance(test.comparators[0], ast.Constant)
        and isinstance(test.comparators[0].value, bool)
    ):
        return test.left, not test.comparators[0].value
    return None


def _augmenting(ctx: Ctx, stmts: list[ast.stmt], ev) -> bool:
    block = ast.Module(body=stmts, type_ignores=[])
    return any(
        isinstance(m, ast.keyword) and m.arg in KERAS_AUG_KWARGS for m in ast.walk(block)
    ) or bool(random_calls(ctx, block, ev))


@check("common.augmentation_switched_off")
def check_augmentation_off(ctx: Ctx) -> None:
    """GL311: the script's own augmentation branch is switched off by a constant flag
    (``data_augmentation = False`` ... ``if data_augmentation: datagen = ...``)."""
    prog = ctx.prog
    if not any(c.name in ("fit", "fit_generator", "backward") for c in prog.calls):
        return
    for ev in prog.events:
        n = ev.node
        if not isinstance(n, ast.If):
            continue
        flag = _flag_test(n.test)
        if flag is None or not _AUG_FLAG.match(flag[0].id):
            continue
        name, negated = flag
        value = prog.const(name, ev.idx, ev.scope)
        if not isinstance(value, bool):
            continue
        runs_body = value != negated  # ``if not data_augmentation:`` with it False: the body
        dead, live = (n.orelse, n.body) if runs_body else (n.body, n.orelse)
        if not _augmenting(ctx, dead, ev) or _augmenting(ctx, live, ev) or not once(ctx, "aug.off"):
            continue
        b = prog.lookup(name.id, ev.idx, ev.scope)
        ctx.add(
            "GL311",
            "overfitting",
            "warning",
            f"Augmentation is written but switched off ({name.id} = {value})",
            [getattr(b.value, "lineno", 0) if b else 0, n.lineno],
            f"The script has an augmentation branch that runs only when {name.id} is "
            f"{not value} and sets {name.id} to {value}, so the network sees the same training "
            "images every epoch: on an image set of this size it memorises them, training "
            "accuracy goes to 100% while validation accuracy stalls (inferred: nothing else in "
            "the code regularises as much).",
            f"{name.id} = {not value} (random crops, flips and shifts on the training data only).",
            [REFS["keras_idg"]],
        )


def _random_transform_under_no_grad(ctx: Ctx) -> None:
    """A training script that also predicts: a random transform called on an image inside
    ``with torch.no_grad()`` (the training transform reused for prediction)."""
    from graftlab.doctor.script.torch_graph import torch_script

    if any(f.category == "augmented-evaluation" for f in ctx.findings):
        return
    ts = torch_script(ctx)
    for c in ctx.prog.calls:
        if not isinstance(c.node.func, ast.Name) or not any(
            isinstance(w, ast.Call)
            and canon(ctx.prog.qualname(w.func, c.ev.idx, c.ev.scope))
            in ("torch.no_grad", "torch.inference_mode")
            for w in c.ev.withs
        ):
            continue
        p = ts.pipeline_of(c.node.func, c.ev)
        random = [s for s in p.random if s != "RandomApply"] if p is not None else []
        if not random or not once(ctx, "aug.inference"):
            continue
        ctx.add(
            "GL307",
            "augmented-evaluation",
            "warning",
            f"An image is predicted through a random transform ({', '.join(random)})",
            [p.line, c.node.lineno],
            f"{ast.unparse(c.node.func)} has random steps ({', '.join(random)}) and prepares an "
            "image for prediction under torch.no_grad(): each call crops, flips or jitters the "
            "image differently, so the same image gets different predictions and accuracy is "
            "below what the model reaches on the deterministic evaluation transform.",
            "Predict with the evaluation transform (Resize + CenterCrop + ToTensor + Normalize); "
            "for test-time augmentation average the predictions over fixed views.",
            [REFS["tv_tutorial"]],
        )
        return
