"""Partial fine-tuning without recomputing the frozen part.

When the lower stages stay frozen for a whole run (``top-k``; ``gradual`` below the deepest
stage it unfreezes within the run) they run in eval mode, so their output is a fixed function
of the input image. The Trainer then computes it once per image and view, keeps it on disk,
and trains only the top: an epoch costs the top's forward and backward.

* :func:`split_at` cuts a timm model into ``lower`` and ``upper`` with
  ``upper(lower(x)) == model(x)``, checked numerically; a model whose forward is not its
  modules in order (a ViT adds its position embedding in ``forward``) gives None.
* :class:`ActivationBank` holds ``lower(x)`` of every image for ``views`` views (view 0 the eval
  transform, the others augmented draws) in ``<cache>/activations/<key>/``, keyed by the lower
  weights, preprocessing, images, views, seed and execution; a damaged entry is rebuilt.
* :func:`cache_frozen_part` is what the Trainer calls: the cache, or None and why not.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from graftlab._io import (
    atomic_path,
    check_array_entry,
    checked_rows,
    row_sha,
    stable_hash,
    write_json,
)
from graftlab._paths import cache_dir
from graftlab.features.cache import weights_fingerprint
from graftlab.finetune import _groups as G
from graftlab.hardware import Execution

logger = logging.getLogger("graftlab.finetune")

_FORMAT = 2  # bump when the stored layout or the meaning of a view changes
# Images augmented together from one generator per (block, view): a constant, so the views
# do not depend on the build's batch size, and the build makes few, larger torch calls.
_BLOCK = 16
_CPU_BATCH = 32  # images per forward pass on a CPU, where 128 runs 1.4x slower per image
_TOLERANCE = 1e-4  # split check: largest |upper(lower(x)) - model(x)| relative to max |model(x)|
DEFAULT_BUDGET = 4 << 30  # bytes of disk one run's activations may take; fewer views beyond


class Upper(nn.Module):
    """The model's own modules from the boundary on, then its ``forward_head``.

    Registers those modules (the model's objects, not copies), so ``parameters()`` is the
    trainable top; the optimizer, checkpoints and the artifact stay the model's.
    """

    def __init__(self, features: list[nn.Module], head: list[nn.Module], model: nn.Module):
        super().__init__()
        self.features = nn.Sequential(*features)
        self.head = nn.ModuleList(head)
        # A plain attribute, not a submodule: the lower part's parameters stay out of ours.
        self._forward_head: Callable[[torch.Tensor], torch.Tensor] = model.forward_head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._forward_head(self.features(x))


@dataclass
class Split:
    """A model cut at the freeze boundary.

    Attributes:
        lower: The frozen modules before the boundary, in order.
        upper: Everything after it (:class:`Upper`).
        label: ``"blocks.4 -> blocks.5"``: the last lower and the first upper module.
        shape: Shape of one image's activation at the boundary (at the checked input size).
    """

    lower: nn.Sequential
    upper: Upper
    label: str
    shape: tuple[int, ...]


def split_at(model: nn.Module, n_top_stages: int, input_size: int | None = None) -> Split | None:
    """Cut ``model`` just before the first module holding one of its top ``n_top_stages``
    stages (timm's coarse groups); None, with the reason logged, when the cut is not exact.

    Args:
        model: A timm model.
        n_top_stages: Stages from the top that train at some point; the rest are the lower part.
        input_size: Side of the random check batch (default: the model's timm data config).
    """
    split, why = _split(model, n_top_stages, input_size)
    if split is None:
        logger.info("no boundary split: %s", why)
    return split


def _split(model: nn.Module, n_top: int, input_size: int | None) -> tuple[Split | None, str]:
    layers = G.backbone_layers(model)
    if n_top >= len(layers):
        return None, f"all {len(layers)} stages train at some point: nothing stays frozen"
    own = [n for n, _ in model.named_parameters(recurse=False)]
    if own:
        return None, (
            f"{type(model).__name__} uses parameters of its own ({', '.join(own)}) in its "
            "forward, so it is not its modules in order"
        )
    stage_of = {id(p): layer.index for layer in layers for p in layer.params}
    modules = _flatten(model, stage_of)
    top = {i for i, stage in stage_of.items() if stage >= len(layers) - n_top}
    named = dict(model.named_parameters())
    head = {id(named[n]) for n in G.head_names(model)}
    holds = [{id(p) for p in m.parameters()} for _, m in modules]
    # The features end at the last module with backbone parameters and no classifier ones.
    last = max(i for i, ids in enumerate(holds) if ids & stage_of.keys() and not ids & head)
    cut = next((i for i, ids in enumerate(holds) if ids & top), last + 1)
    if cut == 0:
        return None, f"the first module ({modules[0][0]}) already trains: nothing to cache"
    lower = nn.Sequential(*[m for _, m in modules[:cut]])
    upper = Upper(
        [m for _, m in modules[cut : last + 1]], [m for _, m in modules[last + 1 :]], model
    )
    covered = {id(p) for p in lower.parameters()} | {id(p) for p in upper.parameters()}
    if covered != {id(p) for p in model.parameters()}:
        return None, f"{type(model).__name__} has parameters outside its top-level modules"
    after = modules[cut][0] if cut <= last else "head"
    label = f"{modules[cut - 1][0]} -> {after}"
    shape, why = _check(model, lower, upper, input_size)
    if shape is None:
        return None, f"cut at {label}: {why}"
    return Split(lower, upper, label, shape), ""


def _flatten(model: nn.Module, stage_of: dict[int, int]) -> list[tuple[str, nn.Module]]:
    """Top-level children in definition order; an nn.Sequential holding several stages
    (EfficientNet's ``blocks``) expanded into its elements."""
    out: list[tuple[str, nn.Module]] = []
    for name, child in model.named_children():
        stages = {stage_of.get(id(p)) for p in child.parameters()}
        if isinstance(child, nn.Sequential) and len(stages) > 1:
            out += [(f"{name}.{n}", c) for n, c in child.named_children()]
        else:
            out.append((name, child))
    return out


def _check(
    model: nn.Module, lower: nn.Module, upper: nn.Module, input_size: int | None
) -> tuple[tuple[int, ...] | None, str]:
    """The boundary shape when ``upper(lower(x))`` equals ``model(x)`` in eval mode, fp32."""
    if input_size is None:
        import timm.data

        input_size = int(timm.data.resolve_model_data_config(model)["input_size"][-1])
    device = next(model.parameters()).device
    # Its own generator: the check must not move the run's global RNG (dropout masks).
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, input_size, input_size, generator=g).to(device)
    with _eval_mode(model), torch.inference_mode():
        try:
            ref = model(x).float()
            mid = lower(x)
            got = upper(mid).float()
        except Exception as exc:  # any failure means the modules in order are not the forward
            return None, f"the modules in order do not run ({type(exc).__name__}: {exc})"
    if got.shape != ref.shape:
        return None, f"upper(lower(x)) has shape {tuple(got.shape)}, model(x) {tuple(ref.shape)}"
    err, scale = float((got - ref).abs().max()), float(ref.abs().max())
    if not err <= _TOLERANCE * max(1.0, scale):
        return None, (
            f"upper(lower(x)) differs from model(x) by {err:.2g} (outputs up to {scale:.2g}): "
            "its forward is not its modules in order"
        )
    return tuple(mid.shape[1:]), ""


@contextlib.contextmanager
def _eval_mode(module: nn.Module) -> Iterator[None]:
    """Eval mode inside, every submodule's own mode restored after."""
    modes = [(m, m.training) for m in module.modules()]
    module.eval()
    try:
        yield
    finally:
        for m, mode in modes:
            m.training = mode


class ActivationBank:
    """``lower(x)`` of every image of a split, ``views`` per image, memory-mapped from disk.

    Args:
        split: Where the model is cut (:func:`split_at`).
        preprocess: ``eval_batch`` makes view 0, ``train_batch`` views 1 and up.
        views: Views per image; 1 = the eval transform only (no augmentation).
        augment: ``train_batch``'s augmentation for views 1 and up.
        seed: Seeds one generator per (block of 16 images, view): the same seed gives the same
            arrays, whatever ``batch_size``.
        execution: The run's :class:`~graftlab.hardware.Execution` (default fp32 on the CPU).
        cache_root: Root of the graftlab cache.
        batch_size: Images per forward pass while building (rounded up to a whole number of
            16-image blocks).
        progress: Progress bar: True, False, or None (only on a terminal, tqdm's rule).

    Attributes:
        array_: Read-only memmap ``(N, views, *shape)``, float16 (float32 where it overflows).
        path_: The entry's folder.
        reused_: Whether the entry was already on disk.
        seconds_: Time to load or build it.
    """

    def __init__(
        self,
        split: Split,
        preprocess: Any,
        *,
        views: int = 1,
        augment: str = "none",
        seed: int = 0,
        execution: Execution | None = None,
        cache_root: str | os.PathLike | None = None,
        batch_size: int = 128,
        progress: bool | None = None,
    ) -> None:
        self.split = split
        self.preprocess = preprocess
        self.views = views
        self.augment = augment
        self.seed = seed
        self.execution = execution or Execution("cpu", "fp32", False)
        self.cache_root = cache_root
        self.batch_size = batch_size
        self.progress = progress

    def key(self, u8: np.ndarray) -> str:
        """Everything the stored activations depend on."""
        ex = self.execution
        augmented = self.views > 1  # one view is the eval transform: augment and seed unused
        return stable_hash(
            {
                "format": _FORMAT,
                "lower": _fingerprint(self.split.lower),
                "boundary": self.split.label,
                "preprocess": self.preprocess.to_dict(),
                "images": _images_hash(u8),
                "views": self.views,
                "augment": self.augment if augmented else "none",
                "seed": self.seed if augmented else 0,
                "execution": [ex.torch_device.type, str(ex.autocast_dtype), str(ex.memory_format)],
            }
        )[:32]

    def build(self, u8: np.ndarray) -> ActivationBank:
        """Load the entry for ``u8`` (uint8 ``(N,S,S,3)``), or compute and store it; self."""
        t = time.perf_counter()
        self.path_ = cache_dir(self.cache_root) / "activations" / self.key(u8)
        shape = (len(u8), self.views, *self.split.shape)
        problem = _check_entry(self.path_, shape)
        self.reused_ = problem is None
        if problem not in (None, "absent"):
            logger.warning("Activation cache entry %s is %s; rebuilding it.", self.path_, problem)
        if not self.reused_:
            shutil.rmtree(self.path_, ignore_errors=True)
            for dtype in (np.float16, np.float32):
                try:
                    self._store(u8, shape, dtype)
                    break
                except _Overflow:
                    logger.info("activations overflow float16; storing float32 instead")
        self.array_ = np.load(self.path_ / "activations.npy", mmap_mode="r")
        self.seconds_ = time.perf_counter() - t
        return self

    def __len__(self) -> int:
        return len(self.array_)

    @property
    def nbytes(self) -> int:
        return int(self.array_.nbytes)

    def batch(self, idx: np.ndarray, seed: int | None = None) -> torch.Tensor:
        """Float32 activations of images ``idx`` in the run's memory format: one view each,
        drawn from ``seed`` (the Trainer's per-batch seed, so a resumed run draws the same),
        view 0 when None."""
        views = np.zeros(len(idx), dtype=np.int64)
        if seed is not None and self.array_.shape[1] > 1:
            g = torch.Generator().manual_seed(seed)
            views = torch.randint(self.array_.shape[1], (len(idx),), generator=g).numpy()
        rows = self.array_[idx, views]  # one read of the memmap
        # float16 to float32 and to the upper part's layout in one pass, by NumPy: a torch op
        # here, in the Trainer's batch thread, would start a second OpenMP team whose spinning
        # threads take the cores from the training step (1.4x slower epochs on 2 cores).
        if rows.ndim == 4 and self.execution.channels_last:
            nhwc = np.ascontiguousarray(rows.transpose(0, 2, 3, 1), dtype=np.float32)
            return torch.from_numpy(nhwc).permute(0, 3, 1, 2)
        return torch.from_numpy(np.ascontiguousarray(rows, dtype=np.float32))

    def _store(self, u8: np.ndarray, shape: tuple[int, ...], dtype: type) -> None:
        t = time.perf_counter()
        with atomic_path(self.path_ / "activations.npy") as tmp:
            out = np.lib.format.open_memmap(tmp, mode="w+", dtype=dtype, shape=shape)
            self._fill(out, u8)
            out.flush()
            checksums = {str(i): row_sha(out[i]) for i in checked_rows(len(u8))}
            del out
        meta = {
            "format": _FORMAT,
            "shape": list(shape),
            "dtype": np.dtype(dtype).name,
            "file_size": (self.path_ / "activations.npy").stat().st_size,
            "row_sha256": checksums,
            "boundary": self.split.label,
            "augment": self.augment,
            "seconds": round(time.perf_counter() - t, 3),
        }
        write_json(self.path_ / "meta.json", meta)  # written last: it marks a complete entry
        logger.info("activations at %s: %s %s", self.split.label, shape, meta["dtype"])

    def _fill(self, out: np.ndarray, u8: np.ndarray) -> None:
        ex = self.execution
        bar = tqdm(
            total=out.shape[0] * out.shape[1],
            desc=f"caching activations at {self.split.label}",
            unit="img",
            disable=None if self.progress is None else not self.progress,
            leave=False,
        )
        step = -(-max(1, self.batch_size) // _BLOCK) * _BLOCK  # whole blocks per batch
        with bar, _eval_mode(self.split.lower), torch.inference_mode():
            for start in range(0, len(u8), step):
                # A copy: slices of the read-only image memmap make read-only tensors.
                images = torch.from_numpy(np.array(u8[start : start + step], copy=True))
                for v in range(out.shape[1]):
                    x = self._view(images, start, v)
                    with ex.autocast():
                        a = self.split.lower(ex.inputs(x, non_blocking=False))
                    a = a.float().cpu().numpy()
                    with np.errstate(over="ignore"):  # overflow is checked just below
                        stored = a.astype(out.dtype)
                    if np.isinf(stored).any() and np.isfinite(a).all():
                        raise _Overflow
                    out[start : start + len(images), v] = stored
                    bar.update(len(images))

    def _view(self, images: torch.Tensor, start: int, v: int) -> torch.Tensor:
        """View ``v`` of the images from ``start`` (a multiple of the block size) on."""
        if v == 0:
            return self.preprocess.eval_batch(images)
        return torch.cat(
            [
                self.preprocess.train_batch(
                    images[i : i + _BLOCK],
                    self.augment,
                    _generator(self.seed, (start + i) // _BLOCK, v),
                )
                for i in range(0, len(images), _BLOCK)
            ]
        )


class _Overflow(Exception):
    """An activation is finite in float32 and infinite in float16."""


@dataclass
class BoundaryCache:
    """What the Trainer trains from: ``upper`` on cached train and val activations."""

    split: Split
    train: ActivationBank
    val: ActivationBank

    @property
    def upper(self) -> Upper:
        return self.split.upper

    def describe(self) -> str:
        how = "reused" if self.train.reused_ and self.val.reused_ else "built"
        views = self.train.array_.shape[1]
        mb = (self.train.nbytes + self.val.nbytes) / 1e6
        return (
            f"frozen part cached at the boundary ({self.split.label}), {views} view"
            f"{'s' if views > 1 else ' (no augmentation)'}, {mb:.1f} MB "
            f"({how} in {self.train.seconds_ + self.val.seconds_:.1f} s)"
        )


def cache_frozen_part(
    model: nn.Module,
    strategy: Any,
    preprocess: Any,
    images: tuple[np.ndarray, np.ndarray],
    config: Any,
    *,
    execution: Execution,
    cache_root: str | os.PathLike | None = None,
    progress: bool | None = None,
    budget: int = DEFAULT_BUDGET,
) -> tuple[BoundaryCache | None, str]:
    """The boundary cache of a run, or None and why the frozen part runs every step instead.

    Args:
        images: Train and val uint8 images.
        config: The run's TrainConfig (``boundary_cache``, ``views``, ``augment``, ``epochs``).
        budget: Bytes the activations may take (at most 90% of the free disk): fewer views
            when they would take more, no cache when one view would.
    """
    if config.boundary_cache is False:
        return None, "off (boundary_cache=False): the frozen part runs every step"
    split, views, why = _plan(model, strategy, preprocess, images, config, cache_root, budget)
    if split is None:
        note = f"off - {why}; the frozen part runs every step"
        (logger.warning if config.boundary_cache is True else logger.info)(
            "boundary cache %s", note
        )
        return None, note
    common = {
        "preprocess": preprocess,
        "seed": config.seed,
        "execution": execution,
        "cache_root": cache_root,
        "batch_size": _CPU_BATCH if execution.device == "cpu" else 2 * config.batch_size,
        "progress": progress,
    }
    train = ActivationBank(split, views=views, augment=config.augment, **common).build(images[0])
    val = ActivationBank(split, views=1, **common).build(images[1])
    cache = BoundaryCache(split, train, val)
    return cache, cache.describe()


def _plan(
    model: nn.Module,
    strategy: Any,
    preprocess: Any,
    images: tuple[np.ndarray, np.ndarray],
    config: Any,
    cache_root: str | os.PathLike | None,
    budget: int,
) -> tuple[Split | None, int, str]:
    """Where to cut and how many views to store, or None and the reason."""
    hook = getattr(strategy, "stages_trained", None)
    n_top = hook(model, config.epochs) if hook is not None else None
    if n_top is None:
        return None, 0, f"strategy {getattr(strategy, 'name', strategy)!r} keeps no part frozen"
    split, why = _split(model, n_top, preprocess.input_size)
    if split is None:
        return None, 0, why
    # Augmented views beyond the number of epochs would never all be drawn.
    wanted = 1 if config.augment == "none" else min(config.views, config.epochs)
    per_view = int(np.prod(split.shape)) * 2  # float16
    root = cache_dir(cache_root)
    root.mkdir(parents=True, exist_ok=True)
    allowed = min(budget, int(0.9 * shutil.disk_usage(root).free))
    room = (allowed - len(images[1]) * per_view) // max(1, len(images[0]) * per_view)
    views = min(wanted, int(room))
    if views < 1:
        need = (len(images[0]) + len(images[1])) * per_view
        return (
            None,
            0,
            f"one view takes {need / 1e6:.0f} MB, over the {allowed / 1e6:.0f} MB budget",
        )
    if views < wanted:
        logger.info(
            "boundary cache: %d views instead of %d, to stay within %.0f MB",
            views,
            wanted,
            allowed / 1e6,
        )
    return split, views, ""


# -- keys and integrity ----------------------------------------------------------------------
def _fingerprint(lower: nn.Module) -> str:
    return weights_fingerprint(lower)


def _images_hash(u8: np.ndarray, chunk: int = 256) -> str:
    h = hashlib.sha256(f"{tuple(u8.shape)}:{u8.dtype}".encode())
    for start in range(0, len(u8), chunk):
        h.update(np.ascontiguousarray(u8[start : start + chunk]).data)
    return h.hexdigest()


def _generator(seed: int, block: int, view: int) -> torch.Generator:
    digest = hashlib.sha256(f"{seed}:{block}:{view}".encode()).digest()
    return torch.Generator().manual_seed(int.from_bytes(digest[:8], "little") >> 1)


def _check_entry(entry: Path, shape: tuple[int, ...]) -> str | None:
    """None when ``entry`` is complete and intact, else what is wrong with it."""
    return check_array_entry(entry, "activations.npy", _FORMAT, shape)
