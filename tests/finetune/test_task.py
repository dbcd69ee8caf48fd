"""Task: output units, activation, loss and metrics come from the labels, together."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from graftlab.data import load_dataset
from graftlab.errors import ConfigError
from graftlab.finetune.task import Task, balanced_weights


def _image(path, value):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((8, 8, 3), value, np.uint8)).save(path)


def test_multiclass_head_is_softmax_cross_entropy_over_all_classes():
    task = Task("multiclass", 7)
    logits = torch.randn(5, 7)
    y = torch.tensor([0, 1, 6, 3, 3])
    assert task.num_outputs == 7 and task.activation == "softmax" and task.monitor == "accuracy"
    torch.testing.assert_close(task.loss(logits, y), F.cross_entropy(logits, y))
    assert torch.allclose(task.probs(logits).sum(1), torch.ones(5))
    assert task.head_spec(32) == {
        "type": "linear",
        "in_features": 32,
        "out_features": 7,
        "activation": "softmax",
    }


def test_label_smoothing_is_applied():
    logits, y = torch.randn(4, 3), torch.tensor([0, 1, 2, 0])
    smooth = Task("multiclass", 3, label_smoothing=0.1).loss(logits, y)
    torch.testing.assert_close(smooth, F.cross_entropy(logits, y, label_smoothing=0.1))
    assert not torch.isclose(smooth, Task("multiclass", 3).loss(logits, y))


def test_binary_folder_gets_two_unit_softmax_and_accuracy_over_both_classes(tmp_path):
    for i in range(6):
        _image(tmp_path / "cat" / f"{i}.png", 10 * i)
        _image(tmp_path / "dog" / f"{i}.png", 200 - 10 * i)
    ds = load_dataset(tmp_path, val_fraction=0.34, test_fraction=0, progress=False)
    task = Task.from_dataset(ds)
    assert (task.kind, task.num_outputs, task.activation) == ("binary", 2, "softmax")
    probs = task.probs(torch.tensor([[2.0, -1.0], [0.0, 3.0]])).numpy()
    assert probs.shape == (2, 2) and np.allclose(probs.sum(1), 1)
    # The "accuracy equals the positive share" symptom cannot happen: both classes are scored.
    assert task.metrics(probs, np.array([0, 1]))["accuracy"] == 1.0
    assert task.metrics(probs, np.array([1, 0]))["accuracy"] == 0.0


def test_binary_with_one_output_unit_is_refused():
    with pytest.raises(ConfigError, match="exactly 2 output units"):
        Task("binary", 1)


def test_multilabel_csv_gets_sigmoid_bce_and_map(tmp_path):
    rows = ["path,label"]
    for i in range(8):
        _image(tmp_path / f"{i}.png", 20 * i)
        rows.append(f"{i}.png," + ["sky|sea", "sea", "sky", "sand;sea"][i % 4])
    (tmp_path / "labels.csv").write_text("\n".join(rows) + "\n")
    ds = load_dataset(tmp_path / "labels.csv", val_fraction=0.25, test_fraction=0, progress=False)
    task = Task.from_dataset(ds)
    assert (task.kind, task.num_outputs, task.activation, task.monitor) == (
        "multilabel",
        3,
        "sigmoid",
        "mAP",
    )
    logits = torch.randn(4, 3)
    y = torch.tensor([[1, 0, 1], [0, 1, 0], [1, 1, 1], [0, 0, 1]])
    torch.testing.assert_close(
        task.loss(logits, y), F.binary_cross_entropy_with_logits(logits, y.float())
    )
    probs = task.probs(logits).numpy()
    assert not np.allclose(probs.sum(1), 1)  # independent sigmoids, not a softmax
    metrics = task.metrics(probs, y.numpy())
    assert {"mAP", "per_label_f1", "macro_f1"} <= set(metrics)
    assert len(metrics["per_label_f1"]) == 3


def test_auto_class_weights_are_inverse_frequency_normalised():
    y = np.array([0] * 8 + [1] * 2)
    task = Task.from_labels("binary", y, 2, class_weights="auto")
    assert task.class_weights == pytest.approx((10 / 16, 10 / 4))
    # Weighted over the training samples, the average weight is 1.
    assert np.mean(np.array(task.class_weights)[y]) == pytest.approx(1.0)
    # A mistake on the rare class now costs more than the same mistake on the common one.
    y_batch = torch.tensor([0, 1])
    miss_common = task.loss(torch.tensor([[0.0, 2.0], [0.0, 2.0]]), y_batch)
    miss_rare = task.loss(torch.tensor([[2.0, 0.0], [2.0, 0.0]]), y_batch)
    assert miss_rare > miss_common
    assert Task.from_labels("binary", y, 2).class_weights is None


def test_multilabel_auto_weights_balance_positives_and_negatives():
    y = np.array([[1, 0], [0, 0], [0, 0], [0, 1]])
    assert balanced_weights("multilabel", y, 2) == pytest.approx([3.0, 3.0])


def test_bad_options_name_the_fix():
    with pytest.raises(ConfigError, match="Did you mean 'auto'"):
        Task.from_labels("multiclass", np.array([0, 1]), 2, class_weights="autp")
    with pytest.raises(ConfigError, match="multilabel"):
        Task("multilable", 3)


def test_round_trip_through_dict():
    task = Task("multiclass", 3, (1.0, 2.0, 0.5), 0.1)
    assert Task.from_dict(task.to_dict()) == task
