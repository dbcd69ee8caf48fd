"""Weights from a local file, and what the Hugging Face hub can give without hanging.

Local files are read without running code: ``.safetensors``, or a PyTorch checkpoint through
``torch.load(weights_only=True)``. Common wrappers (``{"state_dict": ...}``, ``{"model": ...}``,
``module.`` / ``_orig_mod.`` prefixes) are unwrapped, keys are matched by name, and a report of
what was loaded, missing and unexpected is kept on the model.
"""

from __future__ import annotations

import functools
import os
import pickle
import re
import socket
import threading
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import torch

from graftlab.errors import BackboneError

# Keys under which training scripts nest the state_dict (timm, Lightning, torchvision refs...).
_WRAPPER_KEYS = ("state_dict", "model_state_dict", "model", "module", "net", "network", "weights")
# Prefixes added by DataParallel/DDP, torch.compile and wrapper modules.
_PREFIXES = ("module.", "_orig_mod.", "model.", "backbone.", "encoder.", "net.")
_TRUTHY = {"1", "true", "yes", "on"}
_CONNECT_TIMEOUT_S = 3.0


@dataclass
class LoadReport:
    """How a state_dict fitted the model it was loaded into."""

    loaded: int  # tensors copied into the model
    missing: list[str] = field(default_factory=list)  # model tensors left as initialised
    unexpected: list[str] = field(default_factory=list)  # file tensors with no place
    classifier_skipped: list[str] = field(default_factory=list)  # head tensors of another size

    def summary(self) -> str:
        parts = [f"{self.loaded} tensors loaded"]
        if self.missing:
            parts.append(f"{len(self.missing)} missing ({_preview(self.missing)})")
        if self.unexpected:
            parts.append(f"{len(self.unexpected)} unexpected ({_preview(self.unexpected)})")
        if self.classifier_skipped:
            parts.append(f"classifier not loaded ({_preview(self.classifier_skipped)})")
        return ", ".join(parts)

    def to_dict(self) -> dict:
        return asdict(self)


def _preview(keys: list[str], n: int = 3) -> str:
    more = f", ... {len(keys) - n} more" if len(keys) > n else ""
    return ", ".join(keys[:n]) + more


def read_weights_file(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Read a state_dict from ``.safetensors`` or a weights-only PyTorch checkpoint.

    Raises:
        BackboneError: Missing file, unreadable file, a pickle that needs more than tensors,
            or no tensors found.
    """
    path = Path(path)
    if not path.is_file():
        raise BackboneError(f"Weights file not found (or not a file): {path}")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        try:
            return load_file(str(path), device="cpu")
        except Exception as exc:
            raise BackboneError(f"Cannot read {path} as safetensors: {exc}") from None
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        needs = re.search(r"GLOBAL ([\w.]+)", str(exc))
        if needs is None:
            raise BackboneError(
                f"Cannot read {path} as a PyTorch checkpoint (it is not a torch.save() file "
                "of tensors). Give a .safetensors file or a torch.save()d state_dict."
            ) from None
        raise BackboneError(
            f"{path} is a pickle that stores Python objects, not only tensors (it needs "
            f"{needs.group(1)}). graftlab loads checkpoints with torch.load(weights_only=True) "
            "because unpickling anything else can run code. If you trust the file, re-save its "
            "tensors: torch.save(checkpoint['state_dict'], 'weights.pt'), or convert it to "
            ".safetensors."
        ) from None
    except Exception as exc:
        raise BackboneError(
            f"Cannot read {path} as a PyTorch checkpoint ({type(exc).__name__}: {exc}). "
            "Give a .safetensors file or a torch.save()d state_dict."
        ) from None
    return _unwrap(obj, path)


def _unwrap(obj: object, path: Path) -> dict[str, torch.Tensor]:
    for _ in range(4):
        if not isinstance(obj, dict):
            break
        inner = next(
            (obj[k] for k in _WRAPPER_KEYS if isinstance(obj.get(k), dict) and obj[k]), None
        )
        if inner is None or all(isinstance(v, torch.Tensor) for v in obj.values()):
            break
        obj = inner
    if isinstance(obj, dict):
        tensors = {str(k): v for k, v in obj.items() if isinstance(v, torch.Tensor)}
        if tensors:
            return tensors
        found = ", ".join(repr(k) for k in list(obj)[:8])
        raise BackboneError(f"{path} holds no tensors where a state_dict was expected: {found}.")
    raise BackboneError(f"{path} holds a {type(obj).__name__}, not a state_dict.")


def _strip_prefixes(sd: dict[str, torch.Tensor], model_keys: set[str]) -> dict:
    """Remove wrapper prefixes while doing so makes more keys match the model."""
    improved = True
    while improved:
        improved = False
        matches = sum(k in model_keys for k in sd)
        for prefix in _PREFIXES:
            stripped = {k.removeprefix(prefix): v for k, v in sd.items()}
            if len(stripped) == len(sd) and sum(k in model_keys for k in stripped) > matches:
                sd, improved = stripped, True
                break
    return sd


def classifier_names(model: torch.nn.Module) -> tuple[str, ...]:
    """The module names of the classifier, from timm's pretrained_cfg."""
    cfg = getattr(model, "pretrained_cfg", None) or {}
    names = cfg.get("classifier") or ()
    return (names,) if isinstance(names, str) else tuple(names)


def load_into(model: torch.nn.Module, sd: dict[str, torch.Tensor], source: str) -> LoadReport:
    """Copy ``sd`` into ``model`` by key; refuse shape mismatches outside the classifier.

    A classifier of another size (a checkpoint fine-tuned on other classes) is skipped: training
    replaces it anyway. Missing or unexpected tensors warn; when most of the backbone is
    missing the file is for another architecture and is refused.

    Raises:
        BackboneError: No key matches, a backbone tensor has another shape, or most backbone
            tensors are missing.
    """
    target = model.state_dict()
    sd = _strip_prefixes(sd, set(target))
    heads = tuple(c + "." for c in classifier_names(model))
    arch = getattr(model, "graftlab_name", None) or type(model).__name__
    common = [k for k in sd if k in target]
    if not common:
        raise BackboneError(
            f"None of the {len(sd)} tensors in {source} fits {arch!r} (file keys: "
            f"{_preview(list(sd))}; model keys: {_preview(list(target))}). "
            "Are these weights for another architecture?"
        )
    wrong = [k for k in common if sd[k].shape != target[k].shape]
    body_wrong = [k for k in wrong if not k.startswith(heads)]
    if body_wrong:
        detail = "; ".join(
            f"{k}: file {tuple(sd[k].shape)} vs model {tuple(target[k].shape)}"
            for k in body_wrong[:3]
        )
        raise BackboneError(
            f"{len(body_wrong)} tensors in {source} have other shapes than in {arch!r} "
            f"({detail}). The file is for another variant or input channel count."
        )
    to_load = {k: sd[k] for k in common if k not in wrong}
    model.load_state_dict(to_load, strict=False)
    extra = [k for k in sd if k not in target]
    # A head in the file for a model built without one (num_classes=0) is not "unexpected".
    head_extra = [
        k for k in extra if k.startswith(heads) and not any(t.startswith(heads) for t in target)
    ]
    report = LoadReport(
        loaded=len(to_load),
        missing=[k for k in target if k not in to_load and not k.endswith("num_batches_tracked")],
        unexpected=[k for k in extra if k not in head_extra],
        classifier_skipped=wrong + head_extra,
    )
    body_missing = [k for k in report.missing if not k.startswith(heads)]
    body_total = sum(not k.startswith(heads) for k in target)
    if len(body_missing) > body_total / 2:
        raise BackboneError(
            f"{source} fills only {body_total - len(body_missing)} of {body_total} backbone "
            f"tensors of {arch!r} ({report.summary()}). Are these weights for another "
            "architecture?"
        )
    if body_missing or report.unexpected:
        warnings.warn(f"Loading {source} into {arch!r}: {report.summary()}.", stacklevel=3)
    return report


# --- the hub ------------------------------------------------------------------------------


def hub_host(cfg: dict) -> str:
    """The host the weights of ``cfg`` would be downloaded from."""
    if cfg.get("hf_hub_id"):
        from huggingface_hub import constants

        return urlparse(constants.ENDPOINT).hostname or "huggingface.co"
    return urlparse(cfg.get("url") or "https://huggingface.co").hostname or "huggingface.co"


def offline_reason(host: str) -> str | None:
    """Why downloads from ``host`` cannot work now, or None when they may.

    Checks ``HF_HUB_OFFLINE`` first, then one TCP connection with a short timeout, so an
    offline machine is detected in seconds rather than after minutes of retries.
    """
    from huggingface_hub import constants

    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _TRUTHY or constants.HF_HUB_OFFLINE:
        return "HF_HUB_OFFLINE=1 is set"
    if not _reachable(host):
        return f"{host} cannot be reached"
    return None


@functools.lru_cache(maxsize=8)
def _reachable(host: str, port: int = 443) -> bool:
    # DNS lookups ignore socket timeouts, so the whole attempt runs in a thread we stop
    # waiting for.
    result: list[bool] = []

    def attempt() -> None:
        try:
            socket.create_connection((host, port), timeout=_CONNECT_TIMEOUT_S).close()
            result.append(True)
        except OSError:
            result.append(False)

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(_CONNECT_TIMEOUT_S + 0.5)
    return bool(result and result[0])


def cached_hub_file(cfg: dict) -> Path | None:
    """A previously downloaded weights file for ``cfg`` in the HF or torch.hub cache."""
    repo = cfg.get("hf_hub_id")
    if repo:
        from huggingface_hub import try_to_load_from_cache

        filenames = [cfg["hf_hub_filename"]] if cfg.get("hf_hub_filename") else []
        filenames += ["model.safetensors", "pytorch_model.bin"]
        for filename in filenames:
            try:
                found = try_to_load_from_cache(repo, filename)
            except Exception:  # a malformed cache entry is the same as none
                found = None
            if isinstance(found, str) and os.path.isfile(found):
                return Path(found)
    url = cfg.get("url")
    if url:
        candidate = Path(torch.hub.get_dir()) / "checkpoints" / Path(urlparse(url).path).name
        if candidate.is_file():
            return candidate
    return None
