"""BatchNorm folded into convolutions for inference: same outputs, fewer layers, never a
change of the model."""

from __future__ import annotations

import torch
from torch import nn

from graftlab.features.fold import folded_for_inference
from tests._kit import INPUT_SIZE, make_model


def _random_statistics(model: nn.Module, seed: int = 1) -> nn.Module:
    """Non-trivial running statistics and affine parameters, so that folding has work to do."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.5)
                m.running_var.copy_(torch.rand(m.num_features, generator=g) * 2 + 0.1)
                m.weight.copy_(torch.randn(m.num_features, generator=g))
                m.bias.copy_(torch.randn(m.num_features, generator=g))
    return model.eval()


def _pooled(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    with torch.inference_mode():
        return model.forward_head(model.forward_features(x), pre_logits=True)


def _batchnorms(model: nn.Module) -> int:
    return sum(isinstance(m, nn.BatchNorm2d) for m in model.modules())


def test_timm_model_folds_every_conv_batchnorm_pair_with_the_same_features():
    model = _random_statistics(make_model())
    x = torch.rand(3, 3, INPUT_SIZE, INPUT_SIZE)
    folded = folded_for_inference(model, INPUT_SIZE)
    assert folded is not model
    assert _batchnorms(model) > 0 and _batchnorms(folded) == 0
    torch.testing.assert_close(_pooled(folded, x), _pooled(model, x), rtol=1e-4, atol=1e-5)
    assert _batchnorms(model) > 0  # the model itself is untouched


class _Residual(nn.Module):
    """conv -> bn -> relu; a second conv whose output is read twice (by its BatchNorm and by
    the sum); a BatchNorm after the sum, which no convolution feeds."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(3, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4)
        self.conv2, self.bn2 = nn.Conv2d(4, 4, 1), nn.BatchNorm2d(4)
        self.bn3 = nn.BatchNorm2d(4)
        self.num_features = 4

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.bn1(self.conv1(x)))
        c = self.conv2(h)
        return self.bn3(self.bn2(c) + c)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        return x.mean((2, 3))


def test_only_pairs_whose_conv_output_nothing_else_reads_are_folded():
    model = _random_statistics(_Residual())
    folded = folded_for_inference(model, 8)
    assert isinstance(folded.bn1, nn.Identity)  # conv1 -> bn1 only
    assert isinstance(folded.bn2, nn.BatchNorm2d)  # conv2's output also feeds the sum
    assert isinstance(folded.bn3, nn.BatchNorm2d)  # fed by a sum, not a convolution
    x = torch.rand(2, 3, 8, 8)
    torch.testing.assert_close(_pooled(folded, x), _pooled(model, x), rtol=1e-4, atol=1e-5)


class _StandardisedConv(nn.Conv2d):
    """Weight standardisation in forward: scaling the weights is undone, so folding is wrong."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weight
        w = (w - w.mean((1, 2, 3), keepdim=True)) / (w.std((1, 2, 3), keepdim=True) + 1e-5)
        return nn.functional.conv2d(x, w, self.bias, self.stride, self.padding)


class _Standardised(_Residual):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = _StandardisedConv(3, 4, 3, padding=1, bias=False)


def test_a_copy_that_computes_something_else_is_discarded_for_the_model():
    model = _random_statistics(_Standardised())
    assert folded_for_inference(model, 8) is model


def test_a_model_in_training_mode_is_never_folded():
    model = _random_statistics(make_model()).train()
    assert folded_for_inference(model, INPUT_SIZE) is model


def test_the_copy_is_reused_until_a_parameter_changes_and_the_random_state_is_untouched():
    model = _random_statistics(make_model())
    torch.manual_seed(5)
    before = torch.random.get_rng_state()
    first = folded_for_inference(model, INPUT_SIZE)
    assert torch.equal(torch.random.get_rng_state(), before)
    assert folded_for_inference(model, INPUT_SIZE) is first
    with torch.no_grad():
        model.conv_stem.weight.mul_(2.0)  # in place: a training step, a loaded state dict
    second = folded_for_inference(model, INPUT_SIZE)
    assert second is not first
    x = torch.rand(2, 3, INPUT_SIZE, INPUT_SIZE)
    # atol 5e-5: on a CPU with AVX2 only, fp32 convolutions of the folded and the unfolded
    # model round differently by up to 1.6e-5 on one pooled value of 512 (2026-12-07)
    torch.testing.assert_close(_pooled(second, x), _pooled(model, x), rtol=1e-4, atol=5e-5)


def test_under_bf16_the_folded_copy_is_as_near_the_float32_model_as_the_model_itself():
    # Under bf16 autocast the folded bias is rounded to bf16 with the weights; the unfolded
    # model rounds every BatchNorm output instead. Neither is the float32 model: the folded
    # copy must be no further from it than bf16 already puts the model.
    model = _random_statistics(make_model())
    folded = folded_for_inference(model, INPUT_SIZE, "bf16")
    assert folded is not model
    x = torch.rand(8, 3, INPUT_SIZE, INPUT_SIZE, generator=torch.Generator().manual_seed(0))
    want = _pooled(model, x)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        err = {
            name: float((_pooled(net, x).float() - want).norm() / want.norm())
            for name, net in (("model", model), ("folded", folded))
        }
    assert 0 < err["folded"] < 1.5 * err["model"], err


def test_under_fp16_the_model_is_run_as_it_is():
    # float16's range: a BatchNorm scale of 1/sqrt(var + eps) multiplied into the weights can
    # leave it, where the unfolded model keeps the statistics in float32.
    model = _random_statistics(make_model())
    assert folded_for_inference(model, INPUT_SIZE, "fp16") is model
    assert folded_for_inference(model, INPUT_SIZE, "fp32") is not model
