"""PyTorch checks on transforms, datasets and loaders."""

from __future__ import annotations

import ast

from graftlab.doctor.script import (  # noqa: F401 (importing registers their checks)
    aug_rules,
    bn_rules,
    color_rules,
    fit_rules,
    head_rules,
    label_rules,
    leak_rules,
    norm_rules,
    trainable_rules,
)
from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.common_rules import once, resized_to
from graftlab.doctor.script.flow import CallSite, Event, Ref, canon, last
from graftlab.doctor.script.frameworks import uses_torch
from graftlab.doctor.script.keras_graph import role_of
from graftlab.doctor.script.keras_split import same_dir_finding
from graftlab.doctor.script.knowledge import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    REFS,
    TORCH_RANDOM_TRANSFORMS,
    say,
)
from graftlab.doctor.script.torch_graph import Pipeline, TorchModel, timm_or_tv_size, torch_script
from graftlab.doctor.script.torch_pixels import hand_made_tensor
from graftlab.doctor.script.torch_roles import loops_over, role_from_loaders, transform_params

# Built-in datasets that choose their part with ``split=`` (the others take ``train=``).
_SPLIT_DATASETS = {"Food101", "OxfordIIITPet", "Flowers102", "STL10", "Caltech101", "ImageNet"}
_IMAGE_READERS = {"imread", "read_image", "decode_image", "load_img"}


def normalisation(ctx: Ctx, p: Pipeline):
    """None (no Normalize), ``"?"`` (values unknown) or ((mean), (std))."""
    if p.kind == "library":
        return "library"
    norm = p.step("Normalize")
    if norm is None:
        return None
    mean = ctx.prog.const(norm.arg(0, "mean"), norm.ev.idx, norm.ev.scope)
    std = ctx.prog.const(norm.arg(1, "std"), norm.ev.idx, norm.ev.scope)
    if not (isinstance(mean, tuple | list) and isinstance(std, tuple | list)):
        return "?"
    try:
        return tuple(round(float(v), 3) for v in mean), tuple(round(float(v), 3) for v in std)
    except (TypeError, ValueError):
        return "?"


def _train_pipelines(ctx: Ctx) -> list[Pipeline]:
    ts = torch_script(ctx)
    pipes = [p for p in ts.pipelines if p.kind == "compose"]
    fed = {id(d.pipeline) for d in ts.datasets if d.pipeline is not None and d.role == "train"}
    train = [p for p in pipes if p.role == "train" or (p.role is None and id(p) in fed)]
    if train:
        return train
    if len(pipes) == 1 and pipes[0].role is None:
        return pipes
    # no name says which one trains: the one that augments does (inferred)
    return [p for p in pipes if p.role is None and p.random]


@check("torch.preprocessing")
def check_preprocessing(ctx: Ctx) -> None:
    """GL210: normalisation missing or different from what the pretrained backbone expects."""
    if not uses_torch(ctx):
        return
    ts = torch_script(ctx)
    if not ts.backbones:
        return
    bb = ts.backbones[0]
    for p in _train_pipelines(ctx):
        norm = normalisation(ctx, p)
        if norm is None and p.step("ToTensor", "ToDtype", "PILToTensor") and not p.step("Lambda"):
            _pre(
                ctx,
                bb,
                [bb.line, p.line],
                "warning",
                f"{bb.name} is fed un-normalised [0, 1] tensors",
                f"Pretrained {bb.name} weights expect inputs normalised with the ImageNet "
                f"mean/std (mean {IMAGENET_MEAN}, std {IMAGENET_STD}) for torchvision "
                "models, or the model's own data config for timm. Without Normalize every "
                "channel is shifted by about +2 standard deviations: the first layers see "
                "inputs unlike anything in pre-training, features degrade and accuracy drops.",
            )
        elif (
            isinstance(norm, tuple)
            and bb.kind == "torchvision"
            and not any(f.code == "GL212" for f in ctx.findings)  # said more precisely there
        ):
            mean, std = norm
            off = max(
                abs(a - b)
                for a, b in zip((*mean, *std), (*IMAGENET_MEAN, *IMAGENET_STD), strict=False)
            )
            if len(mean) == 3 and off > 0.02:
                _pre(
                    ctx,
                    bb,
                    [bb.line, p.step("Normalize").node.lineno],
                    "warning",
                    f"{bb.name} is normalised with mean={mean}, std={std}",
                    f"torchvision's pretrained {bb.name} was trained with mean "
                    f"{IMAGENET_MEAN} and std {IMAGENET_STD}; other statistics shift and "
                    "rescale every input channel away from what the weights expect.",
                )


def _pre(ctx: Ctx, bb: TorchModel, lines, severity: str, title: str, why: str) -> None:
    fix = (
        "Use the weights' own transforms: weights = ResNet50_Weights.DEFAULT; "
        "preprocess = weights.transforms()\nor transforms.Normalize(mean=[0.485, 0.456, 0.406], "
        "std=[0.229, 0.224, 0.225]) after ToTensor()"
        if bb.kind == "torchvision"
        else "config = timm.data.resolve_model_data_config(model)\n"
        "train_tf = timm.data.create_transform(**config, is_training=True)\n"
        "eval_tf = timm.data.create_transform(**config)"
    )
    ctx.add(
        "GL210",
        "preprocessing-mismatch",
        severity,
        title,
        lines,
        why,
        fix,
        [REFS["tv_models"], REFS["timm_data"]],
    )


@check("torch.train_eval_preprocessing")
def check_train_eval(ctx: Ctx) -> None:
    """GL211: evaluation or inference normalised differently from training."""
    if not uses_torch(ctx):
        return
    ts = torch_script(ctx)
    _untransformed_eval_sets(ctx)
    _against_config(ctx)
    trains = _train_pipelines(ctx)
    evals = [p for p in ts.pipelines if p.kind == "compose" and p.role in ("val", "test")]
    if not evals and trains and all(t.role is None for t in trains):
        # no name or use says which is which: the transform that augments trains, one without
        # random steps next to it evaluates (both inferred); one applied to an image read from
        # disk is the inference transform, judged below
        inference = {line for _, _, line in _inference_transforms(ctx)}
        evals = [
            p
            for p in ts.pipelines
            if p.kind == "compose"
            and p.role is None
            and not p.random
            and p not in trains
            and p.line not in inference
        ]
    # several training transforms are several input streams (RGB and depth images of one
    # sample, two models): an evaluation transform normalised like one of them, facing a
    # training transform that has its own evaluation partner, is that other stream's partner
    train_norms = [normalisation(ctx, t) for t in trains]
    eval_norms = [normalisation(ctx, e) for e in evals]
    for t, nt in zip(trains, train_norms, strict=True):
        for e, ne in zip(evals, eval_norms, strict=True):
            if "?" in (nt, ne) or nt == ne or (ne in train_norms and nt in eval_norms):
                continue
            if not once(ctx, "torch.train_eval", t.line, ne):
                continue  # the val and test transforms sharing one difference: one finding
            _train_eval(ctx, [t.line, e.line], f"{say(e.role)} transform", nt, ne, t.role)
        _handwritten(ctx, t, nt)
        _hand_made_inputs(ctx, t, nt)
        for call, pipe_steps, line in _inference_transforms(ctx):
            ne = pipe_steps
            if nt in ("?", "library") or ne == "?" or nt == ne:
                continue
            lines = [t.line, line, call.node.lineno]
            _train_eval(ctx, lines, "inference transform", nt, ne, t.role)


def _against_config(ctx: Ctx) -> None:
    """GL211: a model trained from an OpenMMLab-style config (``dict(type='Normalize', ...)``
    on the decoded 0..255 image) evaluated or predicted through a torchvision Compose whose
    ToTensor() first scales the pixels to [0, 1]: the statistics act on another scale."""
    configs = [c for c in norm_rules.config_normalisations(ctx) if max(c[1]) > 1.5]
    if not configs:
        return
    line, mean, std = configs[0]
    for p in torch_script(ctx).pipelines:
        names = [s.name for s in p.steps]
        norm = p.step("Normalize")
        if p.kind != "compose" or p.role == "train" or norm is None or "ToTensor" not in names:
            continue
        if names.index("ToTensor") > names.index("Normalize"):
            continue
        got = normalisation(ctx, p)
        if not isinstance(got, tuple) or len(got[0]) != 3:
            continue
        seen = tuple(round(v * 255, 1) for v in got[0]), tuple(round(v * 255, 1) for v in got[1])
        off = max(abs(a - b) / b for a, b in zip((*seen[0], *seen[1]), (*mean, *std), strict=True))
        if off <= 0.02 or not once(ctx, "torch.config_norm", p.line):
            continue
        ctx.add(
            "GL211",
            "train-eval-preprocessing-mismatch",
            "warning",
            "This transform normalises on another pixel scale than the training configuration",
            [line, norm.node.lineno],
            f"The training configuration normalises the decoded 0..255 image with mean "
            f"{list(mean)} and std {list(std)} (an OpenMMLab-style Normalize step, no "
            f"ToTensor scaling before it). This transform runs ToTensor() first, which divides "
            f"the pixels by 255, then Normalize(mean={list(got[0])}, std={list(got[1])}): on "
            f"the 0..255 scale that is mean {list(seen[0])}, std {list(seen[1])}. The network "
            "receives inputs on another scale than it was trained on (inferred: the "
            "configuration is the one that trained the weights loaded here), so its "
            "predictions differ from the toolkit's own inference on the same image.",
            "After ToTensor() give Normalize the configuration's statistics divided by 255 "
            f"(mean={[round(v / 255, 3) for v in mean]}, "
            f"std={[round(v / 255, 3) for v in std]}), or run the toolkit's own test pipeline "
            "(inference_model / the config's test_pipeline).",
            [REFS["tv_models"]],
        )


def _hand_made_inputs(ctx: Ctx, train: Pipeline, nt) -> None:
    """GL211: an image turned into a tensor by hand and divided by 255 for a model trained on
    images that Normalize() also standardised."""
    if not isinstance(nt, tuple):
        return
    ts = torch_script(ctx)
    for c in ctx.prog.calls:
        f = c.node.func
        if not c.node.args or not isinstance(f, ast.Name | ast.Attribute):
            continue
        if ts.model_of(f, c.ev) is None:
            continue
        found = hand_made_tensor(ctx, c.node.args[0], c.ev)
        if found is None or found[2] != "unit" or not once(ctx, "torch.hand_made", train.line):
            continue
        lines = [train.line, found[1], c.node.lineno]
        _train_eval(ctx, lines, "prediction tensor", nt, None, train.role)
        return


def _handwritten(ctx: Ctx, train: Pipeline, nt) -> None:
    """GL211: ``(x / 255 - m) / s`` written by hand outside the training pipeline with other
    statistics than the training Normalize."""
    if not isinstance(nt, tuple):
        return
    for ev in ctx.prog.events:
        if ctx.prog.loop_trains(ev.loops[-1]) if ev.loops else False:
            continue
        for n in ast.walk(ev.node) if not isinstance(ev.node, ast.For | ast.With) else []:
            if not (
                isinstance(n, ast.BinOp)
                and isinstance(n.op, ast.Div)
                and isinstance(n.left, ast.BinOp)
                and isinstance(n.left.op, ast.Sub)
            ):
                continue
            m = norm_rules.vector(ctx, n.left.right, ev)
            sd = norm_rules.vector(ctx, n.right, ev)
            if not m or not sd or max(m) > 1.5 or len(m) not in (1, 3) or len(sd) not in (1, 3):
                continue
            m3, s3 = tuple(m * (3 // len(m))), tuple(sd * (3 // len(sd)))
            mean, std = nt
            if len(mean) != 3:
                continue
            off = max(abs(a - b) for a, b in zip((*m3, *s3), (*mean, *std), strict=True))
            if off <= 0.02 or not once(ctx, "torch.handwritten", train.line):
                continue
            ne = (tuple(round(v, 3) for v in m3), tuple(round(v, 3) for v in s3))
            _train_eval(ctx, [train.line, n.lineno], "hand-written normalisation", nt, ne, None)
            return


def _untransformed_eval_sets(ctx: Ctx) -> None:
    """GL211: the training dataset gets a transform, the validation/test dataset built with
    the same class gets none (raw PIL/numpy pixels, 0..255, not normalised)."""
    by_class: dict[str, list] = {}
    known = {id(d.site.node): d.role for d in torch_script(ctx).datasets}
    for c in ctx.prog.calls:
        # the script's own class, the folder datasets, or a class from the poster's other
        # file whose name says it is a dataset
        own = c.name in ctx.prog.classes or "dataset" in c.name.lower()
        if not own and c.name not in ("ImageFolder", "DatasetFolder"):
            continue
        # the role its name gives, else the one its path, flags or loaders' use give
        role = role_of(ctx.prog.assigned_name(c.node) or "") or known.get(id(c.node))
        # a dataset left without a transform is wrong for any use but training
        role = role or role_from_loaders(ctx.prog, c, ("train", "val", "test"))
        pos = 1 if c.name in ("ImageFolder", "DatasetFolder") else -1
        given = c.kw("transform") if pos < 0 else c.arg(pos, "transform")
        init = ctx.prog.methods.get(c.name, {}).get("__init__") if pos < 0 else None
        for name in transform_params(init) if init is not None and given is None else ():
            given = c.kw(name)
        none = given is None or (isinstance(given, ast.Constant) and given.value is None)
        by_class.setdefault(c.name, []).append((c, role, none))
    for name, sites in by_class.items():
        train = [c for c, role, none in sites if role == "train" and not none]
        bare = [(c, role) for c, role, none in sites if role in ("val", "test") and none]
        if not train or not bare or not once(ctx, "torch.untransformed", name):
            continue  # one finding for the class, however many evaluation sets miss it
        roles = " and ".join(dict.fromkeys(say(role) for _, role in bare))
        default_none = _default_transform_is_none(ctx, name)
        ctx.add(
            "GL211",
            "train-eval-preprocessing-mismatch",
            "error" if default_none else "warning",
            f"The {roles} dataset gets no transform; the training dataset does",
            [train[0].node.lineno, *[c.node.lineno for c, _ in bare]],
            f"{name} is built with transform=... for training but without one for "
            f"{roles}: those images skip ToTensor/Normalize (raw 0..255 pixels, another "
            "layout), so the network is evaluated on inputs unlike anything it was trained on "
            "and the accuracy is wrong although training looked fine."
            + (
                ""
                if default_none
                else " (Inferred: the class's default transform is not visible in the code shown.)"
            ),
            f"Pass the evaluation transform: {name}(..., transform=eval_transform) with the "
            "same ToTensor/Normalize as training and no random augmentation.",
            [REFS["tv_tutorial"]],
        )


def _default_transform_is_none(ctx: Ctx, name: str) -> bool:
    if name in ("ImageFolder", "DatasetFolder"):
        return True
    init = ctx.prog.methods.get(name, {}).get("__init__")
    if init is None:
        return False
    args = init.args
    pairs = zip(reversed(args.args), reversed(args.defaults), strict=False)
    return any(
        a.arg == "transform" and isinstance(d, ast.Constant) and d.value is None for a, d in pairs
    )


def _inference_transforms(ctx: Ctx) -> list[tuple[CallSite, object, int]]:
    """Transforms applied to an image read from disk: (call, normalisation, transform line)."""
    ts = torch_script(ctx)
    out = []
    for c in ctx.prog.calls:
        f = c.node.func
        site = ctx.prog.call_site(f) if isinstance(f, ast.Call) else ctx.prog.origin_call(f, c.ev)
        if site is None or not c.node.args:
            continue
        pipe = next((p for p in ts.pipelines if p.site.node is site.node), None)
        if pipe is not None:
            if pipe.role == "train" or pipe.kind == "library":
                continue
            norm = normalisation(ctx, pipe)
        elif site.name in ("ToTensor", "PILToTensor"):
            norm = None
        else:
            continue
        if _reads_image(ctx, c.node.args[0], c.ev):
            out.append((c, norm, site.node.lineno))
    return out


def _reads_image(ctx: Ctx, node: ast.expr, at: Event | Ref) -> bool:
    for ref in ctx.prog.deps(node, at, limit=20):
        for n in ast.walk(ref.node):
            if isinstance(n, ast.Call):
                q = canon(ctx.prog.qualname(n.func, ref.idx, ref.scope))
                if last(q) in _IMAGE_READERS or (last(q) == "open" and "Image" in q):
                    return True
    return False


def _describe(norm) -> str:
    if norm is None:
        return "no Normalize (values in [0, 1])"
    if isinstance(norm, tuple):
        return f"Normalize(mean={norm[0]}, std={norm[1]})"
    return "the library's normalisation"


def _train_eval(ctx: Ctx, lines, what: str, nt, ne, train_role: str | None = "train") -> None:
    if any(isinstance(n, tuple) and norm_rules.malformed(*n) for n in (nt, ne)):
        return  # one side's statistics are wrong in themselves: GL212 names that cause
    inferred = train_role is None
    ctx.add(
        "GL211",
        "train-eval-preprocessing-mismatch",
        "warning" if inferred else "error",
        f"The {what} normalises differently from the training transform",
        lines,
        f"Training images get {_describe(nt)}; the {what} gives {_describe(ne)}. The network "
        "was fitted to one input distribution and is evaluated on another, so its "
        "activations shift and the evaluation accuracy (or the prediction) is wrong although "
        "training looked fine."
        + (
            " (Inferred: the transform with random augmentation is taken to be the training one.)"
            if inferred
            else ""
        ),
        "Share one normalisation:\nnormalize = transforms.Normalize(mean, std)\n"
        "train_tf = transforms.Compose([transforms.RandomResizedCrop(224), "
        "transforms.RandomHorizontalFlip(), transforms.ToTensor(), normalize])\n"
        "eval_tf = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), "
        "transforms.ToTensor(), normalize])  # use eval_tf for val, test and prediction",
        [REFS["tv_tutorial"]],
    )


def output_size(ctx: Ctx, p: Pipeline):
    size = None
    for s in p.steps:
        if s.name in ("RandomResizedCrop", "CenterCrop", "RandomCrop", "Resize"):
            v = ctx.prog.const(s.arg(0, "size"), s.ev.idx, s.ev.scope)
            if isinstance(v, int):
                v = (v, v) if s.name != "Resize" else ("short", v)
            elif isinstance(v, list | tuple) and len(v) == 1:
                v = (v[0], v[0])
            size = tuple(v) if isinstance(v, list | tuple) and len(v) == 2 else None
    return size if size and size[0] != "short" else None


_MADE_UP = frozenset({"randn", "rand", "zeros", "ones", "empty", "full"})


def _probe_size(ctx: Ctx, model: TorchModel) -> tuple[tuple[int, int], int] | None:
    """(H, W) and line of a made-up ``torch.randn(N, 3, H, W)`` batch the network is called on
    (directly, or through ``.features`` / a method of it), if any."""
    ts = torch_script(ctx)
    for c in ctx.prog.calls:
        if not c.node.args or isinstance(c.node.func, ast.Call):
            continue
        f = c.node.func
        recv = f.value if isinstance(f, ast.Attribute) else f
        while isinstance(recv, ast.Attribute):
            recv = recv.value  # model.features(x), model.forward(x)
        held = isinstance(f, ast.Attribute) and ts.model_of(f, c.ev) is model  # run.net(x)
        if (
            not held
            and ts.model_of(recv, c.ev) is not model
            and not _part_of(ctx, recv, c.ev, model)
        ):
            continue
        made = ctx.prog.origin_call(c.node.args[0], c.ev)
        if made is None or not made.qual.startswith("torch.") or made.name not in _MADE_UP:
            continue
        dims = [ctx.prog.const(a, made.ev.idx, made.ev.scope) for a in made.node.args]
        if len(dims) == 1 and isinstance(dims[0], list | tuple):
            dims = list(dims[0])
        if len(dims) == 4 and all(isinstance(d, int) for d in dims) and dims[1] in (1, 3):
            return (dims[2], dims[3]), c.node.lineno
    return None


def _part_of(ctx: Ctx, node: ast.expr, ev: Event, model: TorchModel) -> bool:
    """``node`` holds a part the network hands out (``net.get_features()``, ``net.features``)."""
    ts = torch_script(ctx)
    r = ctx.prog.origin(node, ev.idx, ev.scope)
    part = r.node.func if isinstance(r.node, ast.Call) else r.node
    if not isinstance(part, ast.Attribute) or r.node is node:
        return False
    at = ctx.prog.events[min(r.idx, len(ctx.prog.events) - 1)]
    owner = part.value
    return owner is model.site.node or ts.model_of(owner, at) is model


def _prediction_resize(ctx: Ctx, size: tuple, train_line: int) -> None:
    """GL213: an image resized by hand (PIL ``img.resize``, ``cv2.resize``) to another size
    than the training crops, then fed to the model with no transform that crops it again."""
    ts = torch_script(ctx)
    for c in ctx.prog.calls:
        if not c.node.args or isinstance(c.node.func, ast.Call):
            continue
        if ts.model_of(c.node.func, c.ev) is None and ts.guess_model(c) is None:
            continue
        refs = ctx.prog.deps(c.node.args[0], c.ev, limit=30)
        calls = [
            (n, ref)
            for ref in refs
            for n in ast.walk(ref.node)
            if isinstance(n, ast.Call) and not isinstance(n.func, ast.Call)
        ]
        at = {id(n): ctx.prog.events[min(r.idx, len(ctx.prog.events) - 1)] for n, r in calls}
        if any(ts.pipeline_of(n.func, at[id(n)]) is not None for n, _ in calls):
            continue  # a transform pipeline sizes the image again
        for n, ref in calls:
            got = resized_to(ctx, n, ref)
            if got is None or got == tuple(size) or not once(ctx, "torch.predict_size", n.lineno):
                continue
            ctx.add(
                "GL213",
                "input-size-mismatch",
                "error",
                f"Training crops are {size[0]}x{size[1]} but images are resized to "
                f"{got[0]}x{got[1]} for prediction",
                [train_line, n.lineno, c.node.lineno],
                "The image given to the model is resized by hand to another size than the "
                "training crops: the network sees objects at another scale (or fails on the "
                "shape), so predictions are worse than the validation accuracy promised.",
                f"Resize to {size[1]}x{size[0]} (PIL takes (width, height)), or better pass the "
                "image through the evaluation transform used for validation.",
                [REFS["tv_models"], REFS["timm_data"]],
            )


def _variable_crop(ctx: Ctx, p: Pipeline) -> bool:
    """The pipeline's last crop/resize takes a size that is a variable, not a constant."""
    steps = [s for s in p.steps if s.name in ("RandomResizedCrop", "CenterCrop", "RandomCrop")]
    if not steps:
        return False
    node = steps[-1].arg(0, "size")
    value = ctx.prog.const(node, steps[-1].ev.idx, steps[-1].ev.scope)
    return node is not None and not isinstance(value, int | list | tuple)


@check("torch.input_size")
def check_input_size(ctx: Ctx) -> None:
    """GL213 train/eval crops of different sizes; GL303 far from the backbone's native size."""
    if not uses_torch(ctx):
        return
    ts = torch_script(ctx)
    trains = _train_pipelines(ctx)
    evals = [p for p in ts.pipelines if p.kind == "compose" and p.role in ("val", "test")]
    for t in trains:
        st = output_size(ctx, t)
        for e in evals:
            se = output_size(ctx, e)
            if st and se is None and _variable_crop(ctx, e) and once(ctx, "torch.crop", t.line):
                ctx.add(
                    "GL213",
                    "input-size-mismatch",
                    "warning",
                    f"Training crops are fixed at {st[0]}x{st[1]}; the {say(e.role)} size is "
                    "computed",
                    [t.line, e.line],
                    f"The training transform crops to the constant {st[0]}, while the "
                    f"{say(e.role)} transform takes its size from a variable (the model's "
                    "resolution, an option): for every model whose size is not "
                    f"{st[0]} the network is trained at one scale and evaluated at another "
                    "(inferred: the variable's value is not visible in the code).",
                    "Use the same size variable in both transforms, e.g. "
                    "RandomResizedCrop(image_size) for training and Resize + "
                    "CenterCrop(image_size) for evaluation.",
                    [REFS["tv_models"], REFS["timm_data"]],
                )
            if st and se and st != se:
                ctx.add(
                    "GL213",
                    "input-size-mismatch",
                    "error",
                    f"Training crops are {st[0]}x{st[1]} but {say(e.role)} images are "
                    f"{se[0]}x{se[1]}",
                    [t.line, e.line],
                    "Features depend on the object scale the network sees; a model trained on "
                    "one input size and evaluated on another loses accuracy that it has.",
                    f"End both transforms at the same size, e.g. RandomResizedCrop({st[0]}) for "
                    f"training and Resize({int(st[0] / 0.875)}) + CenterCrop({st[0]}) for "
                    "evaluation.",
                    [REFS["tv_models"], REFS["timm_data"]],
                )
    sizes = {output_size(ctx, t) for t in trains} - {None}
    if len(sizes) == 1:
        _prediction_resize(ctx, sizes.pop(), trains[0].line)
    for bb in [m for m in ts.models if timm_or_tv_size(m)]:
        native = timm_or_tv_size(bb)
        sizes = {output_size(ctx, t) for t in trains} - {None}
        probe = _probe_size(ctx, bb)
        if probe is not None and probe[0] != (native, native):
            size, line = probe
            ctx.add(
                "GL303",
                "input-size-mismatch",
                "warning",
                f"{bb.name} is run on a {size[0]}x{size[1]} tensor; its weights were trained "
                f"at {native}x{native}",
                [bb.line, line],
                f"The input made up to try the network is {size[0]}x{size[1]}, not the "
                f"{native}x{native} the pretrained {bb.name} is built for: the feature maps "
                "come out at other sizes than the layers after them expect (a head or "
                "pooling sized for the native input fails, or sees a different grid), so "
                "the shapes printed are not those of the real model.",
                f"Try it on torch.randn(batch, 3, {native}, {native}), and resize the real "
                f"images to {native}x{native}.",
                [REFS["tv_models"], REFS["timm_data"]],
            )
            continue
        if not native or len(sizes) != 1:
            continue
        size = sizes.pop()
        if size == (native, native):
            continue
        ratio = min(size) / native
        extreme = ratio <= 0.5 or ratio >= 2
        ctx.add(
            "GL303",
            "input-size-mismatch",
            "warning" if extreme else "info",
            f"{bb.name} runs at {size[0]}x{size[1]}; its weights were trained at {native}x{native}",
            [bb.line, trains[0].line],
            f"At {ratio:.2f}x the pretraining resolution "
            + (
                "features change substantially and accuracy usually drops"
                + (
                    f": at 1/32 output stride a {size[0]}x{size[1]} image leaves a "
                    f"{max(size[0] // 32, 1)}x{max(size[1] // 32, 1)} feature map."
                    if min(size) <= 64
                    else "."
                )
                if extreme
                else "this usually works but may cost some accuracy; a trade-off, not an error."
            ),
            f"Crop to {native}x{native} (the weights' own transforms() / timm data config give "
            "the right size).",
            [REFS["tv_models"], REFS["timm_data"]],
        )


@check("torch.augmentation")
def check_augmentation(ctx: Ctx) -> None:
    """GL214: random augmentation on validation/test data."""
    if not uses_torch(ctx):
        return
    ts = torch_script(ctx)
    _comprehension_splits(ctx)
    for p in ts.pipelines:
        if p.role in ("val", "test") and p.random:
            _aug(ctx, [p.line], f"The {say(p.role)} transform is random ({', '.join(p.random)})")
    resets = any(
        isinstance(t, ast.Attribute) and t.attr == "transform"
        for ev in ctx.prog.events
        if isinstance(ev.node, ast.Assign)
        for t in ev.node.targets
    )
    for ds in ts.datasets:
        pipe = ds.pipeline
        if pipe is None or not pipe.random:
            continue
        if ds.parent is not None and ds.site.name == "random_split" and not resets:
            _aug(
                ctx,
                [ds.parent.line, ds.line],
                "random_split gives the validation subset the training augmentation",
            )
        elif ds.parent is None and ds.role in ("val", "test") and pipe.line != ds.line:
            _aug(
                ctx,
                [pipe.line, ds.line],
                f"The {say(ds.role)} dataset uses an augmenting transform "
                f"({', '.join(pipe.random)})",
            )


def _comprehension_splits(ctx: Ctx) -> None:
    """``{x: ImageFolder(join(root, x), data_transforms['train']) for x in ['train', 'val']}``:
    one transform, chosen without the split name, given to every split of the comprehension."""
    prog = ctx.prog
    for ev in prog.events:
        if isinstance(ev.node, ast.For | ast.With | ast.If):
            continue
        for n in ast.walk(ev.node):
            if not isinstance(n, ast.DictComp) or len(n.generators) != 1:
                continue
            splits = prog.const(n.generators[0].iter, ev.idx, ev.scope)
            if not isinstance(splits, list | tuple) or not any(
                isinstance(k, str) and role_of(k) in ("val", "test") for k in splits
            ):
                continue
            var = {m.id for m in ast.walk(n.generators[0].target) if isinstance(m, ast.Name)}
            ds = n.value
            if not isinstance(ds, ast.Call):
                continue
            tf = next((k.value for k in ds.keywords if k.arg == "transform"), None)
            tf = tf if tf is not None else (ds.args[1] if len(ds.args) > 1 else None)
            if tf is None or any(isinstance(m, ast.Name) and m.id in var for m in ast.walk(tf)):
                continue  # data_transforms[x]: each split its own
            random = _random_transforms(ctx, tf, ev)
            if random and once(ctx, "torch.comprehension_aug", n.lineno):
                _aug(
                    ctx,
                    [n.lineno],
                    f"Every split of the comprehension gets {ast.unparse(tf)}, which is random "
                    f"({', '.join(random)})",
                )


def _random_transforms(ctx: Ctx, node: ast.expr, at: Event) -> list[str]:
    site = ctx.prog.origin_call(node, at)
    if site is None or site.name != "Compose" or not site.node.args:
        return []
    steps = ctx.prog.origin(site.node.args[0], site.ev.idx, site.ev.scope)
    if not isinstance(steps.node, ast.List | ast.Tuple):
        return []
    out = []
    for e in steps.node.elts:
        step = ctx.prog.origin_call(e, steps)
        if step is not None and step.name in TORCH_RANDOM_TRANSFORMS:
            out.append(step.name)
    return out


def _aug(ctx: Ctx, lines, title: str) -> None:
    ctx.add(
        "GL214",
        "augmented-evaluation",
        "warning",
        title,
        lines,
        "Evaluation images are randomly cropped/flipped/jittered, so each evaluation scores "
        "different, distorted images: validation numbers are noisy and lower than the model's "
        "real accuracy, and checkpoint selection follows the noise. (random_split subsets share "
        "the parent dataset and therefore its transform.)",
        "Evaluate with a deterministic transform (Resize + CenterCrop + ToTensor + Normalize). "
        "For random_split, build two datasets over the same folder with different transforms "
        "and split their indices with one generator:\n"
        "idx = torch.randperm(n, generator=torch.Generator().manual_seed(0))\n"
        "train_ds = Subset(ImageFolder(root, train_tf), idx[:n_train])\n"
        "val_ds = Subset(ImageFolder(root, eval_tf), idx[n_train:])",
        [REFS["tv_tutorial"]],
    )


@check("torch.loaders")
def check_loaders(ctx: Ctx) -> None:
    """GL302/GL216 leakage, GL217 no shuffle, GL218 shuffled evaluation vs stored targets."""
    if not uses_torch(ctx):
        return
    ts = torch_script(ctx)
    roots = [d for d in ts.datasets if d.parent is None and isinstance(d.root, str)]
    for a in roots:
        for b in roots:
            if a.role == "train" and b.role in ("val", "test") and a.root == b.root:
                if _part(ctx, a) != _part(ctx, b):
                    continue  # CIFAR10(root, train=True) / (root, train=False): two splits
                if _part(ctx, b) is None:
                    same_dir_finding(ctx, a.root, [a.line, b.line], b.role, "torch")
                else:
                    _same_split(ctx, a, b)
    parents = {id(d.parent) for d in ts.datasets if d.parent is not None}
    for call, ds, role in ts.loaders():
        sampled = call.kw("sampler") is not None or call.kw("batch_sampler") is not None
        if role in ("val", "test") and ds is not None and ds.role == "train" and sampled:
            # indices held out of the training set by a sampler: no overlap, but the subset
            # carries the training dataset's transform
            said = any(f.code == "GL214" for f in ctx.findings)
            if ds.pipeline is not None and ds.pipeline.random and not said:
                _aug(
                    ctx,
                    [ds.pipeline.line, call.node.lineno],
                    f"The {say(role)} loader samples the training dataset, with its augmenting "
                    f"transform ({', '.join(ds.pipeline.random)})",
                )
            continue
        if (
            role in ("val", "test")
            and ds is not None
            and (ds.role == "train" or (id(ds) in parents and ds.parent is None))
        ):
            ctx.add(
                "GL216",
                "data-leakage",
                "error",
                f"The {say(role)} loader iterates over the training data",
                [ds.line, call.node.lineno],
                f"This {say(role)} DataLoader is built on "
                + (
                    "the training dataset"
                    if ds.role == "train"
                    else "the whole dataset that was split into train and validation"
                )
                + f", so the {say(role)} score includes images the model was trained on: it is "
                "optimistic and hides overfitting.",
                f"Build the {say(role)} loader on the held-out split: DataLoader(val_ds, "
                "batch_size=..., shuffle=False).",
                [REFS["torch_loader"]],
            )
        if role == "train":
            given = _shuffle_arg(call)
            shuffle = ctx.prog.const(given, call.ev.idx, call.ev.scope)
            if shuffle is True or call.kw("sampler") or call.kw("batch_sampler"):
                continue
            if (given is not None and shuffle is not False) or _shuffled_elsewhere(ctx, call):
                continue  # a value that cannot be told, or one factory for shuffled loaders too
            loops = loops_over(ctx.prog, call)
            if loops and not any(i >= 0 and ctx.prog.loop_trains(i) for i in loops):
                continue  # only iterated to extract features or evaluate: order does not matter
            root = ds.parent or ds if ds else None
            folder = root is not None and root.site.name in ("ImageFolder", "DatasetFolder")
            ctx.add(
                "GL217",
                "no-shuffle",
                "error" if folder else "warning",
                "The training DataLoader does not shuffle",
                [call.node.lineno],
                "DataLoader's default is shuffle=False, so every epoch visits the samples in "
                "stored order"
                + (
                    "; ImageFolder stores them class by class, so each batch holds one class: "
                    "the model is pulled to each class in turn, BatchNorm sees single-class "
                    "batches and training ends biased to the last classes."
                    if folder
                    else "; if that order is sorted by class or source, batches are not "
                    "representative and training oscillates."
                ),
                "DataLoader(train_ds, batch_size=..., shuffle=True, num_workers=...)",
                [REFS["torch_loader"]],
            )
        if role != "train" and _shuffled_predictions(ctx, call):
            continue
        if role in ("val", "test") and ds is not None:
            shuffle = ctx.prog.const(call.kw("shuffle"), call.ev.idx, call.ev.scope)
            if shuffle is True and _reads_targets(ctx, ds):
                cited = ctx.src.evidence(call.node.lineno)
                ctx.findings[:] = [  # GL312 saw the same loop: one cause, this finding
                    f for f in ctx.findings if not (f.code == "GL312" and cited in f.evidence)
                ]
                ctx.add(
                    "GL218",
                    "label-order-mismatch",
                    "error",
                    f"Predictions from a shuffled {say(role)} loader are compared with the "
                    "dataset's stored labels",
                    [call.node.lineno, *_reads_targets(ctx, ds)[:1]],
                    "The loader shuffles, so predictions come out in random order, while "
                    "dataset.targets / .samples are in file order: the two do not line up and "
                    "any metric computed from them is near chance.",
                    f"DataLoader({role}_ds, shuffle=False), or collect labels from the same "
                    "batches as the predictions.",
                    [REFS["torch_loader"]],
                )


def _same_split(ctx: Ctx, train, other) -> None:
    """GL302 for built-in datasets: the held-out one selects the training split, usually by
    leaving out ``train=False`` (the default is the training split)."""
    name = other.site.name
    flag = "split='test'" if name in _SPLIT_DATASETS else "train=False"
    ctx.add(
        "GL302",
        "data-leakage",
        "error",
        f"The {say(other.role)} {name} dataset reads the training split",
        [train.line, other.line],
        f"Both {name} datasets select the same split of {train.root!r}"
        + (
            f" (torchvision's default is the training split when {flag.split('=')[0]}= is "
            "not given)"
            if other.site.kw(flag.split("=")[0]) is None
            else ""
        )
        + f", so the {say(other.role)} images are the training images: the score measures "
        "memorisation and says nothing about new images.",
        f"{name}(root, {flag}, transform=...) for the {say(other.role)} set.",
        [REFS["tv_tutorial"]],
    )


def _shuffled_predictions(ctx: Ctx, call: CallSite) -> bool:
    """GL218 (inferred): a shuffled loader iterated only to predict, whose loop keeps the
    predictions (``preds.extend(...)``) and drops what identifies the samples
    (``for img, _, _ in loader``): the stored predictions are in random order."""
    if ctx.prog.const(call.kw("shuffle"), call.ev.idx, call.ev.scope) is not True:
        return False
    loops = loops_over(ctx.prog, call)
    if not loops or any(i < 0 or ctx.prog.loop_trains(i) for i in loops):
        return False
    for i in loops:
        loop = ctx.prog.events[i].node
        target = loop.target
        parts = target.elts if isinstance(target, ast.Tuple) else [target]
        used = {n.id for st in loop.body for n in ast.walk(st) if isinstance(n, ast.Name)}
        if isinstance(target, ast.Tuple):
            names = [p.id for p in parts if isinstance(p, ast.Name)]
            if len(names) != len(parts) or any(n != "_" and n in used for n in names[1:]):
                continue  # labels or ids read alongside the predictions
        elif not isinstance(target, ast.Name):
            continue
        keeps = [
            n
            for ev in ctx.prog.events_in(i + 1, ctx.prog.loop_end.get(i, i))
            for n in ast.walk(ev.node)
            if isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute)
            and n.func.attr in ("append", "extend")
            and n.args
            and _predicted(ctx, n.args[0], ev)
        ]
        if not keeps or not once(ctx, "torch.shuffled_predictions", call.node.lineno):
            continue
        cited = ctx.src.evidence(call.node.lineno)
        if any(f.code in ("GL312", "GL218") and cited in f.evidence for f in ctx.findings):
            return True  # the same loader's predictions already matched to its labels: said once
        ctx.add(
            "GL218",
            "label-order-mismatch",
            "warning",
            "Predictions are collected from a shuffled loader without the samples they belong to",
            [call.node.lineno, loop.lineno, keeps[0].lineno],
            "The loader shuffles, so batches come out in a random order, but the loop keeps "
            "only the predictions: their position in the list no longer says which sample "
            "they belong to, and whatever pairs them with the dataset's rows, files or labels "
            "afterwards pairs them with the wrong ones (inferred: the loop drops the labels "
            "and ids the dataset returns).",
            "DataLoader(dataset, batch_size=..., shuffle=False) for prediction, or collect the "
            "labels / ids from the same batches as the predictions.",
            [REFS["torch_loader"]],
        )
        return True
    return False


def _predicted(ctx: Ctx, node: ast.expr, ev: Event) -> bool:
    """``node``'s value comes from running a network (a model the script builds or loads,
    or a call named like one)."""
    ts = torch_script(ctx)
    for ref in ctx.prog.deps(node, ev, limit=25):
        at = ctx.prog.events[min(ref.idx, len(ctx.prog.events) - 1)]
        for n in ast.walk(ref.node):
            if not isinstance(n, ast.Call) or isinstance(n.func, ast.Call):
                continue
            site = ctx.prog.call_site(n)
            if ts.model_of(n.func, at) is not None or (site and ts.guess_model(site)):
                return True
    return False


def _part(ctx: Ctx, ds) -> object:
    """Which part of its root a dataset reads: folder datasets read the whole folder, the
    built-in ones (CIFAR10, MNIST, Food101 ...) the split their ``train``/``split`` argument
    selects (``train=True`` when not given); UNKNOWN-valued flags compare as unequal."""
    site = ds.site
    if site.name in ("ImageFolder", "DatasetFolder") or site.name in ctx.prog.classes:
        return None
    for kw in ("train", "split"):
        node = site.kw(kw)
        if node is not None:
            v = ctx.prog.const(node, site.ev.idx, site.ev.scope)
            return (kw, v) if isinstance(v, bool | str) else ("unknown", id(node))
    return ("split", "train") if site.name in _SPLIT_DATASETS else ("train", True)


def _reads_targets(ctx: Ctx, ds) -> list[int]:
    ts = torch_script(ctx)
    out = []
    for ev in ctx.prog.events:
        for n in ast.walk(ev.node) if not isinstance(ev.node, ast.For | ast.With) else []:
            if (
                isinstance(n, ast.Attribute)
                and n.attr in ("targets", "samples", "imgs")
                and ts.dataset_of(n.value, ev) is ds
            ):
                out.append(n.lineno)
    return out


def _shuffle_arg(call) -> ast.expr | None:
    """DataLoader's ``shuffle``, by keyword or third positional (``DataLoader(ds, 32, True)``)."""
    if call.kw("shuffle") is not None:
        return call.kw("shuffle")
    args = call.node.args
    return args[2] if len(args) > 2 and not isinstance(args[2], ast.Starred) else None


def _shuffled_elsewhere(ctx: Ctx, call) -> bool:
    """The same ``DataLoader(...)`` line run from another call of its function with a shuffle
    that resolves to True (``make_loader(root, shuffle=True)`` for training, the default False
    for validation): the flow's roles are per line, so which run trains cannot be told."""
    if not isinstance(_shuffle_arg(call), ast.Name):
        return False
    if "torch.loader_runs" not in ctx.cache:  # the runs of each DataLoader line, once a script
        runs: dict[int, list] = {}
        for o in ctx.prog.calls:
            if o.name.endswith("DataLoader"):
                runs.setdefault(id(o.node), []).append(o)
        ctx.cache["torch.loader_runs"] = runs
    return any(
        o is not call and ctx.prog.const(_shuffle_arg(o), o.ev.idx, o.ev.scope) is True
        for o in ctx.cache["torch.loader_runs"].get(id(call.node), ())
    )
