"""Nova 2 Omni through Converse: text-to-image and `edit` on the native API (JSON and multipart)
and boto3's `converse` on the Bedrock surface, asserting on the body the emulator received, on the
pixels returned, on the size asked being kept and on token usage; Converse errors mapped."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import numpy as np
import pytest
from botocore.config import Config
from PIL import Image

from emulator.testing import EmulatorServer
from tests.support.edits import Content, post
from tests.support.gateway import data, image_size, open_gateway, pixels, settings_for
from tests.support.live import GatewayServer
from tests.support.openai_sdk import openai_client

MODEL = "amazon.nova-2-omni-v1:0"
PROFILE = f"us.{MODEL}"
COFFEE = data("coffee.png")  # 600x400
ASTRONAUT = data("astronaut.png")
FOX = "a red fox in the snow"


def only_body(emulator: EmulatorServer) -> dict[str, Any]:
    """The one Converse body the emulator received, after checking where it went."""
    [record] = emulator.requests()
    assert record["model_id"] == PROFILE
    body: dict[str, Any] = record["body"]
    return body


def decoded(b64: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(b64))).convert("RGB"))


async def test_text_to_image_asks_the_size_in_the_prompt_and_keeps_it(
    gateway: httpx.AsyncClient, emulator: EmulatorServer
) -> None:
    response = await gateway.post(
        "/v1/images/text-to-image",
        json={
            "model": "nova-2-omni",
            "prompt": "a red fox in the snow",
            "width": 1200,
            "height": 800,
        },
    )
    assert response.status_code == 200, response.text
    assert only_body(emulator) == {
        "messages": [
            {
                "role": "user",
                "content": [{"text": f"{FOX}\n\nOutput size 1200x800 pixels, aspect ratio 3:2."}],
            }
        ]
    }
    [image] = response.json()["images"]
    # The emulator draws 1216x832 for 3:2; the answer is cropped and resized to what was asked.
    assert image_size(image["b64_json"]) == (1200, 800)
    assert image["seed"] is None
    assert response.json()["applied"] == {"fit": "centre-cropped and resized to 1200x800"}
    assert response.headers["token-usage"] == "input=18, output=1291, total=1309"
    assert response.headers["served-model"] == MODEL


async def test_n_images_are_n_calls_and_their_tokens_add_up(
    gateway: httpx.AsyncClient, emulator: EmulatorServer
) -> None:
    response = await gateway.post(
        "/v1/images/text-to-image",
        json={"model": "nova-2-omni", "prompt": "a fox", "aspect_ratio": "16:9", "n": 2},
    )
    assert response.status_code == 200, response.text
    images = response.json()["images"]
    assert [image_size(i["b64_json"]) for i in images] == [(1344, 756), (1344, 756)]
    assert len(emulator.requests()) == 2
    assert response.headers["token-usage"] == "input=14, output=2634, total=2648"


@pytest.mark.parametrize("content", ["json", "multipart"])
async def test_edit_sends_the_images_and_the_instruction(
    gateway: httpx.AsyncClient, emulator: EmulatorServer, content: Content
) -> None:
    fields = {"model": MODEL, "images": [COFFEE], "prompt": "remove the cup from the table"}
    response = await post(gateway, "edit", content, fields)
    assert response.status_code == 200, response.text
    body = only_body(emulator)
    [message] = body["messages"]
    assert message["content"] == [
        {"image": {"format": "png", "source": {"bytes": base64.b64encode(COFFEE).decode()}}},
        {"text": "remove the cup from the table"},
    ]
    [image] = response.json()["images"]
    edited, source = decoded(image["b64_json"]), pixels(COFFEE)
    assert edited.shape == (*source.shape[:2], 3)
    changed = np.any(edited != source[..., :3], axis=2).mean()
    assert 0.03 < changed < 0.6  # a region repainted, the rest kept
    assert response.json()["applied"] == {}
    assert response.headers["token-usage"].startswith("input=1008, ")


async def test_edit_of_several_images_cropped_to_the_ratio_asked(
    gateway: httpx.AsyncClient, emulator: EmulatorServer
) -> None:
    fields = {
        "images": [COFFEE, ASTRONAUT],
        "prompt": "put the astronaut at the table",
        "aspect_ratio": "1:1",
    }
    response = await post(gateway, "edit", "multipart", fields)
    assert response.status_code == 200, response.text
    content = only_body(emulator)["messages"][0]["content"]
    assert [next(iter(block)) for block in content] == ["image", "image", "text"]
    assert content[2]["text"] == "put the astronaut at the table\n\nAspect ratio 1:1."
    [image] = response.json()["images"]
    assert image_size(image["b64_json"]) == (400, 400)
    assert response.json()["applied"] == {"fit": "centre-cropped to 1:1"}


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"prompt": "a fox", "seed": 3}, "seed"),
        ({"prompt": "a fox", "width": 1200}, "height"),
        ({"prompt": "a fox", "width": 9000, "height": 800}, "width"),
    ],
)
async def test_what_it_does_not_take_is_named(
    gateway: httpx.AsyncClient, emulator: EmulatorServer, fields: dict[str, Any], field: str
) -> None:
    response = await gateway.post("/v1/images/text-to-image", json={"model": MODEL, **fields})
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]
    assert emulator.requests() == []


async def test_a_configured_image_limit_holds(emulator: EmulatorServer) -> None:
    settings = settings_for(emulator, models=[{"id": MODEL, "limits": {"max_images": 1}}])
    async with open_gateway(settings) as gateway:
        response = await post(
            gateway, "edit", "json", {"images": [COFFEE, COFFEE], "prompt": "merge them"}
        )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["images"]
    assert emulator.requests() == []


async def test_throttling_maps_as_for_invoke(
    gateway: httpx.AsyncClient, emulator: EmulatorServer
) -> None:
    emulator.set_faults(schedule=[{"fault": "ThrottlingException"}] * 5)
    response = await gateway.post(
        "/v1/images/text-to-image", json={"model": MODEL, "prompt": "a fox"}
    )
    assert response.status_code == 429, response.text
    assert response.json()["type"] == "/problems/upstream-throttled"


# The Bedrock surface: boto3's converse against the gateway.


@pytest.fixture(scope="module")
def live(emulator_server: EmulatorServer) -> Iterator[GatewayServer]:
    with GatewayServer(settings_for(emulator_server, max_attempts=1)) as server:
        yield server


@pytest.fixture
def runtime(live: GatewayServer, bedrock_env: EmulatorServer) -> Iterator[Any]:
    client = boto3.client(
        "bedrock-runtime",
        endpoint_url=live.url,
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}, read_timeout=60),
    )
    yield client
    client.close()


def test_boto3_converse_through_the_gateway(runtime: Any, emulator: EmulatorServer) -> None:
    messages = [{"role": "user", "content": [{"text": "a lighthouse, aspect ratio 16:9"}]}]
    response = runtime.converse(
        modelId=PROFILE, messages=messages, inferenceConfig={"temperature": 0.5}
    )
    [block] = [b for b in response["output"]["message"]["content"] if "image" in b]
    drawn = np.asarray(Image.open(io.BytesIO(block["image"]["source"]["bytes"])))
    assert drawn.shape[:2] == (768, 1344)
    assert response["usage"]["totalTokens"] == response["usage"]["inputTokens"] + 1317
    assert only_body(emulator) == {
        "messages": [{"role": "user", "content": [{"text": "a lighthouse, aspect ratio 16:9"}]}],
        "inferenceConfig": {"temperature": 0.5},
    }


def test_boto3_converse_edit_through_the_gateway(runtime: Any, emulator: EmulatorServer) -> None:
    messages = [
        {
            "role": "user",
            "content": [
                {"image": {"format": "png", "source": {"bytes": COFFEE}}},
                {"text": "remove the cup"},
            ],
        }
    ]
    response = runtime.converse(modelId=PROFILE, messages=messages)
    [block] = [b for b in response["output"]["message"]["content"] if "image" in b]
    edited = np.asarray(Image.open(io.BytesIO(block["image"]["source"]["bytes"])).convert("RGB"))
    assert edited.shape == pixels(COFFEE)[..., :3].shape
    assert np.any(edited != pixels(COFFEE)[..., :3])
    sent = only_body(emulator)["messages"][0]["content"][0]["image"]["source"]["bytes"]
    assert base64.b64decode(sent) == COFFEE


def test_boto3_converse_errors(runtime: Any, emulator: EmulatorServer) -> None:
    bad = [{"role": "user", "content": [{"image": {"format": "png", "source": {"bytes": b"x"}}}]}]
    with pytest.raises(runtime.exceptions.ValidationException) as info:
        runtime.converse(modelId=PROFILE, messages=bad)
    message = info.value.response["Error"]["Message"]
    assert "#/messages/0/content/0" in message
    assert "#/messages/0/content: " in message  # no text: the instruction is required
    assert emulator.requests() == []
    with pytest.raises(runtime.exceptions.ValidationException) as info:
        runtime.converse(
            modelId="amazon.titan-image-generator-v1",
            messages=[{"role": "user", "content": [{"text": "x"}]}],
        )
    assert "is called with InvokeModel, not Converse" in str(info.value)
    emulator.set_faults(schedule=[{"fault": "ThrottlingException"}])
    with pytest.raises(runtime.exceptions.ThrottlingException):
        runtime.converse(modelId=PROFILE, messages=[{"role": "user", "content": [{"text": "x"}]}])


async def test_openai_edits_without_a_mask(emulator: EmulatorServer) -> None:
    instruction = "remove the cup from the table"
    async with openai_client(settings_for(emulator)) as client:
        response = await client.images.edit(
            image=("coffee.png", COFFEE, "image/png"),
            prompt=instruction,
            model="nova-2-omni",
            size="1024x1024",
            response_format="b64_json",
        )
    assert response.data is not None
    [image] = response.data
    assert image.b64_json is not None
    assert image_size(image.b64_json) == (1024, 1024)
    content = only_body(emulator)["messages"][0]["content"]
    assert content == [
        {"image": {"format": "png", "source": {"bytes": base64.b64encode(COFFEE).decode()}}},
        {"text": f"{instruction}\n\nOutput size 1024x1024 pixels, aspect ratio 1:1."},
    ]
