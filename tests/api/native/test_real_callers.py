"""Bodies public code sends to Bedrock, answered as Bedrock answers them: SD3.5 Large's
text-to-image with "mode" and "strength", and SDXL 0.8 (retired: end of life, 410 naming the
successor, served like SDXL 1.0 by the replacement map)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import httpx
import pytest

from emulator.testing import EmulatorServer
from tests.support.gateway import image_size, open_gateway, pixels, settings_for

SD35 = "stability.sd3-5-large-v1:0"
SDXL_V0 = "stability.stable-diffusion-xl-v0"
SD35_BODY = {
    "prompt": "a lighthouse on a cliff",
    "mode": "text-to-image",
    "strength": 1,
    "aspect_ratio": "16:9",
    "output_format": "png",
    "seed": 11,
}


def test_the_emulator_takes_a_text_to_image_strength(bedrock_env: EmulatorServer) -> None:
    runtime = boto3.client("bedrock-runtime")
    answer = json.loads(
        runtime.invoke_model(modelId=f"us.{SD35}", body=json.dumps(SD35_BODY))["body"].read()
    )
    [image] = answer["images"]
    assert image_size(image) == (1344, 768)
    too_strong = {**SD35_BODY, "strength": 2}
    with pytest.raises(runtime.exceptions.ValidationException) as info:
        runtime.invoke_model(modelId=f"us.{SD35}", body=json.dumps(too_strong))
    assert "#/strength" in info.value.response["Error"]["Message"]


def test_the_emulator_answers_sdxl_v0_end_of_life(bedrock_env: EmulatorServer) -> None:
    runtime = boto3.client("bedrock-runtime")
    body = {"text_prompts": [{"text": "a fox"}]}
    for model_id in (SDXL_V0, f"arn:aws:bedrock:us-east-1::foundation-model/{SDXL_V0}"):
        with pytest.raises(runtime.exceptions.ResourceNotFoundException) as info:
            runtime.invoke_model(modelId=model_id, body=json.dumps(body))
        assert "end of its life" in info.value.response["Error"]["Message"]


async def test_sd35_text_to_image_with_mode_and_strength_passes_through(
    gateway: httpx.AsyncClient, emulator: EmulatorServer
) -> None:
    response = await gateway.post(f"/model/us.{SD35}/invoke", json=SD35_BODY)
    assert response.status_code == 200, response.text
    [image] = response.json()["images"]
    assert pixels(image).shape == (768, 1344, 3)
    [record] = emulator.requests()
    assert record["body"] == SD35_BODY
    refused = await gateway.post(f"/model/us.{SD35}/invoke", json={**SD35_BODY, "strength": "x"})
    assert refused.status_code == 400
    assert "#/strength: expected type: Number, found: String" in refused.json()["message"]


async def test_sdxl_v0_is_a_410_naming_its_successor(
    gateway: httpx.AsyncClient, emulator: EmulatorServer
) -> None:
    response = await gateway.post(
        "/v1/images/text-to-image", json={"model": SDXL_V0, "prompt": "a fox"}
    )
    assert response.status_code == 410, response.text
    problem = response.json()
    assert problem["type"] == "/problems/model-retired"
    assert problem["successors"] == [f"sd3.5-large ({SD35})"]
    assert problem["setting_example"] == json.dumps({SDXL_V0: {}}, separators=(",", ":"))
    [record] = emulator.requests()
    assert record["model_id"] == SDXL_V0


async def test_sdxl_v0_is_served_like_sdxl_1_by_the_replacement_map(
    emulator: EmulatorServer,
) -> None:
    settings = settings_for(emulator, replacements={SDXL_V0: {}})
    body: dict[str, Any] = {
        "text_prompts": [{"text": "a fox in the snow"}],
        "width": 1024,
        "height": 1024,
        "seed": 5,
    }
    async with open_gateway(settings) as gateway:
        native = await gateway.post(
            "/v1/images/text-to-image", json={"model": "sdxl-v0", "prompt": "a fox", "seed": 5}
        )
        assert native.status_code == 200, native.text
        assert native.headers["served-model"] == SD35
        assert image_size(native.json()["images"][0]["b64_json"]) == (1024, 1024)

        emulator.reset()
        surface = await gateway.post(f"/model/{SDXL_V0}/invoke", json=body)
    assert surface.status_code == 200, surface.text
    [artifact] = surface.json()["artifacts"]
    assert artifact["finishReason"] == "SUCCESS"
    assert pixels(artifact["base64"]).shape[:2] == (1024, 1024)
    [record] = emulator.requests()
    assert record["resolved_model_id"] == SD35
    assert record["body"]["prompt"] == "a fox in the snow"
