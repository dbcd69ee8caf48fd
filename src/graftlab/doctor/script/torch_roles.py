"""Which data is training, validation or test, read from how the script uses it.

Names say it most of the time (``train_loader``, ``data/val``); when they do not (``dl_a``,
``v3``, ``os.path.join(args.data, "val")``), the code does: a loop over a loader that steps the
optimizer trains on it, one run once per epoch without stepping validates on it, a loader
handed to ``train_one_epoch`` / ``evaluate`` of code not shown is named by that function.
"""

from __future__ import annotations

import ast
import re

from graftlab.doctor.script.flow import CallSite, Event, Program, Ref, header, self_assignments
from graftlab.doctor.script.keras_graph import role_of


def loops_over(prog: Program, loader: CallSite) -> list[int]:
    """Events of ``for ... in <loader>`` loops (also through ``tqdm(loader)``, ``enumerate``);
    -1 for each comprehension over it (which cannot run a training step)."""
    memo = prog.memo.setdefault("loops_over", {})
    if id(loader.node) not in memo:
        memo[id(loader.node)] = _loops_over(prog, loader)
    return list(memo[id(loader.node)])


def _loops_over(prog: Program, loader: CallSite) -> list[int]:
    out = []
    for ev in prog.events:
        iters = [ev.node.iter] if isinstance(ev.node, ast.For) else []
        comps = [
            g.iter
            for part in header(ev.node)
            for n in ast.walk(part)
            if isinstance(n, ast.ListComp | ast.GeneratorExp | ast.SetComp | ast.DictComp)
            for g in n.generators
        ]
        for it, idx in [(i, ev.idx) for i in iters] + [(c, -1) for c in comps]:
            if _iterates(prog, it, ev, loader):
                out.append(idx)
    return out


def _iterates(
    prog: Program, it: ast.expr, ev: Event | Ref, loader: CallSite, depth: int = 0
) -> bool:
    for n in ast.walk(it):
        if n is loader.node:
            return True  # ``for x in DataLoader(...)``
        if not isinstance(n, ast.Name) or depth > 4:
            continue
        refs = [prog.origin(n, ev.idx, ev.scope)]
        alts = prog.alternatives(n.id, ev.idx, ev.scope)[1:]  # set in the other branch of an if
        refs += [prog.origin(b.value, b.vidx, b.vscope) for b in alts]
        for r in refs:
            if r.node is loader.node:
                return True
            # ``run(model, val_loader if val_loader else test_loader)``: either one
            if isinstance(r.node, ast.IfExp | ast.BoolOp | ast.Name) and _iterates(
                prog, r.node, r, loader, depth + 1
            ):
                return True
    return False


_TRANSFORM_PARAM = re.compile(r"(?i)^(transforms?|tfms?|trans|augment\w*|aug)$")


def transform_params(init: ast.FunctionDef) -> set[str]:
    """Parameters of a dataset's ``__init__`` that hold its transform: named like one, or
    stored as ``self.transform`` (whatever the parameter is called)."""
    out = {p.arg for p in init.args.args[1:] if _TRANSFORM_PARAM.match(p.arg)}
    out |= {
        v.id
        for attr, v in self_assignments(init)
        if isinstance(v, ast.Name) and _TRANSFORM_PARAM.match(attr)
    }
    return out


def role_from_loaders(
    prog: Program, site: CallSite, allow: tuple[str, ...] = ("train", "val")
) -> str | None:
    """The role the use of the loaders over the dataset built at ``site`` shows, among
    ``allow``: by default training or per-epoch validation (a loop over it outside
    training may be feature extraction)."""
    used = set(_loader_roles(prog).get(id(site.node), ())) - {None}
    return used.pop() if len(used) == 1 and used <= set(allow) else None


def _loader_roles(prog: Program) -> dict[int, set[str | None]]:
    """The roles of the DataLoaders over each dataset call (by the call's node id), found
    once per script: asked per dataset, the walk over every loader was quadratic (a 200,000
    character paste spent its whole time bound here)."""
    memo = prog.memo.get("loader_roles")
    if memo is None:
        memo = {}
        for c in prog.calls:
            if c.name.endswith("DataLoader"):
                o = prog.origin_call(c.arg(0, "dataset"), c.ev)
                if o is not None:
                    memo.setdefault(id(o.node), set()).add(usage_role(prog, c))
        prog.memo["loader_roles"] = memo
    return memo


def path_role(prog: Program, node: ast.expr | None, at: Event) -> str | None:
    """The role the literal parts of a path name when the whole path is not known:
    ``os.path.join(args.data, "val")``, ``f"{root}/train"``, ``root + "/test"``."""
    if node is None:
        return None
    r = prog.origin(node, at.idx, at.scope)
    parts = [
        n.value
        for n in ast.walk(r.node)
        if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]
    return role_of(parts[-1]) if parts else None


def usage_role(prog: Program, loader: CallSite) -> str | None:
    """How a loader is used, once per script: see :func:`_used_as`."""
    memo = prog.memo.setdefault("usage_role", {})
    if id(loader.node) not in memo:
        memo[id(loader.node)] = _used_as(prog, loader)
    return memo[id(loader.node)]


def _used_as(prog: Program, loader: CallSite) -> str | None:
    """The role a loader's use suggests: iterated by a loop that steps the optimizer, it is
    the training loader; iterated only by loops that do not, it is evaluated, ``val`` when
    that happens inside a training loop (once per epoch), else ``test``."""
    loops = [i for i in loops_over(prog, loader) if i >= 0]
    if not loops:
        return _handed_to(prog, loader)
    if any(prog.loop_trains(i) for i in loops):
        return "train"
    outer = {o for i in loops for o in prog.events[i].loops}
    return "val" if any(prog.loop_trains(i) for i in outer) else "test"


def _handed_to(prog: Program, loader: CallSite) -> str | None:
    """The role named by a function outside the paste that the loader is handed to
    (``train_one_epoch(model, loader, ...)``, ``evaluate(model, loader)``): its code is not
    shown, its name is the evidence."""
    roles = set()
    for c in prog.calls:
        if c.name in prog.functions or c.node is loader.node:
            continue
        args = [*c.node.args, *(k.value for k in c.node.keywords)]
        if any(
            isinstance(a, ast.Name) and prog.origin(a, c.ev.idx, c.ev.scope).node is loader.node
            for a in args
        ):
            roles.add(role_of(c.name))
    roles.discard(None)
    if roles == {"val", "test"}:  # validated each epoch and tested at the end
        return "val"
    return roles.pop() if len(roles) == 1 else None


#: Keras-style calls that consume data, and the role the data has there: ``(method, role of
#: the first argument)``; ``validation_data=`` is validation wherever it is given.
_CONSUMERS = {
    "fit": "train",
    "fit_generator": "train",
    "train_on_batch": "train",
    "evaluate": "test",
    "evaluate_generator": "test",
    "predict": "test",
    "predict_generator": "test",
}


def value_role(prog: Program, site: CallSite) -> str | None:
    """The role the value made at ``site`` has by its use, whatever it is called: a loader
    (or the dataset under one) iterated by a loop that trains is training data, one evaluated
    once per epoch validation data (:func:`usage_role`); what ``fit`` is given first is
    training data, its ``validation_data`` validation data, what ``evaluate``/``predict`` are
    given test data. None when the uses disagree or there are none."""
    if site.name.endswith("DataLoader"):
        return usage_role(prog, site)
    roles = set(_consumed(prog).get(id(site.node), ())) | (
        set(_loader_roles(prog).get(id(site.node), ())) - {None}
    )
    if roles == {"val", "test"}:
        return "val"  # validated each epoch, tested at the end
    return roles.pop() if len(roles) == 1 else None


def _consumed(prog: Program) -> dict[int, set[str]]:
    """The roles in which each call's value is given to ``fit``/``evaluate``/``predict``
    (by the call's node id), found once per script."""
    memo = prog.memo.get("consumed")
    if memo is None:
        memo = {}
        for method, role in _CONSUMERS.items():
            for c in prog.method_calls(method):
                given = [(c.arg(0, "x") or c.kw("generator"), role)]
                given.append((c.kw("validation_data"), "val"))
                for node, r in given:
                    for part in node.elts if isinstance(node, ast.Tuple | ast.List) else [node]:
                        for o in _made_by(prog, part, c.ev):
                            memo.setdefault(id(o.node), set()).add(r)
        prog.memo["consumed"] = memo
    return memo


def _made_by(prog: Program, node: ast.expr | None, at: Event) -> list[CallSite]:
    """The calls that may have made ``node``'s value at ``at``: a name set in both branches of
    an ``if`` may hold either."""
    if node is None:
        return []
    if not isinstance(node, ast.Name):
        o = prog.origin_call(node, at)
        return [o] if o is not None else []
    out = []
    for b in prog.alternatives(node.id, at.idx, at.scope):
        o = prog.origin_call(b.value, prog.events[min(b.vidx, len(prog.events) - 1)])
        if o is not None:
            out.append(o)
    return out
