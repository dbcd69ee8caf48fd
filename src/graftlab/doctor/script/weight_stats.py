"""ImageNet statistics given to a timm model whose weights were trained with mean = std = 0.5.

``Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])`` is the normalisation of
torchvision's weights and of most timm weights, so scripts write it by habit. Google's ViT
weights (``vit_base_patch16_224`` and the other augreg / in21k ports), BEiT, MLP-Mixer and the
TensorFlow Inception ports were trained on inputs scaled to [-1, 1] instead, ``(x - 0.5) / 0.5``,
as their ``pretrained_cfg`` says. Given ImageNet statistics, every input is about twice as
spread out and shifted per channel: the pretrained features degrade, and a model only evaluated
loses much of its accuracy (GL141).

An error when the script builds that one model and only evaluates it; a warning when it trains
it (fine-tuning adapts to the statistics given, in part) or builds several models (which one the
pipeline feeds is inferred). Nothing is said when the script reads the model's own data config
(``resolve_data_config``, ``create_transform``, ``pretrained_cfg``).
"""

from __future__ import annotations

import re

from graftlab.doctor._checks import declare
from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.common_rules import source_text
from graftlab.doctor.script.knowledge import DATASET_MEANS, DATASET_STDS, REFS, timm_half_stats
from graftlab.doctor.script.norm_rules import known_stats, normalize_calls
from graftlab.doctor.script.torch_graph import torch_script

declare(
    "GL141",
    "preprocessing-mismatch",
    "error",
    "script",
    "ImageNet mean/std given to timm weights trained with mean = std = 0.5",
    (REFS["timm_data"],),
)

#: The script reads the model's own preprocessing: its statistics are not the ones written.
_OWN_CONFIG = re.compile(
    r"resolve_(?:model_)?data_config|create_transform|pretrained_cfg|default_cfg|data_config"
)


@check("torch.timm_half_stats")
def check_half_stats(ctx: Ctx) -> None:
    """GL141: a pretrained timm model of the mean = std = 0.5 families and a Normalize with
    the ImageNet statistics."""
    if not ctx.torch or _OWN_CONFIG.search(source_text(ctx)):
        return
    ts = torch_script(ctx)
    half = [m for m in ts.models if m.kind == "timm" and m.pretrained and timm_half_stats(m.name)]
    if not half:
        return
    imagenet = [
        line
        for line, mean, std, _, _ in normalize_calls(ctx)
        if known_stats(mean, DATASET_MEANS) == known_stats(std, DATASET_STDS) == "ImageNet"
    ]
    if not imagenet:
        return
    model = half[0]
    trains = bool(ctx.prog.method_calls("backward"))
    several = len(ts.models) > 1
    inferred = []
    if trains:
        inferred.append(
            "the script trains the model: fine-tuning adapts to the statistics given, in part"
        )
    if several:
        inferred.append(
            f"the script builds {len(ts.models)} models; the Normalize is taken to feed "
            f"{model.name}"
        )
    ctx.add(
        "GL141",
        "preprocessing-mismatch",
        "warning" if inferred else "error",
        f"{model.name} was pretrained on inputs normalised with mean = std = 0.5, and gets "
        "the ImageNet mean/std",
        [model.line, imagenet[0]],
        f"timm's {model.name} weights (line {model.line}) were trained on pixels scaled to "
        "[-1, 1], (x - 0.5) / 0.5, as the model's pretrained_cfg says (mean = std = (0.5, 0.5, "
        f"0.5)); the Normalize at line {imagenet[0]} uses the torchvision ImageNet statistics "
        "instead. Every input reaches the network about twice as spread out as in "
        "pretraining and shifted per channel, so the pretrained features are off and "
        "accuracy drops (a model only evaluated loses much of it)."
        + "".join(f" (inferred: {why})" for why in inferred),
        "Use the statistics of the weights: transforms.Normalize(mean=[0.5, 0.5, 0.5], "
        "std=[0.5, 0.5, 0.5]), or let timm build the transform:\n"
        "cfg = timm.data.resolve_model_data_config(model)\n"
        "transform = timm.data.create_transform(**cfg)",
        [REFS["timm_data"]],
    )
