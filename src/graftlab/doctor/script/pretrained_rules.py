"""A model built from a pretrained checkpoint's configuration, without its weights.

Hugging Face models have two constructors: ``XForY.from_pretrained(name)`` loads the
checkpoint's weights; ``XForY(config)`` (or ``AutoModelForY.from_config(config)``) builds the
same architecture with random weights. A configuration read from a checkpoint
(``XConfig.from_pretrained(name, num_labels=K)``) shows the intent to start from that
checkpoint; given to the plain constructor, nothing pretrained is used, and a small
fine-tuning set trains the whole network from scratch (it typically collapses to one class).
Training from scratch on purpose is possible, so the finding is a warning (GL238).
"""

from __future__ import annotations

import ast

from graftlab.doctor._checks import declare
from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.common_rules import once

_HF_MODELS = "https://huggingface.co/docs/transformers/main_classes/model"

declare(
    "GL238",
    "other",
    "warning",
    "script",
    "A model built from a pretrained checkpoint's configuration gets random weights",
    (_HF_MODELS,),
)


def _config_from_checkpoint(ctx: Ctx, node: ast.expr | None, c) -> str | None:
    """The checkpoint name when ``node`` is ``SomeConfig.from_pretrained(name, ...)``."""
    site = ctx.prog.origin_call(node, c.ev) if node is not None else None
    if site is None or site.name != "from_pretrained" or "Config" not in site.qual:
        return None
    name = site.arg(0, "pretrained_model_name_or_path")
    value = ctx.prog.const(name, site.ev.idx, site.ev.scope) if name is not None else None
    return value if isinstance(value, str) else ast.unparse(name) if name is not None else "?"


def _trains(ctx: Ctx) -> bool:
    return bool(ctx.prog.method_calls("backward")) or any(
        c.name in ("Trainer", "train", "fit") for c in ctx.prog.calls
    )


@check("hf.config_only")
def check_config_only(ctx: Ctx) -> None:
    """GL238: ``BertForSequenceClassification(BertConfig.from_pretrained(name))``."""
    if not _trains(ctx):
        return
    for c in ctx.prog.calls:
        parts = c.qual.split(".")
        # without the imports, a class used the Hugging Face way (a config read from a
        # checkpoint, below) is taken to be transformers'
        if (parts[0] != "transformers" and not c.unimported) or "Config" in c.qual:
            continue
        if c.name == "from_config":
            cls = parts[-2] if len(parts) > 1 else ""
        elif c.name[:1].isupper():
            cls = c.name
        else:
            continue
        if not (cls.startswith("AutoModel") or "For" in cls or cls.endswith("Model")):
            continue
        checkpoint = _config_from_checkpoint(ctx, c.arg(0, "config"), c)
        if checkpoint is None:
            continue
        var = ctx.prog.assigned_name(c.node)
        if var and any(
            isinstance(m.node.func, ast.Attribute)
            and isinstance(m.node.func.value, ast.Name)
            and m.node.func.value.id == var
            for m in ctx.prog.method_calls("load_state_dict")
        ):
            continue  # the weights are loaded into it afterwards
        if not once(ctx, "hf.config_only", c.node.lineno):
            continue
        built = f"{cls}.from_config(...)" if c.name == "from_config" else f"{cls}(config)"
        ctx.add(
            "GL238",
            "other",
            "warning",
            f"{built} builds the architecture of {checkpoint!r} with random weights",
            [c.node.lineno],
            f"The configuration is read from the checkpoint {checkpoint!r}, but the model is "
            f"constructed from it with {built}, which initialises every weight at random: "
            "none of the pretrained network is used, and the whole model is trained from "
            "scratch on the fine-tuning data. On a small dataset such a model typically "
            "predicts one class for every input.",
            f"model = {cls}.from_pretrained("
            f"{checkpoint!r}, config=config)  # loads the weights; config may change "
            "num_labels and dropout",
            [_HF_MODELS],
        )
