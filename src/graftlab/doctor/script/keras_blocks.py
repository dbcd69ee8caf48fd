"""Training arrays built class by class that reach Keras without being shuffled.

- **GL144** (no-shuffle): ``fit(x, y, validation_split=f)`` on arrays whose labels come in
  blocks, one class after another. Keras takes the validation part as the *last* fraction of
  the arrays, before any shuffling (``shuffle=True`` only shuffles the rest each epoch), so
  validation holds the last class or classes only: classes training never sees, a validation
  accuracy stuck at 0 (or at 1 for a class the model already predicts everywhere).
- **GL145** (no-shuffle): the same class-ordered arrays turned into a ``tf.data`` pipeline
  (``Dataset.from_tensor_slices``) that trains without ``.shuffle()``: every batch holds one
  class, as with ``flow_from_directory(..., shuffle=False)``.

Labels come in blocks when each is appended inside a loop over the classes that holds the loop
over one class's files (``for k, c in enumerate(classes): for f in files(c): y.append(k)``),
or when the label array is joined from constant blocks (``np.concatenate([np.zeros(n),
np.ones(m)])``, ``[0] * n + [1] * m``). Whether the arrays are shuffled somewhere is decided
by any shuffling call in the script (``shuffle``, ``permutation``, ``train_test_split``, ...):
the link is inferred, so both are warnings.
"""

from __future__ import annotations

import ast

from graftlab.doctor._checks import declare
from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.common_rules import once
from graftlab.doctor.script.flow import Event, Ref, dotted
from graftlab.doctor.script.frameworks import uses_keras
from graftlab.doctor.script.keras_model import keras_script
from graftlab.doctor.script.knowledge import REFS

declare(
    "GL144",
    "no-shuffle",
    "warning",
    "script",
    "validation_split takes the last classes of arrays built class by class",
    (REFS["keras_compile"],),
)
declare(
    "GL145",
    "no-shuffle",
    "warning",
    "script",
    "A tf.data pipeline of arrays built class by class trains without shuffle()",
    (REFS["keras_compile"],),
)

#: Calls that put arrays in a random order (numpy, random, sklearn, pandas, tf, torch).
_SHUFFLERS = {
    "shuffle",
    "permutation",
    "train_test_split",
    "sample",
    "StratifiedShuffleSplit",
    "ShuffleSplit",
    "StratifiedKFold",
    "KFold",
    "random_shuffle",
    "randperm",
    "random_split",
}
#: Constant label blocks: ``np.zeros(n)``, ``np.ones(n)``, ``np.full(n, k)``, ``[k] * n``.
_BLOCKS = {"zeros", "ones", "full", "repeat", "tile"}
_JOINS = {"concatenate", "hstack", "vstack", "append", "r_", "stack"}


def _shuffles(ctx: Ctx) -> bool:
    if "blocks.shuffles" not in ctx.cache:
        ctx.cache["blocks.shuffles"] = any(
            c.name in _SHUFFLERS or getattr(c.node.func, "attr", "") in _SHUFFLERS
            for c in ctx.prog.calls
        )
    return ctx.cache["blocks.shuffles"]


def _targets(node: ast.expr) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _per_class_append(ctx: Ctx, ref: Ref) -> int:
    """Line of the outer loop when ``ref`` is a value appended inside a loop nested in a loop
    over classes, and the value depends on the outer loop's variables only; else 0."""
    ev = ctx.prog.events[min(ref.idx, len(ctx.prog.events) - 1)]
    loops = [ctx.prog.events[i] for i in ev.loops]
    fors = [e for e in loops if isinstance(e.node, ast.For)]
    if len(fors) < 2 or not isinstance(ev.node, ast.Expr):
        return 0
    outer, inner = fors[-2], fors[-1]
    used = _names(ref.node)
    by_outer, by_inner = _targets(outer.node.target), _targets(inner.node.target)
    if used and used <= by_outer and not used & by_inner:
        return outer.node.lineno
    return 0


def _block(n: ast.AST) -> bool:
    """One constant label block: ``np.zeros(n)``, ``np.full(n, 2)``, ``[1] * n``."""
    if isinstance(n, ast.Call):
        f = n.func
        return (f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")) in _BLOCKS
    if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mult):
        sides = (n.left, n.right)
        return any(isinstance(s, ast.List) and len(s.elts) == 1 for s in sides)
    return False


def _joined_blocks(ref: Ref) -> int:
    """Line of a label array joined from two or more constant blocks
    (``np.array([0] * n + [1] * m)`` too), else 0."""
    for n in ast.walk(ref.node):
        line = _joined(n)
        if line:
            return line
    return 0


def _joined(n: ast.AST) -> int:
    parts: list[ast.AST] = []
    if isinstance(n, ast.Call) and n.args:
        f = n.func
        name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
        if name in _JOINS:
            first = n.args[0]
            parts = list(first.elts) if isinstance(first, ast.List | ast.Tuple) else list(n.args)
    elif isinstance(n, ast.BinOp) and isinstance(n.op, ast.Add):
        parts = [n.left, n.right]
    blocks = [p for p in parts if _block(p)]
    return getattr(n, "lineno", 0) if len(blocks) >= 2 else 0


def class_blocked(ctx: Ctx, node: ast.expr | None, at: Event) -> int:
    """Line that shows the labels ``node`` holds come in class blocks, or 0."""
    if node is None:
        return 0
    for ref in ctx.prog.deps(node, at, limit=40):
        line = _per_class_append(ctx, ref) or _joined_blocks(ref)
        if line:
            return line
    return 0


@check("keras.class_blocks")
def check_class_blocks(ctx: Ctx) -> None:
    """GL144, GL145: arrays built class by class, never shuffled, split or batched in order."""
    if not uses_keras(ctx) or _shuffles(ctx):
        return
    ks = keras_script(ctx)
    for fit in ks.fits():
        split = ctx.prog.const(fit.kw("validation_split"), fit.ev.idx, fit.ev.scope)
        x = fit.arg(0, "x")
        if not isinstance(split, int | float) or not 0 < split < 1 or x is None:
            continue
        if ks.flow_of(x, fit.ev) is not None:
            continue  # a generator or dataset: validation_split does not apply to it
        line = class_blocked(ctx, fit.arg(1, "y"), fit.ev)
        if not line or not once(ctx, "blocks.split", fit.node.lineno):
            continue
        ctx.add(
            "GL144",
            "no-shuffle",
            "warning",
            f"validation_split={split} takes the last classes of arrays built class by class",
            [line, fit.node.lineno],
            "The labels are built one class after another, so the arrays are sorted by class. "
            f"Keras takes validation_split's {split:.0%} from the END of the arrays, before "
            "shuffling (fit's shuffle only reorders the rest), so validation is the last class "
            "or classes only: classes the model never trains on. Validation accuracy then stays "
            "at 0 (or jumps between 0 and 1) however well training goes (inferred: no shuffling "
            "of the arrays was found in the script).",
            "Shuffle the arrays once before fit, or split them stratified:\n"
            "idx = np.random.permutation(len(x)); x, y = x[idx], y[idx]\n"
            "# or x_tr, x_val, y_tr, y_val = train_test_split(x, y, test_size=0.2, stratify=y)",
            [REFS["keras_compile"]],
        )
    _unshuffled_slices(ctx)


def _unshuffled_slices(ctx: Ctx) -> None:
    """GL145: ``Dataset.from_tensor_slices((x, y))`` of class-blocked labels, no ``.shuffle``
    on the way to the ``fit`` that trains on it."""
    prog = ctx.prog
    ks = keras_script(ctx)
    for fit in ks.fits():
        node = fit.arg(0, "x")
        ev: Event | Ref = fit.ev
        chain: list[str] = []
        site = None
        for _ in range(12):  # ds.map(...).batch(...) assigned step by step or chained
            r = prog.origin(node, ev.idx, ev.scope) if node is not None else None
            if r is None or not isinstance(r.node, ast.Call):
                break
            call = r.node
            name = call.func.attr if isinstance(call.func, ast.Attribute) else ""
            if name == "from_tensor_slices":
                site = (call, r)
                break
            if not isinstance(call.func, ast.Attribute):
                break
            chain.append(name)
            node, ev = call.func.value, r
        if site is None or "shuffle" in chain:
            continue
        call, r = site
        steps = " → ".join([dotted(call.func) or "from_tensor_slices", *reversed(chain)])
        data = call.args[0] if call.args else None
        labels = data.elts[-1] if isinstance(data, ast.Tuple) and len(data.elts) >= 2 else None
        at = prog.events[min(r.idx, len(prog.events) - 1)]
        line = class_blocked(ctx, labels, at)
        if not line or not once(ctx, "blocks.slices", call.lineno):
            continue
        ctx.add(
            "GL145",
            "no-shuffle",
            "warning",
            "A tf.data pipeline of arrays built class by class trains without shuffle()",
            [line, call.lineno, fit.node.lineno],
            "The labels are built one class after another, and the pipeline made from them "
            f"({steps}) "
            "never calls .shuffle(): every epoch the batches come class by class, each holding "
            "one class, so the model is pulled towards each class in turn and ends predicting "
            "the last ones (inferred: no shuffling of the arrays was found in the script).",
            "ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(y), "
            "reshuffle_each_iteration=True).batch(32)",
            [REFS["keras_compile"]],
        )
