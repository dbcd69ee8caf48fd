"""Decode any image file a user is likely to have into an EXIF-oriented 8-bit RGB image.

Every failure becomes an :class:`~graftlab.errors.ImageDecodeError` that names the file, so a
bad image is reported (and skipped or refused) when the dataset is loaded, never as a crash in
the middle of an epoch.

Conversions, each chosen so the network sees what a person looking at the file sees:

* EXIF orientation is applied (phone photos are stored sideways with a rotation tag).
* Greyscale (``1``, ``L``) is replicated to three channels (or, with ``grey=True``, kept in
  one channel for a caller that resizes first and replicates after: the same pixels, a third
  of the resampling work).
* Palette (``P``) images with a transparent colour, and any image with alpha (``RGBA``, ``LA``,
  ``PA``), are composited on white: transparent pixels usually hold arbitrary (often black)
  colours that were never meant to be seen.
* ``CMYK`` and ``YCbCr`` go through Pillow's converters (Adobe-inverted CMYK JPEGs are handled
  by Pillow's JPEG plugin).
* 16-bit and 32-bit greyscale (``I;16*``, ``I``, ``F``) are scaled to 0..255, not clipped:
  a plain ``convert("L")`` clips everything above 255 and turns most 16-bit scans white.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from graftlab.errors import ImageDecodeError

# Modes whose pixels are more than 8 bits per channel; scaled by :func:`_scale_to_uint8`.
_WIDE_MODES = frozenset({"I", "F", "I;16", "I;16L", "I;16B", "I;16N"})
_ALPHA_MODES = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})
_EXIF_ORIENTATION = 0x0112
_QUARTER_TURNS = frozenset({5, 6, 7, 8})  # EXIF orientations that swap width and height

#: ``(width, height) of the stored image -> the smallest (width, height) it may be decoded at``;
#: JPEGs are then decoded at 1/2, 1/4 or 1/8 scale where that is still at least that large.
DraftRule = Callable[[tuple[int, int]], tuple[int, int]]


@dataclass(frozen=True)
class DecodedImage:
    """An image decoded by :func:`decode_bytes`, with what the file held before conversion.

    Attributes:
        image: The RGB, EXIF-oriented image (``L`` for greyscale with ``grey=True``).
        mode: The Pillow mode stored in the file (``"P"``, ``"CMYK"``, ``"I;16"``...).
        size: ``(width, height)`` of the full image in the file after EXIF orientation,
            also when ``image`` was decoded at a reduced scale.
    """

    image: Image.Image
    mode: str
    size: tuple[int, int]


def decode_image(
    path: str | os.PathLike, draft: DraftRule | None = None, *, grey: bool = False
) -> Image.Image:
    """Read and decode one image file into an 8-bit RGB image with EXIF orientation applied.

    Args:
        path: The image file.
        draft: Lets a JPEG be decoded at a reduced scale (libjpeg's DCT scaling, Pillow's
            draft mode), several times faster for photos much larger than the network's
            input; ``None`` decodes every pixel. See :meth:`Preprocess.draft_size`.
        grey: Return a greyscale image (``L``, ``1`` and the wide grey modes) in mode ``"L"``,
            not replicated to RGB. Pillow resamples each channel alike, so resizing the grey
            image and converting it to RGB after gives the pixels converting first gives,
            three times faster (:meth:`Preprocess.prepare`).

    Returns:
        A fully loaded ``PIL.Image.Image`` in mode ``"RGB"`` (or ``"L"``, see ``grey``); the
        file is closed.

    Raises:
        ImageDecodeError: The file is missing, unreadable, not an image, truncated or corrupt,
            larger than ``PIL.Image.MAX_IMAGE_PIXELS`` (a decompression bomb), or in a mode
            that cannot be shown as RGB.
    """
    return decode_bytes(read_file(path), path, draft, grey=grey).image


def read_file(path: str | os.PathLike) -> bytes:
    """Return the bytes of ``path``, turning OS errors into an ImageDecodeError naming it."""
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        raise ImageDecodeError(str(path), "file not found") from None
    except IsADirectoryError:
        raise ImageDecodeError(str(path), "is a directory, not an image file") from None
    except OSError as exc:
        raise ImageDecodeError(str(path), f"cannot read file ({exc.strerror or exc})") from None


def decode_bytes(
    data: bytes,
    path: str | os.PathLike = "<bytes>",
    draft: DraftRule | None = None,
    *,
    grey: bool = False,
) -> DecodedImage:
    """Decode the bytes of an image file; ``path`` is only used in error messages.

    Reading the bytes once lets the dataset loader hash and decode a file in one pass.
    ``draft`` and ``grey`` are as in :func:`decode_image`.

    Raises:
        ImageDecodeError: As :func:`decode_image`.
    """
    path = str(path)
    if not data:
        raise ImageDecodeError(path, "empty file (0 bytes)")
    try:
        with Image.open(io.BytesIO(data)) as im:
            _check_pixels(im, path)
            mode, full = im.mode, im.size
            if draft is not None and im.format == "JPEG":
                # Stored orientation: the rules are symmetric in width and height. Mode None
                # keeps CMYK and greyscale for the conversions below. Every scale still
                # entropy-decodes the whole stream, so truncated files fail as before.
                im.draft(None, draft(full))
            # load() is where truncated and corrupt data surfaces; do it before anything else
            # so the reason names the file rather than a later conversion step.
            im.load()
            oriented = _exif_transpose(im)
            rgb = _to_rgb(oriented, path, grey)
            size = _full_size(full, im, rgb)
    except ImageDecodeError:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageDecodeError(path, f"decompression bomb refused ({exc})") from None
    except UnidentifiedImageError:
        reason = "not an image file (Pillow cannot identify its format)"
        raise ImageDecodeError(path, reason) from None
    except Exception as exc:
        # Pillow plugins signal malformed data with OSError, SyntaxError, ValueError,
        # struct.error, IndexError and more; the bytes are untrusted input, so any failure to
        # decode them is a property of the file and must not crash a whole dataset load.
        reason = f"truncated or corrupt image ({type(exc).__name__}: {exc})"
        raise ImageDecodeError(path, reason) from None
    return DecodedImage(image=rgb, mode=mode, size=size)


def _check_pixels(im: Image.Image, path: str) -> None:
    """Refuse images above Pillow's pixel limit instead of only warning, as Pillow does up to 2x.

    A "decompression bomb" is a tiny file that expands to gigabytes; decoding it in a data
    loader worker takes the machine down.
    """
    limit = Image.MAX_IMAGE_PIXELS
    w, h = im.size
    if limit is not None and w * h > limit:
        raise ImageDecodeError(
            path,
            f"decompression bomb refused: {w}x{h} = {w * h} pixels is more than the "
            f"limit of {limit} (raise PIL.Image.MAX_IMAGE_PIXELS if the image is genuine)",
        )


def _full_size(
    full: tuple[int, int], decoded: Image.Image, oriented: Image.Image
) -> tuple[int, int]:
    """The oriented size of the whole image, ``full`` being its stored size before any draft."""
    if decoded.size == full:
        return oriented.size
    w, h = decoded.size
    if w != h:
        turned = oriented.size == (h, w)
    else:  # a draft can round a nearly square image to a square: ask the EXIF tag
        try:
            turned = decoded.getexif().get(_EXIF_ORIENTATION) in _QUARTER_TURNS
        except Exception:
            turned = False
    return (full[1], full[0]) if turned else full


def _exif_transpose(im: Image.Image) -> Image.Image:
    """Apply the EXIF orientation tag; a malformed EXIF block leaves the pixels as stored."""
    try:
        out = ImageOps.exif_transpose(im)
    except Exception:
        # Broken EXIF metadata must not make otherwise valid pixels unusable.
        return im
    return out if out is not None else im


def _to_rgb(im: Image.Image, path: str, grey: bool = False) -> Image.Image:
    """Convert a loaded image of any mode to RGB (see the module docstring for the rules);
    with ``grey``, a greyscale one to ``L``."""
    mode = im.mode
    if mode == "RGB" or (grey and mode == "L"):
        return im.copy()
    if grey and mode == "1":
        return im.convert("L")
    if mode in _WIDE_MODES:
        scaled = Image.fromarray(_scale_to_uint8(np.asarray(im), mode), "L")
        return scaled if grey else scaled.convert("RGB")
    if mode == "P" and "transparency" in im.info:
        im, mode = im.convert("RGBA"), "RGBA"
    if mode in _ALPHA_MODES:
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    try:
        return im.convert("RGB")
    except ValueError as exc:
        reason = f"image mode {mode!r} cannot be converted to RGB ({exc})"
        raise ImageDecodeError(path, reason) from None


def _scale_to_uint8(a: np.ndarray, mode: str) -> np.ndarray:
    """Map wide greyscale pixels to 0..255.

    ``I;16*`` is 16-bit by definition: divide by 257 so 65535 maps to 255. ``I`` (32-bit int)
    and ``F`` (float) have no fixed range, so the values decide: 0..1 floats are treated as
    normalised, anything within 0..255 is already 8-bit, anything within 0..65535 as 16-bit,
    and anything else is stretched from its minimum to its maximum.
    """
    a = a.astype(np.float64)
    finite = a[np.isfinite(a)]
    lo = float(finite.min()) if finite.size else 0.0
    hi = float(finite.max()) if finite.size else 0.0
    if mode.startswith("I;16"):
        scaled = a / 257.0
    elif mode == "F" and lo >= 0.0 and hi <= 1.0:
        scaled = a * 255.0
    elif lo >= 0.0 and hi <= 255.0:
        scaled = a
    elif lo >= 0.0 and hi <= 65535.0:
        scaled = a / 257.0
    else:
        scaled = (a - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(a)
    scaled = np.nan_to_num(scaled, nan=0.0, posinf=255.0, neginf=0.0)
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
