"""Requests the fuzz run found answered with a 5xx, each kept as the smallest request that did."""

from __future__ import annotations

import base64

import httpx
import pytest

from tests.support.hostile import corrupt_pixels


@pytest.mark.parametrize(
    ("path", "body", "field", "message"),
    [
        # A list or an object is unhashable: choosing the model by it raised TypeError (500).
        (
            "/v1/images/control",
            {"control": ["sketch"], "prompt": "a cat"},
            "control",
            "must be one of sketch, structure",
        ),
        (
            "/v1/images/upscale",
            {"mode": {"fast": True}},
            "mode",
            "must be one of conservative, creative, fast",
        ),
    ],
)
async def test_a_selecting_field_of_another_json_type_is_refused_by_name(
    gateway: httpx.AsyncClient, path: str, body: dict[str, object], field: str, message: str
) -> None:
    answer = await gateway.post(path, json=body)
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert {"field": field, "message": message} in answer.json()["errors"]


@pytest.mark.parametrize("name", ["rgba-noise-idat", "rgb16-noise-idat"])
async def test_pixels_that_cannot_be_decoded_are_refused_by_name(
    gateway: httpx.AsyncClient, name: str
) -> None:
    # Titan's conversion of an RGBA or 16-bit image whose pixel data is noise behind valid CRCs
    # raised ImageInputError after validation (500); every image is now decoded while validated.
    png = corrupt_pixels()[name]
    answer = await gateway.post(
        "/v1/images/image-to-image",
        json={"model": "titan", "prompt": "a cup", "image": base64.b64encode(png).decode()},
    )
    assert answer.status_code == 422
    assert answer.json()["errors"] == [{"field": "image", "message": "is truncated or corrupt"}]
