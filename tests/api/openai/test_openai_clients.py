"""What real OpenAI clients send, through the official SDKs, against `python -m app` and the
emulator: OpenAI's sizes and free sizes, long prompts, big and WebP edit inputs, image[] with a
mask, URLs for dall-e, streaming (openai-python here, openai-node in test_openai_node.py), a
transparent background, output_compression and the answer's usage, size, quality and background.
Each test checks the images (sizes, pixels) and the bodies Bedrock (the emulator) received."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import openai
import pytest
from PIL import Image

from emulator.testing import EmulatorServer
from tests.support.gateway import data, image_size, open_gateway, pixels, settings_for
from tests.support.openai_sdk import ALPHA_EDIT, COFFEE, EDIT_AREA, openai_client

TITAN = "amazon.titan-image-generator-v1"
REMOVER = "us.stability.stable-image-remove-background-v1:0"  # called by its profile


@pytest.fixture
def client(served: str, emulator: EmulatorServer) -> Iterator[openai.OpenAI]:
    """openai-python's sync client on the served gateway, the emulator's records cleared."""
    with openai.OpenAI(base_url=f"{served}/openai/v1", api_key="x", max_retries=0) as sdk:
        yield sdk


def bodies(emulator: EmulatorServer) -> list[dict[str, Any]]:
    return [record["body"] for record in emulator.requests()]


def b64_image(b64: str | None) -> bytes:
    assert b64 is not None
    return base64.b64decode(b64)


def png(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(array).save(out, format="PNG")
    return out.getvalue()


def centre_crop_resized(raw: bytes, size: tuple[int, int]) -> np.ndarray:
    """The image cropped around its centre to `size`'s ratio and resized: what the answer has."""
    with Image.open(io.BytesIO(raw)) as image:
        width, height = image.size
        if width / height > size[0] / size[1]:
            crop = round(height * size[0] / size[1])
            box = ((width - crop) // 2, 0, (width - crop) // 2 + crop, height)
        else:
            crop = round(width * size[1] / size[0])
            box = (0, (height - crop) // 2, width, (height - crop) // 2 + crop)
        return np.asarray(image.convert("RGB").crop(box).resize(size, Image.Resampling.LANCZOS))


@pytest.mark.parametrize(
    ("size", "drawn"),
    [
        ("1536x1024", (1152, 768)),
        ("1024x1536", (768, 1152)),
        ("1792x1024", (1152, 640)),
        ("1024x1792", (768, 1408)),  # Titan has no 640x1152
        ("256x256", (512, 512)),
        ("1000x600", (1280, 768)),  # a free size: nearest ratio 5:3
        ("512x512", (512, 512)),  # one Titan draws: no resize
    ],
)
def test_openai_sizes_are_drawn_at_the_nearest_and_answered_at_the_size_asked(
    client: openai.OpenAI, served: str, emulator: EmulatorServer, size: str, drawn: tuple[int, int]
) -> None:
    asked = tuple(int(side) for side in size.split("x"))
    raw = client.images.with_raw_response.generate(
        prompt="a lighthouse",
        model="gpt-image-2",
        size=size,
        extra_body={"seed": 9},
    )
    answer = raw.parse()
    assert answer.data is not None
    image = b64_image(answer.data[0].b64_json)
    assert image_size(image) == asked
    assert answer.size == size
    (body,) = bodies(emulator)
    config = body["imageGenerationConfig"]
    assert (config["width"], config["height"]) == drawn
    if drawn == asked:
        assert "warning" not in raw.headers
        return
    assert (
        f"size {size} is not one {TITAN} draws: it drew {drawn[0]}x{drawn[1]}"
        in (raw.headers["warning"])
    )
    # The pixels are the model's image, cropped around its centre and resized.
    native = httpx.post(
        f"{served}/v1/images/text-to-image",
        json={"prompt": "a lighthouse", "seed": 9, "width": drawn[0], "height": drawn[1]},
        timeout=60,
    ).json()["images"][0]["b64_json"]
    expected = centre_crop_resized(base64.b64decode(native), asked)
    difference = np.abs(pixels(image)[..., :3].astype(int) - expected.astype(int))
    assert difference.mean() < 1.0


def test_a_long_prompt_is_shortened_at_a_word_with_a_warning(
    client: openai.OpenAI, emulator: EmulatorServer
) -> None:
    prompt = " ".join(["a lighthouse on a rocky coast at dusk, waves breaking"] * 30)  # 1,649
    raw = client.images.with_raw_response.generate(prompt=prompt, size="512x512")
    assert image_size(b64_image(raw.parse().data[0].b64_json)) == (512, 512)  # type: ignore[index]
    (body,) = bodies(emulator)
    sent = body["textToImageParams"]["text"]
    assert len(sent) <= 512
    assert prompt.startswith(sent)
    assert prompt[len(sent)] == " "  # cut between words
    assert (
        f"prompt is shortened from {len(prompt)} to {len(sent)} characters: {TITAN} takes at "
        "most 512" in raw.headers["warning"]
    )


async def test_a_long_prompt_is_refused_naming_the_limit_when_set_so_and_on_the_native_api(
    emulator: EmulatorServer,
) -> None:
    prompt = "a lighthouse " * 60
    settings = settings_for(emulator, openai_long_prompts="refuse")
    async with openai_client(settings) as sdk:
        with pytest.raises(openai.BadRequestError) as caught:
            await sdk.images.generate(prompt=prompt)
    error = caught.value.body
    assert isinstance(error, dict)
    assert error["param"] == "prompt"
    assert f"is {len(prompt)} characters; {TITAN} takes 1-512" in error["message"]
    async with open_gateway(settings_for(emulator)) as gateway:
        native = await gateway.post("/v1/images/text-to-image", json={"prompt": prompt})
    assert native.status_code == 422
    assert native.json()["errors"][0]["field"] == "prompt"
    assert emulator.requests() == []


def test_a_webp_edit_input_is_sent_as_png(client: openai.OpenAI, emulator: EmulatorServer) -> None:
    out = io.BytesIO()
    Image.open(io.BytesIO(ALPHA_EDIT)).save(out, format="WEBP", lossless=True)
    answer = client.images.edit(
        image=("coffee.webp", out.getvalue(), "image/webp"), prompt="a blue cup"
    )
    edited = b64_image(answer.data[0].b64_json)  # type: ignore[index]
    assert image_size(edited) == (600, 400)
    (body,) = bodies(emulator)
    sent = base64.b64decode(body["inPaintingParams"]["image"])
    assert sent.startswith(b"\x89PNG")
    # The WebP's pixels, lossless: the photo outside the (transparent) edit area.
    assert np.array_equal(pixels(sent)[~EDIT_AREA], pixels(COFFEE)[..., :3][~EDIT_AREA])
    mask = pixels(body["inPaintingParams"]["maskImage"])
    assert np.array_equal(mask.max(axis=2) == 0, EDIT_AREA)


def test_a_big_edit_input_is_scaled_down_and_the_answer_back_up(
    client: openai.OpenAI, emulator: EmulatorServer
) -> None:
    # A 2400x1600 photo: Titan takes at most 1408 px a side.
    big = np.asarray(Image.open(io.BytesIO(COFFEE)).resize((2400, 1600), Image.Resampling.LANCZOS))
    area = np.asarray(
        Image.fromarray(EDIT_AREA).resize((2400, 1600), Image.Resampling.NEAREST), dtype=bool
    )
    mask = np.dstack([big, np.where(area, 0, 255).astype(np.uint8)])
    raw = client.images.with_raw_response.edit(
        image=("big.png", png(big), "image/png"),
        mask=("mask.png", png(mask), "image/png"),
        prompt="a blue cup",
    )
    edited = pixels(b64_image(raw.parse().data[0].b64_json))  # type: ignore[index]
    assert edited.shape[:2] == (1600, 2400)
    # Outside the mask, the input's own pixels; inside, the edit.
    assert np.array_equal(edited[~area][:, :3], big[~area])
    assert np.any(edited[area][:, :3] != big[area])
    (body,) = bodies(emulator)
    assert image_size(body["inPaintingParams"]["image"]) == (1408, 938)
    assert image_size(body["inPaintingParams"]["maskImage"]) == (1408, 938)
    assert "image is 2400x1600: scaled to 1408x938" in raw.headers["warning"]


def test_a_mask_with_several_images_edits_the_first(
    client: openai.OpenAI, emulator: EmulatorServer
) -> None:
    raw = client.images.with_raw_response.edit(
        image=[("coffee.png", COFFEE, "image/png"), ("cat.png", data("chelsea.png"), "image/png")],
        mask=("mask.png", ALPHA_EDIT, "image/png"),
        prompt="a blue cup",
    )
    edited = pixels(b64_image(raw.parse().data[0].b64_json))  # type: ignore[index]
    changed = np.any(edited[..., :3] != pixels(COFFEE)[..., :3], axis=2)
    assert changed.any()
    assert not (changed & ~EDIT_AREA).any()
    (body,) = bodies(emulator)
    assert body["taskType"] == "INPAINTING"
    assert base64.b64decode(body["inPaintingParams"]["image"]) == COFFEE
    assert "image[1:] are not used: the mask edits the first image" in raw.headers["warning"]


def test_dall_e_answers_urls_by_default(client: openai.OpenAI, served: str) -> None:
    answer = client.images.generate(prompt="a fox", model="dall-e-3", size="512x512")
    assert answer.data is not None
    url = answer.data[0].url or ""
    assert answer.data[0].b64_json is None
    # python -m app has a result store (the embedded mode of jobs): the URL is a stored image's.
    assert url.startswith(f"{served}/v1/files/img_")
    fetched = httpx.get(url, timeout=30)
    assert fetched.headers["content-type"] == "image/png"
    assert image_size(fetched.content) == (512, 512)
    other = client.images.generate(prompt="a fox", model="gpt-image-1", size="512x512")
    assert other.data is not None
    assert other.data[0].url is None
    assert image_size(b64_image(other.data[0].b64_json)) == (512, 512)


def test_generation_streams_one_completed_event_per_image(
    client: openai.OpenAI, emulator: EmulatorServer
) -> None:
    raw = client.images.with_raw_response.generate(
        prompt="a fox", stream=True, partial_images=2, n=2, size="1536x1024", quality="high"
    )
    assert raw.headers["content-type"].startswith("text/event-stream")
    assert "partial_images=2: no partial images are sent" in raw.headers["warning"]
    events = list(raw.parse())
    assert [event.type for event in events] == ["image_generation.completed"] * 2
    for event in events:
        assert isinstance(event, openai.types.ImageGenCompletedEvent)
        assert image_size(base64.b64decode(event.b64_json)) == (1536, 1024)
        assert (event.size, event.quality, event.background, event.output_format) == (
            "1536x1024",
            "high",
            "opaque",
            "png",
        )
        assert event.usage.output_tokens == 1
    (body,) = bodies(emulator)
    assert body["imageGenerationConfig"]["numberOfImages"] == 2
    assert body["imageGenerationConfig"]["quality"] == "premium"


def test_an_edit_streams_image_edit_completed(
    client: openai.OpenAI, emulator: EmulatorServer
) -> None:
    stream = client.images.edit(
        image=("coffee.png", COFFEE, "image/png"),
        mask=("mask.png", ALPHA_EDIT, "image/png"),
        prompt="a blue cup",
        stream=True,
    )
    (event,) = list(stream)
    assert event.type == "image_edit.completed"
    edited = pixels(base64.b64decode(event.b64_json))
    changed = np.any(edited[..., :3] != pixels(COFFEE)[..., :3], axis=2)
    assert changed.any()
    assert not (changed & ~EDIT_AREA).any()
    assert event.size == "600x400"
    assert [record["model_id"] for record in emulator.requests()] == [TITAN]


def test_a_transparent_background_is_removed_by_the_registry_model(
    client: openai.OpenAI, emulator: EmulatorServer
) -> None:
    answer = client.images.generate(
        prompt="a red apple", background="transparent", size="512x512", extra_body={"seed": 3}
    )
    assert answer.background == "transparent"
    assert answer.usage is not None
    assert (answer.usage.output_tokens, answer.usage.input_tokens) == (2, 0)
    image = pixels(b64_image(answer.data[0].b64_json))  # type: ignore[index]
    assert image.shape == (512, 512, 4)
    assert image[0, 0, 3] == 0  # the background is transparent
    assert image[256, 256, 3] == 255  # the subject is not
    generation, removal = emulator.requests()
    assert generation["model_id"] == TITAN
    assert removal["model_id"] == REMOVER
    drawn = pixels(removal["body"]["image"])
    assert drawn.shape == (512, 512, 3)
    assert np.array_equal(image[..., :3][image[..., 3] == 255], drawn[image[..., 3] == 255])


def test_a_transparent_jpeg_is_refused_naming_background(
    client: openai.OpenAI, emulator: EmulatorServer
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.images.generate(prompt="an apple", background="transparent", output_format="jpeg")
    assert caught.value.param == "background"
    assert emulator.requests() == []


@pytest.mark.parametrize("fmt", ["jpeg", "webp"])
def test_output_compression_sets_the_quality(client: openai.OpenAI, fmt: str) -> None:
    sizes = []
    for level in (10, 95):
        answer = client.images.generate(  # type: ignore[call-overload]
            prompt="a fox",
            size="512x512",
            output_format=fmt,
            output_compression=level,
            extra_body={"seed": 1},
        )
        image = b64_image(answer.data[0].b64_json)
        with Image.open(io.BytesIO(image)) as opened:
            assert opened.format == fmt.upper()
            assert opened.size == (512, 512)
        sizes.append(len(image))
    assert sizes[0] < sizes[1] / 2


def test_output_compression_on_png_is_refused(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.images.generate(prompt="a fox", output_compression=50)
    assert caught.value.param == "output_compression"


def test_the_answer_says_size_quality_background_format_and_usage(client: openai.OpenAI) -> None:
    answer = client.images.generate(prompt="a fox", n=2, size="768x768", quality="hd")
    assert (answer.size, answer.quality, answer.background, answer.output_format) == (
        "768x768",
        "high",
        "opaque",
        "png",
    )
    assert answer.usage is not None
    assert answer.usage.output_tokens == answer.usage.total_tokens == 2
    assert answer.usage.input_tokens_details.image_tokens == 0


@pytest.mark.parametrize(
    ("model", "size", "sent"),
    [
        # Nova Canvas takes any size on a 16 px step: the nearest one below.
        ("nova", "1000x600", {"width": 992, "height": 592}),
        # Stability draws at aspect ratios: the nearest one.
        ("sd3.5-large", "1536x1024", {"aspect_ratio": "3:2"}),
        ("sd3.5-large", "1792x1024", {"aspect_ratio": "16:9"}),
    ],
)
def test_other_models_draw_their_nearest_size_too(
    client: openai.OpenAI, emulator: EmulatorServer, model: str, size: str, sent: dict[str, Any]
) -> None:
    answer = client.images.generate(prompt="a lighthouse", model=model, size=size)
    asked = tuple(int(side) for side in size.split("x"))
    assert image_size(b64_image(answer.data[0].b64_json)) == asked  # type: ignore[index]
    (body,) = bodies(emulator)
    config = body.get("imageGenerationConfig", body)
    assert {key: config[key] for key in sent} == sent


def test_hints_the_models_cannot_follow_are_said_so(client: openai.OpenAI) -> None:
    raw = client.images.with_raw_response.generate(
        prompt="a fox", size="512x512", style="vivid", moderation="low"
    )
    assert image_size(b64_image(raw.parse().data[0].b64_json)) == (512, 512)  # type: ignore[index]
    warning = raw.headers["warning"]
    assert "style is ignored: the Bedrock models have no such setting" in warning
    assert "moderation=low is not honoured" in warning


def test_an_image_whose_background_removal_fails_is_missing_not_opaque(
    served: str, emulator: EmulatorServer
) -> None:
    # Bedrock refuses the first removal call; the gateway retries none (a validation error).
    emulator.set_faults(
        schedule=[
            {"fault": "ValidationException", "model": REMOVER.removeprefix("us."), "times": 1}
        ]
    )
    with openai.OpenAI(base_url=f"{served}/openai/v1", api_key="x", max_retries=0) as sdk:
        raw = sdk.images.with_raw_response.generate(
            prompt="an apple", n=2, background="transparent", size="512x512"
        )
        answer = raw.parse()
        assert raw.headers["images-failed"] == "1"
        assert "its background could not be removed" in raw.headers["warning"]
        assert answer.data is not None
        (image,) = answer.data
        assert pixels(b64_image(image.b64_json))[0, 0, 3] == 0  # the one sent is transparent
        emulator.set_faults(
            schedule=[
                {"fault": "ValidationException", "model": REMOVER.removeprefix("us."), "times": 1}
            ]
        )
        with pytest.raises(openai.BadRequestError) as caught:
            sdk.images.generate(prompt="an apple", background="transparent", size="512x512")
    assert caught.value.param == "background"
    assert "The background removal failed: Malformed input request" in caught.value.message
