"""The replacement map: retired models' requests served by live models; retired means retired.

Each translation is checked on the exact body the successor received (emulator.requests()), on the
size of the images that came back (the size the named model would have returned), and on the
headers and JSON that say what happened. The emulator treats the mapped models as retired, so any
call reaching them would fail.
"""

from __future__ import annotations

import base64
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image, ImageDraw

from app.families.registry import ModelRegistry
from app.schemas.images import FinishReason, GeneratedImage
from app.settings import Settings
from app.tasks.replacement import ReplacementError, ReplacementMap, fit
from emulator.testing import EmulatorServer
from tests.support.edits import (
    BLACK_EDIT,
    COFFEE,
    CONTENTS,
    SDXL_COFFEE,
    SDXL_WHITE_EDIT,
    Content,
    post,
    region,
)
from tests.support.gateway import b64, data, image_size, open_gateway, pixels, settings_for

TITAN = "amazon.titan-image-generator-v1"
TITAN_V2 = "amazon.titan-image-generator-v2:0"
NOVA = "amazon.nova-canvas-v1:0"
SDXL = "stability.stable-diffusion-xl-v1"
SD3_LARGE = "stability.sd3-large-v1:0"
SD35 = "stability.sd3-5-large-v1:0"
ULTRA = "stability.stable-image-ultra-v1:1"
INPAINT = "stability.stable-image-inpaint-v1:0"
OUTPAINT = "stability.stable-outpaint-v1:0"
ERASE = "stability.stable-image-erase-object-v1:0"
SEARCH_REPLACE = "stability.stable-image-search-replace-v1:0"
REMOVE_BACKGROUND = "stability.stable-image-remove-background-v1:0"
SKETCH = "stability.stable-image-control-sketch-v1:0"
STRUCTURE = "stability.stable-image-control-structure-v1:0"
RETIRED = [TITAN, TITAN_V2, NOVA, SDXL, SD3_LARGE]
ALL_MAPPED: dict[str, dict[str, str]] = {model: {} for model in RETIRED}

ASTRONAUT = data("astronaut.png")
CHELSEA = data("chelsea.png")
SDXL_DEPRECATION = f"@{int(datetime(2025, 5, 20, tzinfo=UTC).timestamp())}"


@pytest.fixture
async def served(emulator: EmulatorServer) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway with every retired model mapped to its built-in successors."""
    emulator.set_retired(RETIRED)
    async with open_gateway(settings_for(emulator, replacements=ALL_MAPPED)) as client:
        yield client


def sent(emulator: EmulatorServer) -> list[tuple[str, dict[str, Any]]]:
    """(model, body) of every call that reached the emulator, in seed order."""
    records = [(r["resolved_model_id"], r["body"]) for r in emulator.requests()]
    return sorted(records, key=lambda record: record[1].get("seed", 0))


def only_call(emulator: EmulatorServer, model: str) -> dict[str, Any]:
    """The body of the one call made, after checking it went to `model`."""
    calls = sent(emulator)
    assert [m for m, _ in calls] == [model]
    return calls[0][1]


def served_answer(response: httpx.Response, model: str, requested: str) -> dict[str, Any]:
    """The JSON answer, after checking it names the model that served and the one asked for."""
    assert response.status_code == 200, response.text
    assert response.headers["served-model"] == model
    answer: dict[str, Any] = response.json()
    assert answer["model"] == model
    assert answer["applied"]["requested_model"] == requested
    assert answer["warnings"][0] == f"served by {model} instead of retired {requested}"
    assert all(image["finish_reason"] == "success" for image in answer["images"])
    return answer


def png(raw: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(raw).save(out, format="PNG")
    return out.getvalue()


def outpaint_mask(size: tuple[int, int], keep: tuple[int, int, int, int] | None) -> bytes:
    """A black-is-edit mask: black everywhere (generate) but white on `keep` (left, top, right,
    bottom, exclusive)."""
    mask = Image.new("RGB", size, (0, 0, 0))
    if keep is not None:
        ImageDraw.Draw(mask).rectangle((keep[0], keep[1], keep[2] - 1, keep[3] - 1), fill="white")
    out = io.BytesIO()
    mask.save(out, format="PNG")
    return out.getvalue()


class TestTitanTextToImage:
    async def test_size_to_aspect_ratio_and_back(
        self, served: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        response = await served.post(
            "/v1/images/text-to-image",
            json={
                "model": "titan",
                "prompt": "a lighthouse at dusk",
                "negative_prompt": "people",
                "width": 1152,
                "height": 640,
                "cfg_scale": 9.0,
                "quality": "premium",
                "seed": 7,
                "n": 2,
            },
        )
        answer = served_answer(response, SD35, TITAN)
        assert [m for m, _ in sent(emulator)] == [SD35, SD35]
        assert [body for _, body in sent(emulator)] == [
            {
                "prompt": "a lighthouse at dusk",
                "negative_prompt": "people",
                "aspect_ratio": "16:9",
                "seed": seed,
            }
            for seed in (7, 8)
        ]
        assert [image_size(i["b64_json"]) for i in answer["images"]] == [(1152, 640)] * 2
        assert answer["applied"]["aspect_ratio"] == "16:9"
        assert answer["warnings"][1:] == [
            "cfg_scale dropped: sd3.5-large sets its own prompt adherence",
            "quality dropped: sd3.5-large has a single quality",
        ]
        assert response.headers["warning"] == ", ".join(
            f'299 - "{warning}"' for warning in answer["warnings"]
        )
        # Titan v1's end of life is not dated: deprecated no later than the answer.
        deprecation = response.headers["deprecation"]
        assert deprecation.startswith("@")
        assert int(deprecation[1:]) <= answer["created"]

    async def test_default_size_and_the_image_answer(
        self, served: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        response = await served.post(
            "/v1/images/text-to-image",
            json={"prompt": "a lighthouse at dusk", "seed": 3},  # titan is the default model
            headers={"Accept": "image/png"},
        )
        assert response.status_code == 200, response.text
        assert response.headers["served-model"] == SD35
        assert response.headers["content-type"] == "image/png"
        assert image_size(response.content) == (1024, 1024)
        assert only_call(emulator, SD35) == {
            "prompt": "a lighthouse at dusk",
            "aspect_ratio": "1:1",
            "seed": 3,
        }

    async def test_size_the_ratio_does_not_hit_is_cropped_then_resized(
        self, served: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        response = await served.post(
            "/v1/images/text-to-image",
            json={"prompt": "a lighthouse at dusk", "width": 1173, "height": 640},
        )
        answer = served_answer(response, SD35, TITAN)
        assert only_call(emulator, SD35)["aspect_ratio"] == "16:9"
        assert image_size(answer["images"][0]["b64_json"]) == (1173, 640)

    @pytest.mark.parametrize(("mode", "model"), [(None, SKETCH), ("SEGMENTATION", STRUCTURE)])
    async def test_condition_image_goes_to_control(
        self,
        served: httpx.AsyncClient,
        emulator: EmulatorServer,
        mode: str | None,
        model: str,
    ) -> None:
        fields: dict[str, Any] = {
            "model": "titan-v2",
            "prompt": "a watercolour astronaut",
            "condition_image": b64(ASTRONAUT),
            "control_strength": 0.4,
            "width": 768,
            "height": 768,
            "seed": 11,
        }
        if mode:
            fields["control_mode"] = mode
        response = await served.post("/v1/images/text-to-image", json=fields)
        answer = served_answer(response, model, TITAN_V2)
        assert only_call(emulator, model) == {
            "image": b64(ASTRONAUT),
            "prompt": "a watercolour astronaut",
            "control_strength": 0.4,
            "seed": 11,
        }
        assert image_size(answer["images"][0]["b64_json"]) == (768, 768)

    async def test_nova_style_dropped_on_sd35(
        self, served: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        response = await served.post(
            "/v1/images/text-to-image",
            json={"model": "nova", "prompt": "a red fox", "style": "PHOTOREALISM", "seed": 5},
        )
        answer = served_answer(response, SD35, NOVA)
        assert "style dropped: sd3.5-large has no style of that look" in answer["warnings"]
        assert only_call(emulator, SD35) == {
            "prompt": "a red fox",
            "aspect_ratio": "1:1",
            "seed": 5,
        }

    async def test_nova_style_becomes_a_preset_on_ultra(self, emulator: EmulatorServer) -> None:
        emulator.set_retired(RETIRED)
        settings = settings_for(emulator, replacements={"nova": {"text-to-image": "ultra"}})
        async with open_gateway(settings) as gateway:
            response = await gateway.post(
                "/v1/images/text-to-image",
                json={"model": "nova", "prompt": "a red fox", "style": "PHOTOREALISM", "seed": 5},
            )
        answer = served_answer(response, ULTRA, NOVA)
        assert answer["applied"]["style_preset"] == "photographic"
        assert only_call(emulator, ULTRA) == {
            "prompt": "a red fox",
            "aspect_ratio": "1:1",
            "style_preset": "photographic",
            "seed": 5,
        }


class TestTitanEdits:
    @pytest.mark.parametrize("content", CONTENTS)
    async def test_inpaint_with_a_mask(
        self, served: httpx.AsyncClient, emulator: EmulatorServer, content: Content
    ) -> None:
        fields = {
            "model": "titan",
            "prompt": "a chocolate biscuit",
            "negative_prompt": "crumbs",
            "image": COFFEE,
            "mask": BLACK_EDIT,
            "cfg_scale": 8.0,
            "seed": 4,
        }
        response = await post(served, "inpaint", content, fields)
        answer = served_answer(response, INPAINT, TITAN)
        body = only_call(emulator, INPAINT)
        # Stability's mask is white = edit: the caller's pixels, grown by nothing.
        np.testing.assert_array_equal(pixels(body.pop("mask"))[..., 0] == 255, region(BLACK_EDIT))
        assert body == {
            "image": b64(COFFEE),
            "prompt": "a chocolate biscuit",
            "negative_prompt": "crumbs",
            "grow_mask": 0,
            "seed": 4,
        }
        out, original = pixels(answer["images"][0]["b64_json"]), pixels(COFFEE)
        inside = region(BLACK_EDIT)
        np.testing.assert_array_equal(out[~inside], original[~inside])
        assert not np.array_equal(out[inside], original[inside])

    async def test_inpaint_without_a_prompt_erases(
        self, served: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        response = await post(
            served,
            "inpaint",
            "json",
            {"image": COFFEE, "mask": BLACK_EDIT, "negative_prompt": "crumbs", "seed": 4},
        )
        answer = served_answer(response, ERASE, TITAN)
        assert "negative_prompt dropped: erase takes no negative prompt" in answer["warnings"]
        body = only_call(emulator, ERASE)
        np.testing.assert_array_equal(pixels(body.pop("mask"))[..., 0] == 255, region(BLACK_EDIT))
        assert body == {"image": b64(COFFEE), "grow_mask": 0, "seed": 4}
        assert image_size(answer["images"][0]["b64_json"]) == (600, 400)

    async def test_mask_prompt_is_search_and_replace(
        self, served: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        response = await post(
            served,
            "inpaint",
            "multipart",
            {"image": COFFEE, "mask_prompt": "the cup", "prompt": "a teapot", "seed": 9},
        )
        answer = served_answer(response, SEARCH_REPLACE, TITAN)
        assert only_call(emulator, SEARCH_REPLACE) == {
            "image": b64(COFFEE),
            "prompt": "a teapot",
            "search_prompt": "the cup",
            "seed": 9,
        }
        assert image_size(answer["images"][0]["b64_json"]) == (600, 400)

    async def test_mask_prompt_without_a_prompt_is_refused(
        self, served: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        response = await post(served, "inpaint", "json", {"image": COFFEE, "mask_prompt": "cup"})
        assert response.status_code == 422, response.text
        [error] = response.json()["errors"]
        assert error["field"] == "prompt"
        assert "search-replace needs `prompt`" in error["message"]
        assert "send a mask instead of mask_prompt to erase" in error["message"]
        assert emulator.requests() == []

    @pytest.mark.parametrize("content", CONTENTS)
    async def test_outpaint_around_a_kept_rectangle(
        self, served: httpx.AsyncClient, emulator: EmulatorServer, content: Content
    ) -> None:
        keep = (100, 50, 400, 300)  # left, top, right, bottom of the coffee photo kept
        fields = {
            "prompt": "a café table",
            "negative_prompt": "people",
            "image": COFFEE,
            "mask": outpaint_mask((600, 400), keep),
            "outpainting_mode": "PRECISE",
            "seed": 2,
        }
        response = await post(served, "outpaint", content, fields)
        answer = served_answer(response, OUTPAINT, TITAN)
        assert answer["applied"]["margins"] == {"left": 100, "right": 200, "up": 50, "down": 100}
        assert answer["warnings"][1:] == [
            "negative_prompt dropped: stability-outpaint takes no negative prompt",
            "outpainting_mode dropped: stability-outpaint leaves the kept pixels untouched, "
            "as PRECISE does",
        ]
        body = only_call(emulator, OUTPAINT)
        cropped = pixels(body.pop("image"))
        np.testing.assert_array_equal(cropped, pixels(COFFEE)[50:300, 100:400])
        assert body == {
            "left": 100,
            "right": 200,
            "up": 50,
            "down": 100,
            "prompt": "a café table",
            "seed": 2,
        }
        out = pixels(answer["images"][0]["b64_json"])
        assert out.shape[:2] == (400, 600)
        np.testing.assert_array_equal(out[50:300, 100:400], pixels(COFFEE)[50:300, 100:400])

    async def test_outpaint_touching_a_border_sends_only_the_other_margins(
        self, served: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        fields = {
            "prompt": "more sky",
            "image": COFFEE,
            "mask": outpaint_mask((600, 400), (0, 100, 600, 400)),
            "seed": 2,
        }
        response = await post(served, "outpaint", "json", fields)
        served_answer(response, OUTPAINT, TITAN)
        body = only_call(emulator, OUTPAINT)
        assert image_size(body.pop("image")) == (600, 300)
        assert body == {"up": 100, "prompt": "more sky", "seed": 2}

    @pytest.mark.parametrize(
        ("mask", "says"),
        [
            (BLACK_EDIT, "keeps an area that is not one rectangle"),
            (outpaint_mask((600, 400), None), "keeps no pixel"),
            (outpaint_mask((600, 400), (0, 0, 600, 400)), "keeps every pixel"),
        ],
        ids=["ellipse", "nothing-kept", "everything-kept"],
    )
    async def test_outpaint_masks_that_are_not_margins_are_refused(
        self, served: httpx.AsyncClient, emulator: EmulatorServer, mask: bytes, says: str
    ) -> None:
        response = await post(
            served, "outpaint", "json", {"prompt": "p", "image": COFFEE, "mask": mask}
        )
        assert response.status_code == 422, response.text
        [error] = response.json()["errors"]
        assert error["field"] == "mask"
        assert says in error["message"]
        assert emulator.requests() == []

    async def test_outpaint_not_a_rectangle_says_what_to_send(
        self, served: httpx.AsyncClient
    ) -> None:
        response = await post(
            served, "outpaint", "json", {"prompt": "p", "image": COFFEE, "mask": BLACK_EDIT}
        )
        message = response.json()["errors"][0]["message"]
        assert "send the same mask to /v1/images/inpaint" in message
        assert response.json()["detail"].startswith(f"{TITAN} is served by another model")

    async def test_outpaint_with_a_mask_prompt_is_refused(
        self, served: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        response = await post(
            served, "outpaint", "json", {"prompt": "p", "image": COFFEE, "mask_prompt": "cup"}
        )
        assert response.status_code == 422, response.text
        [error] = response.json()["errors"]
        assert error["field"] == "mask_prompt"
        assert "/v1/images/inpaint" in error["message"]
        assert emulator.requests() == []

    @pytest.mark.parametrize("task", ["variations", "image-to-image"])
    async def test_variation_is_image_to_image_at_the_asked_size(
        self, served: httpx.AsyncClient, emulator: EmulatorServer, task: str
    ) -> None:
        fields: dict[str, Any] = {
            "prompt": "a modern house",
            "negative_prompt": "cartoon",
            "width": 768,
            "height": 1152,
            "seed": 1,
        }
        fields.update({"images": [ASTRONAUT]} if task == "variations" else {"image": ASTRONAUT})
        response = await post(served, task, "multipart", fields)
        answer = served_answer(response, SD35, TITAN)
        assert answer["applied"]["strength"] == 0.3  # Titan's similarity 0.7
        assert only_call(emulator, SD35) == {
            "prompt": "a modern house",
            "negative_prompt": "cartoon",
            "mode": "image-to-image",
            "image": b64(ASTRONAUT),
            "strength": 0.3,
            "seed": 1,
        }
        assert image_size(answer["images"][0]["b64_json"]) == (768, 1152)

    async def test_similarity_is_one_minus_strength(
        self, served: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        response = await post(
            served,
            "image-to-image",
            "json",
            {"prompt": "a house", "image": ASTRONAUT, "similarity_strength": 0.9},
        )
        answer = served_answer(response, SD35, TITAN)
        assert only_call(emulator, SD35)["strength"] == 0.1
        assert image_size(answer["images"][0]["b64_json"]) == (1024, 1024)

    async def test_variations_of_two_images_are_refused(
        self, served: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        response = await post(
            served, "variations", "json", {"prompt": "p", "images": [ASTRONAUT, CHELSEA]}
        )
        assert response.status_code == 422, response.text
        [error] = response.json()["errors"]
        assert error["field"] == "images"
        assert "varies one image, 2 were sent" in error["message"]
        assert emulator.requests() == []

    async def test_background_removal(
        self, served: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        response = await post(
            served, "remove-background", "multipart", {"model": "titan-v2", "image": CHELSEA}
        )
        answer = served_answer(response, REMOVE_BACKGROUND, TITAN_V2)
        assert only_call(emulator, REMOVE_BACKGROUND) == {"image": b64(CHELSEA)}
        out = pixels(answer["images"][0]["b64_json"])
        assert out.shape == (300, 451, 4)
        assert (out[..., 3] == 0).any()

    async def test_colour_guided_is_refused_saying_what_to_send(
        self, served: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        response = await served.post(
            "/v1/images/color-guided",
            json={"model": "nova", "prompt": "a vase", "colors": ["#FF8800"]},
        )
        assert response.status_code == 422, response.text
        [error] = response.json()["errors"]
        assert error["field"] == "model"
        assert "/v1/images/style-guide" in error["message"]
        assert emulator.requests() == []

    async def test_successor_limits_hold(
        self, served: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        # Titan varies an image without a prompt; SD3.5 needs one.
        response = await post(served, "variations", "json", {"images": [ASTRONAUT]})
        assert response.status_code == 422, response.text
        assert [e["field"] for e in response.json()["errors"]] == ["prompt"]
        assert f"served by {SD35}" in response.json()["detail"]
        assert emulator.requests() == []

    async def test_the_named_models_limits_hold(
        self, served: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        response = await served.post(
            "/v1/images/text-to-image", json={"prompt": "p" * 513, "width": 1000, "height": 1000}
        )
        assert response.status_code == 422, response.text
        assert sorted(e["field"] for e in response.json()["errors"]) == ["prompt", "width"]
        assert emulator.requests() == []


class TestSdxl:
    async def test_text_to_image(self, served: httpx.AsyncClient, emulator: EmulatorServer) -> None:
        response = await served.post(
            "/v1/images/text-to-image",
            json={
                "model": "sdxl",
                "prompt": "a space ship",
                "negative_prompt": "blur",
                "width": 1216,
                "height": 832,
                "cfg_scale": 7,
                "steps": 40,
                "sampler": "K_EULER",
                "clip_guidance_preset": "FAST_BLUE",
                "style_preset": "isometric",
                "seed": 12,
            },
        )
        answer = served_answer(response, SD35, SDXL)
        assert response.headers["deprecation"] == SDXL_DEPRECATION
        assert answer["warnings"][1:] == [
            "cfg_scale dropped: sd3.5-large sets its own prompt adherence",
            "clip_guidance_preset dropped: sd3.5-large has no CLIP guidance",
            "sampler dropped: sd3.5-large chooses its own sampler",
            "steps dropped: sd3.5-large chooses its own steps",
            "style_preset dropped: sd3.5-large takes no style preset",
        ]
        assert only_call(emulator, SD35) == {
            "prompt": "a space ship",
            "negative_prompt": "blur",
            "aspect_ratio": "3:2",
            "seed": 12,
        }
        assert image_size(answer["images"][0]["b64_json"]) == (1216, 832)

    async def test_style_preset_kept_on_ultra(self, emulator: EmulatorServer) -> None:
        emulator.set_retired(RETIRED)
        settings = settings_for(emulator, replacements={SDXL: {"text-to-image": "ultra"}})
        async with open_gateway(settings) as gateway:
            response = await gateway.post(
                "/v1/images/text-to-image",
                json={"model": "sdxl", "prompt": "a ship", "style_preset": "isometric", "seed": 1},
            )
        served_answer(response, ULTRA, SDXL)
        assert only_call(emulator, ULTRA) == {
            "prompt": "a ship",
            "aspect_ratio": "1:1",
            "style_preset": "isometric",
            "seed": 1,
        }

    @pytest.mark.parametrize(("given", "strength"), [(None, 0.65), (0.8, 0.2)])
    async def test_image_to_image_keeps_the_input_size(
        self,
        served: httpx.AsyncClient,
        emulator: EmulatorServer,
        given: float | None,
        strength: float,
    ) -> None:
        fields: dict[str, Any] = {"model": "sdxl", "prompt": "a space ship", "image": SDXL_COFFEE}
        if given is not None:
            fields.update(image_strength=given, init_image_mode="IMAGE_STRENGTH")
        response = await post(served, "image-to-image", "json", fields)
        answer = served_answer(response, SD35, SDXL)
        assert answer["warnings"][1:] == []
        body = only_call(emulator, SD35)
        body.pop("seed")
        assert body == {
            "prompt": "a space ship",
            "mode": "image-to-image",
            "image": b64(SDXL_COFFEE),
            "strength": strength,
        }
        assert image_size(answer["images"][0]["b64_json"]) == (1216, 832)

    async def test_inpaint(self, served: httpx.AsyncClient, emulator: EmulatorServer) -> None:
        fields = {
            "model": "sdxl",
            "prompt": "a biscuit",
            "image": SDXL_COFFEE,
            "mask": SDXL_WHITE_EDIT,
            "mask_convention": "white-is-edit",
            "seed": 6,
        }
        response = await post(served, "inpaint", "multipart", fields)
        answer = served_answer(response, INPAINT, SDXL)
        body = only_call(emulator, INPAINT)
        np.testing.assert_array_equal(pixels(body.pop("mask")), pixels(SDXL_WHITE_EDIT))
        assert body == {"image": b64(SDXL_COFFEE), "prompt": "a biscuit", "grow_mask": 0, "seed": 6}
        assert image_size(answer["images"][0]["b64_json"]) == (1216, 832)

    async def test_outpaint(self, served: httpx.AsyncClient, emulator: EmulatorServer) -> None:
        fields = {
            "model": "sdxl",
            "prompt": "a table",
            "image": SDXL_COFFEE,
            "mask": outpaint_mask((1216, 832), (16, 32, 1200, 800)),
            "seed": 6,
        }
        response = await post(served, "outpaint", "json", fields)
        answer = served_answer(response, OUTPAINT, SDXL)
        body = only_call(emulator, OUTPAINT)
        assert image_size(body.pop("image")) == (1184, 768)
        assert body == {
            "left": 16,
            "right": 16,
            "up": 32,
            "down": 32,
            "prompt": "a table",
            "seed": 6,
        }
        assert image_size(answer["images"][0]["b64_json"]) == (1216, 832)


async def test_stability_v1_0_goes_to_its_successor_unchanged(
    served: httpx.AsyncClient, emulator: EmulatorServer
) -> None:
    response = await served.post(
        "/v1/images/text-to-image",
        json={"model": "sd3-large", "prompt": "a fox", "aspect_ratio": "16:9", "seed": 8},
    )
    answer = served_answer(response, SD35, SD3_LARGE)
    assert answer["warnings"] == [f"served by {SD35} instead of retired {SD3_LARGE}"]
    assert only_call(emulator, SD35) == {"prompt": "a fox", "aspect_ratio": "16:9", "seed": 8}


class TestMapOff:
    async def test_requests_reach_the_named_model_unchanged(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        response = await gateway.post(
            "/v1/images/text-to-image",
            json={"prompt": "a fox", "width": 512, "height": 512, "cfg_scale": 9.0, "seed": 8},
        )
        assert response.status_code == 200, response.text
        assert response.headers["served-model"] == TITAN
        assert "deprecation" not in response.headers
        assert only_call(emulator, TITAN) == {
            "taskType": "TEXT_IMAGE",
            "textToImageParams": {"text": "a fox"},
            "imageGenerationConfig": {
                "numberOfImages": 1,
                "width": 512,
                "height": 512,
                "cfgScale": 9.0,
                "seed": 8,
            },
        }

    async def test_a_partial_map_leaves_other_tasks_with_the_named_model(
        self, emulator: EmulatorServer
    ) -> None:
        settings = settings_for(emulator, replacements={"titan": {"text-to-image": "ultra"}})
        async with open_gateway(settings) as gateway:
            response = await post(
                gateway, "inpaint", "json", {"prompt": "p", "image": COFFEE, "mask": BLACK_EDIT}
            )
        assert response.status_code == 200, response.text
        assert response.headers["served-model"] == TITAN
        assert [m for m, _ in sent(emulator)] == [TITAN]

    async def test_retired_model_is_a_410_naming_successors_and_the_setting(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        emulator.set_retired([SDXL])
        response = await gateway.post(
            "/v1/images/text-to-image", json={"model": "sdxl", "prompt": "a fox"}
        )
        assert response.status_code == 410, response.text
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["type"] == "/problems/model-retired"
        assert problem["upstream_error"] == "ResourceNotFoundException"
        assert problem["successors"] == [f"sd3.5-large ({SD35})"]
        assert problem["setting"] == "GATEWAY_REPLACEMENTS"
        assert problem["setting_example"] == '{"stability.stable-diffusion-xl-v1":{}}'
        assert f"move to sd3.5-large ({SD35})" in problem["detail"]
        assert 'GATEWAY_REPLACEMENTS={"stability.stable-diffusion-xl-v1":{}}' in problem["detail"]

    async def test_an_active_model_at_end_of_life_is_a_410(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        emulator.set_retired([SD35])
        response = await gateway.post(
            "/v1/images/text-to-image", json={"model": "sd3.5-large", "prompt": "a fox"}
        )
        assert response.status_code == 410, response.text
        assert response.json()["successors"] == []
        assert "end of its life" in response.json()["detail"]

    async def test_an_active_model_not_found_stays_a_502(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        emulator.set_faults(schedule=[{"fault": "ResourceNotFoundException"}])
        response = await gateway.post(
            "/v1/images/text-to-image", json={"model": "sd3.5-large", "prompt": "a fox"}
        )
        assert response.status_code == 502, response.text
        assert response.json()["upstream_error"] == "ResourceNotFoundException"


async def test_models_list_the_replacement(emulator: EmulatorServer) -> None:
    replacements = {"titan-v2": {}, "sdxl": {"text-to-image": "ultra"}}
    async with open_gateway(settings_for(emulator, replacements=replacements)) as gateway:
        models = {m["id"]: m for m in (await gateway.get("/v1/models")).json()["models"]}
    assert models[TITAN_V2]["replacement"] == {
        "successors": {
            "text-to-image": SD35,
            "inpaint": INPAINT,
            "outpaint": OUTPAINT,
            "variations": SD35,
            "image-to-image": SD35,
            "color-guided": None,
            "remove-background": REMOVE_BACKGROUND,
        }
    }
    assert models[SDXL]["replacement"] == {"successors": {"text-to-image": ULTRA}}
    assert models[TITAN]["replacement"] is None
    assert models[TITAN]["status"] == "retired"


@pytest.mark.parametrize(
    ("setting", "says"),
    [
        ({"titan-v9": {}}, "names 'titan-v9', which is no registered model"),
        ({"titan": {"upscale-all": "ultra"}}, "'upscale-all' is no task"),
        ({"titan": {"remove-background": "remove-background"}}, "does not do remove-background"),
        ({"titan": {"text-to-image": "stability-inpaint"}}, "cannot do text-to-image"),
        ({"titan": {"text-to-image": "nova-v9"}}, "'nova-v9', which is no registered model"),
        ({"sd3.5-large": {}}, "no built-in successor for text-to-image"),
        ({"stability-inpaint": {"inpaint": "titan"}}, "no translation from the stability-edit"),
    ],
)
def test_a_bad_map_is_refused_at_start(setting: dict[str, dict[str, str]], says: str) -> None:
    with pytest.raises(ReplacementError, match=says.replace("(", r"\(")):
        ReplacementMap(ModelRegistry(), Settings(_env_file=None, replacements=setting).replacements)


def test_same_family_successor_takes_the_request_as_it_is() -> None:
    mapping = ReplacementMap(ModelRegistry(), {"titan": {"text-to-image": "titan-v2"}})
    titan = ModelRegistry().resolve("titan")
    assert titan is not None
    raw = {"model": "titan", "prompt": "p", "cfg_scale": 9.0}
    translation = mapping.translate(titan.tasks[0], raw, titan)
    assert translation.raw == {"model": TITAN_V2, "prompt": "p", "cfg_scale": 9.0}
    assert translation.resize_to is None


def test_output_crop_keeps_the_centre() -> None:
    wide = np.zeros((100, 300, 3), dtype=np.uint8)
    wide[:, 100:200] = 255  # a white square in the middle of black sides
    image = GeneratedImage(
        b64=base64.b64encode(png(wide)).decode(), seed=1, finish_reason=FinishReason.SUCCESS
    )
    fitted = fit(image, (50, 50)).b64
    assert isinstance(fitted, str)
    out = pixels(fitted)
    assert out.shape == (50, 50, 3)
    assert out.min() > 240
