"""torchvision's Inception v3 and GoogLeNet rebuilt without ``transform_input`` for evaluation.

Their ImageNet weights were ported from TensorFlow and expect inputs in [-1, 1]. So that the
usual ImageNet ``Normalize`` can stay in the data pipeline, ``inception_v3(pretrained=True)``
(or ``weights=...``) switches on ``transform_input``: the model re-normalises its input itself,
inside ``forward``. The flag is a constructor argument, not a weight, so a state dict does not
carry it. A model fine-tuned from ``inception_v3(pretrained=True)``, saved, and loaded into
``inception_v3()`` (``transform_input=False``, the default without pretrained weights) sees
every evaluation image normalised differently from the training images.

Both constructions in one file: an error. Across files (a training script and an evaluation
script given together) the link between the saved and the loaded weights is inferred: a warning
(GL132).
"""

from __future__ import annotations

import ast

from graftlab.doctor._checks import declare
from graftlab.doctor.script._rules import Ctx, check

_INCEPTION = (
    "https://pytorch.org/vision/stable/models/generated/torchvision.models.inception_v3.html"
)

declare(
    "GL132",
    "train-eval-preprocessing-mismatch",
    "error",
    "script",
    "Inception v3 / GoogLeNet trained with transform_input, loaded for evaluation without it",
    (_INCEPTION,),
)

_NETS = ("inception_v3", "googlenet")


def _const(node: ast.expr | None) -> object:
    return node.value if isinstance(node, ast.Constant) else ...


def _transforms(site) -> bool | None:
    """Whether the model built at ``site`` re-normalises its input; None when not known."""
    flag = _const(site.kw("transform_input"))
    if flag is not ...:
        return bool(flag)
    if site.kw("transform_input") is not None:
        return None
    pretrained, weights = site.kw("pretrained"), site.kw("weights")
    if pretrained is None and weights is None and not site.node.args:
        return False
    if _const(pretrained) is True or (weights is not None and _const(weights) is not None):
        return True
    if _const(pretrained) is False and weights is None:
        return False
    return None


def _part(ctx: Ctx, line: int) -> int:
    """The index of the file, among several given together, that holds ``line``."""
    starts = [start for start, _ in ctx.src.parts]
    return sum(1 for s in starts if s <= line) - 1 if starts else 0


@check("torch.transform_input")
def check_transform_input(ctx: Ctx) -> None:
    """GL132: a pretrained torchvision Inception v3 / GoogLeNet, and the same network built
    without ``transform_input`` and given a state dict by ``load_state_dict``."""
    if not ctx.torch:
        return
    sites = [c for c in ctx.prog.calls if c.name in _NETS]
    trained = [c for c in sites if _transforms(c) is True]
    for plain in (c for c in sites if _transforms(c) is False):
        var = ctx.prog.assigned_name(plain.node)
        line = plain.node.lineno
        loads = [
            m.node.lineno
            for m in ctx.prog.method_calls("load_state_dict")
            if isinstance(m.node.func, ast.Attribute)
            and isinstance(m.node.func.value, ast.Name)
            and m.node.func.value.id == var
            and m.node.lineno > line
        ]
        twin = [c for c in trained if c.name == plain.name]
        if not var or not loads or not twin:
            continue
        source = twin[0].node.lineno
        apart = _part(ctx, source) != _part(ctx, line)
        ctx.add(
            "GL132",
            "train-eval-preprocessing-mismatch",
            "warning" if apart else "error",
            f"{plain.name}() loads weights fine-tuned from {plain.name}(pretrained) without "
            "transform_input: evaluation inputs are normalised differently",
            [source, line, loads[0]],
            f"The network trained at line {source} was built with pretrained ImageNet weights, "
            "which turns on transform_input: its forward() re-normalises every input from the "
            "ImageNet mean/std to the [-1, 1] range the ported weights expect. The network at "
            f"line {line} is built without pretrained weights, so transform_input is False, "
            "and the fine-tuned state dict loaded into it does not carry the flag: every "
            "evaluation image reaches the first convolution scaled unlike the training images."
            + (
                " (inferred: the weights saved by the training file are taken to be the ones "
                "the evaluation file loads)"
                if apart
                else ""
            ),
            f"model = models.{plain.name}(transform_input=True, aux_logits=True, "
            "init_weights=False)  # as built for training\n"
            "# or build it the way training did: models.inception_v3(weights='DEFAULT'), then "
            "replace the heads and load_state_dict",
            [_INCEPTION],
        )
        return
