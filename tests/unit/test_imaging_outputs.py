"""Model outputs: media types sniffed from the bytes, and transcoding between PNG, JPEG and WebP."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from app.imaging.inputs import ImageInputError
from app.imaging.outputs import OUTPUT_MIME, sniff_mime, transcode
from tests.support.files import DATA


def encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def decoded(data: bytes) -> tuple[str | None, np.ndarray]:
    with Image.open(io.BytesIO(data)) as image:
        return image.format, np.asarray(image)


def webp_sample() -> bytes:
    with Image.open(DATA / "coffee.png") as coffee:
        return encoded(coffee, "WEBP", quality=90)


SAMPLES = {
    "png": (DATA / "coffee.png").read_bytes(),
    "jpeg": (DATA / "rocket.jpg").read_bytes(),
    "webp": webp_sample(),
}


class TestSniffMime:
    @pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
    def test_known(self, fmt: str) -> None:
        assert sniff_mime(SAMPLES[fmt]) == OUTPUT_MIME[fmt] == f"image/{fmt}"

    @pytest.mark.parametrize(
        "data", [b"", b"GIF89a", b"%PDF-1.7", b"RIFF\x00\x00\x00\x00WAVE", b"\x89PN"]
    )
    def test_unknown(self, data: bytes) -> None:
        assert sniff_mime(data) == "application/octet-stream"


class TestTranscode:
    @pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
    def test_same_format_is_returned_unchanged(self, fmt: str) -> None:
        assert transcode(SAMPLES[fmt], fmt) is SAMPLES[fmt]

    @pytest.mark.parametrize(
        ("source", "target", "tolerance"),
        [
            ("png", "jpeg", 3.0),
            ("png", "webp", 3.0),
            ("jpeg", "png", 0.0),
            ("jpeg", "webp", 3.0),
            ("webp", "png", 0.0),
            ("webp", "jpeg", 3.0),
        ],
    )
    def test_round_trip(self, source: str, target: str, tolerance: float) -> None:
        result = transcode(SAMPLES[source], target)
        assert sniff_mime(result) == OUTPUT_MIME[target]
        fmt, after = decoded(result)
        assert fmt == target.upper()
        _, before = decoded(SAMPLES[source])
        assert after.shape == before.shape
        assert np.abs(after.astype(int) - before.astype(int)).mean() <= tolerance

    def test_png_is_fast_not_small(self) -> None:
        # compress_level=1 trades size for speed: bigger than Pillow's default level 6.
        result = transcode(SAMPLES["jpeg"], "png")
        _, pixels = decoded(result)
        assert len(result) > len(encoded(Image.fromarray(pixels), "PNG"))

    def test_transparency_becomes_white_in_jpeg(self) -> None:
        rgba = (DATA / "coffee-mask-alpha-edit.png").read_bytes()
        _, source = decoded(rgba)
        fmt, flat = decoded(transcode(rgba, "jpeg"))
        assert (fmt, flat.shape) == ("JPEG", (400, 600, 3))
        # Away from the ellipse's edge, where JPEG blocks mix both sides.
        inside = np.zeros(source.shape[:2], bool)
        inside[130:160, 260:315] = True
        assert (source[inside][:, 3] == 0).all()
        assert flat[inside].min() >= 245

    def test_transparency_survives_in_webp(self) -> None:
        rgba = (DATA / "coffee-mask-alpha-edit.png").read_bytes()
        _, source = decoded(rgba)
        fmt, result = decoded(transcode(rgba, "webp"))
        assert (fmt, result.shape) == ("WEBP", (400, 600, 4))
        np.testing.assert_array_equal(result[:, :, 3], source[:, :, 3])

    def test_unknown_target(self) -> None:
        with pytest.raises(ValueError, match="unknown output format 'gif'"):
            transcode(SAMPLES["png"], "gif")

    @pytest.mark.parametrize("data", [b"", b"not an image", SAMPLES["png"][:200]])
    def test_unreadable_data(self, data: bytes) -> None:
        with pytest.raises(ImageInputError):
            transcode(data, "jpeg")
