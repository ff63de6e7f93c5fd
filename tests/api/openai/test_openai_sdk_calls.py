"""openai-python's own tests/api_resources/test_images.py calls (every parameter, streaming and
not, raw and streamed responses, sync and async clients), given real images, against
`python -m app` and the emulator: each must answer images the SDK parses."""

from __future__ import annotations

import base64
import warnings
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import openai
import pytest
from openai.types import ImagesResponse

from emulator.testing import EmulatorServer
from tests.support.gateway import image_size, pixels
from tests.support.openai_sdk import ALPHA_EDIT, COFFEE

# The SDK these calls were written against (pyproject pins it): its test file's calls, as of it.
SDK_VERSION = "3.63.0"
PROMPT = "A cute baby sea otter wearing a beret"
EDIT_ALL: dict[str, Any] = {
    "background": "transparent",
    "input_fidelity": "high",
    "mask": ("mask.png", ALPHA_EDIT, "image/png"),
    "model": "gpt-image-2",
    "n": 1,
    "output_compression": 100,
    "output_format": "png",
    "partial_images": 1,
    "quality": "high",
    "response_format": "url",
    "size": "256x256",
    "user": "user-1234",
}
GENERATE_ALL: dict[str, Any] = {
    "background": "transparent",
    "model": "gpt-image-2",
    "moderation": "low",
    "n": 1,
    "output_compression": 100,
    "output_format": "png",
    "partial_images": 1,
    "quality": "medium",
    "response_format": "url",
    "size": "auto",
    "style": "vivid",
    "user": "user-1234",
}
VARIATION_ALL: dict[str, Any] = {
    "model": "gpt-image-1",
    "n": 1,
    "response_format": "url",
    "size": "1024x1024",
    "user": "user-1234",
}


def image() -> tuple[str, bytes, str]:
    return ("coffee.png", COFFEE, "image/png")


@pytest.fixture
def client(served: str, emulator: EmulatorServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=f"{served}/openai/v1", api_key="x", max_retries=0) as sdk:
        yield sdk


@pytest.fixture
async def async_client(served: str, emulator: EmulatorServer) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(
        base_url=f"{served}/openai/v1", api_key="x", max_retries=0
    ) as sdk:
        yield sdk


def test_the_sdk_is_the_version_these_calls_come_from() -> None:
    assert openai.__version__ == SDK_VERSION


def images_of(response: ImagesResponse) -> list[bytes]:
    """Each image's bytes, from b64_json or its URL (python -m app stores url answers' images:
    the embedded mode of jobs gives it a result store)."""
    assert response.data
    out = []
    for item in response.data:
        if item.b64_json:
            out.append(base64.b64decode(item.b64_json))
        else:
            fetched = httpx.get(item.url or "", timeout=30)
            assert fetched.status_code == 200
            out.append(fetched.content)
    return out


def check_edit(response: ImagesResponse, size: tuple[int, int] = (600, 400)) -> None:
    (edited,) = images_of(response)
    assert image_size(edited) == size


def check_all_params_edit(response: ImagesResponse) -> None:
    (edited,) = images_of(response)
    assert image_size(edited) == (256, 256)
    assert pixels(edited).shape[2] == 4  # transparent background: RGBA
    assert response.background == "transparent"


def check_generated(response: ImagesResponse, size: tuple[int, int] = (1024, 1024)) -> None:
    assert [image_size(one) for one in images_of(response)] == [size]


def variation(client: openai.OpenAI, **params: Any) -> ImagesResponse:
    with warnings.catch_warnings():  # the SDK marks OpenAI's own endpoint as deprecated
        warnings.simplefilter("ignore", DeprecationWarning)
        return client.images.create_variation(image=image(), **params)


class TestSync:
    def test_create_variation(self, client: openai.OpenAI) -> None:
        check_generated(variation(client))
        check_generated(variation(client, **VARIATION_ALL))

    def test_raw_and_streaming_response_create_variation(self, client: openai.OpenAI) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            raw = client.images.with_raw_response.create_variation(image=image())
            assert raw.is_closed is True
            check_generated(raw.parse())
            with client.images.with_streaming_response.create_variation(image=image()) as streamed:
                assert not streamed.is_closed
                check_generated(streamed.parse())
            assert streamed.is_closed is True

    def test_edit(self, client: openai.OpenAI) -> None:
        check_edit(client.images.edit(image=image(), prompt=PROMPT, mask=EDIT_ALL["mask"]))
        check_all_params_edit(
            client.images.edit(image=image(), prompt=PROMPT, stream=False, **EDIT_ALL)
        )

    def test_raw_and_streaming_response_edit(self, client: openai.OpenAI) -> None:
        raw = client.images.with_raw_response.edit(image=[image()], prompt=PROMPT)
        assert raw.is_closed is True
        check_generated(raw.parse())  # no mask, opaque image: variations guided by the prompt
        with client.images.with_streaming_response.edit(
            image=image(), prompt=PROMPT, mask=EDIT_ALL["mask"]
        ) as streamed:
            assert not streamed.is_closed
            check_edit(streamed.parse())
        assert streamed.is_closed is True

    def test_edit_streams(self, client: openai.OpenAI) -> None:
        stream = client.images.edit(image=image(), prompt=PROMPT, stream=True)
        events = list(stream)
        assert [event.type for event in events] == ["image_edit.completed"]
        stream = client.images.edit(image=image(), prompt=PROMPT, stream=True, **EDIT_ALL)
        (event,) = list(stream)
        assert event.type == "image_edit.completed"
        assert (event.size, event.background) == ("256x256", "transparent")
        raw = client.images.with_raw_response.edit(image=image(), prompt=PROMPT, stream=True)
        assert len(list(raw.parse())) == 1
        with client.images.with_streaming_response.edit(
            image=image(), prompt=PROMPT, stream=True
        ) as streamed:
            assert not streamed.is_closed
            assert len(list(streamed.parse())) == 1
        assert streamed.is_closed is True

    def test_generate(self, client: openai.OpenAI) -> None:
        check_generated(client.images.generate(prompt=PROMPT))
        response = client.images.generate(prompt=PROMPT, stream=False, **GENERATE_ALL)
        check_generated(response)
        assert response.background == "transparent"
        raw = client.images.with_raw_response.generate(prompt=PROMPT)
        assert raw.is_closed is True
        check_generated(raw.parse())
        with client.images.with_streaming_response.generate(prompt=PROMPT) as streamed:
            assert not streamed.is_closed
            check_generated(streamed.parse())
        assert streamed.is_closed is True

    def test_generate_streams(self, client: openai.OpenAI) -> None:
        (event,) = list(client.images.generate(prompt=PROMPT, stream=True))
        assert event.type == "image_generation.completed"
        assert image_size(base64.b64decode(event.b64_json)) == (1024, 1024)
        (event,) = list(client.images.generate(prompt=PROMPT, stream=True, **GENERATE_ALL))
        assert (event.background, event.quality) == ("transparent", "medium")
        raw = client.images.with_raw_response.generate(prompt=PROMPT, stream=True)
        assert len(list(raw.parse())) == 1
        with client.images.with_streaming_response.generate(prompt=PROMPT, stream=True) as streamed:
            assert len(list(streamed.parse())) == 1
        assert streamed.is_closed is True


class TestAsync:
    async def test_create_variation(self, async_client: openai.AsyncOpenAI) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            check_generated(await async_client.images.create_variation(image=image()))
            check_generated(
                await async_client.images.create_variation(image=image(), **VARIATION_ALL)
            )
            raw = await async_client.images.with_raw_response.create_variation(image=image())
            check_generated(raw.parse())
            async with async_client.images.with_streaming_response.create_variation(
                image=image()
            ) as streamed:
                check_generated(await streamed.parse())
            assert streamed.is_closed is True

    async def test_edit(self, async_client: openai.AsyncOpenAI) -> None:
        check_edit(
            await async_client.images.edit(image=image(), prompt=PROMPT, mask=EDIT_ALL["mask"])
        )
        check_all_params_edit(
            await async_client.images.edit(image=image(), prompt=PROMPT, stream=False, **EDIT_ALL)
        )
        stream = await async_client.images.edit(
            image=image(), prompt=PROMPT, stream=True, **EDIT_ALL
        )
        events = [event async for event in stream]
        assert [event.type for event in events] == ["image_edit.completed"]
        async with async_client.images.with_streaming_response.edit(
            image=image(), prompt=PROMPT, stream=True
        ) as streamed:
            assert len([event async for event in await streamed.parse()]) == 1
        assert streamed.is_closed is True

    async def test_generate(self, async_client: openai.AsyncOpenAI) -> None:
        check_generated(await async_client.images.generate(prompt=PROMPT))
        check_generated(
            await async_client.images.generate(prompt=PROMPT, stream=False, **GENERATE_ALL)
        )
        stream = await async_client.images.generate(prompt=PROMPT, stream=True, **GENERATE_ALL)
        events = [event async for event in stream]
        assert [event.type for event in events] == ["image_generation.completed"]
        raw = await async_client.images.with_raw_response.generate(prompt=PROMPT, stream=True)
        assert len([event async for event in raw.parse()]) == 1
