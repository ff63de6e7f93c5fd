"""Nova Canvas VIRTUAL_TRY_ON: served by the native API as `virtual-try-on` (JSON and multipart)
and validated and passed through on the Bedrock surface, asserting on the body the emulator
received and on the pixels returned."""

from __future__ import annotations

import base64
import io
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image

from emulator.testing import EmulatorServer
from tests.support.edits import Content, post
from tests.support.gateway import b64, data, pixels

NOVA = "amazon.nova-canvas-v1:0"
PERSON = data("astronaut.png")  # 512x512
PERSON_PIXELS = pixels(PERSON)[..., :3]


def png(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(array).save(out, format="PNG")
    return out.getvalue()


GARMENT_PIXELS = np.zeros((200, 160, 3), np.uint8)
GARMENT_PIXELS[..., 2] = 220  # a blue shirt
GARMENT = png(GARMENT_PIXELS)
INSIDE = np.zeros((512, 512), bool)
INSIDE[100:300, 150:350] = True
# The caller's mask, white where the garment goes; Nova's is black there.
WHITE_MASK = png(np.where(INSIDE, 255, 0).astype(np.uint8))
NOVA_MASK = np.where(INSIDE[..., None], 0, 255).astype(np.uint8).repeat(3, axis=2)


def only_body(emulator: EmulatorServer) -> dict[str, Any]:
    [record] = emulator.requests()
    assert record["model_id"] == NOVA
    body: dict[str, Any] = record["body"]
    return body


def decoded(text: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(text))).convert("RGB"))


@pytest.mark.parametrize("content", ["json", "multipart"])
async def test_a_mask_places_the_garment_and_the_rest_of_the_person_is_kept(
    gateway: httpx.AsyncClient, emulator: EmulatorServer, content: Content
) -> None:
    fields = {
        "model": "nova-canvas",
        "image": PERSON,
        "reference_image": GARMENT,
        "mask": WHITE_MASK,
        "mask_convention": "white-is-edit",
        "merge_style": "DETAILED",
        "seed": 12,
    }
    response = await post(gateway, "virtual-try-on", content, fields)
    assert response.status_code == 200, response.text
    body = only_body(emulator)
    params = body["virtualTryOnParams"]
    assert body["taskType"] == "VIRTUAL_TRY_ON"
    assert body["imageGenerationConfig"] == {"numberOfImages": 1, "seed": 12}
    assert params.keys() == {
        "sourceImage", "referenceImage", "maskType", "imageBasedMask", "mergeStyle"
    }  # fmt: skip
    assert params["maskType"] == "IMAGE"
    assert params["mergeStyle"] == "DETAILED"
    assert np.array_equal(decoded(params["sourceImage"]), PERSON_PIXELS)
    assert np.array_equal(decoded(params["imageBasedMask"]["maskImage"]), NOVA_MASK)
    [image] = response.json()["images"]
    assert image["seed"] == 12
    result = decoded(image["b64_json"])
    assert result.shape == PERSON_PIXELS.shape
    assert np.array_equal(result[~INSIDE], PERSON_PIXELS[~INSIDE])
    assert result[INSIDE][:, 2].mean() > 200
    assert response.json()["applied"] == {"mask_type": "IMAGE"}


async def test_a_garment_class_dresses_the_lower_body(
    gateway: httpx.AsyncClient, emulator: EmulatorServer
) -> None:
    fields = {
        "model": "nova-canvas",
        "image": b64(PERSON),
        "reference_image": b64(GARMENT),
        "mask_type": "GARMENT",
        "garment_class": "LONG_PANTS",
        "tucking_style": "TUCKED",
        "preserve_face": True,
        "n": 2,
    }
    response = await gateway.post("/v1/images/virtual-try-on", json=fields)
    assert response.status_code == 200, response.text
    params = only_body(emulator)["virtualTryOnParams"]
    assert params["garmentBasedMask"] == {
        "garmentClass": "LONG_PANTS",
        "garmentStyling": {"tuckingStyle": "TUCKED"},
    }
    assert params["maskExclusions"] == {"preserveFace": True}
    first, second = (decoded(i["b64_json"]) for i in response.json()["images"])
    assert not np.array_equal(first, second)
    changed = np.flatnonzero((first != PERSON_PIXELS).any(axis=(1, 2)))
    assert changed.min() >= int(0.5 * 512) - 1
    assert response.json()["applied"] == {}


async def test_fields_of_another_mask_type_are_refused_naming_them(
    gateway: httpx.AsyncClient, emulator: EmulatorServer
) -> None:
    fields = {
        "model": "nova-canvas",
        "image": b64(PERSON),
        "reference_image": b64(GARMENT),
        "mask_type": "PROMPT",
        "garment_class": "UPPER_BODY",
    }
    response = await gateway.post("/v1/images/virtual-try-on", json=fields)
    assert response.status_code == 422
    assert {e["field"]: e["message"] for e in response.json()["errors"]} == {
        "mask_prompt": "required with mask_type PROMPT",
        "garment_class": "takes effect only with mask_type GARMENT, not PROMPT",
    }
    titan = await gateway.post("/v1/images/virtual-try-on", json={**fields, "model": "titan-v2"})
    assert titan.status_code == 422
    assert titan.json()["errors"][0]["field"] == "model"
    assert emulator.requests() == []


async def test_the_bedrock_surface_validates_and_passes_the_body_through(
    gateway: httpx.AsyncClient, emulator: EmulatorServer
) -> None:
    body: dict[str, Any] = {
        "taskType": "VIRTUAL_TRY_ON",
        "virtualTryOnParams": {
            "sourceImage": b64(PERSON),
            "referenceImage": b64(GARMENT),
            "maskType": "IMAGE",
            "imageBasedMask": {"maskImage": b64(png(NOVA_MASK))},
            "maskExclusions": {"preserveHands": True},
            "returnMask": True,
        },
        "imageGenerationConfig": {"numberOfImages": 1, "seed": 3, "quality": "premium"},
    }
    response = await gateway.post(f"/model/{NOVA}/invoke", json=body)
    assert response.status_code == 200, response.text
    assert only_body(emulator) == body
    answer = response.json()
    [image] = answer["images"]
    result = decoded(image)
    assert np.array_equal(result[~INSIDE], PERSON_PIXELS[~INSIDE])
    assert result[INSIDE][:, 2].mean() > 200
    assert np.array_equal(decoded(answer["maskImage"])[..., 0] == 0, INSIDE)

    emulator.reset()
    params = {**body["virtualTryOnParams"], "maskType": "PROMPT", "mergeStyle": 3}
    refused = await gateway.post(
        f"/model/{NOVA}/invoke", json={**body, "virtualTryOnParams": params}
    )
    assert refused.status_code == 400
    message = refused.json()["message"]
    assert "#/virtualTryOnParams/mergeStyle: expected type: String, found: Number" in message
    assert "#/virtualTryOnParams/promptBasedMask/maskPrompt: required with mask_type PROMPT" in (
        message
    )
    assert emulator.requests() == []
