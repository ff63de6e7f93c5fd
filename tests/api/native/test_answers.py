"""Answers: JSON by default, the image bytes for an image Accept, 406 when neither fits."""

from __future__ import annotations

import httpx
import pytest

from emulator.testing import EmulatorServer
from tests.support.gateway import image_size, pixels

T2I = "/v1/images/text-to-image"
BODY = {"prompt": "a yellow kite", "width": 512, "height": 512, "seed": 3}


@pytest.mark.parametrize(
    ("accept", "mime", "magic"),
    [
        ("image/png", "image/png", b"\x89PNG"),
        ("image/jpeg", "image/jpeg", b"\xff\xd8\xff"),
        ("image/webp", "image/webp", b"RIFF"),
        ("image/*", "image/png", b"\x89PNG"),
        ("image/webp;q=0.5, image/jpeg", "image/jpeg", b"\xff\xd8\xff"),
    ],
)
async def test_image_accept_answers_the_bytes_with_seed_headers(
    gateway: httpx.AsyncClient, accept: str, mime: str, magic: bytes
) -> None:
    response = await gateway.post(T2I, json=BODY, headers={"Accept": accept})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == mime
    assert response.content.startswith(magic)
    assert response.headers["seed"] == "3"
    assert response.headers["finish-reason"] == "success"
    assert image_size(response.content) == (512, 512)


async def test_binary_png_is_the_same_image_as_the_json_answer(gateway: httpx.AsyncClient) -> None:
    as_json = await gateway.post(T2I, json=BODY)
    as_png = await gateway.post(T2I, json=BODY, headers={"Accept": "image/png"})
    assert (pixels(as_png.content) == pixels(as_json.json()["images"][0]["b64_json"])).all()


async def test_json_answer_shape(gateway: httpx.AsyncClient) -> None:
    response = await gateway.post(T2I, json=BODY, headers={"X-Request-ID": "req-123"})
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-request-id"] == "req-123"
    answer = response.json()
    assert set(answer) == {"id", "model", "created", "images", "applied", "warnings", "usage"}
    # This gateway's default, Titan G1, at 512x512 and standard quality: the built-in $0.008.
    assert answer["model"] == "amazon.titan-image-generator-v1"
    assert answer["usage"] == {"images": 1, "cost_usd": 0.008}
    assert response.headers["cost-usd"] == "0.008"
    assert answer["applied"] == {}
    assert answer["warnings"] == []
    assert response.headers["served-model"] == answer["model"]
    assert answer["id"] == "req-123"
    assert set(answer["images"][0]) == {"b64_json", "seed", "finish_reason", "mime_type", "error"}


@pytest.mark.parametrize(
    "accept", ["*/*", "application/json", "application/json, image/png;q=0.9", ""]
)
async def test_json_when_the_caller_allows_it(gateway: httpx.AsyncClient, accept: str) -> None:
    response = await gateway.post(T2I, json=BODY, headers={"Accept": accept})
    assert response.headers["content-type"] == "application/json"


async def test_image_accept_with_n_over_1_is_406_before_any_call(
    gateway: httpx.AsyncClient, emulator: EmulatorServer
) -> None:
    response = await gateway.post(T2I, json={**BODY, "n": 2}, headers={"Accept": "image/png"})
    assert response.status_code == 406
    assert response.headers["content-type"] == "application/problem+json"
    assert "n is 2" in response.json()["detail"]
    assert emulator.requests() == []


async def test_unacceptable_accept_is_406(
    gateway: httpx.AsyncClient, emulator: EmulatorServer
) -> None:
    response = await gateway.post(T2I, json=BODY, headers={"Accept": "text/html"})
    assert response.status_code == 406
    assert response.json()["type"] == "/problems/not-acceptable"
    assert emulator.requests() == []
