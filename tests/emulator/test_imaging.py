"""The emulator's image maker, on real photos: determinism, colours, fills, masks and codecs."""

from __future__ import annotations

import base64
import io
import itertools

import numpy as np
import pytest
from PIL import Image

from emulator.imaging.codec import ImageDecodeError, decode_b64, encode_b64, image_info, rng_for
from emulator.imaging.edit import (
    blend_towards,
    edges,
    extend_canvas,
    fill_region,
    recolor,
    region_from_prompt,
    remove_background,
    resize,
    upscale,
)
from emulator.imaging.presets import apply_style_preset
from emulator.imaging.synth import palette_image, text_to_image
from emulator.models.vocab import STYLE_PRESETS
from tests.support.files import DATA

PHOTOS = ("coffee.png", "chelsea.png", "astronaut.png", "rocket.jpg")


def photo(name: str = "coffee.png") -> np.ndarray:
    """A test photo as uint8 RGB."""
    return np.asarray(Image.open(DATA / name).convert("RGB"))


def coffee_edit_mask() -> np.ndarray:
    """The coffee's ellipse (white = edit), as bool."""
    return np.asarray(Image.open(DATA / "coffee-mask-white-edit.png").convert("L")) > 127


def b64_of(image: Image.Image, fmt: str) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def mad(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two same-size images."""
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


class TestCodec:
    def test_png_round_trip_is_lossless(self) -> None:
        pixels = photo()
        assert np.array_equal(decode_b64(encode_b64(pixels, "png")), pixels)

    def test_png_keeps_alpha(self) -> None:
        pixels = np.dstack([photo(), np.full(photo().shape[:2], 77, np.uint8)])
        decoded = decode_b64(encode_b64(pixels, "png"))
        assert decoded.shape == (400, 600, 4)
        assert np.array_equal(decoded, pixels)

    def test_jpeg_and_webp_decode_to_a_close_image(self) -> None:
        pixels = photo()
        for fmt in ("jpeg", "webp"):
            data = encode_b64(pixels, fmt)
            assert image_info(data)[:3] == (fmt, 600, 400)
            decoded = decode_b64(data)
            assert decoded.shape == (400, 600, 3)
            assert mad(decoded, pixels) < 6

    def test_jpeg_drops_alpha(self) -> None:
        pixels = np.dstack([photo(), np.zeros(photo().shape[:2], np.uint8)])
        assert decode_b64(encode_b64(pixels, "jpeg")).shape == (400, 600, 3)

    def test_real_jpeg_file(self) -> None:
        data = base64.b64encode((DATA / "rocket.jpg").read_bytes()).decode()
        fmt, width, height, mode, length = image_info(data)
        assert (fmt, width, height, mode) == ("jpeg", 640, 427, "RGB")
        assert length == (DATA / "rocket.jpg").stat().st_size
        assert decode_b64(data).shape == (427, 640, 3)

    def test_grey_and_palette_images_become_rgb_and_la_rgba(self) -> None:
        grey = Image.open(DATA / "coffee-mask-white-edit.png")
        assert grey.mode == "L"
        decoded = decode_b64(b64_of(grey, "PNG"))
        assert decoded.shape == (400, 600, 3)
        assert set(np.unique(decoded[..., 0])) <= {0, 255}
        palette = Image.fromarray(photo()).convert("P")
        assert decode_b64(b64_of(palette, "PNG")).shape == (400, 600, 3)
        assert decode_b64(b64_of(grey.convert("LA"), "PNG")).shape == (400, 600, 4)

    def test_unknown_format(self) -> None:
        with pytest.raises(ValueError, match="unknown image format"):
            encode_b64(photo(), "gif")

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            ("not base64!!", "not valid base64"),
            (base64.b64encode(b"hello, world").decode(), "not a PNG, JPEG or WebP image"),
            ("", "not a PNG, JPEG or WebP image"),
        ],
    )
    def test_junk_is_refused(self, data: str, message: str) -> None:
        with pytest.raises(ImageDecodeError, match=message):
            decode_b64(data)
        with pytest.raises(ImageDecodeError, match=message):
            image_info(data)

    def test_gif_is_refused(self) -> None:
        data = b64_of(Image.fromarray(photo()), "GIF")
        with pytest.raises(ImageDecodeError, match="unsupported image format GIF"):
            decode_b64(data)

    def test_a_declared_gigapixel_is_refused_before_decoding(self) -> None:
        buffer = io.BytesIO()
        Image.new("L", (8000, 6000)).save(buffer, format="PNG")
        data = base64.b64encode(buffer.getvalue()).decode()
        assert image_info(data)[:3] == ("png", 8000, 6000)
        with pytest.raises(ImageDecodeError, match="image too large to decode: 8000x6000"):
            decode_b64(data)

    def test_truncated_png_is_refused_on_decode(self) -> None:
        raw = base64.b64decode(encode_b64(photo(), "png"))
        data = base64.b64encode(raw[: len(raw) // 2]).decode()
        assert image_info(data)[:3] == ("png", 600, 400)
        with pytest.raises(ImageDecodeError, match="truncated or corrupt png"):
            decode_b64(data)

    def test_rng_is_deterministic_in_its_parts(self) -> None:
        assert rng_for("a", 1).integers(0, 2**62) == rng_for("a", 1).integers(0, 2**62)
        assert rng_for("a", 1).integers(0, 2**62) != rng_for("a", 2).integers(0, 2**62)


class TestTextToImage:
    def test_exact_size_and_rgb(self) -> None:
        for width, height in ((1024, 1024), (1408, 768), (65, 97)):
            assert text_to_image("a cat", None, width, height, 1).shape == (height, width, 3)

    def test_same_arguments_same_pixels(self) -> None:
        first = text_to_image("a lighthouse at dusk", "fog", 512, 384, 42, salt="m")
        again = text_to_image("a lighthouse at dusk", "fog", 512, 384, 42, salt="m")
        assert np.array_equal(first, again)

    def test_seed_prompt_negative_and_salt_each_change_the_image(self) -> None:
        base = text_to_image("a lighthouse", None, 256, 256, 1, salt="m")
        others = [
            text_to_image("a lighthouse", None, 256, 256, 2, salt="m"),
            text_to_image("a windmill", None, 256, 256, 1, salt="m"),
            text_to_image("a lighthouse", "fog", 256, 256, 1, salt="m"),
            text_to_image("a lighthouse", None, 256, 256, 1, salt="other"),
        ]
        for other in others:
            assert mad(base, other) > 5

    def test_not_flat(self) -> None:
        assert text_to_image("anything", None, 512, 512, 3).std() > 10

    @pytest.mark.parametrize(("word", "channel"), [("red", 0), ("green", 1), ("blue", 2)])
    def test_colour_words_dominate(self, word: str, channel: int) -> None:
        for seed in (1, 2, 3):
            means = text_to_image(f"a {word} balloon", None, 512, 512, seed).mean(axis=(0, 1))
            others = np.delete(means, channel)
            assert means[channel] > others.max() + 40

    def test_brightness_words(self) -> None:
        white = text_to_image("white snow", None, 256, 256, 1).mean()
        black = text_to_image("black night", None, 256, 256, 1).mean()
        assert white > 150 > 60 > black

    def test_negative_prompt_removes_a_colour(self) -> None:
        means = text_to_image("red and blue", "red", 256, 256, 1).mean(axis=(0, 1))
        assert means[2] > means[0] + 40

    def test_palette_image_uses_exactly_the_colours(self) -> None:
        colours = [(255, 0, 0), (0, 0, 255), (20, 200, 20), (250, 250, 250)]
        pixels = palette_image(colours, 640, 480, 7)
        assert pixels.shape == (480, 640, 3)
        assert set(map(tuple, np.unique(pixels.reshape(-1, 3), axis=0).tolist())) == set(colours)
        assert np.array_equal(pixels, palette_image(colours, 640, 480, 7))
        assert not np.array_equal(pixels, palette_image(colours, 640, 480, 8))


class TestFillRegion:
    def test_outside_untouched_inside_filled_not_flat(self) -> None:
        image, region = photo(), coffee_edit_mask()
        filled = fill_region(image, region, "a red flower", 3)
        assert filled.shape == image.shape
        assert np.array_equal(filled[~region], image[~region])
        assert filled[region].std() > 10
        assert mad(filled[region], image[region]) > 15
        assert filled[region][:, 0].mean() > filled[region][:, 1:].mean() + 30

    def test_without_prompt_colours_still_not_flat_nor_original(self) -> None:
        image, region = photo(), coffee_edit_mask()
        filled = fill_region(image, region, None, 3)
        assert np.array_equal(filled[~region], image[~region])
        assert filled[region].std() > 10
        assert mad(filled[region], image[region]) > 15

    def test_deterministic_and_seeded(self) -> None:
        image, region = photo(), coffee_edit_mask()
        first = fill_region(image, region, "moss", 3)
        assert np.array_equal(first, fill_region(image, region, "moss", 3))
        assert mad(first[region], fill_region(image, region, "moss", 4)[region]) > 3

    def test_region_on_the_edge_and_whole_image(self) -> None:
        image = photo("chelsea.png")
        region = np.zeros(image.shape[:2], dtype=bool)
        region[:, :80] = True
        filled = fill_region(image, region, None, 1)
        assert np.array_equal(filled[~region], image[~region])
        assert filled[region].std() > 5
        everything = fill_region(image, np.ones_like(region), "blue", 1)
        assert everything.shape == image.shape
        assert everything.std() > 5

    def test_a_zero_one_mask_works_like_a_bool_one(self) -> None:
        image, region = photo(), coffee_edit_mask()
        as_bytes = region.astype(np.uint8)
        assert np.array_equal(
            fill_region(image, as_bytes, "x", 1), fill_region(image, region, "x", 1)
        )
        assert np.array_equal(recolor(image, as_bytes, "red", 1), recolor(image, region, "red", 1))

    def test_empty_region_returns_the_image(self) -> None:
        image = photo()
        assert np.array_equal(fill_region(image, np.zeros((400, 600), bool), "x", 1), image)

    def test_rgba_input_gives_rgb(self) -> None:
        image = np.dstack([photo(), np.full((400, 600), 255, np.uint8)])
        filled = fill_region(image, coffee_edit_mask(), None, 1)
        assert filled.shape == (400, 600, 3)


class TestBlend:
    def test_closeness_rises_strictly_with_keep(self) -> None:
        source = photo()
        generated = text_to_image("a green field", None, 600, 400, 1)
        distances = [mad(blend_towards(source, generated, k), source) for k in np.linspace(0, 1, 9)]
        assert all(a > b for a, b in itertools.pairwise(distances))
        assert np.array_equal(blend_towards(source, generated, 1.0), source)
        assert np.array_equal(blend_towards(source, generated, 0.0), generated)


class TestRegionFromPrompt:
    @pytest.mark.parametrize("prompt", ["the cup", "a cat", "sky", "the left shoe", ""])
    def test_deterministic_blob_of_bounded_size(self, prompt: str) -> None:
        for height, width in ((400, 600), (1024, 1024), (300, 451)):
            region = region_from_prompt(height, width, prompt)
            assert region.shape == (height, width)
            assert region.dtype == np.bool_
            assert np.array_equal(region, region_from_prompt(height, width, prompt))
            assert 0.05 <= region.mean() <= 0.40

    def test_prompts_pick_different_regions(self) -> None:
        regions = [region_from_prompt(400, 600, p) for p in ("cup", "saucer", "spoon")]
        assert not np.array_equal(regions[0], regions[1])
        assert not np.array_equal(regions[1], regions[2])


class TestRemoveBackground:
    @pytest.mark.parametrize("name", PHOTOS)
    def test_corners_transparent_centre_opaque(self, name: str) -> None:
        image = photo(name)
        cut = remove_background(image)
        height, width = image.shape[:2]
        assert cut.shape == (height, width, 4)
        assert np.array_equal(cut[..., :3], image)
        alpha = cut[..., 3]
        assert set(np.unique(alpha).tolist()) == {0, 255}
        assert alpha[[0, 0, -1, -1], [0, -1, 0, -1]].tolist() == [0, 0, 0, 0]
        assert alpha[height // 2, width // 2] == 255
        assert 0.1 < (alpha == 255).mean() < 0.9

    def test_plain_backdrop_is_removed_entirely(self) -> None:
        image = np.full((300, 400, 3), (30, 120, 200), np.uint8)
        image[100:200, 150:250] = (240, 200, 20)
        alpha = remove_background(image)[..., 3]
        assert (alpha[image[..., 2] == 200] == 0).mean() > 0.97
        assert (alpha[120:180, 170:230] == 255).all()

    def test_deterministic(self) -> None:
        image = photo("astronaut.png")
        assert np.array_equal(remove_background(image), remove_background(image))


class TestCanvas:
    def test_extend_keeps_original_and_fills_border(self) -> None:
        image = photo()
        grown = extend_canvas(image, 100, 50, 30, 200, "blue sky", 1)
        assert grown.shape == (400 + 30 + 200, 600 + 100 + 50, 3)
        assert np.array_equal(grown[30:430, 100:700], image)
        border = np.ones(grown.shape[:2], dtype=bool)
        border[30:430, 100:700] = False
        assert grown[border].std() > 10
        assert np.array_equal(grown, extend_canvas(image, 100, 50, 30, 200, "blue sky", 1))

    def test_extend_one_side_only(self) -> None:
        image = photo("chelsea.png")
        grown = extend_canvas(image, 0, 0, 0, 64, None, 2)
        assert grown.shape == (364, 451, 3)
        assert np.array_equal(grown[:300], image)
        assert grown[300:].std() > 5

    def test_large_extension_keeps_original(self) -> None:
        image = photo("coffee-1216x832.png")
        grown = extend_canvas(image, 1500, 1500, 1000, 1000, "green", 1)
        assert grown.shape == (832 + 2000, 1216 + 3000, 3)
        assert np.array_equal(grown[1000:1832, 1500:2716], image)
        assert grown[:1000].std() > 5

    def test_upscale_exact_size_and_smooth(self) -> None:
        image = photo("chelsea.png")
        big = upscale(image, 451 * 4, 300 * 4)
        assert big.shape == (1200, 1804, 3)
        assert mad(resize(big, 451, 300), image) < 4

    def test_resize_exact_size_rgb_and_rgba(self) -> None:
        assert resize(photo(), 300, 123).shape == (123, 300, 3)
        rgba = remove_background(photo())
        assert resize(rgba, 64, 64).shape == (64, 64, 4)


class TestRecolor:
    def test_inside_takes_the_named_colour_outside_untouched(self) -> None:
        image, region = photo(), coffee_edit_mask()
        out = recolor(image, region, "make it green", 1)
        assert np.array_equal(out[~region], image[~region])
        inside = out[region].astype(np.float32).mean(axis=0)
        assert inside[1] > inside[0] + 40
        assert inside[1] > inside[2] + 40
        assert out[region].std() > 5

    def test_seeded_colour_without_a_colour_word(self) -> None:
        image, region = photo(), coffee_edit_mask()
        first = recolor(image, region, "something else", 1)
        assert np.array_equal(first, recolor(image, region, "something else", 1))
        assert mad(first[region], recolor(image, region, "something else", 2)[region]) > 5
        assert np.array_equal(first[~region], image[~region])


class TestEdges:
    def test_magnitude_range_and_location(self) -> None:
        image = np.zeros((64, 64, 3), np.uint8)
        image[:, 32:] = 255
        magnitude = edges(image)
        assert magnitude.shape == (64, 64)
        assert magnitude.dtype == np.float32
        assert magnitude.max() == pytest.approx(1.0)
        assert magnitude[:, 31:33].min() > 0.4
        assert magnitude[:, :30].max() == 0.0

    def test_flat_image_has_no_edges(self) -> None:
        assert edges(np.full((10, 10, 3), 9, np.uint8)).max() == 0.0

    def test_photo(self) -> None:
        magnitude = edges(photo())
        assert magnitude.min() >= 0.0
        assert magnitude.max() <= 1.0
        assert 0.01 < magnitude.mean() < 0.5


class TestStylePresets:
    def test_every_preset_restyles_visibly_and_keeps_the_size(self) -> None:
        image = photo("chelsea.png")
        outputs = {}
        for preset in STYLE_PRESETS:
            styled = apply_style_preset(image, preset)
            assert styled.shape == image.shape
            assert styled.dtype == np.uint8
            assert np.array_equal(styled, apply_style_preset(image, preset))
            assert mad(styled, image) > 3, preset
            outputs[preset] = styled
        for a, b in itertools.combinations(STYLE_PRESETS, 2):
            assert not np.array_equal(outputs[a], outputs[b]), (a, b)

    def test_no_preset_is_identity(self) -> None:
        image = photo()
        assert np.array_equal(apply_style_preset(image, None), image)

    def test_line_art_is_dark_lines_on_white(self) -> None:
        styled = apply_style_preset(photo(), "line-art")
        assert np.median(styled) > 200
        assert styled.min() < 50

    def test_tile_texture_tiles_seamlessly(self) -> None:
        styled = apply_style_preset(photo(), "tile-texture")
        assert np.array_equal(styled[0], styled[-1])
        assert np.array_equal(styled[:, 0], styled[:, -1])

    def test_pixel_art_is_blocky(self) -> None:
        styled = apply_style_preset(text_to_image("a castle", None, 1024, 1024, 1), "pixel-art")
        assert np.array_equal(styled[::16], styled[15::16])
