"""Overfitting read from the training code itself: many epochs on un-augmented data.

A network trained for a long run on the same un-augmented images, with no early stopping,
memorises its training set; the validation loss turns up after a few epochs. Dropout or weight
decay slow this down but do not replace augmentation (they are named in the explanation). The
data size is rarely in the code, so this is a warning."""

from __future__ import annotations

import ast
import re

from graftlab.doctor._checks import declare
from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.common_rules import once, source_text
from graftlab.doctor.script.knowledge import KERAS_AUG_KWARGS, REFS

declare(
    "GL313",
    "overfitting",
    "warning",
    "script",
    "A long training run on un-augmented data with no early stopping",
    (REFS["keras_idg"], REFS["tv_tutorial"]),
)

_RANGES = ("range", "xrange", "trange")  # Python 2 and tqdm's range too
#: Epoch counts from which a run without any counter-measure is called long.
LONG_RUN = 50
# Any of these names in a call means the code defends against overfitting somewhere.
_AUGMENTS = re.compile(
    r"(?i)^(random\w*|\w*augment\w*|mixup|cutmix|colorjitter|gaussianblur|elastictransform)$"
)
_GUARDS = re.compile(r"(?i)^(\w*dropout\w*|l1|l2|l1_l2|adamw|sgdw)$")
_GUARD_KWARGS = {"weight_decay", "kernel_regularizer", "save_best_only", "label_smoothing"}


def _augmented(ctx: Ctx) -> bool:
    """Whether any random augmentation appears in the code."""
    for c in ctx.prog.calls:
        if _AUGMENTS.match(c.name) or c.name.startswith("Random"):
            return True
        if c.name == "ImageDataGenerator" and any(
            k.arg in KERAS_AUG_KWARGS or k.arg is None for k in c.node.keywords
        ):
            return True
        if c.qual.startswith(("albumentations", "imgaug", "torchvision.transforms.v2")):
            return True
        if c.name in ("flow_from_directory", "flow_from_dataframe", "flow"):
            r = ctx.prog.receiver(c)
            if r is None or not isinstance(r.node, ast.Call):
                return True  # a generator made in code not shown: its augmentation is unknown
    # the poster's own augmentation code
    words = {n.id for n in ast.walk(ctx.src.tree) if isinstance(n, ast.Name)}
    words |= set(ctx.prog.functions)
    return any(re.search(r"(?i)augment", w) for w in words)


def _stops_early(ctx: Ctx) -> bool:
    return any(re.match(r"(?i)early_?stopping$", c.name) for c in ctx.prog.calls)


def _regularised(ctx: Ctx) -> bool:
    """Dropout, weight decay, regularizers or best-checkpoint selection."""
    for c in ctx.prog.calls:
        if _GUARDS.match(c.name) or any(k.arg in _GUARD_KWARGS for k in c.node.keywords):
            return True
    words = {n.id for n in ast.walk(ctx.src.tree) if isinstance(n, ast.Name)}
    return any(re.search(r"(?i)dropout|AdamW|regulari", w) for w in words)


#: A training set at most this large, stated in the code, is small for full fine-tuning.
SMALL_SET = 2000
#: Epochs from which full fine-tuning on such a set is called long.
SMALL_SET_RUN = 20
_SIZE_NAME = re.compile(
    r"(?i)^(n|nb|num|number|count)_?(of_)?train(ing)?_?(samples|images|imgs|examples|size|data)$"
)
_FREEZES = re.compile(
    r"\.trainable\s*=\s*False|requires_grad\s*=\s*False|requires_grad_\(False|freeze"
)


def _stated_size(ctx: Ctx) -> tuple[int, int] | None:
    """(images, line) when the code states a small training set: ``nb_train_samples = 400``,
    or ``steps_per_epoch`` times ``batch_size`` of a ``fit``."""
    prog = ctx.prog
    for ev in prog.events:
        n = ev.node
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name):
            v = prog.const(n.value, ev.idx, ev.scope)
            if _SIZE_NAME.match(n.targets[0].id) and isinstance(v, int) and 0 < v <= SMALL_SET:
                return v, n.lineno
    for c in prog.calls:
        if c.name not in ("fit", "fit_generator"):
            continue
        steps = prog.const(c.kw("steps_per_epoch"), c.ev.idx, c.ev.scope)
        batch = prog.const(c.kw("batch_size"), c.ev.idx, c.ev.scope)
        if not isinstance(batch, int):
            batch = next(
                (
                    prog.const(f.kw("batch_size"), f.ev.idx, f.ev.scope)
                    for f in prog.calls
                    if f.name in ("flow_from_directory", "flow", "flow_from_dataframe")
                ),
                None,
            )
        if isinstance(steps, int) and isinstance(batch, int) and 0 < steps * batch <= SMALL_SET:
            return steps * batch, c.node.lineno
    return None


def _full_fine_tuning(ctx: Ctx) -> bool:
    """A pretrained backbone and nothing in the code that freezes any of it."""
    text = source_text(ctx)
    pretrained = re.search(
        r"weights\s*=\s*['\"]imagenet|pretrained\s*=\s*True|weights\s*=\s*\w+_Weights", text
    )
    return bool(pretrained) and not _FREEZES.search(text)


def _long_run(ctx: Ctx, least: int = LONG_RUN) -> tuple[int, int] | None:
    """(epochs, line) of a Keras ``fit`` or a PyTorch epoch loop that trains ``least`` epochs
    or more."""
    prog = ctx.prog
    for c in prog.calls:
        if c.name in ("fit", "fit_generator"):
            n = prog.const(c.kw("epochs") or c.kw("nb_epoch"), c.ev.idx, c.ev.scope)
            if isinstance(n, int) and n >= least and not _cached_features(ctx, c):
                return n, c.node.lineno
    for ev in prog.events:
        loop = ev.node
        if not isinstance(loop, ast.For) or not isinstance(loop.iter, ast.Call):
            continue
        if not (isinstance(loop.iter.func, ast.Name) and loop.iter.func.id in _RANGES):
            continue
        n = prog.const(loop.iter.args[-1], ev.idx, ev.scope) if loop.iter.args else None
        if not (isinstance(n, int) and n >= least and prog.loop_trains(ev.idx)):
            continue
        if re.search(r"(?i)epoch|^e(p)?$", ast.unparse(loop.target)) or _runs_batches(prog, ev):
            return n, loop.lineno
    return None


def _runs_batches(prog, ev) -> bool:
    """Whether the ``range`` loop at ``ev`` holds a loop over data (not another ``range``) that
    trains: it counts epochs, whatever its variable is called."""
    end = prog.loop_end.get(ev.idx, ev.idx)
    for inner in prog.events_in(ev.idx + 1, end):
        node = inner.node
        if not isinstance(node, ast.For) or ev.idx not in inner.loops:
            continue
        counted = isinstance(node.iter, ast.Call) and getattr(node.iter.func, "id", "") in _RANGES
        if not counted and prog.loop_trains(inner.idx):
            return True
    return False


def _cached_features(ctx: Ctx, fit) -> bool:
    """``fit(train_data, ...)`` on features a backbone computed once (``predict`` output, or
    arrays read back with ``np.load``): images are gone, augmentation cannot apply."""
    x = fit.arg(0, "x")
    site = ctx.prog.origin_call(x, fit.ev) if x is not None else None
    return site is not None and site.name in (
        "load",
        "predict",
        "predict_generator",
        "extract_features",
    )


@check("common.unguarded_long_run")
def check_unguarded_long_run(ctx: Ctx) -> None:
    """GL313: ``epochs >= 50`` with no augmentation and no early stopping; ``epochs >= 20``
    when a pretrained backbone is fine-tuned in full on a training set the code states small."""
    small = _stated_size(ctx) if _full_fine_tuning(ctx) else None
    run = _long_run(ctx, SMALL_SET_RUN if small else LONG_RUN)
    # no augmentation at all is the strongest sign (a regulariser does not replace it)
    if run is None or _augmented(ctx):
        return
    epochs, line = run
    if _stops_early(ctx) or not once(ctx, "fit.unguarded"):
        return
    regularised = _regularised(ctx)
    ctx.add(
        "GL313",
        "overfitting",
        "warning",
        f"{epochs} epochs on training data without any augmentation"
        + (f", fine-tuning every layer on {small[0]} images" if small else ""),
        [*([small[1]] if small else []), line],
        f"The model trains for {epochs} epochs on the same un-augmented images every epoch, "
        + (
            f"all of a pretrained backbone's layers on about {small[0]} images (line "
            f"{small[1]}), which its millions of weights can memorise in a few epochs, "
            if small
            else ""
        )
        + "with no early stopping"
        + (
            ""
            if regularised
            else ", and nothing else works against memorising them (no Dropout, weight decay "
            "or best-checkpoint selection)"
        )
        + (
            ". Training accuracy reaches ~100% while the validation loss rises after a few "
            "epochs (inferred from the code: the size is what the code states, not what was "
            "read)."
            if small
            else ". On a data set of a few thousand to tens of thousands of images (typical "
            "for transfer learning and CIFAR-sized tasks) training accuracy reaches ~100% "
            "while the validation loss rises after a few epochs (inferred from the code: the "
            "data size is not shown)."
        ),
        "Add random augmentation to the training data only (RandomResizedCrop/RandomFlip "
        "transforms, RandomFlip/RandomRotation layers, ImageDataGenerator(...)), and stop on "
        "the validation loss: EarlyStopping(monitor='val_loss', patience=5, "
        "restore_best_weights=True)."
        + (
            " On so few images, train only the new head first (backbone frozen), then "
            "unfreeze the top blocks at a low learning rate."
            if small
            else ""
        ),
        [REFS["keras_idg"], REFS["tv_tutorial"]],
    )


declare(
    "GL314",
    "augmentation-phase",
    "warning",
    "script",
    "Random augmentation mapped before Dataset.cache(): every epoch replays the same draw",
    (REFS["keras_tl"],),
)

_DRAW = re.compile(r"(?i)(^|\.)(random|stateless_random)(\.|_)|^Random\w+$|\.Random\w+$")


def _draws(ctx: Ctx, fn: ast.AST, at) -> ast.Call | None:
    """A call in ``fn`` that draws at random (tf.random.*, tf.image.random_*, np.random.*,
    a Keras Random* layer)."""
    for n in ast.walk(fn):
        if isinstance(n, ast.Call):
            q = ctx.prog.qualname(n.func, at.idx, at.scope) or ast.unparse(n.func)
            if _DRAW.search(q) and not q.endswith(("seed", "set_seed", "shuffle")):
                return n
            made = ctx.prog.origin_call(n.func, at) if isinstance(n.func, ast.Name) else None
            if made is not None and made.name.startswith("Random"):  # a RandomFlip layer
                return n
    return None


@check("tf.augment_before_cache")
def check_augment_before_cache(ctx: Ctx) -> None:
    """GL314: ``ds.map(random_augment).cache()`` - cache() stores the first epoch's draw."""
    prog = ctx.prog
    for c in prog.method_calls("cache"):
        node, at, depth = c.node.func.value, c.ev, 0
        while depth < 12:
            depth += 1
            r = prog.origin(node, at.idx, at.scope)
            n = r.node
            if not (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)):
                break
            if n.func.attr == "map" and n.args:
                fn = n.args[0]
                body = prog.functions.get(fn.id) if isinstance(fn, ast.Name) else None
                body = fn if isinstance(fn, ast.Lambda) else body
                draw = _draws(ctx, body, r) if body is not None else None
                if draw is not None and once(ctx, "tf.augment_before_cache", c.node.lineno):
                    ctx.add(
                        "GL314",
                        "augmentation-phase",
                        "warning",
                        "Random augmentation is mapped before cache(): every epoch gets the "
                        "same augmented images",
                        [draw.lineno, n.lineno, c.node.lineno],
                        "Dataset.cache() stores the elements of the first pass. The map "
                        "function before it draws its random flips/crops once per image, so "
                        "from the second epoch on the cached, already-augmented images are "
                        "replayed unchanged: the augmentation adds no variety and the model "
                        "overfits as if there were none.",
                        "Cache the deterministic part, then augment: "
                        "ds.map(load).cache().shuffle(n).map(augment).batch(b).prefetch(...)",
                        [REFS["keras_tl"]],
                    )
                    return
            node, at = n.func.value, r
