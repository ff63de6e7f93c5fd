"""Base64 image codecs and seeded random generators."""

from __future__ import annotations

import base64
import binascii
import hashlib
import io

import numpy as np
from PIL import Image, UnidentifiedImageError

_FORMATS = {"PNG": "png", "JPEG": "jpeg", "WEBP": "webp"}
# A few kilobytes of PNG can declare a gigapixel canvas; no Bedrock model takes inputs anywhere
# near this, so bigger declared sizes are refused before any pixel is decoded.
MAX_DECODE_PIXELS = 40_000_000


class ImageDecodeError(ValueError):
    """Bytes that are not a decodable PNG, JPEG or WebP image; str() says what is wrong."""


def _raw_bytes(data: str) -> bytes:
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as err:
        raise ImageDecodeError("not valid base64") from err


def _open(raw: bytes) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(raw))
    except (UnidentifiedImageError, OSError) as err:
        raise ImageDecodeError("not a PNG, JPEG or WebP image") from err
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        # Pillow warns past its own limit; where warnings are errors (tests), it raises instead.
        raise ImageDecodeError(f"image too large: {err}") from err
    if image.format not in _FORMATS:
        raise ImageDecodeError(f"unsupported image format {image.format}; use PNG, JPEG or WebP")
    return image


def image_info(data: str) -> tuple[str, int, int, str, int]:
    """Read only the header: (format, width, height, PIL mode, decoded byte length)."""
    raw = _raw_bytes(data)
    image = _open(raw)
    return _FORMATS[str(image.format)], image.width, image.height, image.mode, len(raw)


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        image.mode == "P" and "transparency" in image.info
    )


def decode_b64(data: str) -> np.ndarray:
    """Decode raw base64 PNG/JPEG/WebP to uint8 RGB, or RGBA when the source carries alpha."""
    image = _open(_raw_bytes(data))
    if image.width * image.height > MAX_DECODE_PIXELS:
        raise ImageDecodeError(
            f"image too large to decode: {image.width}x{image.height} pixels, "
            f"more than {MAX_DECODE_PIXELS}"
        )
    try:
        image.load()
        converted = image.convert("RGBA" if _has_alpha(image) else "RGB")
    except (OSError, ValueError) as err:
        raise ImageDecodeError(f"truncated or corrupt {_FORMATS[str(image.format)]} data") from err
    return np.asarray(converted, dtype=np.uint8).copy()


def encode_b64(pixels: np.ndarray, fmt: str = "png") -> str:
    """Encode uint8 RGB/RGBA pixels as base64 PNG (fast compression), JPEG or WebP."""
    image = Image.fromarray(np.ascontiguousarray(pixels, dtype=np.uint8))
    out = io.BytesIO()
    if fmt == "png":
        # Level 1: several times faster than the default for a few percent more bytes.
        image.save(out, format="PNG", compress_level=1)
    elif fmt == "jpeg":
        image.convert("RGB").save(out, format="JPEG", quality=90)
    elif fmt == "webp":
        # method 0 is WebP's fastest encoder setting; the emulator's cost must stay small.
        image.save(out, format="WEBP", quality=90, method=0)
    else:
        raise ValueError(f"unknown image format {fmt!r}")
    return base64.b64encode(out.getvalue()).decode("ascii")


def rng_for(*parts: object) -> np.random.Generator:
    """A generator seeded from sha256 of the parts' repr, identical across runs and processes."""
    digest = hashlib.sha256(repr(parts).encode("utf-8")).digest()
    return np.random.default_rng(int.from_bytes(digest[:16], "big"))
