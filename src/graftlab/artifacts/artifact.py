"""The model artifact: weights, the exact preprocessing, class names and the head spec.

``DIR/model.safetensors`` holds the whole timm model with its classifier reset to K outputs;
``DIR/graftlab.json`` says how to rebuild and feed it. Loading rebuilds the architecture with
random weights (no download) and loads every tensor strictly, so the head that was trained is
the head that is loaded (DESIGN.md section 2) and predictions are reproduced bit-for-bit.
"""

from __future__ import annotations

import datetime as _dt
import json
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from graftlab._io import atomic_path, write_json
from graftlab.errors import ArtifactError
from graftlab.finetune.task import Task

#: Bump when graftlab.json or the weights layout changes in a way older readers cannot follow.
FORMAT_VERSION = 1
META_FILE = "graftlab.json"
WEIGHTS_FILE = "model.safetensors"


@dataclass
class Artifact:
    """A loaded artifact: the model in eval mode and everything needed to feed it."""

    model: torch.nn.Module
    task: Task
    classes: list[str]
    preprocess: Any  # graftlab.data.transforms.Preprocess
    meta: dict = field(default_factory=dict)
    path: Path | None = None


def resolve_artifact_dir(path: str | Path) -> Path:
    """The artifact directory for ``path``: itself, or ``path/model`` for a run directory."""
    path = Path(path).expanduser()
    for candidate in (path, path / "model"):
        if (candidate / META_FILE).is_file():
            return candidate
    if not path.exists():
        raise ArtifactError(f"No such run or model directory: {path}.")
    raise ArtifactError(
        f"{path} is neither a graftlab model directory (no {META_FILE}) nor a run directory "
        f"(no model/{META_FILE}). Pass runs/train/<name> or runs/train/<name>/model."
    )


def save_artifact(
    path: str | Path,
    model: torch.nn.Module,
    *,
    task: Task,
    classes: list[str],
    preprocess: Any,
    weights: dict | None = None,
    extra: dict | None = None,
) -> Path:
    """Write ``model`` and its metadata to the directory ``path``; returns the directory.

    Each file is written atomically and ``graftlab.json`` last, so a directory with a
    readable ``graftlab.json`` always has complete weights beside it.
    """
    from safetensors.torch import save_file

    from graftlab import __version__

    path = Path(path)
    classifier = model.get_classifier()
    if not isinstance(classifier, torch.nn.Linear) or classifier.out_features != task.num_outputs:
        raise ArtifactError(
            f"The model's classifier is {classifier!r}; the task needs a Linear layer with "
            f"{task.num_outputs} outputs. Call model.reset_classifier({task.num_outputs}) first."
        )
    if len(classes) != task.num_outputs:
        raise ArtifactError(f"{len(classes)} class names for {task.num_outputs} output units.")
    architecture = getattr(model, "graftlab_name", None) or model.pretrained_cfg["architecture"]
    pretrained = weights if weights is not None else getattr(model, "graftlab_weights", {}) or {}
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    meta = {
        "format_version": FORMAT_VERSION,
        "graftlab_version": __version__,
        "architecture": architecture,
        "task": task.kind,
        "task_spec": task.to_dict(),
        "classes": list(classes),
        "head": task.head_spec(classifier.in_features),
        "weights": {"source": pretrained.get("source"), "sha256": pretrained.get("sha256")},
        "preprocessing": {
            **preprocess.to_dict(),
            "channel_order": "RGB",
            "input_dtype": "uint8",
        },
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        **(extra or {}),
    }
    path.mkdir(parents=True, exist_ok=True)
    with atomic_path(path / WEIGHTS_FILE) as tmp:
        save_file(state, str(tmp), metadata={"format": "pt", "architecture": architecture})
    write_json(path / META_FILE, meta)
    return path


def read_meta(path: str | Path) -> dict:
    """Read and check ``graftlab.json`` of an artifact (or run) directory."""
    path = resolve_artifact_dir(path)
    try:
        meta = json.loads((path / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"{path / META_FILE} is not readable JSON ({exc}).") from None
    version = meta.get("format_version") if isinstance(meta, dict) else None
    if not isinstance(version, int) or isinstance(version, bool):
        raise ArtifactError(
            f"{path / META_FILE} has no valid 'format_version' (got {version!r}); it was not "
            "written by graftlab.save or is damaged."
        )
    if version > FORMAT_VERSION:
        raise ArtifactError(
            f"{path} has format_version {version}, written by graftlab "
            f"{meta.get('graftlab_version', '?')}; this graftlab reads format_version "
            f"{FORMAT_VERSION} and older. Upgrade: pip install -U graftlab."
        )
    if version < 1:
        raise ArtifactError(f"{path} has unknown format_version {version}.")
    missing = [
        k for k in ("architecture", "task", "classes", "head", "preprocessing") if k not in meta
    ]
    if missing:
        raise ArtifactError(f"{path / META_FILE} lacks {', '.join(missing)}; it is damaged.")
    return meta


def load_artifact(path: str | Path, *, device: str | torch.device = "cpu") -> Artifact:
    """Rebuild the model of an artifact (or run) directory and load its weights strictly."""
    import timm
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from graftlab.data.transforms import Preprocess

    path = resolve_artifact_dir(path)
    meta = read_meta(path)
    head = meta["head"]
    try:
        model = timm.create_model(
            meta["architecture"], pretrained=False, num_classes=head["out_features"]
        )
    except RuntimeError as exc:  # timm: unknown model
        raise ArtifactError(f"{path}: cannot build {meta['architecture']!r} ({exc}).") from None
    try:
        state = load_file(str(path / WEIGHTS_FILE))
    except (OSError, SafetensorError) as exc:
        raise ArtifactError(f"{path / WEIGHTS_FILE} cannot be read ({exc}).") from None
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    found = {k: tuple(v.shape) for k, v in state.items()}
    if expected != found:
        diff = sorted(k for k in expected.keys() | found.keys() if expected.get(k) != found.get(k))
        detail = ", ".join(f"{k}: {found.get(k)} vs {expected.get(k)}" for k in diff[:3])
        raise ArtifactError(
            f"{path / WEIGHTS_FILE} does not match {meta['architecture']} with "
            f"{head['out_features']} outputs ({len(diff)} tensors differ; stored vs expected: "
            f"{detail})."
        )
    model.load_state_dict(state, strict=True)
    model.graftlab_name = meta["architecture"]
    model.graftlab_weights = dict(meta.get("weights") or {})
    model.to(device).eval()
    task = Task.from_dict(
        meta.get("task_spec") or {"kind": meta["task"], "num_outputs": head["out_features"]}
    )
    prep = {
        k: v for k, v in meta["preprocessing"].items() if k not in ("channel_order", "input_dtype")
    }
    return Artifact(model, task, list(meta["classes"]), Preprocess.from_dict(prep), meta, path)


def load_weights(model: torch.nn.Module, path: str | Path) -> dict:
    """Load a run's weights file into ``model`` (strictly) and return the file's other entries.

    ``path`` is ``weights/best.pt``, ``weights/last.pt`` (its current weights) or, written
    with ``save_every_epoch``, ``weights/epoch-N.pt``; ``model`` is the run's architecture
    with its head, as :func:`load_artifact` rebuilds it. Read with ``weights_only=True``:
    graftlab never unpickles objects.
    """
    from graftlab.finetune.callbacks import EPOCH_FORMAT
    from graftlab.finetune.trainer import CHECKPOINT_FORMAT

    path = Path(path)
    formats = ("graftlab-best", EPOCH_FORMAT, CHECKPOINT_FORMAT)
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, OSError, RuntimeError, EOFError, ValueError) as exc:
        first = (str(exc).splitlines() or [""])[0]  # a pickle of objects is refused here too
        raise ArtifactError(
            f"Cannot read the weights file {path} ({type(exc).__name__}: {first}). "
            "Pass a RUN/weights/*.pt file that graftlab train wrote."
        ) from None
    if not isinstance(saved, dict) or saved.get("format") not in formats:
        found = saved.get("format") if isinstance(saved, dict) else type(saved).__name__
        raise ArtifactError(
            f"{path} is not a graftlab weights file (format {found!r}, expected one of "
            f"{', '.join(formats)}). Pass RUN/weights/best.pt, last.pt or epoch-N.pt."
        )
    try:
        model.load_state_dict(saved["model"], strict=True)
    except RuntimeError as exc:
        raise ArtifactError(
            f"{path} does not fit this model ({str(exc).splitlines()[0]}); load it into the "
            "model of the run that wrote it."
        ) from None
    return {k: v for k, v in saved.items() if k != "model"}
