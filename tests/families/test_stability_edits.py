"""Stability's editing Image Services through the native API: inpaint, outpaint, search and
replace, search and recolor, erase, remove background. Exact bodies, pixels, and every limit."""

from __future__ import annotations

import base64
import io
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image

from emulator.testing import EmulatorServer
from tests.support.edits import (
    ALPHA_EDIT,
    ASTRONAUT,
    BLACK_EDIT,
    CHELSEA,
    COFFEE,
    CONTENTS,
    WHITE_EDIT,
    Content,
    answer_images,
    assert_edited_inside_only,
    bodies,
    post,
    region,
)
from tests.support.gateway import b64, image_size, open_gateway, pixels, settings_for
from tests.support.problems import assert_invalid

INPAINT_ID = "us.stability.stable-image-inpaint-v1:0"
OUTPAINT_ID = "us.stability.stable-outpaint-v1:0"
SEARCH_REPLACE_ID = "us.stability.stable-image-search-replace-v1:0"
SEARCH_RECOLOR_ID = "us.stability.stable-image-search-recolor-v1:0"
ERASE_ID = "us.stability.stable-image-erase-object-v1:0"
REMOVE_BACKGROUND_ID = "us.stability.stable-image-remove-background-v1:0"
MASKS = {"black-is-edit": BLACK_EDIT, "white-is-edit": WHITE_EDIT, "alpha-is-edit": ALPHA_EDIT}
ELLIPSE = region(BLACK_EDIT)


def png(values: np.ndarray) -> bytes:
    """PNG bytes of a uint8 array."""
    out = io.BytesIO()
    Image.fromarray(values).save(out, format="PNG")
    return out.getvalue()


def grey(width: int, height: int) -> bytes:
    """A flat grey PNG of the given size."""
    return png(np.full((height, width, 3), 128, np.uint8))


def changed(result: str, source: bytes) -> np.ndarray:
    """The pixels whose colour differs between a result and its source (same size)."""
    out, original = pixels(result)[..., :3], pixels(source)[..., :3]
    assert out.shape == original.shape
    return np.asarray((out != original).any(axis=2))


def sent_white_mask(body: dict[str, Any]) -> np.ndarray:
    """The mask a body carries, checked to be pure black and white; True where white."""
    values = pixels(body["mask"])
    assert set(np.unique(values).tolist()) == {0, 255}
    return np.asarray(values[..., 0] == 255)


def problem_message(response: httpx.Response, field: str) -> str:
    """The message of the problem naming `field`."""
    [message] = [e["message"] for e in response.json()["errors"] if e["field"] == field]
    text: str = message
    return text


class TestInpaint:
    @pytest.mark.parametrize("convention", list(MASKS))
    @pytest.mark.parametrize("content", CONTENTS)
    async def test_every_convention_is_sent_white_is_edit(
        self,
        gateway: httpx.AsyncClient,
        emulator: EmulatorServer,
        content: Content,
        convention: str,
    ) -> None:
        fields = {
            "model": "stability-inpaint",
            "prompt": "a chocolate biscuit",
            "negative_prompt": "crumbs",
            "style_preset": "photographic",
            "n": 2,
            "seed": 42,
            "grow_mask": 0,
            "mask_convention": convention,
            "image": COFFEE,
            "mask": MASKS[convention],
        }
        images = answer_images(await post(gateway, "inpaint", content, fields), 2)

        received = bodies(emulator, INPAINT_ID)
        for seed, body in zip((42, 43), received, strict=True):
            np.testing.assert_array_equal(sent_white_mask(body), ELLIPSE)
            assert body == {
                "image": b64(COFFEE),
                "mask": body["mask"],
                "prompt": "a chocolate biscuit",
                "negative_prompt": "crumbs",
                "style_preset": "photographic",
                "grow_mask": 0,
                "seed": seed,
            }
        assert [i["seed"] for i in images] == [42, 43]
        assert images[0]["b64_json"] != images[1]["b64_json"]
        for image in images:
            assert image_size(image["b64_json"]) == (600, 400)
            assert_edited_inside_only(image["b64_json"], COFFEE, ELLIPSE)

    @pytest.mark.parametrize("content", CONTENTS)
    async def test_image_alpha_is_the_mask(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer, content: Content
    ) -> None:
        fields = {
            "model": "stability-inpaint",
            "prompt": "a chocolate biscuit",
            "seed": 9,
            "grow_mask": 0,
            "mask_convention": "alpha-is-edit",
            "image": ALPHA_EDIT,
        }
        [image] = answer_images(await post(gateway, "inpaint", content, fields), 1)

        # No mask: the image goes as the caller sent it, its transparency marking the edit.
        assert bodies(emulator, INPAINT_ID) == [
            {"image": b64(ALPHA_EDIT), "prompt": "a chocolate biscuit", "grow_mask": 0, "seed": 9}
        ]
        assert_edited_inside_only(image["b64_json"], COFFEE, ELLIPSE)

    async def test_default_grow_mask_is_left_to_the_model(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        fields = {
            "model": "stability-inpaint",
            "prompt": "foam",
            "image": COFFEE,
            "mask": BLACK_EDIT,
        }
        [image] = answer_images(await post(gateway, "inpaint", "json", fields), 1)

        [body] = bodies(emulator, INPAINT_ID)
        assert set(body) == {"image", "mask", "prompt", "seed"}
        assert 1 <= body["seed"] <= 4_294_967_294
        assert image["seed"] == body["seed"]
        # Stability grows the mask by 5 px by default: more than the ellipse changes.
        edited = changed(image["b64_json"], COFFEE)
        assert (edited & ~ELLIPSE).any()

    @pytest.mark.parametrize(
        ("fmt", "mime"), [("webp", "image/webp"), ("jpeg", "image/jpeg"), ("png", "image/png")]
    )
    async def test_output_format(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer, fmt: str, mime: str
    ) -> None:
        fields = {
            "model": "stability-inpaint",
            "prompt": "foam",
            "seed": 1,
            "output_format": fmt,
            "image": COFFEE,
            "mask": BLACK_EDIT,
        }
        response = await post(gateway, "inpaint", "json", fields)
        assert response.status_code == 200, response.text
        [image] = response.json()["images"]
        assert image["mime_type"] == mime
        assert image_size(image["b64_json"]) == (600, 400)
        assert bodies(emulator, INPAINT_ID)[0]["output_format"] == fmt

    async def test_limits_at_their_edge_pass(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        # 64 px wide, 2.5:1: the smallest side and the most elongated shape accepted.
        mask = np.zeros((160, 64), np.uint8)
        mask[40:80, 10:30] = 255
        fields = {
            "model": "stability-inpaint",
            "prompt": "foam",
            "grow_mask": 100,
            "seed": 4_294_967_294,
            "mask_convention": "white-is-edit",
            "image": grey(64, 160),
            "mask": png(mask),
        }
        [image] = answer_images(await post(gateway, "inpaint", "json", fields), 1)
        assert image["seed"] == 4_294_967_294
        assert image_size(image["b64_json"]) == (64, 160)

    async def test_mask_prompt_points_to_search_replace(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        fields = {"model": "stability-inpaint", "prompt": "foam", "image": COFFEE}
        response = await post(gateway, "inpaint", "json", {**fields, "mask_prompt": "the cup"})
        assert_invalid(response, emulator, "mask_prompt")
        assert "search-replace" in problem_message(response, "mask_prompt")

    async def test_missing_mask_mentions_the_image_alpha(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        # An image with transparency but the default convention: the alpha is not read as a mask.
        fields = {"model": "stability-inpaint", "prompt": "foam", "image": ALPHA_EDIT}
        response = await post(gateway, "inpaint", "json", fields)
        assert_invalid(response, emulator, "mask")
        assert "alpha-is-edit" in problem_message(response, "mask")

    async def test_filtered_prompt_is_content_filtered(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        fields = {
            "model": "stability-inpaint",
            "prompt": "a forbidden biscuit",
            "seed": 3,
            "image": COFFEE,
            "mask": BLACK_EDIT,
        }
        response = await post(gateway, "inpaint", "json", fields)
        assert response.status_code == 422, response.text
        problem = response.json()
        assert problem["type"] == "/problems/content-filtered"
        assert problem["images"] == [
            {"seed": 3, "finish_reason": "content_filtered", "error": "Filter reason: prompt"}
        ]
        assert len(bodies(emulator, INPAINT_ID)) == 1


class TestOutpaint:
    @pytest.mark.parametrize("content", CONTENTS)
    async def test_grows_by_the_margins(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer, content: Content
    ) -> None:
        fields = {
            "model": "stability-outpaint",
            "prompt": "a wooden table",
            "left": 100,
            "up": 50,
            "down": 20,
            "creativity": 0.3,
            "style_preset": "cinematic",
            "seed": 7,
            "image": COFFEE,
        }
        [image] = answer_images(await post(gateway, "outpaint", content, fields), 1)

        assert bodies(emulator, OUTPAINT_ID) == [
            {
                "image": b64(COFFEE),
                "prompt": "a wooden table",
                "left": 100,
                "up": 50,
                "down": 20,
                "creativity": 0.3,
                "style_preset": "cinematic",
                "seed": 7,
            }
        ]
        out = pixels(image["b64_json"])
        assert image_size(image["b64_json"]) == (600 + 100, 400 + 50 + 20)
        np.testing.assert_array_equal(out[50:450, 100:700], pixels(COFFEE))
        assert out[:50].std() > 0

    @pytest.mark.parametrize("fmt", ["webp", "jpeg"])
    async def test_output_format(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer, fmt: str
    ) -> None:
        fields = {"model": "stability-outpaint", "right": 64, "output_format": fmt, "image": COFFEE}
        response = await post(gateway, "outpaint", "multipart", fields)
        assert response.status_code == 200, response.text
        [image] = response.json()["images"]
        assert image["mime_type"] == f"image/{fmt}"
        assert image_size(image["b64_json"]) == (664, 400)

    async def test_no_margin_names_left(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        response = await post(
            gateway, "outpaint", "json", {"model": "stability-outpaint", "image": COFFEE}
        )
        assert_invalid(response, emulator, "left")
        assert "right, up, down" in problem_message(response, "left")


SEARCH_TOOLS = {
    "search-replace": ("search_prompt", SEARCH_REPLACE_ID),
    "search-recolor": ("select_prompt", SEARCH_RECOLOR_ID),
}


class TestSearch:
    @pytest.mark.parametrize("task", list(SEARCH_TOOLS))
    @pytest.mark.parametrize("content", CONTENTS)
    async def test_edits_what_the_prompt_finds(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer, content: Content, task: str
    ) -> None:
        finder, model_id = SEARCH_TOOLS[task]
        fields = {
            "prompt": "a green apple",
            finder: "the cup",
            "negative_prompt": "blurry",
            "grow_mask": 0,
            "style_preset": "enhance",
            "seed": 11,
            "n": 2,
            "image": COFFEE,
        }
        images = answer_images(await post(gateway, task, content, {"model": task, **fields}), 2)

        received = bodies(emulator, model_id)
        expected = {k: v for k, v in fields.items() if k not in ("n", "image", "seed")}
        assert received == [
            {"image": b64(COFFEE), **expected, "seed": 11},
            {"image": b64(COFFEE), **expected, "seed": 12},
        ]
        found = [changed(i["b64_json"], COFFEE) for i in images]
        for image, edited in zip(images, found, strict=True):
            assert image_size(image["b64_json"]) == (600, 400)
            # The found area is a part of the picture, the rest kept as it was.
            assert 0.02 < edited.mean() < 0.6
        # The search prompt decides where: both seeds edit (nearly) the same pixels.
        overlap = (found[0] & found[1]).sum() / (found[0] | found[1]).sum()
        assert overlap > 0.9

    @pytest.mark.parametrize("task", list(SEARCH_TOOLS))
    async def test_grow_mask_widens_the_edit(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer, task: str
    ) -> None:
        finder, _ = SEARCH_TOOLS[task]
        found = []
        for grow in (0, 20):
            fields = {
                "model": task,
                "prompt": "red",
                finder: "the saucer",
                "grow_mask": grow,
                "seed": 5,
                "image": COFFEE,
            }
            [image] = answer_images(await post(gateway, task, "json", fields), 1)
            found.append(changed(image["b64_json"], COFFEE))
        narrow, wide = found
        assert wide.sum() > narrow.sum()
        assert (narrow & ~wide).sum() <= 0.01 * narrow.sum()

    @pytest.mark.parametrize("task", list(SEARCH_TOOLS))
    async def test_filtered_search_prompt_is_content_filtered(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer, task: str
    ) -> None:
        finder, model_id = SEARCH_TOOLS[task]
        fields = {"model": task, "prompt": "red", finder: "the forbidden cup", "image": COFFEE}
        response = await post(gateway, task, "json", fields)
        assert response.status_code == 422, response.text
        assert response.json()["type"] == "/problems/content-filtered"
        [entry] = response.json()["images"]
        assert entry["finish_reason"] == "content_filtered"
        assert len(bodies(emulator, model_id)) == 1


class TestErase:
    @pytest.mark.parametrize("convention", list(MASKS))
    @pytest.mark.parametrize("content", CONTENTS)
    async def test_mask_sent_white_is_edit(
        self,
        gateway: httpx.AsyncClient,
        emulator: EmulatorServer,
        content: Content,
        convention: str,
    ) -> None:
        fields = {
            "model": "erase",
            "seed": 21,
            "grow_mask": 0,
            "output_format": "png",
            "mask_convention": convention,
            "image": COFFEE,
            "mask": MASKS[convention],
        }
        [image] = answer_images(await post(gateway, "erase", content, fields), 1)

        [body] = bodies(emulator, ERASE_ID)
        np.testing.assert_array_equal(sent_white_mask(body), ELLIPSE)
        assert body == {
            "image": b64(COFFEE),
            "mask": body["mask"],
            "grow_mask": 0,
            "output_format": "png",
            "seed": 21,
        }
        assert image["seed"] == 21
        assert_edited_inside_only(image["b64_json"], COFFEE, ELLIPSE)

    @pytest.mark.parametrize("content", CONTENTS)
    async def test_image_alpha_is_the_mask(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer, content: Content
    ) -> None:
        fields = {
            "seed": 4,
            "grow_mask": 0,
            "mask_convention": "alpha-is-edit",
            "image": ALPHA_EDIT,
        }
        # No model: erase has one, the Stability erase tool.
        [image] = answer_images(await post(gateway, "erase", content, fields), 1)

        assert bodies(emulator, ERASE_ID) == [{"image": b64(ALPHA_EDIT), "grow_mask": 0, "seed": 4}]
        assert_edited_inside_only(image["b64_json"], COFFEE, ELLIPSE)

    async def test_output_format_webp(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        fields = {"model": "erase", "output_format": "webp", "image": COFFEE, "mask": BLACK_EDIT}
        response = await post(gateway, "erase", "json", fields)
        assert response.status_code == 200, response.text
        [image] = response.json()["images"]
        assert image["mime_type"] == "image/webp"
        assert image_size(image["b64_json"]) == (600, 400)

    async def test_grow_mask_limit_comes_from_the_entry(self, emulator: EmulatorServer) -> None:
        entry = {"id": "stability.stable-image-erase-object-v1:0", "limits": {"grow_mask": [0, 10]}}
        async with open_gateway(settings_for(emulator, models=[entry])) as gateway:
            fields = {"model": "erase", "grow_mask": 11, "image": COFFEE, "mask": BLACK_EDIT}
            response = await post(gateway, "erase", "json", fields)
            assert_invalid(response, emulator, "grow_mask")
            assert "0-10" in problem_message(response, "grow_mask")
            models = (await gateway.get("/v1/models")).json()["models"]
        [erase] = [m for m in models if m["id"] == "stability.stable-image-erase-object-v1:0"]
        assert erase["limits"]["grow_mask"] == [0, 10]


def assert_cut_out(result: str, source: bytes) -> None:
    """An RGBA image the size of `source`: transparent corners, opaque centre, colours kept."""
    out = pixels(result)
    original = pixels(source)
    assert out.shape == (*original.shape[:2], 4)
    alpha = out[..., 3]
    height, width = alpha.shape
    assert {int(alpha[0, 0]), int(alpha[0, -1]), int(alpha[-1, 0]), int(alpha[-1, -1])} == {0}
    assert alpha[height // 2, width // 2] == 255
    assert 0.05 < (alpha == 0).mean() < 0.95


class TestRemoveBackground:
    @pytest.mark.parametrize("content", CONTENTS)
    async def test_transparent_background(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer, content: Content
    ) -> None:
        [image] = answer_images(
            await post(gateway, "remove-background", content, {"image": ASTRONAUT}), 1
        )

        assert bodies(emulator, REMOVE_BACKGROUND_ID) == [{"image": b64(ASTRONAUT)}]
        # It takes no seed, so none is reported.
        assert image["seed"] is None
        assert_cut_out(image["b64_json"], ASTRONAUT)
        opaque = pixels(image["b64_json"])[..., 3] == 255
        np.testing.assert_array_equal(
            pixels(image["b64_json"])[..., :3][opaque], pixels(ASTRONAUT)[opaque]
        )

    async def test_a_binary_answer_has_no_seed_header(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        response = await gateway.post(
            "/v1/images/remove-background",
            json={"image": b64(ASTRONAUT)},
            headers={"Accept": "image/png"},
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "image/png"
        assert response.headers["finish-reason"] == "success"
        assert "seed" not in response.headers
        assert_cut_out(base64.b64encode(response.content).decode(), ASTRONAUT)

    async def test_webp_keeps_the_alpha(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        fields = {"model": "remove-background", "output_format": "webp", "image": CHELSEA}
        response = await post(gateway, "remove-background", "multipart", fields)
        assert response.status_code == 200, response.text
        [image] = response.json()["images"]
        assert image["mime_type"] == "image/webp"
        assert bodies(emulator, REMOVE_BACKGROUND_ID) == [
            {"image": b64(CHELSEA), "output_format": "webp"}
        ]
        assert_cut_out(image["b64_json"], CHELSEA)

    async def test_pixel_limit_named_with_its_number(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        response = await post(gateway, "remove-background", "json", {"image": grey(2049, 2048)})
        assert_invalid(response, emulator, "image")
        assert "4194304" in problem_message(response, "image")


# Every editing tool's limits, one step past each (a change to None leaves the field out): one row
# (task, changes to the tool's valid request, the one field the 422 must name), sent as JSON and
# as multipart. In the search tools' rows, "finder" stands for the tool's own prompt field.
LIMIT_REQUESTS: dict[str, dict[str, Any]] = {
    "inpaint": {
        "model": "stability-inpaint",
        "prompt": "foam",
        "image": COFFEE,
        "mask": BLACK_EDIT,
    },
    "outpaint": {"model": "stability-outpaint", "left": 10, "image": COFFEE},
    "search-replace": {
        "model": "search-replace",
        "prompt": "red",
        "finder": "the cup",
        "image": COFFEE,
    },
    "search-recolor": {
        "model": "search-recolor",
        "prompt": "red",
        "finder": "the cup",
        "image": COFFEE,
    },
    "erase": {"model": "erase", "image": COFFEE, "mask": BLACK_EDIT},
    "remove-background": {"model": "remove-background", "image": ASTRONAUT},
}
LIMITS: list[tuple[str, dict[str, Any], str]] = [
    ("inpaint", {"prompt": None}, "prompt"),
    ("inpaint", {"grow_mask": 101}, "grow_mask"),
    ("inpaint", {"seed": 4_294_967_295}, "seed"),
    ("inpaint", {"mask": None}, "mask"),
    ("inpaint", {"mask": png(np.zeros((400, 601, 3), np.uint8))}, "mask"),
    ("inpaint", {"mask_prompt": "the cup"}, "mask_prompt"),
    ("inpaint", {"image": grey(63, 200), "mask": png(np.zeros((200, 63, 3), np.uint8))}, "image"),
    ("inpaint", {"image": grey(251, 100), "mask": png(np.zeros((100, 251, 3), np.uint8))}, "image"),
    ("inpaint", {"cfg_scale": 7}, "cfg_scale"),
    ("outpaint", {"left": 0}, "left"),
    ("outpaint", {"left": 2001}, "left"),
    ("outpaint", {"down": 2001}, "down"),
    ("outpaint", {"creativity": 1.01}, "creativity"),
    ("outpaint", {"creativity": -0.01}, "creativity"),
    ("outpaint", {"mask": BLACK_EDIT}, "mask"),
    ("outpaint", {"negative_prompt": "people"}, "negative_prompt"),
    ("outpaint", {"seed": 4_294_967_295}, "seed"),
    ("outpaint", {"image": grey(400, 159)}, "image"),
    *[(task, {"grow_mask": 21}, "grow_mask") for task in SEARCH_TOOLS],
    *[(task, {"prompt": None}, "prompt") for task in SEARCH_TOOLS],
    *[(task, {"finder": None}, "finder") for task in SEARCH_TOOLS],
    *[(task, {"seed": 4_294_967_295}, "seed") for task in SEARCH_TOOLS],
    *[(task, {"image": grey(63, 100)}, "image") for task in SEARCH_TOOLS],
    *[(task, {"image": grey(100, 251)}, "image") for task in SEARCH_TOOLS],
    *[(task, {"mask": BLACK_EDIT}, "mask") for task in SEARCH_TOOLS],
    ("erase", {"grow_mask": 21}, "grow_mask"),
    ("erase", {"mask": None}, "mask"),
    ("erase", {"prompt": "a saucer"}, "prompt"),
    ("erase", {"style_preset": "anime"}, "style_preset"),
    ("erase", {"seed": 4_294_967_295}, "seed"),
    ("erase", {"mask": CHELSEA}, "mask"),
    ("erase", {"image": grey(600, 239), "mask": png(np.zeros((239, 600), np.uint8))}, "image"),
    ("remove-background", {"n": 2}, "n"),
    ("remove-background", {"seed": 1}, "seed"),
    ("remove-background", {"output_format": "jpeg"}, "output_format"),
    ("remove-background", {"image": grey(2049, 2048)}, "image"),
    ("remove-background", {"image": grey(64, 161)}, "image"),
    ("remove-background", {"image": grey(63, 63)}, "image"),
]


@pytest.mark.parametrize(
    ("task", "changes", "field"),
    [pytest.param(*row, id=f"{row[0]}:{row[2]}") for row in LIMITS],
)
@pytest.mark.parametrize("content", CONTENTS)
async def test_one_step_past_a_limit_names_the_field(
    gateway: httpx.AsyncClient,
    emulator: EmulatorServer,
    content: Content,
    task: str,
    changes: dict[str, Any],
    field: str,
) -> None:
    finder = SEARCH_TOOLS[task][0] if task in SEARCH_TOOLS else "finder"
    fields = {**LIMIT_REQUESTS[task], **changes}
    sent = {(finder if k == "finder" else k): v for k, v in fields.items() if v is not None}
    named = finder if field == "finder" else field
    assert_invalid(await post(gateway, task, content, sent), emulator, named)


async def test_models_lists_the_tools_with_their_limits(gateway: httpx.AsyncClient) -> None:
    models = {m["id"]: m for m in (await gateway.get("/v1/models")).json()["models"]}
    inpaint = models["stability.stable-image-inpaint-v1:0"]
    assert inpaint["invoke_id"] == INPAINT_ID
    assert inpaint["region"] == "us-west-2"
    assert inpaint["read_timeout_s"] == 120
    assert inpaint["aliases"] == ["stability-inpaint"]
    assert inpaint["limits"]["grow_mask"] == [0, 100]
    assert inpaint["limits"]["defaults"]["grow_mask"] == 5
    assert [t["task"] for t in inpaint["tasks"]] == ["inpaint"]
    assert "mask_prompt" not in inpaint["tasks"][0]["fields"]
    outpaint = models["stability.stable-outpaint-v1:0"]
    assert outpaint["limits"]["margins"] == [0, 2000]
    assert outpaint["limits"]["creativity"] == [0.0, 1.0]
    remove = models["stability.stable-image-remove-background-v1:0"]
    assert remove["limits"]["output_formats"] == ["png", "webp"]
    assert remove["limits"]["input_image"]["max_pixels"] == 4_194_304
    assert remove["limits"]["seed"] is None
    assert remove["tasks"][0]["fields"] == ["image", "model", "n", "output_format"]
