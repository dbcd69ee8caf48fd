"""``create_backbone`` and ``list_backbones``: a timm model with weights from wherever they are.

Weight sources, in the order ``weights="auto"`` tries them:

1. packaged: pip packages that ship real ImageNet weights (EfficientNet-Lite0/1/2), offline;
2. the hub cache: weights timm downloaded before (Hugging Face or torch.hub cache);
3. the hub: a download, only when the host answers; offline this fails in one line that names
   what does work offline.

``weights="none"`` (or ``"random"``) gives random initialisation, ``weights=PATH`` a local
``.safetensors`` / weights-only ``.pt`` file, ``"packaged"`` / ``"hub"`` force one source.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import timm
import timm.data
import torch
from timm.models import get_pretrained_cfg

from graftlab.backbones import packaged
from graftlab.backbones import weights as wsrc
from graftlab.backbones.aliases import POPULAR, aliases_of, resolve_backbone_name
from graftlab.errors import BackboneError, ConfigError, did_you_mean

logger = logging.getLogger("graftlab.backbones")

_KEYWORDS = ("auto", "none", "random", "packaged", "hub")


def create_backbone(
    name: str, *, weights: str | os.PathLike = "auto", num_classes: int | None = None
) -> torch.nn.Module:
    """Create a timm model by name (or alias) with pretrained weights, in eval mode.

    Args:
        name: A timm model name (``"resnet50"``, ``"resnet50.a1_in1k"``) or an alias
            (``"xception"``, ``"efficientnet-lite0"``); ``graftlab backbones`` lists them.
        weights: ``"auto"`` (packaged, then hub cache, then download), ``"packaged"``,
            ``"hub"``, ``"none"``/``"random"``, or the path of a weights file.
        num_classes: ``None`` keeps timm's default head (the 1000 ImageNet classes, with
            pretrained classifier weights, so the backbone can be checked on ImageNet photos);
            training replaces it with ``reset_classifier(K)``. ``0`` removes the classifier
            (the model returns pooled features); ``K`` gives a K-way head, randomly
            initialised unless ``weights`` is a file that holds a K-way head.

    Returns:
        The timm model with ``graftlab_name`` (timm name), ``graftlab_weights``
        (``{"source", "path", "sha256"}``) and ``graftlab_load_report`` (dict or None).

    Raises:
        ConfigError: Unknown name, or a bad ``weights`` / ``num_classes`` value.
        BackboneError: The weights cannot be found or do not fit the model.
    """
    timm_name = resolve_backbone_name(name)
    if num_classes is not None and (
        isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 0
    ):
        raise ConfigError(f"'num_classes' must be None or an int >= 0. Got {num_classes!r}.")
    mode, path = _parse_weights(weights)
    base = timm_name.split(".", 1)[0]
    report = None
    if mode == "auto":
        mode = "packaged" if packaged.packaged_file(base) else "hub"

    if mode == "random":
        model = _create(timm_name, num_classes)
        info = {"source": "random", "path": None, "sha256": None}
    elif mode == "packaged":
        if base not in packaged.PACKAGED:
            raise BackboneError(
                f"No packaged offline weights for {timm_name!r}; packaged: "
                f"{', '.join(packaged.PACKAGED)}. Use weights='auto' to try the hub."
            )
        model = _create(timm_name, None)
        state, file = packaged.packaged_state_dict(model, base)
        model.load_state_dict(state, strict=True)
        _reset_head(model, num_classes)
        info = {"source": "packaged", "path": str(file), "sha256": packaged.file_sha256(file)}
    elif mode == "file":
        # Built with the requested head, so a file fine-tuned on K classes loads whole.
        model = _create(timm_name, num_classes)
        model.graftlab_name = timm_name
        report = wsrc.load_into(model, wsrc.read_weights_file(path), str(path))
        info = {"source": "file", "path": str(path), "sha256": packaged.file_sha256(path)}
    else:
        model, info = _from_hub(timm_name, num_classes)

    model.graftlab_name = timm_name
    model.graftlab_weights = info
    model.graftlab_load_report = report.to_dict() if report else None
    logger.info(
        "Backbone %s: %s weights%s.",
        timm_name,
        info["source"],
        f" from {info['path']}" if info["path"] else "",
    )
    return model.eval()


def _parse_weights(weights: str | os.PathLike | None) -> tuple[str, Path | None]:
    if weights is None:
        raise ConfigError(
            "'weights' must be 'auto', 'packaged', 'hub', 'none' or a file path. Got None; "
            "use weights='none' for random initialisation."
        )
    if isinstance(weights, str) and weights.strip().lower() in _KEYWORDS:
        key = weights.strip().lower()
        return ("random" if key == "none" else key), None
    path = Path(weights).expanduser()
    if not path.exists():
        hint = did_you_mean(str(weights), _KEYWORDS) if isinstance(weights, str) else ""
        raise ConfigError(
            f"'weights' must be one of {', '.join(_KEYWORDS)} or an existing file. "
            f"Got {str(weights)!r}, which is not a file.{hint}"
        )
    return "file", path


def _create(timm_name: str, num_classes: int | None, **kwargs) -> torch.nn.Module:
    extra = {} if num_classes is None else {"num_classes": num_classes}
    return timm.create_model(timm_name, **extra, **kwargs)


def _reset_head(model: torch.nn.Module, num_classes: int | None) -> None:
    if num_classes is not None and num_classes != model.num_classes:
        model.reset_classifier(num_classes)


def _from_hub(timm_name: str, num_classes: int | None) -> tuple[torch.nn.Module, dict]:
    cfg = _pretrained_cfg(timm_name)
    if not (cfg.get("hf_hub_id") or cfg.get("url")):
        raise BackboneError(
            f"timm has no pretrained weights for {timm_name!r}. Use weights='none' for random "
            "initialisation or weights=PATH for a local file."
        )
    cached = wsrc.cached_hub_file(cfg)
    if cached is not None:
        overlay = {"file": str(cached)}
        model = _create(timm_name, num_classes, pretrained=True, pretrained_cfg_overlay=overlay)
        return model, {"source": "hub", "path": str(cached), "sha256": packaged.file_sha256(cached)}
    reason = wsrc.offline_reason(wsrc.hub_host(cfg))
    if reason:
        raise BackboneError(
            f"No weights for {timm_name!r} offline: {reason} and no cached copy exists."
            f"{did_you_mean(timm_name, packaged.PACKAGED)} " + _offline_choices()
        )
    try:
        model = _create(timm_name, num_classes, pretrained=True)
    except Exception as exc:  # any network or hub failure: one line, not a traceback
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        raise BackboneError(
            f"Downloading weights for {timm_name!r} failed ({type(exc).__name__}: {first}). "
            + _offline_choices()
        ) from None
    cached = wsrc.cached_hub_file(cfg)
    sha = packaged.file_sha256(cached) if cached else None
    return model, {"source": "hub", "path": str(cached) if cached else None, "sha256": sha}


def _offline_choices() -> str:
    installed = [n for n in packaged.PACKAGED if packaged.packaged_file(n)]
    offline = f"packaged {', '.join(installed)} (see `graftlab backbones`); " if installed else ""
    return (
        f"Offline choices: {offline}weights=PATH for a local .safetensors/.pt file; "
        "weights='none' for random initialisation."
    )


def _pretrained_cfg(timm_name: str) -> dict:
    cfg = get_pretrained_cfg(timm_name)
    return cfg.to_dict() if cfg is not None else {}


def list_backbones(include_all: bool = False) -> list[dict]:
    """Backbones with where their weights are and the preprocessing they expect.

    Args:
        include_all: Every timm architecture, not only the popular ones.

    Returns:
        One dict per model, offline-usable first: ``name``, ``aliases``,
        ``available_offline``, ``source`` (``"packaged"``, ``"hub cache"``, ``"hub"`` or
        ``"none"``), ``path``, ``input_size``, ``interpolation``, ``crop_pct``, ``mean``, ``std``.
    """
    names = list(POPULAR)
    if include_all:
        names += sorted(set(timm.list_models()) - set(POPULAR))
    rows = []
    for name in names:
        cfg = _pretrained_cfg(name)
        # The same resolver as resolve_model_data_config, without building the model.
        data = timm.data.resolve_data_config(pretrained_cfg=cfg)
        file = packaged.packaged_file(name)
        source = "packaged" if file else None
        if file is None:
            file = wsrc.cached_hub_file(cfg)
            source = (
                "hub cache"
                if file
                else ("hub" if cfg.get("hf_hub_id") or cfg.get("url") else "none")
            )
        rows.append(
            {
                "name": name,
                "aliases": aliases_of(name),
                "available_offline": source in ("packaged", "hub cache"),
                "source": source,
                "path": str(file) if file else None,
                "input_size": int(data["input_size"][-1]),
                "interpolation": data["interpolation"],
                "crop_pct": float(data["crop_pct"]),
                "mean": tuple(float(m) for m in data["mean"]),
                "std": tuple(float(s) for s in data["std"]),
            }
        )
    rows.sort(key=lambda r: not r["available_offline"])
    return rows
