"""Colour channel order: OpenCV reads BGR, everything else reads RGB (either framework).

``cv2.imread``, ``cv2.imdecode`` and ``cv2.VideoCapture().read()`` return B, G, R; PIL,
``load_img``, imageio, matplotlib, TensorFlow's decoders and the folder loaders return R, G, B.
A model trained on one order and fed the other sees red and blue swapped. Read per input: the
data given to ``fit()`` and the data given to ``predict()`` / the model call, each traced to
where its pixels were read and whether a conversion (``cvtColor``, ``[..., ::-1]``) follows.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from graftlab.doctor._checks import declare
from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.common_rules import call_in_deps, once
from graftlab.doctor.script.flow import Event, Ref, canon, last
from graftlab.doctor.script.knowledge import REFS
from graftlab.doctor.script.torch_graph import torch_script

declare(
    "GL309",
    "train-eval-preprocessing-mismatch",
    "warning",
    "script",
    "Training and prediction images are read in different channel orders (BGR vs RGB)",
    (REFS["keras_apps"], REFS["tv_models"]),
)
declare(
    "GL310",
    "preprocessing-mismatch",
    "warning",
    "script",
    "OpenCV BGR frames fed to a model trained on RGB images",
    (REFS["keras_apps"], REFS["tv_models"]),
)

_RGB_READERS = {
    "load_img",
    "decode_jpeg",
    "decode_png",
    "decode_image",
    "read_image",
    "flow_from_directory",
    "image_dataset_from_directory",
    "ImageFolder",
}
_CONVERT = {"cvtColor", "COLOR_BGR2RGB", "reverse", "merge", "bgr2rgb", "rgb2bgr"}


def _order(ctx: Ctx, node: ast.expr | None, at: Event | Ref) -> tuple[str, int] | None:
    """("bgr" | "rgb", line of the read) for the pixels ``node`` holds, None when unknown or
    converted on the way."""
    if node is None:
        return None
    prog = ctx.prog
    found: tuple[str, int] | None = None
    for ref in prog.deps(node, at, limit=50):
        for n in ast.walk(ref.node):
            if isinstance(n, ast.Subscript) and _flips(n):
                return None
            if not isinstance(n, ast.Call):
                continue
            q = canon(prog.qualname(n.func, ref.idx, ref.scope) or "")
            name = last(q) if q else getattr(n.func, "attr", "")
            if name in _CONVERT or (isinstance(n.func, ast.Attribute) and n.func.attr in _CONVERT):
                return None
            if q in ("cv2.imread", "cv2.imdecode") or _video_read(ctx, n, ref):
                found = found or ("bgr", n.lineno)
            elif (
                name in _RGB_READERS
                or (name == "open" and "Image" in q)
                or (name == "imread" and not q.startswith("cv2"))
            ):
                found = found or ("rgb", n.lineno)
    return found


def _flips(n: ast.Subscript) -> bool:
    sl = n.slice
    for e in sl.elts if isinstance(sl, ast.Tuple) else [sl]:
        if isinstance(e, ast.Slice) and e.step is not None and "-1" in ast.unparse(e.step):
            return True
        if isinstance(e, ast.List) and [getattr(x, "value", None) for x in e.elts] == [2, 1, 0]:
            return True
    return False


def _video_read(ctx: Ctx, n: ast.Call, ref: Ref) -> bool:
    f = n.func
    if not (isinstance(f, ast.Attribute) and f.attr == "read"):
        return False
    site = ctx.prog.origin_call(f.value, ref)
    return site is not None and site.name == "VideoCapture"


def _trains(ctx: Ctx) -> list:
    return [c for c in ctx.prog.calls if c.name in ("fit", "fit_generator", "train_on_batch")]


def _predictions(ctx: Ctx) -> list:
    return [
        c
        for c in ctx.prog.calls
        if c.name in ("predict", "predict_on_batch", "predict_generator", "detect")
        and isinstance(c.node.func, ast.Attribute)
    ]


@check("common.channel_order")
def check_channel_order(ctx: Ctx) -> None:
    """GL309 training and prediction read in different channel orders; GL310 OpenCV frames
    fed to loaded weights in code that never trains."""
    trains = _trains(ctx)
    train_orders = [
        (o, c) for c in trains if (o := _order(ctx, c.arg(0, "x") or c.kw("generator"), c.ev))
    ]
    for pred in _predictions(ctx):
        got = _order(ctx, pred.arg(0, "x"), pred.ev)
        if got is None:
            continue
        for (want, line), _fit in train_orders:
            if want == got[0] or not once(ctx, "color.train_eval"):
                continue
            ctx.add(
                "GL309",
                "train-eval-preprocessing-mismatch",
                "warning",
                f"Training images are read as {want.upper()}, prediction images as "
                f"{got[0].upper()}",
                [line, got[1], pred.node.lineno],
                f"The training pixels come from a reader that returns {want.upper()} (line "
                f"{line}); the images given to {pred.name}() come from one that returns "
                f"{got[0].upper()} (line {got[1]}). cv2.imread/VideoCapture give B, G, R; PIL, "
                "load_img, imageio and TensorFlow's decoders give R, G, B. The model sees "
                "red and blue swapped at prediction time, so its outputs are off although "
                "validation looked fine (inferred: both images are fed to the same model).",
                "Convert one side: img = cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2RGB), "
                "or read both with the same library.",
                [REFS["keras_apps"]],
            )
            return
    if trains:
        return
    _bgr_training_rgb_inference(ctx)
    if not _loads_weights(ctx):
        return
    for pred in _predictions(ctx) + _model_calls(ctx):
        got = _order(ctx, pred.arg(0, "x"), pred.ev)
        if got is None or got[0] != "bgr" or not once(ctx, "color.bgr"):
            continue
        ctx.add(
            "GL310",
            "preprocessing-mismatch",
            "warning",
            "OpenCV BGR images are fed to the model without conversion to RGB",
            [got[1], pred.node.lineno],
            "The pixels are read with OpenCV, which returns B, G, R, and reach the model "
            "without cv2.cvtColor(..., cv2.COLOR_BGR2RGB). Pretrained weights (and models "
            "trained from PIL, load_img or TensorFlow decoders) expect R, G, B: red and blue "
            "are swapped, and detections and classifications degrade (inferred: the weights "
            "are assumed to be trained on RGB images).",
            "img = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB) before resizing and normalising.",
            [REFS["keras_apps"], REFS["tv_models"]],
        )
        return


#: Words of a function's or file's name that say it feeds training.
_TRAINING_WORDS = re.compile(r"train|dataset|__getitem__", re.I)


def _training_reads(ctx: Ctx, inference: int) -> list[tuple[str, int, str]]:
    """(``"bgr"`` | ``"rgb"``, line of the read, function) of OpenCV reads inside functions
    that feed training (``__getitem__``, a function or file named for training or a dataset;
    not the function holding the inference call on line ``inference``): ``"rgb"`` when the
    function converts the channels, ``"bgr"`` when it keeps OpenCV's order."""
    out = []
    for fn in (n for n in ast.walk(ctx.src.tree) if isinstance(n, ast.FunctionDef)):
        if fn.lineno <= inference <= (fn.end_lineno or fn.lineno):
            continue
        where = ctx.src.where(fn.lineno).rsplit(":", 1)[0]
        if not (_TRAINING_WORDS.search(fn.name) or _TRAINING_WORDS.search(Path(where).name)):
            continue
        video = "VideoCapture" in ast.unparse(fn)
        reads = [n for n in ast.walk(fn) if isinstance(n, ast.Call) and _opencv_read(n, video)]
        if not reads:
            continue
        flips = any(isinstance(n, ast.Subscript) and _flips(n) for n in ast.walk(fn))
        converts = flips or any(
            isinstance(n, ast.Call) and _converts_to_rgb(n) for n in ast.walk(fn)
        )
        out.append(("rgb" if converts else "bgr", reads[0].lineno, fn.name))
    return out


def _opencv_read(n: ast.Call, video: bool = False) -> bool:
    """``cv2.imread(...)``, ``cv2.imdecode(...)``, or ``<capture>.read()`` where ``video``
    says the code around opens a ``cv2.VideoCapture``."""
    f = n.func
    if not isinstance(f, ast.Attribute):
        return False
    if f.attr in ("imread", "imdecode"):
        return getattr(f.value, "id", "") == "cv2"
    return video and f.attr == "read" and not n.args


def _converts_to_rgb(n: ast.Call) -> bool:
    f = n.func
    name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
    codes = [a.attr if isinstance(a, ast.Attribute) else getattr(a, "id", "") for a in n.args]
    return name in ("bgr2rgb",) or (name == "cvtColor" and "COLOR_BGR2RGB" in codes)


def _inference_conversion(ctx: Ctx) -> tuple[int, int, int] | None:
    """(line of the OpenCV read, line of its conversion to RGB, line of the model call) of
    frames converted before they reach the model, in code that does not train."""
    calls = _predictions(ctx) + _model_calls(ctx)
    if ctx.torch:  # networks the PyTorch model tracker knows, whatever their names
        ts = torch_script(ctx)
        calls += [
            c
            for c in ctx.prog.calls
            if isinstance(c.node.func, ast.Name) and ts.model_of(c.node.func, c.ev) is not None
        ]
    for call in calls:
        x = call.arg(0, "x")
        if x is None:
            continue
        read = convert = 0
        for ref in ctx.prog.deps(x, call.ev, limit=50):
            for n in ast.walk(ref.node):
                if isinstance(n, ast.Call) and _converts_to_rgb(n):
                    convert = convert or n.lineno
                elif isinstance(n, ast.Call) and (_opencv_read(n) or _video_read(ctx, n, ref)):
                    read = read or n.lineno
        if read and convert:
            return read, convert, call.node.lineno
    return None


def _bgr_training_rgb_inference(ctx: Ctx) -> None:
    """GL309 (PyTorch style): the training data reads OpenCV frames and keeps them BGR, the
    inference code converts its frames to RGB before the model."""
    inference = _inference_conversion(ctx)
    if inference is None:
        return
    reads = _training_reads(ctx, inference[2])
    bgr = [r for r in reads if r[0] == "bgr"]
    if not bgr or any(r[0] == "rgb" for r in reads):
        return
    if not once(ctx, "color.train_eval"):
        return
    _, line, fn = bgr[0]
    _, convert, call = inference
    ctx.add(
        "GL309",
        "train-eval-preprocessing-mismatch",
        "warning",
        f"Training frames stay in OpenCV's BGR order ({fn}); the frames given to the model at "
        "inference are converted to RGB",
        [line, convert, call],
        f"{fn}() reads the training images with OpenCV, which returns B, G, R, and never "
        f"converts them, so the weights were trained on BGR input. The inference code converts "
        f"its frames to RGB (line {convert}) before the model: red and blue arrive swapped "
        "relative to training, and the predictions are wrong although validation looked fine "
        "(inferred: the function feeds training, read from its or its file's name, and both "
        "paths reach the same model).",
        "Feed the model the order it was trained on: drop the BGR-to-RGB conversion at "
        "inference for these weights, or convert in the training loader too and retrain.",
        [REFS["tv_models"]],
    )


def _loads_weights(ctx: Ctx) -> bool:
    names = {"load_weights", "load_state_dict", "load_model", "create_model", "load"}
    if any(c.name in names for c in ctx.prog.calls):
        return True
    return any(
        isinstance(k.value, ast.Constant) and k.value.value not in (None, False)
        for c in ctx.prog.calls
        for k in c.node.keywords
        if k.arg in ("weights", "pretrained")
    )


#: Methods only a network is asked for (``net.eval()``, ``net.load_state_dict(...)``).
_NETWORK_METHODS = ("eval", "load_state_dict", "state_dict", "parameters", "named_parameters")


def _model_calls(ctx: Ctx) -> list:
    """``model(x)`` calls on a name that reads as a network, or that the code uses as one
    whatever its name (``v11.load_state_dict(...)``, ``v11.eval()``): PyTorch inference."""
    used = {
        m.node.func.value.id
        for method in _NETWORK_METHODS
        for m in ctx.prog.method_calls(method)
        if isinstance(m.node.func.value, ast.Name)
    }
    out = []
    for c in ctx.prog.calls:
        f = c.node.func
        if (
            isinstance(f, ast.Name)
            and c.node.args
            and (
                f.id in used
                or any(
                    w in f.id.lower() for w in ("model", "net", "yolo", "detector", "classifier")
                )
            )
        ):
            out.append(c)
    return out


declare(
    "GL130",
    "preprocessing-mismatch",
    "warning",
    "script",
    "preprocess_input is given a PIL image, not an array",
    (REFS["keras_apps"],),
)
_PIL_READERS = {"load_img", "open"}


@check("common.preprocess_pil")
def check_preprocess_pil(ctx: Ctx) -> None:
    """GL130: ``preprocess_input(load_img(path))`` with no ``img_to_array`` / ``np.array``
    between: the Keras preprocessing functions expect a float array of pixels."""
    prog = ctx.prog
    for c in prog.calls:
        if c.name != "preprocess_input" or not c.node.args:
            continue
        src = prog.origin_call(c.node.args[0], c.ev)
        if src is None or src.name not in _PIL_READERS:
            continue
        if src.name == "open" and not src.qual.startswith("PIL"):
            continue
        if not once(ctx, "preprocess.pil", c.node.lineno):
            continue
        ctx.add(
            "GL130",
            "preprocessing-mismatch",
            "warning",
            "preprocess_input is given a PIL image, not an array",
            [src.node.lineno, c.node.lineno],
            f"{src.name}() returns a PIL image; preprocess_input scales and centres the pixels "
            "of a float array. Applied to the image object itself it does not compute the "
            "preprocessing the model was trained with (the result is not the image's pixels "
            "scaled, e.g. a constant -1 array or an error), so single predictions disagree "
            "with the generator's evaluation although the model is good.",
            "x = image.img_to_array(img)  # or np.asarray(img, dtype='float32')\n"
            "x = preprocess_input(np.expand_dims(x, 0))",
            [REFS["keras_apps"]],
        )


declare(
    "GL318",
    "train-eval-preprocessing-mismatch",
    "warning",
    "script",
    "Training images are converted to another colour space; prediction images are not",
    (REFS["keras_apps"], REFS["tv_models"]),
)
_SPACES = ("lab", "hsv", "hls", "yuv", "ycbcr", "ycrcb", "xyz", "luv", "yiq")
_SAY = {"ycbcr": "YCbCr", "ycrcb": "YCrCb", "luv": "Luv"}
#: ``lab=True``, ``to_hsv=True``: a loader's switch that converts the pixels it returns.
_SPACE_FLAG = re.compile(r"^(?:to_|use_|convert_to_|as_)?(" + "|".join(_SPACES) + r")$", re.I)
#: ``rgb2lab`` (scikit-image), ``rgb_to_hsv`` (TensorFlow, kornia), ``COLOR_BGR2LAB`` (OpenCV).
_SPACE_CALL = re.compile(r"^(?:rgb|bgr)_?(?:2|to_)(" + "|".join(_SPACES) + r")$", re.I)
_SPACE_CODE = re.compile(r"^COLOR_[A-Z]+2(" + "|".join(_SPACES) + r")(?:_FULL)?$", re.I)
_IMAGE_READS = _RGB_READERS | {"imread", "open", "imdecode", "read_file"}
#: ``hsv2rgb``, ``COLOR_HSV2BGR``: a round trip (a hue or brightness augmentation) ends in RGB.
_BACK = re.compile(r"^(?:COLOR_)?(?:" + "|".join(_SPACES) + r")_?(?:2|to_)(?:rgb|bgr)", re.I)


def _space_of(ctx: Ctx, n: ast.AST) -> str | None:
    """The colour space a call converts pixels into, or None."""
    if not isinstance(n, ast.Call):
        return None
    f = n.func
    name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
    if m := _SPACE_CALL.match(name):
        return _SAY.get(m[1].lower(), m[1].upper())
    if name == "cvtColor" and len(n.args) >= 2:
        code = n.args[1]
        code_name = code.attr if isinstance(code, ast.Attribute) else getattr(code, "id", "")
        if m := _SPACE_CODE.match(code_name):
            return _SAY.get(m[1].lower(), m[1].upper())
    if name == "convert" and n.args and isinstance(n.args[0], ast.Constant):  # PIL
        mode = str(n.args[0].value)
        return _SAY.get(mode.lower(), mode.upper()) if mode.lower() in _SPACES else None
    for k in n.keywords:
        if k.arg and (m := _SPACE_FLAG.match(k.arg)) and getattr(k.value, "value", None) is True:
            return _SAY.get(m[1].lower(), m[1].upper())
    return None


def _conversions(ctx: Ctx, node: ast.expr | None, at: Event | Ref) -> list[tuple[str, int]]:
    """(space, line) of every colour-space conversion on ``node``'s way, its functions' too."""
    if node is None:
        return []
    out = []
    for ref in ctx.prog.deps(node, at, limit=50):
        for n in ast.walk(ref.node):
            if space := _space_of(ctx, n):
                out.append((space, n.lineno))
            elif _converts_back(n):
                return []
    return out


def _converts_back_in(ev: Event) -> bool:
    """A statement that converts back to RGB (``cvtColor(hsv, COLOR_HSV2RGB)``)."""
    return any(_converts_back(m) for m in ast.walk(ev.node))


def _converts_back(n: ast.AST) -> bool:
    if not isinstance(n, ast.Call):
        return False
    names = [n.func.attr if isinstance(n.func, ast.Attribute) else getattr(n.func, "id", "")]
    names += [a.attr for a in n.args if isinstance(a, ast.Attribute)]  # cv2.COLOR_HSV2RGB
    return any(_BACK.match(x) for x in names)


def _reads_images(ctx: Ctx, node: ast.expr | None, at: Event | Ref) -> int:
    """Line where the pixels of ``node`` are read from image files, or 0."""
    if node is None:
        return 0
    return call_in_deps(ctx, node, at, _IMAGE_READS, limit=50)


def _named_for_training(name: str) -> bool:
    """``x_train``, ``train_ds``, ``Xtrain``, ``tr_images``, ``trn_x``: a word of the name
    says training."""
    words = re.split(r"[_\d]+", name.lower())
    return any(w in ("tr", "trn") or "train" in w for w in words)


def _training_conversions(ctx: Ctx) -> tuple[list[tuple[str, int]], str]:
    """Conversions the training images go through, and what links them to training: on the
    way to fit(); in the statement that produces arrays named for training (``train_x,
    val_x, ... = load(..., lab=True)``); or, when the code shown never trains, in any
    statement that prepares data (the training cell is taken to be that one)."""
    trains = _trains(ctx)
    found = [cv for c in trains for cv in _conversions(ctx, c.arg(0, "x"), c.ev)]
    if found:
        return found, ""
    trains = trains or ctx.prog.method_calls("backward")  # a PyTorch loop trains too
    named, other, items = [], [], []
    back: set[str] = set()  # __getitem__ methods that convert back to RGB: an augmentation
    for ev in ctx.prog.events:
        n = ev.node
        if ev.funcs and ev.funcs[-1].endswith(".__getitem__"):
            if _converts_back_in(ev):
                back.add(ev.funcs[-1])
            spaces = [(x, m.lineno) for m in ast.walk(n) if (x := _space_of(ctx, m))]
            items += [(x, line, ev.funcs[-1]) for x, line in spaces]
        if not isinstance(n, ast.Assign) or not isinstance(n.value, ast.Call):
            continue
        if not (space := _space_of(ctx, n.value)):
            continue
        names = [t.id for tgt in n.targets for t in ast.walk(tgt) if isinstance(t, ast.Name)]
        (named if any(_named_for_training(x) for x in names) else other).append(
            (space, n.value.lineno)
        )
    if named:
        return named, f"the converted arrays are named for training (line {named[0][1]})"
    items = [i for i in items if i[2] not in back]
    if items and trains:
        cls = items[0][2].rsplit(".", 1)[0]
        return [(x, line) for x, line, _ in items], (
            f"the Dataset {cls} converts every image it returns, and is taken to be what the "
            "training loop reads"
        )
    if other and not trains:
        return other, (
            "no training is shown; the data prepared with the conversion on line "
            f"{other[0][1]} is taken to be what the model was trained on"
        )
    return [], ""


@check("common.colour_space")
def check_colour_space(ctx: Ctx) -> None:
    """GL318: the training images are converted to LAB/HSV/YCbCr ..., the images read for
    prediction reach the model in RGB."""
    train, link = _training_conversions(ctx)
    if not train:
        return
    space, line = train[0]
    for pred in _predictions(ctx) + _model_calls(ctx):
        x = pred.arg(0, "x")
        read = _reads_images(ctx, x, pred.ev)
        if not read or _conversions(ctx, x, pred.ev) or not once(ctx, "color.space"):
            continue
        if any(pred.node.lineno == ln for _, ln in train):
            continue  # the converting call is the prediction's own input
        ctx.add(
            "GL318",
            "train-eval-preprocessing-mismatch",
            "warning",
            f"Training images are converted to {space}; the images given to the model at "
            "prediction are not",
            [line, read, pred.node.lineno],
            f"The training pixels are converted to the {space} colour space (line {line}); the "
            f"image read on line {read} reaches the model without that conversion, as RGB. The "
            f"channels then mean other things than in training ({space} puts lightness or hue "
            "where RGB has red), so predictions are wrong, often the same class for every "
            "image, although test accuracy was high (inferred: the predicting model is taken "
            "to be the one trained on those images" + (f"; {link}" if link else "") + ").",
            f"Convert prediction images exactly as the training images were (to {space}, with "
            "the same scaling and resizing), e.g. with the loader's own conversion function, "
            "or put the conversion inside the model so no caller can skip it.",
            [REFS["keras_apps"], REFS["tv_models"]],
        )
        return
