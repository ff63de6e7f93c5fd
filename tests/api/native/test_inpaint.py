"""POST /v1/images/inpaint: Titan INPAINTING and SDXL masking, from JSON and multipart bodies.

The helpers at the top are shared by the other edit-endpoint tests (outpaint, variations,
image-to-image, masks): building a body in either content type, and reading what came back.
"""

from __future__ import annotations

import io
from typing import Any, Literal

import httpx
import numpy as np
import pytest
from PIL import Image

from emulator.testing import EmulatorServer
from tests.support.gateway import b64, data, image_size, pixels

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


def assert_problem(response: httpx.Response, emulator: EmulatorServer, *fields: str) -> None:
    """A 422 problem naming exactly `fields`, and no Bedrock call made."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert sorted(e["field"] for e in response.json()["errors"]) == sorted(fields)
    assert emulator.requests() == []


def assert_edited_inside_only(
    result: str, source: bytes, inside: np.ndarray, *, min_change: float = 10.0
) -> None:
    """Outside `inside`, the result is the source exactly; inside, it is clearly different."""
    out, original = pixels(result), pixels(source)
    assert out.shape == original.shape
    np.testing.assert_array_equal(out[~inside], original[~inside])
    assert mad(out[inside], original[inside]) > min_change


class TestInpaint:
    @pytest.mark.parametrize("content", CONTENTS)
    async def test_titan_mask_image(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer, content: Content
    ) -> None:
        fields = {
            "model": "titan",
            "prompt": "latte art in the shape of a heart",
            "negative_prompt": "spilled coffee",
            "n": 2,
            "seed": 42,
            "cfg_scale": 7.5,
            "image": COFFEE,
            "mask": BLACK_EDIT,
        }
        images = answer_images(await post(gateway, "inpaint", content, fields), 2)

        [body] = bodies(emulator, TITAN_ID)
        mask = body["inPaintingParams"]["maskImage"]
        np.testing.assert_array_equal(pixels(mask), pixels(BLACK_EDIT))
        assert body == {
            "taskType": "INPAINTING",
            "inPaintingParams": {
                "text": "latte art in the shape of a heart",
                "negativeText": "spilled coffee",
                "image": b64(COFFEE),
                "maskImage": mask,
            },
            "imageGenerationConfig": {"numberOfImages": 2, "cfgScale": 7.5, "seed": 42},
        }
        assert [i["seed"] for i in images] == [42, 42]
        for image in images:
            assert image_size(image["b64_json"]) == (600, 400)
            assert_edited_inside_only(image["b64_json"], COFFEE, region(BLACK_EDIT))
        assert images[0]["b64_json"] != images[1]["b64_json"]

    @pytest.mark.parametrize("content", CONTENTS)
    async def test_sdxl_one_call_per_image(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer, content: Content
    ) -> None:
        fields = {
            "model": "sdxl",
            "prompt": "latte art in the shape of a heart",
            "negative_prompt": "spilled coffee",
            "n": 2,
            "seed": 42,
            "image": SDXL_COFFEE,
            "mask": SDXL_BLACK_EDIT,
        }
        images = answer_images(await post(gateway, "inpaint", content, fields), 2)

        received = bodies(emulator, SDXL_ID)
        assert len(received) == 2
        for seed, body in zip((42, 43), received, strict=True):
            mask = body["mask_image"]
            np.testing.assert_array_equal(pixels(mask), pixels(SDXL_WHITE_EDIT))
            assert body == {
                "text_prompts": [
                    {"text": "latte art in the shape of a heart"},
                    {"text": "spilled coffee", "weight": -1.0},
                ],
                "init_image": b64(SDXL_COFFEE),
                "mask_source": "MASK_IMAGE_WHITE",
                "mask_image": mask,
                "seed": seed,
            }
        assert [i["seed"] for i in images] == [42, 43]
        for image in images:
            assert image_size(image["b64_json"]) == SDXL_SIZE
            assert_edited_inside_only(image["b64_json"], SDXL_COFFEE, region(SDXL_BLACK_EDIT))

    @pytest.mark.parametrize("content", CONTENTS)
    async def test_titan_mask_prompt(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer, content: Content
    ) -> None:
        fields = {"model": "titan", "image": COFFEE, "mask_prompt": "the cup", "seed": 5}
        [image] = answer_images(await post(gateway, "inpaint", content, fields), 1)

        # No prompt: Titan turns the masked area into background, so no text is sent.
        assert bodies(emulator, TITAN_ID) == [
            {
                "taskType": "INPAINTING",
                "inPaintingParams": {"image": b64(COFFEE), "maskPrompt": "the cup"},
                "imageGenerationConfig": {"numberOfImages": 1, "seed": 5},
            }
        ]
        assert image["seed"] == 5
        assert image_size(image["b64_json"]) == (600, 400)
        assert mad(pixels(image["b64_json"]), pixels(COFFEE)) > 0

    async def test_titan_seven_images_are_two_calls(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        fields = {"model": "titan", "n": 7, "seed": 100, "image": COFFEE, "mask": BLACK_EDIT}
        images = answer_images(await post(gateway, "inpaint", "json", fields), 7)

        received = bodies(emulator, TITAN_ID)
        assert [b["imageGenerationConfig"] for b in received] == [
            {"numberOfImages": 5, "seed": 100},
            {"numberOfImages": 2, "seed": 101},
        ]
        assert received[0]["inPaintingParams"] == received[1]["inPaintingParams"]
        # Each image reports the seed of the call that drew it.
        assert [i["seed"] for i in images] == [100] * 5 + [101] * 2
        assert len({i["b64_json"] for i in images}) == 7
        for image in images:
            assert_edited_inside_only(image["b64_json"], COFFEE, region(BLACK_EDIT))

    @pytest.mark.parametrize("model", ["titan", "sdxl"])
    async def test_gateway_picks_and_reports_seeds(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer, model: str
    ) -> None:
        image, mask = (COFFEE, BLACK_EDIT) if model == "titan" else (SDXL_COFFEE, SDXL_BLACK_EDIT)
        fields = {"model": model, "prompt": "foam", "n": 2, "image": image, "mask": mask}
        images = answer_images(await post(gateway, "inpaint", "json", fields), 2)

        received = bodies(emulator, TITAN_ID if model == "titan" else SDXL_ID)
        if model == "titan":
            [body] = received
            assert [i["seed"] for i in images] == [body["imageGenerationConfig"]["seed"]] * 2
        else:
            assert sorted(i["seed"] for i in images) == [b["seed"] for b in received]
            assert len({b["seed"] for b in received}) == 2
            assert 0 not in {b["seed"] for b in received}  # 0 would mean "random" to SDXL

    async def test_data_urls_are_read_by_their_bytes(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        # The declared media type is wrong on purpose: the bytes decide.
        fields = {
            "model": "titan",
            "seed": 1,
            "image": f"data:image/jpeg;base64,{b64(COFFEE)}",
            "mask": f"data:image/png;base64,{b64(BLACK_EDIT)}",
        }
        [image] = answer_images(await gateway.post("/v1/images/inpaint", json=fields), 1)

        [body] = bodies(emulator, TITAN_ID)
        assert body["inPaintingParams"]["image"] == b64(COFFEE)
        np.testing.assert_array_equal(
            pixels(body["inPaintingParams"]["maskImage"]), pixels(BLACK_EDIT)
        )
        assert_edited_inside_only(image["b64_json"], COFFEE, region(BLACK_EDIT))

    @pytest.mark.parametrize("content", CONTENTS)
    async def test_titan_jpeg_passes_through(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer, content: Content
    ) -> None:
        with Image.open(io.BytesIO(ROCKET)) as photo:
            width, height = photo.size
        mask = np.full((height, width, 3), 255, np.uint8)
        mask[100:200, 300:400] = 0
        out = io.BytesIO()
        Image.fromarray(mask).save(out, format="PNG")
        fields = {"model": "titan", "seed": 3, "image": ROCKET, "mask": out.getvalue()}
        [image] = answer_images(await post(gateway, "inpaint", content, fields), 1)

        [body] = bodies(emulator, TITAN_ID)
        assert body["inPaintingParams"]["image"] == b64(ROCKET)
        assert image_size(image["b64_json"]) == (width, height)
        np.testing.assert_array_equal(
            region(body["inPaintingParams"]["maskImage"]), mask[..., 0] == 0
        )

    async def test_sdxl_refuses_mask_prompt(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        fields = {"model": "sdxl", "prompt": "foam", "image": SDXL_COFFEE, "mask_prompt": "the cup"}
        response = await post(gateway, "inpaint", "json", fields)
        assert_problem(response, emulator, "mask_prompt")
