"""A prediction path that applies one element of the training pipeline's transform list.

Serving and prediction code often re-applies "the" transform of a trained pipeline by hand:
``learner.data.valid_dl.tfms[0](x)``, ``dataset.transform.transforms[0](img)``. A constant index
picks one element of a list that, in training, ran whole: any transform after it (normalisation,
a resize or crop, a tensor conversion) is left out, so the images predicted on differ from the
training images. The list's length is not in the code shown, hence a ``warning`` (GL237) that
says so.
"""

from __future__ import annotations

import ast

from graftlab.doctor._checks import declare
from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.common_rules import once
from graftlab.doctor.script.knowledge import REFS

declare(
    "GL237",
    "train-eval-preprocessing-mismatch",
    "warning",
    "script",
    "Prediction applies one element of the training transform list",
    (REFS["tv_models"],),
)

#: Attributes holding a pipeline's list of transforms (torchvision, fastai, albumentations).
_LISTS = {"tfms", "transforms", "after_item", "after_batch", "item_tfms", "batch_tfms"}
_PREDICT = ("predict", "pred_batch", "get_preds", "predict_proba", "infer", "inference")


def _predicts(ctx: Ctx) -> bool:
    return any(c.name.startswith(_PREDICT) for c in ctx.prog.calls)


@check("common.partial_pipeline")
def check_partial_pipeline(ctx: Ctx) -> None:
    """GL237: ``pipeline.transforms[0](x)`` (or ``[:k]``) applied on the way to a prediction."""
    if not _predicts(ctx):
        return
    for n in ast.walk(ctx.src.tree):
        if not isinstance(n, ast.Call) or not isinstance(n.func, ast.Subscript):
            continue
        target = n.func.value
        if not (isinstance(target, ast.Attribute) and target.attr in _LISTS):
            continue
        index = n.func.slice
        single = isinstance(index, ast.Constant) and isinstance(index.value, int)
        if not single and not isinstance(index, ast.Slice):
            continue
        if not once(ctx, "common.partial_pipeline"):
            return
        picked = ast.unparse(n.func)
        ctx.add(
            "GL237",
            "train-eval-preprocessing-mismatch",
            "warning",
            f"{picked} applies only part of the pipeline's transforms before prediction",
            [n.lineno],
            f"{ast.unparse(target)} is the list of transforms the pipeline applies in "
            f"training, one after another; {picked} picks "
            + ("one of them" if single else "a slice of them")
            + ". Every other transform in the list (normalisation, a resize or crop, a "
            "conversion) is skipped, so the images predicted on are not prepared as the "
            "training images were and predictions degrade silently (inferred: the list's "
            "length is not in the code shown).",
            "Apply the whole pipeline (call the Compose / the learner's own predict, e.g. "
            "learn.predict(img)), or loop over every element: for t in pipeline.transforms: "
            "x = t(x).",
            [REFS["tv_models"]],
        )
        return
