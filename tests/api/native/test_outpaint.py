"""POST /v1/images/outpaint: Titan OUTPAINTING (DEFAULT, PRECISE) and SDXL masking."""

from __future__ import annotations

import httpx
import numpy as np
import pytest

from emulator.testing import EmulatorServer
from tests.support.edits import (
    BLACK_EDIT,
    COFFEE,
    CONTENTS,
    SDXL_BLACK_EDIT,
    SDXL_COFFEE,
    SDXL_ID,
    SDXL_SIZE,
    TITAN_ID,
    WHITE_EDIT,
    Content,
    answer_images,
    assert_edited_inside_only,
    bodies,
    mad,
    post,
    region,
)
from tests.support.gateway import b64, image_size, pixels
from tests.support.problems import assert_invalid

# The caller keeps the cup's ellipse and has everything around it generated: in the default
# black-is-edit convention that is the white-edit file (black around, white on the ellipse).
AROUND_CUP = WHITE_EDIT
CUP = region(BLACK_EDIT)


class TestOutpaint:
    @pytest.mark.parametrize("content", CONTENTS)
    async def test_titan_precise_keeps_the_kept_pixels(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer, content: Content
    ) -> None:
        fields = {
            "model": "titan",
            "prompt": "a marble table in a sunny cafe",
            "negative_prompt": "people",
            "n": 2,
            "seed": 9,
            "cfg_scale": 6,
            "outpainting_mode": "PRECISE",
            "image": COFFEE,
            "mask": AROUND_CUP,
        }
        images = answer_images(await post(gateway, "outpaint", content, fields), 2)

        [body] = bodies(emulator, TITAN_ID)
        mask = body["outPaintingParams"]["maskImage"]
        # Titan's black marks what to keep: the cup.
        np.testing.assert_array_equal(region(mask), CUP)
        assert body == {
            "taskType": "OUTPAINTING",
            "outPaintingParams": {
                "text": "a marble table in a sunny cafe",
                "negativeText": "people",
                "image": b64(COFFEE),
                "maskImage": mask,
                "outPaintingMode": "PRECISE",
            },
            "imageGenerationConfig": {"numberOfImages": 2, "cfgScale": 6.0, "seed": 9},
        }
        assert [i["seed"] for i in images] == [9, 9]
        for image in images:
            assert image_size(image["b64_json"]) == (600, 400)
            assert_edited_inside_only(image["b64_json"], COFFEE, ~CUP)

    @pytest.mark.parametrize("mode", [None, "DEFAULT"])
    async def test_titan_default_mode(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer, mode: str | None
    ) -> None:
        fields = {
            "model": "titan",
            "prompt": "a cafe",
            "seed": 2,
            "image": COFFEE,
            "mask": AROUND_CUP,
        }
        if mode is not None:
            fields["outpainting_mode"] = mode
        [image] = answer_images(await post(gateway, "outpaint", "json", fields), 1)

        [body] = bodies(emulator, TITAN_ID)
        params = {
            "text": "a cafe",
            "image": b64(COFFEE),
            "maskImage": body["outPaintingParams"]["maskImage"],
        }
        if mode is not None:
            params["outPaintingMode"] = mode
        assert body == {
            "taskType": "OUTPAINTING",
            "outPaintingParams": params,
            "imageGenerationConfig": {"numberOfImages": 1, "seed": 2},
        }
        np.testing.assert_array_equal(region(params["maskImage"]), CUP)
        out = pixels(image["b64_json"])
        assert out.shape == (400, 600, 3)
        assert mad(out[~CUP], pixels(COFFEE)[~CUP]) > 10

    @pytest.mark.parametrize("content", CONTENTS)
    async def test_titan_mask_prompt(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer, content: Content
    ) -> None:
        fields = {
            "model": "titan",
            "prompt": "a cafe",
            "mask_prompt": "the cup",
            "seed": 4,
            "image": COFFEE,
        }
        [image] = answer_images(await post(gateway, "outpaint", content, fields), 1)

        assert bodies(emulator, TITAN_ID) == [
            {
                "taskType": "OUTPAINTING",
                "outPaintingParams": {
                    "text": "a cafe",
                    "image": b64(COFFEE),
                    "maskPrompt": "the cup",
                },
                "imageGenerationConfig": {"numberOfImages": 1, "seed": 4},
            }
        ]
        assert image["seed"] == 4
        assert image_size(image["b64_json"]) == (600, 400)

    @pytest.mark.parametrize("content", CONTENTS)
    async def test_sdxl_generates_the_masked_pixels_only(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer, content: Content
    ) -> None:
        # In white-is-edit, the black-edit file is white around the cup: generate around it.
        sdxl_cup = region(SDXL_BLACK_EDIT)
        fields = {
            "model": "sdxl",
            "prompt": "a marble table",
            "seed": 77,
            "mask_convention": "white-is-edit",
            "image": SDXL_COFFEE,
            "mask": SDXL_BLACK_EDIT,
        }
        [image] = answer_images(await post(gateway, "outpaint", content, fields), 1)

        [body] = bodies(emulator, SDXL_ID)
        mask = body["mask_image"]
        # SDXL's white marks what to generate: exactly the caller's white.
        np.testing.assert_array_equal(pixels(mask), pixels(SDXL_BLACK_EDIT))
        assert body == {
            "text_prompts": [{"text": "a marble table"}],
            "init_image": b64(SDXL_COFFEE),
            "mask_source": "MASK_IMAGE_WHITE",
            "mask_image": mask,
            "seed": 77,
        }
        assert image["seed"] == 77
        assert image_size(image["b64_json"]) == SDXL_SIZE
        assert_edited_inside_only(image["b64_json"], SDXL_COFFEE, ~sdxl_cup)

    async def test_titan_needs_a_prompt(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        fields = {"model": "titan", "image": COFFEE, "mask": AROUND_CUP}
        assert_invalid(await post(gateway, "outpaint", "json", fields), emulator, "prompt")

    async def test_sdxl_has_no_outpainting_mode(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        fields = {
            "model": "sdxl",
            "prompt": "a cafe",
            "outpainting_mode": "PRECISE",
            "image": SDXL_COFFEE,
            "mask": SDXL_BLACK_EDIT,
            "mask_convention": "white-is-edit",
        }
        response = await post(gateway, "outpaint", "multipart", fields)
        assert_invalid(response, emulator, "outpainting_mode")
        assert "stable-diffusion-xl" in response.json()["errors"][0]["message"]
