"""ImageCache: decode once, reuse, detect damage and rebuild, mask undecodable images."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

import graftlab.data.decode as decode_module
from graftlab.data.image_cache import ImageCache
from graftlab.data.transforms import Preprocess

PRE = Preprocess(24, "bilinear", 0.75, "center", (0.5,) * 3, (0.5,) * 3)  # store 32


@pytest.fixture
def images(tmp_path):
    paths = []
    for i in range(6):
        path = tmp_path / f"{i}.png"
        Image.new("RGB", (40 + i, 36), (i * 40, 255 - i * 40, 7)).save(path)
        paths.append(str(path))
    return paths, [f"sha-{i}" for i in range(6)]


@pytest.fixture
def decode_calls(monkeypatch):
    calls = []
    real = decode_module.decode_image

    def counting(path, draft=None, **kwargs):
        calls.append(str(path))
        return real(path, draft, **kwargs)

    monkeypatch.setattr(decode_module, "decode_image", counting)
    return calls


def test_first_call_decodes_and_second_reuses(tmp_path, images, decode_calls):
    paths, hashes = images
    cache = ImageCache(tmp_path / "cache")
    arr, ok = cache.get(paths, hashes, PRE, progress=False)
    assert isinstance(arr, np.memmap) and arr.shape == (6, 32, 32, 3) and arr.dtype == np.uint8
    assert ok.all() and len(decode_calls) == 6
    assert np.array_equal(arr[3], PRE.load(paths[3]))
    assert tuple(arr[2, 16, 16]) == (80, 175, 7)
    decode_calls.clear()
    again, ok2 = ImageCache(tmp_path / "cache").get(paths, hashes, PRE, progress=False)
    assert decode_calls == []
    assert np.array_equal(np.asarray(again), np.asarray(arr)) and ok2.all()
    entry = cache.entry_dir(hashes, PRE)
    assert entry.parent.name == "images" and entry.parent.parent == tmp_path / "cache"


def test_key_changes_with_hashes_and_preprocessing(tmp_path, images, decode_calls):
    paths, hashes = images
    cache = ImageCache(tmp_path)
    cache.get(paths, hashes, PRE, progress=False)
    cache.get(paths, [*hashes[:-1], "edited"], PRE, progress=False)
    bigger = Preprocess(48, "bilinear", 0.75, "center", (0.5,) * 3, (0.5,) * 3)
    arr, _ = cache.get(paths, hashes, bigger, progress=False)
    assert arr.shape == (6, 64, 64, 3) and len(decode_calls) == 18


def test_default_root_is_the_graftlab_cache(images, monkeypatch, tmp_path):
    monkeypatch.setenv("GRAFTLAB_CACHE", str(tmp_path / "gc"))
    paths, hashes = images
    ImageCache().get(paths, hashes, PRE, progress=False)
    assert len(list((tmp_path / "gc" / "images").glob("*/images.npy"))) == 1


@pytest.mark.parametrize("damage", ["truncate", "flip_bytes", "no_meta"])
def test_damaged_entry_is_detected_and_rebuilt(tmp_path, images, decode_calls, damage):
    paths, hashes = images
    cache = ImageCache(tmp_path)
    good, _ = cache.get(paths, hashes, PRE, progress=False)
    good = np.array(good)
    entry = cache.entry_dir(hashes, PRE)
    data = entry / "images.npy"
    if damage == "truncate":
        data.write_bytes(data.read_bytes()[:-100])
    elif damage == "flip_bytes":
        raw = bytearray(data.read_bytes())
        raw[-50:] = bytes(255 - b for b in raw[-50:])  # inside the last row, a checked one
        data.write_bytes(bytes(raw))
    else:
        (entry / "meta.json").unlink()
    decode_calls.clear()
    if damage == "no_meta":  # an interrupted build: rebuilt silently
        arr, ok = cache.get(paths, hashes, PRE, progress=False)
    else:
        with pytest.warns(UserWarning, match="rebuilding"):
            arr, ok = cache.get(paths, hashes, PRE, progress=False)
    assert len(decode_calls) == 6
    assert np.array_equal(np.asarray(arr), good) and ok.all()


def test_undecodable_images_are_masked_and_reported(tmp_path, images):
    paths, hashes = images
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"not an image at all")
    paths = [*paths[:2], str(bad), *paths[2:], str(tmp_path / "missing.png")]
    hashes = [*hashes[:2], "b", *hashes[2:], "m"]
    with pytest.warns(UserWarning, match=r"2 of 8 images could not be decoded.*broken\.jpg"):
        arr, ok = ImageCache(tmp_path / "c").get(paths, hashes, PRE, progress=False)
    assert ok.tolist() == [True, True, False, True, True, True, True, False]
    assert not arr[2].any() and arr[3].any()
    meta = json.loads(next((tmp_path / "c" / "images").glob("*/meta.json")).read_text())
    assert [f[0] for f in meta["failed"]] == [2, 7]
    with pytest.warns(UserWarning, match="missing.png"):  # reported again on reuse
        _, ok_again = ImageCache(tmp_path / "c").get(paths, hashes, PRE, progress=False)
    assert ok_again.tolist() == ok.tolist()


def test_empty_input_and_mismatched_hashes(tmp_path, images):
    arr, ok = ImageCache(tmp_path).get([], [], PRE, progress=False)
    assert arr.shape == (0, 32, 32, 3) and ok.shape == (0,)
    from graftlab.errors import ConfigError

    with pytest.raises(ConfigError, match="one hash per path"):
        ImageCache(tmp_path).get(images[0], images[1][:2], PRE, progress=False)
