"""Edit and variation inputs as the model takes them: WebP converted to PNG, images past the
model's side or pixel limit scaled down (their mask with them), and what it takes to scale a
masked edit's answer back to the input's size.

An image that needs neither is passed on untouched, byte for byte. One that cannot be read is
passed on too: validation then names what is wrong with it, as for any request.
These functions decode images: call them in a thread.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from ...imaging.formats import ImageFormat
from ...imaging.inputs import (
    ImageInputError,
    InputImage,
    decode_base64_image,
    encode_png,
    flatten_on_white,
    load_pixels,
    parse_image,
)
from ...imaging.resizing import within
from ...settings import Settings
from .model_limits import ModelLimits

_ANY_FORMAT = frozenset(ImageFormat)
_TRANSPARENT_BELOW = 128  # the native alpha-is-edit threshold


@dataclass(frozen=True)
class Restore:
    """How to bring a masked edit's answer, drawn on a scaled-down input, back to the input:
    resized to `size`, then every pixel outside the edit area taken from the input itself, so
    only the edited pixels went through the round trip."""

    size: tuple[int, int]
    original: np.ndarray  # HxWx3, the input as the model saw it (alpha flattened onto white)
    keep: np.ndarray  # HxW, True outside the edit area

    def apply(self, answer: Image.Image) -> Image.Image:
        """`answer` at the input's size, the input's own pixels outside the edit area."""
        resized = answer.resize(self.size, Image.Resampling.LANCZOS)
        alpha = "A" in resized.getbands()
        pixels = np.array(resized.convert("RGBA" if alpha else "RGB"))
        pixels[..., :3][self.keep] = self.original[self.keep]
        return Image.fromarray(pixels)


@dataclass
class Prepared:
    """One input as it goes to the model, and the size it came in (None when left untouched)."""

    value: str | bytes
    scaled_from: tuple[int, int] | None = None
    scaled_to: tuple[int, int] | None = None
    image: InputImage | None = None  # the parsed input, when it was changed


def prepare(value: str | bytes, limits: ModelLimits, settings: Settings) -> Prepared:
    """`value` converted to PNG when it is WebP, and scaled within `limits`."""
    image = _parsed(value, settings)
    if image is None:
        return Prepared(value)
    target = within((image.width, image.height), limits.input_max_side, limits.input_max_pixels)
    if target is None and image.format is not ImageFormat.WEBP:
        return Prepared(value)
    pixels = load_pixels(image)
    if target is not None:
        scaled = Image.fromarray(pixels).resize(target, Image.Resampling.LANCZOS)
        pixels = np.asarray(scaled)
    scaled_from = (image.width, image.height) if target is not None else None
    return Prepared(encode_png(pixels), scaled_from, target, image)


def prepare_mask(value: str | bytes, image: Prepared, settings: Settings) -> str | bytes:
    """The mask, WebP converted to PNG, scaled with its image (nearest pixel: the edit area
    stays as sharp as it was drawn)."""
    mask = _parsed(value, settings)
    if mask is None:
        return value
    if image.scaled_to is None or (mask.width, mask.height) != image.scaled_from:
        return value if mask.format is not ImageFormat.WEBP else encode_png(load_pixels(mask))
    scaled = Image.fromarray(load_pixels(mask)).resize(image.scaled_to, Image.Resampling.NEAREST)
    return encode_png(np.asarray(scaled))


def restore_for(image: Prepared, mask: str | bytes | None, settings: Settings) -> Restore | None:
    """How to scale the answer of a masked edit of `image` back, when `image` was scaled down;
    `mask` as the caller sent it (None: the image's own transparency marks the edit area)."""
    if image.scaled_from is None or image.image is None:
        return None
    pixels = load_pixels(image.image)
    source = pixels
    if mask is not None:
        parsed = _parsed(mask, settings)
        if parsed is None or not parsed.has_alpha:
            return None  # validation refuses it
        source = load_pixels(parsed)
    if source.shape[2] != 4 or source.shape[:2] != pixels.shape[:2]:
        return None
    keep = source[..., 3] >= _TRANSPARENT_BELOW
    return Restore(image.scaled_from, flatten_on_white(pixels), keep)


def _parsed(value: str | bytes, settings: Settings) -> InputImage | None:
    try:
        data = decode_base64_image(value) if isinstance(value, str) else value
        return parse_image(
            data,
            max_bytes=settings.max_image_bytes,
            max_pixels=settings.max_image_pixels,
            accept=_ANY_FORMAT,
        )
    except ImageInputError:
        return None
