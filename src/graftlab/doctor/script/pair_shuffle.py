"""Images and labels shuffled apart: one of a pair of arrays reordered, then trained on as pairs.

``random.shuffle(x)``, ``np.random.shuffle(x)`` and ``rng.shuffle(x)`` reorder one sequence in
place; ``np.random.permutation(x)`` and ``sklearn.utils.shuffle(x)`` with one array return one
reordered copy. Applied to the images and not the labels (or to each with its own random
permutation), the i-th image no longer has the i-th label, and the model is trained or scored
on pairs that are random: training accuracy stays at the majority share, validation at chance.
The correct forms keep one permutation for both: ``sklearn.utils.shuffle(x, y)``,
``idx = np.random.permutation(len(x)); x, y = x[idx], y[idx]``, shuffling a list of pairs, or
reseeding with the same seed before each of two shuffles.
"""

from __future__ import annotations

import ast

from graftlab.doctor._checks import declare
from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.common_rules import once, source_text
from graftlab.doctor.script.flow import Event, canon, last

declare(
    "GL320",
    "label-order-mismatch",
    "error",
    "script",
    "Images and labels are shuffled apart: the pairs no longer match",
    ("https://scikit-learn.org/stable/modules/generated/sklearn.utils.shuffle.html",),
)

#: Calls that take the inputs and the labels as their first two arguments (after the model
#: for the cross-validation helpers), i.e. that treat element i of each as one pair.
_PAIRS = {
    "fit": 0, "fit_generator": 0, "train_on_batch": 0, "evaluate": 0, "train_test_split": 0,
    "TensorDataset": 0, "zip": 0, "flow": 0, "from_tensor_slices": 0, "cross_val_score": 1,
    "cross_validate": 1,
}  # fmt: skip
_SEEDS = {"seed", "manual_seed", "set_seed"}


def _shuffled(ctx: Ctx, ev: Event) -> str | None:
    """The name a statement reorders on its own: ``random.shuffle(x)`` / ``rng.shuffle(x)``
    (in place), ``x = np.random.permutation(x)`` / ``x = shuffle(x)`` (one array)."""
    n = ev.node
    call = n.value if isinstance(n, ast.Expr | ast.Assign) else None
    if not isinstance(call, ast.Call) or len(call.args) != 1 or call.keywords:
        return None
    q = canon(ctx.prog.qualname(call.func, ev.idx, ev.scope) or "")
    name = last(q) if q else getattr(call.func, "attr", getattr(call.func, "id", ""))
    arg = call.args[0]
    if not isinstance(arg, ast.Name):
        return None
    if isinstance(n, ast.Expr) and name == "shuffle" and not q.startswith("sklearn"):
        return arg.id  # in place
    # random.shuffle returns None: ``x = random.shuffle(x)`` is another bug
    copies = name == "permutation" or (name == "shuffle" and not q.startswith("random."))
    if isinstance(n, ast.Assign) and copies:
        targets = n.targets
        if len(targets) == 1 and isinstance(targets[0], ast.Name) and targets[0].id == arg.id:
            return arg.id
    return None


def _pair_call(ctx: Ctx, after: int) -> list[tuple[Event, str, str]]:
    """(event, first name, second name) of each later call that pairs two names element-wise."""
    out = []
    for c in ctx.prog.calls:
        if c.ev.idx <= after or c.name not in _PAIRS:
            continue
        pos = _PAIRS[c.name]
        args = list(c.node.args)
        if c.name == "from_tensor_slices" and args and isinstance(args[0], ast.Tuple):
            args = list(args[0].elts)
        a, b = [*args[pos : pos + 2], None, None][:2]
        if isinstance(a, ast.Name) and isinstance(b, ast.Name) and a.id != b.id:
            out.append((c.ev, a.id, b.id))
    return out


#: Calls that copy or convert one sequence without reordering it: ``np.array(x)``,
#: ``torch.tensor(np.stack(x))``, and methods such as ``x.astype("float32")``, ``x.permute(0, 3,
#: 1, 2)``, ``x.reshape(-1, 784)``.
_WRAPS = {"array", "asarray", "list", "tuple", "tensor", "as_tensor", "from_numpy", "stack",
          "FloatTensor", "LongTensor", "Tensor", "to_categorical"}  # fmt: skip
_METHODS = {"astype", "float", "long", "reshape", "permute", "transpose", "view", "to",
            "unsqueeze", "numpy", "copy", "cuda", "type", "double", "int"}  # fmt: skip


def _unwrapped(v: ast.expr) -> ast.expr:
    """``v`` without the conversions of :data:`_WRAPS` / :data:`_METHODS` and arithmetic."""
    for _ in range(10):
        if isinstance(v, ast.BinOp):
            v = v.left
        elif not isinstance(v, ast.Call):
            break
        elif isinstance(v.func, ast.Attribute) and v.func.attr in _METHODS:
            v = v.func.value
        elif (
            len(v.args) >= 1
            and (getattr(v.func, "attr", None) or getattr(v.func, "id", None)) in _WRAPS
        ):
            v = v.args[0]
        else:
            break
    return v


def _chain(ctx: Ctx, name: str, idx: int, scope: int) -> list[tuple[str, int | None]]:
    """``name`` and the names it was converted from (``X = np.array(images) / 255``), each
    with the event idx its binding was made at (None: the code shown never binds it)."""
    out: list[tuple[str, int | None]] = []
    for _ in range(6):
        b = ctx.prog.lookup(name, idx, scope)
        out.append((name, None if b is None else b.vidx))
        if b is None:
            break
        v = _unwrapped(b.value)
        if not isinstance(v, ast.Name) or v.id == name:
            break
        name, idx, scope = v.id, b.vidx, b.vscope
    return out


def _carries(chain: list[tuple[str, int | None]], name: str, shuffled_at: int) -> bool:
    """Whether the value at the head of ``chain`` holds ``name`` as it was after the shuffle at
    ``shuffled_at``: ``name`` is in the chain and the conversion from it ran after the shuffle."""
    for i, (n, _) in enumerate(chain):
        if n == name:
            made = chain[i - 1][1] if i else None
            return i == 0 or (made is not None and made > shuffled_at)
    return False


@check("common.shuffled_apart")
def check_shuffled_apart(ctx: Ctx) -> None:
    """GL320: one array of an (inputs, labels) pair reordered on its own before the pair is
    trained on, split or zipped."""
    text = source_text(ctx)
    if "train_test_split" in text:
        _split_apart(ctx)
    if "shuffle" not in text and "permutation" not in text:
        return
    events = ctx.prog.events
    shuffles = [(ev, name) for ev in events if (name := _shuffled(ctx, ev))]
    for ev, name in shuffles:
        for use, a, b in _pair_call(ctx, ev.idx):
            if not ctx.prog.sees(use.scope, ev.scope):
                continue  # another call's local of the same name (a function run twice)
            chains = {x: _chain(ctx, x, use.idx, use.scope) for x in (a, b)}
            hit = next((x for x in (a, b) if _carries(chains[x], name, ev.idx)), None)
            if hit is None:
                continue
            other = b if hit == a else a
            theirs = chains[other]
            if theirs[-1][1] is not None and theirs[-1][1] > ev.idx:
                continue  # the other one is built after the shuffle, maybe from its order
            names = {n for n, _ in theirs}
            again = [e for e, n in shuffles if n in names and e.idx < use.idx]
            between = range(min([ev.idx, *(e.idx for e in again)]), use.idx)
            if again and any(_reseeds(events[i]) for i in between):
                continue  # both shuffled after the same seed: one permutation
            if not once(ctx, "label.shuffled_apart"):
                return
            _report(ctx, ev, name, use, (a, b), chains[hit], theirs, again)
            return


def _lone_splits(ctx: Ctx) -> list[tuple[Event, ast.Call, tuple[str, ...]]]:
    """(event, call, names bound) of ``a_train, a_test = train_test_split(a, ...)``: one
    array split on its own."""
    out = []
    for c in ctx.prog.calls:
        n = c.ev.node
        if c.name != "train_test_split" or len(c.node.args) != 1 or not isinstance(n, ast.Assign):
            continue
        if len(n.targets) == 1 and isinstance(n.targets[0], ast.Tuple):
            names = tuple(t.id for t in n.targets[0].elts if isinstance(t, ast.Name))
            if len(names) == 2:
                out.append((c.ev, c.node, names))
    return out


def _same_draw(ctx: Ctx, a: tuple[Event, ast.Call, tuple], b: tuple[Event, ast.Call, tuple]):
    """Whether two lone splits draw the same permutation: the same constant random_state (or
    both unshuffled) and the same options, or the global seed set again before each."""

    def options(call: ast.Call, ev: Event) -> dict:
        return {k.arg: ctx.prog.const(k.value, ev.idx, ev.scope) for k in call.keywords}

    oa, ob = options(a[1], a[0]), options(b[1], b[0])
    if oa == ob and (oa.get("random_state") is not None or oa.get("shuffle") is False):
        return True
    first, second = sorted((a[0].idx, b[0].idx))
    events = ctx.prog.events
    reseeded = [i for i in range(second) if _reseeds(events[i])]
    return bool(reseeded) and any(first < i < second for i in reseeded)


def _split_apart(ctx: Ctx) -> None:
    """GL320: ``X_train, X_test = train_test_split(X)`` and ``y_train, y_test =
    train_test_split(y)``, each with its own random permutation, then used as pairs."""
    splits = _lone_splits(ctx)
    for i, one in enumerate(splits):
        for two in splits[i + 1 :]:
            if one[0].scope != two[0].scope or _same_draw(ctx, one, two):
                continue
            for use, a, b in _pair_call(ctx, two[0].idx):
                ca, cb = ({n for n, _ in _chain(ctx, x, use.idx, use.scope)} for x in (a, b))
                x, y = set(one[2]), set(two[2])
                if not ((ca & x and cb & y) or (ca & y and cb & x)):
                    continue
                if not once(ctx, "label.shuffled_apart"):
                    return
                _report_split(ctx, one, two, use, (a, b))
                return


def _report_split(ctx: Ctx, one, two, use: Event, pair: tuple[str, str]) -> None:
    a, b = pair
    ctx.add(
        "GL320",
        "label-order-mismatch",
        "error",
        "The inputs and the labels are split by two train_test_split calls, each with its own "
        "random order",
        [one[0].node.lineno, two[0].node.lineno, use.node.lineno],
        "train_test_split shuffles before it splits, and without a shared random_state each "
        f"call draws its own permutation: {one[2][0]} and {two[2][0]} hold different samples "
        f"in a different order. The call on the last line treats element i of {a} and of {b} "
        "as one example, so the labels belong to other images: training accuracy stays near "
        "the majority share and validation at chance.",
        "Split the inputs and the labels in one call:\n"
        "X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, "
        "random_state=0)",
        [
            "https://scikit-learn.org/stable/modules/generated/"
            "sklearn.model_selection.train_test_split.html"
        ],
    )


def _report(ctx, ev, name, use, pair, mine, theirs, again) -> None:
    a, b = pair
    complete = mine[-1][1] is not None and theirs[-1][1] is not None
    mate = theirs[-1][0]
    how = (
        f"{name} and {mate} are each shuffled with their own random permutation"
        if again
        else f"{name} is shuffled and {mate} is not"
    )
    ctx.add(
        "GL320",
        "label-order-mismatch",
        "error" if complete else "warning",
        f"{how}, then used as pairs: the labels no longer belong to their images",
        [ev.node.lineno, *(e.node.lineno for e in again), use.node.lineno],
        f"{how}; the call on the last line treats element i of {a} and element i of {b} as "
        "one example. After the shuffle they are random pairs: the model learns nothing it can "
        "generalise (training accuracy near the majority share, validation at chance), and any "
        "score computed on them is meaningless."
        + (
            ""
            if complete
            else " (Inferred: where the arrays come from is not in the code shown; they are "
            "taken to be inputs and their labels, as the call uses them.)"
        ),
        "Shuffle both with one permutation:\n"
        f"from sklearn.utils import shuffle\n{a}, {b} = shuffle({a}, {b}, random_state=0)\n"
        f"# or: idx = np.random.permutation(len({a})); {a}, {b} = {a}[idx], {b}[idx]",
        ["https://scikit-learn.org/stable/modules/generated/sklearn.utils.shuffle.html"],
    )


def _reseeds(ev: Event) -> bool:
    return any(
        isinstance(n, ast.Call) and getattr(n.func, "attr", getattr(n.func, "id", "")) in _SEEDS
        for n in ast.walk(ev.node)
    )
