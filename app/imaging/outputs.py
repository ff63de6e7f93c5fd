"""Model output images: their media type from the bytes, and transcoding to what callers accept."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from app.imaging.formats import ImageFormat, sniff_format
from app.imaging.inputs import encode_png, flatten_on_white, load_pixels, parse_image

OUTPUT_MIME: dict[str, str] = {
    "png": "image/png",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
}

_ANY_FORMAT = frozenset(ImageFormat)
# Output images come from Bedrock, not from callers; these bounds only keep a broken one harmless.
_MAX_OUTPUT_BYTES = 64 * 1024 * 1024
_MAX_OUTPUT_PIXELS = 64 * 1024 * 1024
_QUALITY = 90


def sniff_mime(data: bytes) -> str:
    """The media type announced by the magic bytes; "application/octet-stream" if none we know."""
    fmt = sniff_format(data)
    return OUTPUT_MIME[fmt] if fmt is not None else "application/octet-stream"


def transcode(data: bytes, target: str, quality: int | None = None) -> bytes:
    """Re-encode an image as "png", "jpeg" or "webp"; ``data`` itself when already that format
    and no `quality` (JPEG and WebP, 0-100) asks for a re-encoding.

    JPEG has no alpha, so transparency is flattened onto white; PNG favours speed over size.
    Raises ValueError for another target and ImageInputError when ``data`` is not a readable image.
    """
    if target not in OUTPUT_MIME:
        raise ValueError(f"unknown output format {target!r}; expected one of {sorted(OUTPUT_MIME)}")
    image = parse_image(
        data, max_bytes=_MAX_OUTPUT_BYTES, max_pixels=_MAX_OUTPUT_PIXELS, accept=_ANY_FORMAT
    )
    if image.format == target and (quality is None or target == "png"):
        return data
    return encode(Image.fromarray(load_pixels(image)), target, quality)


def encode(image: Image.Image, target: str, quality: int | None = None) -> bytes:
    """`image` as "png", "jpeg" or "webp" bytes; `quality` (0-100) for the lossy two (90 when
    None). JPEG has no alpha: transparency is flattened onto white."""
    alpha = "A" in image.getbands() or image.has_transparency_data
    pixels = np.asarray(image.convert("RGBA" if alpha else "RGB"))
    if target == "jpeg":
        pixels = flatten_on_white(pixels)
    if target == "png":
        return encode_png(pixels)
    out = io.BytesIO()
    level = _QUALITY if quality is None else quality
    Image.fromarray(pixels).save(out, format=target.upper(), quality=level)
    return out.getvalue()
