"""Image formats recognised by their magic bytes, and what their headers say, without decoding."""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator
from enum import StrEnum
from typing import NamedTuple

from zlib_ng import zlib_ng


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


class Header(NamedTuple):
    """What an image's header says: size, the mode Pillow will open it as, and transparency."""

    width: int
    height: int
    mode: str
    has_alpha: bool


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_SOI = b"\xff\xd8\xff"
CORRUPT = "is truncated or corrupt"
# Real files carry a few dozen metadata chunks or segments before the pixels; walking millions of
# tiny ones would let a 25 MB body cost seconds of CPU.
_MAX_SEGMENTS = 10_000
_TOO_MANY_SEGMENTS = f"has more than {_MAX_SEGMENTS} metadata segments before its pixel data"
# Encoders split the pixel data into chunks of 8 KB (libpng) to 64 KB (Pillow): a few thousand in
# a 20 MB PNG. Millions of tiny ones would only cost CPU.
_MAX_PNG_CHUNKS = 100_000
_TOO_MANY_CHUNKS = f"has more than {_MAX_PNG_CHUNKS} chunks"
_JPEG_FILL = re.compile(rb"\xff+")

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
    (b"\x00\x00\x01\x00", "ICO"),
    (b"8BPS", "PSD"),
    (b"\xff\x0a", "JPEG XL"),
    (b"\x00\x00\x00\x0cJXL ", "JPEG XL"),
)
# ISO base media files (HEIC, AVIF) say what they are in their `ftyp` box's brand.
_FTYP_BRANDS = {b"avif": "AVIF", b"avis": "AVIF", b"heic": "HEIC", b"heix": "HEIC", b"mif1": "HEIF"}
_AN = frozenset({"AVIF", "ICO", "SVG"})  # read "an AVIF", "an SVG"


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


def _known_kind(data: bytes) -> str | None:
    # What a refused file is, when it says so: an image format we do not take, a PDF, an SVG.
    fmt = sniff_format(data)
    if fmt is not None:
        return "WebP" if fmt is ImageFormat.WEBP else fmt.name
    known = next((name for sig, name in _OTHER_SIGNATURES if data.startswith(sig)), None)
    if known is not None:
        return known
    if data[4:8] == b"ftyp" and data[8:12] in _FTYP_BRANDS:
        return _FTYP_BRANDS[data[8:12]]
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"<") and b"<svg" in head:
        return "SVG"
    return None


def not_accepted_error(data: bytes, accept: frozenset[ImageFormat]) -> ImageInputError:
    """The refusal of bytes that are not one of the ``accept`` formats, naming what they are."""
    start = data[:4].decode("latin-1")
    printable = "".join(c if c.isprintable() and c.isascii() else "." for c in start)
    known = _known_kind(data)
    if known is None:
        found = f"the bytes start with {printable!r}"
    else:
        found = f"it is {'an' if known in _AN else 'a'} {known} file"
    return ImageInputError(f"is not {_describe_accepted(accept)} ({found})", unsupported=True)


def _png_chunks(data: bytes) -> Iterator[tuple[bytes, int, int]]:
    # (type, data offset, length) of each chunk after IHDR up to the first IDAT, reading only the
    # chunk headers; a stream that ends, or reaches IEND, before any IDAT has no pixels.
    offset = 33
    for _ in range(_MAX_SEGMENTS):
        if offset + 8 > len(data):
            raise ImageInputError(CORRUPT)
        length, kind = struct.unpack_from(">I4s", data, offset)
        if kind == b"IDAT":
            return
        if kind == b"IEND":
            raise ImageInputError(CORRUPT)
        yield kind, offset + 8, length
        offset += 12 + length
    raise ImageInputError(_TOO_MANY_SEGMENTS)


def _check_png_chunks(data: bytes) -> None:
    # Every chunk complete and matching its CRC, up to IEND: a truncated or damaged file is refused
    # here, from its structure, rather than sent on for the model to choke on. zlib-ng's CRC-32
    # (carry-less multiply) runs at memory speed: 0.04 ms for a 2 MB PNG, the standard library's
    # zlib 0.5 ms.
    view = memoryview(data)
    offset = 8
    for _ in range(_MAX_PNG_CHUNKS):
        if offset + 12 > len(data):
            raise ImageInputError(CORRUPT)
        length, kind = struct.unpack_from(">I4s", data, offset)
        end = offset + 8 + length
        if end + 4 > len(data):
            raise ImageInputError(CORRUPT)
        if zlib_ng.crc32(view[offset + 4 : end]) != struct.unpack_from(">I", data, end)[0]:
            raise ImageInputError(CORRUPT)
        if kind == b"IEND":
            return
        offset = end + 4
    raise ImageInputError(_TOO_MANY_CHUNKS)


def _png_header(data: bytes) -> Header:
    # IHDR must come first: length 13, then width, height, bit depth, colour type, ...
    if len(data) < 33 or data[8:16] != b"\x00\x00\x00\x0dIHDR":
        raise ImageInputError(CORRUPT)
    width, height, depth, colour = struct.unpack_from(">IIBB", data, 16)
    if zlib_ng.crc32(data[12:29]) != struct.unpack_from(">I", data, 29)[0]:
        raise ImageInputError(CORRUPT)
    mode = _PNG_MODES.get((depth, colour))
    if mode is None:
        raise ImageInputError(CORRUPT)
    has_trns = any(kind == b"tRNS" for kind, _, _ in _png_chunks(data))
    return Header(width, height, mode, colour in (4, 6) or has_trns)


def png_layout(data: bytes) -> tuple[int, int]:
    """Bit depth and colour type from the IHDR of a PNG that parse_image accepted."""
    return data[24], data[25]


def png_transparent_key(data: bytes) -> bytes | None:
    """The tRNS chunk's contents of a PNG that parse_image accepted, or None."""
    for kind, offset, length in _png_chunks(data):
        if kind == b"tRNS":
            return data[offset : offset + length]
    return None


def _jpeg_segments(data: bytes) -> Iterator[tuple[int, int, int]]:
    # (marker, offset of its length field, length) of each segment up to and including the first
    # start-of-scan; the end of the data, or of the image, before any scan is corrupt.
    offset = 2
    for _ in range(_MAX_SEGMENTS):
        # A marker is 0xFF, any number of 0xFF fill bytes, then the marker code.
        fill = _JPEG_FILL.match(data, offset)
        if fill is None:
            raise ImageInputError(CORRUPT)
        offset = fill.end()
        if offset + 3 > len(data):
            raise ImageInputError(CORRUPT)
        marker = data[offset]
        offset += 1
        if marker in _JPEG_STANDALONE:
            continue
        (length,) = struct.unpack_from(">H", data, offset)
        if marker == 0xD9 or length < 2:
            raise ImageInputError(CORRUPT)
        yield marker, offset, length
        if marker == 0xDA:
            return
        offset += length
    raise ImageInputError(_TOO_MANY_SEGMENTS)


def _jpeg_header(data: bytes) -> Header:
    for marker, offset, _ in _jpeg_segments(data):
        if marker == 0xDA:
            break  # scan data before any frame header
        if marker in _JPEG_DECODABLE_SOF or marker in _JPEG_OTHER_SOF:
            return _jpeg_frame(data, offset, marker)
    raise ImageInputError(CORRUPT)


def _check_jpeg_end(data: bytes) -> None:
    # Entropy-coded data escapes every 0xFF byte (as FF 00), so an FF D9 after the first scan can
    # only be the end-of-image marker: a file cut short has none.
    for marker, offset, length in _jpeg_segments(data):
        if marker == 0xDA and data.find(b"\xff\xd9", offset + length) >= 0:
            return
    raise ImageInputError(CORRUPT)


def _jpeg_frame(data: bytes, offset: int, marker: int) -> Header:
    if offset + 8 > len(data):
        raise ImageInputError(CORRUPT)
    precision, height, width, components = struct.unpack_from(">BHHB", data, offset + 2)
    if marker in _JPEG_OTHER_SOF:
        raise ImageInputError(
            "is a lossless or hierarchical JPEG; only baseline and progressive are accepted"
        )
    if precision != 8:
        raise ImageInputError(f"is a {precision}-bit JPEG; only 8-bit JPEGs are accepted")
    mode = _JPEG_MODES.get(components)
    if mode is None:
        raise ImageInputError(CORRUPT)
    return Header(width, height, mode, False)


def _webp_header(data: bytes) -> Header:
    if len(data) < 30:
        raise ImageInputError(CORRUPT)
    kind = data[12:16]
    if kind == b"VP8 ":
        # Frame tag (3 bytes), start code 9D 01 2A, then 14-bit width and height.
        if data[23:26] != b"\x9d\x01\x2a":
            raise ImageInputError(CORRUPT)
        width, height = (v & 0x3FFF for v in struct.unpack_from("<HH", data, 26))
        return Header(width, height, "RGB", False)
    if kind == b"VP8L":
        if data[20] != 0x2F:
            raise ImageInputError(CORRUPT)
        (bits,) = struct.unpack_from("<I", data, 21)
        width, height = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        alpha = bool(bits >> 28 & 1)
        return Header(width, height, "RGBA" if alpha else "RGB", alpha)
    if kind == b"VP8X":
        flags = data[20]
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        alpha = bool(flags & 0x10)
        return Header(width, height, "RGBA" if alpha else "RGB", alpha)
    raise ImageInputError(CORRUPT)


def read_header(data: bytes, fmt: ImageFormat) -> Header:
    """The header of ``data``, already sniffed as ``fmt``; ImageInputError when corrupt or empty."""
    if fmt is ImageFormat.PNG:
        header = _png_header(data)
    elif fmt is ImageFormat.JPEG:
        header = _jpeg_header(data)
    else:
        header = _webp_header(data)
    if header.width == 0 or header.height == 0:
        raise ImageInputError(CORRUPT)
    return header


def check_structure(data: bytes, fmt: ImageFormat) -> None:
    """Refuse a truncated or damaged file from its structure, without decoding a pixel.

    PNG: every chunk complete and matching its CRC, up to IEND. JPEG: an end-of-image marker after
    the first scan. WebP: as long as its RIFF header says. Linear in the size, at memory speed.
    """
    if fmt is ImageFormat.PNG:
        _check_png_chunks(data)
    elif fmt is ImageFormat.JPEG:
        _check_jpeg_end(data)
    elif len(data) < 8 + struct.unpack_from("<I", data, 4)[0]:
        raise ImageInputError(CORRUPT)
