"""Errors of the OpenAI-compatible surface as the official SDK sees them: OpenAI's error body,
the status that picks the SDK's exception class, Retry-After on 429 and 503, the SDK's retries."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import openai
import pytest
from openai.types import ImagesResponse

from emulator.testing import EmulatorServer
from tests.support.gateway import b64, data, settings_for
from tests.support.openai_sdk import openai_client

COFFEE = data("coffee.png")
BASE = "/openai/v1/images"


@pytest.fixture
async def client(emulator: EmulatorServer) -> AsyncIterator[openai.AsyncOpenAI]:
    """The SDK, retries off, on a gateway that calls Bedrock once per image call."""
    async with openai_client(settings_for(emulator, max_attempts=1)) as sdk:
        yield sdk


def error_of(exc: openai.APIStatusError) -> dict[str, Any]:
    """The `error` object of the answer (the SDK keeps it as `body`)."""
    assert isinstance(exc.body, dict)
    assert set(exc.body) == {"message", "type", "param", "code"}
    return exc.body


@pytest.mark.parametrize(
    ("size", "message"),
    [
        ("5000x5000", "5000x5000 is out of bounds: each side must be 64-4096 px"),
        ("32x32", "32x32 is out of bounds: each side must be 64-4096 px"),
        ("1600x400", "1600x400 is out of bounds: the aspect ratio must be within 1:3 and 3:1"),
    ],
)
async def test_a_size_out_of_bounds_is_a_bad_request_naming_size(
    client: openai.AsyncOpenAI, emulator: EmulatorServer, size: str, message: str
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await client.images.generate(prompt="a fox", size=size)
    error = error_of(caught.value)
    assert caught.value.status_code == 400
    assert error["type"] == "invalid_request_error"
    assert error["param"] == "size"
    assert error["code"] == "invalid_value"
    assert error["message"] == message
    assert caught.value.request_id  # the SDK reads it from x-request-id
    assert emulator.requests() == []


async def test_every_field_the_native_layer_refuses_is_listed_in_one_400(
    client: openai.AsyncOpenAI, emulator: EmulatorServer
) -> None:
    # The native API answers these with 422; OpenAI's callers expect 400 (BadRequestError).
    with pytest.raises(openai.BadRequestError) as caught:
        await client.images.generate(prompt="a fox", n=11, extra_body={"cfg_scale": 99})
    error = error_of(caught.value)
    assert error["param"] == "n"
    assert "n: Input should be less than or equal to 10" in error["message"]
    assert "cfg_scale: Input should be less than or equal to 35" in error["message"]
    assert emulator.requests() == []


@pytest.mark.parametrize(
    ("kwargs", "param", "code", "message"),
    [
        ({"size": "big"}, "size", "invalid_value", "'big' is not a size: give WIDTHxHEIGHT"),
        ({"quality": "ultra"}, "quality", "invalid_value", "'ultra' is not a quality"),
        ({"output_format": "gif"}, "output_format", "invalid_value", "'gif' is not an output"),
        ({"response_format": "png"}, "response_format", "invalid_value", "'png' is not a resp"),
        ({"extra_body": {"colour": "red"}}, "colour", "unknown_parameter", "Unknown parameter"),
        ({"model": "remove-background"}, "model", "invalid_value", "cannot do text-to-image"),
        ({"extra_body": {"seed": -1}}, "seed", "invalid_value", "seed: Input should be greater"),
    ],
)
async def test_bad_parameters(
    client: openai.AsyncOpenAI,
    emulator: EmulatorServer,
    kwargs: dict[str, Any],
    param: str,
    code: str,
    message: str,
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await client.images.generate(prompt="a fox", **kwargs)
    error = error_of(caught.value)
    assert (error["param"], error["code"]) == (param, code)
    assert message in error["message"]
    assert emulator.requests() == []


async def test_variations_do_not_stream(client: openai.AsyncOpenAI) -> None:
    # OpenAI's variations endpoint has no stream parameter: sent anyway, it is refused.
    with pytest.raises(openai.BadRequestError) as caught:
        await client.post(
            "/images/variations",
            body={"image": "data:image/png;base64,AAAA", "stream": True},
            cast_to=object,
        )
    assert error_of(caught.value)["param"] == "stream"


async def test_an_unknown_model_is_not_found(client: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        await client.images.generate(prompt="a fox", model="midjourney-7")
    error = error_of(caught.value)
    assert (error["param"], error["code"]) == ("model", "model_not_found")
    assert "'midjourney-7' does not exist on this gateway" in error["message"]


async def test_an_edit_without_mask_needs_one_on_a_model_without_variations(
    client: openai.AsyncOpenAI, emulator: EmulatorServer
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await client.images.edit(
            image=("coffee.png", COFFEE, "image/png"), prompt="a cup", model="stability-inpaint"
        )
    error = error_of(caught.value)
    assert error["param"] == "mask"
    assert "stability.stable-image-inpaint-v1:0 makes no variations" in error["message"]
    assert emulator.requests() == []


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ({"image_url": "https://example.com/cup.png"}, "image URLs are not fetched"),
        ({"file_id": "file-123"}, "file ids are not supported"),
        (42, "must be a file part, a data URL, or an object"),
    ],
)
async def test_json_edit_images_must_be_data_urls(
    client: openai.AsyncOpenAI, reference: Any, message: str
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await client.post(
            "/images/edits",
            body={"images": [{"image_url": f"data:image/png;base64,{b64(COFFEE)}"}, reference]},
            cast_to=ImagesResponse,
        )
    error = error_of(caught.value)
    assert error["param"] == "images[1]"
    assert message in error["message"]


async def test_a_mask_that_is_not_transparent_names_the_mask(
    client: openai.AsyncOpenAI,
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await client.images.edit(
            image=("coffee.png", COFFEE, "image/png"),
            mask=("mask.png", data("coffee-mask-black-edit.png"), "image/png"),
            prompt="a cup",
        )
    error = error_of(caught.value)
    assert error["param"] == "mask"
    assert "has no alpha channel" in error["message"]


async def test_all_images_blocked_is_a_content_policy_violation(
    client: openai.AsyncOpenAI,
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await client.images.generate(prompt="something forbidden", size="512x512")
    error = error_of(caught.value)
    assert error["code"] == "content_policy_violation"
    assert "blocked by our content filters" in error["message"]


async def test_throttling_is_a_rate_limit_error_with_retry_after(
    client: openai.AsyncOpenAI, emulator: EmulatorServer
) -> None:
    emulator.set_faults(schedule=[{"fault": "ThrottlingException", "times": 1}])
    with pytest.raises(openai.RateLimitError) as caught:
        await client.images.generate(prompt="a fox", size="512x512")
    error = error_of(caught.value)
    assert caught.value.status_code == 429
    assert (error["type"], error["code"]) == ("rate_limit_error", "rate_limit_exceeded")
    headers = caught.value.response.headers
    assert headers["retry-after"] == "2"
    assert headers["retry-after-ms"] == "2000"
    assert [record["error_code"] for record in emulator.requests()] == ["ThrottlingException"]


async def test_unavailable_is_an_internal_server_error_with_retry_after(
    client: openai.AsyncOpenAI, emulator: EmulatorServer
) -> None:
    emulator.set_faults(schedule=[{"fault": "ServiceUnavailableException", "times": 1}])
    with pytest.raises(openai.InternalServerError) as caught:
        await client.images.generate(prompt="a fox", size="512x512")
    error = error_of(caught.value)
    assert caught.value.status_code == 503
    assert (error["type"], error["code"]) == ("server_error", "upstream_unavailable")
    headers = caught.value.response.headers
    assert headers["retry-after"] == "5"
    assert headers["retry-after-ms"] == "5000"


async def test_the_sdk_retries_a_throttled_request_and_succeeds(emulator: EmulatorServer) -> None:
    emulator.set_faults(schedule=[{"fault": "ThrottlingException", "times": 1}])
    async with openai_client(settings_for(emulator, max_attempts=1), max_retries=2) as client:
        response = await client.images.generate(
            prompt="a fox", size="512x512", extra_body={"seed": 9}
        )
    assert response.data is not None
    assert len(response.data) == 1
    calls = emulator.requests()
    assert [record["status"] for record in calls] == [429, 200]
    assert calls[0]["body"] == calls[1]["body"]


async def test_the_sdk_does_not_retry_what_a_retry_cannot_fix(emulator: EmulatorServer) -> None:
    emulator.set_faults(schedule=[{"fault": "AccessDeniedException", "times": 3}])
    async with openai_client(settings_for(emulator, max_attempts=1), max_retries=2) as client:
        with pytest.raises(openai.InternalServerError) as caught:
            await client.images.generate(prompt="a fox", size="512x512")
    assert caught.value.status_code == 502
    assert caught.value.response.headers["x-should-retry"] == "false"
    assert error_of(caught.value)["code"] == "upstream_access_denied"
    assert len(emulator.requests()) == 1


@pytest.mark.parametrize(
    ("path", "content", "content_type", "status", "code"),
    [
        ("generations", b'{"prompt": ', "application/json", 400, "invalid_json"),
        ("generations", b"[1, 2]", "application/json", 400, "invalid_json"),
        ("generations", b"prompt=a+fox", "application/x-www-form-urlencoded", 400, None),
        ("edits", b"--x\r\nbroken", "multipart/form-data", 400, "invalid_multipart"),
    ],
)
async def test_malformed_bodies_are_answered_in_openais_shape(
    gateway: httpx.AsyncClient,
    path: str,
    content: bytes,
    content_type: str,
    status: int,
    code: str | None,
) -> None:
    response = await gateway.post(
        f"{BASE}/{path}", content=content, headers={"content-type": content_type}
    )
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "invalid_request_error"
    assert error["code"] == (code or "unsupported_media_type")
