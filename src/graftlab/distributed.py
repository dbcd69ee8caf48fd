"""Several processes, one run: PyTorch's own engine (``torch.distributed``, ``torchrun``).

A run started by ``torchrun --nproc-per-node N -m graftlab train ...`` (or ``graftlab train
--devices N``, which starts the same workers through ``torch.distributed.run``) finds
``RANK`` / ``WORLD_SIZE`` / ``LOCAL_RANK`` in its environment; :func:`session` then joins the
process group (Gloo on CPUs, NCCL on GPUs, with a timeout so a lost rank cannot hang the
others) and leaves it at the end. Without those variables nothing here does anything: one
process keeps its code path, with no wrapper and no collective.

What the pipeline asks of this module:

* who writes: :func:`is_main` (rank 0 writes the run directory, logs and progress bars);
* rank 0 decides, the others receive: :func:`on_main` (a result or rank 0's error, on every
  rank), :func:`main_first` (rank 0 fills a cache, then the others read it);
* work split over ranks and put back together: :func:`shard` (whole batches, so each batch
  has the images a single process would give it) and :func:`gather_rows`;
* sums and flags: :func:`all_sum`, :func:`any_rank`;
* the training wrapper: :func:`wrap_ddp` (DistributedDataParallel, SyncBatchNorm only where
  BatchNorm statistics train on GPUs);
* failures: :class:`DistributedError`, a one-line message naming the rank.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import logging
import os
import pickle
import re
import signal
import socket
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch
import torch.distributed as dist

from graftlab.errors import ConfigError, GraftlabError

logger = logging.getLogger("graftlab.distributed")

T = TypeVar("T")

#: Seconds a collective may wait for the other ranks before the run ends with an error.
#: Rank 0 alone decodes the images and fits the probe while the others wait, so the default
#: leaves room for a large dataset; set GRAFTLAB_DIST_TIMEOUT to shorten it.
DEFAULT_TIMEOUT_S = 1800
TIMEOUT_ENV = "GRAFTLAB_DIST_TIMEOUT"


class DistributedError(GraftlabError):
    """A rank failed or was lost; the message names it and says how to continue."""


@dataclasses.dataclass(frozen=True)
class World:
    """This process's place in the run: rank, number of processes, rank on its machine."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0
    backend: str | None = None  # "gloo" | "nccl"; None for one process

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def env_world() -> World | None:
    """The world torchrun describes in the environment, or None when not launched by it."""
    if "WORLD_SIZE" not in os.environ or "RANK" not in os.environ:
        return None
    try:
        size, rank = int(os.environ["WORLD_SIZE"]), int(os.environ["RANK"])
        local = int(os.environ.get("LOCAL_RANK", rank))
    except ValueError:
        raise ConfigError(
            f"RANK={os.environ['RANK']!r} / WORLD_SIZE={os.environ['WORLD_SIZE']!r} are not "
            "integers; launch with torchrun, which sets them."
        ) from None
    return World(rank, size, local) if size > 1 else None


def world() -> World:
    """The current world: the joined process group's, else one process."""
    if dist.is_available() and dist.is_initialized():
        return World(dist.get_rank(), dist.get_world_size(), _local_rank(), dist.get_backend())
    return World()


def is_main() -> bool:
    """True on rank 0 (and in a single process): the one writer."""
    return world().is_main


def timeout_s() -> float:
    raw = os.environ.get(TIMEOUT_ENV)
    if raw is None:
        return DEFAULT_TIMEOUT_S
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise ConfigError(f"{TIMEOUT_ENV}={raw!r}: give a positive number of seconds.")
    return value


@contextlib.contextmanager
def session(device: str = "auto") -> Iterator[World]:
    """Join the process group torchrun describes (if any) for the enclosed run, then leave it.

    One process, or a group already joined by the caller: nothing is started or ended here.
    On CUDA each rank takes the GPU of its local rank (``torch.cuda.set_device``), so the
    device stays ``"cuda"`` in every record and cache key, as in one process.
    """
    env = env_world()
    if env is None or dist.is_initialized():
        yield world()
        return
    use_cuda = torch.cuda.is_available() and not str(device).lower().startswith("cpu")
    backend = "nccl" if use_cuda else "gloo"
    if use_cuda:
        if env.local_rank >= torch.cuda.device_count():
            raise ConfigError(
                f"Local rank {env.local_rank} has no GPU: this machine has "
                f"{torch.cuda.device_count()}. Start at most that many processes per node "
                "(--nproc-per-node / --devices)."
            )
        torch.cuda.set_device(env.local_rank)
    kwargs: dict[str, Any] = {"timeout": datetime.timedelta(seconds=timeout_s())}
    if use_cuda:
        kwargs["device_id"] = torch.device("cuda", env.local_rank)
    dist.init_process_group(backend, **kwargs)
    global _MONITOR
    # A Gloo group on the side, to ask who is unresponsive when a collective times out: NCCL
    # has no monitored barrier, and a timed-out Gloo group has closed its connections.
    _MONITOR = dist.new_group(backend="gloo")
    here = world()
    _quiet_other_ranks(here)
    if here.is_main:
        logger.info(
            "distributed: %d processes (%s), %d on this machine; collectives time out after "
            "%.0f s (%s)",
            here.size,
            backend,
            int(os.environ.get("LOCAL_WORLD_SIZE", here.size)),
            timeout_s(),
            TIMEOUT_ENV,
        )
    try:
        yield here
    except GraftlabError:
        raise
    except Exception as exc:
        if _is_communication_failure(exc):
            silent = _unresponsive_ranks() if here.is_main else None
            who = (
                f"rank(s) {', '.join(map(str, silent))} did not respond"
                if silent
                else "another rank died or hung (its own message, or the launcher's, names it)"
            )
            raise DistributedError(
                f"rank {here.rank} of {here.size} waited past the {timeout_s():.0f} s timeout "
                f"({TIMEOUT_ENV}) for the other ranks ({_first_line(exc)}): {who}. Continue "
                "from the last finished epoch with `graftlab train --resume RUN`."
            ) from exc
        raise
    finally:
        with contextlib.suppress(Exception):
            dist.destroy_process_group()


_MONITOR: Any = None
_PROBE_S = 10.0  # how long rank 0 asks the others to answer after a timeout


def _unresponsive_ranks() -> list[int] | None:
    """The ranks that do not reach a monitored barrier within a few seconds (rank 0 only);
    None when that cannot be told."""
    try:
        dist.monitored_barrier(
            group=_MONITOR,
            timeout=datetime.timedelta(seconds=min(_PROBE_S, timeout_s())),
            wait_all_ranks=True,
        )
    except Exception as exc:
        found = re.search(r"[Rr]anks? ([\d, ]+) failed to pass", str(exc))
        if found:
            return [int(r) for r in re.findall(r"\d+", found.group(1))]
        return None
    return []


def _quiet_other_ranks(here: World) -> None:
    """Ranks > 0 log warnings and errors only, prefixed with their rank (no INFO, no bars)."""
    if here.is_main:
        return
    log = logging.getLogger("graftlab")
    log.setLevel(logging.WARNING)
    prefix = f"rank {here.rank}: "

    class _Prefix(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            if not str(record.msg).startswith(prefix):
                record.msg = prefix + str(record.msg)
            return True

    for handler in log.handlers or logging.getLogger().handlers:
        handler.addFilter(_Prefix())


# -- rank 0 decides, every rank receives ------------------------------------------------------
def broadcast_object(obj: T, src: int = 0) -> T:
    """``obj`` of rank ``src`` on every rank (pickled between the run's own processes)."""
    if world().size == 1:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=src, device=_device())
    return box[0]


def on_main(fn: Callable[[], T]) -> T:
    """Run ``fn`` on rank 0 only; every rank returns its result or raises its error.

    Another rank raises the same error (marked ``replicated``, so that only rank 0 prints
    it), instead of waiting for a result that never comes until the timeout.
    """
    if world().size == 1:
        return fn()
    outcome: tuple[bool, Any] = (True, None)
    if is_main():
        try:
            outcome = (True, fn())
        except Exception as exc:  # sent to the other ranks, then raised here as it was
            outcome = (False, _picklable(exc))
            broadcast_object(outcome)
            raise
    ok, value = broadcast_object(outcome)
    if not ok:
        value.replicated = True
        raise value
    return value


@contextlib.contextmanager
def main_first() -> Iterator[None]:
    """Rank 0 runs the block first (e.g. builds a cache entry); the others run it after, and
    find what rank 0 wrote. An error on rank 0 reaches every rank."""
    if world().size == 1:
        yield
        return
    if is_main():
        try:
            yield
        except Exception as exc:
            broadcast_object((False, _picklable(exc)))
            raise
        broadcast_object((True, None))
        return
    ok, exc = broadcast_object((True, None))
    if not ok:
        exc.replicated = True
        raise exc
    yield


def barrier() -> None:
    if world().size > 1:
        dist.barrier()


def check_shared(folders: dict[str, Path]) -> None:
    """Refuse in one line, on every rank, a folder that some ranks do not share with rank 0.

    Rank 0 writes a marker in each folder; every rank looks for it. The run directory and the
    cache must be one filesystem for all nodes: rank 0 writes the decoded images, features
    and checkpoints there and the others read them.
    """
    here = world()
    if here.size == 1:
        return
    marker = f".graftlab-shared-{broadcast_object(uuid.uuid4().hex)}"
    if here.is_main:
        for folder in folders.values():
            folder.mkdir(parents=True, exist_ok=True)
            (folder / marker).write_text("rank 0\n")
    barrier()
    unseen = [name for name, folder in folders.items() if not (folder / marker).is_file()]
    everyone: list[Any] = [None] * here.size
    dist.all_gather_object(everyone, (here.rank, socket.gethostname(), unseen))
    barrier()
    if here.is_main:
        for folder in folders.values():
            (folder / marker).unlink(missing_ok=True)
    for name, folder in folders.items():
        blind = [(r, host) for r, host, names in everyone if name in names]
        if blind:
            ranks = ", ".join(f"{r} ({host})" for r, host in blind)
            error = DistributedError(
                f"The {name} {folder} is not shared: rank(s) {ranks} cannot see what rank 0 "
                f"({socket.gethostname() if here.is_main else 'its host'}) writes there. Put it "
                "on a filesystem every node mounts at the same path (NFS, Lustre, ...) and "
                "point --project / --cache-dir at it."
            )
            error.replicated = not here.is_main  # rank 0 says it once
            raise error


def _picklable(exc: Exception) -> Exception:
    try:
        pickle.dumps(exc)
        return exc
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")


# -- work split over ranks ------------------------------------------------------------------------
def shard(n: int, batch: int, here: World | None = None) -> range:
    """This rank's contiguous share of ``n`` items, cut at multiples of ``batch``: every batch
    holds the items one process would put in it, so a batch's result does not depend on the
    number of processes."""
    here = here or world()
    n_batches = -(-n // max(batch, 1))
    first = here.rank * n_batches // here.size
    last = (here.rank + 1) * n_batches // here.size
    return range(min(n, first * batch), min(n, last * batch))


def gather_rows(rows: np.ndarray) -> np.ndarray:
    """Every rank's ``rows`` (its :func:`shard`), concatenated in rank order, on every rank."""
    here = world()
    if here.size == 1:
        return rows
    rows = np.ascontiguousarray(rows)
    dev = _device()
    counts = torch.tensor([len(rows)], dtype=torch.int64, device=dev)
    sizes = [torch.zeros_like(counts) for _ in range(here.size)]
    dist.all_gather(sizes, counts)
    n = [int(s.item()) for s in sizes]
    padded = torch.zeros((max(n), *rows.shape[1:]), dtype=_torch_dtype(rows.dtype), device=dev)
    if len(rows):
        padded[: len(rows)] = torch.from_numpy(rows).to(dev)
    parts = [torch.empty_like(padded) for _ in range(here.size)]
    dist.all_gather(parts, padded)
    out = np.concatenate([p[:k].cpu().numpy() for p, k in zip(parts, n, strict=True)])
    return out.astype(rows.dtype, copy=False)


def all_sum(values: Sequence[float]) -> list[float]:
    """Element-wise sums of ``values`` over the ranks (float64)."""
    if world().size == 1:
        return [float(v) for v in values]
    t = torch.tensor(list(values), dtype=torch.float64, device=_device())
    dist.all_reduce(t)
    return [float(v) for v in t.cpu()]


def any_rank(flag: bool) -> bool:
    """True on every rank when ``flag`` is True on any (e.g. a non-finite loss on one rank)."""
    if world().size == 1:
        return bool(flag)
    return all_sum([1.0 if flag else 0.0])[0] > 0


def per_rank_batch(global_batch: int, size: int) -> int:
    """Images per rank in each step, so that the global batch stays ``batch_size``."""
    if global_batch % size:
        lower = global_batch - global_batch % size
        raise ConfigError(
            f"batch_size {global_batch} (the global batch) does not split over {size} "
            f"processes; use a multiple of {size}, e.g. batch_size={lower or size} or "
            f"{lower + size}."
        )
    return global_batch // size


def lr_rule(batch_size: int, lr: float, here: World | None = None) -> dict[str, Any]:
    """What summary.json and the log say about batches and learning rate."""
    here = here or world()
    return {
        "world_size": here.size,
        "backend": here.backend,
        "global_batch": batch_size,
        "per_rank_batch": batch_size // here.size,
        "lr": lr,
        "rule": (
            "global batch = batch_size = per-rank batch x world size, whatever the number of "
            "processes, so the learning rate is used as given and one process or N see the "
            "same batches in the same order (raising batch_size with more GPUs is a new "
            "config: scale lr with it, e.g. linearly)"
        ),
    }


def wrap_ddp(module: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """``module`` in DistributedDataParallel (parameters that require grad now are synced)."""
    from torch.nn.parallel import DistributedDataParallel

    ids = None
    if device.type == "cuda":
        ids = [device.index if device.index is not None else torch.cuda.current_device()]
    return DistributedDataParallel(
        module,
        device_ids=ids,
        # Buffers are equal on every rank at the start; frozen BatchNorm statistics stay so,
        # trained ones are averaged after each epoch (average_buffers): nothing to send per step.
        forward_sync_buffers=False,
    )


def average_buffers(module: torch.nn.Module) -> None:
    """Replace each floating-point buffer (BatchNorm running statistics) by its mean over ranks."""
    here = world()
    if here.size == 1:
        return
    dev = _device()
    for buf in module.buffers():
        if buf.is_floating_point():
            t = buf.detach().to(dev, torch.float64)
            dist.all_reduce(t)
            buf.copy_((t / here.size).to(buf.device, buf.dtype))


def sync_batchnorm(model: torch.nn.Module) -> torch.nn.Module:
    """BatchNorm layers (timm's BatchNormAct2d included) that average statistics over ranks."""
    from timm.layers import convert_sync_batchnorm

    return convert_sync_batchnorm(model)


# -- launching and failures ---------------------------------------------------------------------
def launch(nproc: int, argv: Sequence[str], *, threads: int | None = None) -> None:
    """Start ``python -m graftlab ARGV`` on ``nproc`` processes of this machine with
    ``torch.distributed.run`` (what ``torchrun --standalone`` does); a failed rank ends the
    launch with a :class:`DistributedError` that names it."""
    from torch.distributed import run as torchrun
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError

    if "OMP_NUM_THREADS" not in os.environ:
        # torchrun would set 1; a CPU run gets its cores split over the processes instead.
        per = threads or max(1, (os.cpu_count() or 1) // nproc)
        os.environ["OMP_NUM_THREADS"] = str(per)
    args = torchrun.parse_args(
        ["--standalone", f"--nproc-per-node={nproc}", "--module", "graftlab", *argv]
    )
    try:
        torchrun.run(args)
    except ChildFailedError as exc:
        if exc.get_first_failure()[1].exitcode == 2:
            # A mistake in the data or options: the worker printed its one line already.
            raise SystemExit(2) from None
        raise DistributedError(describe_failure(exc)) from None


def describe_failure(exc: Any) -> str:
    """One line for torch's ChildFailedError: which rank failed first, and how."""
    rank, failure = exc.get_first_failure()
    code = failure.exitcode
    if code < 0:
        try:
            how = f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            how = f"was killed by signal {-code}"
    elif code == 2:
        how = "stopped on an error (printed above)"
    else:
        how = f"exited with code {code} (its traceback is above)"
    others = len(exc.failures) - 1
    return (
        f"rank {rank} (local rank {failure.local_rank}, pid {failure.pid}) {how}; the run "
        f"was stopped{f' ({others} more rank(s) failed)' if others > 0 else ''}. "
        "Continue from the last finished epoch with `graftlab train --resume RUN`."
    )


def _is_communication_failure(exc: BaseException) -> bool:
    backend_error = getattr(dist, "DistBackendError", ())
    if backend_error and isinstance(exc, backend_error):
        return True
    text = str(exc)
    return isinstance(exc, RuntimeError) and any(
        s in text for s in ("gloo", "Gloo", "NCCL", "Connection closed", "Connection reset")
    )


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def _local_rank() -> int:
    return int(os.environ.get("LOCAL_RANK", "0"))


def _device() -> torch.device:
    """Where collective tensors live: the rank's GPU with NCCL, else the CPU."""
    if dist.is_initialized() and dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def _torch_dtype(dtype: np.dtype) -> torch.dtype:
    return torch.from_numpy(np.zeros(1, dtype=dtype)).dtype


def launched_by_torchrun() -> bool:
    return env_world() is not None or "TORCHELASTIC_RUN_ID" in os.environ


__all__ = [
    "DEFAULT_TIMEOUT_S",
    "DistributedError",
    "World",
    "all_sum",
    "any_rank",
    "average_buffers",
    "barrier",
    "broadcast_object",
    "check_shared",
    "describe_failure",
    "env_world",
    "gather_rows",
    "is_main",
    "launch",
    "launched_by_torchrun",
    "lr_rule",
    "main_first",
    "on_main",
    "per_rank_batch",
    "session",
    "shard",
    "sync_batchnorm",
    "timeout_s",
    "world",
    "wrap_ddp",
]
