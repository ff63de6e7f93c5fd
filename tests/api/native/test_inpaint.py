"""POST /v1/images/inpaint: Titan INPAINTING and SDXL masking, from JSON and multipart bodies."""

from __future__ import annotations

import io

import httpx
import numpy as np
import pytest
from PIL import Image

from emulator.testing import EmulatorServer
from tests.support.edits import (
    BLACK_EDIT,
    COFFEE,
    CONTENTS,
    ROCKET,
    SDXL_BLACK_EDIT,
    SDXL_COFFEE,
    SDXL_ID,
    SDXL_SIZE,
    SDXL_WHITE_EDIT,
    TITAN_ID,
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


class TestInpaint:
    @pytest.mark.parametrize("content", CONTENTS)
    async def test_titan_mask_image(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer, content: Content
    ) -> None:
        fields = {
            "model": "titan",
            "prompt": "latte art in the shape of a heart",
            "negative_prompt": "spilled coffee",
            "n": 2,
            "seed": 42,
            "cfg_scale": 7.5,
            "image": COFFEE,
            "mask": BLACK_EDIT,
        }
        images = answer_images(await post(gateway, "inpaint", content, fields), 2)

        [body] = bodies(emulator, TITAN_ID)
        mask = body["inPaintingParams"]["maskImage"]
        np.testing.assert_array_equal(pixels(mask), pixels(BLACK_EDIT))
        assert body == {
            "taskType": "INPAINTING",
            "inPaintingParams": {
                "text": "latte art in the shape of a heart",
                "negativeText": "spilled coffee",
                "image": b64(COFFEE),
                "maskImage": mask,
            },
            "imageGenerationConfig": {"numberOfImages": 2, "cfgScale": 7.5, "seed": 42},
        }
        assert [i["seed"] for i in images] == [42, 42]
        for image in images:
            assert image_size(image["b64_json"]) == (600, 400)
            assert_edited_inside_only(image["b64_json"], COFFEE, region(BLACK_EDIT))
        assert images[0]["b64_json"] != images[1]["b64_json"]

    @pytest.mark.parametrize("content", CONTENTS)
    async def test_sdxl_one_call_per_image(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer, content: Content
    ) -> None:
        fields = {
            "model": "sdxl",
            "prompt": "latte art in the shape of a heart",
            "negative_prompt": "spilled coffee",
            "n": 2,
            "seed": 42,
            "image": SDXL_COFFEE,
            "mask": SDXL_BLACK_EDIT,
        }
        images = answer_images(await post(gateway, "inpaint", content, fields), 2)

        received = bodies(emulator, SDXL_ID)
        assert len(received) == 2
        for seed, body in zip((42, 43), received, strict=True):
            mask = body["mask_image"]
            np.testing.assert_array_equal(pixels(mask), pixels(SDXL_WHITE_EDIT))
            assert body == {
                "text_prompts": [
                    {"text": "latte art in the shape of a heart"},
                    {"text": "spilled coffee", "weight": -1.0},
                ],
                "init_image": b64(SDXL_COFFEE),
                "mask_source": "MASK_IMAGE_WHITE",
                "mask_image": mask,
                "seed": seed,
            }
        assert [i["seed"] for i in images] == [42, 43]
        for image in images:
            assert image_size(image["b64_json"]) == SDXL_SIZE
            assert_edited_inside_only(image["b64_json"], SDXL_COFFEE, region(SDXL_BLACK_EDIT))

    @pytest.mark.parametrize("content", CONTENTS)
    async def test_titan_mask_prompt(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer, content: Content
    ) -> None:
        fields = {"model": "titan", "image": COFFEE, "mask_prompt": "the cup", "seed": 5}
        [image] = answer_images(await post(gateway, "inpaint", content, fields), 1)

        # No prompt: Titan turns the masked area into background, so no text is sent.
        assert bodies(emulator, TITAN_ID) == [
            {
                "taskType": "INPAINTING",
                "inPaintingParams": {"image": b64(COFFEE), "maskPrompt": "the cup"},
                "imageGenerationConfig": {"numberOfImages": 1, "seed": 5},
            }
        ]
        assert image["seed"] == 5
        assert image_size(image["b64_json"]) == (600, 400)
        assert mad(pixels(image["b64_json"]), pixels(COFFEE)) > 0

    async def test_titan_seven_images_are_two_calls(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        fields = {"model": "titan", "n": 7, "seed": 100, "image": COFFEE, "mask": BLACK_EDIT}
        images = answer_images(await post(gateway, "inpaint", "json", fields), 7)

        received = bodies(emulator, TITAN_ID)
        assert [b["imageGenerationConfig"] for b in received] == [
            {"numberOfImages": 5, "seed": 100},
            {"numberOfImages": 2, "seed": 101},
        ]
        assert received[0]["inPaintingParams"] == received[1]["inPaintingParams"]
        # Each image reports the seed of the call that drew it.
        assert [i["seed"] for i in images] == [100] * 5 + [101] * 2
        assert len({i["b64_json"] for i in images}) == 7
        for image in images:
            assert_edited_inside_only(image["b64_json"], COFFEE, region(BLACK_EDIT))

    @pytest.mark.parametrize("model", ["titan", "sdxl"])
    async def test_gateway_picks_and_reports_seeds(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer, model: str
    ) -> None:
        image, mask = (COFFEE, BLACK_EDIT) if model == "titan" else (SDXL_COFFEE, SDXL_BLACK_EDIT)
        fields = {"model": model, "prompt": "foam", "n": 2, "image": image, "mask": mask}
        images = answer_images(await post(gateway, "inpaint", "json", fields), 2)

        received = bodies(emulator, TITAN_ID if model == "titan" else SDXL_ID)
        if model == "titan":
            [body] = received
            assert [i["seed"] for i in images] == [body["imageGenerationConfig"]["seed"]] * 2
        else:
            assert sorted(i["seed"] for i in images) == [b["seed"] for b in received]
            assert len({b["seed"] for b in received}) == 2
            assert 0 not in {b["seed"] for b in received}  # 0 would mean "random" to SDXL

    async def test_data_urls_are_read_by_their_bytes(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        # The declared media type is wrong on purpose: the bytes decide.
        fields = {
            "model": "titan",
            "seed": 1,
            "image": f"data:image/jpeg;base64,{b64(COFFEE)}",
            "mask": f"data:image/png;base64,{b64(BLACK_EDIT)}",
        }
        [image] = answer_images(await gateway.post("/v1/images/inpaint", json=fields), 1)

        [body] = bodies(emulator, TITAN_ID)
        assert body["inPaintingParams"]["image"] == b64(COFFEE)
        np.testing.assert_array_equal(
            pixels(body["inPaintingParams"]["maskImage"]), pixels(BLACK_EDIT)
        )
        assert_edited_inside_only(image["b64_json"], COFFEE, region(BLACK_EDIT))

    @pytest.mark.parametrize("content", CONTENTS)
    async def test_titan_jpeg_passes_through(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer, content: Content
    ) -> None:
        with Image.open(io.BytesIO(ROCKET)) as photo:
            width, height = photo.size
        mask = np.full((height, width, 3), 255, np.uint8)
        mask[100:200, 300:400] = 0
        out = io.BytesIO()
        Image.fromarray(mask).save(out, format="PNG")
        fields = {"model": "titan", "seed": 3, "image": ROCKET, "mask": out.getvalue()}
        [image] = answer_images(await post(gateway, "inpaint", content, fields), 1)

        [body] = bodies(emulator, TITAN_ID)
        assert body["inPaintingParams"]["image"] == b64(ROCKET)
        assert image_size(image["b64_json"]) == (width, height)
        np.testing.assert_array_equal(
            region(body["inPaintingParams"]["maskImage"]), mask[..., 0] == 0
        )

    async def test_sdxl_refuses_mask_prompt(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        fields = {"model": "sdxl", "prompt": "foam", "image": SDXL_COFFEE, "mask_prompt": "the cup"}
        response = await post(gateway, "inpaint", "json", fields)
        assert_invalid(response, emulator, "mask_prompt")
