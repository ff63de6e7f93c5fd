"""POST /v1/images/variations: Titan IMAGE_VARIATION of 1-5 images, SDXL image-to-image of one."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from emulator.testing import EmulatorServer
from tests.support.edits import (
    ASTRONAUT,
    CHELSEA,
    CONTENTS,
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


async def distances(
    gateway: httpx.AsyncClient,
    source: bytes,
    fields: dict[str, Any],
    name: str,
    values: list[float],
) -> list[float]:
    """How far each variation made with `name` set to each value lies from `source`."""
    found = []
    for value in values:
        response = await post(
            gateway, "variations", "json", {**fields, name: value, "images": [source]}
        )
        [image] = answer_images(response, 1)
        found.append(mad(pixels(image["b64_json"]), pixels(source)))
    return found


class TestVariations:
    @pytest.mark.parametrize("content", CONTENTS)
    async def test_titan_two_images(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer, content: Content
    ) -> None:
        fields = {
            "model": "titan",
            "prompt": "a portrait in a garden",
            "negative_prompt": "text",
            "n": 2,
            "seed": 11,
            "cfg_scale": 5,
            "similarity_strength": 0.8,
            "width": 512,
            "height": 512,
            "images": [ASTRONAUT, CHELSEA],
        }
        images = answer_images(await post(gateway, "variations", content, fields), 2)

        assert bodies(emulator, TITAN_ID) == [
            {
                "taskType": "IMAGE_VARIATION",
                "imageVariationParams": {
                    "text": "a portrait in a garden",
                    "negativeText": "text",
                    "images": [b64(ASTRONAUT), b64(CHELSEA)],
                    "similarityStrength": 0.8,
                },
                "imageGenerationConfig": {
                    "numberOfImages": 2,
                    "width": 512,
                    "height": 512,
                    "cfgScale": 5.0,
                    "seed": 11,
                },
            }
        ]
        assert [i["seed"] for i in images] == [11, 11]
        assert [image_size(i["b64_json"]) for i in images] == [(512, 512)] * 2

    async def test_titan_default_size(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        fields = {"model": "titan", "seed": 3, "images": [CHELSEA]}
        [image] = answer_images(await post(gateway, "variations", "multipart", fields), 1)

        assert bodies(emulator, TITAN_ID) == [
            {
                "taskType": "IMAGE_VARIATION",
                "imageVariationParams": {"images": [b64(CHELSEA)]},
                "imageGenerationConfig": {
                    "numberOfImages": 1,
                    "width": 1024,
                    "height": 1024,
                    "seed": 3,
                },
            }
        ]
        assert image_size(image["b64_json"]) == (1024, 1024)

    async def test_bracketed_part_names(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        # `images[]` is how HTML forms and several client libraries repeat a file field.
        files = [
            ("images[]", (f"{i}.png", raw, "image/png")) for i, raw in enumerate([CHELSEA] * 3)
        ]
        response = await gateway.post(
            "/v1/images/variations", data={"model": "titan", "seed": "1"}, files=files
        )
        answer_images(response, 1)
        [body] = bodies(emulator, TITAN_ID)
        assert body["imageVariationParams"]["images"] == [b64(CHELSEA)] * 3

    async def test_titan_closer_as_similarity_rises(self, gateway: httpx.AsyncClient) -> None:
        fields = {"model": "titan", "seed": 21, "width": 512, "height": 512}
        found = await distances(gateway, ASTRONAUT, fields, "similarity_strength", [0.2, 0.6, 1.0])
        assert found[0] > found[1] > found[2]

    @pytest.mark.parametrize("content", CONTENTS)
    async def test_sdxl_image_to_image_from_the_image(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer, content: Content
    ) -> None:
        fields = {
            "model": "sdxl",
            "prompt": "an espresso, watercolour",
            "n": 2,
            "seed": 5,
            "image_strength": 0.6,
            "init_image_mode": "IMAGE_STRENGTH",
            "images": [SDXL_COFFEE],
        }
        images = answer_images(await post(gateway, "variations", content, fields), 2)

        assert bodies(emulator, SDXL_ID) == [
            {
                "text_prompts": [{"text": "an espresso, watercolour"}],
                "init_image": b64(SDXL_COFFEE),
                "init_image_mode": "IMAGE_STRENGTH",
                "image_strength": 0.6,
                "seed": seed,
            }
            for seed in (5, 6)
        ]
        assert [i["seed"] for i in images] == [5, 6]
        assert [image_size(i["b64_json"]) for i in images] == [SDXL_SIZE] * 2

    async def test_sdxl_closer_as_image_strength_rises(self, gateway: httpx.AsyncClient) -> None:
        fields = {"model": "sdxl", "prompt": "a statue", "seed": 8}
        found = await distances(gateway, ASTRONAUT, fields, "image_strength", [0.1, 0.5, 0.9])
        assert found[0] > found[1] > found[2]

    async def test_sdxl_takes_one_image(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        fields = {"model": "sdxl", "prompt": "a cat", "images": [ASTRONAUT, ASTRONAUT]}
        assert_invalid(await post(gateway, "variations", "multipart", fields), emulator, "images")

    async def test_titan_takes_at_most_five_images(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        fields = {"model": "titan", "images": [CHELSEA] * 6}
        assert_invalid(await post(gateway, "variations", "json", fields), emulator, "images")
