"""Export a saved model to ONNX or TorchScript with its preprocessing inside the graph.

The exported graph's contract, the same for both formats:

* **input** ``images``: ``uint8``, **NHWC** ``(N, H, W, 3)``, RGB, ``H = W = input_size`` of the
  artifact; the batch axis is dynamic. NHWC is what every decoder hands out (PIL, OpenCV after
  BGR→RGB, ``Preprocess.load``), so a consumer passes decoded pixels without transposing.
* **inside the graph**: cast to float, ``/ 255``, ``(x - mean) / std`` with the backbone's own
  mean and std, NHWC→NCHW, the network, then softmax (single-label) or sigmoid (multi-label).
* **output** ``probs``: ``float32 (N, K)``, columns in the order of ``classes``.

Resizing is left to the caller, because resizing inside a graph is slow and differs between
runtimes. To feed the graph exactly what ``graftlab predict`` feeds the network::

    prep = Preprocess.from_dict(meta["preprocessing"])     # or graftlab.load(run).preprocess
    u8 = center_crop(prep.load(path), prep.input_size)     # resize shorter side, centre crop
    probs = session.run(None, {"images": u8[None]})[0]

Without graftlab: resize the shorter side to ``floor(input_size / crop_pct)`` with the
artifact's interpolation, then centre-crop ``input_size`` (both in the ONNX metadata,
``graftlab.preprocessing``).

ONNX export uses PyTorch's ``torch.export``-based exporter (``dynamo=True``; the default since
PyTorch 2.9, and the maintained one). Opsets below 18, which it cannot write, and models it
fails on go through the legacy TorchScript-based exporter instead; the result says which ran.
"""

from __future__ import annotations

import contextlib
import io
import json
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from graftlab.errors import ArtifactError, ConfigError

FORMATS = ("onnx", "torchscript")
INPUT_NAME = "images"
OUTPUT_NAME = "probs"
#: Lowest opset the torch.export-based exporter writes; lower ones need the legacy exporter.
DYNAMO_MIN_OPSET = 18
#: Images used by ``verify`` when none are given.
VERIFY_IMAGES = 8


class ExportWrapper(torch.nn.Module):
    """uint8 NHWC RGB images at the model's input size → probabilities (see the module doc)."""

    def __init__(
        self,
        model: torch.nn.Module,
        mean: tuple[float, float, float],
        std: tuple[float, float, float],
        activation: str,
    ) -> None:
        super().__init__()
        if activation not in ("softmax", "sigmoid"):
            raise ArtifactError(f"Unknown head activation {activation!r}.")
        self.model = model
        self.activation = activation
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = images.permute(0, 3, 1, 2).float() / 255.0
        logits = self.model((x - self.mean) / self.std).float()
        return torch.sigmoid(logits) if self.activation == "sigmoid" else logits.softmax(dim=1)


@dataclass
class ExportResult:
    """What :func:`export` wrote and how well it agrees with PyTorch."""

    path: Path
    format: str
    exporter: str
    opset: int | None
    input_shape: list[Any]
    verify: dict | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {**asdict(self), "path": str(self.path)}


def center_crop(u8: np.ndarray, size: int) -> np.ndarray:
    """Centre-crop ``(..., S, S, 3)`` uint8 images to ``(..., size, size, 3)``.

    Offsets are rounded as torchvision's ``center_crop`` rounds them, which is what
    ``Preprocess.eval_batch`` does to the output of ``Preprocess.load``.
    """
    h, w = u8.shape[-3], u8.shape[-2]
    if h < size or w < size:
        raise ConfigError(f"Cannot centre-crop {h}x{w} images to {size}x{size}.")
    top, left = round((h - size) / 2.0), round((w - size) / 2.0)
    return u8[..., top : top + size, left : left + size, :]


def build_wrapper(artifact: Any) -> ExportWrapper:
    """The exported module for a loaded artifact: preprocessing + network + activation."""
    from graftlab.evaluation._inference import task_kind

    prep = artifact.preprocess
    activation = "sigmoid" if task_kind(artifact) == "multilabel" else "softmax"
    model = artifact.model.eval()
    return ExportWrapper(model, tuple(prep.mean), tuple(prep.std), activation).eval()


def default_path(artifact: Any, fmt: str) -> Path:
    """``RUN/model.onnx`` (or ``.torchscript.pt``) beside the artifact directory ``RUN/model``."""
    path = getattr(artifact, "path", None)
    if path is None:
        raise ConfigError("This model was not loaded from a directory; pass --out FILE.")
    suffix = ".onnx" if fmt == "onnx" else ".torchscript.pt"
    return Path(path).parent / f"{Path(path).name}{suffix}"


def export(
    model_or_path: Any,
    format: str = "onnx",
    out: str | Path | None = None,
    *,
    opset: int | None = None,
    verify: bool = False,
    verify_images: np.ndarray | None = None,
) -> ExportResult:
    """Export a model to ONNX or TorchScript (the graph contract is in the module docstring).

    Args:
        model_or_path: A run directory, a model directory or a loaded model.
        format: ``onnx`` or ``torchscript``.
        out: The file to write; default ``RUN/model.onnx`` or ``RUN/model.torchscript.pt``.
        opset: ONNX opset; default the exporter's (20 with PyTorch 2.14).
        verify: Run the exported file (ONNX Runtime, or the TorchScript loader) and PyTorch on
            the same images and report the largest absolute probability difference.
        verify_images: uint8 ``(N, H, W, 3)`` images for ``verify``; default up to 8 images
            of the run's manifest, else random pixels.

    Raises:
        ConfigError: Unknown format, or an opset for TorchScript.
        SetupError: ONNX export without the ``export`` extra installed.
    """
    from graftlab.evaluation._inference import as_artifact

    if format not in FORMATS:
        from graftlab.errors import unknown_name

        raise unknown_name("export format", format, FORMATS)
    if opset is not None and format != "onnx":
        raise ConfigError("--opset applies to ONNX only.")
    if opset is not None and not 7 <= opset <= 25:
        raise ConfigError(f"'opset' must be an ONNX opset between 7 and 25. Got {opset}.")
    if format == "onnx":
        from graftlab.errors import require_extra

        modules = ["onnx", "onnxscript"] + (["onnxruntime"] if verify else [])
        require_extra("export", modules, "ONNX export" + (" with --verify" if verify else ""))
    artifact = as_artifact(model_or_path)
    out = Path(out) if out is not None else default_path(artifact, format)
    out.parent.mkdir(parents=True, exist_ok=True)
    wrapper = build_wrapper(artifact)
    size = int(artifact.preprocess.input_size)
    example = torch.randint(0, 256, (2, size, size, 3), dtype=torch.uint8)
    if format == "onnx":
        result = _export_onnx(wrapper, example, out, opset)
        _add_onnx_metadata(out, artifact)
    else:
        result = _export_torchscript(wrapper, example, out, artifact)
    if verify:
        images, source = (
            (verify_images, "given") if verify_images is not None else sample_images(artifact)
        )
        result.verify = verify_export(out, format, wrapper, images)
        result.verify["images"] = source
        if source == "manifest":
            result.verify.update(_agreement_with_predict(out, format, artifact))
    return result


def _export_onnx(wrapper: ExportWrapper, example: torch.Tensor, out: Path, opset: int | None):
    notes = []
    if opset is None or opset >= DYNAMO_MIN_OPSET:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch.onnx.export(
                    wrapper,
                    (example,),
                    str(out),
                    dynamo=True,
                    input_names=[INPUT_NAME],
                    output_names=[OUTPUT_NAME],
                    dynamic_shapes={INPUT_NAME: {0: torch.export.Dim("batch", min=1)}},
                    opset_version=opset,
                    external_data=False,
                    verbose=False,
                )
            return _onnx_result(out, "dynamo", notes)
        except Exception as exc:  # the exporter raises many types; the legacy path may still work
            notes.append(f"torch.export-based exporter failed ({type(exc).__name__}: {exc})")
    else:
        notes.append(f"opset {opset} < {DYNAMO_MIN_OPSET}: used the TorchScript-based exporter")
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        torch.onnx.export(
            wrapper,
            (example,),
            str(out),
            dynamo=False,
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
            opset_version=opset or 17,
        )
    return _onnx_result(out, "torchscript-based", notes)


def _onnx_result(out: Path, exporter: str, notes: list[str]) -> ExportResult:
    import onnx

    model = onnx.load(str(out), load_external_data=False)
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)
    dims = model.graph.input[0].type.tensor_type.shape.dim
    shape = [d.dim_param or d.dim_value for d in dims]
    return ExportResult(out, "onnx", exporter, opset, shape, notes=notes)


def _metadata(artifact: Any) -> dict[str, str]:
    from graftlab.evaluation._inference import task_kind

    prep = artifact.preprocess
    meta = getattr(artifact, "meta", {}) or {}
    preprocessing = meta.get("preprocessing") or prep.to_dict()
    return {
        "graftlab.classes": json.dumps(list(artifact.classes)),
        "graftlab.task": task_kind(artifact),
        "graftlab.architecture": str(meta.get("architecture", "")),
        "graftlab.preprocessing": json.dumps(preprocessing),
        "graftlab.input": (
            f"uint8 NHWC RGB (N, {prep.input_size}, {prep.input_size}, 3); resize the shorter "
            "side to floor(input_size / crop_pct), centre crop input_size"
        ),
        "graftlab.output": "float32 (N, K) probabilities in the order of graftlab.classes",
    }


def _add_onnx_metadata(path: Path, artifact: Any) -> None:
    import onnx

    model = onnx.load(str(path))
    for key, value in _metadata(artifact).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, str(path))


def _export_torchscript(
    wrapper: ExportWrapper, example: torch.Tensor, out: Path, artifact: Any
) -> ExportResult:
    # torch.jit is deprecated in favour of torch.export but is still the format C++/mobile
    # consumers load without Python; tracing the same wrapper keeps one input contract.
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(wrapper, example, check_trace=False)
        extra = {"graftlab.json": json.dumps(_metadata(artifact))}
        torch.jit.save(traced, str(out), _extra_files=extra)
    size = int(artifact.preprocess.input_size)
    return ExportResult(out, "torchscript", "torch.jit.trace", None, ["N", size, size, 3])


def sample_images(artifact: Any, n: int = VERIFY_IMAGES) -> tuple[np.ndarray, str]:
    """Up to ``n`` centre-cropped images of the run's manifest (test split first), else random.

    Returns:
        uint8 ``(n, H, W, 3)`` and ``"manifest"`` or ``"random"``.
    """
    size = int(artifact.preprocess.input_size)
    images = []
    for path in _manifest_paths(artifact)[: 4 * n]:
        with contextlib.suppress(Exception):
            images.append(center_crop(artifact.preprocess.load(path), size))
        if len(images) == n:
            return np.stack(images), "manifest"
    if images:
        return np.stack(images), "manifest"
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (n, size, size, 3), dtype=np.uint8), "random"


def _manifest_paths(artifact: Any) -> list[str]:
    from graftlab.evaluation._inference import run_dir_of

    run = run_dir_of(artifact)
    if run is None:
        return []
    try:
        from graftlab.data.dataset import Dataset

        ds = Dataset.load_manifest(run / "manifest.csv")
    except Exception:  # a damaged manifest only means random images for the check
        return []
    order = {"test": 0, "val": 1, "train": 2}
    return [r.path for r in sorted(ds.records, key=lambda r: order.get(r.split, 3))]


def run_exported(path: Path, format: str, images: np.ndarray) -> np.ndarray:
    """Probabilities of the exported file for uint8 NHWC ``images``."""
    if format == "onnx":
        import onnxruntime as ort

        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return session.run([OUTPUT_NAME], {INPUT_NAME: np.ascontiguousarray(images)})[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit's deprecation notice
        loaded = torch.jit.load(str(path), map_location="cpu")
    with torch.no_grad():
        return loaded(torch.from_numpy(np.ascontiguousarray(images))).numpy()


def verify_export(path: Path, format: str, wrapper: ExportWrapper, images: np.ndarray) -> dict:
    """Largest absolute probability difference between the exported file and PyTorch."""
    images = np.asarray(images, dtype=np.uint8)
    exported = run_exported(path, format, images)
    with torch.inference_mode():
        reference = wrapper(torch.from_numpy(images.copy())).numpy()
    diff = np.abs(exported.astype(np.float64) - reference.astype(np.float64))
    return {
        "max_abs_diff": float(diff.max()),
        "n_images": len(images),
        "same_top1": bool((exported.argmax(1) == reference.argmax(1)).all()),
    }


def _agreement_with_predict(path: Path, format: str, artifact: Any) -> dict:
    """Exported file fed as documented (load + centre crop) vs ``graftlab predict`` itself.

    This checks the consumer recipe, not only the exporter: a centre crop that is one pixel
    off, or normalisation done twice, shows up here.
    """
    from graftlab.evaluation._inference import predict_files
    from graftlab.hardware import Execution

    paths = _manifest_paths(artifact)[:VERIFY_IMAGES]
    # fp32 on the CPU, like the export: a run measured in bf16 would otherwise differ by
    # bf16 rounding, which says nothing about the export.
    preds = predict_files(artifact, paths, execution=Execution("cpu", "fp32", False))
    kept = [p for p, ok in zip(paths, preds.ok, strict=True) if ok]
    if not kept:
        return {}
    size = int(artifact.preprocess.input_size)
    images = np.stack([center_crop(artifact.preprocess.load(p), size) for p in kept])
    exported = run_exported(path, format, images)
    return {"max_abs_diff_vs_predict": float(np.abs(exported - preds.probs).max())}
