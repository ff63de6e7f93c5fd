"""Caller images: recognised by their bytes, bounded from the header before any pixel is decoded."""

from __future__ import annotations

import base64
import binascii
import io
import struct
import zlib
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from PIL import Image


class ImageFormat(StrEnum):
    """Image container formats the gateway recognises."""

    PNG = "png"
    JPEG = "jpeg"
    WEBP = "webp"


class ImageInputError(ValueError):
    """A caller's image is unusable; ``message`` completes a sentence naming the field."""

    def __init__(self, message: str, *, unsupported: bool = False) -> None:
        super().__init__(message)
        self.message = message
        # True: not an image type we accept (415); False: broken or out of limits (422).
        self.unsupported = unsupported


@dataclass(frozen=True, slots=True)
class InputImage:
    """An image's bytes with what its header says about it."""

    data: bytes
    format: ImageFormat
    width: int
    height: int
    mode: str
    has_alpha: bool

    @property
    def pixels(self) -> int:
        """Width times height."""
        return self.width * self.height


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_SOI = b"\xff\xd8\xff"
_CORRUPT = "is truncated or corrupt"

# (bit depth, colour type) -> the mode Pillow opens the PNG as.
_PNG_MODES: dict[tuple[int, int], str] = {
    (1, 0): "1",
    (2, 0): "L",
    (4, 0): "L",
    (8, 0): "L",
    (16, 0): "I;16",
    (8, 2): "RGB",
    (16, 2): "RGB",
    (1, 3): "P",
    (2, 3): "P",
    (4, 3): "P",
    (8, 3): "P",
    (8, 4): "LA",
    (16, 4): "RGBA",
    (8, 6): "RGBA",
    (16, 6): "RGBA",
}

# Start-of-frame markers of the sequential and progressive processes, which libjpeg decodes; the
# lossless (C3, CB) and hierarchical (C5-C7, CD-CF) ones are refused.
_JPEG_DECODABLE_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC9, 0xCA})
_JPEG_OTHER_SOF = frozenset({0xC3, 0xC5, 0xC6, 0xC7, 0xCB, 0xCD, 0xCE, 0xCF})
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD9)})
_JPEG_MODES = {1: "L", 3: "RGB", 4: "CMYK"}

# Known signatures, so a refusal can name what the caller actually sent.
_OTHER_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"%PDF", "PDF"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
)


def sniff_format(data: bytes) -> ImageFormat | None:
    """The format the magic bytes announce, or None."""
    if data.startswith(_PNG_SIGNATURE):
        return ImageFormat.PNG
    if data.startswith(_JPEG_SOI):
        return ImageFormat.JPEG
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ImageFormat.WEBP
    return None


def _describe_accepted(accept: frozenset[ImageFormat]) -> str:
    names = [f.name if f is not ImageFormat.WEBP else "WebP" for f in ImageFormat if f in accept]
    if len(names) == 1:
        return f"a {names[0]} image"
    return "a " + ", ".join(names[:-1]) + " or " + names[-1] + " image"


def _not_accepted(data: bytes, accept: frozenset[ImageFormat]) -> ImageInputError:
    start = data[:4].decode("latin-1")
    printable = "".join(c if c.isprintable() and c.isascii() else "." for c in start)
    known = next((name for sig, name in _OTHER_SIGNATURES if data.startswith(sig)), None)
    found = f"it is a {known} file" if known else f"the bytes start with {printable!r}"
    return ImageInputError(f"is not {_describe_accepted(accept)} ({found})", unsupported=True)


def _png_header(data: bytes) -> tuple[int, int, str, bool]:
    # IHDR must come first: length 13, then width, height, bit depth, colour type, ...
    if len(data) < 33 or data[8:16] != b"\x00\x00\x00\x0dIHDR":
        raise ImageInputError(_CORRUPT)
    width, height, depth, colour = struct.unpack_from(">IIBB", data, 16)
    if zlib.crc32(data[12:29]) != struct.unpack_from(">I", data, 29)[0]:
        raise ImageInputError(_CORRUPT)
    mode = _PNG_MODES.get((depth, colour))
    if mode is None or width == 0 or height == 0:
        raise ImageInputError(_CORRUPT)
    has_alpha = colour in (4, 6)
    # Walk the chunk headers (not their contents) to the first IDAT: tRNS must come before it, and
    # a stream with no IDAT at all has no pixels.
    offset = 33
    while True:
        if offset + 8 > len(data):
            raise ImageInputError(_CORRUPT)
        length, kind = struct.unpack_from(">I4s", data, offset)
        if kind == b"IDAT":
            return width, height, mode, has_alpha
        if kind == b"IEND":
            raise ImageInputError(_CORRUPT)
        if kind == b"tRNS":
            has_alpha = True
        offset += 12 + length


def _jpeg_header(data: bytes) -> tuple[int, int, str]:
    offset = 2
    while True:
        if offset >= len(data) or data[offset] != 0xFF:
            raise ImageInputError(_CORRUPT)
        # A marker may be preceded by any number of 0xFF fill bytes.
        while offset < len(data) and data[offset] == 0xFF:
            offset += 1
        if offset + 3 > len(data):
            raise ImageInputError(_CORRUPT)
        marker = data[offset]
        offset += 1
        if marker in _JPEG_STANDALONE:
            continue
        (length,) = struct.unpack_from(">H", data, offset)
        if marker in (0xDA, 0xD9) or length < 2:
            raise ImageInputError(_CORRUPT)  # scan data or the end before any frame header
        if marker in _JPEG_DECODABLE_SOF or marker in _JPEG_OTHER_SOF:
            return _jpeg_frame(data, offset, marker)
        offset += length


def _jpeg_frame(data: bytes, offset: int, marker: int) -> tuple[int, int, str]:
    if offset + 8 > len(data):
        raise ImageInputError(_CORRUPT)
    precision, height, width, components = struct.unpack_from(">BHHB", data, offset + 2)
    if marker in _JPEG_OTHER_SOF:
        raise ImageInputError(
            "is a lossless or hierarchical JPEG; only baseline and progressive are accepted"
        )
    if precision != 8:
        raise ImageInputError(f"is a {precision}-bit JPEG; only 8-bit JPEGs are accepted")
    mode = _JPEG_MODES.get(components)
    if mode is None or width == 0 or height == 0:
        raise ImageInputError(_CORRUPT)
    return width, height, mode


def _webp_header(data: bytes) -> tuple[int, int, str]:
    if len(data) < 30:
        raise ImageInputError(_CORRUPT)
    kind = data[12:16]
    if kind == b"VP8 ":
        # Frame tag (3 bytes), start code 9D 01 2A, then 14-bit width and height.
        if data[23:26] != b"\x9d\x01\x2a":
            raise ImageInputError(_CORRUPT)
        width, height = (v & 0x3FFF for v in struct.unpack_from("<HH", data, 26))
        return width, height, "RGB"
    if kind == b"VP8L":
        if data[20] != 0x2F:
            raise ImageInputError(_CORRUPT)
        (bits,) = struct.unpack_from("<I", data, 21)
        width, height = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        return width, height, "RGBA" if bits >> 28 & 1 else "RGB"
    if kind == b"VP8X":
        flags = data[20]
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height, "RGBA" if flags & 0x10 else "RGB"
    raise ImageInputError(_CORRUPT)


def parse_image(
    data: bytes,
    *,
    max_bytes: int,
    max_pixels: int,
    accept: frozenset[ImageFormat] = frozenset({ImageFormat.PNG, ImageFormat.JPEG}),
) -> InputImage:
    """Recognise ``data`` by its magic bytes and read its size and mode from the header alone.

    Raises ImageInputError for empty, unrecognised (``unsupported``), corrupt or oversized images;
    no pixel is decoded here, so a decompression bomb costs nothing.
    """
    if not data:
        raise ImageInputError("is empty")
    fmt = sniff_format(data)
    if fmt is None or fmt not in accept:
        raise _not_accepted(data, accept)
    if len(data) > max_bytes:
        raise ImageInputError(f"is {len(data)} bytes; at most {max_bytes} bytes are accepted")
    has_alpha = False
    if fmt is ImageFormat.PNG:
        width, height, mode, has_alpha = _png_header(data)
    elif fmt is ImageFormat.JPEG:
        width, height, mode = _jpeg_header(data)
    else:
        width, height, mode = _webp_header(data)
        has_alpha = mode == "RGBA"
    if width * height > max_pixels:
        raise ImageInputError(
            f"is {width}x{height} pixels; at most {max_pixels} pixels are accepted"
        )
    return InputImage(data, fmt, width, height, mode, has_alpha)


_BASE64_URLSAFE = str.maketrans("-_", "+/")


def decode_base64_image(text: str) -> bytes:
    """Decode raw base64 (standard or url-safe, padding optional, whitespace ignored) or a data URL.

    A data URL's declared media type is ignored: parse_image decides from the bytes.
    """
    payload = text.strip()
    if payload[:5].lower() == "data:":
        header, comma, payload = payload.partition(",")
        if not comma or not header.lower().endswith(";base64"):
            raise ImageInputError("is not valid base64 (a data URL must be ';base64,' encoded)")
    payload = "".join(payload.split()).translate(_BASE64_URLSAFE).rstrip("=")
    if len(payload) % 4 == 1:
        raise ImageInputError("is not valid base64 (its length is not a whole number of bytes)")
    try:
        return base64.b64decode(payload + "=" * (-len(payload) % 4), validate=True)
    except (binascii.Error, ValueError) as err:
        raise ImageInputError(
            "is not valid base64 (it contains characters outside the alphabet)"
        ) from err


# Everything Pillow, zlib and the codecs raise on hostile input; DecompressionBombError included.
_DECODE_ERRORS = (
    OSError,
    ValueError,
    SyntaxError,
    EOFError,
    struct.error,
    zlib.error,
    IndexError,
    Image.DecompressionBombError,
    Image.DecompressionBombWarning,
)


def load_pixels(image: InputImage) -> np.ndarray:
    """Decode fully to uint8 HxWx3, or HxWx4 when the image has alpha.

    EXIF orientation is not applied, as Bedrock does not apply it either.
    """
    try:
        with Image.open(io.BytesIO(image.data), formats=[image.format.name]) as im:
            if im.size != (image.width, image.height):
                raise ImageInputError(_CORRUPT)
            im.load()
            return _to_uint8(im, image.has_alpha)
    except _DECODE_ERRORS as err:
        if isinstance(err, ImageInputError):
            raise
        raise ImageInputError(_CORRUPT) from err


def _to_uint8(im: Image.Image, has_alpha: bool) -> np.ndarray:
    if im.mode.startswith("I;16"):
        # Pillow's I;16 -> L conversion clips instead of scaling: keep the high byte ourselves.
        grey = (np.asarray(im, dtype=np.uint16) >> 8).astype(np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2)
    target = "RGBA" if has_alpha else "RGB"
    return np.asarray(im if im.mode == target else im.convert(target), dtype=np.uint8)


def flatten_on_white(pixels: np.ndarray) -> np.ndarray:
    """RGB from RGB or RGBA pixels, with transparency composited onto white."""
    if pixels.shape[2] == 3:
        return pixels
    alpha = pixels[:, :, 3:4].astype(np.uint16)
    rgb = pixels[:, :, :3].astype(np.uint16)
    return ((rgb * alpha + 255 * (255 - alpha) + 127) // 255).astype(np.uint8)


def encode_png(pixels: np.ndarray) -> bytes:
    """PNG bytes of a uint8 array, compressed for speed over size."""
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG", compress_level=1)
    return out.getvalue()


def as_rgb_image(image: InputImage) -> bytes:
    """Bytes an "8-bit RGB PNG or JPEG" model accepts: the original when it already is one."""
    if image.format is ImageFormat.JPEG and image.mode == "RGB":
        return image.data
    if (
        image.format is ImageFormat.PNG
        and image.mode == "RGB"
        and not image.has_alpha
        and image.data[24] == 8  # IHDR bit depth: 16-bit RGB is mode "RGB" too
    ):
        return image.data
    return encode_png(flatten_on_white(load_pixels(image)))
