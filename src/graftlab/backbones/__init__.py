"""Backbones: timm models by name or alias, with weights from packages, files or the hub.

Each backbone carries its own preprocessing (timm's ``pretrained_cfg``); build the matching
:class:`graftlab.data.transforms.Preprocess` with ``Preprocess.from_model(model)``.
"""

from graftlab.backbones.aliases import ALIASES, resolve_backbone_name
from graftlab.backbones.factory import create_backbone, list_backbones
from graftlab.backbones.packaged import PACKAGED, packaged_file
from graftlab.backbones.weights import LoadReport

__all__ = [
    "ALIASES",
    "PACKAGED",
    "LoadReport",
    "create_backbone",
    "list_backbones",
    "packaged_file",
    "resolve_backbone_name",
]
