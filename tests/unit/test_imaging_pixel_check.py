"""The full pixel check (app/imaging/verify.py) refuses exactly what Pillow's full decode refuses.

A PNG's rows are inflated and checked instead of decoded; whatever that check is not sure of goes
to Pillow. These PNGs are built row by row so that their zlib stream is valid and every chunk's
CRC is right: only the rows themselves are wrong, where only a full read finds it. One stream is
built bit by bit instead, with a Huffman code zlib refuses and other inflaters accept.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable

import numpy as np
import pytest
from PIL import Image, ImageDraw

from app.imaging.inputs import ImageInputError, decoded, parse_image
from app.imaging.masks import keep_planes
from app.imaging.verify import verify_decodes

WIDTH, HEIGHT = 24, 16


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(
    rows: bytes, *, after: bytes = b"", deflate: Callable[[bytes], bytes] = zlib.compress
) -> bytes:
    """An 8-bit RGB PNG of WIDTH x HEIGHT whose IDAT holds `rows` (filter bytes included)."""
    header = struct.pack(">IIBBBBB", WIDTH, HEIGHT, 8, 2, 0, 0, 0)
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            chunk(b"IHDR", header),
            chunk(b"IDAT", deflate(rows)),
            after,
            chunk(b"IEND", b""),
        )
    )


def rows(filters: list[int]) -> bytes:
    samples = np.random.default_rng(5).integers(0, 256, (HEIGHT, WIDTH * 3), dtype=np.uint8)
    return b"".join(bytes([f]) + samples[i].tobytes() for i, f in enumerate(filters))


def pillow_refuses(data: bytes) -> bool:
    try:
        with decoded(parse_image(data, max_bytes=10**7, max_pixels=10**7)):
            return False
    except ImageInputError:
        return True


def check_refuses(data: bytes, *, mask: bool = False) -> bool:
    """True when the pixel check (of a `mask`) refuses `data` as truncated or corrupt."""
    image = parse_image(data, max_bytes=10**7, max_pixels=10**7)
    message = None
    try:
        verify_decodes(image, mask=mask)
    except ImageInputError as exc:
        message = exc.message
    assert message in (None, "is truncated or corrupt")
    return message is not None


def huffman_block(data: bytes, distance_lengths: tuple[int, int]) -> bytes:
    """`data` as a zlib stream of one block of literals with Huffman codes of its own (RFC 1951,
    3.2.7): complete codes for literals, and two distance codes of the lengths given, unused."""
    bits: list[int] = []

    def field(value: int, count: int) -> None:  # header fields: least significant bit first
        bits.extend((value >> i) & 1 for i in range(count))

    def code(value: int, count: int) -> None:  # Huffman codes: most significant bit first
        bits.extend((value >> i) & 1 for i in reversed(range(count)))

    field(1, 1)  # the last block
    field(2, 2)  # with codes of its own
    field(257 - 257, 5)  # literal/length codes: the 256 literals and end-of-block
    field(2 - 1, 5)  # distance codes
    field(19 - 4, 4)  # code length codes, in the order below, 3 bits each
    for symbol in (16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15):
        field(2 if symbol in (1, 2, 8, 9) else 0, 3)
    length_code = {1: 0b00, 2: 0b01, 8: 0b10, 9: 0b11}
    # Literals 0-254 take 8 bits, 255 and end-of-block 9: a complete code.
    for length in [8] * 255 + [9, 9, *distance_lengths]:
        code(length_code[length], 2)
    for byte in data:
        if byte < 255:
            code(byte, 8)
        else:
            code(0b111111110, 9)
    code(0b111111111, 9)
    bits.extend([0] * (-len(bits) % 8))
    packed = bytes(
        sum(bit << j for j, bit in enumerate(bits[i : i + 8])) for i in range(0, len(bits), 8)
    )
    return b"\x78\x01" + packed + struct.pack(">I", zlib.adler32(data))


GOOD = [0, 1, 2, 3, 4] * 3 + [0]
CASES = {
    "every filter type": png(rows(GOOD)),
    "a filter byte of 5": png(rows([*GOOD[:7], 5, *GOOD[8:]])),
    "a filter byte of 255": png(rows([255, *GOOD[1:]])),
    "one row short": png(rows(GOOD)[: -(1 + WIDTH * 3)]),
    "one byte short": png(rows(GOOD)[:-1]),
    "one row too many": png(rows(GOOD) + rows(GOOD)[: 1 + WIDTH * 3]),
    "a text chunk after the pixels": png(rows(GOOD), after=chunk(b"tEXt", b"k\x00v")),
    "a block with codes of its own": png(rows(GOOD), deflate=lambda r: huffman_block(r, (1, 1))),
    # Lengths 1 and 2 leave a quarter of the distance code unassigned: zlib refuses the stream
    # ("invalid distances set"), ISA-L's inflate reads it.
    "an incomplete distance code": png(rows(GOOD), deflate=lambda r: huffman_block(r, (1, 2))),
}


@pytest.mark.parametrize("name", list(CASES))
def test_the_check_agrees_with_pillow(name: str) -> None:
    data = CASES[name]
    assert check_refuses(data) == pillow_refuses(data)


@pytest.mark.parametrize("name", list(CASES))
def test_the_mask_check_agrees_with_pillow(name: str) -> None:
    data = CASES[name]
    assert check_refuses(data, mask=True) == pillow_refuses(data)


def test_bad_rows_are_refused() -> None:
    # (A stream short by whole rows is one Pillow decodes, so the check lets Pillow decide it.)
    for name in ("a filter byte of 5", "a filter byte of 255", "one byte short"):
        assert check_refuses(CASES[name]), name
    assert not check_refuses(CASES["every filter type"])


def test_a_stream_zlib_refuses_is_refused() -> None:
    # The check's inflate must refuse what Pillow's (zlib) refuses, not only corrupt rows.
    assert check_refuses(CASES["an incomplete distance code"])
    assert not check_refuses(CASES["a block with codes of its own"])


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "LA", "P", "1", "I;16"])
@pytest.mark.parametrize("interlace", [False, True])
def test_pngs_of_every_layout_pass(mode: str, interlace: bool) -> None:
    image = Image.new("RGB", (37, 19), (40, 90, 200)).convert(mode if mode != "I;16" else "L")
    if mode == "I;16":
        image = Image.fromarray(np.arange(37 * 19, dtype=np.uint16).reshape(19, 37) * 50)
    out = io.BytesIO()
    image.save(out, format="PNG", interlace=interlace)
    assert not check_refuses(out.getvalue())


def mask_png(mode: str, transparency: object, interlace: bool, scale: int = 1) -> bytes:
    """A mask in `mode`: black shapes on white, a grey edge, a red band, some transparent."""
    picture = Image.new("RGBA", (61, 43), (255, 255, 255, 255))
    draw = ImageDraw.Draw(picture)
    draw.polygon([(3, 2), (50, 9), (20, 40)], fill=(0, 0, 0, 255), outline=(128, 128, 128, 255))
    draw.ellipse((30, 20, 58, 41), fill=(0, 0, 0, 0))
    draw.rectangle((0, 36, 60, 39), fill=(200, 30, 30, 255))
    picture = picture.resize((61 * scale, 43 * scale), Image.Resampling.NEAREST)
    if mode == "I;16":
        image = Image.fromarray(np.asarray(picture.convert("L"), dtype=np.uint16) * 257)
    else:
        image = picture if mode == "RGBA" else picture.convert(mode)
    options: dict[str, object] = {"interlace": interlace}
    if transparency is not None:
        options["transparency"] = transparency
    out = io.BytesIO()
    image.save(out, format="PNG", **options)
    return out.getvalue()


def assert_planes_of_its_own_decode(data: bytes) -> None:
    """The planes the mask check keeps are those of Pillow's decode of the mask as it came."""
    reference = parse_image(data, max_bytes=10**7, max_pixels=10**7)
    with decoded(reference) as im:
        keep_planes(reference, im)
    checked = parse_image(data, max_bytes=10**7, max_pixels=10**7)
    verify_decodes(checked, mask=True)
    assert checked.planes.keys() == reference.planes.keys()
    for name, plane in reference.planes.items():
        np.testing.assert_array_equal(checked.planes[name], plane)


@pytest.mark.parametrize(
    ("mode", "transparency"),
    [
        *((mode, None) for mode in ("RGB", "RGBA", "L", "LA", "P", "1", "I;16")),
        ("RGB", (255, 255, 255)),
        ("L", 0),
        ("P", 0),
    ],
)
@pytest.mark.parametrize("interlace", [False, True])
def test_a_masks_planes_are_those_of_its_own_decode(
    mode: str, transparency: object, interlace: bool
) -> None:
    # A mask's rows reach Pillow inflated by zlib-ng and stored; its planes must be the very
    # ones Pillow's decode of the mask as it came gives.
    assert_planes_of_its_own_decode(mask_png(mode, transparency, interlace))


def test_a_large_masks_planes_are_those_of_its_own_decode() -> None:
    # 61x43 scaled by 56: 3416x2408 RGB, 24.7 MB of rows, more than are handed over inflated.
    assert_planes_of_its_own_decode(mask_png("RGB", None, False, scale=56))
