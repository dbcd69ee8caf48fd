"""Lightning callbacks that monitor a key the LightningModule never logs.

``ModelCheckpoint(monitor="val_loss")`` and ``EarlyStopping(monitor="val_acc")`` read the
values that ``self.log("name", value)`` records; a name the module logs differently
(``"val/loss"``, ``"valid_loss"``) is never there: Lightning stops with a misconfiguration
error, or, with ``strict=False``, the callback never acts.
"""

from __future__ import annotations

import ast
import difflib

from graftlab.doctor._checks import declare
from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.common_rules import once
from graftlab.doctor.script.frameworks import uses_torch

_LIGHTNING_CB = (
    "https://lightning.ai/docs/pytorch/stable/api/lightning.pytorch.callbacks.ModelCheckpoint.html"
)
declare(
    "GL232",
    "monitor-metric-missing",
    "error",
    "script",
    "A Lightning callback monitors a key the LightningModule never logs",
    (_LIGHTNING_CB,),
)


@check("torch.lightning_monitor")
def check_lightning_monitor(ctx: Ctx) -> None:
    """GL232: ``monitor=`` names no key given to ``self.log`` / ``self.log_dict``."""
    if not uses_torch(ctx) or ctx.keras:
        return
    logged = _logged_keys(ctx)
    if logged is None or not logged:
        return  # a key made at run time (f-string, variable): cannot tell what is logged
    for cb in ctx.prog.find_calls("ModelCheckpoint", "EarlyStopping"):
        monitor = ctx.prog.const(cb.kw("monitor"), cb.ev.idx, cb.ev.scope)
        if not isinstance(monitor, str) or monitor in logged:
            continue
        if any(monitor == f"{k}_{s}" for k in logged for s in ("epoch", "step")):
            continue  # on_step and on_epoch logging adds these suffixes
        if not once(ctx, "lightning.monitor", monitor):
            continue
        near = difflib.get_close_matches(monitor, sorted(logged), n=1, cutoff=0.5)
        # the module's class in the paste: its logging is all there (else a parent class
        # not shown may log the key)
        whole = any(
            "LightningModule" in ast.unparse(b) for c in ctx.prog.classes.values() for b in c.bases
        )
        ctx.add(
            "GL232",
            "monitor-metric-missing",
            "error" if whole else "warning",
            f"{cb.name} monitors {monitor!r}, which the LightningModule never logs",
            [cb.node.lineno, logged[near[0]] if near else min(logged.values())],
            f"The module logs {', '.join(repr(k) for k in sorted(logged))}; {monitor!r} is "
            f"none of them, so {cb.name} never finds the value it watches: Lightning stops "
            "with a MisconfigurationException at the first validation, or (strict=False) "
            "the callback silently never saves the best model / never stops.",
            f"{cb.name}(monitor={near[0] if near else 'the logged name'!r}, ...)  "
            "# the exact name given to self.log",
            [_LIGHTNING_CB],
        )


def _logged_keys(ctx: Ctx) -> dict[str, int] | None:
    """Constant keys given to ``self.log`` / ``self.log_dict`` (key -> line); None when a key
    is computed at run time."""
    out: dict[str, int] = {}
    for c in ctx.prog.calls:
        f = c.node.func
        if not (isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name)):
            continue
        if f.value.id != "self" or f.attr not in ("log", "log_dict"):
            continue
        if f.attr == "log":
            key = ctx.prog.const(c.arg(0, "name"), c.ev.idx, c.ev.scope)
            if not isinstance(key, str):
                return None
            out.setdefault(key, c.node.lineno)
            continue
        d = ctx.prog.origin(c.arg(0, "dictionary"), c.ev.idx, c.ev.scope).node
        if not isinstance(d, ast.Dict):
            return None
        for k in d.keys:
            key = ctx.prog.const(k, c.ev.idx, c.ev.scope) if k is not None else None
            if not isinstance(key, str):
                return None
            out.setdefault(key, c.node.lineno)
    return out
