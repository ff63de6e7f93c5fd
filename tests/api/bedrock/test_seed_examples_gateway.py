"""The five boto3 examples of the project's two source documents, sent to the gateway three ways.

Each example builds its body and calls `boto3.client(service_name='bedrock-runtime')` and
`invoke_model(body=..., modelId=..., accept=..., contentType=...)` as AWS's examples do; only the
image paths differ, and the environment gives the gateway's URL and dummy credentials.

1. The emulator treats the seeds' models as retired and the replacement map is on (set from the
   environment, with the value docs/migration.md gives): live models serve them, at the sizes the
   examples expect.
2. Retired, map off: each call fails with the 410 that names the successors and the setting.
3. Not retired, map off: the original models serve them.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from PIL import Image

from emulator.testing import EmulatorServer
from tests.support.files import DATA
from tests.support.gateway import settings_for
from tests.support.live import GatewayServer

TITAN = "amazon.titan-image-generator-v1"
SDXL = "stability.stable-diffusion-xl-v1"
SEEDS_MAP = '{"amazon.titan-image-generator-v1": {}, "stability.stable-diffusion-xl-v1": {}}'
IMAGE_PATH = DATA / "astronaut.png"  # 512x512, the size the Titan examples ask for


def read_b64(path: Path) -> str:
    with open(path, "rb") as image_file:
        return base64.b64encode(image_file.read()).decode("utf8")


def titan_text_image(_: Path) -> str:
    prompt = """A photograph of a cup of coffee from the side."""
    return json.dumps(
        {
            "taskType": "TEXT_IMAGE",
            "textToImageParams": {"text": prompt},
            "imageGenerationConfig": {
                "numberOfImages": 1,
                "height": 1024,
                "width": 1024,
                "cfgScale": 8.0,
                "seed": 0,
            },
        }
    )


def titan_inpainting(_: Path) -> str:
    return json.dumps(
        {
            "taskType": "INPAINTING",
            "inPaintingParams": {
                "text": "Modernize the windows of the house",
                "negativeText": "bad quality, low res",
                "image": read_b64(IMAGE_PATH),
                "maskPrompt": "windows",
            },
            "imageGenerationConfig": {
                "numberOfImages": 1,
                "height": 512,
                "width": 512,
                "cfgScale": 8.0,
            },
        }
    )


def titan_outpainting(tmp: Path) -> str:
    mask_path = tmp / "mask.png"
    mask = Image.new("RGB", (512, 512), (255, 255, 255))
    mask.paste((0, 0, 0), (128, 96, 384, 416))  # Titan's black: the portrait is kept
    mask.save(mask_path)
    return json.dumps(
        {
            "taskType": "OUTPAINTING",
            "outPaintingParams": {
                "text": "Draw a chocolate chip cookie",
                "negativeText": "bad quality, low res",
                "image": read_b64(IMAGE_PATH),
                "maskImage": read_b64(mask_path),
                "outPaintingMode": "DEFAULT",
            },
            "imageGenerationConfig": {
                "numberOfImages": 1,
                "height": 512,
                "width": 512,
                "cfgScale": 8.0,
            },
        }
    )


def titan_image_variation(_: Path) -> str:
    return json.dumps(
        {
            "taskType": "IMAGE_VARIATION",
            "imageVariationParams": {
                "text": "Modernize the house, photo-realistic, 8k, hdr",
                "negativeText": "bad quality, low resolution, cartoon",
                "images": [read_b64(IMAGE_PATH)],
                "similarityStrength": 0.7,  # Range: 0.2 to 1.0
            },
            "imageGenerationConfig": {
                "numberOfImages": 1,
                "height": 512,
                "width": 512,
                "cfgScale": 8.0,
            },
        }
    )


def sdxl_image_to_image(_: Path) -> str:
    prompt = """A space ship."""
    return json.dumps(
        {
            "text_prompts": [{"text": prompt}],
            "init_image": read_b64(IMAGE_PATH),
            "style_preset": "isometric",
        }
    )


def generate_image(model_id: str, body: str) -> bytes:
    """The examples' call and reading of the answer (Titan: images[0]; SDXL: artifacts[0])."""
    bedrock = boto3.client(service_name="bedrock-runtime")
    try:
        accept = "application/json"
        content_type = "application/json"
        response = bedrock.invoke_model(
            body=body, modelId=model_id, accept=accept, contentType=content_type
        )
        response_body = json.loads(response.get("body").read())
    finally:
        bedrock.close()
    if model_id == SDXL:
        assert response_body["result"] == "success"
        artifact = response_body.get("artifacts")[0]
        assert artifact.get("finishReason") not in ("ERROR", "CONTENT_FILTERED")
        base64_image = artifact.get("base64")
    else:
        base64_image = response_body.get("images")[0]
        assert response_body.get("error") is None
    return base64.b64decode(base64_image.encode("ascii"))


# name -> (model id, body builder, the size of the image the example gets)
EXAMPLES: dict[str, tuple[str, Callable[[Path], str], tuple[int, int]]] = {
    "titan-text-image": (TITAN, titan_text_image, (1024, 1024)),
    "titan-inpainting": (TITAN, titan_inpainting, (512, 512)),
    "titan-outpainting": (TITAN, titan_outpainting, (512, 512)),
    "titan-image-variation": (TITAN, titan_image_variation, (512, 512)),
    "sdxl-image-to-image": (SDXL, sdxl_image_to_image, (512, 512)),
}
# What serves each example with the map on.
SUCCESSORS = {
    "titan-text-image": "stability.sd3-5-large-v1:0",
    "titan-inpainting": "stability.stable-image-search-replace-v1:0",
    "titan-outpainting": "stability.stable-outpaint-v1:0",
    "titan-image-variation": "stability.sd3-5-large-v1:0",
    "sdxl-image-to-image": "stability.sd3-5-large-v1:0",
}


CALLER_KEY = "gw-example-key"


@pytest.fixture
def examples_env(
    bedrock_env: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[bool, bool], EmulatorServer]]:
    """Starts the gateway (retired: the emulator ends the seeds' models; mapped: docs/migration.md's
    GATEWAY_REPLACEMENTS in the environment) and points the examples' clients at it."""
    servers: list[GatewayServer] = []

    def start(retired: bool, mapped: bool) -> EmulatorServer:
        if retired:
            bedrock_env.set_retired([TITAN, SDXL])
        if mapped:
            monkeypatch.setenv("GATEWAY_REPLACEMENTS", SEEDS_MAP)
        server = GatewayServer(settings_for(bedrock_env)).start()
        servers.append(server)
        # The endpoint and the key in the environment, nothing else: boto3 sends the key as a
        # bearer token, as it does to Bedrock.
        monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", server.url)
        monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", CALLER_KEY)
        return bedrock_env

    yield start
    for server in servers:
        server.stop()


@pytest.mark.parametrize("name", EXAMPLES)
def test_retired_and_mapped_live_models_serve_them(
    examples_env: Callable[[bool, bool], EmulatorServer], name: str, tmp_path: Path
) -> None:
    emulator = examples_env(True, True)
    model_id, body, size = EXAMPLES[name]
    image = Image.open(io.BytesIO(generate_image(model_id, body(tmp_path))))
    assert image.size == size
    [record] = emulator.requests()
    assert record["resolved_model_id"] == SUCCESSORS[name]
    # The caller's key stays with the gateway: Bedrock gets the gateway's own signature.
    assert record["headers"]["authorization"].startswith("AWS4-HMAC-SHA256 ")
    assert CALLER_KEY not in str(record["headers"])


@pytest.mark.parametrize("name", EXAMPLES)
def test_retired_and_not_mapped_is_a_410_naming_successors_and_the_setting(
    examples_env: Callable[[bool, bool], EmulatorServer], name: str, tmp_path: Path
) -> None:
    emulator = examples_env(True, False)
    model_id, body, _ = EXAMPLES[name]
    with pytest.raises(ClientError) as raised:
        generate_image(model_id, body(tmp_path))
    error: Any = raised.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 410
    assert error["Error"]["Code"] == "ResourceNotFoundException"
    message = error["Error"]["Message"]
    assert "sd3.5-large (stability.sd3-5-large-v1:0)" in message
    assert f'GATEWAY_REPLACEMENTS={{"{model_id}":{{}}}}' in message
    assert [r["resolved_model_id"] for r in emulator.requests()] == [model_id]


@pytest.mark.parametrize("name", EXAMPLES)
def test_not_retired_the_original_models_serve_them(
    examples_env: Callable[[bool, bool], EmulatorServer], name: str, tmp_path: Path
) -> None:
    emulator = examples_env(False, False)
    model_id, body, size = EXAMPLES[name]
    sent = body(tmp_path)
    image = Image.open(io.BytesIO(generate_image(model_id, sent)))
    assert image.size == size
    [record] = emulator.requests()
    assert record["resolved_model_id"] == model_id
    assert record["body"] == json.loads(sent)
