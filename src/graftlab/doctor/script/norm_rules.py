"""Normalisation constants that cannot be what the weights expect, in either framework.

The statistics a pretrained network was trained with are known numbers (ImageNet mean/std on
[0, 1] pixels, Caffe's BGR means on 0..255 pixels, CIFAR's mean/std), so a script's constants
can be read against them without knowing which network they feed: a ``std`` that equals a
mean, a ``Normalize`` that changes nothing, 0..255 statistics after ``ToTensor()``, the ImageNet
mean in BGR order, Caffe means subtracted before the channels are flipped, a second
normalisation (twice in one pipeline, after ``ToTensor()`` already divided by 255, or in front
of a model that normalises inside itself).
"""

from __future__ import annotations

import ast
import re

from graftlab.doctor._checks import declare
from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.common_rules import once
from graftlab.doctor.script.flow import Event, Ref, dotted
from graftlab.doctor.script.frameworks import uses_torch
from graftlab.doctor.script.knowledge import (
    CAFFE_MEAN_BGR,
    DATASET_MEANS,
    DATASET_STDS,
    IMAGENET_MEAN,
    REFS,
    normalises_inside,
)
from graftlab.doctor.script.torch_graph import Pipeline, torch_script

declare(
    "GL212",
    "preprocessing-mismatch",
    "error",
    "script",
    "Normalisation constants that no pretrained weights expect",
    (REFS["tv_models"], REFS["timm_data"]),
)
declare(
    "GL215",
    "preprocessing-mismatch",
    "error",
    "script",
    "Inputs normalised or scaled twice",
    (REFS["tv_models"],),
)
declare(
    "GL305",
    "preprocessing-mismatch",
    "warning",
    "script",
    "Caffe-style mean subtraction that does not match the channels or the model",
    (REFS["keras_apps"], REFS["tv_models"]),
)

_PRETRAINED_WORDS = re.compile(
    r"pretrain|imagenet|encoder|backbone|resnet|vgg|densenet|efficientnet|mobilenet|inception|"
    r"convnext|vit_|timm|torchvision\.models",
    re.I,
)
_ARRAY_MAKERS = {"array", "asarray", "tensor", "Tensor", "FloatTensor", "as_tensor", "constant"}


def vector(ctx: Ctx, node: ast.expr | None, at: Event | Ref) -> tuple[float, ...] | None:
    """The numbers of a small constant vector (``[0.485, 0.456, 0.406]``, ``np.array(...)``,
    ``torch.tensor(...).view(3, 1, 1)``), flattened; None when not constant."""
    if node is None:
        return None
    prog = ctx.prog
    for _ in range(6):
        v = prog.const(node, at.idx, at.scope)
        flat = _flat(v)
        if flat is not None:
            return flat
        r = prog.origin(node, at.idx, at.scope)
        n = r.node
        if not isinstance(n, ast.Call):
            return None
        f = n.func
        name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
        if name in _ARRAY_MAKERS and n.args:
            node, at = n.args[0], r
        elif isinstance(f, ast.Attribute) and name in ("view", "reshape", "float", "to", "cuda"):
            node, at = f.value, r
        else:
            return None
    return None


def _flat(v) -> tuple[float, ...] | None:
    out: list[float] = []
    todo = [v]
    while todo:
        x = todo.pop(0)
        if isinstance(x, bool):
            return None
        if isinstance(x, int | float):
            out.append(float(x))
        elif isinstance(x, list | tuple) and len(x) <= 4:
            todo = list(x) + todo
        else:
            return None
        if len(out) > 4:
            return None
    return tuple(out) if 1 <= len(out) <= 4 else None


def _close(a: tuple[float, ...], b: tuple[float, ...], tol: float) -> bool:
    return len(a) == len(b) and all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


def known_stats(v: tuple[float, ...], table: dict[str, tuple[float, ...]]) -> str | None:
    """The name of the data set in ``table`` (DATASET_MEANS, DATASET_STDS) whose statistics
    ``v`` are, to the third decimal."""
    return next((name for name, ref in table.items() if _close(v, ref, 0.006)), None)


def normalize_calls(ctx: Ctx) -> list[tuple[int, tuple, tuple, ast.Call, Event]]:
    """(line, mean, std, call, event) of each torchvision-style ``Normalize(mean, std)``."""
    out = []
    for c in ctx.prog.calls:
        if c.name == "Normalize" and "albumentations" not in c.qual and not c.qual.startswith("A."):
            mean = vector(ctx, c.arg(0, "mean"), c.ev)
            std = vector(ctx, c.arg(1, "std"), c.ev)
        elif (c.name == "normalize" and "functional" in c.qual) or c.qual == "TF.normalize":
            mean = vector(ctx, c.arg(1, "mean"), c.ev)
            std = vector(ctx, c.arg(2, "std"), c.ev)
        else:
            continue
        if mean and std:
            out.append((c.node.lineno, mean, std, c.node, c.ev))
    return out


def config_normalisations(ctx: Ctx) -> list[tuple[int, tuple, tuple]]:
    """(line, mean, std) of OpenMMLab-style config steps ``dict(type='Normalize', mean=...,
    std=...)`` (also ``**img_norm_cfg``): mmcv normalises the decoded 0..255 image, with no
    ToTensor scaling before it, so these statistics act on the 0..255 scale."""
    out = []
    for c in ctx.prog.calls:
        if c.name != "dict" or ctx.prog.const(c.kw("type"), c.ev.idx, c.ev.scope) != "Normalize":
            continue
        mean, std = vector(ctx, c.kw("mean"), c.ev), vector(ctx, c.kw("std"), c.ev)
        if mean and std and len(mean) == len(std) == 3:
            out.append((c.node.lineno, mean, std))
    return out


def _named_constants(ctx: Ctx) -> list[tuple[int, tuple, tuple]]:
    """(line, mean, std) of constants named like a mean and a std (``MEAN = [...]``,
    ``STD = [...]``) that no Normalize call in the code shown uses: a configuration file."""
    means, stds = [], []
    for ev in ctx.prog.events:
        n = ev.node
        if not isinstance(n, ast.Assign) or len(n.targets) != 1:
            continue
        t = n.targets[0]
        name = (t.id if isinstance(t, ast.Name) else dotted(t) or "").rsplit(".", 1)[-1].lower()
        v = vector(ctx, n.value, ev)
        if v is None or len(v) != 3:
            continue
        if "mean" in name:
            means.append((n.lineno, v))
        elif "std" in name:
            stds.append((n.lineno, v))
    if len(means) != 1 or len(stds) != 1:
        return []
    return [(min(means[0][0], stds[0][0]), means[0][1], stds[0][1])]


def _after_to_tensor(ctx: Ctx, call: ast.Call) -> Pipeline | None:
    """The Compose in which a ``ToTensor()`` comes before this Normalize, or None."""
    for p in torch_script(ctx).pipelines:
        names = [s.name for s in p.steps]
        nodes = [s.node for s in p.steps]
        if call in nodes:
            i = nodes.index(call)
            return p if "ToTensor" in names[:i] else None
    return None


@check("common.normalisation_constants")
def check_constants(ctx: Ctx) -> None:
    """GL212: a std that is a mean, mean 0 / std 1, 0..255 statistics after ToTensor(), the
    ImageNet mean in BGR order."""
    seen = normalize_calls(ctx)
    pairs = [(line, m, s, call) for line, m, s, call, _ in seen]
    if not seen:
        pairs = [(line, m, s, None) for line, m, s in _named_constants(ctx)]
    for line, mean, std, call in pairs:
        if not once(ctx, "norm.constants", mean, std):
            continue
        _one(ctx, line, mean, std, call)


def malformed(mean: tuple, std: tuple) -> bool:
    """Statistics that are wrong on their own (a std that is a mean, a mean that is a std,
    one list given for both): GL212 names them; a difference between two transforms where one
    of them is malformed is that same cause."""
    if all(abs(v - 0.5) < 1e-6 for v in (*mean, *std)):
        return False
    return bool(
        known_stats(std, DATASET_MEANS)
        or known_stats(mean, DATASET_STDS)
        or (len(mean) > 1 and _close(mean, std, 1e-6))
    )


def _one(ctx: Ctx, line: int, mean: tuple, std: tuple, call: ast.Call | None) -> None:
    what = f"mean={list(mean)}, std={list(std)}"
    std_is_mean = known_stats(std, DATASET_MEANS)
    mean_is_std = known_stats(mean, DATASET_STDS)
    halves = all(abs(v - 0.5) < 1e-6 for v in (*mean, *std))
    if not halves and mean_is_std and not std_is_mean and not _close(mean, std, 1e-6):
        _add(
            ctx,
            "GL212",
            "error",
            "Normalize subtracts a standard deviation: its mean values are channel stds",
            [line],
            f"This normalisation uses {what}. The mean values are the {mean_is_std} channel "
            "standard deviations (about 0.25), not the channel means (about 0.45): every "
            "input is shifted by about +0.8 standard deviations per channel, so the network "
            "sees inputs on another scale than the pretrained weights (and the published "
            "recipe) assume, and accuracy is lower than it should be.",
            "Use the dataset's mean for mean, e.g. CIFAR-10: Normalize((0.4914, 0.4822, 0.4465), "
            "(0.2470, 0.2435, 0.2616)); ImageNet: Normalize(mean=[0.485, 0.456, 0.406], "
            "std=[0.229, 0.224, 0.225]).",
        )
        return
    if not halves and (std_is_mean or (len(mean) > 1 and _close(mean, std, 1e-6))):
        swapped = bool(mean_is_std and std_is_mean)
        same = len(mean) > 1 and _close(mean, std, 1e-6)
        _add(
            ctx,
            "GL212",
            "error",
            "Normalize's mean and std are swapped"
            if swapped
            else "Normalize is given the same list as mean and std"
            if same
            else "Normalize divides by the mean: its std values are channel means",
            [line],
            f"This normalisation uses {what}. "
            + (
                f"The std values are the {std_is_mean} channel means"
                if std_is_mean
                else "The std is the same list as the mean"
            )
            + (f" and the mean values are the {mean_is_std} std" if swapped else "")
            + ", so each channel is divided by about 0.45 instead of its spread (about 0.25): "
            "inputs land on another scale than the pretrained weights (and the published "
            "recipe) assume, and accuracy is lower than it should be.",
            "Use the dataset's std for std, e.g. ImageNet: Normalize(mean=[0.485, 0.456, 0.406], "
            "std=[0.229, 0.224, 0.225]); CIFAR-10: Normalize((0.4914, 0.4822, 0.4465), "
            "(0.2470, 0.2435, 0.2616)).",
        )
        return
    if all(v == 0 for v in mean) and all(v == 1 for v in std):
        pretrained = _pretrained_hint(ctx)
        if pretrained is None:
            return
        _add(
            ctx,
            "GL212",
            "warning",
            "Normalisation with mean 0 and std 1 leaves the inputs unnormalised",
            [line],
            f"This normalisation uses {what}: it changes nothing, so a network pretrained on "
            "ImageNet gets [0, 1] pixels instead of the mean/std-normalised inputs it was "
            f"trained on ({pretrained}). Every channel is off by about +2 standard deviations; "
            "features degrade and the model trains or transfers worse.",
            "Use the statistics the weights were trained with: mean=[0.485, 0.456, 0.406], "
            "std=[0.229, 0.224, 0.225] for torchvision/timm ImageNet models (or the model's "
            "own data config).",
        )
        return
    pipe = _after_to_tensor(ctx, call) if call is not None else None
    trained_on_255 = any(max(m) > 1.5 for _, m, _ in config_normalisations(ctx))
    if max(mean) > 1.5 and pipe is not None and trained_on_255 and pipe.role != "train":
        return  # GL211 compares it with the configuration that trained the model
    if max(mean) > 1.5 and pipe is not None:
        # certain for PIL images (folder datasets); a float array is not scaled by ToTensor
        _add(
            ctx,
            "GL212",
            "error" if _feeds_folder_dataset(ctx, pipe) else "warning",
            "Normalize uses 0..255 statistics after ToTensor() scaled pixels to [0, 1]",
            [line],
            f"ToTensor() divides the pixels by 255, then Normalize({what}) subtracts means of "
            "the 0..255 scale: every pixel becomes nearly the same large negative value, the "
            "image content is squeezed into a sliver of the range and the network sees "
            "almost uniform inputs.",
            "Give Normalize statistics on the [0, 1] scale (divide them by 255), e.g. "
            "Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]).",
        )
        return
    if (
        len(mean) == 3
        and _close(tuple(sorted(mean)), tuple(sorted(IMAGENET_MEAN)), 0.002)
        and not _close(mean, IMAGENET_MEAN, 0.002)
    ):
        _add(
            ctx,
            "GL212",
            "warning",
            "The ImageNet mean is given in BGR order to RGB images",
            [line],
            f"This normalisation uses {what}: the ImageNet mean reversed (B, G, R), the order "
            "of Caffe-converted weights, while torchvision/PIL images are RGB. Either the "
            "images are RGB and the red and blue statistics are swapped, or the weights are "
            "Caffe-converted and expect BGR pixels on the 0..255 scale with only the mean "
            "subtracted; in both cases the inputs differ from what the weights were trained "
            "on.",
            "Use the preprocessing the weights came with: torchvision/timm models take RGB "
            "[0, 1] with mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]; Caffe-converted "
            "models take BGR 0..255 with the BGR mean subtracted and no std division.",
        )


def _pretrained_hint(ctx: Ctx) -> str | None:
    ts = torch_script(ctx) if uses_torch(ctx) else None
    if ts is not None:
        pre = [m for m in ts.models if m.pretrained]
        if pre:
            return f"{pre[0].name}, line {pre[0].line}"
    m = _PRETRAINED_WORDS.search("\n".join(ctx.src.lines))
    return f"the code mentions {m.group(0)!r}; inferred" if m else None


def _add(ctx: Ctx, code: str, severity: str, title: str, lines, why: str, fix: str) -> None:
    category = "preprocessing-mismatch"
    ctx.add(code, category, severity, title, lines, why, fix, [REFS["tv_models"]])


# -- normalised twice ---------------------------------------------------------------------------
def _divides_by_255(ctx: Ctx, node: ast.AST, at: Event | Ref) -> bool:
    for n in ast.walk(node):
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Div | ast.Mult):
            v = ctx.prog.const(n.right, at.idx, at.scope)
            if isinstance(v, int | float) and v and not isinstance(v, bool):
                scale = 1 / v if isinstance(n.op, ast.Div) else v
                if abs(scale * 255 - 1) < 1e-3:
                    return True
    return False


def _inverse(ctx: Ctx, step) -> bool:
    """``Normalize(-mean/std, 1/std)``: undoes a normalisation (for plotting); and
    ``Normalize(0, 255)``: a plain rescaling before the real normalisation."""
    mean = vector(ctx, step.arg(0, "mean"), step.ev)
    return bool(mean) and (all(v < 0 for v in mean) or all(v == 0 for v in mean))


@check("torch.double_normalisation")
def check_double(ctx: Ctx) -> None:
    """GL215: Normalize twice in one pipeline, /255 after ToTensor(), or a Normalize in front of
    a model that normalises its input itself."""
    if not uses_torch(ctx):
        return
    ts = torch_script(ctx)
    _scaled_after_call(ctx)
    for p in ts.pipelines:
        norms = [s for s in p.steps if s.name == "Normalize" and not _inverse(ctx, s)]
        if len(norms) >= 2:
            _twice(
                ctx,
                "error",
                "The transform normalises twice",
                [n.node.lineno for n in norms],
                "One Compose applies Normalize two times: the second one treats already "
                "standardised values as pixels, so the inputs end up on another scale and "
                "offset than the pretrained weights (and the training recipe) expect.",
                "Keep one Normalize, after ToTensor().",
            )
        _scaled_after_to_tensor(ctx, p)
    inside = [(c.name, c.node.lineno, False) for c in ctx.prog.calls if normalises_inside(c.name)]
    inside += [(m.name, m.line, True) for m in ts.models if m.cls and _forward_normalises(m.cls)]
    if not inside:
        return
    norms = [
        s for p in ts.pipelines for s in p.steps if s.name == "Normalize" and not _inverse(ctx, s)
    ]
    if not norms:
        return
    name, line, own = inside[0]
    what = (
        f"{name}.forward() subtracts a mean from its input"
        if own
        else f"the model {name} builds normalises its input itself"
    )
    _twice(
        ctx,
        "warning",
        f"Inputs are normalised by the transform and again inside the model ({name})",
        [norms[0].node.lineno, line],
        f"{what} (torchvision detection models with their GeneralizedRCNNTransform, "
        "robustness models with their InputNormalize layer take [0, 1] images), and the "
        "transform already applies Normalize: the network sees twice-normalised inputs, unlike "
        "those its weights were trained on, and accuracy drops (inferred: the transform is "
        "assumed to feed this model).",
        "Give the model [0, 1] tensors (ToTensor() only) and let it normalise, or remove the "
        "normalisation inside the model.",
    )


def _forward_normalises(cls: ast.ClassDef) -> bool:
    for fn in cls.body:
        if isinstance(fn, ast.FunctionDef) and fn.name == "forward":
            for n in ast.walk(fn):
                if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Sub):
                    text = ast.unparse(n.right).lower()
                    if "mean" in text:
                        return True
    return False


def _scaled_after_to_tensor(ctx: Ctx, p: Pipeline) -> None:
    names = [s.name for s in p.steps]
    if "ToTensor" not in names:
        return
    after = p.steps[names.index("ToTensor") + 1 :]
    for s in after:
        if s.name == "Lambda" and s.node.args and _divides_by_255(ctx, s.node.args[0], s.ev):
            _twice(
                ctx,
                "error" if _feeds_folder_dataset(ctx, p) else "warning",
                "Pixels are divided by 255 after ToTensor() already did",
                [p.steps[names.index("ToTensor")].node.lineno, s.node.lineno],
                "ToTensor() turns 0..255 images into [0, 1] tensors; dividing by 255 again "
                "leaves values below 0.004: the network sees nearly black images and its "
                "pretrained features (and any Normalize after it) are far from what they "
                "expect.",
                "Remove the extra division: ToTensor() already scales to [0, 1].",
            )
            return


def _scaled_after_call(ctx: Ctx) -> None:
    """``transform(img) / 255`` where the transform ends in ToTensor() (or ToTensor + a
    Normalize): the tensor is already in [0, 1]."""
    ts = torch_script(ctx)
    for ev in ctx.prog.events:
        for n in ast.walk(ev.node) if not isinstance(ev.node, ast.For | ast.With) else []:
            if not (isinstance(n, ast.BinOp) and isinstance(n.left, ast.Call)):
                continue
            if not _divides_by_255(
                ctx, ast.BinOp(left=ast.Constant(0), op=n.op, right=n.right), ev
            ):
                continue
            pipe = ts.pipeline_of(n.left.func, ev)
            if (
                pipe is None
                or not pipe.step("ToTensor")
                or not once(ctx, "norm.div_after", pipe.line)
            ):
                continue
            pil = bool(n.left.args) and _reads_pil(ctx, n.left.args[0], ev)
            _twice(
                ctx,
                "error" if pil else "warning",
                "Pixels are divided by 255 after the transform's ToTensor() already did",
                [pipe.line, n.lineno],
                "The transform ends with ToTensor(), which turns 0..255 images into [0, 1] "
                "tensors; dividing its output by 255 again leaves values below 0.004: the "
                "network sees nearly black images."
                + (
                    ""
                    if pil
                    else " (Inferred: ToTensor scales PIL images and uint8 arrays; a float "
                    "array would pass through unscaled.)"
                ),
                "Remove the division: ToTensor() already scales to [0, 1].",
            )
            return


def _reads_pil(ctx: Ctx, node: ast.expr, at: Event) -> bool:
    """Whether the image comes from PIL (``Image.open``): ToTensor then certainly divides
    by 255."""
    for ref in ctx.prog.deps(node, at, limit=20):
        for m in ast.walk(ref.node):
            if isinstance(m, ast.Call) and "Image.open" in ast.unparse(m.func):
                return True
    return False


def _feeds_folder_dataset(ctx: Ctx, p: Pipeline) -> bool:
    """The pipeline is given to a dataset that yields PIL images (ImageFolder, CIFAR...)."""
    return any(
        d.pipeline is p and d.site.name in ("ImageFolder", "CIFAR10", "CIFAR100", "MNIST")
        for d in torch_script(ctx).datasets
    )


def _twice(ctx: Ctx, severity: str, title: str, lines, why: str, fix: str) -> None:
    ctx.add(
        "GL215", "preprocessing-mismatch", severity, title, lines, why, fix, [REFS["tv_models"]]
    )


# -- Caffe-style mean subtraction ---------------------------------------------------------------
def _caffe_like(v: tuple[float, ...] | None) -> bool:
    return bool(v) and len(v) == 3 and all(95 <= x <= 130 for x in v)


def _var(node: ast.expr) -> tuple[str | None, int | None]:
    """(variable, channel index) of ``x[..., 0]`` / ``x[:, 0, :, :]`` / ``x``."""
    if isinstance(node, ast.Subscript):
        name = dotted(node.value)
        sl = node.slice
        elts = sl.elts if isinstance(sl, ast.Tuple) else [sl]
        idx = [e.value for e in elts if isinstance(e, ast.Constant) and isinstance(e.value, int)]
        return name, idx[0] if len(idx) == 1 else None
    return dotted(node), None


def _flip_of(node: ast.expr) -> str | None:
    """``x`` when ``node`` is ``x[..., ::-1]`` / ``x[:, ::-1, :, :]`` (a channel flip)."""
    if not isinstance(node, ast.Subscript):
        return None
    sl = node.slice
    for e in sl.elts if isinstance(sl, ast.Tuple) else [sl]:
        if (
            isinstance(e, ast.Slice)
            and isinstance(e.step, ast.UnaryOp)
            and isinstance(e.step.op, ast.USub)
            and isinstance(e.step.operand, ast.Constant)
            and e.step.operand.value == 1
        ):
            return dotted(node.value)
    return None


@check("common.caffe_means")
def check_caffe_means(ctx: Ctx) -> None:
    """GL305: BGR means subtracted before the channels are flipped to BGR; Caffe-style
    preprocessing for a PyTorch model trained on normalised RGB."""
    subs: dict[tuple[int, str], dict] = {}
    torch_subs: list[int] = []
    for ev in ctx.prog.events:
        n = ev.node
        if isinstance(n, ast.AugAssign) and isinstance(n.op, ast.Sub):
            var, ch = _var(n.target)
            value = vector(ctx, n.value, ev)
        elif (
            isinstance(n, ast.Assign)
            and len(n.targets) == 1
            and isinstance(n.value, ast.BinOp)
            and isinstance(n.value.op, ast.Sub)
        ):
            var, ch = _var(n.targets[0])
            value = vector(ctx, n.value.right, ev)
        else:
            if isinstance(n, ast.Assign) and len(n.targets) == 1:
                flipped = _flip_of(n.value)
                got = subs.get((ev.scope, flipped or ""))
                if flipped and got and _bgr_before_flip(got):
                    _before_flip(ctx, got, n.lineno)
            continue
        if var is None or value is None:
            continue
        per = subs.setdefault((ev.scope, var), {"lines": []})
        if ch is not None and len(value) == 1:
            per[ch] = value[0]
            per["lines"].append(n.lineno)
        elif _caffe_like(value):
            per.update({0: value[0], 1: value[1], 2: value[2]})
            per["lines"].append(n.lineno)
            torch_subs.append(n.lineno)
    if torch_subs and uses_torch(ctx):
        _caffe_on_torch(ctx, torch_subs[0])


def _bgr_before_flip(per: dict) -> bool:
    b, r = per.get(0), per.get(2)
    return (
        isinstance(b, float)
        and isinstance(r, float)
        and abs(b - CAFFE_MEAN_BGR[0]) < 2
        and abs(r - CAFFE_MEAN_BGR[2]) < 2
    )


def _before_flip(ctx: Ctx, per: dict, flip_line: int) -> None:
    ctx.add(
        "GL305",
        "preprocessing-mismatch",
        "warning",
        "The BGR channel means are subtracted before the channels are flipped to BGR",
        [*per["lines"], flip_line],
        "The means subtracted from channels 0, 1, 2 are ImageNet's in B, G, R order "
        f"({CAFFE_MEAN_BGR}), but the channels are flipped from RGB to BGR only afterwards: "
        "the blue mean is taken from the red channel and the red mean from the blue one. "
        "Caffe-converted weights (VGG16/ResNet50 'caffe' mode) then see colour-shifted inputs "
        "and predict worse.",
        "Flip first, then subtract the BGR means (what keras.applications.vgg16."
        "preprocess_input does), or simply call that preprocess_input on RGB 0..255 images.",
        [REFS["keras_apps"]],
    )


def _caffe_on_torch(ctx: Ctx, line: int) -> None:
    ts = torch_script(ctx)
    models = [
        m
        for m in ts.models
        if m.pretrained and m.kind in ("torchvision", "timm", "pretrained", "hub")
    ]
    text = "\n".join(ctx.src.lines).lower()
    if not models or "caffe" in text or "bninception" in text:
        return  # weights converted from Caffe do expect this
    m = models[0]
    ctx.add(
        "GL305",
        "preprocessing-mismatch",
        "warning",
        f"Caffe-style mean subtraction on 0..255 pixels for the PyTorch model {m.name}",
        [line, m.line],
        "The script subtracts per-channel means of the 0..255 scale (Caffe's BGR ImageNet "
        f"means, about {CAFFE_MEAN_BGR}) from raw pixels. PyTorch ImageNet weights "
        "(torchvision, timm, most PyTorch model zoos) were trained on RGB pixels scaled to "
        "[0, 1] and normalised with mean [0.485, 0.456, 0.406] and std [0.229, 0.224, "
        "0.225]: these inputs are about 50 times larger, so predictions are wrong "
        "(inferred: the model is assumed to use the standard PyTorch preprocessing).",
        "x = cv2.cvtColor(img, cv2.COLOR_BGR2RGB).astype('float32') / 255\n"
        "x = (x - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]\n"
        "x = torch.from_numpy(x.transpose(2, 0, 1)).float().unsqueeze(0)",
        [REFS["tv_models"]],
    )


_CAFFE_WEIGHTS = re.compile(r"caffe|bninception", re.I)


@check("torch.caffe_weights_unit_range")
def check_caffe_weights(ctx: Ctx) -> None:
    """GL305: weights converted from Caffe (0..255 BGR, mean subtracted) fed ToTensor()'s
    [0, 1] RGB tensors."""
    if not uses_torch(ctx):
        return
    hint = None
    for ev in ctx.prog.events:
        for n in ast.walk(ev.node) if not isinstance(ev.node, ast.For | ast.With) else []:
            text = n.value if isinstance(n, ast.Constant) and isinstance(n.value, str) else ""
            if len(text) < 300 and _CAFFE_WEIGHTS.search(text):
                hint = hint or (text, n.lineno)
    if hint is None:
        return
    for p in torch_script(ctx).pipelines:
        names = [s.name for s in p.steps]
        if "ToTensor" not in names:
            continue
        back = any(
            s.name == "Lambda" and s.node.args and "255" in ast.unparse(s.node.args[0])
            for s in p.steps
        )
        if back or not once(ctx, "norm.caffe_weights"):
            continue
        ctx.add(
            "GL305",
            "preprocessing-mismatch",
            "warning",
            "Weights converted from Caffe are fed [0, 1] RGB tensors",
            [hint[1], p.steps[names.index("ToTensor")].node.lineno],
            f"The weights come from Caffe ({hint[0]!r}). Caffe models were trained on BGR "
            "images on the 0..255 scale with only the channel means subtracted (no division "
            "by 255, no std). ToTensor() gives RGB values in [0, 1], about 255 times smaller, "
            "so the first layers see almost constant inputs and accuracy collapses (inferred "
            "from the weights' name).",
            "Reproduce the Caffe preprocessing: transforms.Lambda(lambda x: x[[2, 1, 0]] * "
            "255) after ToTensor(), then Normalize(mean=[103.939, 116.779, 123.68], std=[1, 1, "
            "1]); or use weights trained in PyTorch with the standard ImageNet transform.",
            [REFS["tv_models"]],
        )
        return
