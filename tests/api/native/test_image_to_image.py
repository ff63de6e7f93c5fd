"""POST /v1/images/image-to-image: Titan IMAGE_VARIATION with similarity, SDXL image-to-image."""

from __future__ import annotations

import httpx
import pytest

from emulator.testing import EmulatorServer
from tests.support.edits import (
    ASTRONAUT,
    CONTENTS,
    ROCKET,
    SDXL_COFFEE,
    SDXL_ID,
    SDXL_SIZE,
    TITAN_ID,
    Content,
    answer_images,
    bodies,
    mad,
    post,
)
from tests.support.gateway import b64, image_size, pixels
from tests.support.problems import assert_invalid


class TestImageToImage:
    @pytest.mark.parametrize("content", CONTENTS)
    async def test_titan_requested_size(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer, content: Content
    ) -> None:
        fields = {
            "model": "titan",
            "prompt": "an oil painting",
            "negative_prompt": "frame",
            "n": 2,
            "seed": 8,
            "cfg_scale": 9.5,
            "similarity_strength": 0.5,
            "width": 768,
            "height": 768,
            "image": ASTRONAUT,
        }
        images = answer_images(await post(gateway, "image-to-image", content, fields), 2)

        assert bodies(emulator, TITAN_ID) == [
            {
                "taskType": "IMAGE_VARIATION",
                "imageVariationParams": {
                    "text": "an oil painting",
                    "negativeText": "frame",
                    "images": [b64(ASTRONAUT)],
                    "similarityStrength": 0.5,
                },
                "imageGenerationConfig": {
                    "numberOfImages": 2,
                    "width": 768,
                    "height": 768,
                    "cfgScale": 9.5,
                    "seed": 8,
                },
            }
        ]
        assert [i["seed"] for i in images] == [8, 8]
        assert [image_size(i["b64_json"]) for i in images] == [(768, 768)] * 2

    @pytest.mark.parametrize("content", CONTENTS)
    async def test_titan_jpeg_at_the_default_size(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer, content: Content
    ) -> None:
        fields = {"model": "titan", "prompt": "at dusk", "seed": 1, "image": ROCKET}
        [image] = answer_images(await post(gateway, "image-to-image", content, fields), 1)

        # An 8-bit RGB JPEG is one of the inputs Titan takes: its bytes go through unchanged.
        assert bodies(emulator, TITAN_ID) == [
            {
                "taskType": "IMAGE_VARIATION",
                "imageVariationParams": {"text": "at dusk", "images": [b64(ROCKET)]},
                "imageGenerationConfig": {
                    "numberOfImages": 1,
                    "width": 1024,
                    "height": 1024,
                    "seed": 1,
                },
            }
        ]
        assert image_size(image["b64_json"]) == (1024, 1024)

    @pytest.mark.parametrize("content", CONTENTS)
    @pytest.mark.parametrize(
        ("source", "size", "mode"),
        [(SDXL_COFFEE, SDXL_SIZE, "IMAGE_STRENGTH"), (ASTRONAUT, (512, 512), "STEP_SCHEDULE")],
        ids=["coffee", "astronaut"],
    )
    async def test_sdxl_keeps_the_input_size(
        self,
        gateway: httpx.AsyncClient,
        emulator: EmulatorServer,
        content: Content,
        source: bytes,
        size: tuple[int, int],
        mode: str,
    ) -> None:
        fields = {
            "model": "sdxl",
            "prompt": "in the style of a woodcut",
            "negative_prompt": "colour",
            "seed": 30,
            "image_strength": 0.4,
            "init_image_mode": mode,
            "image": source,
        }
        [image] = answer_images(await post(gateway, "image-to-image", content, fields), 1)

        assert bodies(emulator, SDXL_ID) == [
            {
                "text_prompts": [
                    {"text": "in the style of a woodcut"},
                    {"text": "colour", "weight": -1.0},
                ],
                "init_image": b64(source),
                "init_image_mode": mode,
                "image_strength": 0.4,
                "seed": 30,
            }
        ]
        assert image["seed"] == 30
        assert image_size(image["b64_json"]) == size

    @pytest.mark.parametrize(
        ("model", "name", "values"),
        [
            ("titan", "similarity_strength", [0.2, 0.6, 1.0]),
            ("sdxl", "image_strength", [0.1, 0.5, 0.9]),
        ],
    )
    async def test_closer_as_strength_rises(
        self, gateway: httpx.AsyncClient, model: str, name: str, values: list[float]
    ) -> None:
        # Titan's output is 1024x1024 by default: ask for the input's 512x512 to compare pixels.
        size = {"width": 512, "height": 512} if model == "titan" else {}
        found = []
        for value in values:
            fields = {"model": model, "prompt": "a statue", "seed": 12, name: value, **size}
            response = await post(gateway, "image-to-image", "json", {**fields, "image": ASTRONAUT})
            [image] = answer_images(response, 1)
            found.append(mad(pixels(image["b64_json"]), pixels(ASTRONAUT)))
        assert found[0] > found[1] > found[2]

    async def test_sdxl_takes_no_output_size(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        fields = {
            "model": "sdxl",
            "prompt": "a statue",
            "width": 1024,
            "height": 1024,
            "image": ASTRONAUT,
        }
        response = await post(gateway, "image-to-image", "json", fields)
        assert_invalid(response, emulator, "width", "height")
