"""The OpenAI-compatible surface, driven by the official OpenAI SDK: generations, edits (multipart
and JSON, with a mask, with the image's own transparency, and without a mask as variations) and
variations, checked on the images that come back and the exact bodies Bedrock (the emulator) got."""

from __future__ import annotations

import base64
import io
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import openai
import pytest
from openai.types import ImagesResponse
from PIL import Image

from emulator.testing import EmulatorServer
from tests.support.gateway import b64, data, image_size, pixels, settings_for
from tests.support.openai_sdk import openai_client

TITAN = "amazon.titan-image-generator-v1"
COFFEE = data("coffee.png")
CHELSEA = data("chelsea.png")
ALPHA_EDIT = data("coffee-mask-alpha-edit.png")  # the photo, alpha 0 on the ellipse to edit
EDIT_AREA = pixels(ALPHA_EDIT)[..., 3] < 128


@pytest.fixture
async def client(emulator: EmulatorServer) -> AsyncIterator[openai.AsyncOpenAI]:
    """The SDK on the gateway with default settings, on a clean emulator."""
    async with openai_client(settings_for(emulator)) as sdk:
        yield sdk


def decoded(response: ImagesResponse) -> list[bytes]:
    """The image bytes of every `data` entry (b64_json)."""
    assert response.data is not None
    return [base64.b64decode(item.b64_json or "") for item in response.data]


def data_url(raw: bytes) -> str:
    """A PNG as a data URL."""
    return f"data:image/png;base64,{b64(raw)}"


def bodies(emulator: EmulatorServer) -> list[dict[str, Any]]:
    """The bodies Bedrock received, oldest first."""
    return [record["body"] for record in emulator.requests()]


async def test_generate_maps_n_size_quality_and_native_fields(
    client: openai.AsyncOpenAI, emulator: EmulatorServer
) -> None:
    raw = await client.images.with_raw_response.generate(
        prompt="a red fox in the snow",
        model="dall-e-3",
        response_format="b64_json",
        n=3,
        size="512x512",
        quality="hd",
        user="someone",
        stream=False,
        extra_body={"seed": 7, "negative_prompt": "blur"},
    )
    response = raw.parse()
    images = decoded(response)
    assert len(images) == 3
    assert all(image.startswith(b"\x89PNG") for image in images)
    assert [image_size(image) for image in images] == [(512, 512)] * 3
    assert response.output_format == "png"
    assert raw.headers["served-model"] == TITAN
    assert "warning" not in raw.headers
    assert bodies(emulator) == [
        {
            "taskType": "TEXT_IMAGE",
            "textToImageParams": {"text": "a red fox in the snow", "negativeText": "blur"},
            "imageGenerationConfig": {
                "numberOfImages": 3,
                "width": 512,
                "height": 512,
                "quality": "premium",
                "seed": 7,
            },
        }
    ]


async def test_generate_with_a_registry_model_and_the_configured_default(
    emulator: EmulatorServer,
) -> None:
    settings = settings_for(emulator, default_models={"text-to-image": "titan-v2"})
    async with openai_client(settings) as client:
        await client.images.generate(prompt="a lighthouse", model="gpt-image-1", size="512x512")
        await client.images.generate(prompt="a lighthouse", model="nova", size="512x512")
        await client.images.generate(prompt="a lighthouse", size="512x512")
    assert [record["model_id"] for record in emulator.requests()] == [
        "amazon.titan-image-generator-v2:0",
        "amazon.nova-canvas-v1:0",
        "amazon.titan-image-generator-v2:0",
    ]


async def test_quality_and_size_a_model_lacks_are_ignored_with_a_warning(
    client: openai.AsyncOpenAI, emulator: EmulatorServer
) -> None:
    raw = await client.images.with_raw_response.generate(
        prompt="a lighthouse",
        model="core",
        quality="high",
        style="vivid",
        extra_body={"seed": 4},
    )
    assert len(decoded(raw.parse())) == 1
    warning = raw.headers["warning"]
    assert "quality is ignored: stability.stable-image-core-v1:1 takes no quality" in warning
    assert "style is ignored" in warning
    assert bodies(emulator) == [{"prompt": "a lighthouse", "seed": 4}]


async def test_url_answers_are_data_urls_in_the_output_format(client: openai.AsyncOpenAI) -> None:
    response = await client.images.generate(
        prompt="a red fox", size="512x512", response_format="url", output_format="jpeg"
    )
    assert response.data is not None
    assert response.output_format == "jpeg"
    url = response.data[0].url or ""
    prefix = "data:image/jpeg;base64,"
    assert url.startswith(prefix)
    assert response.data[0].b64_json is None
    jpeg = base64.b64decode(url[len(prefix) :])
    assert jpeg.startswith(b"\xff\xd8\xff")
    assert image_size(jpeg) == (512, 512)


async def test_edit_multipart_changes_only_the_transparent_area_of_the_mask(
    client: openai.AsyncOpenAI, emulator: EmulatorServer
) -> None:
    response = await client.images.edit(
        image=("coffee.png", COFFEE, "image/png"),
        mask=("mask.png", ALPHA_EDIT, "image/png"),
        prompt="a blue cup",
        extra_body={"seed": 5},
    )
    (edited,) = decoded(response)
    assert image_size(edited) == (600, 400)
    changed = np.any(pixels(edited)[..., :3] != pixels(COFFEE)[..., :3], axis=2)
    assert changed.any()
    assert not (changed & ~EDIT_AREA).any()  # every changed pixel is inside the mask
    (body,) = bodies(emulator)
    params = body["inPaintingParams"]
    assert set(body) == {"taskType", "inPaintingParams", "imageGenerationConfig"}
    assert body["taskType"] == "INPAINTING"
    assert body["imageGenerationConfig"] == {"numberOfImages": 1, "seed": 5}
    assert set(params) == {"text", "image", "maskImage"}
    assert params["text"] == "a blue cup"
    assert params["image"] == b64(COFFEE)
    # Titan's convention: black (0, 0, 0) marks the pixels to edit, exactly the transparent ones.
    mask = pixels(params["maskImage"])
    assert np.array_equal(mask.max(axis=2) == 0, EDIT_AREA)


async def test_edit_json_with_data_urls_makes_the_multipart_edit(
    client: openai.AsyncOpenAI, emulator: EmulatorServer
) -> None:
    await client.images.edit(
        image=("coffee.png", COFFEE, "image/png"),
        mask=("mask.png", ALPHA_EDIT, "image/png"),
        prompt="a blue cup",
        extra_body={"seed": 5},
    )
    response = await client.post(
        "/images/edits",
        body={
            "images": [{"image_url": data_url(COFFEE)}],
            "mask": {"image_url": data_url(ALPHA_EDIT)},
            "prompt": "a blue cup",
            "seed": 5,
        },
        cast_to=ImagesResponse,
    )
    assert image_size(decoded(response)[0]) == (600, 400)
    multipart, json = bodies(emulator)
    assert json == multipart


async def test_edit_of_a_transparent_image_without_mask_edits_its_transparent_pixels(
    client: openai.AsyncOpenAI, emulator: EmulatorServer
) -> None:
    response = await client.images.edit(
        image=("coffee.png", ALPHA_EDIT, "image/png"), prompt="a blue cup"
    )
    (edited,) = decoded(response)
    changed = np.any(pixels(edited)[..., :3] != pixels(COFFEE)[..., :3], axis=2)
    assert changed.any()
    assert not (changed & ~EDIT_AREA).any()
    (body,) = bodies(emulator)
    assert body["taskType"] == "INPAINTING"
    assert np.array_equal(pixels(body["inPaintingParams"]["maskImage"]).max(axis=2) == 0, EDIT_AREA)


async def test_edit_without_mask_makes_variations_of_every_image(
    client: openai.AsyncOpenAI, emulator: EmulatorServer
) -> None:
    response = await client.images.edit(
        image=[("coffee.png", COFFEE, "image/png"), ("cat.png", CHELSEA, "image/png")],
        prompt="in the style of a watercolour",
        n=2,
        size="512x512",
        extra_body={"seed": 11},
    )
    assert [image_size(image) for image in decoded(response)] == [(512, 512)] * 2
    assert bodies(emulator) == [
        {
            "taskType": "IMAGE_VARIATION",
            "imageVariationParams": {
                "text": "in the style of a watercolour",
                "images": [b64(COFFEE), b64(CHELSEA)],
            },
            "imageGenerationConfig": {
                "numberOfImages": 2,
                "width": 512,
                "height": 512,
                "seed": 11,
            },
        }
    ]


async def test_edit_size_makes_the_answer_that_size_with_a_warning(
    client: openai.AsyncOpenAI,
) -> None:
    # The edit is drawn at the input's 600x400, then cropped to 1:1 and resized.
    raw = await client.images.with_raw_response.edit(
        image=("coffee.png", COFFEE, "image/png"),
        mask=("mask.png", ALPHA_EDIT, "image/png"),
        prompt="a blue cup",
        size="1024x1024",
    )
    assert image_size(decoded(raw.parse())[0]) == (1024, 1024)
    assert raw.parse().size == "1024x1024"
    assert "it drew 600x400, and the image is cropped to 1:1" in raw.headers["warning"]


async def test_variations(client: openai.AsyncOpenAI, emulator: EmulatorServer) -> None:
    with pytest.warns(
        DeprecationWarning, match="deprecated"
    ):  # the SDK marks OpenAI's own endpoint as retired
        response = await client.images.create_variation(
            image=("coffee.png", COFFEE, "image/png"),
            n=2,
            size="512x512",
            extra_body={"seed": 3},
        )
    images = decoded(response)
    assert [image_size(image) for image in images] == [(512, 512)] * 2
    with Image.open(io.BytesIO(images[0])) as first:
        assert first.format == "PNG"
    assert bodies(emulator) == [
        {
            "taskType": "IMAGE_VARIATION",
            "imageVariationParams": {"images": [b64(COFFEE)]},
            "imageGenerationConfig": {
                "numberOfImages": 2,
                "width": 512,
                "height": 512,
                "seed": 3,
            },
        }
    ]


async def test_images_that_failed_are_counted_not_dropped_silently(
    emulator: EmulatorServer,
) -> None:
    # Titan makes five images per call: six are two calls, and the first call Bedrock gets fails.
    emulator.set_faults(schedule=[{"fault": "ThrottlingException", "times": 1}])
    async with openai_client(settings_for(emulator, max_attempts=1)) as client:
        raw = await client.images.with_raw_response.generate(
            prompt="a red fox", n=6, size="512x512"
        )
    returned = len(decoded(raw.parse()))
    failed = int(raw.headers["images-failed"])
    assert returned + failed == 6
    assert failed in (1, 5)
    assert raw.headers["warning"].count(" is missing: ") == failed
