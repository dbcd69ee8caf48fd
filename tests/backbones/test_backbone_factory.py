"""create_backbone / resolve_backbone_name / list_backbones: names, weight sources, heads."""

from __future__ import annotations

import time

import pytest
import torch

from graftlab.backbones import create_backbone, list_backbones, resolve_backbone_name
from graftlab.backbones import weights as wsrc
from graftlab.errors import BackboneError, ConfigError


@pytest.mark.parametrize(
    ("alias", "timm_name"),
    [
        ("xception", "legacy_xception"),
        ("Xception", "legacy_xception"),
        ("inception_v3", "inception_v3"),
        ("InceptionV3", "inception_v3"),
        ("vgg19", "vgg19"),
        ("VGG19", "vgg19"),
        ("resnet50", "resnet50"),
        ("ResNet50", "resnet50"),
        ("efficientnet_b0", "efficientnet_b0"),
        ("EfficientNetB0", "efficientnet_b0"),
        ("mobilenetv3_large_100", "mobilenetv3_large_100"),
        ("vit_small_patch16_224", "vit_small_patch16_224"),
        ("efficientnet-lite0", "tf_efficientnet_lite0"),
        ("EfficientNet-Lite1", "tf_efficientnet_lite1"),
        ("lite2", "tf_efficientnet_lite2"),
        # A timm name means itself, even where an alias spelling is close.
        ("efficientnet_lite0", "efficientnet_lite0"),
        ("resnet50.tv_in1k", "resnet50.tv_in1k"),
    ],
)
def test_aliases_resolve_to_timm_names(alias, timm_name):
    assert resolve_backbone_name(alias) == timm_name


@pytest.mark.parametrize(("alias", "size"), [("xception", 299), ("lite0", 224), ("vgg19", 224)])
def test_alias_builds_the_model_with_its_preprocessing_without_weights(alias, size):
    with torch.device("meta"):  # the architecture and its data config, no memory
        model = create_backbone(alias, weights="none")
    assert model.graftlab_name == resolve_backbone_name(alias)
    assert model.graftlab_weights == {"source": "random", "path": None, "sha256": None}
    assert model.pretrained_cfg["input_size"][-1] == size


def test_unknown_name_suggests_close_matches():
    with pytest.raises(ConfigError, match=r"Unknown backbone 'resnet5O'.*'resnet50'"):
        resolve_backbone_name("resnet5O")
    with pytest.raises(ConfigError, match="Did you mean 'xception'"):
        create_backbone("xcepton", weights="none")


def test_bad_weights_and_num_classes_are_config_errors():
    with pytest.raises(ConfigError, match="Did you mean 'auto'"):
        create_backbone("test_efficientnet", weights="atuo")
    with pytest.raises(ConfigError, match="num_classes"):
        create_backbone("test_efficientnet", weights="none", num_classes=-1)


def test_num_classes_semantics():
    default = create_backbone("test_efficientnet", weights="none")
    assert default.num_classes == 1000 and not default.training
    features = create_backbone("test_efficientnet", weights="none", num_classes=0)
    out = features(torch.zeros(2, 3, 64, 64))
    assert out.shape == (2, features.num_features)
    head = create_backbone("test_efficientnet", weights="none", num_classes=7)
    assert head(torch.zeros(2, 3, 64, 64)).shape == (2, 7)


@pytest.fixture
def empty_hub_cache(monkeypatch):
    """No weights downloaded before, whatever the machine's caches hold."""
    monkeypatch.setattr(wsrc, "cached_hub_file", lambda cfg: None)


def test_hub_name_offline_fails_in_one_line_naming_offline_choices(monkeypatch, empty_hub_cache):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(BackboneError) as info:
        create_backbone("test_efficientnet")  # weights="auto": not packaged, not cached
    msg = str(info.value)
    assert "\n" not in msg
    assert "offline" in msg and "HF_HUB_OFFLINE" in msg
    assert "tf_efficientnet_lite0" in msg and "graftlab backbones" in msg
    assert "weights='none'" in msg


def test_unreachable_hub_is_detected_quickly(monkeypatch, empty_hub_cache):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", False)
    monkeypatch.setattr(wsrc, "_reachable", lambda host, port=443: False)

    def no_download(*args, **kwargs):
        raise AssertionError("must not try to download when the host is unreachable")

    monkeypatch.setattr("timm.models._builder.load_state_dict_from_hf", no_download)
    start = time.perf_counter()
    with pytest.raises(BackboneError, match=r"huggingface\.co cannot be reached"):
        create_backbone("resnet50", weights="hub")
    assert time.perf_counter() - start < 10


def test_cached_hub_weights_are_used_offline(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    reference = create_backbone("test_efficientnet", weights="none")
    torch.nn.init.constant_(reference.conv_stem.weight, 0.25)
    cached = tmp_path / "model.pth"
    torch.save(reference.state_dict(), cached)
    monkeypatch.setattr(wsrc, "cached_hub_file", lambda cfg: cached)
    model = create_backbone("test_efficientnet")
    assert model.graftlab_weights["source"] == "hub"
    assert model.graftlab_weights["path"] == str(cached)
    assert torch.equal(model.conv_stem.weight, reference.conv_stem.weight)


def test_packaged_is_refused_for_a_model_without_a_package():
    with pytest.raises(BackboneError, match="No packaged offline weights for 'resnet50'"):
        create_backbone("resnet50", weights="packaged")


def test_list_backbones_puts_offline_packaged_models_first():
    rows = list_backbones()
    offline = [r["name"] for r in rows if r["available_offline"]]
    assert offline[:3] == [
        "tf_efficientnet_lite0",
        "tf_efficientnet_lite1",
        "tf_efficientnet_lite2",
    ]
    assert [r["available_offline"] for r in rows] == sorted(
        (r["available_offline"] for r in rows), reverse=True
    )
    lite0 = rows[0]
    assert lite0["source"] == "packaged" and lite0["path"].endswith(".pth")
    assert lite0["input_size"] == 224 and lite0["interpolation"] == "bicubic"
    assert lite0["mean"] == (0.5, 0.5, 0.5) and "efficientnet-lite0" in lite0["aliases"]
    xception = next(r for r in rows if r["name"] == "legacy_xception")
    assert xception["input_size"] == 299 and xception["aliases"] == ["xception"]
    assert len(list_backbones(include_all=True)) > 1000


def test_offline_error_points_from_timm_lite_to_the_packaged_tf_port(monkeypatch, empty_hub_cache):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(BackboneError, match="Did you mean 'tf_efficientnet_lite0'"):
        create_backbone("efficientnet_lite0")
