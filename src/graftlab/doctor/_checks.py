"""The catalogue of doctor checks outside the script analyser, and the one way to build a Finding.

Every check has a stable code. Its category, default severity and title live here, once, so that
``list_checks()`` and the findings the checks emit cannot disagree. Codes: GL4xx read training
logs, GL5xx run a PyTorch model, GL6xx check data before training or watch it during training.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

from graftlab._registry import Registry
from graftlab.doctor.findings import CATEGORIES, SEVERITIES, Finding


@dataclass(frozen=True)
class Check:
    """What one code means.

    Attributes:
        code: ``GLnnn``.
        category: One of :data:`graftlab.doctor.findings.CATEGORIES`.
        severity: Default severity; a finding may lower or raise it with the evidence at hand.
        title: What the check looks for.
        where: ``log``, ``model``, ``preflight`` or ``monitor`` (``script`` for the analyser).
    """

    code: str
    category: str
    severity: str
    title: str
    where: str

    def __post_init__(self) -> None:
        assert self.category in CATEGORIES, self.category
        assert self.severity in SEVERITIES, self.severity


CHECKS: Registry[Check] = Registry("check")


def _define(code: str, category: str, severity: str, where: str, title: str) -> None:
    CHECKS.register(code)(Check(code, category, severity, title, where))


# -- training logs (graftlab.doctor.logs) -----------------------------------------------------
_define(
    "GL401",
    "trivial-accuracy",
    "error",
    "log",
    "Accuracy sits at (K-1)/K: binary accuracy on one-hot labels",
)
_define("GL402", "trivial-accuracy", "error", "log", "Accuracy sits at chance, 1/K")
_define(
    "GL403",
    "trivial-accuracy",
    "error",
    "log",
    "Accuracy frozen from the first epoch: one class predicted for every image",
)
_define(
    "GL404",
    "trivial-accuracy",
    "error",
    "log",
    "Loss does not move from ln(K): the model outputs the uniform distribution",
)
_define(
    "GL405",
    "single-unit-softmax",
    "error",
    "log",
    "One output unit and constant metrics: softmax over a single unit",
)
_define(
    "GL406", "other", "warning", "log", "Validation metrics never change while training loss does"
)
_define("GL407", "divergence", "error", "log", "Loss becomes NaN or infinite")
_define("GL408", "divergence", "error", "log", "Training loss grows by orders of magnitude")
_define(
    "GL409", "batchnorm", "warning", "log", "Validation loss explodes while training loss falls"
)
_define("GL410", "other", "info", "log", "Validation scores better than training")
_define(
    "GL411",
    "data-leakage",
    "warning",
    "log",
    "Validation far better than training: leakage or a too-easy split",
)
_define(
    "GL412",
    "overfitting",
    "warning",
    "log",
    "Overfitting: validation loss bottoms out while training loss keeps falling",
)
_define(
    "GL413",
    "learning-rate",
    "warning",
    "log",
    "Validation collapses right after unfreezing (learning rate too high)",
)
_define(
    "GL414",
    "batchnorm",
    "warning",
    "log",
    "Validation collapses right after unfreezing despite a low learning rate",
)
_define(
    "GL415",
    "monitor-metric-missing",
    "error",
    "log",
    "A callback monitors a metric the log does not have",
)

# -- one forward/backward pass of a PyTorch model (graftlab.doctor.model_check) --------------
_define(
    "GL501",
    "double-softmax",
    "error",
    "model",
    "Model outputs probabilities; cross-entropy applies softmax again",
)
_define(
    "GL502",
    "single-unit-softmax",
    "error",
    "model",
    "Softmax over one output unit: the output is always 1.0",
)
_define(
    "GL503",
    "activation-loss-mismatch",
    "error",
    "model",
    "Sigmoid outputs fed to BCEWithLogitsLoss (sigmoid applied twice)",
)
_define(
    "GL504",
    "trainable-not-applied",
    "error",
    "model",
    "Trainable parameters the optimizer never updates",
)
_define(
    "GL505", "trainable-not-applied", "warning", "model", "Frozen parameters inside the optimizer"
)
_define(
    "GL506",
    "batchnorm",
    "warning",
    "model",
    "BatchNorm in training mode under frozen weights or a tiny batch",
)
_define(
    "GL507",
    "batchnorm",
    "warning",
    "model",
    "Train-mode and eval-mode predictions disagree on the same batch",
)
_define("GL508", "preprocessing-mismatch", "error", "model", "Input pixels in 0..255: not scaled")
_define(
    "GL509",
    "preprocessing-mismatch",
    "warning",
    "model",
    "Input in [0, 1] but the backbone expects normalised input",
)
_define(
    "GL510",
    "preprocessing-mismatch",
    "warning",
    "model",
    "Input normalised with statistics other than the backbone's",
)
_define("GL511", "other", "warning", "model", "Loss at initialisation far above ln(K)")
_define("GL512", "divergence", "error", "model", "Loss or gradients not finite on the first step")
_define("GL513", "divergence", "warning", "model", "Exploding gradient norm on the first step")
_define("GL514", "other", "warning", "model", "Trainable parameters get no or vanishing gradient")
_define("GL515", "head-mismatch", "error", "model", "Labels outside the model's output units")

# -- data before training (graftlab.doctor.preflight) ----------------------------------------
_define("GL601", "data-leakage", "error", "preflight", "Identical images in train and val/test")
_define(
    "GL602",
    "data-leakage",
    "warning",
    "preflight",
    "Near-duplicate images across splits (feature space)",
)
_define("GL603", "other", "warning", "preflight", "Classes with very few training images")
_define("GL604", "other", "warning", "preflight", "Extreme class imbalance")
_define(
    "GL605", "other", "warning", "preflight", "Validation split too small to measure every class"
)

# -- inside the trainer (graftlab.doctor.monitors) --------------------------------------------
_define(
    "GL611", "trivial-accuracy", "error", "monitor", "Every validation prediction is the same class"
)
_define(
    "GL612",
    "trivial-accuracy",
    "error",
    "monitor",
    "Validation accuracy at chance or the majority share",
)
_define("GL613", "other", "warning", "monitor", "First-batch loss far above ln(K)")
_define("GL614", "divergence", "error", "monitor", "Gradient norm not finite")
_define("GL615", "divergence", "warning", "monitor", "Gradient norm explodes")
_define(
    "GL616",
    "batchnorm",
    "warning",
    "monitor",
    "Train-mode and eval-mode accuracy differ on the same batch",
)
_define(
    "GL617",
    "learning-rate",
    "warning",
    "monitor",
    "Pretrained features drift away right after unfreezing",
)


def make(
    code: str,
    *,
    evidence: str,
    explanation: str,
    fix: str,
    severity: str | None = None,
    title: str | None = None,
    references: Iterable[str] = (),
) -> Finding:
    """Build the finding of check ``code``; category, and by default title and severity, from
    the table."""
    check = CHECKS.get(code)
    return Finding(
        code=code,
        category=check.category,
        severity=severity or check.severity,
        title=title or check.title,
        evidence=evidence.strip("\n"),
        explanation=explanation.strip(),
        fix=fix.strip("\n"),
        references=list(references),
    )


def own_checks() -> list[dict]:
    """The GL4xx-GL6xx catalogue as dicts (code, category, severity, title, where)."""
    return [asdict(CHECKS.get(code)) for code in CHECKS.names()]


#: Citations the findings point to; one place so that every finding cites them the same way.
REFS = {
    "binary-accuracy": "Keras picks binary_accuracy for metrics=['accuracy'] with "
    "binary_crossentropy: https://keras.io/api/metrics/accuracy_metrics/",
    "karpathy": "Karpathy, A Recipe for Training Neural Networks (verify loss @ init = ln K): "
    "http://karpathy.github.io/2019/04/25/recipe/",
    "ce": "torch.nn.CrossEntropyLoss expects raw logits: "
    "https://pytorch.org/docs/stable/generated/torch.nn.CrossEntropyLoss.html",
    "lp-ft": "Kumar et al. 2022, Fine-Tuning can Distort Pretrained Features and Underperform "
    "Out-of-Distribution (LP-FT): https://arxiv.org/abs/2202.10054",
    "keras-ft": "Keras transfer learning guide, fine-tuning and BatchNormalization: "
    "https://keras.io/guides/transfer_learning/",
    "bn": "Ioffe & Szegedy 2015, Batch Normalization: https://arxiv.org/abs/1502.03167",
    "early-stopping": "Keras EarlyStopping(restore_best_weights=True): "
    "https://keras.io/api/callbacks/early_stopping/",
    "leakage": "Kapoor & Narayanan 2023, Leakage and the reproducibility crisis in ML-based "
    "science: https://doi.org/10.1016/j.patter.2023.100804",
    "clipping": "Pascanu et al. 2013, On the difficulty of training recurrent neural networks "
    "(gradient clipping): https://arxiv.org/abs/1211.5063",
    "cka": "Kornblith et al. 2019, Similarity of Neural Network Representations Revisited (CKA): "
    "https://arxiv.org/abs/1905.00414",
    "timm-data": "timm data config (mean/std/input size per model): "
    "https://huggingface.co/docs/timm/quickstart#image-augmentation",
    "yosinski": "Yosinski et al. 2014, How transferable are features in deep neural networks?: "
    "https://arxiv.org/abs/1411.1792",
    "val-gt-train": "Keras FAQ, why is my training loss much higher than my testing loss?: "
    "https://keras.io/getting_started/faq/",
    "imbalance": "scikit-learn, class_weight='balanced' and balanced accuracy: "
    "https://scikit-learn.org/stable/modules/model_evaluation.html#balanced-accuracy-score",
}


# -- fixes shared by logs, model checks and monitors -------------------------------------------
# Each returns code for the framework at hand ("keras", "torch" or "graftlab"); prose is in
# comments so that the whole fix can be syntax-highlighted and pasted.


def fix_divergence(fw: str) -> str:
    if fw == "keras":
        return (
            "# Lower the learning rate (10x for a frozen backbone's head, 100x for fine-tuning)\n"
            "# and clip gradients:\n"
            "optimizer = keras.optimizers.Adam(learning_rate=1e-4, clipnorm=1.0)\n"
            "model.compile(optimizer=optimizer, loss=..., metrics=[...])\n"
            "callbacks = [keras.callbacks.TerminateOnNaN()]"
        )
    return (
        "# Lower the learning rate (10x, then 10x again) and clip the gradient norm:\n"
        "optimizer = torch.optim.AdamW(params, lr=1e-4)\n"
        "loss.backward()\n"
        "torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)\n"
        "optimizer.step()\n"
        "# Use F.cross_entropy on logits instead of torch.log(softmax(...));\n"
        "# with fp16 use torch.amp.GradScaler (or bf16)."
    )


def fix_batchnorm(fw: str) -> str:
    if fw == "keras":
        return (
            "# Keep BatchNormalization in inference mode while fine-tuning (Keras guide):\n"
            "inputs = keras.Input(shape=(H, W, 3))\n"
            "x = base_model(inputs, training=False)   # BN uses its running statistics\n"
            "...\n"
            "base_model.trainable = True\n"
            "for layer in base_model.layers:\n"
            "    if isinstance(layer, keras.layers.BatchNormalization):\n"
            "        layer.trainable = False"
        )
    return (
        "# Keep BatchNorm in eval mode (running statistics frozen) while fine-tuning:\n"
        "def set_train_mode(model):\n"
        "    model.train()\n"
        "    for m in model.modules():\n"
        "        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):\n"
        "            m.eval()\n"
        "set_train_mode(model)   # call at the start of every epoch instead of model.train()"
    )


def fix_binary_loss_multiclass(fw: str, k: int) -> str:
    if fw == "keras":
        return (
            f"# One label per image among {k} classes: softmax + categorical cross-entropy.\n"
            f'model.add(Dense({k}, activation="softmax"))\n'
            'model.compile(optimizer=opt, loss="categorical_crossentropy", metrics=["accuracy"])\n'
            "# with integer labels (class_mode='sparse' / label_mode='int'):\n"
            'model.compile(optimizer=opt, loss="sparse_categorical_crossentropy", '
            'metrics=["accuracy"])'
        )
    if fw == "graftlab":
        return "# graftlab picks loss and metric from the labels (graftlab.finetune.Task)."
    return (
        f"# {k} exclusive classes: logits (N, {k}) + CrossEntropyLoss on class indices.\n"
        "criterion = torch.nn.CrossEntropyLoss()\n"
        "labels = one_hot.argmax(dim=1)            # if your labels are one-hot\n"
        "loss = criterion(logits, labels)\n"
        "accuracy = (logits.argmax(dim=1) == labels).float().mean()"
    )


def fix_single_unit_softmax(fw: str) -> str:
    if fw == "keras":
        return (
            "# Binary: one sigmoid unit with binary cross-entropy ...\n"
            'model.add(Dense(1, activation="sigmoid"))\n'
            'model.compile(optimizer=opt, loss="binary_crossentropy", metrics=["accuracy"])\n'
            "# ... or two softmax units with (sparse) categorical cross-entropy:\n"
            'model.add(Dense(2, activation="softmax"))\n'
            'model.compile(optimizer=opt, loss="sparse_categorical_crossentropy", '
            'metrics=["accuracy"])'
        )
    return (
        "# Binary: one logit with BCEWithLogitsLoss (no activation in the model) ...\n"
        "head = torch.nn.Linear(in_features, 1)\n"
        "loss = torch.nn.BCEWithLogitsLoss()(head(x).squeeze(1), y.float())\n"
        "# ... or two logits with CrossEntropyLoss:\n"
        "head = torch.nn.Linear(in_features, 2)"
    )


def fix_chance(fw: str) -> str:
    if fw == "keras":
        return (
            "# 1. The loss before any training must be ln(K); then overfit ONE batch:\n"
            "x, y = next(iter(train_ds))\n"
            "print(model.evaluate(x, y, verbose=0))\n"
            "model.fit(x, y, epochs=50, verbose=0)   # must reach ~100% accuracy\n"
            "# 2. Check images and labels line up, with the same class order everywhere:\n"
            "print(train_gen.class_indices, val_gen.class_indices)\n"
            "# 3. Use the backbone's own preprocess_input and a smaller learning rate (1e-4)."
        )
    return (
        "# 1. The loss before any training must be ln(K); then overfit ONE batch:\n"
        "x, y = next(iter(train_loader))\n"
        "for _ in range(100):\n"
        "    optimizer.zero_grad(); loss = criterion(model(x), y); loss.backward(); "
        "optimizer.step()\n"
        "print(loss.item())   # must approach 0\n"
        "# 2. Check labels line up with images (plot a batch with its class names).\n"
        "# 3. Normalise inputs as the backbone expects; lower the learning rate."
    )


def fix_one_class(fw: str) -> str:
    if fw == "keras":
        return (
            "# What does the model predict? One class for every image means collapse:\n"
            "pred = model.predict(val_ds).argmax(axis=1)\n"
            "print(np.bincount(pred, minlength=K))\n"
            "# Last layer: Dense(K, 'softmax') for K >= 2 classes (never Dense(1, 'softmax'));\n"
            "# imbalanced data: class_weight=..., a lower learning rate (1e-4)."
        )
    return (
        "# What does the model predict? One class for every image means collapse:\n"
        "pred = logits.argmax(dim=1)\n"
        "print(torch.bincount(pred, minlength=K))\n"
        "# imbalanced data: CrossEntropyLoss(weight=class_weights); lower the learning rate."
    )


def fix_overfitting(fw: str) -> str:
    if fw == "keras":
        return (
            "callbacks = [\n"
            '    keras.callbacks.EarlyStopping(monitor="val_loss", patience=3, '
            "restore_best_weights=True),\n"
            '    keras.callbacks.ModelCheckpoint("best.keras", monitor="val_loss", '
            "save_best_only=True),\n"
            "]\n"
            "# and regularise: data augmentation, Dropout before the head, fewer trainable "
            "layers."
        )
    if fw == "graftlab":
        return (
            "# graftlab restores the best epoch's weights (weights/best.pt) at the end of fit;\n"
            "# train fewer epochs or with stronger augmentation to stop wasting the rest."
        )
    return (
        "# Keep the weights of the best validation epoch and stop after `patience` epochs:\n"
        "if val_loss < best:\n"
        "    best, bad = val_loss, 0\n"
        "    torch.save(model.state_dict(), 'best.pt')\n"
        "else:\n"
        "    bad += 1\n"
        "    if bad >= 3: break\n"
        "# and regularise: augmentation, weight decay (AdamW), fewer unfrozen blocks."
    )


def fix_unfreeze(fw: str) -> str:
    if fw == "keras":
        return (
            "# LP-FT: train the head to convergence with the backbone frozen, then unfreeze\n"
            "# with a 10-100x lower learning rate and BatchNorm kept in inference mode:\n"
            "x = base_model(inputs, training=False)\n"
            "...\n"
            "base_model.trainable = True\n"
            "model.compile(optimizer=keras.optimizers.Adam(1e-5), loss=..., "
            "metrics=[...])   # re-compile!\n"
            "model.fit(train_ds, epochs=10, validation_data=val_ds)"
        )
    return (
        "# LP-FT: fit the head first, then fine-tune everything at a much lower rate,\n"
        "# with BatchNorm kept in eval mode:\n"
        "optimizer = torch.optim.AdamW([\n"
        '    {"params": backbone.parameters(), "lr": 1e-5},\n'
        '    {"params": head.parameters(), "lr": 1e-4},\n'
        "])\n"
        "model.train()\n"
        "for m in model.modules():\n"
        "    if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):\n"
        "        m.eval()"
    )
