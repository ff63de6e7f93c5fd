"""POST /v1/images/text-to-image on Titan and SDXL: images, seeds, and the exact Bedrock bodies."""

from __future__ import annotations

import httpx
import numpy as np
import pytest

from emulator.testing import EmulatorServer
from tests.support.gateway import image_size, pixels

TITAN = "amazon.titan-image-generator-v1"
SDXL = "stability.stable-diffusion-xl-v1"


class TestTitan:
    async def test_body_is_titans_text_image_schema(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        response = await gateway.post(
            "/v1/images/text-to-image",
            json={
                "prompt": "a red barn in a field",
                "negative_prompt": "people",
                "width": 768,
                "height": 1152,
                "cfg_scale": 7.5,
                "seed": 42,
                "quality": "premium",
            },
        )
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["model"] == TITAN
        assert [(i["seed"], i["finish_reason"], i["mime_type"]) for i in answer["images"]] == [
            (42, "success", "image/png")
        ]
        assert image_size(answer["images"][0]["b64_json"]) == (768, 1152)
        [received] = emulator.requests()
        assert received["model_id"] == TITAN
        assert received["body"] == {
            "taskType": "TEXT_IMAGE",
            "textToImageParams": {"text": "a red barn in a field", "negativeText": "people"},
            "imageGenerationConfig": {
                "numberOfImages": 1,
                "width": 768,
                "height": 1152,
                "cfgScale": 7.5,
                "quality": "premium",
                "seed": 42,
            },
        }

    async def test_n7_is_two_calls_of_five_and_two_with_their_own_seeds(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        response = await gateway.post(
            "/v1/images/text-to-image",
            json={"prompt": "blue sky", "n": 7, "seed": 100, "width": 512, "height": 512},
        )
        assert response.status_code == 200, response.text
        images = response.json()["images"]
        assert [i["seed"] for i in images] == [100] * 5 + [101] * 2
        assert all(image_size(i["b64_json"]) == (512, 512) for i in images)
        assert len({i["b64_json"] for i in images}) == 7, "every image is distinct"
        configs = sorted(
            (
                r["body"]["imageGenerationConfig"]["seed"],
                r["body"]["imageGenerationConfig"]["numberOfImages"],
            )
            for r in emulator.requests()
        )
        assert configs == [(100, 5), (101, 2)]

    async def test_defaults_to_1024_square_and_reports_the_seed_it_chose(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        response = await gateway.post("/v1/images/text-to-image", json={"prompt": "a lighthouse"})
        assert response.status_code == 200, response.text
        [image] = response.json()["images"]
        [received] = emulator.requests()
        config = received["body"]["imageGenerationConfig"]
        assert (config["width"], config["height"]) == (1024, 1024)
        assert image["seed"] == config["seed"]
        assert image_size(image["b64_json"]) == (1024, 1024)

    async def test_the_reported_seed_reproduces_the_image(self, gateway: httpx.AsyncClient) -> None:
        first = (
            await gateway.post("/v1/images/text-to-image", json={"prompt": "green hills"})
        ).json()
        seed = first["images"][0]["seed"]
        again = (
            await gateway.post(
                "/v1/images/text-to-image", json={"prompt": "green hills", "seed": seed}
            )
        ).json()
        assert again["images"][0]["b64_json"] == first["images"][0]["b64_json"]


class TestSdxl:
    async def test_body_is_sdxls_schema_with_negative_weight(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        response = await gateway.post(
            "/v1/images/text-to-image",
            json={
                "model": "sdxl",
                "prompt": "a space ship",
                "negative_prompt": "blurry",
                "width": 1216,
                "height": 832,
                "cfg_scale": 9,
                "steps": 40,
                "sampler": "K_EULER",
                "style_preset": "isometric",
                "clip_guidance_preset": "FAST_BLUE",
                "seed": 7,
            },
        )
        assert response.status_code == 200, response.text
        [image] = response.json()["images"]
        assert (image["seed"], image["finish_reason"]) == (7, "success")
        assert image_size(image["b64_json"]) == (1216, 832)
        [received] = emulator.requests()
        assert received["model_id"] == SDXL
        assert received["body"] == {
            "text_prompts": [{"text": "a space ship"}, {"text": "blurry", "weight": -1.0}],
            "cfg_scale": 9,
            "steps": 40,
            "sampler": "K_EULER",
            "style_preset": "isometric",
            "clip_guidance_preset": "FAST_BLUE",
            "width": 1216,
            "height": 832,
            "seed": 7,
        }

    async def test_n3_is_three_calls_with_distinct_seeds(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        response = await gateway.post(
            "/v1/images/text-to-image", json={"model": "sdxl", "prompt": "red fox", "n": 3}
        )
        assert response.status_code == 200, response.text
        images = response.json()["images"]
        seeds = [i["seed"] for i in images]
        assert len(set(seeds)) == 3
        assert sorted(r["body"]["seed"] for r in emulator.requests()) == sorted(seeds)
        assert len({i["b64_json"] for i in images}) == 3

    @pytest.mark.parametrize("model", ["sdxl", SDXL])
    async def test_model_by_alias_or_id(self, gateway: httpx.AsyncClient, model: str) -> None:
        response = await gateway.post(
            "/v1/images/text-to-image", json={"model": model, "prompt": "x"}
        )
        assert response.status_code == 200, response.text
        assert response.json()["model"] == SDXL


async def test_colours_named_in_the_prompt_show_up(gateway: httpx.AsyncClient) -> None:
    """The emulator paints prompt colours, so the gateway must carry the prompt through intact."""
    response = await gateway.post(
        "/v1/images/text-to-image", json={"prompt": "red", "width": 512, "height": 512}
    )
    red = pixels(response.json()["images"][0]["b64_json"]).astype(np.float64)
    assert red[..., 0].mean() > red[..., 1].mean() + 20
