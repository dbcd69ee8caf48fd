"""The one catalogue of doctor checks, and the one way to build a Finding outside the analyser.

Every check has a stable code, declared once here or, for a new script rule, by ``declare()`` at
the top of its own module. Its category, default severity, title, where it runs and references
live in that one entry, so that ``list_checks()`` and the findings the checks emit cannot
disagree: ``make()`` and the script analyser's ``Ctx.add`` refuse an undeclared code or another
category. Codes: GL1xx Keras scripts, GL2xx PyTorch scripts, GL3xx scripts of either framework,
GL4xx training logs, GL5xx one pass of a PyTorch model, GL6xx data before training and the
trainer's monitors.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from graftlab._registry import Registry
from graftlab.doctor.findings import CATEGORIES, SEVERITIES, Finding

#: Where a check runs.
WHERES: tuple[str, ...] = ("script", "log", "model", "preflight", "monitor")


@dataclass(frozen=True)
class Check:
    """What one code means.

    Attributes:
        code: ``GLnnn``.
        category: One of :data:`graftlab.doctor.findings.CATEGORIES`.
        severity: The highest severity the check emits; a finding may be lower when a link of
            its evidence was inferred.
        title: What the check looks for.
        where: One of :data:`WHERES`.
        references: Links or citations for what the check relies on.
    """

    code: str
    category: str
    severity: str
    title: str
    where: str
    references: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Raised, not asserted: a wrong declaration must fail under python -O too.
        if not re.fullmatch(r"GL\d{3}", self.code):
            raise ValueError(f"check code must be GLnnn, got {self.code!r}")
        if self.category not in CATEGORIES:
            raise ValueError(f"{self.code}: unknown category {self.category!r}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"{self.code}: unknown severity {self.severity!r}")
        if self.where not in WHERES:
            raise ValueError(f"{self.code}: unknown where {self.where!r}")


CHECKS: Registry[Check] = Registry("check")


def declare(
    code: str,
    category: str,
    severity: str,
    where: str,
    title: str,
    references: Iterable[str] = (),
) -> Check:
    """Add check ``code`` to the catalogue; declaring it again identically is a no-op.

    Raises:
        ValueError: ``code`` is already declared with other attributes, or an attribute is not
            one of the allowed values.
    """
    check = Check(code, category, severity, title, where, tuple(references))
    if code in CHECKS and CHECKS.get(code) != check:
        raise ValueError(f"check {code} is already declared as {CHECKS.get(code)}")
    CHECKS.register(code)(check)
    return check


def declared(code: str) -> Check | None:
    """The catalogue entry of ``code``, or None."""
    return CHECKS.get(code) if code in CHECKS else None


def catalogue() -> list[dict]:
    """Every declared check as a dict, in code order."""
    return [
        {**asdict(CHECKS.get(code)), "references": list(CHECKS.get(code).references)}
        for code in sorted(CHECKS.names())
    ]


# -- scripts and notebooks (graftlab.doctor.script) ------------------------------------------
# A rule module that adds a code declares it at its own top with declare(); these are the codes
# the analyser had when the catalogue became one.
_KERAS_TL = "https://keras.io/guides/transfer_learning/"
_KERAS_APPS = "https://keras.io/api/applications/"
_KERAS_LOSSES = "https://keras.io/api/losses/probabilistic_losses/"
_KERAS_METRICS = "https://keras.io/api/metrics/accuracy_metrics/"
_KERAS_COMPILE = "https://keras.io/api/models/model_training_apis/#compile-method"
_KERAS_CALLBACKS = "https://keras.io/api/callbacks/"
_KERAS_IDG = "https://www.tensorflow.org/api_docs/python/tf/keras/preprocessing/image/"
_KERAS_DATA = "https://keras.io/api/data_loading/image/"
_KERAS_BLOG = "https://blog.keras.io/building-powerful-image-classification-models-using-very-little-data.html"
_TORCH_CE = "https://pytorch.org/docs/stable/generated/torch.nn.CrossEntropyLoss.html"
_TORCH_BCE = "https://pytorch.org/docs/stable/generated/torch.nn.BCEWithLogitsLoss.html"
_TORCH_MODULE = "https://pytorch.org/docs/stable/generated/torch.nn.Module.html"
_TORCH_LOADER = "https://pytorch.org/docs/stable/data.html#torch.utils.data.DataLoader"
_TORCH_OPTIM = "https://pytorch.org/docs/stable/optim.html#per-parameter-options"
_TV_MODELS = "https://pytorch.org/vision/stable/models.html"
_TIMM_DATA = "https://huggingface.co/docs/timm/reference/data"
_LPFT = "https://arxiv.org/abs/2202.10054"

for _code, _category, _severity, _title, _refs in (
    ("GL101", "binary-loss-multiclass", "error",
     "Binary cross-entropy on a multi-class single-label head", (_KERAS_METRICS, _KERAS_LOSSES)),
    ("GL102", "single-unit-softmax", "error", "Softmax over a single output unit",
     (_KERAS_LOSSES,)),
    ("GL103", "activation-loss-mismatch", "error",
     "Output activation, from_logits and loss do not agree", (_KERAS_LOSSES,)),
    ("GL104", "include-top", "error",
     "A backbone keeps its ImageNet classifier (include_top=True) under a new head",
     (_KERAS_APPS, _KERAS_TL)),
    ("GL105", "monitor-metric-missing", "error",
     "A callback monitors a metric the compiled model does not log", (_KERAS_CALLBACKS,)),
    ("GL110", "preprocessing-mismatch", "error",
     "A Keras application gets other preprocessing than its preprocess_input", (_KERAS_APPS,)),
    ("GL111", "train-eval-preprocessing-mismatch", "error",
     "Validation or test generator preprocesses differently from training", (_KERAS_IDG,)),
    ("GL112", "train-eval-preprocessing-mismatch", "error",
     "Images passed to predict() are not preprocessed as in training", (_KERAS_APPS,)),
    ("GL113", "input-size-mismatch", "error",
     "Images reach the model at another size than its input", (_KERAS_APPS, _KERAS_IDG)),
    ("GL114", "augmented-evaluation", "warning", "Validation or test images are augmented",
     (_KERAS_IDG,)),
    ("GL115", "augmentation-phase", "warning",
     "Bottleneck features computed without augmentation; fine-tuning uses it", (_KERAS_BLOG,)),
    ("GL116", "data-leakage", "error", "Validation or test data overlaps the training data",
     (_KERAS_DATA,)),
    ("GL117", "no-shuffle", "error", "The training data is not shuffled", (_KERAS_COMPILE,)),
    ("GL118", "label-order-mismatch", "error",
     "Predictions and labels are in different orders", (_KERAS_IDG,)),
    ("GL120", "trainable-not-applied", "error",
     "trainable changed after compile() and not compiled again", (_KERAS_TL,)),
    ("GL121", "trainable-not-applied", "warning", "The second training phase unfreezes nothing",
     (_KERAS_TL,)),
    ("GL122", "batchnorm", "warning", "Fine-tuning with BatchNorm layers in training mode",
     (_KERAS_TL,)),
    ("GL123", "batchnorm", "info",
     "Frozen backbone under standalone Keras 2: BatchNorm semantics depend on the version",
     (_KERAS_TL,)),
    ("GL124", "learning-rate", "warning",
     "Pretrained layers fine-tuned at a from-scratch learning rate", (_KERAS_TL, _LPFT)),
    ("GL125", "head-mismatch", "error", "Weights loaded into a different head than they came from",
     (_KERAS_TL,)),
    ("GL201", "double-softmax", "error",
     "CrossEntropyLoss receives probabilities: softmax applied twice", (_TORCH_CE,)),
    ("GL202", "single-unit-softmax", "error", "Softmax or cross-entropy over one output unit",
     (_TORCH_CE, _TORCH_BCE)),
    ("GL203", "activation-loss-mismatch", "error",
     "Output activation and loss do not agree", (_TORCH_CE, _TORCH_BCE)),
    ("GL204", "include-top", "warning", "A new layer stacked on a backbone's 1000 ImageNet logits",
     (_TV_MODELS,)),
    ("GL210", "preprocessing-mismatch", "error",
     "Inputs not normalised the way the pretrained weights expect", (_TV_MODELS, _TIMM_DATA)),
    ("GL211", "train-eval-preprocessing-mismatch", "error",
     "Evaluation transform normalises differently from training", (_TV_MODELS,)),
    ("GL213", "input-size-mismatch", "error",
     "Training and evaluation images have different sizes", (_TV_MODELS,)),
    ("GL214", "augmented-evaluation", "warning", "Evaluation images are randomly augmented",
     (_TV_MODELS,)),
    ("GL216", "data-leakage", "error", "An evaluation loader iterates over the training data",
     (_TORCH_LOADER,)),
    ("GL217", "no-shuffle", "error", "The training DataLoader does not shuffle", (_TORCH_LOADER,)),
    ("GL218", "label-order-mismatch", "error",
     "Predictions from a shuffled loader compared with stored labels", (_TORCH_LOADER,)),
    ("GL220", "trainable-not-applied", "error",
     "Layers unfrozen after the optimizer was built over the trainable parameters",
     (_TORCH_OPTIM,)),
    ("GL222", "batchnorm", "warning", "Frozen backbone trained in model.train() mode",
     (_TORCH_MODULE,)),
    ("GL224", "learning-rate", "warning",
     "One learning rate for the pretrained backbone and the new head", (_TORCH_OPTIM, _LPFT)),
    ("GL225", "head-mismatch", "warning", "load_state_dict(strict=False) ignores mismatched keys",
     (_TORCH_MODULE,)),
    ("GL230", "eval-mode-missing", "error", "The model is evaluated in training mode",
     (_TORCH_MODULE,)),
    ("GL231", "eval-mode-missing", "info", "Evaluation without torch.no_grad()",
     ("https://pytorch.org/docs/stable/generated/torch.no_grad.html",)),
    ("GL300", "other", "info", "Part of the script could not be parsed",
     ("https://docs.python.org/3/library/ast.html",)),
    ("GL301", "label-order-mismatch", "warning",
     "Class names not in the order the folder loader assigns indices", (_KERAS_DATA,)),
    ("GL302", "data-leakage", "error", "Training and evaluation data read from the same folder",
     (_KERAS_DATA,)),
    ("GL303", "input-size-mismatch", "warning",
     "Backbone run far from the resolution its weights were trained at", (_KERAS_APPS,)),
    ("GL398", "other", "info", "The analysis stopped at its time budget", ()),
    ("GL399", "other", "info", "Internal: a check could not analyse the script", ()),
):  # fmt: skip
    declare(_code, _category, _severity, "script", _title, _refs)

# -- training logs (graftlab.doctor.logs) -----------------------------------------------------
declare(
    "GL401",
    "binary-loss-multiclass",
    "error",
    "log",
    "Accuracy sits at (K-1)/K: binary accuracy on one-hot labels",
)
# GL402-GL404 name a symptom, not its cause: warnings, since the cause is left to infer.
declare("GL402", "trivial-accuracy", "warning", "log", "Accuracy sits at chance, 1/K")
declare(
    "GL403",
    "trivial-accuracy",
    "warning",
    "log",
    "Accuracy frozen from the first epoch: one class predicted for every image",
)
declare(
    "GL404",
    "trivial-accuracy",
    "warning",
    "log",
    "Loss does not move from ln(K): the model outputs the uniform distribution",
)
declare(
    "GL405",
    "single-unit-softmax",
    "error",
    "log",
    "One output unit and constant metrics: softmax over a single unit",
)
declare(
    "GL406", "other", "warning", "log", "Validation metrics never change while training loss does"
)
declare("GL407", "divergence", "error", "log", "Loss becomes NaN or infinite")
declare("GL408", "divergence", "error", "log", "Training loss grows by orders of magnitude")
declare(
    "GL409", "batchnorm", "warning", "log", "Validation loss explodes while training loss falls"
)
declare("GL410", "other", "info", "log", "Validation scores better than training")
declare(
    "GL411",
    "data-leakage",
    "warning",
    "log",
    "Validation far better than training: leakage or a too-easy split",
)
declare(
    "GL412",
    "overfitting",
    "warning",
    "log",
    "Overfitting: validation loss bottoms out while training loss keeps falling",
)
declare(
    "GL413",
    "learning-rate",
    "warning",
    "log",
    "Validation collapses right after unfreezing (learning rate too high)",
)
declare(
    "GL414",
    "batchnorm",
    "warning",
    "log",
    "Validation collapses right after unfreezing despite a low learning rate",
)
declare(
    "GL415",
    "monitor-metric-missing",
    "error",
    "log",
    "A callback monitors a metric the log does not have",
)
declare(
    "GL416",
    "binary-loss-multiclass",
    "error",
    "log",
    "The first steps score ln 2 or (K-1)/K on a K-class output: binary cross-entropy",
)
declare("GL418", "other", "info", "log", "Only the first part of a very long log was read")
declare(
    "GL419",
    "batchnorm",
    "warning",
    "log",
    "Training accuracy climbs while validation stays at chance: inference mode differs",
)
declare("GL420", "other", "info", "log", "One of several targets could not be read")
declare(
    "GL421",
    "batchnorm",
    "warning",
    "log",
    "evaluate() after fit scores below the first training epoch: inference mode differs",
)
declare(
    "GL423",
    "double-softmax",
    "warning",
    "log",
    "High accuracy, loss stuck above ln(1+(K-1)/e): cross-entropy given probabilities",
)
declare(
    "GL424",
    "activation-loss-mismatch",
    "warning",
    "log",
    "High accuracy, loss stuck above ln(1+(K-1)/e): a softmax output with from_logits=True",
)
declare(
    "GL425",
    "label-order-mismatch",
    "warning",
    "log",
    "Validation accuracy below chance while training learns: class indices differ",
)
declare(
    "GL427",
    "train-eval-preprocessing-mismatch",
    "warning",
    "log",
    "One class for every validation image while training learns: validation inputs differ",
)
declare(
    "GL426",
    "head-mismatch",
    "error",
    "log",
    "The framework says the labels or loaded weights do not fit the output layer",
)
declare(
    "GL445",
    "include-top",
    "warning",
    "log",
    "The framework says a 1000-unit output met K-class targets: the ImageNet top is kept",
)
declare(
    "GL428",
    "trivial-accuracy",
    "warning",
    "log",
    "Loss near ln K and accuracy near 1/K all along (K read from the numbers): inputs carry "
    "nothing",
)
declare(
    "GL430",
    "no-shuffle",
    "warning",
    "log",
    "Validation accuracy exactly 0 (or 1) while training learns: validation is unseen classes",
)
declare(
    "GL431",
    "label-order-mismatch",
    "warning",
    "log",
    "Predictions are printed with ImageNet class names on a model trained on other classes",
)
declare(
    "GL432",
    "divergence",
    "warning",
    "log",
    "Training accuracy of a model that starts well collapses within the first epoch",
)
declare(
    "GL434",
    "batchnorm",
    "error",
    "log",
    "BatchNorm in training mode on a batch of one sample (PyTorch stops)",
)
# A loss that explodes is seen (divergence, an error); why is inferred: the finding names its
# likely cause (``Finding.causes``), the learning rate, and says so.
declare(
    "GL417",
    "divergence",
    "error",
    "log",
    "Loss becomes NaN or explodes right after unfreezing",
)

# -- one forward/backward pass of a PyTorch model (graftlab.doctor.model_check) --------------
declare(
    "GL501",
    "double-softmax",
    "error",
    "model",
    "Model outputs probabilities; cross-entropy applies softmax again",
)
declare(
    "GL502",
    "single-unit-softmax",
    "error",
    "model",
    "Softmax over one output unit: the output is always 1.0",
)
declare(
    "GL503",
    "activation-loss-mismatch",
    "error",
    "model",
    "Sigmoid outputs fed to BCEWithLogitsLoss (sigmoid applied twice)",
)
declare(
    "GL504",
    "trainable-not-applied",
    "error",
    "model",
    "Trainable parameters the optimizer never updates",
)
declare(
    "GL505", "trainable-not-applied", "warning", "model", "Frozen parameters inside the optimizer"
)
declare(
    "GL506",
    "batchnorm",
    "warning",
    "model",
    "BatchNorm in training mode under frozen weights or a tiny batch",
)
declare(
    "GL507",
    "batchnorm",
    "warning",
    "model",
    "Train-mode and eval-mode predictions disagree on the same batch",
)
declare("GL508", "preprocessing-mismatch", "error", "model", "Input pixels in 0..255: not scaled")
declare(
    "GL509",
    "preprocessing-mismatch",
    "warning",
    "model",
    "Input in [0, 1] but the backbone expects normalised input",
)
declare(
    "GL510",
    "preprocessing-mismatch",
    "warning",
    "model",
    "Input normalised with statistics other than the backbone's",
)
declare("GL511", "other", "warning", "model", "Loss at initialisation far above ln(K)")
declare("GL512", "divergence", "error", "model", "Loss or gradients not finite on the first step")
declare("GL513", "divergence", "warning", "model", "Exploding gradient norm on the first step")
declare("GL514", "other", "warning", "model", "Trainable parameters get no or vanishing gradient")
declare("GL515", "head-mismatch", "error", "model", "Labels outside the model's output units")

# -- data before training (graftlab.doctor.preflight) ----------------------------------------
declare("GL601", "data-leakage", "error", "preflight", "Identical images in train and val/test")
declare(
    "GL602",
    "data-leakage",
    "warning",
    "preflight",
    "Near-duplicate images across splits (feature space)",
)
declare("GL603", "other", "warning", "preflight", "Classes with very few training images")
declare("GL604", "other", "warning", "preflight", "Extreme class imbalance")
declare(
    "GL605", "other", "warning", "preflight", "Validation split too small to measure every class"
)

# -- inside the trainer (graftlab.doctor.monitors) --------------------------------------------
declare(
    "GL611", "trivial-accuracy", "error", "monitor", "Every validation prediction is the same class"
)
declare(
    "GL612",
    "trivial-accuracy",
    "error",
    "monitor",
    "Validation accuracy at chance or the majority share",
)
declare("GL613", "other", "warning", "monitor", "First-batch loss far above ln(K)")
declare("GL614", "divergence", "error", "monitor", "Gradient norm not finite")
declare("GL615", "divergence", "warning", "monitor", "Gradient norm explodes")
declare(
    "GL616",
    "batchnorm",
    "warning",
    "monitor",
    "Train-mode and eval-mode accuracy differ on the same batch",
)
declare(
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
    causes: Iterable[str] = (),
) -> Finding:
    """Build the finding of check ``code``; category, and by default title and severity, from
    the table. ``causes``: the likely root causes when the check's category is a symptom."""
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
        causes=list(causes),
    )


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
    "validation-split": "Keras Model.fit: validation_split takes the last samples of x and y "
    "before shuffling: https://keras.io/api/models/model_training_apis/#fit-method",
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
    if fw == "graftlab":
        # graftlab already fits the head first and gives each stage a lower rate: what is
        # left to turn is how large those rates are.
        return (
            "# This run already started from the linear probe's head with per-stage learning\n"
            "# rates; make the backbone's steps smaller (the probe stays selectable anyway):\n"
            "graftlab train DATA lr=5e-4 layer_decay=0.5\n"
            "# or keep the frozen-feature model:\n"
            "graftlab train DATA --strategy lp"
        )
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
