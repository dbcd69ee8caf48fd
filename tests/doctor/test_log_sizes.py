"""GL440: the framework's own message that images reach the model at another size
(graftlab.doctor._logsizes), read from a paste with or without training lines."""

from __future__ import annotations

from graftlab.doctor.logs import check_log


def _sizes(text: str) -> list:
    return [f for f in check_log(text) if f.code == "GL440"]


def test_a_keras_value_error_alone_is_read_and_names_both_sizes():
    text = (
        '  File "app.py", line 30, in classify\n'
        "    probs = model.predict(batch)\n"
        'ValueError: Input 0 of layer "functional_1" is incompatible with the layer: '
        "expected shape=(None, 96, 96, 3), found shape=(None, 128, 128, 3)\n"
    )
    (f,) = _sizes(text)
    assert (f.severity, f.category) == ("error", "input-size-mismatch")
    assert "built for 96x96" in f.title and "given 128x128" in f.title


def test_channels_first_shapes_are_read_as_height_and_width():
    text = (
        "Model was constructed with shape (None, 3, 64, 64) for input x, but it was called "
        "on an input with incompatible shape (None, 3, 32, 32).\n"
    )
    (f,) = _sizes(text)
    assert "built for 64x64" in f.title and "given 32x32" in f.title


def test_a_missing_batch_dimension_is_not_a_size_mismatch():
    # same height and width, one dimension short: the message is about the batch axis
    text = (
        "Epoch 1/1\n10/10 - 3s - loss: 0.5012 - accuracy: 0.7700\n"
        "Model was constructed with shape (None, 64, 64, 3) for input x, but it was called "
        "on an input with incompatible shape (64, 64, 3).\n"
    )
    assert _sizes(text) == []


def test_flattened_counts_are_a_warning_only_when_they_are_a_size_change():
    square = (
        "ValueError: Input 0 of layer dense is incompatible with the layer: expected axis -1 "
        "of input shape to have value 4608, but received input with shape (None, 8192)\n"
    )
    (f,) = _sizes(square)  # 8192/4608 = (4/3)^2: a Flatten over images 4/3 as large per side
    assert f.severity == "warning" and "4/3" in f.evidence and "inferred" in f.evidence
    other = square.replace("(None, 8192)", "(None, 5001)")  # 5001/4608 is no square
    assert _sizes(other) == []


def test_feature_maps_shrinking_to_nothing_say_the_images_are_too_small():
    torch_msg = (
        "RuntimeError: Given input size: (256x1x1). Calculated output size: (256x0x0). "
        "Output size is too small\n"
    )
    tf_msg = (
        "ValueError: Negative dimension size caused by subtracting 3 from 1 for "
        "'max_pooling2d_4/MaxPool' with input shapes: [?,1,1,512].\n"
    )
    for text in (torch_msg, tf_msg):
        (f,) = _sizes(text)
        assert f.severity == "warning" and "too small" in f.title and "inferred" in f.evidence
