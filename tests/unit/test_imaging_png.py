"""PNGs written from numpy pixels (app/imaging/png.py) decode, in Pillow, to those pixels."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from app.imaging.png import encode


@pytest.mark.parametrize(
    "shape", [(19, 37), (19, 37, 2), (19, 37, 3), (19, 37, 4), (1, 1, 3), (1, 50), (50, 1, 4)]
)
def test_pixels_come_back_as_they_went(shape: tuple[int, ...]) -> None:
    pixels = np.random.default_rng(7).integers(0, 256, shape, dtype=np.uint8)
    with Image.open(io.BytesIO(encode(pixels))) as image:
        image.load()
        assert image.format == "PNG"
        channels = 1 if len(shape) == 2 else shape[2]
        assert image.mode == {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[channels]
        np.testing.assert_array_equal(np.asarray(image), pixels)


def test_a_view_of_other_pixels_is_encoded_as_its_own() -> None:
    # A crop (not contiguous) and a horizontal flip (negative strides) are what callers pass.
    pixels = np.random.default_rng(8).integers(0, 256, (30, 40, 3), dtype=np.uint8)
    for view in (pixels[5:20, 7:33], pixels[:, ::-1]):
        with Image.open(io.BytesIO(encode(view))) as image:
            np.testing.assert_array_equal(np.asarray(image), view)
