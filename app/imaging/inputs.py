"""Caller images: recognised by their bytes, bounded from the header before any pixel is decoded."""

from __future__ import annotations

import binascii
import io
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pybase64
from PIL import Image

from app.imaging import png
from app.imaging.formats import (
    CORRUPT,
    ImageFormat,
    ImageInputError,
    check_structure,
    not_accepted_error,
    png_layout,
    png_transparent_key,
    read_header,
    sniff_format,
)
from app.wording import byte_size

__all__ = [
    "ImageFormat",
    "ImageInputError",
    "InputImage",
    "as_rgb_image",
    "decode_base64_image",
    "decoded",
    "encode_png",
    "flatten_on_white",
    "is_rgb8_png",
    "load_pixels",
    "opened",
    "parse_image",
    "pixels_of",
]


@dataclass(frozen=True, slots=True)
class InputImage:
    """An image's bytes with what its header says about it."""

    data: bytes
    format: ImageFormat
    width: int
    height: int
    mode: str  # as Pillow names it: "RGB", "RGBA", "L", "LA", "P", "CMYK", "I;16", ...
    has_alpha: bool  # PNG colour type 4/6 or a tRNS chunk, WebP alpha; never for JPEG
    # What validation decoded and kept for later work on the same image (a mask's planes), so
    # that it is not decoded twice; filled in place, never compared.
    planes: dict[str, np.ndarray] = field(default_factory=dict, compare=False, repr=False)

    @property
    def pixels(self) -> int:
        """Width times height."""
        return self.width * self.height


def parse_image(
    data: bytes,
    *,
    max_bytes: int,
    max_pixels: int,
    accept: frozenset[ImageFormat] = frozenset({ImageFormat.PNG, ImageFormat.JPEG}),
) -> InputImage:
    """Recognise ``data`` by its magic bytes and read its size and mode from the header alone.

    Raises ImageInputError for empty, unrecognised (``unsupported``), oversized, truncated or
    corrupt images. The pixel limit is checked from the header, and the file's structure (chunk
    CRCs, end markers) without decoding a pixel, so a decompression bomb costs nothing.
    """
    if not data:
        raise ImageInputError("is empty")
    fmt = sniff_format(data)
    if fmt is None or fmt not in accept:
        raise not_accepted_error(data, accept)
    if len(data) > max_bytes:
        raise ImageInputError(
            f"is {byte_size(len(data))}; at most {byte_size(max_bytes)} are accepted"
        )
    header = read_header(data, fmt)
    if header.width * header.height > max_pixels:
        raise ImageInputError(
            f"is {header.width}x{header.height} pixels; at most {max_pixels} pixels are accepted"
        )
    check_structure(data, fmt)
    return InputImage(data, fmt, header.width, header.height, header.mode, header.has_alpha)


_BASE64_URLSAFE = str.maketrans("-_", "+/")


def decode_base64_image(text: str) -> bytes:
    """Decode raw base64 (standard or url-safe, padding optional, whitespace ignored) or a data URL.

    A data URL's declared media type is ignored: parse_image decides from the bytes.
    """
    try:
        # What nearly every caller sends, canonical base64 (padded, no whitespace), in one pass
        # over the text; every other form is normalised first.
        return pybase64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        pass
    payload = text.strip()
    if payload[:5].lower() == "data:":
        header, comma, payload = payload.partition(",")
        if not comma or not header.lower().endswith(";base64"):
            raise ImageInputError("is not valid base64 (a data URL must be ';base64,' encoded)")
    payload = "".join(payload.split()).translate(_BASE64_URLSAFE).rstrip("=")
    if len(payload) % 4 == 1:
        raise ImageInputError("is not valid base64 (its length is not a whole number of bytes)")
    try:
        return pybase64.b64decode(payload + "=" * (-len(payload) % 4), validate=True)
    except (binascii.Error, ValueError) as err:
        raise ImageInputError(
            "is not valid base64 (it contains characters outside the base64 alphabet)"
        ) from err


# What Pillow, zlib and the codecs raise on hostile bytes.
DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, struct.error, zlib.error, IndexError)
# Pillow's own pixel guard, for a caller limit above it. The warning is there for when warnings are
# errors (the tests): the caller's limit has been checked already.
BOMB_ERRORS = (Image.DecompressionBombError, Image.DecompressionBombWarning)


def load_pixels(image: InputImage) -> np.ndarray:
    """Decode fully to uint8 HxWx3, or HxWx4 when the image has alpha.

    Pillow's MAX_IMAGE_PIXELS guard stays on. EXIF orientation is not applied, as Bedrock does not
    apply it either. Raises ImageInputError when the pixel data is corrupt or truncated.
    """
    with decoded(image) as im:
        return pixels_of(im, image)


@contextmanager
def decoded(image: InputImage) -> Iterator[Image.Image]:
    """`image` opened and every pixel decoded; ImageInputError when its pixel data or metadata
    is corrupt, or more than this server decodes."""
    with opened(image) as im:
        try:
            im.load()
        except BOMB_ERRORS as err:
            raise _too_large(image) from err
        except DECODE_ERRORS as err:
            raise ImageInputError(CORRUPT) from err
        yield im


@contextmanager
def opened(image: InputImage) -> Iterator[Image.Image]:
    """`image` opened by Pillow, its metadata read but no pixel decoded; ImageInputError when
    Pillow cannot read its header or metadata."""
    try:
        with Image.open(io.BytesIO(image.data), formats=[image.format.name]) as im:
            if im.size != (image.width, image.height):
                raise ImageInputError(CORRUPT)  # Pillow read another header than we did
            yield im
    except ImageInputError:
        raise
    except BOMB_ERRORS as err:
        raise _too_large(image) from err
    except DECODE_ERRORS as err:
        raise ImageInputError(CORRUPT) from err


def _too_large(image: InputImage) -> ImageInputError:
    return ImageInputError(
        f"is {image.width}x{image.height} pixels, more than this server can decode"
    )


def pixels_of(im: Image.Image, image: InputImage) -> np.ndarray:
    """`im`, the decoded `image`, as load_pixels gives it: uint8 HxWx3, or HxWx4 with alpha."""
    if image.format is ImageFormat.PNG and image.has_alpha:
        depth, colour = png_layout(image.data)
        if colour in (0, 2):
            return _colour_keyed(im, depth, colour, png_transparent_key(image.data) or b"")
    if im.mode == "I;16":
        # Pillow's I;16 -> RGB conversion clips instead of scaling: keep the high byte ourselves.
        grey = (np.asarray(im, dtype=np.uint16) >> 8).astype(np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2)
    target = "RGBA" if image.has_alpha else "RGB"
    return np.asarray(im if im.mode == target else im.convert(target), dtype=np.uint8)


def _colour_keyed(im: Image.Image, depth: int, colour: int, key: bytes) -> np.ndarray:
    # Grey and RGB PNGs are made transparent by a tRNS colour key. Pillow compares the key with the
    # wrong sample scale for grey at 2, 4 and 16 bits and RGB at 16, so match it here instead.
    if colour == 0:
        raw = np.asarray(im, dtype=np.uint16) if depth == 16 else np.asarray(im.convert("L"))
        grey = (raw >> 8).astype(np.uint8) if depth == 16 else raw
        rgb = np.repeat(grey[:, :, None], 3, axis=2)
        # Pillow scales grey samples below 8 bits to 0..255; scale the key the same way.
        scale = 1 if depth >= 8 else 255 // ((1 << depth) - 1)
        keyed = raw == struct.unpack(">H", key)[0] * scale if len(key) >= 2 else None
    else:
        rgb = np.asarray(im.convert("RGB"))
        # Pillow keeps only the high byte of 16-bit samples, so the key is matched on it too.
        shift = 8 if depth == 16 else 0
        sample = [k >> shift for k in struct.unpack(">3H", key[:6])] if len(key) >= 6 else None
        keyed = np.all(rgb == np.array(sample), axis=2) if sample is not None else None
    alpha = np.full(rgb.shape[:2], 255, np.uint8)
    if keyed is not None:
        alpha[keyed] = 0
    return np.dstack([rgb, alpha])


def flatten_on_white(pixels: np.ndarray) -> np.ndarray:
    """RGB uint8 pixels from RGB or RGBA ones, transparency composited onto white."""
    if pixels.shape[2] == 3:
        return pixels
    image = Image.fromarray(pixels)
    white = Image.new("RGB", image.size, (255, 255, 255))
    white.paste(image, mask=image.getchannel("A"))
    return np.asarray(white)


def encode_png(pixels: np.ndarray) -> bytes:
    """PNG bytes of uint8 pixels (HxW, HxWx3 or HxWx4), compressed for speed over size."""
    return png.encode(pixels)


def as_rgb_image(image: InputImage) -> bytes:
    """Bytes an "8-bit RGB PNG or JPEG" model accepts: ``image.data`` itself when it is one.

    Anything else is decoded, its alpha flattened onto white, and re-encoded as an RGB PNG.
    """
    if image.format is ImageFormat.JPEG and image.mode == "RGB":
        return image.data
    if is_rgb8_png(image):
        return image.data
    return encode_png(flatten_on_white(load_pixels(image)))


def is_rgb8_png(image: InputImage) -> bool:
    """An 8-bit RGB PNG without transparency: what Bedrock's "RGB PNG" means, sent as is."""
    return (
        image.format is ImageFormat.PNG
        and image.mode == "RGB"
        and not image.has_alpha
        and png_layout(image.data)[0] == 8  # 16-bit RGB opens as mode "RGB" too
    )
