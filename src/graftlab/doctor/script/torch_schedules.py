"""A learning-rate schedule counted in epochs, stepped after every batch.

``StepLR(opt, step_size=epochs // 3)``, ``MultiStepLR(opt, milestones=[30, 60])``,
``CosineAnnealingLR(opt, T_max=num_epochs)`` and ``ExponentialLR(opt, gamma=0.95)`` count their
``step()`` calls. Called once per epoch they decay the rate over the run; called inside the
batch loop, next to ``optimizer.step()``, the same numbers are counted in batches: the rate is
divided by ten after a few dozen or hundred steps (or swings through its cosine every few
hundred batches), and training stalls early with a rate near zero. Schedules meant to step per
batch (``OneCycleLR``, ``CyclicLR``, warm-up lambdas) and sizes counted in steps
(``T_max=epochs * len(loader)``) are left alone.
"""

from __future__ import annotations

import ast
import re

from graftlab.doctor._checks import declare
from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.common_rules import once, source_text
from graftlab.doctor.script.flow import CallSite, last
from graftlab.doctor.script.frameworks import uses_torch
from graftlab.doctor.script.knowledge import REFS

declare(
    "GL255",
    "learning-rate",
    "warning",
    "script",
    "An epoch-sized learning-rate schedule stepped after every batch",
    (REFS["torch_sched"],),
)

#: The schedules whose size is usually given in epochs: the argument that carries it.
_SIZED = {
    "StepLR": ("step_size", 1),
    "MultiStepLR": ("milestones", 1),
    "CosineAnnealingLR": ("T_max", 1),
    "ExponentialLR": ("gamma", 1),
}
_EPOCHS = re.compile(r"(?i)epoch")
_STEPS = re.compile(r"(?i)len\(|iter|step|batch")
#: A step size or milestone this small, counted in batches, decays the rate within the first
#: few hundred batches; schedules written per iteration count in thousands.
_SMALL = 100
#: A per-step decay factor this low loses 10x of the rate in under 230 batches.
_FAST_GAMMA = 0.99
#: Calls that pass every other test and are then checked against the script's ``if``s.
_CANDIDATES = 20


def _numbers(value: object) -> list[float]:
    items = value if isinstance(value, list | tuple) else [value]
    return [float(v) for v in items if isinstance(v, int | float) and not isinstance(v, bool)]


def _epoch_sized(ctx: Ctx, sched: CallSite) -> str | None:
    """The size argument as written when it counts epochs: its text (or what a name in it was
    set to) speaks of epochs and not of steps, or it is a number too small to count batches."""
    kind = last(sched.qual)
    name, pos = _SIZED[kind]
    node = sched.kw(name) or sched.arg(pos)
    if node is None:
        return None
    written = ast.unparse(node)
    origin = ctx.prog.origin(node, sched.ev.idx, sched.ev.scope).node
    texts = [written, ast.unparse(origin)]
    if kind != "ExponentialLR":
        if any(_EPOCHS.search(t) for t in texts) and not any(_STEPS.search(t) for t in texts):
            return written
        if kind == "CosineAnnealingLR":  # a short cosine per batch cycles, it does not stall
            return None
    nums = _numbers(ctx.prog.const(node, sched.ev.idx, sched.ev.scope))
    if kind == "ExponentialLR":
        return written if nums and nums[0] <= _FAST_GAMMA else None
    return written if nums and max(nums) <= _SMALL else None


def _batch_loop_trains(ctx: Ctx, loop: int) -> bool:
    """Whether ``loop`` is the innermost loop of a backward pass: the batch loop itself, not an
    epoch or phase loop around it."""
    return any(c.ev.loops and c.ev.loops[-1] == loop for c in ctx.prog.method_calls("backward"))


@check("torch.schedule_per_batch")
def check_schedule_per_batch(ctx: Ctx) -> None:
    """GL255: an epoch-sized ``lr_scheduler`` whose ``step()`` runs in the batch loop."""
    text = source_text(ctx)
    if not uses_torch(ctx) or not any(k in text for k in _SIZED):
        return
    sizes: dict[int, str | None] = {}
    budget = _CANDIDATES  # ruled_out() walks the events before the call: a few calls only
    for site in ctx.prog.method_calls("step"):
        ev = site.ev
        # step(epoch) / step(val_loss) say what they count; a loop inside no other loop is
        # not a batch loop inside an epoch loop
        if site.node.args or site.node.keywords or len(ev.loops) < 2:
            continue
        if not isinstance(site.node.func, ast.Attribute):
            continue
        sched = ctx.prog.origin_call(site.node.func.value, ev)
        if sched is None or last(sched.qual) not in _SIZED or sched.ev.loops:
            continue
        if id(sched.node) not in sizes:
            sizes[id(sched.node)] = _epoch_sized(ctx, sched)
        size = sizes[id(sched.node)]
        if size is None or not _batch_loop_trains(ctx, ev.loops[-1]):
            continue
        budget -= 1
        if budget < 0:
            return
        if ctx.prog.ruled_out(ev) or not once(ctx, "torch.schedule_per_batch"):
            continue
        kind = last(sched.qual)
        what = ast.unparse(site.node.func.value)
        arg = _SIZED[kind][0]
        ctx.add(
            "GL255",
            "learning-rate",
            "warning",
            f"{kind}({arg}={size}) is stepped after every batch, so it counts batches, not epochs",
            [sched.node.lineno, site.node.lineno],
            f"{what} is a {kind} built with {arg}={size} (line {sched.node.lineno}), a size "
            f"that reads as epochs, but {what}.step() (line {site.node.lineno}) runs inside "
            "the batch loop, once per optimizer step. The schedule advances once per batch: "
            "the learning rate is cut within the first few hundred batches and stays near "
            "zero for the rest of the run, so training stalls early and looks converged. "
            "(Inferred: the size counts epochs.)",
            f"Step the scheduler once per epoch, after the batch loop:\n"
            "for epoch in range(epochs):\n"
            "    for x, y in loader:\n"
            "        ...\n"
            "        optimizer.step()\n"
            f"    {what}.step()\n"
            "# or, to step per batch, give the size in batches: "
            "step_size=k * len(loader), T_max=epochs * len(loader)",
            [REFS["torch_sched"]],
        )
        return
