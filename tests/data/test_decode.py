"""decode_image: every mode a user's files come in ends as oriented 8-bit RGB, or a clear error."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from PIL import Image

from graftlab.data import decode_image
from graftlab.errors import DataError, ImageDecodeError


def _px(im: Image.Image, xy: tuple[int, int]) -> tuple[int, ...]:
    return tuple(int(v) for v in im.getpixel(xy))


def test_rgb_png_round_trips(tmp_path):
    path = tmp_path / "a.png"
    Image.new("RGB", (5, 3), (10, 20, 30)).save(path)
    im = decode_image(path)
    assert im.mode == "RGB" and im.size == (5, 3)
    assert _px(im, (0, 0)) == (10, 20, 30)


def test_exif_orientation_is_applied(tmp_path):
    # Stored 40x20, left half red and right half blue, tagged "rotate 90° clockwise to view".
    im = Image.new("RGB", (40, 20), (255, 0, 0))
    im.paste((0, 0, 255), (20, 0, 40, 20))
    exif = im.getexif()
    exif[0x0112] = 6
    path = tmp_path / "rotated.jpg"
    im.save(path, exif=exif.tobytes(), quality=95)

    out = decode_image(path)

    assert out.size == (20, 40)
    top, bottom = _px(out, (10, 5)), _px(out, (10, 35))
    assert top[0] > 200 and top[2] < 50  # the stored left (red) is now on top
    assert bottom[2] > 200 and bottom[0] < 50


def test_cmyk_jpeg_becomes_rgb(tmp_path):
    path = tmp_path / "cmyk.jpg"
    Image.new("CMYK", (8, 8), (0, 255, 255, 0)).save(path)  # pure red in CMYK
    assert Image.open(path).mode == "CMYK"
    r, g, b = _px(decode_image(path), (4, 4))
    assert r > 230 and g < 25 and b < 25


def test_16bit_png_is_scaled_not_clipped(tmp_path):
    path = tmp_path / "deep.png"
    a = np.full((6, 6), 30000, dtype=np.uint16)
    a[0, 0], a[0, 1] = 0, 65535
    Image.fromarray(a).save(path)
    assert Image.open(path).mode.startswith("I;16")

    out = np.asarray(decode_image(path))

    assert out.dtype == np.uint8 and out.shape == (6, 6, 3)
    assert out[3, 3].tolist() == [117, 117, 117]  # 30000 / 257, where clipping gives 255
    assert out[0, 0].tolist() == [0, 0, 0] and out[0, 1].tolist() == [255, 255, 255]


@pytest.mark.parametrize(
    ("mode", "value", "expected"),
    [("I", 1000, 4), ("I", 200, 200), ("F", 0.5, 128)],
)
def test_wide_greyscale_modes(tmp_path, mode, value, expected):
    path = tmp_path / "wide.tiff"
    Image.new(mode, (4, 4), value).save(path)
    assert np.asarray(decode_image(path))[1, 1].tolist() == [expected] * 3


def test_palette_png_with_transparency_is_composited_on_white(tmp_path):
    p = Image.new("P", (8, 8), 0)
    p.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)  # index 0 black, index 1 red
    p.paste(1, (4, 0, 8, 8))
    path = tmp_path / "pal.png"
    p.save(path, transparency=0)

    out = decode_image(path)

    assert _px(out, (0, 0)) == (255, 255, 255)  # transparent black shows as white
    assert _px(out, (6, 6)) == (255, 0, 0)


def test_rgba_and_la_are_composited_on_white(tmp_path):
    rgba = Image.new("RGBA", (4, 4), (0, 0, 0, 0))
    rgba.putpixel((1, 1), (0, 0, 255, 255))
    rgba.save(tmp_path / "a.png")
    Image.new("LA", (4, 4), (0, 0)).save(tmp_path / "la.png")

    out = decode_image(tmp_path / "a.png")
    assert _px(out, (0, 0)) == (255, 255, 255)
    assert _px(out, (1, 1)) == (0, 0, 255)
    assert _px(decode_image(tmp_path / "la.png"), (2, 2)) == (255, 255, 255)


def test_greyscale_becomes_three_equal_channels(tmp_path):
    Image.new("L", (4, 4), 77).save(tmp_path / "g.png")
    Image.new("1", (4, 4), 1).save(tmp_path / "b.png")
    assert _px(decode_image(tmp_path / "g.png"), (0, 0)) == (77, 77, 77)
    assert _px(decode_image(tmp_path / "b.png"), (0, 0)) == (255, 255, 255)


@pytest.mark.parametrize(
    ("name", "image", "mode"),
    [
        ("g.png", Image.new("L", (4, 4), 77), "L"),
        ("b.png", Image.new("1", (4, 4), 1), "L"),
        ("w.tiff", Image.new("I", (4, 4), 200), "L"),
        ("c.png", Image.new("RGB", (4, 4), (1, 2, 3)), "RGB"),
        ("a.png", Image.new("LA", (4, 4), (77, 128)), "RGB"),  # composited on white: RGB
    ],
)
def test_grey_keeps_greyscale_in_one_channel_and_nothing_else(tmp_path, name, image, mode):
    image.save(tmp_path / name)
    grey = decode_image(tmp_path / name, grey=True)
    assert grey.mode == mode
    rgb = decode_image(tmp_path / name)
    assert np.array_equal(np.asarray(grey.convert("RGB")), np.asarray(rgb))


def test_truncated_jpeg_is_reported_by_path(tmp_path):
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(tmp_path / "f.jpg")
    data = (tmp_path / "f.jpg").read_bytes()
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: len(data) // 2])

    with pytest.raises(ImageDecodeError) as err:
        decode_image(path)

    assert err.value.path == str(path)
    assert "truncated" in err.value.reason
    assert isinstance(err.value, DataError)  # the CLI turns it into one line


def test_text_file_with_image_extension(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("not an image")
    with pytest.raises(ImageDecodeError, match="not an image file"):
        decode_image(path)


@pytest.mark.parametrize(("name", "reason"), [("missing.png", "not found"), ("empty.png", "empty")])
def test_missing_and_empty_files(tmp_path, name, reason):
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(ImageDecodeError, match=reason) as err:
        decode_image(tmp_path / name)
    assert name in str(err.value)


@pytest.mark.parametrize("size", [(12, 10), (40, 40)])  # just over the limit, and over 2x
def test_decompression_bomb_is_refused(tmp_path, monkeypatch, size):
    path = tmp_path / "bomb.png"
    Image.new("RGB", size).save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    with warnings.catch_warnings():
        # Pillow only warns up to 2x the limit; graftlab must refuse anyway.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with pytest.raises(ImageDecodeError, match="decompression bomb"):
            decode_image(path)


def _textured_jpeg(path, size: tuple[int, int], exif=None) -> None:
    """A JPEG with detail at every scale: random blocks of several sizes, added up."""
    w, h = size
    rng = np.random.default_rng(1)
    acc = np.zeros((h, w, 3))
    for block in (4, 16, 64):
        coarse = rng.integers(0, 256, (h // block + 1, w // block + 1, 3), dtype=np.uint8)
        acc += np.asarray(Image.fromarray(coarse).resize((w, h), Image.BILINEAR), float)
    kw = {"exif": exif.tobytes()} if exif is not None else {}
    Image.fromarray((acc / 3).astype(np.uint8)).save(path, quality=90, **kw)


def test_draft_decodes_a_large_jpeg_at_a_reduced_scale(tmp_path):
    path = tmp_path / "big.jpg"
    _textured_jpeg(path, (1600, 1200))
    asked = []

    def at_least_300x200(size):
        asked.append(size)
        return 300, 200

    from graftlab.data.decode import decode_bytes

    decoded = decode_bytes(path.read_bytes(), path, draft=at_least_300x200)

    assert asked == [(1600, 1200)]  # the rule sees the stored size
    assert decoded.image.size == (400, 300)  # 1/4 scale: the largest that keeps 300x200
    assert decoded.size == (1600, 1200)  # the file's own size is still reported
    assert decode_image(path).size == (1600, 1200)  # no rule: every pixel


def test_draft_reports_the_full_size_of_a_rotated_jpeg(tmp_path):
    exif = Image.new("RGB", (1, 1)).getexif()
    exif[0x0112] = 6  # stored landscape, viewed portrait
    path = tmp_path / "rotated.jpg"
    _textured_jpeg(path, (1600, 1200), exif=exif)
    from graftlab.data.decode import decode_bytes

    decoded = decode_bytes(path.read_bytes(), path, draft=lambda size: (1, 1))

    assert decoded.image.size == (150, 200)  # 1/8 scale, then turned upright
    assert decoded.size == (1200, 1600)


def test_draft_still_refuses_a_truncated_jpeg(tmp_path):
    _textured_jpeg(tmp_path / "f.jpg", (1600, 1200))
    data = (tmp_path / "f.jpg").read_bytes()
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: len(data) * 2 // 3])

    with pytest.raises(ImageDecodeError, match="truncated"):
        decode_image(path, draft=lambda size: (1, 1))


def test_draft_leaves_other_formats_alone(tmp_path):
    path = tmp_path / "big.png"
    Image.new("RGB", (1600, 1200), (9, 99, 199)).save(path)
    assert decode_image(path, draft=lambda size: (1, 1)).size == (1600, 1200)
