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

A mask is decoded by Pillow in any case, as its pixels are needed: the planes its edit region is
read from are kept with it (`masks.keep_planes`), so it is not decoded twice.
"""

from __future__ import annotations

import struct
import zlib

from . import masks
from .formats import ImageFormat
from .inputs import InputImage, decoded, opened

# Samples per pixel of each PNG colour type.
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
# Inflated in pieces of at most this, so a stream that inflates past its size is stopped early.
_PIECE = 1 << 20


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
    stride = 1 + (image.width * _CHANNELS[colour] * depth + 7) // 8
    expected = stride * image.height
    inflater = zlib.decompressobj()
    view = memoryview(data)
    done = 0
    offset = 8
    seen_pixels = False
    try:
        while offset + 8 <= len(data):
            length, kind = struct.unpack_from(">I4s", data, offset)
            if kind == b"IEND":
                break
            if kind == b"IDAT":
                pending: bytes | memoryview = view[offset + 8 : offset + 8 + length]
                while pending:
                    piece = inflater.decompress(pending, _PIECE)
                    pending = inflater.unconsumed_tail
                    first = -done % stride
                    done += len(piece)
                    if done > expected or max(piece[first::stride], default=0) > 4:
                        return False
                seen_pixels = True
            elif seen_pixels:
                return False  # a chunk after the pixels: Pillow reads those as it decodes
            offset += 12 + length
    except zlib.error:
        return False
    return done == expected and inflater.eof and not inflater.unused_data
