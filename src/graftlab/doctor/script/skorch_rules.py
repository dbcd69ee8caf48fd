"""skorch: the validation iterator is also the prediction iterator.

``NeuralNet(..., iterator_valid__shuffle=True)`` shuffles the loader skorch builds for
``predict()``, ``predict_proba()`` and ``score()`` as well as for its own validation split.
skorch scores its validation split on the labels of the same batches, so ``valid_acc`` looks
right; ``net.predict(X)`` returns the predictions in shuffled order, and any comparison with
``y`` (``accuracy_score``, ``cross_val_score``, a grid search) pairs them at random: chance.
"""

from __future__ import annotations

import ast

from graftlab.doctor.script._rules import Ctx, check
from graftlab.doctor.script.common_rules import once
from graftlab.doctor.script.knowledge import REFS

_NETS = {"NeuralNet", "NeuralNetClassifier", "NeuralNetBinaryClassifier", "NeuralNetRegressor"}
#: Calls that run the net's prediction iterator and compare the result with labels.
_PREDICT = {"predict", "predict_proba", "score"}
_SEARCH = {"cross_val_score", "cross_val_predict", "cross_validate", "GridSearchCV",
           "RandomizedSearchCV"}  # fmt: skip


@check("skorch.valid_shuffle")
def check_shuffled_prediction_iterator(ctx: Ctx) -> None:
    """GL218: ``iterator_valid__shuffle=True`` with predictions compared with labels."""
    prog = ctx.prog
    setting, line = None, 0
    for c in prog.calls:
        if setting is None and (c.name in _NETS or c.name == "set_params"):
            node = c.kw("iterator_valid__shuffle")
            if node is not None and prog.const(node, c.ev.idx, c.ev.scope) is True:
                setting, line = c, node.lineno
    if setting is None:
        return
    uses = [
        c
        for c in prog.calls
        if c.ev.idx > setting.ev.idx
        and (
            (c.name in _PREDICT and c.node.args and isinstance(c.node.func, ast.Attribute))
            or c.name in _SEARCH
        )
    ]
    if not uses or not once(ctx, "skorch.valid_shuffle"):
        return
    use = uses[0]
    ctx.add(
        "GL218",
        "label-order-mismatch",
        "error",
        f"iterator_valid__shuffle=True also shuffles the loader {use.name}() runs on: the "
        "predictions come back in another order than X",
        [line, use.node.lineno],
        "skorch uses its validation iterator for predict(), predict_proba() and score() as "
        "well as for the validation split. Shuffled, it returns the predictions of X in a "
        "random order, so comparing them with y pairs each prediction with another sample's "
        "label and scores chance, while the valid_acc skorch prints (computed batch by batch "
        "on the labels of the same batches) looks right.",
        "Leave the validation/prediction iterator unshuffled: remove "
        "iterator_valid__shuffle=True (shuffling is for iterator_train__shuffle).",
        [REFS["torch_loader"], "https://skorch.readthedocs.io/en/stable/net.html"],
    )
