"""Preprocessing for one backbone, taken from timm's data config and from nowhere else.

The work is split in two so that decoding happens once per image:

* :meth:`Preprocess.load` decodes a file and resizes it to a ``store_size`` square (the
  shorter side scaled to ``floor(input_size / crop_pct)``, then the centre square), as uint8.
  These squares are what :mod:`graftlab.data.image_cache` keeps.
* :meth:`Preprocess.eval_batch` centre-crops ``input_size`` and normalises: together with
  ``load`` this equals timm's eval transform. :meth:`Preprocess.train_batch` takes random
  resized crops of the same squares instead; evaluation never augments.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
import torchvision.transforms.functional as TF
from PIL import Image
from torchvision.transforms import InterpolationMode

from graftlab.errors import ConfigError

_INTERPOLATIONS = {
    "nearest": InterpolationMode.NEAREST,
    "bilinear": InterpolationMode.BILINEAR,
    "bicubic": InterpolationMode.BICUBIC,
    "box": InterpolationMode.BOX,
    "hamming": InterpolationMode.HAMMING,
    "lanczos": InterpolationMode.LANCZOS,
}
_CROP_MODES = ("center", "squash", "border")
AUGMENTATIONS = ("none", "light", "strong")
# RandomResizedCrop area and aspect ranges. "light" is a zoom of up to 1.2x with little
# stretch, about fastai's aug_transforms: centred objects lose their label when a crop keeps
# 8% of the image (ImageNet's default), and on Fashion-MNIST a 3-epoch LP-FT reached 0.894
# test accuracy with it against 0.885 with crops down to 35% of the area.
_SCALE = {"light": (0.7, 1.0), "strong": (0.15, 1.0)}
_RATIO = {"light": (0.9, 1 / 0.9), "strong": (3 / 4, 4 / 3)}
_JITTER = 0.3  # strong: brightness, contrast and saturation factors drawn from [0.7, 1.3]
# A JPEG is decoded at 1/2, 1/4 or 1/8 scale (libjpeg's DCT scaling) only where that leaves at
# least this many times the pixels the resize keeps on each side: Pillow's own rule in
# Image.thumbnail (reducing_gap=2.0). Images smaller than 4x the stored square decode in full,
# exactly as timm's eval transform does; larger ones decode several times faster, with the
# difference measured in benchmarks/decode_jpeg.py.
JPEG_REDUCING_GAP = 2.0


@dataclass(frozen=True)
class Preprocess:
    """What a backbone expects as input; build it with :meth:`from_model`."""

    input_size: int  # square crop fed to the network (the model's default; image_size overrides)
    interpolation: str  # PIL resampling used to shrink the decoded image
    crop_pct: float  # input_size / store_size: how much of the resized image is kept
    crop_mode: str  # "center" (most models), "squash" or "border", as timm defines them
    mean: tuple[float, float, float]  # per-channel mean of 0..1 RGB
    std: tuple[float, float, float]  # per-channel std of 0..1 RGB

    def __post_init__(self) -> None:
        if isinstance(self.input_size, bool) or not isinstance(self.input_size, int):
            raise ConfigError(f"'input_size' must be an int. Got {self.input_size!r}.")
        if self.input_size < 8:
            raise ConfigError(f"'input_size' must be at least 8 pixels. Got {self.input_size}.")
        if self.interpolation not in _INTERPOLATIONS:
            raise ConfigError(
                f"Unknown interpolation {self.interpolation!r}; use one of "
                f"{', '.join(_INTERPOLATIONS)}."
            )
        if not 0.0 < float(self.crop_pct) <= 1.0:
            raise ConfigError(f"'crop_pct' must be in (0, 1]. Got {self.crop_pct!r}.")
        if self.crop_mode not in _CROP_MODES:
            raise ConfigError(
                f"Unknown crop_mode {self.crop_mode!r}; use one of {', '.join(_CROP_MODES)}."
            )
        for field_name in ("mean", "std"):
            value = tuple(float(v) for v in getattr(self, field_name))
            if len(value) != 3:
                raise ConfigError(f"'{field_name}' must have 3 values (RGB). Got {value!r}.")
            object.__setattr__(self, field_name, value)
        if min(self.std) <= 0:
            raise ConfigError(f"'std' must be positive. Got {self.std!r}.")

    @property
    def store_size(self) -> int:
        """Side of the decoded square kept in the cache: ``floor(input_size / crop_pct)``."""
        return math.floor(self.input_size / self.crop_pct)

    @classmethod
    def from_model(cls, model: torch.nn.Module, image_size: int | None = None) -> Preprocess:
        """The preprocessing timm's data config gives for ``model``.

        Args:
            model: A timm model (it carries ``pretrained_cfg``).
            image_size: Feed squares of this side instead; ``crop_pct`` is kept, so the
                stored squares scale with it.

        Raises:
            ConfigError: A non-square input size, or ``image_size`` for a model that only
                takes its own size.
        """
        import timm.data

        cfg = timm.data.resolve_model_data_config(model)
        _, height, width = cfg["input_size"]
        if height != width:
            raise ConfigError(
                f"The model expects {height}x{width} inputs; graftlab supports square inputs "
                "only. Pass image_size to use squares."
            )
        size = int(height)
        if image_size is not None:
            if isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 8:
                raise ConfigError(f"'image_size' must be an int >= 8. Got {image_size!r}.")
            fixed = (getattr(model, "pretrained_cfg", None) or {}).get("fixed_input_size")
            if fixed and image_size != size:
                name = getattr(model, "graftlab_name", type(model).__name__)
                raise ConfigError(
                    f"{name!r} only takes {size}x{size} inputs. Got image_size={image_size}; "
                    f"leave it unset or use {size}."
                )
            size = image_size
        return cls(
            input_size=size,
            interpolation=str(cfg["interpolation"]),
            crop_pct=float(cfg["crop_pct"]),
            crop_mode=str(cfg.get("crop_mode") or "center"),
            mean=tuple(cfg["mean"]),
            std=tuple(cfg["std"]),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-able fields, plus the derived ``store_size`` for readers of the file."""
        d = asdict(self)
        d["mean"], d["std"] = list(self.mean), list(self.std)
        d["store_size"] = self.store_size
        d["jpeg_reducing_gap"] = JPEG_REDUCING_GAP  # how files are decoded (see load)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Preprocess:
        """Inverse of :meth:`to_dict`; extra keys written beside it (channel order...) are ignored.

        Raises:
            ConfigError: A field is missing or invalid.
        """
        names = ("input_size", "interpolation", "crop_pct", "crop_mode", "mean", "std")
        missing = [n for n in names if n not in d]
        if missing:
            raise ConfigError(f"Preprocessing settings lack {', '.join(missing)}. Got {d!r}.")
        if d.get("channel_order", "RGB") != "RGB":
            raise ConfigError(f"Only RGB channel order is supported. Got {d['channel_order']!r}.")
        pre = cls(**{n: d[n] for n in names})
        if "store_size" in d and int(d["store_size"]) != pre.store_size:
            raise ConfigError(
                f"Preprocessing settings are inconsistent: store_size {d['store_size']} but "
                f"floor(input_size / crop_pct) = {pre.store_size}."
            )
        return pre

    # --- decoding to stored squares ----------------------------------------------------

    def load(self, path: str | os.PathLike, draft: bool = True) -> np.ndarray:
        """Decode ``path`` into a ``(store_size, store_size, 3)`` uint8 RGB square.

        Args:
            path: The image file.
            draft: Decode large JPEGs at a reduced scale first (see :meth:`draft_size`);
                ``False`` decodes every pixel, as timm's eval transform does.

        Raises:
            ImageDecodeError: The file cannot be decoded.
        """
        from graftlab.data.decode import decode_image

        return self.prepare(decode_image(path, self.draft_size if draft else None, grey=True))

    def draft_size(self, size: tuple[int, int]) -> tuple[int, int]:
        """The smallest ``(width, height)`` an image of ``size`` may be decoded at.

        ``JPEG_REDUCING_GAP`` times what the resize of :meth:`prepare` brings it to, so the
        resize still shrinks by at least that factor and the stored square is what
        resampling the full image gives, up to a few grey levels.
        """
        w, h = size
        s = self.store_size
        if self.crop_mode == "center":  # the shorter side becomes s
            scale = s / min(w, h)
        elif self.crop_mode == "squash":  # each side becomes s
            scale = max(s / w, s / h)
        else:  # "border": the longer side becomes s
            scale = s / max(w, h)
        gap = scale * JPEG_REDUCING_GAP
        return math.ceil(w * gap), math.ceil(h * gap)

    def prepare(self, image: Image.Image) -> np.ndarray:
        """Resize an already decoded RGB image to the stored square (see :meth:`load`).

        A greyscale (``L``) image is resized as it is and replicated to RGB after: Pillow
        resamples every channel alike, so the pixels are those of converting first, for a
        third of the work (Fashion-MNIST at 128 px: 0.09 against 0.25 ms an image).
        """
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        s, mode = self.store_size, _INTERPOLATIONS[self.interpolation]
        if self.crop_mode == "squash":
            out = TF.resize(image, [s, s], interpolation=mode)
        elif self.crop_mode == "border":
            from timm.data.transforms import ResizeKeepRatio, center_crop_or_pad

            resized = ResizeKeepRatio(s, longest=1.0, interpolation=self.interpolation)(image)
            fill = [round(255 * m) for m in self.mean]  # a colour: pad in RGB
            out = center_crop_or_pad(resized.convert("RGB"), [s, s], fill=fill)
        else:
            resized = TF.resize(image, s, interpolation=mode)
            out = self._centre_square(resized)
        if out.mode != "RGB":
            out = out.convert("RGB")
        return np.asarray(out, dtype=np.uint8).copy()

    def _centre_square(self, image: Image.Image) -> Image.Image:
        # Offsets chosen so that this crop followed by eval_batch's centre crop selects exactly
        # the pixels timm's single CenterCrop(input_size) selects: two rounded half-differences
        # need not add up to one, so the first offset absorbs the difference.
        w, h = image.size
        s = self.store_size
        top = min(
            max(_centre_offset(h, self.input_size) - _centre_offset(s, self.input_size), 0), h - s
        )
        left = min(
            max(_centre_offset(w, self.input_size) - _centre_offset(s, self.input_size), 0), w - s
        )
        return image.crop((left, top, left + s, top + s))

    # --- batches for the network -------------------------------------------------------

    def eval_batch(
        self, u8: torch.Tensor | np.ndarray, *, channels_last: bool = False
    ) -> torch.Tensor:
        """Centre-crop ``input_size`` and normalise: uint8 ``(N,S,S,3)`` or ``(N,3,S,S)`` in,
        float32 ``(N,3,input_size,input_size)`` out, contiguous, or in channels_last memory
        when ``channels_last`` (the same values, laid out as such a model reads them: from the
        image cache's ``(N,S,S,3)`` that is one conversion, not two; 0.3 -> 0.1 ms an image
        at 112 px)."""
        x = _as_nchw_uint8(u8, self.input_size)
        _, _, h, w = x.shape
        top, left = _centre_offset(h, self.input_size), _centre_offset(w, self.input_size)
        x = x[:, :, top : top + self.input_size, left : left + self.input_size]
        layout = torch.channels_last if channels_last else torch.contiguous_format
        out = torch.empty(x.shape, dtype=torch.float32, memory_format=layout).copy_(x)
        return self._normalise(out.div_(255.0))

    def train_batch(
        self,
        u8: torch.Tensor | np.ndarray,
        augment: str = "light",
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """An augmented batch: a random resized crop and flip per image (``"light"``), plus
        colour jitter and a wider scale range (``"strong"``); ``"none"`` is :meth:`eval_batch`.

        The same ``generator`` state gives the same batch.
        """
        if augment not in AUGMENTATIONS:
            raise ConfigError(
                f"Unknown augment {augment!r}; use one of {', '.join(AUGMENTATIONS)}."
            )
        if augment == "none":
            return self.eval_batch(u8)
        x = _as_nchw_uint8(u8, self.input_size)
        n, _, h, w = x.shape
        size = self.input_size
        mode = "bilinear" if self.interpolation in ("bilinear", "nearest", "box") else "bicubic"
        out = torch.empty((n, 3, size, size), dtype=torch.float32)
        for i in range(n):
            top, left, ch, cw = _random_resized_crop(
                h, w, _SCALE[augment], _RATIO[augment], generator
            )
            crop = x[i : i + 1, :, top : top + ch, left : left + cw].float()
            out[i : i + 1] = F.interpolate(
                crop, size=(size, size), mode=mode, align_corners=False, antialias=True
            )
        flip = torch.rand(n, generator=generator) < 0.5
        out[flip] = out[flip].flip(-1)
        out = out.clamp_(0.0, 255.0).div_(255.0)
        if augment == "strong":
            out = _colour_jitter(out, _JITTER, generator)
        return self._normalise(out).contiguous()

    def _normalise(self, x: torch.Tensor) -> torch.Tensor:
        mean = torch.tensor(self.mean, dtype=torch.float32).view(1, 3, 1, 1)
        std = torch.tensor(self.std, dtype=torch.float32).view(1, 3, 1, 1)
        return x.sub_(mean).div_(std)  # in place: the memory format of ``x`` is kept


def _centre_offset(size: int, crop: int) -> int:
    """torchvision's CenterCrop offset (Python rounding, as in ``F.center_crop``)."""
    return round((size - crop) / 2.0)


def _as_nchw_uint8(u8: torch.Tensor | np.ndarray, min_size: int) -> torch.Tensor:
    x = torch.from_numpy(np.asarray(u8)) if not isinstance(u8, torch.Tensor) else u8
    if x.dtype != torch.uint8 or x.ndim != 4:
        raise ConfigError(
            "Expected a uint8 batch shaped (N,H,W,3) or (N,3,H,W). "
            f"Got dtype {x.dtype} and shape {tuple(x.shape)}."
        )
    if x.shape[-1] == 3 and x.shape[1] != 3:
        x = x.permute(0, 3, 1, 2)
    elif x.shape[1] != 3:
        raise ConfigError(f"Expected 3 colour channels. Got shape {tuple(x.shape)}.")
    if min(x.shape[2], x.shape[3]) < min_size:
        raise ConfigError(
            f"Images of {x.shape[2]}x{x.shape[3]} are smaller than the input size {min_size}; "
            "load them with Preprocess.load (or the image cache) first."
        )
    return x


def _random_resized_crop(
    h: int, w: int, scale: tuple[float, float], ratio: tuple[float, float], gen
) -> tuple[int, int, int, int]:
    """torchvision's RandomResizedCrop.get_params, drawing from ``gen``."""
    area = h * w
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    for _ in range(10):
        u = torch.rand(2, generator=gen).tolist()
        target_area = area * (scale[0] + (scale[1] - scale[0]) * u[0])
        aspect = math.exp(log_ratio[0] + (log_ratio[1] - log_ratio[0]) * u[1])
        cw = round(math.sqrt(target_area * aspect))
        ch = round(math.sqrt(target_area / aspect))
        if 0 < cw <= w and 0 < ch <= h:
            top = int(torch.randint(0, h - ch + 1, (1,), generator=gen))
            left = int(torch.randint(0, w - cw + 1, (1,), generator=gen))
            return top, left, ch, cw
    # Fallback: the whole image at the nearest allowed aspect ratio, centred.
    in_ratio = w / h
    if in_ratio < ratio[0]:
        cw, ch = w, round(w / ratio[0])
    elif in_ratio > ratio[1]:
        ch, cw = h, round(h * ratio[1])
    else:
        cw, ch = w, h
    return (h - ch) // 2, (w - cw) // 2, ch, cw


def _colour_jitter(x: torch.Tensor, amount: float, gen) -> torch.Tensor:
    """Per-image brightness, contrast and saturation factors in ``[1 - amount, 1 + amount]``."""
    n = x.shape[0]
    b, c, s = (1 - amount + 2 * amount * torch.rand(3, n, 1, 1, 1, generator=gen)).unbind(0)
    x = (x * b).clamp_(0, 1)
    grey_weights = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
    grey_mean = (x * grey_weights).sum(1, keepdim=True).mean((2, 3), keepdim=True)
    x = ((x - grey_mean) * c + grey_mean).clamp_(0, 1)
    grey = (x * grey_weights).sum(1, keepdim=True)
    return ((x - grey) * s + grey).clamp_(0, 1)
