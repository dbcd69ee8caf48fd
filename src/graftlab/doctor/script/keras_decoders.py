"""Two image decoders of one Keras/TensorFlow script that scale pixels differently: the one
that builds the training examples scales to [0, 1] once, the one that prepares images for
prediction or serving scales twice (``tf.image.convert_image_dtype`` already maps uint8 to
[0, 1], and a ``/ 255.0`` after it leaves values in [0, 1/255]).
"""

from __future__ import annotations

import ast

from graftlab.doctor._checks import declare
from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.common_rules import once
from graftlab.doctor.script.frameworks import uses_keras
from graftlab.doctor.script.keras_pipeline import preprocessing
from graftlab.doctor.script.keras_pre import Op
from graftlab.doctor.script.knowledge import REFS

declare(
    "GL131",
    "train-eval-preprocessing-mismatch",
    "warning",
    "script",
    "One image decoder of the script scales pixels to [0, 1] once, another twice",
    (REFS["keras_idfd"],),
)

_DECODERS = {"decode_jpeg", "decode_image", "decode_png", "decode_raw"}


def _decoders(ctx: Ctx) -> list[ast.FunctionDef]:
    """The script's functions that decode image bytes themselves."""
    out = []
    for fn in ctx.prog.functions.values():
        for n in ast.walk(fn):
            f = n.func if isinstance(n, ast.Call) else None
            if isinstance(f, ast.Attribute) and f.attr in _DECODERS:
                out.append(fn)
                break
    return out


def _unit_scalings(ctx: Ctx, fn: ast.FunctionDef) -> list[Op] | None:
    """The [0, 1] scalings along the data the function returns; None when another kind of
    scaling (or one that cannot be read) is among them."""
    name = ast.Name(id=fn.name, ctx=ast.Load())
    ast.copy_location(name, fn)
    first = next((e for e in ctx.prog.events if fn.name in e.funcs), None)
    if first is None:
        return None
    ops = preprocessing(ctx).fn_ops(name, first)
    unique = list({(o.line, o.what): o for o in ops if o.mode != "raw"}.values())
    if any(o.mode != "unit" for o in unique):
        return None
    return sorted(unique, key=lambda o: o.line)


@check("keras.decoders_scale_apart")
def check_decoders_scale_apart(ctx: Ctx) -> None:
    """GL131: of two image decoders, one scales to [0, 1] once and the other twice."""
    if not uses_keras(ctx):
        return
    decoders = _decoders(ctx)
    if len(decoders) < 2:
        return
    scalings = [(fn, _unit_scalings(ctx, fn)) for fn in decoders]
    once_ = [(fn, ops) for fn, ops in scalings if ops is not None and len(ops) == 1]
    twice = [(fn, ops) for fn, ops in scalings if ops is not None and len(ops) >= 2]
    if not once_ or not twice or not once(ctx, "keras.decoders_scale_apart"):
        return
    (one, (op,)), (two, ops) = once_[0], twice[0]
    ctx.add(
        "GL131",
        "train-eval-preprocessing-mismatch",
        "warning",
        f"{two.name}() scales pixels to [0, 1] twice, {one.name}() once",
        sorted({op.line, *(o.line for o in ops)}),
        f"{one.name}() scales the decoded image to [0, 1] once ({op.what}); {two.name}() does "
        f"it twice ({' then '.join(o.what for o in ops)}): tf.image.convert_image_dtype and "
        "img_as_float already map uint8 pixels to [0, 1], so dividing by 255 again leaves "
        "values in [0, 1/255]. Images prepared by one are unlike those prepared by the other: "
        "a model trained on one kind and given the other sees nearly black inputs and "
        "predicts one class (inferred: the two functions are taken to prepare the training "
        "and the prediction or serving images).",
        "Scale once in every path: keep convert_image_dtype (or the / 255.0), not both:\n"
        "image = tf.image.convert_image_dtype(tf.io.decode_jpeg(data, channels=3), tf.float32)",
        [REFS["keras_idfd"]],
    )
