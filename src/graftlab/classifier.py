"""``ImageClassifier``: the whole pipeline behind a scikit-learn-style estimator.

>>> clf = ImageClassifier("tf_efficientnet_lite0", strategy="lp-ft", epochs=3).fit("photos/")
>>> clf.predict(["a.jpg", "b.jpg"])
['cat', 'dog']
>>> clf.save("my_model"); same = graftlab.load("my_model")   # same predictions, bit for bit

Predictions take the path every number of the run took: pooled features under the run's
execution (device, precision, memory format, batch size, all stored in the artifact), then
the head in fp32. So ``load(path).predict_proba(x)`` equals ``clf.predict_proba(x)`` exactly
on the same machine.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from graftlab.errors import ConfigError, DataError

__all__ = ["ImageClassifier", "load"]


class ImageClassifier:
    """Transfer-learning image classifier.

    Args:
        backbone: timm model name or alias (``graftlab backbones`` lists them).
        strategy: Fine-tuning strategy (``graftlab strategies``).
        **config: Any other :class:`graftlab.finetune.TrainConfig` field (``epochs``, ``lr``,
            ``image_size``, ``weights``, ``seed``, ...).

    Attributes:
        model_: The selected timm model (eval mode).
        task_, classes_, preprocess_: Its task, class names and preprocessing.
        execution_: How predictions run (device, precision, memory format).
        run_dir_: The run directory of ``fit`` (None after ``load`` of a bare artifact).
        summary_: The run's summary (probe and fine-tune metrics, selection, timings).
    """

    def __init__(
        self, backbone: str = "tf_efficientnet_lite0", strategy: str = "lp-ft", **config: Any
    ) -> None:
        self.backbone = backbone
        self.strategy = strategy
        self.config = config

    # -- training -------------------------------------------------------------------------
    def fit(
        self,
        data: Any,
        *,
        run_dir: str | os.PathLike | None = None,
        project: str | os.PathLike = "runs",
        name: str | None = None,
        cache_dir: str | os.PathLike | None = None,
        progress: bool = True,
        verbose: bool = False,
        report: bool = True,
    ) -> ImageClassifier:
        """Train on ``data`` (folder, CSV or Dataset); writes a run directory; returns self.

        ``verbose`` prints the final table; ``report`` builds plots and report.html.
        """
        from graftlab.finetune.config import TrainConfig
        from graftlab.train import run_training

        config = TrainConfig.from_dict(
            {"backbone": self.backbone, "strategy": self.strategy, **self.config}
        )
        result = run_training(
            data,
            config,
            run_dir=run_dir,
            project=project,
            name=name,
            cache_dir=cache_dir,
            progress=progress,
            verbose=verbose,
            report=report,
        )
        self._set_fitted(
            result.model, result.task, result.classes, result.preprocess, result.execution
        )
        self.run_dir_ = result.run_dir
        self.summary_ = result.summary
        return self

    def _set_fitted(self, model, task, classes, preprocess, execution) -> None:
        self.model_ = model.eval()
        self.task_ = task
        self.classes_ = list(classes)
        self.preprocess_ = preprocess
        self.execution_ = execution
        self.run_dir_ = getattr(self, "run_dir_", None)
        self.summary_ = getattr(self, "summary_", None)

    # -- prediction -----------------------------------------------------------------------
    def predict_proba(self, images: Any, *, batch_size: int | None = None) -> np.ndarray:
        """(N, K) probabilities for image paths, PIL images or uint8 arrays (one or a list)."""
        from graftlab.features import predict_logits

        self._check_fitted()
        u8 = self._decode(images)
        logits = predict_logits(
            self.model_,
            u8,
            self.preprocess_,
            execution=self.execution_,
            batch_size=batch_size,
        )
        return self.task_.probs(torch.from_numpy(logits)).numpy()

    def predict(self, images: Any) -> list:
        """Class names; for multi-label, the list of names whose probability is >= 0.5."""
        probs = self.predict_proba(images)
        if self.task_.kind == "multilabel":
            return [[self.classes_[k] for k in np.flatnonzero(p >= 0.5)] for p in probs]
        return [self.classes_[k] for k in probs.argmax(axis=1)]

    def evaluate(
        self, data: Any = None, split: str | None = None, *, batch_size: int | None = None
    ) -> dict:
        """Metrics of the model on labelled data; ``result["scored"]`` says which images.

        On the data it was trained on (``data`` None, the run directory, or the same folder
        or CSV) the run's **test** split is scored, the images training never saw; on any
        other data **every** image. ``split`` (``train``, ``val``, ``test``, ``all``) picks
        another. Labels are matched to the model's classes by name, never by position.

        Returns:
            :func:`graftlab.evaluation.evaluate`'s result: accuracy, balanced accuracy,
            macro-F1, per-class numbers, calibration..., with ``split``, ``n`` (also as
            ``num_images``) and ``scored``.
        """
        from graftlab.evaluation import evaluate

        self._check_fitted()
        result = evaluate(self, data, split, batch_size=batch_size)
        result["num_images"] = result["n"]
        return result

    # -- persistence ----------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Write the artifact directory ``path``; :func:`graftlab.load` reads it back."""
        from graftlab.artifacts import save_artifact
        from graftlab.train import execution_dict

        self._check_fitted()
        return save_artifact(
            path,
            self.model_,
            task=self.task_,
            classes=self.classes_,
            preprocess=self.preprocess_,
            extra={"execution": execution_dict(self.execution_, self.preprocess_.input_size)},
        )

    @property
    def artifact(self) -> Any:
        """This model as an :class:`graftlab.artifacts.Artifact` (for graftlab.evaluation)."""
        from graftlab.artifacts import Artifact

        self._check_fitted()
        return Artifact(self.model_, self.task_, self.classes_, self.preprocess_)

    # -- helpers --------------------------------------------------------------------------
    def _decode(self, images: Any) -> np.ndarray:
        single = isinstance(images, str | os.PathLike | Image.Image)
        if single or (isinstance(images, np.ndarray) and images.ndim in (2, 3)):
            images = [images]
        out = []
        for i, image in enumerate(images):
            if isinstance(image, str | os.PathLike):
                out.append(self.preprocess_.load(image))
            elif isinstance(image, Image.Image):
                out.append(self.preprocess_.prepare(image))
            elif isinstance(image, np.ndarray):
                out.append(self.preprocess_.prepare(_array_to_pil(image, i)))
            else:
                raise DataError(
                    f"Image {i} is a {type(image).__name__}; pass file paths, PIL images or "
                    "uint8 arrays (H, W), (H, W, 3) or (H, W, 4)."
                )
        if not out:
            raise DataError("No images to predict.")
        return np.stack(out)

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise ConfigError(
                "This ImageClassifier is not fitted yet. Call fit(data) or graftlab.load(path)."
            )

    def __repr__(self) -> str:
        extra = "".join(f", {k}={v!r}" for k, v in self.config.items())
        return f"ImageClassifier(backbone={self.backbone!r}, strategy={self.strategy!r}{extra})"


def load(
    path: str | os.PathLike,
    *,
    device: str | None = None,
    weights: str | os.PathLike | None = None,
) -> ImageClassifier:
    """A fitted :class:`ImageClassifier` from a run directory or an artifact directory.

    Args:
        path: ``runs/train/<name>`` or ``runs/train/<name>/model``.
        device: Override the stored device (``"cpu"``, ``"cuda"``).
        weights: Other weights of the same run instead of the exported model's, with the
            run's preprocessing and execution: a file such as ``weights/best.pt`` or, with
            ``save_every_epoch``, ``weights/epoch-2.pt``, or its name in the run's
            ``weights/`` folder (``"epoch-2"``).
    """
    from graftlab.artifacts import load_artifact, load_weights
    from graftlab.hardware import Execution

    art = load_artifact(path)
    if weights is not None:
        load_weights(art.model, _weights_file(art.path, weights))
    stored = art.meta.get("execution") or {}
    dev = device or stored.get("device", "cpu")
    if dev.startswith("cuda") and not torch.cuda.is_available():
        dev = "cpu"
    execution = Execution(
        dev, stored.get("precision", "fp32"), bool(stored.get("channels_last", False))
    )
    clf = ImageClassifier(backbone=art.meta["architecture"])
    clf._set_fitted(art.model, art.task, art.classes, art.preprocess, execution)
    run = art.path.parent if art.path is not None else None
    if run is not None and (run / "summary.json").is_file():
        import json

        clf.run_dir_ = run
        clf.summary_ = json.loads((run / "summary.json").read_text())
        clf.strategy = clf.summary_.get("strategy", clf.strategy)
    return clf


def _weights_file(artifact_dir: Path | None, weights: str | os.PathLike) -> Path:
    """``weights`` as given when it exists, else that name in the run's ``weights/`` folder."""
    given = Path(weights).expanduser()
    if given.exists() or artifact_dir is None:
        return given
    folder = artifact_dir.parent / "weights"
    for candidate in (folder / given.name, folder / f"{given.name}.pt"):
        if candidate.is_file():
            return candidate
    return given  # load_weights names the missing file


def _array_to_pil(image: np.ndarray, i: int) -> Image.Image:
    if (
        image.dtype != np.uint8
        or image.ndim not in (2, 3)
        or (image.ndim == 3 and image.shape[2] not in (1, 3, 4))
    ):
        raise DataError(
            f"Image {i} is an array of dtype {image.dtype} and shape {image.shape}; expected "
            "uint8 (H, W), (H, W, 3) RGB or (H, W, 4) RGBA."
        )
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    return Image.fromarray(image).convert("RGB")
