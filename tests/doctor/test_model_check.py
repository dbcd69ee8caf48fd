"""graftlab.doctor.model_check: one forward/backward pass finds what would break training."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from graftlab.doctor.model_check import check_model
from graftlab.errors import ConfigError

IMAGENET = {"mean": (0.485, 0.456, 0.406), "std": (0.229, 0.224, 0.225)}


def cnn(k=3, *, softmax=False, bn=True, head_scale=1.0, seed=0):
    torch.manual_seed(seed)
    layers = [nn.Conv2d(3, 8, 3)]
    layers += [nn.BatchNorm2d(8)] if bn else []
    layers += [nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, k)]
    layers += [nn.Softmax(dim=1)] if softmax else []
    model = nn.Sequential(*layers)
    with torch.no_grad():
        model[-2 if softmax else -1].weight.mul_(head_scale)
    return model.eval()


def normalised_batch(n=8, k=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = (torch.rand(n, 3, 16, 16, generator=g) - 0.45) / 0.226
    return x, torch.randint(0, k, (n,), generator=g)


def codes(findings):
    return [f.code for f in findings]


def test_a_correct_model_has_no_findings():
    x, y = normalised_batch()
    model = cnn()
    model.pretrained_cfg = IMAGENET
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    assert check_model(model, (x, y), nn.CrossEntropyLoss(), optimizer) == []


def test_softmax_in_forward_with_cross_entropy_is_double_softmax():
    [f] = check_model(cnn(softmax=True), normalised_batch(), nn.CrossEntropyLoss())
    assert (f.code, f.category, f.severity) == ("GL501", "double-softmax", "error")
    assert "CrossEntropyLoss" in f.evidence and "every row sums to 1" in f.evidence
    assert "e/(e + 2) = 0.576" in f.explanation


def test_softmax_in_forward_without_a_loss_is_a_warning():
    [f] = check_model(cnn(softmax=True), normalised_batch()[0])
    assert (f.code, f.severity) == ("GL501", "warning")


def test_softmax_over_one_unit_always_outputs_one():
    x, _ = normalised_batch()
    y = torch.zeros(8, dtype=torch.long)
    [f] = check_model(cnn(k=1, softmax=True), (x, y))
    assert (f.code, f.category) == ("GL502", "single-unit-softmax")
    assert "exactly 1.0" in f.evidence


def test_sigmoid_outputs_into_bce_with_logits_is_a_double_sigmoid():
    model = nn.Sequential(cnn(k=4), nn.Sigmoid())
    x, _ = normalised_batch()
    y = torch.randint(0, 2, (8, 4)).float()
    assert "GL503" in codes(check_model(model, (x, y), nn.BCEWithLogitsLoss()))


def test_labels_beyond_the_output_units_are_a_head_mismatch():
    x, _ = normalised_batch()
    f = next(f for f in check_model(cnn(k=3), (x, torch.arange(8) % 5)) if f.code == "GL515")
    assert f.category == "head-mismatch" and "up to 4" in f.title


def test_trainable_parameters_left_out_of_the_optimizer():
    model = cnn()
    optimizer = torch.optim.SGD(model[-1].parameters(), lr=0.1)
    [f] = check_model(model, normalised_batch(), optimizer=optimizer)
    assert (f.code, f.category, f.severity) == ("GL504", "trainable-not-applied", "error")
    assert "4 of 6 trainable tensors" in f.evidence and "0.weight" in f.evidence


def test_optimizer_built_for_another_model_object():
    model, other = cnn(), cnn()
    [f] = check_model(model, normalised_batch(), optimizer=torch.optim.SGD(other.parameters(), 0.1))
    assert f.code == "GL504" and "none of this model's parameters" in f.title


def test_zero_learning_rate_and_frozen_parameters_in_the_optimizer():
    model = cnn()
    model[0].requires_grad_(False)
    optimizer = torch.optim.SGD(
        [
            {"params": model[0].parameters(), "lr": 0.1},
            {"params": model[-1].parameters(), "lr": 0.0},
            {"params": model[1].parameters(), "lr": 0.1},
        ]
    )
    found = {f.code: f for f in check_model(model, normalised_batch(), optimizer=optimizer)}
    assert set(found) == {"GL504", "GL505"}
    assert "lr=0" in found["GL504"].evidence and "0.weight" in found["GL505"].evidence


def test_batchnorm_in_train_mode_with_frozen_weights():
    model = cnn().train()
    model[1].requires_grad_(False)
    f = next(f for f in check_model(model, normalised_batch()) if f.code == "GL506")
    assert f.category == "batchnorm" and "1 of 1 BatchNorm" in f.evidence


def test_running_statistics_that_do_not_match_the_data_show_as_a_train_eval_gap():
    model = cnn(head_scale=20.0)
    model[1].running_mean.fill_(3.0)
    model[1].running_var.fill_(0.01)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    f = next(f for f in check_model(model, normalised_batch(n=16)) if f.code == "GL507")
    assert f.category == "batchnorm" and "agree" in f.evidence
    # The check left the model exactly as it was: buffers, modes and gradients.
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert not model.training and all(p.grad is None for p in model.parameters())


@pytest.mark.parametrize(
    ("x", "code"),
    [
        ((torch.rand(8, 3, 16, 16) * 255).to(torch.uint8), "GL508"),
        (torch.rand(8, 3, 16, 16) * 255, "GL508"),
        (torch.rand(8, 3, 16, 16), "GL509"),
        (torch.rand(8, 3, 16, 16) * 2 - 1, "GL510"),
    ],
    ids=["uint8", "float-0-255", "0-1", "minus1-1"],
)
def test_input_statistics_against_the_backbones_normalisation(x, code):
    model = cnn(bn=False)
    model.pretrained_cfg = IMAGENET
    found = [f for f in check_model(model, x) if f.category == "preprocessing-mismatch"]
    assert codes(found) == [code]
    assert "mean" in found[0].evidence


def test_expected_statistics_can_be_given_and_unknown_ones_skip_the_check():
    x = torch.rand(8, 3, 16, 16)
    assert "GL509" in codes(check_model(cnn(bn=False), x, expected_mean=0.5, expected_std=0.5))
    assert codes(check_model(cnn(bn=False), x)) == []


def test_loss_at_initialisation_far_above_ln_k():
    found = check_model(cnn(bn=False, head_scale=200.0), normalised_batch(), nn.CrossEntropyLoss())
    f = next(f for f in found if f.code == "GL511")
    assert "ln(3) = 1.099" in f.title


def test_exploding_and_non_finite_gradients():
    x, y = normalised_batch()
    found = check_model(cnn(bn=False, head_scale=1e6), (x * 1e3, y))
    assert "GL513" in codes(found)
    x_nan = x.clone()
    x_nan[0, 0, 0, 0] = float("nan")
    f = next(f for f in check_model(cnn(bn=False), (x_nan, y)) if f.category == "divergence")
    assert (f.code, f.severity) == ("GL512", "error")


def test_head_not_used_by_forward_gets_no_gradient():
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = cnn(bn=False)
            self.classifier = nn.Linear(8, 3)  # the new head, never called

        def forward(self, x):
            return self.body(x)

    [f] = check_model(Model(), normalised_batch())
    assert f.code == "GL514" and "classifier.weight" in f.evidence


def test_batch_forms_and_bad_inputs():
    x, y = normalised_batch()
    model = cnn()
    assert check_model(model, {"image": x, "label": y}) == check_model(model, [x, y])
    with pytest.raises(ConfigError, match="needs a batch"):
        check_model(model, "not a batch")
    with pytest.raises(ConfigError, match=r"torch\.nn\.Module"):
        check_model(object(), x)
