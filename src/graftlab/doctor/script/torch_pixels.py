"""Images turned into tensors by hand (``torch.from_numpy(np.array(img))``) for a pretrained
PyTorch backbone: without ``ToTensor()`` nothing divides the pixels by 255 or normalises them.

torchvision and timm ImageNet weights take float pixels in [0, 1] normalised with the
ImageNet mean and std. A tensor built from a PIL image or an OpenCV array with
``torch.from_numpy`` / ``torch.tensor`` keeps the 0..255 values. The check only speaks when
every step between the file and the model is one it knows (loading, resizing, reshaping,
casting); any other function in between may scale the pixels and keeps it silent.
"""

from __future__ import annotations

import ast
import re

from graftlab.doctor._checks import declare
from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.common_rules import once
from graftlab.doctor.script.flow import canon, last
from graftlab.doctor.script.frameworks import uses_torch
from graftlab.doctor.script.knowledge import REFS
from graftlab.doctor.script.torch_graph import torch_script

declare(
    "GL219",
    "preprocessing-mismatch",
    "error",
    "script",
    "A pretrained PyTorch network gets raw 0..255 pixels",
    (REFS["tv_models"],),
)

_READERS = {"open", "imread", "load_img", "read_image", "decode_image"}
_TO_TENSOR = {"from_numpy", "tensor", "Tensor", "as_tensor", "FloatTensor"}
# steps that keep the pixel values as they are
_KEEP = {
    *_READERS,
    *_TO_TENSOR,
    "resize",
    "convert",
    "array",
    "asarray",
    "float",
    "double",
    "half",
    "permute",
    "transpose",
    "unsqueeze",
    "expand_dims",
    "to",
    "cuda",
    "cpu",
    "cvtColor",
    "reshape",
    "view",
    "astype",
    "stack",
    "cat",
    "type",
    "float32",
    "contiguous",
    "Resize",  # a transform of PIL images: no scaling
}


declare(
    "GL239",
    "preprocessing-mismatch",
    "error",
    "script",
    "Normalize with [0, 1] statistics applied to 0..255 pixels",
    (REFS["tv_models"],),
)

_CONVERTS = {"ToTensor", "ConvertImageDtype", "ToDtype", "Lambda", "PILToTensor", "ToImage"}
#: Steps that make a uint8 tensor of 0..255 values from a PIL image or an array.
_UINT8 = {"PILToTensor", "ToImage", "pil_to_tensor"}
#: Methods a Lambda may call to make a float tensor without scaling it.
_FLOAT_CASTS = {"float", "double", "half", "to", "type"}


def _unscaled_cast(ctx: Ctx, step) -> bool:
    """``v2.ToDtype(torch.float32)`` without ``scale=True``, or ``Lambda(lambda t:
    t.float())``: a cast to float that keeps the 0..255 values of a uint8 tensor
    (``ConvertImageDtype`` and ``ToDtype(..., scale=True)`` divide by 255)."""
    if step.name == "ToDtype":
        scale = step.kw("scale")
        return scale is None or ctx.prog.const(scale, step.ev.idx, step.ev.scope) is False
    if step.name != "Lambda" or not step.node.args:
        return False
    fn = step.node.args[0]
    if not isinstance(fn, ast.Lambda):
        return False
    body = list(ast.walk(fn.body))
    casts = [
        n
        for n in body
        if isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and n.func.attr in _FLOAT_CASTS
    ]
    return bool(casts) and not any(isinstance(n, ast.BinOp | ast.AugAssign) for n in body)


def _cast_without_scaling(ctx: Ctx, steps: list) -> tuple[int, int] | None:
    """(line of the uint8 step, line of the cast) when the steps before Normalize make a uint8
    tensor and then only cast it to float; None when a step in between scales it."""
    made = None
    for step in steps:
        if step.name in _UINT8:
            made = step
        elif made is not None and _unscaled_cast(ctx, step):
            return made.node.lineno, step.node.lineno
        elif made is not None and step.name in _CONVERTS:
            made = None  # ConvertImageDtype, ToDtype(scale=True), another Lambda: scaled
    return None


@check("torch.normalize_raw")
def check_normalize_raw(ctx: Ctx) -> None:
    """GL239: ``Compose([Normalize(mean, std)])`` (or ``Normalize(...)`` itself) applied to a
    tensor made by hand from an image file that nothing divided by 255. Normalize subtracts
    the mean and divides by the std it is given; ImageNet's (0.485, 0.229, ...) are statistics
    of [0, 1] pixels, so values up to 255 come out as roughly 0..1100."""
    if not uses_torch(ctx):
        return
    ts = torch_script(ctx)
    if _cast_in_compose(ctx, ts):
        return
    for c in ctx.prog.calls:
        if not c.node.args or not isinstance(c.node.func, ast.Name | ast.Attribute):
            continue
        pipe = ts.pipeline_of(c.node.func, c.ev)
        if pipe is None or pipe.kind != "compose":
            continue
        norm = pipe.step("Normalize")
        if norm is None or any(s.name in _CONVERTS for s in pipe.steps[: pipe.steps.index(norm)]):
            continue
        mean = ctx.prog.const(norm.arg(0, "mean"), norm.ev.idx, norm.ev.scope)
        if not (
            isinstance(mean, list | tuple)
            and mean
            and all(isinstance(v, int | float) and 0 < v < 1 for v in mean)
        ):
            continue  # statistics of 0..255 pixels (123.7, ...) are right for them
        found = hand_made_tensor(ctx, c.node.args[0], c.ev)
        if found is None or found[2] != "raw" or not once(ctx, "torch.normalize_raw"):
            continue
        read, made, _ = found
        ctx.add(
            "GL239",
            "preprocessing-mismatch",
            "error",
            "Normalize with statistics of [0, 1] pixels is applied to 0..255 pixels",
            [read, made, norm.node.lineno, c.node.lineno],
            f"The image is read from disk and made into a tensor by hand (line {made}); no "
            "step divides it by 255, so it still holds 0..255 values (uint8 from an image "
            "reader). Normalize(mean, std) then subtracts means like 0.485 and divides by "
            "stds like 0.229, statistics of pixels in [0, 1]: the result reaches about 1100 "
            "instead of about +-2, and a pretrained network's predictions are essentially "
            "the same class for every image.",
            "Scale to [0, 1] before Normalize: t = torch.from_numpy(img).permute(2, 0, 1)."
            "float().div(255), or put transforms.ToTensor() (PIL / uint8 HWC arrays) before "
            "Normalize in the Compose.",
            [REFS["tv_models"]],
        )
        return


def _imagenet_stats(ctx: Ctx, norm) -> bool:
    """Normalize's mean is a list of statistics of [0, 1] pixels (0.485, ...), not of 0..255."""
    mean = ctx.prog.const(norm.arg(0, "mean"), norm.ev.idx, norm.ev.scope)
    return (
        isinstance(mean, list | tuple)
        and bool(mean)
        and all(isinstance(v, int | float) and 0 < v < 1 for v in mean)
    )


def _cast_in_compose(ctx: Ctx, ts) -> bool:
    """GL239 inside one Compose: ``PILToTensor()`` / ``ToImage()`` (uint8), a cast to float
    that does not scale, then ``Normalize`` with [0, 1] statistics."""
    for pipe in ts.pipelines:
        norm = pipe.step("Normalize") if pipe.kind == "compose" else None
        if norm is None or not _imagenet_stats(ctx, norm):
            continue
        hit = _cast_without_scaling(ctx, pipe.steps[: pipe.steps.index(norm)])
        if hit is None or not once(ctx, "torch.normalize_raw"):
            continue
        made, cast = hit
        ctx.add(
            "GL239",
            "preprocessing-mismatch",
            "error",
            "Normalize with statistics of [0, 1] pixels is applied to 0..255 pixels",
            [made, cast, norm.node.lineno],
            f"The step on line {made} makes a uint8 tensor of 0..255 values and the cast on "
            f"line {cast} turns it into floats without dividing by 255 (v2.ToDtype scales "
            "only with scale=True; .float() never does). Normalize(mean, std) then subtracts "
            "means like 0.485 and divides by stds like 0.229, statistics of pixels in [0, 1]: "
            "the result reaches about 1100 instead of about +-2, and a pretrained network "
            "predicts essentially one class for every image.",
            "Scale while casting: v2.ToDtype(torch.float32, scale=True), or "
            "transforms.ConvertImageDtype(torch.float), or transforms.ToTensor() in place of "
            "PILToTensor() + cast.",
            [REFS["tv_models"]],
        )
        return True
    return False


@check("torch.raw_pixels")
def check_raw_pixels(ctx: Ctx) -> None:
    """GL219: a hand-made tensor of 0..255 pixels fed to a pretrained torchvision/timm model."""
    if not uses_torch(ctx):
        return
    ts = torch_script(ctx)
    backbones = [m for m in ts.models if m.pretrained and m.kind in ("torchvision", "timm")]
    if not backbones:
        return
    for c in ctx.prog.calls:
        f = c.node.func
        if not c.node.args or not isinstance(f, ast.Name | ast.Attribute):
            continue
        model = ts.model_of(f, c.ev)
        if model not in backbones:
            continue
        found = hand_made_tensor(ctx, c.node.args[0], c.ev)
        if found is None or found[2] != "raw" or not once(ctx, "torch.raw_pixels"):
            continue
        read, made, _ = found
        ctx.add(
            "GL219",
            "preprocessing-mismatch",
            "error",
            f"The pretrained {model.name} gets raw 0..255 pixels",
            [model.line, read, made, c.node.lineno],
            "The image is read from disk and turned into a tensor by hand, and no step on the "
            "way divides it by 255 or normalises it: the network receives values up to 255, "
            f"while {model.name}'s ImageNet weights expect [0, 1] pixels normalised with the "
            "ImageNet mean and std. Its activations blow up and the predictions are "
            "essentially constant, whatever the image.",
            "Use the weights' transform: x = weights.transforms()(img).unsqueeze(0), or\n"
            "tf = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), "
            "transforms.ToTensor(), transforms.Normalize([0.485, 0.456, 0.406], "
            "[0.229, 0.224, 0.225])])",
            [REFS["tv_models"]],
        )
        return


def hand_made_tensor(ctx: Ctx, node: ast.expr, at) -> tuple[int, int, str] | None:
    """(line reading the image, line making the tensor, ``"raw"`` or ``"unit"``) when ``node``
    is a tensor made by hand from an image file with only value-keeping steps on the way, and
    at most a division by 255 (``"unit"``); None otherwise."""
    read = made = 0
    scale = "raw"
    for ref in ctx.prog.deps(node, at, limit=40):
        for n in ast.walk(ref.node):
            if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Div | ast.Mult | ast.Sub):
                v = ctx.prog.const(n.right, ref.idx, ref.scope)
                if isinstance(n.op, ast.Div) and v in (255, 255.0):
                    scale = "unit"
                    continue
                return None  # a scaling or a mean subtraction of another kind
            if not isinstance(n, ast.Call):
                continue
            q = canon(ctx.prog.qualname(n.func, ref.idx, ref.scope) or "")
            name = last(q) if q else getattr(n.func, "attr", getattr(n.func, "id", ""))
            if name not in _KEEP and not _crops(ctx, n, name):
                return None  # a step whose effect on the values is not known
            if name in _READERS and (name != "open" or "Image" in q):
                read = read or n.lineno
            if name in _TO_TENSOR and (q.startswith("torch") or name == "from_numpy"):
                made = made or n.lineno
    return (read, made, scale) if read and made else None


def _crops(ctx: Ctx, n: ast.Call, name: str) -> bool:
    """A function the paste does not define whose name says it crops (``center_crop_224``):
    cropping selects pixels, it does not scale them."""
    return "crop" in name.lower() and name not in ctx.prog.functions


declare(
    "GL242",
    "train-eval-preprocessing-mismatch",
    "error",
    "script",
    "Predictions on a tensor made by hand, without the ToTensor/Normalize training applies",
    (REFS["tv_tutorial"],),
)


#: Names a paste calls its network by when it does not show where it was built.
_MODEL_NAME = re.compile(r"(?i)model|net|classifier|clf|cnn")


def _training_pipeline(ctx: Ctx):
    """The transform of the training data when it scales the pixels (``ToTensor``)."""
    ts = torch_script(ctx)
    trained = [d.pipeline for d in ts.datasets if d.role == "train" and d.pipeline is not None]
    trained += [p for p in ts.pipelines if p.role == "train"]
    return next((p for p in trained if p.step("ToTensor")), None)


@check("torch.hand_made_prediction_input")
def check_hand_made_prediction_input(ctx: Ctx) -> None:
    """GL242: the training images go through ``ToTensor()`` (and ``Normalize``); the image
    predicted is read from disk and turned into a tensor by hand, without them."""
    if not uses_torch(ctx) or any(f.code == "GL219" for f in ctx.findings):
        return
    train = _training_pipeline(ctx)
    if train is None:
        return
    ts = torch_script(ctx)
    normalised = train.step("Normalize") is not None
    for c in ctx.prog.calls:
        f = c.node.func
        if not c.node.args or not isinstance(f, ast.Name | ast.Attribute):
            continue
        model = ts.model_of(f, c.ev)
        unseen = (
            model is None
            and isinstance(f, ast.Name)
            and _MODEL_NAME.search(f.id) is not None
            and ctx.prog.lookup(f.id, c.ev.idx, c.ev.scope) is None
        )
        if model is None and not unseen:
            continue
        found = hand_made_tensor(ctx, c.node.args[0], c.ev)
        if found is None or (found[2] == "unit" and not normalised):
            continue
        if not once(ctx, "torch.hand_made_prediction_input"):
            return
        read, made, scale = found
        missing = "ToTensor()" + (" and Normalize" if normalised else "")
        if scale == "unit":
            missing = "Normalize"
        inferred = model is None or model.kind == "inferred"
        ctx.add(
            "GL242",
            "train-eval-preprocessing-mismatch",
            "warning" if inferred else "error",
            f"The image predicted skips the {missing} the training images go through",
            [train.line, read, made, c.node.lineno],
            f"The training transform (line {train.line}) turns each image into [0, 1] floats"
            + (" and normalises them with its mean and std" if normalised else "")
            + ". The image predicted here is read from disk and made a tensor by hand, "
            + (
                "divided by 255 but never normalised"
                if scale == "unit"
                else "its pixels left at 0..255"
            )
            + f": {ast.unparse(f)} sees inputs on another scale than every image it learned "
            "from, and its predictions are near constant or wrong although validation "
            "accuracy was high"
            + (
                f" (inferred: {ast.unparse(f)} is taken to be the network trained on those images)."
                if inferred
                else "."
            ),
            "Predict through the evaluation transform of training (deterministic, the same "
            "ToTensor and Normalize):\n"
            "x = eval_tf(Image.open(path).convert('RGB')).unsqueeze(0)",
            [REFS["tv_tutorial"]],
        )
        return
