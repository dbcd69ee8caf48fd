"""Overfitting read from the training code itself: many epochs with nothing against it.

A network trained for a long run with no augmentation, no regulariser (Dropout, weight decay,
kernel regularizers) and no early stopping or best-checkpoint selection memorises its
training set; the validation loss turns up after a few epochs and the last weights are the
overfitted ones. Each piece alone is common and fine, so this is a warning, only when all of
them are missing together.
"""

from __future__ import annotations

import ast
import re

from graftlab.doctor._checks import declare
from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.common_rules import once
from graftlab.doctor.script.knowledge import KERAS_AUG_KWARGS, REFS

declare(
    "GL313",
    "overfitting",
    "warning",
    "script",
    "A long training run with no augmentation, regularisation or early stopping",
    (REFS["keras_idg"], REFS["tv_tutorial"]),
)

#: Epoch counts from which a run without any counter-measure is called long.
LONG_RUN = 50
# Any of these names in a call means the code defends against overfitting somewhere.
_GUARDS = re.compile(
    r"(?i)^(random\w*|\w*augment\w*|\w*dropout\w*|earlystopping|early_stopping|"
    r"reducelronplateau|mixup|cutmix|trivialaugmentwide|autoaugment|randaugment|"
    r"l1|l2|l1_l2|colorjitter|gaussianblur|elastictransform|adamw|sgdw)$"
)
_GUARD_KWARGS = {"weight_decay", "kernel_regularizer", "save_best_only", "label_smoothing"}


def _guarded(ctx: Ctx) -> bool:
    for c in ctx.prog.calls:
        if _GUARDS.match(c.name) or c.name.startswith("Random"):
            return True
        if any(k.arg in _GUARD_KWARGS for k in c.node.keywords):
            return True
        if c.name == "ImageDataGenerator" and any(
            k.arg in KERAS_AUG_KWARGS or k.arg is None for k in c.node.keywords
        ):
            return True
        if c.qual.startswith(("albumentations", "imgaug", "torchvision.transforms.v2")):
            return True
    # the poster's own augmentation code, or an optimiser with decoupled weight decay
    words = {n.id for n in ast.walk(ctx.src.tree) if isinstance(n, ast.Name)}
    words |= set(ctx.prog.functions)
    return any(re.search(r"(?i)augment|dropout|AdamW|regulari", w) for w in words)


def _long_run(ctx: Ctx) -> tuple[int, int] | None:
    """(epochs, line) of a Keras ``fit`` or a PyTorch epoch loop that trains."""
    prog = ctx.prog
    for c in prog.calls:
        if c.name in ("fit", "fit_generator"):
            n = prog.const(c.kw("epochs") or c.kw("nb_epoch"), c.ev.idx, c.ev.scope)
            if isinstance(n, int) and n >= LONG_RUN:
                return n, c.node.lineno
    for ev in prog.events:
        loop = ev.node
        if not isinstance(loop, ast.For) or not isinstance(loop.iter, ast.Call):
            continue
        if not (isinstance(loop.iter.func, ast.Name) and loop.iter.func.id == "range"):
            continue
        if not re.search(r"(?i)epoch|^e(p)?$", ast.unparse(loop.target)):
            continue
        n = prog.const(loop.iter.args[-1], ev.idx, ev.scope) if loop.iter.args else None
        if isinstance(n, int) and n >= LONG_RUN and prog.loop_trains(ev.idx):
            return n, loop.lineno
    return None


@check("common.unguarded_long_run")
def check_unguarded_long_run(ctx: Ctx) -> None:
    """GL313: ``epochs >= 50`` with no augmentation, regulariser or early stopping."""
    run = _long_run(ctx)
    if run is None or _guarded(ctx) or not once(ctx, "fit.unguarded"):
        return
    epochs, line = run
    ctx.add(
        "GL313",
        "overfitting",
        "warning",
        f"{epochs} epochs with no augmentation, regularisation or early stopping",
        [line],
        f"The model trains for {epochs} epochs, and nothing in the code works against "
        "memorising the training set: no random augmentation, no Dropout or weight decay, no "
        "EarlyStopping and no best-checkpoint selection. On a data set of a few thousand "
        "images (typical for transfer learning) training accuracy reaches ~100% while "
        "validation loss rises after a few epochs, and the weights kept are the last, "
        "overfitted ones (inferred from the code: the data size is not shown).",
        "Add augmentation (RandomFlip/RandomRotation layers, ImageDataGenerator(...), "
        "torchvision Random* transforms), Dropout or weight decay, and stop on the validation "
        "loss: EarlyStopping(monitor='val_loss', patience=5, restore_best_weights=True).",
        [REFS["keras_idg"], REFS["tv_tutorial"]],
    )
