"""Titan v1/v2 and Nova Canvas: each task end to end, and its behaviour on real pixel data."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from emulator.imaging.edit import edges
from tests.support.emulator_calls import (
    NOVA,
    TITAN_V1,
    TITAN_V2,
    decode,
    file_b64,
    file_pixels,
    invoke,
    mean_abs_diff,
    titan_t2i,
)

COFFEE = file_b64("coffee.png")
COFFEE_PIXELS = file_pixels("coffee.png")
MASK = file_b64("coffee-mask-black-edit.png")
INSIDE = file_pixels("coffee-mask-black-edit.png")[..., 0] == 0
BLOCKED = "This request has been blocked by our content filters."


def images(client: Any, model_id: str, body: dict[str, Any]) -> list[np.ndarray]:
    return [decode(data) for data in invoke(client, model_id, body)["images"]]


def inpaint(**params: Any) -> dict[str, Any]:
    return {"taskType": "INPAINTING", "inPaintingParams": {"image": COFFEE, **params}}


def outpaint(mode: str, **params: Any) -> dict[str, Any]:
    body = {"image": COFFEE, "text": "a beach", "outPaintingMode": mode, **params}
    return {"taskType": "OUTPAINTING", "outPaintingParams": body}


class TestTextImage:
    def test_requested_size(self, runtime: Any) -> None:
        (image,) = images(runtime, TITAN_V1, titan_t2i(width=1152, height=640))
        assert image.shape == (640, 1152, 3)

    def test_default_size(self, runtime: Any) -> None:
        body = {"taskType": "TEXT_IMAGE", "textToImageParams": {"text": "a fox"}}
        (image,) = images(runtime, NOVA, body)
        assert image.shape == (1024, 1024, 3)

    def test_same_body_same_bytes_other_seed_other_image(self, runtime: Any) -> None:
        first = invoke(runtime, TITAN_V2, titan_t2i(seed=11))["images"]
        again = invoke(runtime, TITAN_V2, titan_t2i(seed=11))["images"]
        other = invoke(runtime, TITAN_V2, titan_t2i(seed=12))["images"]
        assert first == again
        assert mean_abs_diff(decode(first[0]), decode(other[0])) > 5

    def test_k_distinct_images_and_image_0_is_the_single_one(self, runtime: Any) -> None:
        batch = invoke(runtime, TITAN_V1, titan_t2i(numberOfImages=5, seed=3))["images"]
        single = invoke(runtime, TITAN_V1, titan_t2i(numberOfImages=1, seed=3))["images"]
        assert len(set(batch)) == 5
        assert batch[0] == single[0]
        pixels = [decode(data) for data in batch]
        assert min(mean_abs_diff(pixels[0], other) for other in pixels[1:]) > 5

    @pytest.mark.parametrize(("word", "channel"), [("red", 0), ("green", 1), ("blue", 2)])
    def test_colour_words_show_up(self, runtime: Any, word: str, channel: int) -> None:
        (image,) = images(runtime, TITAN_V1, titan_t2i(f"a {word} car in a {word} street"))
        means = image.reshape(-1, 3).astype(float).mean(axis=0)
        assert int(np.argmax(means)) == channel

    def test_nova_style_changes_the_image(self, runtime: Any) -> None:
        plain = titan_t2i()
        styled = titan_t2i()
        styled["textToImageParams"]["style"] = "MAXIMALISM"
        assert (
            images(runtime, NOVA, plain)[0].tobytes() != images(runtime, NOVA, styled)[0].tobytes()
        )

    @pytest.mark.parametrize("mode", ["CANNY_EDGE", "SEGMENTATION"])
    def test_condition_image_is_followed(self, runtime: Any, mode: str) -> None:
        guide = file_pixels("astronaut.png")
        free = titan_t2i()
        guided = titan_t2i()
        guided["textToImageParams"].update(
            conditionImage=file_b64("astronaut.png"), controlMode=mode, controlStrength=1.0
        )
        (without,) = images(runtime, TITAN_V2, free)
        (with_guide,) = images(runtime, TITAN_V2, guided)
        target = edges(guide).ravel()
        assert np.corrcoef(edges(with_guide).ravel(), target)[0, 1] > (
            np.corrcoef(edges(without).ravel(), target)[0, 1] + 0.2
        )

    @pytest.mark.parametrize("field", ["text", "negativeText"])
    def test_content_filter(self, runtime: Any, field: str) -> None:
        body = titan_t2i()
        body["textToImageParams"][field] = "a Forbidden fruit"
        with pytest.raises(runtime.exceptions.ValidationException) as info:
            invoke(runtime, NOVA, body)
        assert info.value.response["Error"]["Message"] == BLOCKED


class TestInpainting:
    def test_outside_untouched_inside_filled(self, runtime: Any) -> None:
        (image,) = images(runtime, TITAN_V1, inpaint(maskImage=MASK, text="a purple flower"))
        assert image.shape == COFFEE_PIXELS.shape
        assert np.array_equal(image[~INSIDE], COFFEE_PIXELS[~INSIDE])
        inside = image[INSIDE].astype(float)
        assert mean_abs_diff(image[INSIDE], COFFEE_PIXELS[INSIDE]) > 10
        assert inside.std(axis=0).min() > 5  # not a flat colour

    def test_without_text(self, runtime: Any) -> None:
        (image,) = images(runtime, TITAN_V1, inpaint(maskImage=MASK))
        assert np.array_equal(image[~INSIDE], COFFEE_PIXELS[~INSIDE])
        assert not np.array_equal(image[INSIDE], COFFEE_PIXELS[INSIDE])

    def test_mask_prompt_picks_a_region_deterministically(self, runtime: Any) -> None:
        (first,) = images(runtime, TITAN_V2, inpaint(maskPrompt="the cup", text="gold"))
        (again,) = images(runtime, TITAN_V2, inpaint(maskPrompt="the cup", text="gold"))
        (other,) = images(runtime, TITAN_V2, inpaint(maskPrompt="the saucer", text="gold"))
        assert first.tobytes() == again.tobytes()
        changed = np.any(first != COFFEE_PIXELS, axis=-1)
        changed_other = np.any(other != COFFEE_PIXELS, axis=-1)
        assert 0.02 < changed.mean() < 0.5
        assert not np.array_equal(changed, changed_other)

    def test_nova_return_mask(self, runtime: Any) -> None:
        answer = invoke(runtime, NOVA, inpaint(maskImage=MASK, returnMask=True))
        mask = decode(answer["maskImage"])
        assert np.array_equal(mask == 0, INSIDE)

    def test_content_filter_on_mask_prompt(self, runtime: Any) -> None:
        with pytest.raises(runtime.exceptions.ValidationException) as info:
            invoke(runtime, TITAN_V1, inpaint(maskPrompt="forbidden thing"))
        assert info.value.response["Error"]["Message"] == BLOCKED


class TestOutpainting:
    def test_precise_keeps_the_inside_byte_identical(self, runtime: Any) -> None:
        (image,) = images(runtime, TITAN_V1, outpaint("PRECISE", maskImage=MASK))
        assert image.shape == COFFEE_PIXELS.shape
        assert np.array_equal(image[INSIDE], COFFEE_PIXELS[INSIDE])
        assert mean_abs_diff(image[~INSIDE], COFFEE_PIXELS[~INSIDE]) > 10

    def test_default_alters_the_inside_only_slightly(self, runtime: Any) -> None:
        (image,) = images(runtime, NOVA, outpaint("DEFAULT", maskImage=MASK))
        inside_change = mean_abs_diff(image[INSIDE], COFFEE_PIXELS[INSIDE])
        assert 0 < inside_change < 15
        assert mean_abs_diff(image[~INSIDE], COFFEE_PIXELS[~INSIDE]) > 2 * inside_change

    def test_mask_prompt(self, runtime: Any) -> None:
        (image,) = images(runtime, TITAN_V2, outpaint("PRECISE", maskPrompt="the cup"))
        kept = np.all(image == COFFEE_PIXELS, axis=-1)
        assert 0.02 < kept.mean() < 0.6


class TestVariation:
    def test_closer_to_the_input_as_similarity_rises(self, runtime: Any) -> None:
        distances = []
        for similarity in (0.2, 0.5, 0.8, 1.0):
            body = {
                "taskType": "IMAGE_VARIATION",
                "imageVariationParams": {
                    "images": [file_b64("astronaut.png")],
                    "similarityStrength": similarity,
                },
                "imageGenerationConfig": {"width": 512, "height": 512, "seed": 5},
            }
            (image,) = images(runtime, TITAN_V1, body)
            assert image.shape == (512, 512, 3)
            distances.append(mean_abs_diff(image, file_pixels("astronaut.png")))
        assert distances == sorted(distances, reverse=True)
        assert distances[0] > distances[-1] + 20

    def test_several_inputs_and_requested_size(self, runtime: Any) -> None:
        body = {
            "taskType": "IMAGE_VARIATION",
            "imageVariationParams": {"images": [COFFEE, file_b64("rocket.jpg")], "text": "x"},
            "imageGenerationConfig": {"numberOfImages": 2, "width": 768, "height": 1152},
        }
        first, second = images(runtime, NOVA, body)
        assert first.shape == second.shape == (1152, 768, 3)
        assert first.tobytes() != second.tobytes()


class TestV2Extras:
    def test_background_removal(self, runtime: Any) -> None:
        body = {"taskType": "BACKGROUND_REMOVAL", "backgroundRemovalParams": {"image": COFFEE}}
        (image,) = images(runtime, TITAN_V2, body)
        assert image.shape == (400, 600, 4)
        alpha = image[..., 3]
        assert alpha[0, 0] == alpha[0, -1] == alpha[-1, 0] == alpha[-1, -1] == 0
        assert alpha[200, 300] == 255
        assert np.array_equal(image[..., :3][alpha == 255], COFFEE_PIXELS[alpha == 255])

    @pytest.mark.parametrize("model_id", [TITAN_V2, NOVA])
    def test_color_guided_uses_exactly_the_colours(self, runtime: Any, model_id: str) -> None:
        body = {
            "taskType": "COLOR_GUIDED_GENERATION",
            "colorGuidedGenerationParams": {"text": "a poster", "colors": ["#FF9800", "#0033cc"]},
            "imageGenerationConfig": {"width": 512, "height": 512},
        }
        (image,) = images(runtime, model_id, body)
        found = {tuple(int(v) for v in c) for c in np.unique(image.reshape(-1, 3), axis=0)}
        assert found == {(0xFF, 0x98, 0x00), (0x00, 0x33, 0xCC)}

    def test_color_guided_with_reference_follows_it(self, runtime: Any) -> None:
        params: dict[str, Any] = {"text": "a poster", "colors": ["#FF9800", "#0033cc"]}
        body = {
            "taskType": "COLOR_GUIDED_GENERATION",
            "colorGuidedGenerationParams": params,
            "imageGenerationConfig": {"width": 512, "height": 512},
        }
        (plain,) = images(runtime, NOVA, body)
        params["referenceImage"] = file_b64("astronaut.png")
        (referenced,) = images(runtime, NOVA, body)
        astronaut = file_pixels("astronaut.png")
        assert mean_abs_diff(referenced, astronaut) < mean_abs_diff(plain, astronaut)
