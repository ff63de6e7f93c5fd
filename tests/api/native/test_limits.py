"""Every limit, one step past it: a 422 naming the field, and no Bedrock call made."""

from __future__ import annotations

import io
from functools import cache
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image

from emulator.testing import EmulatorServer
from tests.support.gateway import b64, data


@cache
def png(width: int, height: int, *, noise: bool = False) -> str:
    """Base64 of an RGB PNG of that size (noise makes it incompressible, hence large)."""
    if noise:
        array = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)
    else:
        array = np.full((height, width, 3), 128, dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(array).save(out, format="PNG", compress_level=1)
    return b64(out.getvalue())


COFFEE = b64(data("coffee.png"))  # 600x400
COFFEE_MASK = b64(data("coffee-mask-black-edit.png"))
ASTRONAUT = b64(data("astronaut.png"))  # 512x512, SDXL's smallest input

T2I = "/v1/images/text-to-image"
INPAINT = "/v1/images/inpaint"
OUTPAINT = "/v1/images/outpaint"
VARIATIONS = "/v1/images/variations"
I2I = "/v1/images/image-to-image"

_TITAN_INPAINT: dict[str, Any] = {"image": COFFEE, "mask": COFFEE_MASK}
_SDXL_I2I: dict[str, Any] = {"model": "sdxl", "prompt": "a cat", "image": ASTRONAUT}

CASES: list[tuple[str, str, dict[str, Any], str]] = [
    # id, path, body, the field the answer must name
    ("no prompt", T2I, {}, "prompt"),
    ("empty prompt", T2I, {"prompt": ""}, "prompt"),
    ("n 0", T2I, {"prompt": "x", "n": 0}, "n"),
    ("n 11", T2I, {"prompt": "x", "n": 11}, "n"),
    ("unknown field", T2I, {"prompt": "x", "colour": "red"}, "colour"),
    ("unknown model", T2I, {"prompt": "x", "model": "dall-e-3"}, "model"),
    ("titan prompt 513", T2I, {"prompt": "x" * 513}, "prompt"),
    ("titan negative 513", T2I, {"prompt": "x", "negative_prompt": "x" * 513}, "negative_prompt"),
    ("titan size not allowed", T2I, {"prompt": "x", "width": 1025, "height": 1024}, "width"),
    ("titan width alone", T2I, {"prompt": "x", "width": 1024}, "height"),
    ("titan cfg 1.0", T2I, {"prompt": "x", "cfg_scale": 1.0}, "cfg_scale"),
    ("titan cfg 10.1", T2I, {"prompt": "x", "cfg_scale": 10.1}, "cfg_scale"),
    ("titan seed past max", T2I, {"prompt": "x", "seed": 2_147_483_647}, "seed"),
    ("titan quality", T2I, {"prompt": "x", "quality": "ultra"}, "quality"),
    ("titan takes no steps", T2I, {"prompt": "x", "steps": 30}, "steps"),
    ("titan takes no style", T2I, {"prompt": "x", "style_preset": "anime"}, "style_preset"),
    ("sdxl prompt 2001", T2I, {"model": "sdxl", "prompt": "x" * 2001}, "prompt"),
    ("sdxl size", T2I, {"model": "sdxl", "prompt": "x", "width": 512, "height": 512}, "width"),
    ("sdxl cfg 35.5", T2I, {"model": "sdxl", "prompt": "x", "cfg_scale": 35.5}, "cfg_scale"),
    ("sdxl steps 9", T2I, {"model": "sdxl", "prompt": "x", "steps": 9}, "steps"),
    ("sdxl steps 51", T2I, {"model": "sdxl", "prompt": "x", "steps": 51}, "steps"),
    ("sdxl seed past max", T2I, {"model": "sdxl", "prompt": "x", "seed": 4_294_967_296}, "seed"),
    ("sdxl sampler", T2I, {"model": "sdxl", "prompt": "x", "sampler": "K_FOO"}, "sampler"),
    (
        "sdxl style",
        T2I,
        {"model": "sdxl", "prompt": "x", "style_preset": "vaporwave"},
        "style_preset",
    ),
    (
        "sdxl clip",
        T2I,
        {"model": "sdxl", "prompt": "x", "clip_guidance_preset": "FAST"},
        "clip_guidance_preset",
    ),
    (
        "sdxl takes no quality",
        T2I,
        {"model": "sdxl", "prompt": "x", "quality": "premium"},
        "quality",
    ),
    ("inpaint mask and prompt", INPAINT, {**_TITAN_INPAINT, "mask_prompt": "cup"}, "mask_prompt"),
    ("inpaint neither mask", INPAINT, {"image": COFFEE}, "mask"),
    ("inpaint mask size", INPAINT, {"image": COFFEE, "mask": ASTRONAUT}, "mask"),
    ("inpaint no image", INPAINT, {"mask_prompt": "cup"}, "image"),
    ("inpaint takes no width", INPAINT, {**_TITAN_INPAINT, "width": 512}, "width"),
    (
        "mask convention",
        INPAINT,
        {**_TITAN_INPAINT, "mask_convention": "grey-is-edit"},
        "mask_convention",
    ),
    ("image not base64", INPAINT, {**_TITAN_INPAINT, "image": "not*base64"}, "image"),
    ("titan image side 1409", INPAINT, {"image": png(1409, 200), "mask_prompt": "x"}, "image"),
    (
        "titan image over 5 MB",
        INPAINT,
        {"image": png(1400, 1400, noise=True), "mask_prompt": "x"},
        "image",
    ),
    ("outpaint titan no prompt", OUTPAINT, _TITAN_INPAINT, "prompt"),
    (
        "outpaint mode",
        OUTPAINT,
        {**_TITAN_INPAINT, "prompt": "x", "outpainting_mode": "FAST"},
        "outpainting_mode",
    ),
    (
        "sdxl takes no mask prompt",
        INPAINT,
        {"model": "sdxl", "prompt": "x", "image": ASTRONAUT, "mask_prompt": "x"},
        "mask_prompt",
    ),
    (
        "sdxl inpaint needs prompt",
        INPAINT,
        {"model": "sdxl", "image": ASTRONAUT, "mask": png(512, 512)},
        "prompt",
    ),
    (
        "sdxl outpaint mode",
        OUTPAINT,
        {
            "model": "sdxl",
            "prompt": "x",
            "image": ASTRONAUT,
            "mask": png(512, 512),
            "outpainting_mode": "PRECISE",
        },
        "outpainting_mode",
    ),
    ("variations 0 images", VARIATIONS, {"images": []}, "images"),
    ("variations 6 images", VARIATIONS, {"images": [COFFEE] * 6}, "images"),
    (
        "similarity 0.19",
        VARIATIONS,
        {"images": [COFFEE], "similarity_strength": 0.19},
        "similarity_strength",
    ),
    (
        "similarity 1.01",
        VARIATIONS,
        {"images": [COFFEE], "similarity_strength": 1.01},
        "similarity_strength",
    ),
    (
        "titan variation size",
        VARIATIONS,
        {"images": [COFFEE], "width": 100, "height": 100},
        "width",
    ),
    (
        "titan takes no image_strength",
        I2I,
        {"image": COFFEE, "image_strength": 0.5},
        "image_strength",
    ),
    (
        "sdxl one image only",
        VARIATIONS,
        {"model": "sdxl", "prompt": "x", "images": [ASTRONAUT, ASTRONAUT]},
        "images",
    ),
    (
        "sdxl takes no similarity",
        I2I,
        {**_SDXL_I2I, "similarity_strength": 0.5},
        "similarity_strength",
    ),
    ("sdxl image_strength 1.01", I2I, {**_SDXL_I2I, "image_strength": 1.01}, "image_strength"),
    ("sdxl init mode", I2I, {**_SDXL_I2I, "init_image_mode": "NOISE"}, "init_image_mode"),
    ("sdxl image 262143 px", I2I, {**_SDXL_I2I, "image": png(511, 513)}, "image"),
    ("sdxl image 1049600 px", I2I, {**_SDXL_I2I, "image": png(1024, 1025)}, "image"),
]


@pytest.mark.parametrize(
    ("path", "body", "field"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
async def test_one_step_past_a_limit(
    gateway: httpx.AsyncClient,
    emulator: EmulatorServer,
    path: str,
    body: dict[str, Any],
    field: str,
) -> None:
    response = await gateway.post(path, json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422
    assert problem["type"] == "/problems/validation-error"
    assert field in [e["field"] for e in problem["errors"]], problem
    assert emulator.requests() == [], "no Bedrock call may be made for an invalid request"


async def test_every_bad_field_is_listed_in_one_answer(
    gateway: httpx.AsyncClient, emulator: EmulatorServer
) -> None:
    response = await gateway.post(
        T2I,
        json={
            "prompt": "x" * 600,
            "n": 20,
            "width": 1000,
            "height": 1000,
            "cfg_scale": 12,
            "steps": 20,
        },
    )
    assert response.status_code == 422
    fields = sorted(e["field"] for e in response.json()["errors"])
    assert fields == ["cfg_scale", "n", "prompt", "steps", "width"]
    assert emulator.requests() == []


async def test_a_field_the_model_does_not_take_names_the_fields_it_does(
    gateway: httpx.AsyncClient,
) -> None:
    response = await gateway.post(T2I, json={"prompt": "x", "sampler": "K_EULER"})
    [error] = response.json()["errors"]
    assert error["field"] == "sampler"
    assert "negative_prompt" in error["message"]
    assert "width" in error["message"]


async def test_unknown_model_names_the_models_that_fit(gateway: httpx.AsyncClient) -> None:
    response = await gateway.post(T2I, json={"prompt": "x", "model": "dall-e-3"})
    [error] = response.json()["errors"]
    assert error["field"] == "model"
    assert "amazon.titan-image-generator-v1" in error["message"]
    assert "stability.stable-diffusion-xl-v1" in error["message"]


@pytest.mark.parametrize(
    ("raw", "declared"),
    [
        (b"%PDF-1.7 not an image", "image/png"),
        (b"GIF89a\x01\x00\x01\x00", "image/gif"),
        (b"", "image/png"),
    ],
    ids=["pdf", "gif", "empty"],
)
async def test_bytes_that_are_not_an_image_we_take(
    gateway: httpx.AsyncClient, emulator: EmulatorServer, raw: bytes, declared: str
) -> None:
    """Recognised by the bytes, never by the declared type; 415 for a foreign type."""
    response = await gateway.post(
        INPAINT,
        files={
            "image": ("photo.png", raw, declared),
            "mask": ("m.png", data("coffee-mask-black-edit.png"), "image/png"),
        },
    )
    assert response.status_code in (415, 422), response.text
    assert "image" in [e["field"] for e in response.json()["errors"]]
    if raw:
        assert response.status_code == 415
    assert emulator.requests() == []


async def test_a_huge_image_is_refused_from_its_header(
    gateway: httpx.AsyncClient, emulator: EmulatorServer
) -> None:
    """A PNG header claiming 100000x100000 pixels is refused before any decode."""
    import struct
    import zlib

    def chunk(kind: bytes, payload: bytes) -> bytes:
        body = kind + payload
        return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    # A well-formed file whose few compressed bytes would inflate to 30 GB of pixels.
    bomb = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 65_536))
        + chunk(b"IEND", b"")
    )
    response = await gateway.post(INPAINT, json={"image": b64(bomb), "mask_prompt": "x"})
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "image"
    assert "pixels" in error["message"]
    assert emulator.requests() == []
