"""A Keras backbone frozen BatchNorm and all, set beside a fastai learner that trains its BatchNorm.

People who find fastai's ``cnn_learner`` / ``vision_learner`` better than "the same model" in
Keras post both in one paste. fastai freezes the pretrained body but leaves its BatchNorm layers
trainable (``train_bn=True`` by default): their scales, offsets and running statistics follow the
new images. A Keras backbone frozen layer by layer (or whole) freezes its BatchNormalization
layers too, and since TF 2.0 a frozen BatchNormalization runs in inference mode: it normalises
with ImageNet's statistics however far the new images are from ImageNet (small, upsampled,
medical). The two runs differ in that, and on such data that is the gap people see (fastai's own
``train_bn=False`` loses most of it).
"""

from __future__ import annotations

import ast

from graftlab.doctor._checks import declare
from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.common_rules import once
from graftlab.doctor.script.flow import ElementOf
from graftlab.doctor.script.frameworks import uses_keras
from graftlab.doctor.script.keras_graph import App, target_root, trainable_sets
from graftlab.doctor.script.keras_model import keras_script
from graftlab.doctor.script.keras_train import _handles_bn
from graftlab.doctor.script.knowledge import REFS

declare(
    "GL133",
    "batchnorm",
    "warning",
    "script",
    "A Keras backbone frozen with its BatchNorm layers, compared with a fastai learner that "
    "trains them",
    (REFS["fastai_learner"], REFS["keras_tl"]),
)

_LEARNERS = ("cnn_learner", "vision_learner", "create_cnn")


def _fastai_learner(ctx: Ctx) -> ast.Call | None:
    """A fastai vision learner that keeps the default ``train_bn=True``."""
    for c in ctx.prog.calls:
        if c.name not in _LEARNERS:
            continue
        kw = c.kw("train_bn")
        if kw is not None and not (isinstance(kw, ast.Constant) and kw.value is True):
            continue
        return c.node
    return None


def _frozen_whole(ctx: Ctx, app: App) -> ast.stmt | None:
    """``for layer in base.layers: layer.trainable = False`` or ``base.trainable = False``
    (no slice of the layers), never undone by a later ``trainable = True`` on the backbone."""
    freeze = None
    for ev, target, value in trainable_sets(ctx.prog):
        root = target_root(ctx.prog, target, ev)
        site = ctx.prog.origin_call(root, ev)
        if site is None or site.node is not app.site.node:
            continue
        if value is True:
            return None
        if value is not False or _sliced(ctx, target, ev):
            continue
        freeze = freeze or ev.node
    return freeze


def _sliced(ctx: Ctx, target: ast.expr, ev) -> bool:
    """The loop runs over part of the layers (``base.layers[:-20]``): some stay trainable."""
    if not isinstance(target, ast.Name):
        return False
    r = ctx.prog.origin(target, ev.idx, ev.scope)
    return isinstance(r.node, ElementOf) and isinstance(r.node.value, ast.Subscript)


@check("keras.frozen_bn_vs_fastai")
def check_frozen_bn_vs_fastai(ctx: Ctx) -> None:
    """GL133: a Keras backbone frozen whole, BatchNorm included, beside a fastai learner."""
    # the learner first: a list lookup, where _handles_bn walks the whole tree (that walk on
    # every Keras script was nine tenths of this check's cost on the corpus)
    learner = _fastai_learner(ctx) if uses_keras(ctx) else None
    if learner is None or _handles_bn(ctx.src.tree):
        return
    ks = keras_script(ctx)
    for app in ks.apps:
        if not app.info.has_bn or not app.pretrained:
            continue
        cited = ctx.src.evidence(app.site.node.lineno)
        freeze = _frozen_whole(ctx, app)
        if freeze is None or not once(ctx, "keras.frozen_bn_vs_fastai", app.site.node.lineno):
            continue
        if any(f.code == "GL127" and cited in f.evidence for f in ctx.findings):
            # standalone Keras 2: its frozen BatchNorm still uses batch statistics in fit(),
            # what GL127 says; the inference-mode comparison below is TF 2's
            continue
        ctx.add(
            "GL133",
            "batchnorm",
            "warning",
            f"{app.info.name} is frozen with its BatchNorm layers, unlike the fastai learner "
            "it is compared with",
            [learner.lineno, app.site.node.lineno, freeze.lineno],
            f"The fastai learner on line {learner.lineno} freezes its pretrained body but "
            "keeps the body's BatchNorm layers trainable (train_bn=True, fastai's default): "
            "their scales, offsets and running statistics adapt to your images. The Keras "
            f"{app.info.name} is frozen whole, BatchNormalization included, and a frozen "
            "BatchNormalization layer (TF >= 2.0) runs in inference mode with ImageNet's "
            "statistics. On images unlike ImageNet's (small or upsampled ones such as "
            "CIFAR, medical or satellite images) that alone keeps the Keras model several "
            "points below fastai's, however long it trains (inferred: the gap you compare is "
            "this difference; the code does not show the data).",
            "Freeze everything but the BatchNorm layers, as fastai does:\n"
            "for layer in base_model.layers:\n"
            "    layer.trainable = isinstance(layer, keras.layers.BatchNormalization)\n"
            "(or unfreeze the top blocks and fine-tune at a low rate); to compare like with "
            "like the other way, build the fastai learner with train_bn=False.",
            [REFS["fastai_learner"], REFS["keras_tl"]],
        )
