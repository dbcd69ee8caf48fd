"""A pretrained ImageNet classifier measured on images squashed to its input size.

The accuracy published for ``keras.applications`` models (and the one their weights reach) is
measured on images whose shorter side is resized and whose centre is then cropped to the input
size, so the aspect ratio is kept. ``image_dataset_from_directory`` and ``flow_from_directory``
resize every image straight to ``image_size`` / ``target_size``, stretching it, unless
``crop_to_aspect_ratio=True`` (or ``keep_aspect_ratio=True``). A whole pretrained classifier
(``include_top`` kept) that is only evaluated, never trained, on such a stream is measured on
distorted images: several points of top-1 below the published figure, with no error. When the
model is trained on the same stream it adapts, so only the evaluation-only case is reported
(GL241, a warning: the loss is a few points, not a broken run).
"""

from __future__ import annotations

from graftlab.doctor._checks import declare
from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.common_rules import once
from graftlab.doctor.script.frameworks import uses_keras
from graftlab.doctor.script.keras_model import keras_script
from graftlab.doctor.script.knowledge import REFS

declare(
    "GL241",
    "preprocessing-mismatch",
    "warning",
    "script",
    "A pretrained ImageNet classifier evaluated on images stretched to its input size",
    (REFS["keras_apps"], REFS["keras_idfd"]),
)

_LOADERS = ("image_dataset_from_directory", "flow_from_directory", "flow_from_dataframe")
_KEEPS = ("crop_to_aspect_ratio", "keep_aspect_ratio")


@check("keras.eval_resize")
def check_eval_resize(ctx: Ctx) -> None:
    """GL241: ``VGG16(weights='imagenet')`` evaluated on ``image_dataset_from_directory(...,
    image_size=(224, 224))`` with no aspect-preserving crop, and never trained."""
    if not uses_keras(ctx):
        return
    ks = keras_script(ctx)
    if ks.fits():
        return
    apps = [a for a in ks.apps if a.pretrained and a.include_top]
    if len(apps) != 1:
        return
    app = apps[0]
    for c in ctx.prog.calls:
        if c.name not in ("evaluate", "evaluate_generator", "predict", "predict_generator"):
            continue
        x = c.arg(0, "x") or c.kw("generator")
        if x is None:
            continue
        load = next(
            (
                site
                for r in ctx.prog.deps(x, c.ev, limit=30)
                if (site := ctx.prog.origin_call(r.node, r)) is not None and site.name in _LOADERS
            ),
            None,
        )
        if load is None:
            flow = ks.flow_of(x, c.ev)
            load = flow.site if flow is not None and flow.site.name in _LOADERS else None
        if load is None:
            continue
        if any(ctx.prog.const(load.kw(k), load.ev.idx, load.ev.scope) is True for k in _KEEPS):
            continue
        if not once(ctx, "keras.eval_resize"):
            return
        size = "image_size" if load.name == "image_dataset_from_directory" else "target_size"
        ctx.add(
            "GL241",
            "preprocessing-mismatch",
            "warning",
            f"The pretrained {app.info.name} classifier is evaluated on images stretched to "
            f"{size}, not resized and centre-cropped",
            [load.node.lineno, app.site.node.lineno, c.node.lineno],
            f"{load.name} resizes every image straight to {size}, changing its aspect ratio. "
            f"{app.info.name}'s ImageNet weights, and the accuracy published for them, use "
            "images whose shorter side is resized and whose centre is cropped: on stretched "
            "images the same weights score several points of top-1 lower, with no error. "
            "(The model is only evaluated here, never trained, so nothing adapts to the "
            "stretching.)",
            f"{load.name}(..., {size}=(224, 224), crop_to_aspect_ratio=True), or resize the "
            "shorter side (e.g. to 256) and centre-crop, as the weights were evaluated; "
            "bicubic interpolation comes closer still for some families.",
            [REFS["keras_apps"], REFS["keras_idfd"]],
        )
        return
