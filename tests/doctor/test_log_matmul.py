"""PyTorch's "mat1 and mat2 shapes cannot be multiplied" read for its cause
(graftlab.doctor._logmatmul): an image-size change or a head built for another backbone."""

from __future__ import annotations

import pytest

from graftlab.doctor.logs import check_log

TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "train.py", line 41, in <module>\n'
    "    outputs = model(inputs)\n"
    '  File "torch/nn/modules/linear.py", line 116, in forward\n'
    "    return F.linear(input, self.weight, self.bias)\n"
    "RuntimeError: mat1 and mat2 shapes cannot be multiplied ({a}x{b} and {c}x{d})\n"
)


def _shape_findings(a, b, c, d):
    text = TRACEBACK.format(a=a, b=b, c=c, d=d)
    return [f for f in check_log(text) if f.code in ("GL440", "GL444")]


def test_a_flattened_map_of_another_area_is_read_as_another_image_size():
    # 128 channels of 12x12 where the layer was built for 8x8: images 1.5 times as large
    [f] = _shape_findings(32, 128 * 12 * 12, 128 * 8 * 8, 10)
    assert (f.code, f.category, f.severity) == ("GL440", "input-size-mismatch", "warning")
    assert "3/2 times the size per side" in f.title and "(3/2)^2" in f.evidence
    assert "inferred" in f.evidence


@pytest.mark.parametrize(
    ("given", "built"),
    [(2048, 512), (1280, 2048), (768, 1000)],  # ResNet-50 into a ResNet-18 head; B0; ViT-B
)
def test_a_backbone_width_into_a_head_of_another_width_is_a_head_mismatch(given, built):
    [f] = _shape_findings(16, given, built, 5)
    assert (f.code, f.category, f.severity) == ("GL444", "head-mismatch", "warning")
    assert f"built for {built} input features is given {given}" in f.title
    assert "in_features" in f.fix and "inferred" in f.evidence


def test_counts_that_fit_neither_reading_say_nothing():
    # a missing flatten: the last spatial side (7) reaches the layer
    assert _shape_findings(14336, 7, 25088, 4096) == []
    # a pooled width given where the layer wants a flattened map: not one reading for sure
    assert _shape_findings(8, 2048, 8192, 10) == []


def test_the_message_is_read_inside_a_training_log_too():
    epochs = "".join(
        f"Epoch {e}: train loss {1.2 - 0.2 * e:.2f} acc {0.5 + 0.1 * e:.2f}\n" for e in (1, 2)
    )
    text = epochs + TRACEBACK.format(a=8, b=2048, c=512, d=3)
    assert [f.code for f in check_log(text) if f.severity != "info"] == ["GL444"]
