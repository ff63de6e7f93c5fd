"""Images whose pixels cannot be decoded are refused before any Bedrock call, naming the field
(issue 17, finding 3), on every surface of `python -m app`.

Each passes the header and structure checks (right size, every chunk's CRC right): random bytes
where the pixel data goes, at the layouts the gateway converts (RGBA, 16-bit) and at the one it
used to pass through untouched (8-bit RGB), and an ICC profile that inflates past Pillow's limit.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from emulator.testing import EmulatorServer
from tests.support.gateway import b64
from tests.support.hostile import corrupt_pixels
from tests.support.served import ServedGateway, errors_logged

TITAN = "amazon.titan-image-generator-v1"
SDXL = "stability.stable-diffusion-xl-v1"
CORRUPT = "is truncated or corrupt"


@pytest.fixture(scope="module")
def gateway(emulator_server: EmulatorServer) -> Iterator[ServedGateway]:
    with ServedGateway(emulator_server) as served:
        yield served


@pytest.mark.parametrize("name", list(corrupt_pixels()))
def test_corrupt_pixels_are_a_422_naming_the_field_before_any_call(
    gateway: ServedGateway, emulator: EmulatorServer, name: str
) -> None:
    png = corrupt_pixels()[name]
    with httpx.Client(base_url=gateway.url, timeout=60) as client:
        native = client.post(
            "/v1/images/variations", json={"prompt": "a cup", "images": [b64(png)]}
        )
        openai = client.post(
            "/openai/v1/images/variations", files={"image": ("cup.png", png, "image/png")}
        )
        titan = client.post(
            f"/model/{TITAN}/invoke",
            json={
                "taskType": "IMAGE_VARIATION",
                "imageVariationParams": {"text": "a cup", "images": [b64(png)]},
            },
        )
        sdxl = client.post(
            f"/model/{SDXL}/invoke",
            json={"text_prompts": [{"text": "a cup"}], "init_image": b64(png)},
        )

    assert native.status_code == 422
    problem = native.json()
    assert problem["type"] == "/problems/validation-error"
    assert problem["errors"] == [{"field": "images[0]", "message": CORRUPT}]

    assert openai.status_code == 400
    error = openai.json()["error"]
    assert (error["param"], error["type"]) == ("image[0]", "invalid_request_error")
    assert f"image[0]: {CORRUPT}" in error["message"]

    for answer, path in ((titan, "#/imageVariationParams/images/0"), (sdxl, "#/init_image")):
        assert answer.status_code == 400
        assert answer.headers["x-amzn-errortype"] == "ValidationException"
        assert f"{path}: {CORRUPT}" in answer.json()["message"]

    assert emulator.requests() == []
    assert gateway.metric("gateway_requests_total", status="500") == 0
    assert errors_logged(gateway) == []
