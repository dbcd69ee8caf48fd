"""Pooled backbone features and head predictions, batched, under the fastest execution.

Features are what timm's contract defines as the classifier's input:
``model.forward_head(model.forward_features(x), pre_logits=True)``. The head is applied to them
outside autocast, in float64 rounded to float32, so the run's predictions, the saved model and
``predict`` compute the same numbers from the same features, whatever the batch.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from graftlab.distributed import gather_rows, shard
from graftlab.distributed import world as dist_world
from graftlab.features._malloc import keep_freed_memory
from graftlab.features.fold import folded_for_inference
from graftlab.hardware import DEFAULT_BATCH_SIZE, Execution, auto_batch_size

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "as_execution",
    "auto_batch_size",
    "extract_features",
    "head_logits",
    "pooled_features",
    "predict_logits",
    "prepare_model",
]


def as_execution(execution: Any = None) -> Execution:
    """``execution`` as a :class:`graftlab.hardware.Execution`; None means fp32 on the CPU."""
    if execution is None:
        return Execution("cpu", "fp32", False)
    if isinstance(execution, Execution):
        return execution
    raise TypeError(
        f"execution must be a graftlab.hardware.Execution or None, not {type(execution).__name__}"
    )


def prepare_model(model: torch.nn.Module, execution: Execution) -> torch.nn.Module:
    """Move ``model`` to the execution's device and memory format, in eval mode (in place)."""
    return execution.prepare(model).eval()


def pooled_features(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The classifier's input for a normalised batch ``x`` (N, 3, H, W): (N, num_features)."""
    return model.forward_head(model.forward_features(x), pre_logits=True)


def _batches(
    images: Any, preprocess: Any, execution: Execution, batch_size: int, desc: str, progress: bool
):
    n = len(images)
    bar = tqdm(total=n, desc=desc, unit="img", disable=not progress or n == 0, leave=False)
    with bar:
        for start in range(0, n, batch_size):
            stop = min(start + batch_size, n)
            u8 = torch.from_numpy(np.array(images[start:stop], dtype=np.uint8))
            x = execution.inputs(preprocess.eval_batch(u8, channels_last=execution.channels_last))
            yield start, stop, x
            bar.update(stop - start)


def extract_features(
    model: torch.nn.Module,
    images: Any,
    preprocess: Any,
    *,
    execution: Any = None,
    batch_size: int | None = None,
    progress: bool = True,
    desc: str = "features",
    distributed: bool = False,
) -> np.ndarray:
    """Pooled features (N, D) float32 of decoded uint8 images (N, S, S, 3), e.g. an ImageCache.

    ``batch_size`` None: the execution's (:meth:`Execution.inference_batch`).
    ``distributed``: every rank of a ``torch.distributed`` run calls this together; each
    extracts its share of whole batches (:func:`graftlab.distributed.shard`) and every rank
    returns all N rows, the ones one process computes (the same batches).
    """
    execution = as_execution(execution)
    batch_size = batch_size or execution.inference_batch(preprocess.input_size)
    if distributed and dist_world().size > 1:
        mine = shard(len(images), batch_size)
        part = extract_features(
            model,
            images[mine.start : mine.stop],
            preprocess,
            execution=execution,
            batch_size=batch_size,
            progress=progress and dist_world().is_main,
            desc=desc,
        )
        return gather_rows(part)
    keep_freed_memory()  # a third of the CPU time went to page faults (see _malloc)
    # Outside inference mode: a memory-format change made inside it would turn the
    # parameters into inference tensors that can never train again.
    prepare_model(model, execution)
    net = folded_for_inference(model, preprocess.input_size, execution.dtype)  # fold.py
    out = np.zeros((len(images), model.num_features), dtype=np.float32)
    batches = _batches(images, preprocess, execution, batch_size, desc, progress)
    with torch.inference_mode():
        for start, stop, x in batches:
            with execution.autocast():
                feats = pooled_features(net, x)
            out[start:stop] = feats.float().cpu().numpy()
    return out


@torch.inference_mode()
def head_logits(model: torch.nn.Module, features: np.ndarray | torch.Tensor) -> np.ndarray:
    """The model's linear classifier applied to pooled features, outside autocast.

    Computed in float64 and rounded to float32: a float32 GEMM's rounding depends on how many
    rows it is given (its blocking), so the same image could get different last bits alone
    and in a batch. In float64 the difference vanishes in the rounding, and a row's logits
    are the same whatever else is predicted with it.
    """
    head = model.get_classifier()
    weight = head.weight.detach().to("cpu", torch.float64)
    bias = head.bias.detach().to("cpu", torch.float64)
    feats = torch.as_tensor(np.asarray(features, dtype=np.float32)).to(torch.float64)
    return (feats @ weight.T + bias).to(torch.float32).numpy()


def predict_logits(
    model: torch.nn.Module,
    images: Any,
    preprocess: Any,
    *,
    execution: Any = None,
    batch_size: int | None = None,
    progress: bool = False,
) -> np.ndarray:
    """Logits (N, K) of decoded uint8 images: features under ``execution``, head in fp32."""
    feats = extract_features(
        model,
        images,
        preprocess,
        execution=execution,
        batch_size=batch_size,
        progress=progress,
        desc="predict",
    )
    return head_logits(model, feats)
