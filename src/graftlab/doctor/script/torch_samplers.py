"""The order a PyTorch training loader's sampler gives the samples.

- **GL217** (no-shuffle): the training DataLoader takes its order from a sampler that keeps
  the stored order: ``DistributedSampler(train_ds, shuffle=False)`` or
  ``SequentialSampler(train_ds)``. DataLoader's own ``shuffle=`` is then unused (it may not be
  set with a sampler), so the loader rule on ``shuffle=`` does not see it. The sampler's
  argument is in the code, so the order is certain; whether the stored order is sorted by class
  is not, which makes it a ``warning`` unless the dataset is a class-per-folder one.
"""

from __future__ import annotations

from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.common_rules import once
from graftlab.doctor.script.flow import CallSite
from graftlab.doctor.script.frameworks import uses_torch
from graftlab.doctor.script.knowledge import REFS
from graftlab.doctor.script.torch_graph import torch_script
from graftlab.doctor.script.torch_roles import loops_over

_FOLDERS = ("ImageFolder", "DatasetFolder")


def _ordered_sampler(ctx: Ctx, loader: CallSite) -> CallSite | None:
    """The sampler call that makes ``loader`` visit its samples in stored order, if any."""
    given = loader.kw("sampler")
    site = ctx.prog.origin_call(given, loader.ev) if given is not None else None
    if site is None or not (site.qual.startswith("torch") or site.qual == site.name):
        return None  # torch's, or a bare name whose import the paste left out
    if site.name == "SequentialSampler":
        return site
    if site.name == "DistributedSampler":
        shuffle = site.kw("shuffle")
        if shuffle is not None and ctx.prog.const(shuffle, site.ev.idx, site.ev.scope) is False:
            return site
    return None


@check("torch.train_sampler_order")
def check_train_sampler_order(ctx: Ctx) -> None:
    """GL217: a training loader whose sampler keeps the stored order."""
    if not uses_torch(ctx):
        return
    for call, ds, role in torch_script(ctx).loaders():
        if role != "train":
            continue
        sampler = _ordered_sampler(ctx, call)
        if sampler is None:
            continue
        loops = loops_over(ctx.prog, call)
        if loops and not any(i >= 0 and ctx.prog.loop_trains(i) for i in loops):
            continue  # only iterated to extract features or evaluate: order does not matter
        if not once(ctx, "torch.train_sampler_order", call.node.lineno):
            continue
        root = (ds.parent or ds) if ds is not None else None
        folder = root is not None and root.site.name in _FOLDERS
        how = (
            "shuffle=False"
            if sampler.name == "DistributedSampler"
            else "a SequentialSampler, which never shuffles"
        )
        ctx.add(
            "GL217",
            "no-shuffle",
            "error" if folder else "warning",
            f"The training DataLoader's {sampler.name} does not shuffle",
            [sampler.node.lineno, call.node.lineno],
            f"The training loader takes its order from {sampler.name} with {how}, so every "
            "epoch visits the samples in stored order (a sampler replaces DataLoader's own "
            "shuffle)"
            + (
                "; ImageFolder stores them class by class, so each batch holds one class: the "
                "model is pulled to each class in turn, BatchNorm sees single-class batches and "
                "the training accuracy swings from epoch to epoch."
                if folder
                else "; when that order is sorted by class or source, batches are not "
                "representative: the training accuracy starts high and then wanders, and the "
                "model ends biased to the last classes it saw."
            ),
            "sampler = DistributedSampler(train_ds, shuffle=True)  # and sampler.set_epoch(epoch) "
            "at the start of every epoch\n"
            "# or, in one process: DataLoader(train_ds, batch_size=..., shuffle=True)",
            [REFS["torch_loader"]],
        )
