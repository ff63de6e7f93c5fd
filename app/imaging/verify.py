"""The full check every caller image gets before any Bedrock call.

The header and structure checks (`inputs.parse_image`) cost nothing, but pixel data can be
corrupt behind valid chunk CRCs, and a PNG's metadata (an ICC profile) can inflate past what
Pillow reads. Found later, that is an error after validation (a 500 where the gateway converts the
image) or a body Bedrock fails on (a 5xx, retried, then a 502). So every image's pixel data is
read in full once, during validation, which runs off the event loop; the pixel budget
(max_image_pixels) has already been checked from the header, so the memory is bounded.

A PNG's pixels are a zlib stream of rows, each a filter byte (0-4) and the row's samples. When
that stream inflates whole, to exactly the rows the header announces, with valid filter bytes,
nothing is left for Pillow's decode to fail on: un-filtering and unpacking cannot fail. So the
stream is inflated and checked without un-filtering it or building an image (a 1024² photo: about
a third of Pillow's decode). Whatever that check is not sure of (interlaced images, chunks after
the pixels, a stream of another length) Pillow decodes, as before, and decides.

The inflate is zlib-ng's: a quarter faster than the standard library's zlib on a photo's rows,
and it refuses exactly the streams zlib refuses (it is zlib's inflate made faster, with the same
checks of every Huffman table), so the check agrees with Pillow, whose decoder is zlib. ISA-L's
inflate is faster still, but it accepts streams whose distance code is incomplete, which zlib, and
so Pillow, refuses. The IDAT chunks are joined and inflated as one stream: zlib-ng is slower fed
64 KiB at a time, and each call hands the GIL over twice.

A mask is decoded by Pillow in any case, as its pixels are needed: the planes its edit region is
read from are kept with it (`masks.keep_planes`), so it is not decoded twice.
"""

from __future__ import annotations

import struct

from zlib_ng import zlib_ng

from . import masks
from .formats import ImageFormat
from .inputs import InputImage, decoded, opened

# Samples per pixel of each PNG colour type.
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
# Inflated in pieces of at most this (a 1024² RGB photo in one), so that memory stays bounded and
# a stream that inflates past its size is stopped early.
_PIECE = 4 << 20


def verify_decodes(image: InputImage, *, mask: bool = False) -> None:
    """Read every pixel of `image`; ImageInputError when its pixel data or metadata is corrupt
    or more than this server decodes. A `mask` keeps the planes its edit region is read from."""
    if mask:
        with decoded(image) as im:
            masks.keep_planes(image, im)
        return
    if image.format is ImageFormat.PNG:
        with opened(image):  # the metadata before the pixels, read as Pillow reads it
            pass
        if _png_pixels_inflate(image):
            return
    with decoded(image):
        pass


def _png_pixels_inflate(image: InputImage) -> bool:
    """True when the PNG's pixel stream is whole: False leaves the verdict to Pillow."""
    data = image.data
    depth, colour, interlace = data[24], data[25], data[28]
    if interlace != 0:
        return False
    stream = _pixel_stream(data)
    if stream is None:
        return False
    stride = 1 + (image.width * _CHANNELS[colour] * depth + 7) // 8
    expected = stride * image.height
    inflater = zlib_ng.decompressobj()
    done = 0
    pending: bytes = stream
    try:
        while pending:
            piece = inflater.decompress(pending, _PIECE)
            pending = inflater.unconsumed_tail
            first = -done % stride
            done += len(piece)
            if done > expected or max(piece[first::stride], default=0) > 4:
                return False
    except zlib_ng.error:  # type: ignore[misc]  # a class, which zlib-ng's stub types as an instance
        return False
    return done == expected and inflater.eof and not inflater.unused_data


def _pixel_stream(data: bytes) -> bytes | None:
    # The IDAT chunks' data joined, or None when a chunk other than IEND follows them (Pillow
    # reads those as it decodes). parse_image has checked every chunk's length and CRC.
    view = memoryview(data)
    parts: list[memoryview] = []
    offset = 8
    while offset + 8 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, offset)
        if kind == b"IEND":
            break
        if kind == b"IDAT":
            parts.append(view[offset + 8 : offset + 8 + length])
        elif parts:
            return None
        offset += 12 + length
    return b"".join(parts)
