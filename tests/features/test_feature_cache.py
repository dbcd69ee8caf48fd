"""Feature cache: reused when nothing changed, rebuilt when anything did or the entry is damaged."""

import numpy as np
import pytest
import timm
import torch
from PIL import Image

import graftlab.features as features_pkg
from graftlab._io import sha256_file
from graftlab.data.transforms import Preprocess
from graftlab.features import FeatureCache, cache_usage, clear_cache, dataset_features
from graftlab.features.extract import extract_features, pooled_features


@pytest.fixture
def model():
    torch.manual_seed(0)
    m = timm.create_model("test_efficientnet", pretrained=False).eval()
    m.graftlab_name = "test_efficientnet"
    return m


@pytest.fixture
def images(tmp_path):
    rng = np.random.default_rng(0)
    paths = []
    for i in range(5):
        p = tmp_path / "img" / f"{i}.png"
        p.parent.mkdir(exist_ok=True)
        Image.fromarray(rng.integers(0, 255, (20, 20, 3), dtype=np.uint8)).save(p)
        paths.append(str(p))
    return paths


def _features(model, paths, root, image_size=32, **kw):
    pre = Preprocess.from_model(model, image_size=image_size)
    hashes = [sha256_file(p) for p in paths]
    return dataset_features(model, pre, paths, hashes, cache_root=root, progress=False, **kw)


def test_features_are_the_pooled_pre_logits(model, images, tmp_path):
    pre = Preprocess.from_model(model, image_size=32)
    u8 = np.stack([pre.load(p) for p in images])
    feats = extract_features(model, u8, pre, batch_size=2, progress=False)
    with torch.no_grad():
        expected = model.forward_head(model.forward_features(pre.eval_batch(u8)), pre_logits=True)
    assert feats.shape == (5, model.num_features)
    np.testing.assert_allclose(feats, expected.numpy(), rtol=1e-4, atol=1e-5)
    with torch.no_grad():
        pooled = pooled_features(model, pre.eval_batch(u8))
    np.testing.assert_allclose(feats, pooled.numpy(), atol=1e-5)


def test_second_call_reads_the_cache_without_extracting(model, images, tmp_path, monkeypatch):
    first = _features(model, images, tmp_path / "cache")
    assert not first.cached and first.ok.all()

    def fail(*a, **k):
        raise AssertionError("features were extracted again")

    monkeypatch.setattr(features_pkg, "extract_features", fail)
    second = _features(model, images, tmp_path / "cache")
    assert second.cached and second.key == first.key
    np.testing.assert_array_equal(second.features, first.features)


def test_any_change_is_a_new_entry(model, images, tmp_path):
    root = tmp_path / "cache"
    base = _features(model, images, root)
    assert _features(model, images, root, image_size=40).key != base.key  # preprocessing
    with torch.no_grad():  # weights
        model.conv_stem.weight.add_(0.01)
    changed = _features(model, images, root)
    assert not changed.cached and changed.key != base.key
    assert not np.allclose(changed.features, base.features)
    with torch.no_grad():
        model.conv_stem.weight.sub_(0.01)
    Image.fromarray(np.zeros((20, 20, 3), np.uint8)).save(images[2])  # content of one image
    edited = _features(model, images, root)
    assert not edited.cached and edited.key != base.key
    assert _features(model, images[:4], root).key != edited.key  # the set of images
    # Resetting the classifier does not change the features, so the entry stays valid.
    fingerprint = features_pkg.weights_fingerprint(model)
    model.reset_classifier(7)
    assert features_pkg.weights_fingerprint(model) == fingerprint


def test_precision_is_part_of_the_key(model, images, tmp_path):
    from graftlab.hardware import Execution

    fp32 = _features(model, images, tmp_path / "cache")
    bf16 = _features(model, images, tmp_path / "cache", execution=Execution("cpu", "bf16", True))
    assert not bf16.cached and bf16.key != fp32.key


def test_corrupt_entry_is_detected_and_rebuilt(model, images, tmp_path):
    root = tmp_path / "cache"
    first = _features(model, images, root)
    data = FeatureCache(root).path(first.key) / "features.npy"
    raw = bytearray(data.read_bytes())
    raw[-8:] = b"\x00" * 8  # a damaged tail: same size, different bytes
    data.write_bytes(bytes(raw))
    rebuilt = _features(model, images, root)
    assert not rebuilt.cached
    np.testing.assert_array_equal(rebuilt.features, first.features)
    assert _features(model, images, root).cached  # and the rebuilt entry is good
    (FeatureCache(root).path(first.key) / "features.npy").write_bytes(b"truncated")
    assert FeatureCache(root).load(first.key) is None


def test_cache_info_and_clear_by_kind(model, images, tmp_path):
    root = tmp_path / "cache"
    _features(model, images, root)
    usage = cache_usage(root)
    assert set(usage) == {"features", "images"}
    assert usage["features"]["entries"] == 1 and usage["features"]["bytes"] > 5 * 256 * 4
    (root / "unrelated").mkdir()  # never touched, whatever --cache-dir points at
    freed = clear_cache(root, ["features"])
    assert set(freed) == {"features"} and not (root / "features").exists()
    assert (root / "images").exists()
    clear_cache(root)
    assert cache_usage(root) == {} and (root / "unrelated").exists()
