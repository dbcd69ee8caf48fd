"""Preprocess: timm's data config, parity with timm's eval transform, augmentation."""

from __future__ import annotations

import numpy as np
import pytest
import timm
import timm.data
import torch
from PIL import Image

from graftlab.backbones import create_backbone
from graftlab.data.transforms import Preprocess
from graftlab.errors import ConfigError


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> list:
    """Smooth random RGB images of awkward sizes (odd, portrait, landscape, smaller than S)."""
    root = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(0)
    paths = []
    for w, h in [(300, 400), (511, 257), (303, 301), (224, 224), (100, 80), (333, 777)]:
        coarse = rng.integers(0, 256, (h // 8 + 1, w // 8 + 1, 3), dtype=np.uint8)
        path = root / f"{w}x{h}.png"  # lossless, so both pipelines see the same pixels
        Image.fromarray(coarse).resize((w, h), Image.BILINEAR).save(path)
        paths.append(path)
    return paths


def _timm_eval(cfg: dict, path) -> torch.Tensor:
    transform = timm.data.create_transform(**cfg, is_training=False)
    return transform(Image.open(path).convert("RGB"))


@pytest.mark.parametrize(
    ("name", "image_size"),
    [
        ("test_efficientnet", None),  # 160 px, crop 0.95, bicubic, ImageNet mean/std
        ("tf_efficientnet_lite2", None),  # 260 px, crop 0.89, mean = std = 0.5
        ("vgg19", None),  # bilinear
        ("legacy_xception", 201),  # image_size override
    ],
)
def test_load_then_eval_batch_equals_timm_eval_transform(photos, name, image_size):
    with torch.device("meta"):
        model = timm.create_model(name)
    cfg = timm.data.resolve_model_data_config(model)
    pre = Preprocess.from_model(model, image_size=image_size)
    if image_size:
        cfg["input_size"] = (3, image_size, image_size)
        assert pre.crop_pct == cfg["crop_pct"]
    for path in photos:
        ours = pre.eval_batch(torch.from_numpy(pre.load(path))[None])[0]
        theirs = _timm_eval(cfg, path)
        # Same resize (torchvision on PIL), same crop pixels, same float ops: equal up to
        # float32 rounding of (x / 255 - mean) / std, which is done identically.
        assert ours.shape == theirs.shape
        assert (ours - theirs).abs().max().item() < 1e-6, path.name


def test_parity_holds_when_both_crop_margins_are_odd(photos):
    """store 257 for input 224: centring twice can round differently from centring once."""
    pre = Preprocess(224, "bicubic", 224 / 257.5, "center", (0.5,) * 3, (0.5,) * 3)
    assert pre.store_size == 257
    cfg = dict(
        input_size=(3, 224, 224),
        interpolation="bicubic",
        crop_pct=pre.crop_pct,
        mean=pre.mean,
        std=pre.std,
        crop_mode="center",
    )
    for path in photos:
        ours = pre.eval_batch(pre.load(path)[None])[0]
        assert (ours - _timm_eval(cfg, path)).abs().max().item() < 1e-6, path.name


def test_from_model_reads_timm_data_config():
    model = create_backbone("lite1", weights="none")
    pre = Preprocess.from_model(model)
    assert (pre.input_size, pre.interpolation, pre.crop_pct) == (240, "bicubic", 0.882)
    assert pre.mean == pre.std == (0.5, 0.5, 0.5)
    assert pre.store_size == 272  # floor(240 / 0.882)
    bigger = Preprocess.from_model(model, image_size=300)
    assert bigger.crop_pct == 0.882 and bigger.store_size == 340
    assert Preprocess.from_dict(pre.to_dict() | {"channel_order": "RGB"}) == pre


def test_fixed_size_model_refuses_another_image_size():
    with torch.device("meta"):
        vit = timm.create_model("vit_small_patch16_224")
    with pytest.raises(ConfigError, match="only takes 224x224"):
        Preprocess.from_model(vit, image_size=256)


def test_load_returns_store_size_uint8_square(photos):
    pre = Preprocess(160, "bilinear", 0.8, "center", (0.5,) * 3, (0.5,) * 3)
    out = pre.load(photos[-1])
    assert out.shape == (200, 200, 3) and out.dtype == np.uint8


@pytest.mark.parametrize(
    ("crop_mode", "expected"),
    [
        ("center", (534, 400)),  # the shorter side 1500 -> 200, times the gap of 2
        ("squash", (534, 400)),  # both sides -> 200: the shorter one limits
        ("border", (400, 300)),  # the longer side 2000 -> 200
    ],
)
def test_draft_size_keeps_twice_what_the_resize_keeps(crop_mode, expected):
    pre = Preprocess(160, "bicubic", 0.8, crop_mode, (0.5,) * 3, (0.5,) * 3)
    assert pre.store_size == 200
    assert pre.draft_size((2000, 1500)) == expected
    assert pre.draft_size((1500, 2000)) == expected[::-1]


def _jpeg(path, size: tuple[int, int]):
    """A JPEG with fine detail, so a reduced-scale decode has something to lose."""
    w, h = size
    rng = np.random.default_rng(3)
    coarse = rng.integers(0, 256, (h // 3 + 1, w // 3 + 1, 3), dtype=np.uint8)
    Image.fromarray(coarse).resize((w, h), Image.BILINEAR).save(path, quality=90)
    return path


def test_jpeg_under_four_times_the_square_decodes_in_full_like_timm(tmp_path):
    pre = Preprocess(160, "bicubic", 0.8, "center", (0.5,) * 3, (0.5,) * 3)
    path = _jpeg(tmp_path / "mid.jpg", (799, 600))  # a 1/2 decode would leave 300 < 2 x 200
    assert np.array_equal(pre.load(path), pre.load(path, draft=False))
    cfg = dict(input_size=(3, 160, 160), interpolation="bicubic", crop_pct=0.8, mean=pre.mean,
               std=pre.std, crop_mode="center")  # fmt: skip
    ours = pre.eval_batch(pre.load(path)[None])[0]
    assert (ours - _timm_eval(cfg, path)).abs().max().item() < 1e-6


def test_large_jpeg_decoded_at_reduced_scale_is_nearly_the_full_decode(tmp_path):
    pre = Preprocess(160, "bicubic", 0.8, "center", (0.5,) * 3, (0.5,) * 3)
    path = _jpeg(tmp_path / "big.jpg", (3200, 2400))  # 1/4 scale: 800x600, 3x the square
    fast, full = pre.load(path).astype(int), pre.load(path, draft=False).astype(int)
    assert fast.shape == full.shape == (200, 200, 3)
    diff = np.abs(fast - full)
    assert diff.mean() < 1.5, diff.mean()
    assert np.percentile(diff, 99) <= 8, np.percentile(diff, 99)


def _pre() -> Preprocess:
    return Preprocess(32, "bicubic", 0.8, "center", (0.485, 0.456, 0.406), (0.229, 0.224, 0.225))


def test_eval_batch_accepts_nhwc_and_nchw_and_returns_contiguous_float32():
    u8 = torch.randint(0, 256, (3, 40, 40, 3), dtype=torch.uint8)
    a = _pre().eval_batch(u8)
    b = _pre().eval_batch(u8.permute(0, 3, 1, 2).contiguous())
    assert a.shape == (3, 3, 32, 32) and a.dtype == torch.float32 and a.is_contiguous()
    assert torch.equal(a, b)
    # channels_last: the same values, laid out NHWC, from either input layout
    for batch in (u8, u8.permute(0, 3, 1, 2).contiguous()):
        c = _pre().eval_batch(batch, channels_last=True)
        assert c.is_contiguous(memory_format=torch.channels_last) and torch.equal(a, c)
    with pytest.raises(ConfigError, match="uint8"):
        _pre().eval_batch(u8.float())
    with pytest.raises(ConfigError, match="smaller than the input size"):
        _pre().eval_batch(u8[:, :20, :20])


@pytest.mark.parametrize("augment", ["light", "strong"])
def test_train_batch_is_deterministic_per_generator_and_random_per_sample(augment):
    u8 = torch.randint(0, 256, (4, 40, 40, 3), dtype=torch.uint8)
    u8[1:] = u8[0]  # four copies of one image
    first = _pre().train_batch(u8, augment, torch.Generator().manual_seed(1))
    again = _pre().train_batch(u8, augment, torch.Generator().manual_seed(1))
    other = _pre().train_batch(u8, augment, torch.Generator().manual_seed(2))
    assert first.shape == (4, 3, 32, 32) and first.dtype == torch.float32 and first.is_contiguous()
    assert torch.equal(first, again)
    assert not torch.equal(first, other)
    assert not torch.equal(first[0], first[1])  # each sample draws its own crop
    assert first.isfinite().all()


def test_train_batch_none_is_the_eval_path_and_unknown_augment_is_refused():
    u8 = torch.randint(0, 256, (2, 40, 40, 3), dtype=torch.uint8)
    assert torch.equal(_pre().train_batch(u8, "none"), _pre().eval_batch(u8))
    with pytest.raises(ConfigError, match="Unknown augment 'heavy'"):
        _pre().train_batch(u8, "heavy")


def test_light_augmentation_keeps_the_image_recognisable():
    """A flip and a crop of at least 35% of the area: the mean colour barely moves."""
    u8 = torch.zeros((16, 40, 40, 3), dtype=torch.uint8)
    u8[..., 0] = 200  # a red image
    out = _pre().train_batch(u8, "light", torch.Generator().manual_seed(0))
    assert torch.allclose(out, _pre().eval_batch(u8), atol=1e-4)


def test_invalid_settings_are_config_errors():
    with pytest.raises(ConfigError, match="crop_pct"):
        Preprocess(224, "bicubic", 1.5, "center", (0.5,) * 3, (0.5,) * 3)
    with pytest.raises(ConfigError, match="Unknown interpolation"):
        Preprocess(224, "cubic", 0.9, "center", (0.5,) * 3, (0.5,) * 3)
    with pytest.raises(ConfigError, match="lack std"):
        Preprocess.from_dict(
            {
                "input_size": 224,
                "interpolation": "bicubic",
                "crop_pct": 0.9,
                "crop_mode": "center",
                "mean": [0.5] * 3,
            }
        )


@pytest.mark.parametrize("crop_mode", ["center", "squash", "border"])
@pytest.mark.parametrize("interpolation", ["bicubic", "bilinear", "lanczos"])
def test_greyscale_resized_in_one_channel_gives_the_rgb_pixels(tmp_path, crop_mode, interpolation):
    # load() resizes a greyscale file before replicating it to RGB; the pixels must be those
    # of converting it first (the mean is a colour, so "border" pads in RGB either way).
    rng = np.random.default_rng(0)
    Image.fromarray((rng.random((37, 53)) * 255).astype(np.uint8)).save(tmp_path / "g.png")
    pre = Preprocess(112, interpolation, 0.875, crop_mode, (0.485, 0.456, 0.406), (0.2,) * 3)
    loaded = pre.load(tmp_path / "g.png")
    assert loaded.shape == (128, 128, 3) and loaded.dtype == np.uint8
    assert np.array_equal(loaded, pre.prepare(Image.open(tmp_path / "g.png").convert("RGB")))
