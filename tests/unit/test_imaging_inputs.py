"""Caller images: recognised by their bytes, bounded from the header, decoded only on demand."""

from __future__ import annotations

import base64
import io
import random
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from app.imaging.inputs import (
    ImageFormat,
    ImageInputError,
    InputImage,
    as_rgb_image,
    decode_base64_image,
    load_pixels,
    parse_image,
)
from tests.support.files import DATA

LIMITS = {"max_bytes": 25_000_000, "max_pixels": 40_000_000}
ALL_FORMATS = frozenset(ImageFormat)


def read(name: str) -> bytes:
    return (DATA / name).read_bytes()


def parse(data: bytes, **kwargs: object) -> InputImage:
    return parse_image(data, **{**LIMITS, **kwargs})  # type: ignore[arg-type]


def refusal(data: bytes, **kwargs: object) -> ImageInputError:
    with pytest.raises(ImageInputError) as caught:
        parse(data, **kwargs)
    return caught.value


def pillow_bytes(image: Image.Image, fmt: str, **save: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **save)
    return out.getvalue()


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def crafted_png(
    width: int, height: int, depth: int, colour: int, rows: list[bytes], trns: bytes | None = None
) -> bytes:
    """A PNG written chunk by chunk, for layouts Pillow will not write (and headers that lie)."""
    ihdr = png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0))
    pixels = zlib.compress(b"".join(b"\x00" + row for row in rows))
    extra = png_chunk(b"tRNS", trns) if trns is not None else b""
    return (
        b"\x89PNG\r\n\x1a\n" + ihdr + extra + png_chunk(b"IDAT", pixels) + png_chunk(b"IEND", b"")
    )


class TestHeaders:
    @pytest.mark.parametrize(
        ("name", "fmt", "size", "mode", "has_alpha"),
        [
            ("coffee.png", ImageFormat.PNG, (600, 400), "RGB", False),
            ("chelsea.png", ImageFormat.PNG, (451, 300), "RGB", False),
            ("coffee-mask-alpha-edit.png", ImageFormat.PNG, (600, 400), "RGBA", True),
            ("coffee-mask-white-edit.png", ImageFormat.PNG, (600, 400), "L", False),
            ("coffee-mask-black-edit.png", ImageFormat.PNG, (600, 400), "RGB", False),
            ("rocket.jpg", ImageFormat.JPEG, (640, 427), "RGB", False),
        ],
    )
    def test_test_images(
        self, name: str, fmt: ImageFormat, size: tuple[int, int], mode: str, has_alpha: bool
    ) -> None:
        data = read(name)
        image = parse(data)
        assert image.data is data
        assert (image.format, (image.width, image.height)) == (fmt, size)
        assert (image.mode, image.has_alpha, image.pixels) == (mode, has_alpha, size[0] * size[1])

    @pytest.mark.parametrize(
        ("mode", "fmt", "save", "has_alpha"),
        [
            ("1", "PNG", {}, False),
            ("L", "PNG", {}, False),
            ("LA", "PNG", {}, True),
            ("P", "PNG", {}, False),
            ("P", "PNG", {"transparency": 3}, True),
            ("RGB", "PNG", {"transparency": (10, 20, 30)}, True),
            ("I;16", "PNG", {}, False),
            ("RGBA", "PNG", {}, True),
            ("L", "JPEG", {}, False),
            ("CMYK", "JPEG", {}, False),
            ("RGB", "JPEG", {"progressive": True}, False),
            ("RGB", "WEBP", {"lossless": False}, False),
            ("RGB", "WEBP", {"lossless": True}, False),
            ("RGBA", "WEBP", {"lossless": True}, True),
            ("RGBA", "WEBP", {"lossless": False}, True),
        ],
    )
    def test_header_agrees_with_pillow(
        self, mode: str, fmt: str, save: dict[str, object], has_alpha: bool
    ) -> None:
        rng = np.random.default_rng(7)
        noise = rng.integers(0, 255, (37, 53, 4 if "A" in mode else 3), dtype=np.uint8)
        source = Image.fromarray(noise).convert(mode)
        data = pillow_bytes(source, fmt, **save)
        image = parse(data, accept=ALL_FORMATS)
        with Image.open(io.BytesIO(data)) as opened:
            assert (image.width, image.height, image.mode) == (*opened.size, opened.mode)
        assert image.has_alpha is has_alpha
        assert load_pixels(image).shape == (37, 53, 4 if has_alpha else 3)

    def test_dimensions_come_from_the_header_alone(self) -> None:
        # An IHDR claiming 100000x100000 followed by no real pixel data: the size is read, the
        # pixel limit refuses it, and nothing is decoded (there is nothing to decode).
        bomb = crafted_png(100_000, 100_000, 8, 2, [])
        error = refusal(bomb)
        assert error.message == "is 100000x100000 pixels; at most 40000000 pixels are accepted"
        assert not error.unsupported

    def test_decoding_a_lying_header_is_refused_not_crashed(self) -> None:
        bomb = crafted_png(100_000, 100_000, 8, 2, [])
        image = parse(bomb, max_pixels=10**10)
        assert (image.width, image.height) == (100_000, 100_000)
        with pytest.raises(ImageInputError) as caught:
            load_pixels(image)  # Pillow's own guard (MAX_IMAGE_PIXELS) refuses before allocating
        assert caught.value.message == ("is 100000x100000 pixels, more than this server can decode")

    def test_header_without_pixel_data_is_corrupt(self) -> None:
        image = parse(crafted_png(3000, 3000, 8, 2, []))
        with pytest.raises(ImageInputError, match=r"^is truncated or corrupt$"):
            load_pixels(image)

    def test_jpeg_size_from_the_frame_header(self) -> None:
        data = bytearray(read("rocket.jpg"))
        sof = next(i for i in range(2, len(data) - 1) if data[i] == 0xFF and data[i + 1] == 0xC0)
        data[sof + 5 : sof + 9] = struct.pack(">HH", 60_000, 60_000)
        error = refusal(bytes(data))
        assert error.message == "is 60000x60000 pixels; at most 40000000 pixels are accepted"

    def test_webp_canvas_size_from_vp8x(self) -> None:
        data = bytearray(pillow_bytes(Image.new("RGBA", (8, 8)), "WEBP", lossless=True))
        if data[12:16] != b"VP8X":  # Pillow writes a bare VP8L without metadata: wrap it
            body = bytes([0x10, 0, 0, 0]) + (7).to_bytes(3, "little") * 2
            vp8x = b"VP8X" + struct.pack("<I", 10) + body
            data = bytearray(b"RIFF" + struct.pack("<I", 4 + len(vp8x) + len(data) - 12))
            data += b"WEBP" + vp8x + bytes(data[12:])
        data[24:27] = (16383).to_bytes(3, "little")
        data[27:30] = (16383).to_bytes(3, "little")
        error = refusal(bytes(data), accept=ALL_FORMATS)
        assert error.message == "is 16384x16384 pixels; at most 40000000 pixels are accepted"

    def test_byte_limit(self) -> None:
        error = refusal(read("coffee.png"), max_bytes=1000)
        assert error.message == "is 455.8 KiB (466706 bytes); at most 1000 bytes are accepted"
        assert not error.unsupported


class TestRefusals:
    @pytest.mark.parametrize(
        ("data", "message"),
        [
            (b"%PDF-1.7\n%\xe2\xe3", "is not a PNG or JPEG image (it is a PDF file)"),
            (
                pillow_bytes(Image.new("P", (4, 4)), "GIF"),
                "is not a PNG or JPEG image (it is a GIF file)",
            ),
            (b"hello, world", "is not a PNG or JPEG image (the bytes start with 'hell')"),
            (b"\x00\x01\xfe\xff", "is not a PNG or JPEG image (the bytes start with '....')"),
            (
                pillow_bytes(Image.new("RGB", (4, 4)), "WEBP"),
                "is not a PNG or JPEG image (it is a WebP file)",
            ),
            (
                pillow_bytes(Image.new("RGB", (4, 4)), "BMP"),
                "is not a PNG or JPEG image (it is a BMP file)",
            ),
            (
                pillow_bytes(Image.new("RGB", (4, 4)), "TIFF"),
                "is not a PNG or JPEG image (it is a TIFF file)",
            ),
            (
                b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>',
                "is not a PNG or JPEG image (it is an SVG file)",
            ),
            (b"\n  <svg width='10'></svg>", "is not a PNG or JPEG image (it is an SVG file)"),
            (
                b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00",
                "is not a PNG or JPEG image (it is an AVIF file)",
            ),
            (
                b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00",
                "is not a PNG or JPEG image (it is a HEIC file)",
            ),
            (b"<html><body>", "is not a PNG or JPEG image (the bytes start with '<htm')"),
        ],
    )
    def test_not_an_accepted_type(self, data: bytes, message: str) -> None:
        error = refusal(data)
        assert (error.message, error.unsupported) == (message, True)

    def test_accept_names_the_formats(self) -> None:
        error = refusal(read("rocket.jpg"), accept=frozenset({ImageFormat.PNG}))
        assert error.message == "is not a PNG image (it is a JPEG file)"
        error = refusal(b"GIF89a", accept=ALL_FORMATS)
        assert error.message == "is not a PNG, JPEG or WebP image (it is a GIF file)"

    def test_empty(self) -> None:
        error = refusal(b"")
        assert (error.message, error.unsupported) == ("is empty", False)

    @pytest.mark.parametrize(
        "data",
        [
            read("coffee.png")[:8],
            read("coffee.png")[:20],
            read("coffee.png")[:40],
            crafted_png(4, 4, 8, 2, [])[:33] + png_chunk(b"IEND", b""),
            read("coffee.png")[:16] + b"\x00\x00\x00\x00" + read("coffee.png")[20:],  # bad CRC
            crafted_png(4, 4, 3, 2, [b"\x00" * 12] * 4),  # no such bit depth
            crafted_png(0, 4, 8, 2, []),
            read("rocket.jpg")[:3],
            read("rocket.jpg")[:100],
            b"\xff\xd8\xff\xd9",
            b"\xff\xd8\xff\xda\x00\x08",
            b"RIFF\x00\x00\x00\x00WEBPVP8 ",
        ],
    )
    def test_truncated_or_corrupt_header(self, data: bytes) -> None:
        error = refusal(data, accept=ALL_FORMATS)
        assert (error.message, error.unsupported) == ("is truncated or corrupt", False)

    def test_endless_metadata_is_refused(self) -> None:
        png = read("coffee.png")
        padded_png = png[:33] + png_chunk(b"tEXt", b"k\x00v") * 10_001 + png[33:]
        jpeg = read("rocket.jpg")
        padded_jpeg = jpeg[:2] + b"\xff\xfe\x00\x02" * 10_001 + jpeg[2:]
        for data in (padded_png, padded_jpeg):
            assert refusal(data).message == (
                "has more than 10000 metadata segments before its pixel data"
            )

    def test_some_metadata_and_fill_bytes_are_fine(self) -> None:
        png = read("coffee.png")
        image = parse(png[:33] + png_chunk(b"tEXt", b"k\x00v") * 500 + png[33:])
        assert (image.width, image.height) == (600, 400)
        jpeg = read("rocket.jpg")
        image = parse(jpeg[:2] + b"\xff" * 100_000 + b"\xfe\x00\x02" + jpeg[2:])
        assert (image.width, image.height) == (640, 427)
        assert load_pixels(image).shape == (427, 640, 3)

    def test_twelve_bit_jpeg(self) -> None:
        data = bytearray(read("rocket.jpg"))
        sof = next(i for i in range(2, len(data) - 1) if data[i] == 0xFF and data[i + 1] == 0xC0)
        data[sof + 4] = 12
        assert refusal(bytes(data)).message == "is a 12-bit JPEG; only 8-bit JPEGs are accepted"

    @pytest.mark.parametrize("cut", [0.99, 0.5, 0.1])
    @pytest.mark.parametrize(
        "data",
        [
            read("coffee.png"),
            read("rocket.jpg"),
            pillow_bytes(Image.open(DATA / "chelsea.png"), "JPEG", progressive=True),
            pillow_bytes(Image.open(DATA / "chelsea.png"), "WEBP"),
        ],
        ids=["png", "jpeg", "progressive-jpeg", "webp"],
    )
    def test_truncated_files_are_refused_before_decoding(self, data: bytes, cut: float) -> None:
        # The header is intact; the end of the file is missing.
        error = refusal(data[: int(len(data) * cut)], accept=ALL_FORMATS)
        assert error.message == "is truncated or corrupt"

    def test_a_damaged_png_chunk_fails_its_crc(self) -> None:
        data = bytearray(read("coffee.png"))
        data[len(data) // 2] ^= 0x01  # one bit in the pixel data
        assert refusal(bytes(data)).message == "is truncated or corrupt"

    def test_trailing_bytes_after_the_end_are_tolerated(self) -> None:
        for name in ("coffee.png", "rocket.jpg"):
            image = parse(read(name) + b"\x00" * 100)
            assert load_pixels(image).shape[2] == 3

    def test_pixel_data_that_does_not_inflate_is_refused_when_decoding(self) -> None:
        # Structure and CRCs intact, but the IDAT is not a zlib stream: only decoding can tell.
        ihdr = png_chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0))
        data = (
            b"\x89PNG\r\n\x1a\n"
            + ihdr
            + png_chunk(b"IDAT", b"not zlib at all")
            + png_chunk(b"IEND", b"")
        )
        image = parse(data)
        with pytest.raises(ImageInputError, match=r"^is truncated or corrupt$"):
            load_pixels(image)

    @pytest.mark.parametrize("name", ["chelsea.png", "rocket.jpg"])
    def test_damaged_bytes_never_escape_as_another_error(self, name: str) -> None:
        original = read(name)
        rng = random.Random(name)
        outcomes = set()
        for _ in range(60):
            data = bytearray(original)
            for _ in range(rng.randint(1, 8)):
                data[rng.randrange(min(len(data), 2000))] = rng.randrange(256)
            try:
                pixels = load_pixels(parse(bytes(data)))
            except ImageInputError:
                outcomes.add("refused")
            else:
                assert pixels.dtype == np.uint8
                outcomes.add("decoded")
        assert "refused" in outcomes


class TestBase64:
    def test_variants_decode_to_the_same_bytes(self) -> None:
        data = read("coffee-mask-black-edit.png")
        standard = base64.b64encode(data).decode()
        url_safe = base64.urlsafe_b64encode(data).decode()
        assert "-" in url_safe or "_" in url_safe
        variants = [
            standard,
            standard.rstrip("="),
            url_safe,
            url_safe.rstrip("="),
            base64.encodebytes(data).decode(),  # newlines every 76 characters
            f"  {standard}\r\n",
            f"data:image/png;base64,{standard}",
            f"data:image/jpeg;base64,{standard}",  # the declared type does not matter
            f"DATA:application/octet-stream;BASE64,{url_safe.rstrip('=')}",
        ]
        for text in variants:
            assert decode_base64_image(text) == data

    def test_empty_decodes_to_nothing_for_parse_image_to_refuse(self) -> None:
        assert decode_base64_image("") == b""
        assert refusal(decode_base64_image(" \n")).message == "is empty"

    @pytest.mark.parametrize(
        ("text", "detail"),
        [
            ("iVBORw0K!!!", "it contains characters outside the base64 alphabet"),
            ("iVBOR=w0KGgo=", "it contains characters outside the base64 alphabet"),
            ("ünïcödé", "it contains characters outside the base64 alphabet"),
            ("iVBORw0KG", "its length is not a whole number of bytes"),
            ("data:image/png,iVBORw0KGgo=", "a data URL must be ';base64,' encoded"),
            ("data:image/png;base64", "a data URL must be ';base64,' encoded"),
        ],
    )
    def test_invalid(self, text: str, detail: str) -> None:
        with pytest.raises(ImageInputError) as caught:
            decode_base64_image(text)
        assert caught.value.message == f"is not valid base64 ({detail})"
        assert not caught.value.unsupported


class TestLoadPixels:
    @pytest.mark.parametrize("name", ["coffee.png", "rocket.jpg", "chelsea.png"])
    def test_rgb(self, name: str) -> None:
        pixels = load_pixels(parse(read(name)))
        with Image.open(DATA / name) as reference:
            expected = np.asarray(reference.convert("RGB"))
        assert pixels.dtype == np.uint8
        np.testing.assert_array_equal(pixels, expected)

    def test_alpha_kept(self) -> None:
        pixels = load_pixels(parse(read("coffee-mask-alpha-edit.png")))
        assert pixels.shape == (400, 600, 4)
        assert set(np.unique(pixels[:, :, 3])) == {0, 255}

    def test_grey_becomes_rgb(self) -> None:
        pixels = load_pixels(parse(read("coffee-mask-white-edit.png")))
        assert pixels.shape == (400, 600, 3)
        np.testing.assert_array_equal(pixels[:, :, 0], pixels[:, :, 2])

    def test_exif_orientation_is_not_applied(self) -> None:
        exif = Image.Exif()
        exif[0x0112] = 6  # "rotate 90° clockwise to display"
        data = pillow_bytes(Image.new("RGB", (40, 20), (200, 0, 0)), "JPEG", exif=exif)
        assert load_pixels(parse(data)).shape == (20, 40, 3)

    def test_sixteen_bit_grey_keeps_the_high_byte(self) -> None:
        data = crafted_png(2, 1, 16, 0, [struct.pack(">HH", 0x1234, 0xABCD)])
        image = parse(data)
        assert image.mode == "I;16"
        np.testing.assert_array_equal(load_pixels(image)[0, :, 0], [0x12, 0xAB])

    @pytest.mark.parametrize(
        ("depth", "row", "key", "grey", "alpha"),
        [
            (1, bytes([0b01000000]), 1, [0, 255], [255, 0]),
            (2, bytes([0b00011011]), 2, [0, 85, 170, 255], [255, 255, 0, 255]),
            (4, bytes([0x1F]), 15, [17, 255], [255, 0]),
            (8, bytes([10, 200]), 200, [10, 200], [255, 0]),
            (16, struct.pack(">HH", 0x1234, 0xABCD), 0xABCD, [0x12, 0xAB], [255, 0]),
        ],
    )
    def test_grey_colour_key_at_every_depth(
        self, depth: int, row: bytes, key: int, grey: list[int], alpha: list[int]
    ) -> None:
        data = crafted_png(len(grey), 1, depth, 0, [row], trns=struct.pack(">H", key))
        image = parse(data)
        assert image.has_alpha
        pixels = load_pixels(image)
        np.testing.assert_array_equal(pixels[0, :, 0], grey)
        np.testing.assert_array_equal(pixels[0, :, 3], alpha)

    @pytest.mark.parametrize(
        ("depth", "samples", "key", "rgb", "alpha"),
        [
            (8, [1, 2, 3, 4, 5, 6], [4, 5, 6], [[1, 2, 3], [4, 5, 6]], [255, 0]),
            (
                16,
                [0x0102, 0x0304, 0x0506, 0x0708, 0x090A, 0x0B0C],
                [0x0102, 0x0304, 0x0506],
                [[1, 3, 5], [7, 9, 11]],
                [0, 255],
            ),
        ],
    )
    def test_rgb_colour_key(
        self, depth: int, samples: list[int], key: list[int], rgb: list[list[int]], alpha: list[int]
    ) -> None:
        layout = ">6B" if depth == 8 else ">6H"
        data = crafted_png(
            2, 1, depth, 2, [struct.pack(layout, *samples)], trns=struct.pack(">3H", *key)
        )
        pixels = load_pixels(parse(data))
        np.testing.assert_array_equal(pixels[0, :, :3], rgb)
        np.testing.assert_array_equal(pixels[0, :, 3], alpha)


class TestAsRgbImage:
    @pytest.mark.parametrize("name", ["coffee.png", "rocket.jpg", "coffee-mask-black-edit.png"])
    def test_passes_through_unchanged(self, name: str) -> None:
        image = parse(read(name))
        assert as_rgb_image(image) is image.data

    def test_alpha_is_flattened_onto_white(self) -> None:
        source = parse(read("coffee-mask-alpha-edit.png"))
        converted = parse(as_rgb_image(source))
        assert (converted.format, converted.mode, converted.has_alpha) == ("png", "RGB", False)
        rgba = load_pixels(source)
        rgb = load_pixels(converted)
        opaque = rgba[:, :, 3] == 255
        np.testing.assert_array_equal(rgb[opaque], rgba[:, :, :3][opaque])
        assert (rgb[~opaque] == 255).all()

    @pytest.mark.parametrize(
        ("name_or_bytes", "mode"),
        [
            ("coffee-mask-white-edit.png", "L"),
            (pillow_bytes(Image.new("CMYK", (8, 8), (0, 255, 0, 0)), "JPEG"), "CMYK"),
            (pillow_bytes(Image.new("L", (8, 8), 90), "JPEG"), "L"),
            (crafted_png(1, 1, 16, 2, [bytes(range(6))]), "RGB"),
            (pillow_bytes(Image.new("RGB", (8, 8)), "PNG", transparency=(1, 2, 3)), "RGB"),
            (pillow_bytes(Image.new("P", (8, 8)), "PNG"), "P"),
        ],
    )
    def test_converted_to_an_8_bit_rgb_png(self, name_or_bytes: str | bytes, mode: str) -> None:
        data = read(name_or_bytes) if isinstance(name_or_bytes, str) else name_or_bytes
        source = parse(data)
        assert source.mode == mode
        result = as_rgb_image(source)
        assert result != data
        with Image.open(io.BytesIO(result)) as converted:
            assert (converted.format, converted.mode, converted.size) == (
                "PNG",
                "RGB",
                (source.width, source.height),
            )
            assert converted.info.get("transparency") is None
            np.testing.assert_array_equal(np.asarray(converted), load_pixels(source)[:, :, :3])
        assert result[24] == 8  # IHDR bit depth
