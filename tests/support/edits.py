"""Edit requests to the native API and what they answer: the test images, building a body in
either content type (JSON with base64, or multipart with file parts), and reading the images,
bodies and pixels that came back."""

from __future__ import annotations

import io
from typing import Any, Literal

import httpx
import numpy as np
from PIL import Image

from emulator.testing import EmulatorServer
from tests.support.gateway import b64, data, pixels

Content = Literal["json", "multipart"]
CONTENTS: tuple[Content, ...] = ("json", "multipart")
TITAN_ID = "amazon.titan-image-generator-v1"
SDXL_ID = "stability.stable-diffusion-xl-v1"

COFFEE = data("coffee.png")
BLACK_EDIT = data("coffee-mask-black-edit.png")
WHITE_EDIT = data("coffee-mask-white-edit.png")
ALPHA_EDIT = data("coffee-mask-alpha-edit.png")
ASTRONAUT = data("astronaut.png")
CHELSEA = data("chelsea.png")
ROCKET = data("rocket.jpg")
# SDXL takes 262,144 to 1,048,576 pixels: coffee.png is too small, its 1216x832 copy fits.
SDXL_SIZE = (1216, 832)
SDXL_COFFEE = data("coffee-1216x832.png")


def nearest(raw: bytes, size: tuple[int, int]) -> bytes:
    """A PNG of `raw` resized with nearest-neighbour, so a binary mask stays binary."""
    with Image.open(io.BytesIO(raw)) as image:
        resized = image.resize(size, Image.Resampling.NEAREST)
    out = io.BytesIO()
    resized.save(out, format="PNG")
    return out.getvalue()


SDXL_BLACK_EDIT = nearest(BLACK_EDIT, SDXL_SIZE)
SDXL_WHITE_EDIT = nearest(WHITE_EDIT, SDXL_SIZE)
SDXL_ALPHA_EDIT = nearest(ALPHA_EDIT, SDXL_SIZE)


def region(mask: bytes | str) -> np.ndarray:
    """The black pixels of a black-and-white mask (bytes or base64), as a bool HxW array."""
    values = pixels(mask)
    return np.asarray(values[..., :3].max(axis=2) < 128)


def mad(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two same-size RGB images."""
    return float(np.abs(a[..., :3].astype(np.int16) - b[..., :3].astype(np.int16)).mean())


def _json_value(name: str, value: Any) -> Any:
    if isinstance(value, bytes):
        return b64(value)
    if name == "images":
        return [b64(v) if isinstance(v, bytes) else v for v in value]
    return value


async def post(
    gateway: httpx.AsyncClient, task: str, content: Content, fields: dict[str, Any]
) -> httpx.Response:
    """POST `fields` to /v1/images/`task`; image bytes go base64 (JSON) or as file parts.

    `images` is a list of image bytes: repeated `images` parts in multipart.
    """
    path = f"/v1/images/{task}"
    if content == "json":
        return await gateway.post(path, json={k: _json_value(k, v) for k, v in fields.items()})
    form: dict[str, str] = {}
    files: list[tuple[str, tuple[str, bytes, str]]] = []
    for name, value in fields.items():
        if isinstance(value, bytes):
            files.append((name, (f"{name}.bin", value, "application/octet-stream")))
        elif name == "images":
            files += [
                ("images", (f"{i}.bin", v, "application/octet-stream")) for i, v in enumerate(value)
            ]
        else:
            form[name] = str(value)
    return await gateway.post(path, data=form, files=files)


def answer_images(response: httpx.Response, count: int) -> list[dict[str, Any]]:
    """The answer's images, after checking it is a 200 with `count` produced PNGs."""
    assert response.status_code == 200, response.text
    images: list[dict[str, Any]] = response.json()["images"]
    assert len(images) == count
    for image in images:
        assert image["finish_reason"] == "success"
        assert image["mime_type"] == "image/png"
    return images


def bodies(emulator: EmulatorServer, model_id: str) -> list[dict[str, Any]]:
    """The bodies the emulator received, all for `model_id`, in seed order (calls run at once)."""
    records = emulator.requests()
    assert [r["model_id"] for r in records] == [model_id] * len(records)
    found = [r["body"] for r in records]
    return sorted(
        found, key=lambda b: b.get("seed", b.get("imageGenerationConfig", {}).get("seed"))
    )


def assert_edited_inside_only(
    result: str, source: bytes, inside: np.ndarray, *, min_change: float = 10.0
) -> None:
    """Outside `inside`, the result is the source exactly; inside, it is clearly different."""
    out, original = pixels(result), pixels(source)
    assert out.shape == original.shape
    np.testing.assert_array_equal(out[~inside], original[~inside])
    assert mad(out[inside], original[inside]) > min_change
