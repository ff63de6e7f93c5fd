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
read from are kept with it (`masks.keep_planes`), so it is not decoded twice. When its pixel
stream is whole, Pillow is given its rows as zlib-ng inflated them, uncompressed.
"""

from __future__ import annotations

import dataclasses
import struct
from collections.abc import Callable

from zlib_ng import zlib_ng

from . import masks
from .formats import ImageFormat
from .inputs import InputImage, decoded, opened

# Samples per pixel of each PNG colour type.
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
# Inflated in pieces of at most this (a 1024² RGB photo in one), so that memory stays bounded and
# a stream that inflates past its size is stopped early.
_PIECE = 4 << 20
# The largest mask whose rows are handed to Pillow inflated (2048² RGB takes 12.6 MB): above it,
# holding them twice (stored, then in the PNG) would cost more memory than the time is worth.
_STORED_MAX = 16 << 20
_IEND = b"\x00\x00\x00\x00IEND\xae\x42\x60\x82"


def verify_decodes(image: InputImage, *, mask: bool = False) -> None:
    """Read every pixel of `image`; ImageInputError when its pixel data or metadata is corrupt
    or more than this server decodes. A `mask` keeps the planes its edit region is read from."""
    if mask:
        with decoded(_with_rows_stored(image)) as im:
            masks.keep_planes(image, im)
        return
    if image.format is ImageFormat.PNG:
        with opened(image):  # the metadata before the pixels, read as Pillow reads it
            pass
        if _png_pixels_inflate(image) is not None:
            return
    with decoded(image):
        pass


def _with_rows_stored(image: InputImage) -> InputImage:
    # A mask's pixels are needed, so Pillow decodes it; but a mask is long runs of one colour,
    # which zlib (Pillow's) inflates slowly: 6 of the 8.6 ms of a 1024² RGB mask's decode, where
    # zlib-ng takes 0.2 ms. So when its pixel stream is whole, the mask is given to Pillow with
    # the rows zlib-ng inflated stored as they are (deflate level 0), the chunks before them
    # unchanged: the same header, palette and transparency, the same rows, so the same pixels.
    # Anything else is decoded as it came.
    if image.format is not ImageFormat.PNG or _stride(image) * image.height > _STORED_MAX:
        return image
    store = zlib_ng.compressobj(0)
    stored: list[bytes] = []
    first_idat = _png_pixels_inflate(image, lambda rows: stored.append(store.compress(rows)))
    if first_idat is None:
        return image
    stored.append(store.flush())
    crc = zlib_ng.crc32(b"IDAT")
    for part in stored:
        crc = zlib_ng.crc32(part, crc)
    data = b"".join(
        (
            image.data[:first_idat],
            struct.pack(">I", sum(map(len, stored))),
            b"IDAT",
            *stored,
            struct.pack(">I", crc),
            _IEND,
        )
    )
    return dataclasses.replace(image, data=data)


def _png_pixels_inflate(
    image: InputImage, keep: Callable[[bytes], object] | None = None
) -> int | None:
    """The offset of the first IDAT chunk when the PNG's pixel stream is whole, None when not
    sure, which leaves the verdict to Pillow. `keep` is given the rows as they are inflated."""
    if image.data[28] != 0:  # interlaced
        return None
    located = _pixel_stream(image.data)
    if located is None:
        return None
    first_idat, stream = located
    stride = _stride(image)
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
                return None
            if keep is not None:
                keep(piece)
    except zlib_ng.error:  # type: ignore[misc]  # a class, which zlib-ng's stub types as an instance
        return None
    whole = done == expected and inflater.eof and not inflater.unused_data
    return first_idat if whole else None


def _stride(image: InputImage) -> int:
    # Bytes per row of a PNG: its filter byte, then the samples (bit depth, colour type).
    depth, colour = image.data[24], image.data[25]
    return 1 + (image.width * _CHANNELS[colour] * depth + 7) // 8


def _pixel_stream(data: bytes) -> tuple[int, bytes] | None:
    # The offset of the first IDAT chunk and the IDAT chunks' data joined, or None when a chunk
    # other than IEND follows them (Pillow reads those as it decodes). parse_image has checked
    # every chunk's length and CRC, and that an IDAT comes before IEND.
    view = memoryview(data)
    parts: list[memoryview] = []
    first_idat = offset = 8
    while offset + 8 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, offset)
        if kind == b"IEND":
            break
        if kind == b"IDAT":
            if not parts:
                first_idat = offset
            parts.append(view[offset + 8 : offset + 8 + length])
        elif parts:
            return None
        offset += 12 + length
    return first_idat, b"".join(parts)
