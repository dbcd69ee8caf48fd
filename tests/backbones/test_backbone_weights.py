"""Weights from local files: formats, wrappers, refusals and the missing/unexpected report."""

from __future__ import annotations

import argparse

import pytest
import torch
from safetensors.torch import save_file

from graftlab.backbones import create_backbone
from graftlab.errors import BackboneError

ARCH = "test_efficientnet"


@pytest.fixture(scope="module")
def trained() -> dict[str, torch.Tensor]:
    """A state_dict that differs from any random init, so a real load is visible."""
    torch.manual_seed(0)
    model = create_backbone(ARCH, weights="none")
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    return {k: v.clone() for k, v in model.state_dict().items()}


def _same(model: torch.nn.Module, sd: dict[str, torch.Tensor]) -> bool:
    return all(torch.equal(v, sd[k]) for k, v in model.state_dict().items())


def test_safetensors_round_trip(tmp_path, trained):
    path = tmp_path / "w.safetensors"
    save_file({k: v.contiguous() for k, v in trained.items()}, str(path))
    model = create_backbone(ARCH, weights=path)
    assert _same(model, trained)
    assert model.graftlab_weights["source"] == "file"
    assert model.graftlab_weights["path"] == str(path)
    assert len(model.graftlab_weights["sha256"]) == 64
    assert model.graftlab_load_report["missing"] == []


@pytest.mark.parametrize(
    "wrap",
    [
        lambda sd: sd,
        lambda sd: {"state_dict": sd, "epoch": 3},
        lambda sd: {"model": {f"module.{k}": v for k, v in sd.items()}, "step": 10},
        lambda sd: {"model_state_dict": {f"_orig_mod.{k}": v for k, v in sd.items()}},
    ],
    ids=["plain", "state_dict", "model+module.", "compiled"],
)
def test_pt_round_trip_through_common_wrappers(tmp_path, trained, wrap):
    path = tmp_path / "w.pt"
    torch.save(wrap(trained), path)
    model = create_backbone(ARCH, weights=str(path))
    assert _same(model, trained)


def test_pickle_that_needs_more_than_weights_only_is_refused(tmp_path, trained):
    path = tmp_path / "full.ckpt"
    torch.save({"state_dict": trained, "args": argparse.Namespace(lr=0.1)}, path)
    with pytest.raises(
        BackboneError, match=r"needs argparse.Namespace.*weights_only=True.*re-save"
    ) as info:
        create_backbone(ARCH, weights=path)
    assert "full.ckpt" in str(info.value)


def test_not_a_checkpoint_is_refused(tmp_path):
    path = tmp_path / "junk.pt"
    path.write_bytes(b"definitely not a checkpoint")
    with pytest.raises(BackboneError, match="Cannot read"):
        create_backbone(ARCH, weights=path)


def test_shape_mismatch_is_refused_with_the_tensor_named(tmp_path, trained):
    sd = dict(trained)
    sd["conv_stem.weight"] = torch.zeros(5, 3, 3, 3)
    path = tmp_path / "bad.safetensors"
    save_file({k: v.contiguous() for k, v in sd.items()}, str(path))
    with pytest.raises(BackboneError, match=r"conv_stem\.weight: file \(5, 3, 3, 3\)"):
        create_backbone(ARCH, weights=path)


def test_weights_for_another_architecture_are_refused(tmp_path):
    other = create_backbone("test_resnet", weights="none").state_dict()
    path = tmp_path / "resnet.pt"
    torch.save(other, path)
    with pytest.raises(BackboneError, match="another"):
        create_backbone(ARCH, weights=path)


def test_missing_classifier_is_normal_and_other_gaps_are_reported(tmp_path, trained):
    sd = {k: v for k, v in trained.items() if not k.startswith("classifier.")}
    path = tmp_path / "headless.pt"
    torch.save(sd, path)
    model = create_backbone(ARCH, weights=path, num_classes=3)  # no warning expected
    assert model.graftlab_load_report["missing"] == ["classifier.weight", "classifier.bias"]
    assert model(torch.zeros(1, 3, 64, 64)).shape == (1, 3)

    sd["extra.weight"] = torch.zeros(2)
    del sd["bn2.bias"]
    torch.save(sd, path)
    with pytest.warns(UserWarning, match=r"1 unexpected \(extra\.weight\)"):
        model = create_backbone(ARCH, weights=path)
    report = model.graftlab_load_report
    assert "bn2.bias" in report["missing"] and report["unexpected"] == ["extra.weight"]


def test_classifier_of_another_size_is_skipped(tmp_path, trained):
    sd = dict(trained)
    sd["classifier.weight"] = torch.zeros(5, sd["classifier.weight"].shape[1])
    sd["classifier.bias"] = torch.zeros(5)
    path = tmp_path / "finetuned.pt"
    torch.save(sd, path)
    model = create_backbone(ARCH, weights=path, num_classes=3)  # training on 3 other classes
    assert model(torch.zeros(1, 3, 64, 64)).shape == (1, 3)
    assert model.graftlab_load_report["classifier_skipped"] == [
        "classifier.weight",
        "classifier.bias",
    ]
    assert torch.equal(model.conv_stem.weight, trained["conv_stem.weight"])


def test_file_with_a_k_way_head_loads_whole_when_asked_for_k_classes(tmp_path, trained):
    five = create_backbone(ARCH, weights="none", num_classes=5)
    torch.nn.init.constant_(five.classifier.bias, 0.5)
    path = tmp_path / "five.safetensors"
    save_file(five.state_dict(), str(path))
    model = create_backbone(ARCH, weights=path, num_classes=5)
    assert torch.equal(model.classifier.bias, torch.full((5,), 0.5))
    assert model.graftlab_load_report["classifier_skipped"] == []


def test_features_only_model_skips_the_file_head_without_warning(tmp_path, trained, recwarn):
    path = tmp_path / "w.pt"
    torch.save(trained, path)
    model = create_backbone(ARCH, weights=path, num_classes=0)
    report = model.graftlab_load_report
    assert report["unexpected"] == [] and report["classifier_skipped"] == [
        "classifier.weight",
        "classifier.bias",
    ]
    assert not [w for w in recwarn if "Loading" in str(w.message)]
