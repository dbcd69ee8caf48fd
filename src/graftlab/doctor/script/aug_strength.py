"""Training augmentation so strong that little of the image is left to learn from.

- **GL248** (other, ``warning``): a torchvision training transform whose random crop keeps
  under a quarter of the resized image (``Resize((128, 128))`` then ``RandomCrop(50)``: 15%),
  or whose ``ColorJitter`` turns hues by 0.3 or more of the colour circle (0.5 is any colour).
  The sizes and the hue range are in the code; that they are too much for this task is the
  inferred link (a texture or colour-blind task may bear them), so it is a warning. Under such
  augmentation a network, above all one trained from scratch on a small data set, stays near
  chance: the training loss does not fall although nothing else is wrong.
"""

from __future__ import annotations

from graftlab.doctor._checks import declare
from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.common_rules import once
from graftlab.doctor.script.flow import CallSite
from graftlab.doctor.script.frameworks import uses_torch
from graftlab.doctor.script.knowledge import REFS
from graftlab.doctor.script.torch_graph import Pipeline, torch_script

declare(
    "GL248",
    "other",
    "warning",
    "script",
    "Training augmentation leaves little of the image: a tiny random crop or any hue",
    (REFS["tv_tutorial"],),
)

#: A random crop keeping less of the resized image than this is called too small.
_MIN_AREA = 0.25
#: ColorJitter's hue is a fraction of the colour circle (at most 0.5): 0.3 turns red to blue.
_MAX_HUE = 0.3


def _side(ctx: Ctx, site: CallSite) -> tuple[int, int] | None:
    """(height, width) the ``size`` argument gives: an int is a square (for ``Resize`` its
    shorter side, so the area is at least that square)."""
    node = site.arg(0, "size")
    v = ctx.prog.const(node, site.ev.idx, site.ev.scope) if node is not None else None
    if isinstance(v, int) and not isinstance(v, bool) and v > 0:
        return v, v
    if isinstance(v, tuple | list) and len(v) == 2 and all(isinstance(x, int) for x in v):
        return v[0], v[1]
    return None


def _small_crop(ctx: Ctx, p: Pipeline) -> tuple[str, int] | None:
    """(description, line) of a RandomCrop after a Resize that keeps under a quarter of it."""
    resized = None
    for s in p.steps:
        if s.name == "Resize":
            resized = _side(ctx, s)
        elif s.name == "RandomCrop" and resized is not None:
            crop = _side(ctx, s)
            if crop is None:
                return None
            share = crop[0] * crop[1] / (resized[0] * resized[1])
            if share < _MIN_AREA:
                return (
                    f"a {crop[0]}x{crop[1]} random crop of the {resized[0]}x{resized[1]} "
                    f"resized image ({share:.0%} of it at most)",
                    s.node.lineno,
                )
    return None


def _strong_hue(ctx: Ctx, p: Pipeline) -> tuple[str, int] | None:
    jitter = p.step("ColorJitter")
    node = jitter.arg(3, "hue") if jitter is not None else None
    v = ctx.prog.const(node, jitter.ev.idx, jitter.ev.scope) if node is not None else None
    if isinstance(v, tuple | list) and len(v) == 2:
        v = max(abs(x) for x in v if isinstance(x, int | float))
    if isinstance(v, int | float) and not isinstance(v, bool) and v >= _MAX_HUE:
        return f"hue turned by up to ±{v} of the colour circle", jitter.node.lineno
    return None


@check("torch.augmentation_strength")
def check_augmentation_strength(ctx: Ctx) -> None:
    """GL248: a training transform with a crop of under a quarter of the image or any hue."""
    if not uses_torch(ctx):
        return
    for p in torch_script(ctx).pipelines:
        if p.kind != "compose" or p.role not in (None, "train") or not p.random:
            continue
        found = [f for f in (_small_crop(ctx, p), _strong_hue(ctx, p)) if f is not None]
        if not found or not once(ctx, "torch.augmentation_strength"):
            continue
        flip = p.step("RandomVerticalFlip")
        also = " It also flips images upside down (RandomVerticalFlip)." if flip else ""
        what = " and ".join(d for d, _ in found)
        ctx.add(
            "GL248",
            "other",
            "warning",
            f"The training augmentation leaves little to learn from: {what}",
            sorted({*(line for _, line in found), *([flip.node.lineno] if flip else [])}),
            f"Every training image is replaced by {what}.{also} The object is often cut away "
            "or its colours changed past recognition, so the labels no longer follow from the "
            "pixels: the network, above all one trained from scratch on a small data set, "
            "stays near chance and the training loss stays near log(K) (inferred: how much "
            "distortion this task bears is not in the code).",
            "Keep most of the image and its colours: transforms.RandomResizedCrop(size, "
            "scale=(0.5, 1.0)), transforms.RandomHorizontalFlip(), transforms.ColorJitter("
            "0.2, 0.2, 0.2, hue=0.05); add stronger augmentation only once the model learns.",
            [REFS["tv_tutorial"]],
        )
