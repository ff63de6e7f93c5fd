"""Masks in the three conventions reduce to the same edit region, and re-encode as models want."""

from __future__ import annotations

import io
from typing import Literal

import numpy as np
import pytest
from PIL import Image, ImageFilter

from app.imaging.inputs import ImageFormat, ImageInputError, InputImage, parse_image
from app.imaging.masks import MaskConvention, check_same_size, edit_region, encode_mask
from tests.support.files import DATA

MASKS = {
    MaskConvention.BLACK_IS_EDIT: "coffee-mask-black-edit.png",
    MaskConvention.WHITE_IS_EDIT: "coffee-mask-white-edit.png",
    MaskConvention.ALPHA_IS_EDIT: "coffee-mask-alpha-edit.png",
}
# The ellipse's box in coffee.png (tests/data/README.md): left, top, right, bottom.
BOX = (205, 97, 369, 193)


def parse(data: bytes) -> InputImage:
    return parse_image(
        data, max_bytes=25_000_000, max_pixels=40_000_000, accept=frozenset(ImageFormat)
    )


def load(name: str) -> InputImage:
    return parse((DATA / name).read_bytes())


def save(image: Image.Image, fmt: str, **options: object) -> InputImage:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return parse(out.getvalue())


def reference_region() -> np.ndarray:
    return edit_region(load(MASKS[MaskConvention.BLACK_IS_EDIT]), MaskConvention.BLACK_IS_EDIT)


def agreement(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(a == b))


class TestEditRegion:
    def test_three_conventions_mark_exactly_the_same_pixels(self) -> None:
        regions = [edit_region(load(name), convention) for convention, name in MASKS.items()]
        for region in regions:
            assert region.dtype == np.bool_
            assert region.shape == (400, 600)
            np.testing.assert_array_equal(region, regions[0])

    def test_region_is_the_documented_ellipse(self) -> None:
        region = reference_region()
        rows, cols = np.nonzero(region)
        left, top, right, bottom = BOX
        assert (cols.min(), rows.min()) >= (left, top)
        assert (cols.max(), rows.max()) <= (right, bottom)
        assert region[(top + bottom) // 2, (left + right) // 2]
        # An ellipse fills π/4 of its box.
        box_area = (right - left) * (bottom - top)
        assert region.sum() == pytest.approx(np.pi / 4 * box_area, rel=0.05)

    @pytest.mark.parametrize("convention", [*MaskConvention])
    def test_jpeg_compressed_mask_thresholds_to_nearly_the_same_region(
        self, convention: MaskConvention
    ) -> None:
        with Image.open(DATA / MASKS[convention]) as original:
            if convention is MaskConvention.ALPHA_IS_EDIT:
                # JPEG has no alpha; an alpha mask survives lossy WebP instead.
                noisy = save(original, "WEBP", quality=50)
            else:
                noisy = save(original, "JPEG", quality=60)
        assert agreement(edit_region(noisy, convention), reference_region()) >= 0.99

    @pytest.mark.parametrize("convention", [*MaskConvention])
    def test_anti_aliased_mask_thresholds_to_nearly_the_same_region(
        self, convention: MaskConvention
    ) -> None:
        with Image.open(DATA / MASKS[convention]) as original:
            if convention is MaskConvention.ALPHA_IS_EDIT:
                soft_alpha = original.getchannel("A").filter(ImageFilter.GaussianBlur(1.5))
                blurred = original.copy()
                blurred.putalpha(soft_alpha)
            else:
                blurred = original.filter(ImageFilter.GaussianBlur(1.5))
        soft = save(blurred, "PNG")
        assert agreement(edit_region(soft, convention), reference_region()) >= 0.99

    @pytest.mark.parametrize(
        ("name", "convention"),
        [
            ("coffee.png", MaskConvention.BLACK_IS_EDIT),
            ("rocket.jpg", MaskConvention.WHITE_IS_EDIT),
            ("astronaut.png", MaskConvention.BLACK_IS_EDIT),
            # The alpha mask's colour channels are the photo itself.
            ("coffee-mask-alpha-edit.png", MaskConvention.WHITE_IS_EDIT),
        ],
    )
    def test_photo_is_not_a_mask(self, name: str, convention: MaskConvention) -> None:
        with pytest.raises(ImageInputError) as caught:
            edit_region(load(name), convention)
        assert caught.value.message.startswith("is not a black-and-white mask: ")
        assert caught.value.message.endswith(
            " of its pixels are grey (at most 10% may be, for anti-aliased edges)"
        )
        assert not caught.value.unsupported

    def test_soft_alpha_matte_is_not_a_mask(self) -> None:
        gradient = np.tile(np.arange(256, dtype=np.uint8), (8, 1))
        rgba = np.dstack([np.zeros((8, 256, 3), np.uint8), gradient])
        with pytest.raises(ImageInputError) as caught:
            edit_region(save(Image.fromarray(rgba), "PNG"), MaskConvention.ALPHA_IS_EDIT)
        assert caught.value.message == (
            "is not a black-and-white mask: 75% of its pixels are partly transparent "
            "(at most 10% may be, for anti-aliased edges)"
        )

    @pytest.mark.parametrize("name", ["coffee-mask-black-edit.png", "rocket.jpg"])
    def test_alpha_convention_needs_alpha(self, name: str) -> None:
        with pytest.raises(ImageInputError) as caught:
            edit_region(load(name), MaskConvention.ALPHA_IS_EDIT)
        assert caught.value.message == (
            "has no alpha channel; alpha-is-edit needs a PNG with transparency"
        )

    @pytest.mark.parametrize(
        ("colour", "convention"),
        [
            ((255, 255, 255), MaskConvention.BLACK_IS_EDIT),
            ((0, 0, 0), MaskConvention.WHITE_IS_EDIT),
        ],
    )
    def test_all_keep_mask_gives_an_empty_region(
        self, colour: tuple[int, int, int], convention: MaskConvention
    ) -> None:
        region = edit_region(save(Image.new("RGB", (30, 20), colour), "PNG"), convention)
        assert region.shape == (20, 30)
        assert not region.any()

    def test_palette_mask_with_transparency(self) -> None:
        palette = Image.new("P", (4, 2), 0)
        palette.putpalette([0, 0, 0, 255, 255, 255])
        palette.putpixel((1, 0), 1)
        region = edit_region(save(palette, "PNG", transparency=1), MaskConvention.ALPHA_IS_EDIT)
        np.testing.assert_array_equal(region, [[False, True, False, False], [False] * 4])


class TestEncodeMask:
    def test_black_edit_is_rgb_black_on_white(self) -> None:
        region = reference_region()
        with Image.open(io.BytesIO(encode_mask(region, edit="black"))) as mask:
            assert (mask.format, mask.mode, mask.size) == ("PNG", "RGB", (600, 400))
            pixels = np.asarray(mask)
        assert (pixels[region] == 0).all()
        assert (pixels[~region] == 255).all()

    def test_white_edit_is_grey_white_on_black(self) -> None:
        region = reference_region()
        with Image.open(io.BytesIO(encode_mask(region, edit="white"))) as mask:
            assert (mask.format, mask.mode, mask.size) == ("PNG", "L", (600, 400))
            pixels = np.asarray(mask)
        np.testing.assert_array_equal(pixels, np.where(region, 255, 0))

    @pytest.mark.parametrize(
        ("edit", "convention"),
        [("black", MaskConvention.BLACK_IS_EDIT), ("white", MaskConvention.WHITE_IS_EDIT)],
    )
    def test_round_trip(self, edit: str, convention: MaskConvention) -> None:
        region = edit_region(
            load(MASKS[MaskConvention.ALPHA_IS_EDIT]), MaskConvention.ALPHA_IS_EDIT
        )
        encoded = parse(encode_mask(region, edit=edit))  # type: ignore[arg-type]
        np.testing.assert_array_equal(edit_region(encoded, convention), region)


class TestCheckSameSize:
    def test_same_size(self) -> None:
        assert check_same_size(load("coffee.png"), load("coffee-mask-white-edit.png")) is None

    def test_different_size(self) -> None:
        message = check_same_size(load("astronaut.png"), load("coffee-mask-white-edit.png"))
        assert message == "is 600x400 but the image is 512x512; they must match"


class TestThresholds:
    """The exact values where a pixel turns from keep to edit, and where a mask stops being one."""

    # A 10x10 mask: one row of the value under test among black and white rows (10% mid-tones at
    # most), so the near-binary check passes and the row's pixels show the threshold.
    @staticmethod
    def grey_row(value: int) -> InputImage:
        rows = np.zeros((10, 10), np.uint8)
        rows[5:] = 255
        rows[0] = value
        return save(Image.fromarray(rows).convert("RGB"), "PNG")

    @pytest.mark.parametrize(
        ("value", "black_edit", "white_edit"),
        [(0, True, False), (127, True, False), (128, False, True), (255, False, True)],
    )
    def test_luminance_is_thresholded_at_128(
        self, value: int, black_edit: bool, white_edit: bool
    ) -> None:
        mask = self.grey_row(value)
        black = edit_region(mask, MaskConvention.BLACK_IS_EDIT)
        white = edit_region(mask, MaskConvention.WHITE_IS_EDIT)
        assert black[0].tolist() == [black_edit] * 10
        assert white[0].tolist() == [white_edit] * 10
        np.testing.assert_array_equal(black[1:5], True)
        np.testing.assert_array_equal(white[5:], True)
        np.testing.assert_array_equal(black, ~white)

    @pytest.mark.parametrize(
        ("alpha", "edit"), [(0, True), (127, True), (128, False), (255, False)]
    )
    def test_alpha_is_thresholded_at_128(self, alpha: int, edit: bool) -> None:
        rgba = np.full((10, 10, 4), 255, np.uint8)
        rgba[0, :, 3] = alpha
        region = edit_region(save(Image.fromarray(rgba), "PNG"), MaskConvention.ALPHA_IS_EDIT)
        assert region[0].tolist() == [edit] * 10
        assert not region[1:].any()

    def test_ten_percent_mid_tones_pass_and_one_pixel_more_is_refused(self) -> None:
        values = np.zeros((10, 10), np.uint8)
        values.flat[:10] = 100  # exactly 10% grey
        passed = edit_region(
            save(Image.fromarray(values).convert("RGB"), "PNG"), MaskConvention.BLACK_IS_EDIT
        )
        assert int(passed.sum()) == 100  # 100 and 0 are both below 128: all edit
        values.flat[10] = 100
        with pytest.raises(ImageInputError) as caught:
            edit_region(
                save(Image.fromarray(values).convert("RGB"), "PNG"), MaskConvention.BLACK_IS_EDIT
            )
        assert caught.value.message.startswith("is not a black-and-white mask: 11% of its pixels")

    @pytest.mark.parametrize("edit", ["black", "white"])
    def test_encoded_pixel_values(self, edit: Literal["black", "white"]) -> None:
        region = np.array([[True, False], [False, True]])
        with Image.open(io.BytesIO(encode_mask(region, edit=edit))) as image:
            values = np.asarray(image)
            mode = image.mode
        edit_value, keep_value = (0, 255) if edit == "black" else (255, 0)
        grey = np.where(region, edit_value, keep_value)
        if edit == "black":
            assert mode == "RGB"
            np.testing.assert_array_equal(values, np.repeat(grey[:, :, None], 3, axis=2))
        else:
            assert mode == "L"
            np.testing.assert_array_equal(values, grey)
