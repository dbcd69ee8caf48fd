"""Doctor monitors: trainer callbacks that notice a failing run while it happens.

Each monitor appends :class:`Finding` objects to ``trainer.findings``, at most once per code,
and an ``error`` stops training (``trainer.stop_training = True``) unless ``stop=False``: there
is no point in finishing 50 epochs of a model that predicts one class.

What a monitor reads from the trainer (graftlab.finetune.Trainer; any object with these works):
``model``, ``task`` (``num_outputs``, ``kind``), ``strategy`` (``set_train_mode``),
``preprocess`` (``eval_batch``), ``train``/``val`` (uint8 images, labels), ``predict_proba``,
``findings``, ``stop_training``; ``on_batch_end`` logs (``loss``, optionally ``grad_norm``) and
``on_epoch_end`` logs (``val_accuracy``, ``val_balanced_accuracy``, ...).
"""

from __future__ import annotations

import contextlib
import math
from collections import deque
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch import nn

from graftlab.doctor._checks import REFS, fix_batchnorm, fix_divergence, fix_unfreeze, make
from graftlab.doctor.findings import Finding
from graftlab.finetune.callbacks import Callback

_BN = nn.modules.batchnorm._BatchNorm
#: Images of the fixed probe batch; enough for a stable estimate, small next to an epoch.
PROBE_IMAGES = 64


class Monitor(Callback):
    """Base of the doctor monitors: report each code once, stop on errors if asked.

    Args:
        stop: Set ``trainer.stop_training`` when this monitor reports an error.
    """

    order = -10  # before Checkpoint, so that last.pt records the stop

    def __init__(self, *, stop: bool = True) -> None:
        self.stop = stop
        self._reported: set[str] = set()

    def report(self, trainer: Any, finding: Finding) -> None:
        if finding.code in self._reported:
            return
        self._reported.add(finding.code)
        findings = getattr(trainer, "findings", None)
        if findings is None:
            findings = trainer.findings = []
        findings.append(finding)
        if finding.severity == "error" and self.stop:
            trainer.stop_training = True


def default_monitors() -> list[Monitor]:
    """The monitors the graftlab trainer runs on every fine-tuning run."""
    return [
        InitLossMonitor(),
        GradientMonitor(),
        ConstantPredictionMonitor(),
        TrivialAccuracyMonitor(),
        BNModeGapMonitor(),
        FeatureDriftMonitor(),
    ]


# -- helpers ------------------------------------------------------------------------------


def _num_classes(trainer: Any) -> int | None:
    task = getattr(trainer, "task", None)
    k = getattr(task, "num_outputs", None)
    return int(k) if k else None


def _single_label(trainer: Any) -> bool:
    return getattr(getattr(trainer, "task", None), "kind", "multiclass") != "multilabel"


def _labels(split: Any) -> np.ndarray | None:
    if split is None:
        return None
    y = np.asarray(split[1])
    return y if y.ndim == 1 else None


def _probe(trainer: Any, split: str, n: int = PROBE_IMAGES) -> tuple[torch.Tensor, Any] | None:
    """A fixed, evenly spaced batch of preprocessed images (eval transform) and their labels."""
    data, pre = getattr(trainer, split, None), getattr(trainer, "preprocess", None)
    if data is None or pre is None or not hasattr(pre, "eval_batch"):
        return None
    images, labels = data
    idx = np.unique(np.linspace(0, len(images) - 1, num=min(n, len(images))).astype(int))
    u8 = torch.from_numpy(np.ascontiguousarray(np.asarray(images)[idx]))
    y = np.asarray(labels)[idx] if labels is not None else None
    return pre.eval_batch(u8), y


def _device(model: nn.Module) -> torch.device:
    return next((p.device for p in model.parameters()), torch.device("cpu"))


def _logits(out: Any) -> torch.Tensor:
    if hasattr(out, "logits"):
        out = out.logits
    return out[0] if isinstance(out, (tuple, list)) else out


@contextlib.contextmanager
def _untouched(model: nn.Module) -> Iterator[None]:
    """Restore module modes and buffers (BatchNorm statistics) after a diagnostic forward."""
    modes = [(m, m.training) for m in model.modules()]
    buffers = [(b, b.detach().clone()) for b in model.buffers()]
    try:
        yield
    finally:
        for m, mode in modes:
            m.training = mode
        with torch.no_grad():
            for b, saved in buffers:
                b.copy_(saved)


# -- predictions ------------------------------------------------------------------------------


class ConstantPredictionMonitor(Monitor):
    """Every validation prediction is the same class for ``patience`` epochs in a row.

    The cheap signal is in the epoch's logs: predicting one class gives a balanced accuracy of
    exactly 1/K. It is confirmed on up to ``max_images`` validation images with
    ``trainer.predict_proba`` (or ``logs["val_probs"]`` when the trainer provides them).
    """

    def __init__(self, *, patience: int = 2, max_images: int = 512, stop: bool = True) -> None:
        super().__init__(stop=stop)
        self.patience = patience
        self.max_images = max_images
        self._streak: list[tuple[int, int, float]] = []

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, Any]) -> None:
        k = _num_classes(trainer)
        if not k or k < 2 or not _single_label(trainer):
            return
        predicted = self._single_class(trainer, logs, k)
        if predicted is None:
            self._streak = []
            return
        self._streak.append((logs.get("epoch", epoch + 1), predicted, logs.get("val_accuracy")))
        if len(self._streak) < self.patience:
            return
        classes = getattr(getattr(trainer, "task", None), "classes", None)
        name = repr(classes[predicted]) if classes and predicted < len(classes) else predicted
        rows = "\n".join(
            f"  epoch {e}: every validation image predicted as class {name}; val_accuracy {acc:.4f}"
            if acc is not None
            else f"  epoch {e}: every prediction is {name}"
            for e, _, acc in self._streak
        )
        imbalance = _majority_collapse(trainer, predicted, k)
        if imbalance is not None:
            share, ratio, weighted = imbalance
            weights = (
                "The loss is already class-weighted: the minority class has too few images "
                "to learn from; collect more of it, or use --strategy lp (the probe)."
                if weighted
                else "Weight the loss by class (graftlab: --class-weights auto, the default, "
                "or balanced; PyTorch: CrossEntropyLoss(weight=...); Keras: class_weight=)."
            )
            self.report(
                trainer,
                make(
                    "GL611",
                    title=(
                        f"Every validation prediction is the majority class {name}: the train "
                        f"split is imbalanced {ratio:.0f}:1"
                    ),
                    evidence=rows + f"\nbalanced accuracy = 1/{k} = {1 / k:.4f}; class {name} is "
                    f"{100 * share:.0f}% of the training images",
                    explanation=(
                        "A majority-class collapse: with one class this frequent, predicting "
                        "it for every image is the cheapest way to lower an unweighted loss, "
                        "and accuracy rewards it with the class's share. It is the data's "
                        "balance, not the learning rate."
                    ),
                    fix="# " + weights + "\n# Select and early-stop on balanced accuracy.",
                    references=[REFS["karpathy"]],
                ),
            )
            return
        self.report(
            trainer,
            make(
                "GL611",
                title=f"Every validation prediction is class {name} for {len(self._streak)} epochs",
                evidence=rows + f"\nbalanced accuracy = 1/{k} = {1 / k:.4f}",
                explanation=(
                    "The model outputs the same class whatever the image: validation accuracy "
                    "is that class's share and balanced accuracy is exactly 1/K. It has "
                    "collapsed (too high a learning rate, extreme imbalance) or its input "
                    "carries no information (broken preprocessing, constant images)."
                ),
                fix=(
                    "# Lower the learning rate 10x; weight the loss by class frequency;\n"
                    "# look at a batch of inputs as images (are they all black or all grey?)."
                ),
                references=[REFS["karpathy"]],
            ),
        )

    def _single_class(self, trainer: Any, logs: dict[str, Any], k: int) -> int | None:
        probs = logs.get("val_probs")
        if probs is None:
            bal = logs.get("val_balanced_accuracy")
            if bal is not None and abs(float(bal) - 1 / k) > 1e-6:
                return None  # not all one class: balanced accuracy would be exactly 1/K
            val, predict = getattr(trainer, "val", None), getattr(trainer, "predict_proba", None)
            if val is None or predict is None:
                return None
            images = val[0]
            idx = np.unique(np.linspace(0, len(images) - 1, min(self.max_images, len(images))))
            probs = predict(np.asarray(images)[idx.astype(int)])
        pred = np.asarray(probs).argmax(axis=1)
        classes = np.unique(pred)
        return int(classes[0]) if len(classes) == 1 else None


def _majority_collapse(trainer: Any, predicted: int, k: int) -> tuple[float, float, bool] | None:
    """(share of the predicted class, largest/smallest ratio, loss weighted) when the one
    class predicted is the majority of an imbalanced (3:1 or more) train split, else None."""
    y = _labels(getattr(trainer, "train", None))
    if y is None or y.ndim != 1 or len(y) == 0:
        return None
    counts = np.bincount(y.astype(np.int64), minlength=k)
    present = counts[counts > 0]
    ratio = float(present.max() / present.min()) if len(present) > 1 else 1.0
    if ratio < 3 or predicted != int(counts.argmax()):
        return None
    weighted = getattr(getattr(trainer, "task", None), "class_weights", None) is not None
    return float(counts[predicted] / len(y)), ratio, weighted


class TrivialAccuracyMonitor(Monitor):
    """Validation accuracy at 1/K (chance) or the majority-class share, ``patience`` epochs."""

    def __init__(self, *, patience: int = 2, tol: float = 0.002, stop: bool = True) -> None:
        super().__init__(stop=stop)
        self.patience = patience
        self.tol = tol
        self._hits: list[tuple[int, float]] = []

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, Any]) -> None:
        acc, k = logs.get("val_accuracy"), _num_classes(trainer)
        if acc is None or not k or not _single_label(trainer) or not math.isfinite(acc):
            return
        targets = {f"chance 1/{k} = {1 / k:.4f}": 1 / k}
        y = _labels(getattr(trainer, "val", None))
        if y is not None and len(y):
            counts = np.bincount(y.astype(int), minlength=k)
            top = int(counts.argmax())
            share = counts[top] / len(y)
            targets[f"the majority share {counts[top]}/{len(y)} = {share:.4f} (class {top})"] = (
                share
            )
        hit = next((name for name, t in targets.items() if abs(acc - t) <= self.tol), None)
        if hit is None:
            self._hits = []
            return
        self._hits.append((logs.get("epoch", epoch + 1), acc))
        if len(self._hits) < self.patience:
            return
        if "GL611" in {f.code for f in getattr(trainer, "findings", [])}:
            return  # the constant-prediction finding already says it, with the class
        self.report(
            trainer,
            make(
                "GL612",
                title=f"Validation accuracy sits at {hit}",
                evidence="\n".join(f"  epoch {e}: val_accuracy {a:.4f}" for e, a in self._hits),
                explanation=(
                    "This accuracy needs no information from the image: guessing, or "
                    "predicting one class for every image, scores it. The model is not "
                    "learning from its input."
                ),
                fix=(
                    "# Check loss at init = ln(K), overfit one batch, plot inputs with labels,\n"
                    "# lower the learning rate; imbalanced data: class weights."
                ),
                references=[REFS["karpathy"]],
            ),
        )


# -- loss and gradients -----------------------------------------------------------------------


class InitLossMonitor(Monitor):
    """First-batch loss more than ``factor`` x ln(K): confidently wrong from the start."""

    def __init__(self, *, factor: float = 2.0) -> None:
        super().__init__(stop=False)
        self.factor = factor
        self._seen = False

    def on_batch_end(self, trainer: Any, step: int, logs: dict[str, Any]) -> None:
        if self._seen:
            return
        self._seen = True
        k, loss = _num_classes(trainer), logs.get("loss")
        if not k or loss is None or step > 1:  # resumed runs start mid-way
            return
        expected = math.log(k) if _single_label(trainer) else math.log(2)
        if not math.isfinite(loss) or loss <= self.factor * expected:
            return
        what = f"ln({k})" if _single_label(trainer) else "ln(2) per label"
        self.report(
            trainer,
            make(
                "GL613",
                title=f"First-batch loss {loss:.3f} is {loss / expected:.1f}x {what}",
                evidence=f"step 1 loss {loss:.4f}; an uninformed head scores {what} = "
                f"{expected:.4f}",
                explanation=(
                    "A head that knows nothing should predict about 1/K per class. A much "
                    "higher loss means confident wrong logits: large random head weights, "
                    "features blown up by wrong input scaling, or labels that do not match "
                    "the outputs. Its large gradients damage the pretrained backbone in the "
                    "first steps (LP-FT fits the head first for this reason)."
                ),
                fix=(
                    "torch.nn.init.zeros_(head.weight); torch.nn.init.zeros_(head.bias)\n"
                    "# or initialise the head from a linear probe (strategy 'lp-ft')"
                ),
                references=[REFS["karpathy"], REFS["lp-ft"]],
            ),
        )


class GradientMonitor(Monitor):
    """Non-finite gradient norm (error) or one ``factor`` x above the recent median (warning).

    Reads ``logs["grad_norm"]`` when the trainer reports it (the norm before clipping);
    otherwise computes the norm of the current ``.grad`` tensors.
    """

    def __init__(self, *, factor: float = 100.0, window: int = 20, stop: bool = True) -> None:
        super().__init__(stop=stop)
        self.factor = factor
        self._recent: deque[float] = deque(maxlen=window)

    def on_batch_end(self, trainer: Any, step: int, logs: dict[str, Any]) -> None:
        norm = logs.get("grad_norm")
        if norm is None:
            norm = self._norm(getattr(trainer, "model", None))
        if norm is None:
            return
        norm = float(norm)
        if not math.isfinite(norm):
            self.report(
                trainer,
                make(
                    "GL614",
                    title=f"Gradient norm is {norm} at step {step}",
                    evidence=f"step {step}: loss {logs.get('loss')}, gradient norm {norm}, "
                    f"lr {logs.get('lr')}",
                    explanation=(
                        "A NaN/inf gradient turns the weights NaN on the next step. Usual "
                        "causes: too high a learning rate, fp16 overflow, NaN pixels, log(0)."
                    ),
                    fix=fix_divergence("torch"),
                    references=[REFS["clipping"]],
                ),
            )
            return
        if len(self._recent) >= 5:
            median = float(np.median(self._recent))
            if median > 0 and norm > self.factor * median:
                self.report(
                    trainer,
                    make(
                        "GL615",
                        title=f"Gradient norm jumps to {norm:.3g} at step {step}, "
                        f"{norm / median:.0f}x the recent median",
                        evidence=f"step {step}: gradient norm {norm:.4g}; median of the last "
                        f"{len(self._recent)} steps {median:.4g}; lr {logs.get('lr')}",
                        explanation=(
                            "A gradient two orders of magnitude above its recent level throws "
                            "the weights far in one step; loss spikes or NaNs follow. It often "
                            "starts right after unfreezing, or at the end of warm-up."
                        ),
                        fix=fix_divergence("torch"),
                        references=[REFS["clipping"]],
                    ),
                )
        self._recent.append(norm)

    @staticmethod
    def _norm(model: nn.Module | None) -> float | None:
        if model is None:
            return None
        grads = [p.grad.detach() for p in model.parameters() if p.grad is not None]
        if not grads:
            return None
        return float(torch.linalg.vector_norm(torch.stack([g.float().norm() for g in grads])))


# -- BatchNorm and features -------------------------------------------------------------------


class BNModeGapMonitor(Monitor):
    """Accuracy on the same training batch in the trainer's train mode vs eval mode.

    Only BatchNorm layers that the strategy leaves in train mode are switched (dropout stays
    off), so the gap measures BatchNorm alone. With ``bn="frozen"`` strategies there is none.
    """

    def __init__(self, *, threshold: float = 0.2, images: int = PROBE_IMAGES) -> None:
        super().__init__(stop=False)
        self.threshold = threshold
        self.images = images

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, Any]) -> None:
        model, strategy = getattr(trainer, "model", None), getattr(trainer, "strategy", None)
        if model is None or not _single_label(trainer):
            return
        with _untouched(model):
            if strategy is not None and hasattr(strategy, "set_train_mode"):
                strategy.set_train_mode(model)
            else:
                model.train()
            live = [m for m in model.modules() if isinstance(m, _BN) and m.training]
            if not live:
                return
            probe = _probe(trainer, "train", self.images)
            if probe is None or probe[1] is None or len(probe[1]) < 2:
                return
            x, y = probe
            x = x.to(_device(model))
            model.eval()
            with torch.no_grad():
                eval_pred = _logits(model(x)).argmax(1).cpu().numpy()
                for m in live:
                    m.train()
                train_pred = _logits(model(x)).argmax(1).cpu().numpy()
        acc_eval, acc_train = float((eval_pred == y).mean()), float((train_pred == y).mean())
        if abs(acc_train - acc_eval) < self.threshold:
            return
        self.report(
            trainer,
            make(
                "GL616",
                title=f"Same {len(y)} training images: {acc_train:.0%} accuracy with BatchNorm "
                f"in train mode, {acc_eval:.0%} in eval mode",
                evidence=(
                    f"epoch {logs.get('epoch', epoch + 1)}: {len(live)} BatchNorm layers "
                    f"updating; accuracy on a fixed batch {acc_train:.3f} (batch statistics) vs "
                    f"{acc_eval:.3f} (running statistics); val_accuracy "
                    f"{logs.get('val_accuracy', float('nan')):.4f}"
                ),
                explanation=(
                    "The running statistics the model uses at evaluation no longer describe "
                    "the activations of this data, so the model that is trained (batch "
                    "statistics) is not the model that is evaluated (running statistics)."
                ),
                fix=fix_batchnorm("torch")
                + "\n# graftlab: create_strategy(name, bn='frozen') (the default)",
                references=[REFS["bn"], REFS["keras-ft"]],
            ),
        )


def linear_cka(x: torch.Tensor | np.ndarray, y: torch.Tensor | np.ndarray) -> float:
    """Linear centred kernel alignment of two feature matrices with the same rows (N, D1/D2).

    1.0 for representations equal up to rotation and isotropic scaling; near 0 for unrelated
    ones (Kornblith et al. 2019).
    """
    a = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x).double()
    b = torch.as_tensor(np.asarray(y) if not isinstance(y, torch.Tensor) else y).double()
    a, b = a - a.mean(0, keepdim=True), b - b.mean(0, keepdim=True)
    cross = (b.T @ a).norm() ** 2
    denom = (a.T @ a).norm() * (b.T @ b).norm()
    return float(cross / denom) if denom > 0 else float("nan")


def _features(model: nn.Module, x: torch.Tensor) -> torch.Tensor | None:
    """Pooled pre-logit features (timm contract), or None for models without it."""
    if not (hasattr(model, "forward_features") and hasattr(model, "forward_head")):
        return None
    with _untouched(model):
        model.eval()
        with torch.no_grad():
            f = model.forward_head(model.forward_features(x), pre_logits=True)
    return f.float().flatten(1).cpu()


def _hits(model: nn.Module, feats: torch.Tensor, y: Any) -> float | None:
    """Share of images whose head prediction on pooled ``feats`` is their single label;
    None for multi-label targets or a head that is not one linear map of the features."""
    head = model.get_classifier() if hasattr(model, "get_classifier") else None
    labels = np.asarray(y) if y is not None else None
    if not isinstance(head, nn.Linear) or labels is None or labels.ndim != 1:
        return None
    with torch.no_grad():
        logits = head(feats.to(head.weight.device, head.weight.dtype))
    pred = (logits[:, 0] > 0).long() if logits.shape[1] == 1 else logits.argmax(1)
    return float((pred.cpu().numpy() == labels).mean())


def _backbone_trainable(model: nn.Module) -> bool:
    head = model.get_classifier() if hasattr(model, "get_classifier") else None
    head_ids = {id(p) for p in head.parameters()} if isinstance(head, nn.Module) else set()
    return any(p.requires_grad for p in model.parameters() if id(p) not in head_ids)


class FeatureDriftMonitor(Monitor):
    """Linear CKA between the features before and after the first epoch with a trainable
    backbone, on a fixed probe batch of validation images.

    A large drop in the first fine-tuning epoch means the pretrained features were overwritten
    (LP-FT, Kumar et al. 2022): usually a learning rate too high for the backbone or a random
    head's large gradients.
    """

    def __init__(self, *, threshold: float = 0.6, images: int = PROBE_IMAGES) -> None:
        super().__init__(stop=False)
        self.threshold = threshold
        self.images = images
        self._reference: torch.Tensor | None = None
        self._x: torch.Tensor | None = None
        self._y: Any = None
        self._hits: float | None = None
        self._epoch: int | None = None
        self._done = False
        self.cka_: float | None = None

    def on_epoch_start(self, trainer: Any, epoch: int) -> None:
        model = getattr(trainer, "model", None)
        if self._done or self._reference is not None or model is None:
            return
        if not _backbone_trainable(model):
            return
        probe = _probe(trainer, "val", self.images) or _probe(trainer, "train", self.images)
        if probe is None or len(probe[0]) < 4:
            self._done = True
            return
        self._x, self._y = probe[0].to(_device(model)), probe[1]
        self._reference = _features(model, self._x)
        self._epoch = epoch
        if self._reference is None:
            self._done = True
            return
        self._hits = _hits(model, self._reference, self._y)

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, Any]) -> None:
        if self._done or self._reference is None or epoch != self._epoch:
            return
        self._done = True
        now = _features(trainer.model, self._x)
        self.cka_ = linear_cka(self._reference, now)
        if not self.cka_ < self.threshold:
            return
        from_probe = getattr(getattr(trainer, "strategy", None), "init_head", None) == "probe"
        hits = _hits(trainer.model, now, self._y)
        if from_probe and None not in (hits, self._hits) and hits >= self._hits:
            # Started from a fitted head and predicts the same images at least as well: the
            # features moved to fit the task, which is what fine-tuning is for.
            return
        lr = logs.get("lr")
        self.report(
            trainer,
            make(
                "GL617",
                title=f"Pretrained features changed drastically in the first fine-tuning epoch "
                f"(CKA {self.cka_:.2f})",
                evidence=(
                    f"linear CKA between the features of {len(self._x)} fixed images before and "
                    f"after epoch {logs.get('epoch', epoch + 1)} = {self.cka_:.3f} (threshold "
                    f"{self.threshold}); lr {lr}; val_accuracy "
                    f"{logs.get('val_accuracy', float('nan')):.4f}"
                ),
                explanation=(
                    "One epoch of fine-tuning should nudge pretrained features, not replace "
                    "them: a CKA this low means the backbone was rewritten, typically by a "
                    "learning rate too high for pretrained layers or by large gradients from a "
                    "randomly initialised head. Such runs end below a linear probe, especially "
                    "on data unlike the training split."
                    + (
                        f" This run started from the probe's head, and it now predicts "
                        f"{hits:.0%} of the fixed images right against {self._hits:.0%} before "
                        "the epoch: the per-stage learning rates were still too large."
                        if from_probe and None not in (hits, self._hits)
                        else ""
                    )
                ),
                fix=fix_unfreeze("graftlab" if from_probe else "torch"),
                references=[REFS["lp-ft"], REFS["cka"]],
            ),
        )
