"""TF Hub image models in Keras: their input convention is [0, 1] pixels, whatever the family.

``hub.KerasLayer("https://tfhub.dev/google/imagenet/mobilenet_v2_100_224/feature_vector/4")``
does not carry a ``preprocess_input``: TF Hub's image modules all take float pixels in [0, 1]
(the publisher's page says so for every image feature vector and classifier). Images read
with ``image_dataset_from_directory`` or ``flow_from_directory`` are 0..255 until something
divides them.
"""

from __future__ import annotations

import re

from graftlab.doctor._checks import declare
from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.common_rules import once
from graftlab.doctor.script.frameworks import uses_keras
from graftlab.doctor.script.keras_model import keras_script
from graftlab.doctor.script.keras_pipeline import preprocessing
from graftlab.doctor.script.keras_pre import combine

_HUB_IMAGES = "https://www.tensorflow.org/hub/common_signatures/images#input"
declare(
    "GL119",
    "preprocessing-mismatch",
    "error",
    "script",
    "A TF Hub image model gets 0..255 pixels instead of [0, 1]",
    (_HUB_IMAGES,),
)

# image modules on tfhub.dev / Kaggle Models (text and audio modules take other inputs)
_IMAGE_HANDLE = re.compile(
    r"imagenet|feature_vector|/classification/|efficientnet|mobilenet|resnet|inception|"
    r"/bit/|vision_transformer|convnext",
    re.I,
)


@check("keras.hub_inputs")
def check_hub_inputs(ctx: Ctx) -> None:
    """GL119: a TF Hub image module trained on images that nothing scales to [0, 1]."""
    if not uses_keras(ctx):
        return
    ks, pp = keras_script(ctx), preprocessing(ctx)
    for fit in ks.fits():
        model = ks.model_for(fit)
        if model is None:
            continue
        hub = next((layer.site for layer in model.layers if _is_hub_image(ctx, layer.site)), None)
        if hub is None:
            continue
        x = fit.arg(0, "x") or fit.kw("generator")
        flow = ks.flow_of(x, fit.ev)
        if flow is None or flow.site.name not in (
            "image_dataset_from_directory",
            "flow_from_directory",
        ):
            continue  # arrays: their range is not readable from the loader
        ops = pp.flow_ops(flow) if flow.datagen is not None else pp.data_ops(x, fit.ev) or []
        ops = ops + pp.model_ops(model)
        got = combine(ops)
        if got != "raw" or not once(ctx, "keras.hub_inputs", hub.node.lineno):
            continue
        ctx.add(
            "GL119",
            "preprocessing-mismatch",
            "error" if model.complete else "warning",
            "The TF Hub image model gets 0..255 pixels; it expects values in [0, 1]",
            [hub.node.lineno, flow.line, fit.node.lineno],
            f"{flow.site.name} yields float pixels from 0 to 255 and nothing between it and "
            "the hub layer divides them, but TF Hub image modules take inputs in [0, 1]: the "
            "pretrained features see values 255 times too large, saturate, and the new head "
            "learns from near-constant features (accuracy stays low or erratic).",
            "Scale the images to [0, 1] in front of the hub layer:\n"
            "model = tf.keras.Sequential([tf.keras.layers.Rescaling(1. / 255), hub_layer, "
            "tf.keras.layers.Dense(num_classes)])\n"
            "# or ImageDataGenerator(rescale=1. / 255) / ds.map(lambda x, y: (x / 255., y))",
            [_HUB_IMAGES],
        )


def _is_hub_image(ctx: Ctx, site) -> bool:
    if site is None or site.name != "KerasLayer":
        return False
    handle = ctx.prog.const(site.arg(0, "handle"), site.ev.idx, site.ev.scope)
    return isinstance(handle, str) and bool(_IMAGE_HANDLE.search(handle))
