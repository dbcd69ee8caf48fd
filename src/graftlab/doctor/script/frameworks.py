"""Which framework a script is written for, when its imports do not say.

People post fragments without their imports: ``for layer in model.layers[:249]:
layer.trainable = True`` is Keras, ``def forward(self, x)`` with ``loss.backward()`` is
PyTorch. The imports decide when there are any; otherwise the idioms are counted (a
fragment of a TF script may well use a "DataLoader" of its own).
"""

from __future__ import annotations

import ast

from graftlab.doctor.script._rules import Ctx

_KERAS_METHODS = {
    "compile",
    "fit",
    "fit_generator",
    "predict_generator",
    "evaluate_generator",
    "flow_from_directory",
    "flow_from_dataframe",
    "load_weights",
    "save_weights",
    "summary",
}
_KERAS_NAMES = {
    "Dense",
    "Conv2D",
    "Sequential",
    "ImageDataGenerator",
    "GlobalAveragePooling2D",
    "Flatten",
    "Dropout",
    "ModelCheckpoint",
    "EarlyStopping",
    "image_dataset_from_directory",
    "to_categorical",
}
_KERAS_ATTRS = {"trainable", "layers", "class_indices"}
_TORCH_METHODS = {
    "backward",
    "zero_grad",
    "state_dict",
    "load_state_dict",
    "parameters",
    "named_parameters",
    "cuda",
    "requires_grad_",
}
_TORCH_NAMES = {
    "Linear",
    "CrossEntropyLoss",
    "NLLLoss",
    "BCELoss",
    "BCEWithLogitsLoss",
    "DataLoader",
    "ImageFolder",
    "Compose",
    "ToTensor",
    "no_grad",
}
_TORCH_ATTRS = {"requires_grad", "fc", "classifier"}


def _scores(tree: ast.Module) -> tuple[int, int]:
    keras = torch = 0
    for n in ast.walk(tree):
        if isinstance(n, ast.Call):
            f = n.func
            name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            method = isinstance(f, ast.Attribute)
            keras += (method and name in _KERAS_METHODS) + (name in _KERAS_NAMES)
            torch += (method and name in _TORCH_METHODS) + (name in _TORCH_NAMES)
            torch += name.endswith("DataLoader") and name != "DataLoader"
        elif isinstance(n, ast.Attribute):
            keras += n.attr in _KERAS_ATTRS and isinstance(n.ctx, ast.Store)
            torch += n.attr in _TORCH_ATTRS and isinstance(n.ctx, ast.Store)
        elif isinstance(n, ast.FunctionDef) and n.name == "forward":
            torch += 3  # the torch module contract
        elif isinstance(n, ast.Name) and n.id in ("torch", "nn", "F"):
            torch += 1
        elif isinstance(n, ast.Name) and n.id in ("tf", "keras", "K"):
            keras += 1
    return keras, torch


def _guess(ctx: Ctx) -> tuple[bool, bool]:
    if "frameworks" not in ctx.cache:
        imports = any(isinstance(n, ast.Import | ast.ImportFrom) for n in ast.walk(ctx.src.tree))
        if imports and (ctx.keras or ctx.torch):
            ctx.cache["frameworks"] = (ctx.keras, ctx.torch)
        else:
            k, t = _scores(ctx.src.tree)
            ctx.cache["frameworks"] = (k > t, t > k) if k != t else (ctx.keras, ctx.torch)
    return ctx.cache["frameworks"]


def uses_keras(ctx: Ctx) -> bool:
    """The script imports Keras/TensorFlow, or, without imports, reads like Keras."""
    return _guess(ctx)[0]


def uses_torch(ctx: Ctx) -> bool:
    """The script imports PyTorch, or, without imports, reads like PyTorch."""
    return _guess(ctx)[1]
