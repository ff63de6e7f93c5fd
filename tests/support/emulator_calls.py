"""Helpers for the emulator's tests: encode inputs, call the emulator, decode its images."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import numpy as np
from PIL import Image

from tests.support.files import DATA

TITAN_V1 = "amazon.titan-image-generator-v1"
TITAN_V2 = "amazon.titan-image-generator-v2:0"
NOVA = "amazon.nova-canvas-v1:0"
SDXL = "stability.stable-diffusion-xl-v1"


def file_b64(name: str) -> str:
    """A file of tests/data as base64."""
    return base64.b64encode((DATA / name).read_bytes()).decode("ascii")


def pixels_b64(pixels: np.ndarray, fmt: str = "PNG") -> str:
    """uint8 pixels (H, W), (H, W, 3) or (H, W, 4) as a base64 PNG (or JPEG)."""
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format=fmt)
    return base64.b64encode(out.getvalue()).decode("ascii")


def file_pixels(name: str) -> np.ndarray:
    """A file of tests/data as uint8 pixels, in its own mode."""
    with Image.open(DATA / name) as image:
        return np.asarray(image).copy()


def decode(data: str) -> np.ndarray:
    """A base64 image from an answer as uint8 pixels, in its own mode."""
    with Image.open(io.BytesIO(base64.b64decode(data))) as image:
        return np.asarray(image).copy()


def invoke(client: Any, model_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """invoke_model with a JSON body; the parsed answer."""
    response = client.invoke_model(modelId=model_id, body=json.dumps(body))
    answer: dict[str, Any] = json.loads(response["body"].read())
    return answer


def mean_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two same-size images."""
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def titan_t2i(text: str = "a lighthouse at dusk", **config: Any) -> dict[str, Any]:
    """A Titan TEXT_IMAGE body."""
    return {
        "taskType": "TEXT_IMAGE",
        "textToImageParams": {"text": text},
        "imageGenerationConfig": {"width": 512, "height": 512, **config},
    }
