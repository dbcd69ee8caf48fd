"""Prediction that applies one element of a pipeline's transform list."""

from __future__ import annotations

from graftlab.doctor.script import check_script


def _found(src: str, category: str) -> list:
    return [
        f
        for f in check_script(src, filename="post.py")
        if f.category == category and f.severity in ("error", "warning")
    ]


SERVE = """\
import torch
from mylib import load_pipeline_and_model
pipe, net = load_pipeline_and_model("export")
def handle(images):
    xs = [{apply} for img in images]
    return net.predict(torch.stack(xs))
"""


def test_prediction_through_one_element_of_the_transform_list():
    found = _found(
        SERVE.format(apply="pipe.transforms[0](img)"), "train-eval-preprocessing-mismatch"
    )
    (f,) = found
    assert f.code == "GL237" and f.severity == "warning" and "post.py:5:" in f.evidence


def test_prediction_through_the_whole_pipeline_is_silent():
    assert _found(SERVE.format(apply="pipe(img)"), "train-eval-preprocessing-mismatch") == []
