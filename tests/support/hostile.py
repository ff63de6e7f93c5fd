"""Hostile inputs the tests share: images whose pixels cannot be decoded behind valid checksums,
and JSON bodies within the byte cap that would cost far more than their size."""

from __future__ import annotations

import random
import struct
import zlib
from functools import cache


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    """One PNG chunk, its CRC right."""
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(kind + payload))
    )


def png_of(width: int, height: int, depth: int, colour: int, idat: bytes, *chunks: bytes) -> bytes:
    """A PNG with every chunk's CRC right, whatever its IDAT holds; `chunks` go before IDAT."""
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return b"".join(
        [b"\x89PNG\r\n\x1a\n", png_chunk(b"IHDR", ihdr), *chunks, png_chunk(b"IDAT", idat)]
    ) + png_chunk(b"IEND", b"")


def noise(size: int) -> bytes:
    """Random bytes, the same every run."""
    return random.Random(17).randbytes(size)


@cache
def corrupt_pixels() -> dict[str, bytes]:
    """512x512 PNGs that pass every header and structure check (chunk CRCs included) but cannot
    be decoded: random bytes for pixel data, at each layout, or an ICC profile that inflates to
    4 MiB, past what Pillow reads."""
    rows = zlib.compress(b"".join(b"\x00" + bytes(512 * 3) for _ in range(512)))
    profile = png_chunk(b"iCCP", b"icc\x00\x00" + zlib.compress(bytes(4 * 1024 * 1024)))
    return {
        "rgba-noise-idat": png_of(512, 512, 8, 6, noise(40_000)),
        "rgb16-noise-idat": png_of(512, 512, 16, 2, noise(40_000)),
        "rgb8-noise-idat": png_of(512, 512, 8, 2, noise(40_000)),
        "iccp-inflating": png_of(512, 512, 8, 2, rows, profile),
    }


@cache
def million_keys() -> bytes:
    """18 MB of JSON, within the body cap: a million keys, all but `prompt` unknown."""
    keys = b",".join(b'"unknown%d":1' % i for i in range(999_999))
    return b'{"prompt":"a fox",' + keys + b"}"
