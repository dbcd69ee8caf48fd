"""What a Keras model's predictions on new images are compared with when its training is not
in the paste: the arrays the same model object is scored on.

A model loaded from a file (``model = load_model('net.h5')``) and scored with
``model.evaluate(X_test, Y_test)`` (or ``predict``) on arrays prepared one way, then given a
photo prepared another way (``preprocess_input`` against ``X_test / 255``): one of the two is
fed inputs the weights were not trained on. The scored arrays are taken to be prepared as in
training, which is the inferred link, so the finding this feeds (GL112) is a ``warning``.
"""

from __future__ import annotations

import ast

from graftlab.doctor.script._rules import Ctx
from graftlab.doctor.script.flow import CallSite
from graftlab.doctor.script.keras_model import keras_script
from graftlab.doctor.script.keras_pre import Preprocessing


def evaluated_alike(ctx: Ctx, pred: CallSite, pp: Preprocessing) -> tuple[list, str]:
    """The ``evaluate()`` / ``predict()`` calls on the model ``pred`` runs, with arrays (not a
    generator, not images loaded by the paste) whose preprocessing can be read, and the
    sentence saying the link is inferred; ``([], "")`` when there is none."""
    ks = keras_script(ctx)
    found: list[CallSite] = []
    for ev in ctx.prog.method_calls("evaluate") + ctx.prog.method_calls("predict"):
        x = ev.arg(0, "x")
        if ev.node is pred.node or x is None or not ks.same_receiver(ev, pred):
            continue
        if ks.flow_of(x, ev.ev) is not None or pp.loads_images(x, ev.ev):
            continue
        if pp.data_ops(x, ev.ev):
            found.append(ev)
    if not found:
        return [], ""
    found.sort(key=lambda c: c.ev.idx)
    ev = found[-1]
    return found, (
        f" (Inferred: the predicting model is not trained in the code shown; the arrays it is "
        f"scored on, {ast.unparse(ev.arg(0, 'x'))} (line {ev.node.lineno}), are taken to be "
        "prepared the way it was trained.)"
    )
