"""The boto3 calls of the project's two source documents, made as they make them.

Each test builds the same body and calls `boto3.client(service_name='bedrock-runtime')` and
`invoke_model(body=..., modelId=..., accept=..., contentType=...)` as the examples do, with only
the input image paths changed and the endpoint and dummy credentials in the environment.
"""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import boto3
from PIL import Image, ImageDraw

from emulator.testing import EmulatorServer
from tests.support.files import DATA

IMAGE_PATH = DATA / "astronaut.png"  # 512x512, the size the Titan examples ask for


def read_b64(path: Any) -> str:
    with open(path, "rb") as handle:
        return base64.b64encode(handle.read()).decode("utf8")


def titan_image(model_id: str, body: str) -> Image.Image:
    """Call Titan and decode the first image the way the examples do."""
    bedrock = boto3.client(service_name="bedrock-runtime")
    try:
        response = bedrock.invoke_model(
            body=body, modelId=model_id, accept="application/json", contentType="application/json"
        )
        response_body = json.loads(response.get("body").read())
    finally:
        bedrock.close()
    assert response_body.get("error") is None
    image_bytes = base64.b64decode(response_body.get("images")[0].encode("ascii"))
    return Image.open(io.BytesIO(image_bytes))


TITAN = "amazon.titan-image-generator-v1"


def test_titan_text_to_image(bedrock_env: EmulatorServer) -> None:
    body = json.dumps(
        {
            "taskType": "TEXT_IMAGE",
            "textToImageParams": {"text": "A photograph of a cup of coffee from the side."},
            "imageGenerationConfig": {
                "numberOfImages": 1,
                "height": 1024,
                "width": 1024,
                "cfgScale": 8.0,
                "seed": 0,
            },
        }
    )
    assert titan_image(TITAN, body).size == (1024, 1024)


def test_titan_inpainting(bedrock_env: EmulatorServer) -> None:
    body = json.dumps(
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
    assert titan_image(TITAN, body).size == (512, 512)


def test_titan_outpainting(bedrock_env: EmulatorServer, tmp_path: Any) -> None:
    mask_path = tmp_path / "mask.png"
    mask = Image.new("RGB", (512, 512), (255, 255, 255))
    ImageDraw.Draw(mask).rectangle((128, 96, 383, 415), fill=(0, 0, 0))  # keep the portrait
    mask.save(mask_path)
    body = json.dumps(
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
    assert titan_image(TITAN, body).size == (512, 512)


def test_titan_image_variation(bedrock_env: EmulatorServer) -> None:
    body = json.dumps(
        {
            "taskType": "IMAGE_VARIATION",
            "imageVariationParams": {
                "text": "Modernize the house, photo-realistic, 8k, hdr",
                "negativeText": "bad quality, low resolution, cartoon",
                "images": [read_b64(IMAGE_PATH)],
                "similarityStrength": 0.7,
            },
            "imageGenerationConfig": {
                "numberOfImages": 1,
                "height": 512,
                "width": 512,
                "cfgScale": 8.0,
            },
        }
    )
    assert titan_image(TITAN, body).size == (512, 512)


def test_sdxl_image_to_image(bedrock_env: EmulatorServer) -> None:
    body = json.dumps(
        {
            "text_prompts": [{"text": "A space ship."}],
            "init_image": read_b64(IMAGE_PATH),
            "style_preset": "isometric",
        }
    )
    bedrock = boto3.client(service_name="bedrock-runtime")
    try:
        response = bedrock.invoke_model(
            body=body,
            modelId="stability.stable-diffusion-xl-v1",
            accept="application/json",
            contentType="application/json",
        )
        response_body = json.loads(response.get("body").read())
    finally:
        bedrock.close()
    assert response_body["result"] == "success"
    first = response_body.get("artifacts")[0]
    assert first.get("finishReason") not in ("ERROR", "CONTENT_FILTERED")
    image = Image.open(io.BytesIO(base64.b64decode(first.get("base64").encode("ascii"))))
    assert image.size == (512, 512)  # image-to-image keeps the input's size
