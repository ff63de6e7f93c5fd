"""Titan Image Generator v2 and Nova Canvas: the Titan adapter over each entry's own limits.

Exact Bedrock bodies, the images that come back, and every limit one step past it, named.
"""

from __future__ import annotations

import io
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image

from emulator.testing import EmulatorServer
from tests.support.edits import (
    ALPHA_EDIT,
    BLACK_EDIT,
    CHELSEA,
    COFFEE,
    CONTENTS,
    Content,
    answer_images,
    assert_edited_inside_only,
    post,
    region,
)
from tests.support.gateway import b64, image_size, pixels
from tests.support.problems import assert_invalid

V1 = "amazon.titan-image-generator-v1"
V2 = "amazon.titan-image-generator-v2:0"
NOVA = "amazon.nova-canvas-v1:0"
COLORS = ["#FF8800", "#0044AA", "#22AA22"]


def png_of(array: np.ndarray) -> bytes:
    """PNG bytes of uint8 pixels."""
    out = io.BytesIO()
    Image.fromarray(array).save(out, format="PNG", compress_level=1)
    return out.getvalue()


def grey_png(width: int, height: int) -> bytes:
    """An RGB PNG of that size."""
    return png_of(np.full((height, width, 3), 128, dtype=np.uint8))


# coffee.png with an alpha channel every pixel of which is opaque: Nova takes it.
OPAQUE_RGBA = png_of(np.dstack([pixels(COFFEE), np.full((400, 600), 255, np.uint8)]))


def the_body(emulator: EmulatorServer, model_id: str) -> dict[str, Any]:
    """The one body Bedrock received, after checking it went to `model_id`."""
    [record] = emulator.requests()
    assert record["model_id"] == model_id
    body: dict[str, Any] = record["body"]
    return body


class TestTextToImage:
    async def test_v2_conditioning_body_and_image(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        plain = {"model": "titan-v2", "prompt": "a cat on a sofa", "seed": 7}
        unguided = answer_images(await gateway.post("/v1/images/text-to-image", json=plain), 1)
        emulator.reset()
        guided_fields = {
            **plain,
            "condition_image": b64(CHELSEA),
            "control_mode": "SEGMENTATION",
            "control_strength": 0.9,
        }
        response = await gateway.post("/v1/images/text-to-image", json=guided_fields)
        [guided] = answer_images(response, 1)

        assert the_body(emulator, V2) == {
            "taskType": "TEXT_IMAGE",
            "textToImageParams": {
                "text": "a cat on a sofa",
                # An 8-bit RGB PNG goes through as the caller sent it.
                "conditionImage": b64(CHELSEA),
                "controlMode": "SEGMENTATION",
                "controlStrength": 0.9,
            },
            "imageGenerationConfig": {
                "numberOfImages": 1,
                "width": 1024,
                "height": 1024,
                "seed": 7,
            },
        }
        assert response.json()["model"] == V2
        assert guided["seed"] == 7
        assert image_size(guided["b64_json"]) == (1024, 1024)
        assert guided["b64_json"] != unguided[0]["b64_json"], "the condition image shapes it"

    async def test_nova_style_and_a_free_size(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        fields = {
            "model": "nova",
            "prompt": "a lighthouse at dusk",
            "negative_prompt": "boats",
            "style": "PHOTOREALISM",
            "width": 1280,
            "height": 720,
            "cfg_scale": 6.5,
            "quality": "premium",
            "seed": 858_993_459,
            "n": 2,
        }
        response = await gateway.post("/v1/images/text-to-image", json=fields)
        images = answer_images(response, 2)

        assert the_body(emulator, NOVA) == {
            "taskType": "TEXT_IMAGE",
            "textToImageParams": {
                "text": "a lighthouse at dusk",
                "negativeText": "boats",
                "style": "PHOTOREALISM",
            },
            "imageGenerationConfig": {
                "numberOfImages": 2,
                "width": 1280,
                "height": 720,
                "cfgScale": 6.5,
                "quality": "premium",
                "seed": 858_993_459,
            },
        }
        assert [i["seed"] for i in images] == [858_993_459] * 2
        assert [image_size(i["b64_json"]) for i in images] == [(1280, 720)] * 2

    async def test_nova_n7_is_calls_of_five_and_two_with_seeds_in_novas_range(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        fields = {"model": "nova", "prompt": "x", "n": 7, "seed": 858_993_459}
        images = answer_images(await gateway.post("/v1/images/text-to-image", json=fields), 7)
        configs = sorted(
            (r["body"]["imageGenerationConfig"] for r in emulator.requests()),
            key=lambda c: -c["numberOfImages"],
        )
        # One past Nova's largest seed wraps to 0, not to Titan's larger range.
        assert [(c["numberOfImages"], c["seed"]) for c in configs] == [(5, 858_993_459), (2, 0)]
        assert [i["seed"] for i in images] == [858_993_459] * 5 + [0] * 2

    async def test_nova_opaque_alpha_condition_image_is_taken(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        fields = {"model": "nova", "prompt": "x", "condition_image": b64(OPAQUE_RGBA)}
        answer_images(await gateway.post("/v1/images/text-to-image", json=fields), 1)
        sent = the_body(emulator, NOVA)["textToImageParams"]["conditionImage"]
        np.testing.assert_array_equal(pixels(sent), pixels(COFFEE))


class TestColorGuided:
    @pytest.mark.parametrize(("model", "model_id"), [("titan-v2", V2), ("nova", NOVA)])
    async def test_body_and_a_palette_image(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer, model: str, model_id: str
    ) -> None:
        fields = {
            "model": model,
            "prompt": "abstract shapes",
            "negative_prompt": "text",
            "colors": COLORS,
            "width": 768,
            "height": 1280,
            "cfg_scale": 5.0,
            "quality": "standard",
            "seed": 11,
        }
        response = await gateway.post("/v1/images/color-guided", json=fields)
        [image] = answer_images(response, 1)

        assert the_body(emulator, model_id) == {
            "taskType": "COLOR_GUIDED_GENERATION",
            "colorGuidedGenerationParams": {
                "text": "abstract shapes",
                "negativeText": "text",
                "colors": COLORS,
            },
            "imageGenerationConfig": {
                "numberOfImages": 1,
                "width": 768,
                "height": 1280,
                "cfgScale": 5.0,
                "quality": "standard",
                "seed": 11,
            },
        }
        out = pixels(image["b64_json"])
        assert out.shape == (1280, 768, 3)
        palette = {tuple(int(c[i : i + 2], 16) for i in (1, 3, 5)) for c in COLORS}
        assert {tuple(p) for p in np.unique(out.reshape(-1, 3), axis=0)} <= palette

    async def test_reference_image_and_the_default_model(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        fields = {"prompt": "a cat", "colors": COLORS, "reference_image": b64(CHELSEA)}
        response = await gateway.post("/v1/images/color-guided", json=fields)
        [image] = answer_images(response, 1)
        body = the_body(emulator, V2)
        assert response.json()["model"] == V2, "v1 cannot: the first model that can"
        assert body["colorGuidedGenerationParams"] == {
            "text": "a cat",
            "colors": COLORS,
            "referenceImage": b64(CHELSEA),
        }
        assert body["imageGenerationConfig"]["width"] == 1024
        assert image_size(image["b64_json"]) == (1024, 1024)


class TestRemoveBackground:
    @pytest.mark.parametrize("content", CONTENTS)
    @pytest.mark.parametrize(("model", "model_id"), [("titan-v2", V2), ("nova", NOVA)])
    async def test_image_only_and_a_transparent_background(
        self,
        gateway: httpx.AsyncClient,
        emulator: EmulatorServer,
        content: Content,
        model: str,
        model_id: str,
    ) -> None:
        response = await post(
            gateway, "remove-background", content, {"model": model, "image": COFFEE}
        )
        [image] = answer_images(response, 1)

        assert the_body(emulator, model_id) == {
            "taskType": "BACKGROUND_REMOVAL",
            "backgroundRemovalParams": {"image": b64(COFFEE)},
        }
        assert image["seed"] is None, "background removal takes no seed"
        out = pixels(image["b64_json"])
        assert out.shape == (400, 600, 4)
        np.testing.assert_array_equal(out[..., :3], pixels(COFFEE))
        alpha = out[..., 3]
        assert alpha[0, 0] == alpha[-1, -1] == 0
        assert alpha[200, 300] == 255

    async def test_nova_takes_an_opaque_alpha_image(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        response = await post(
            gateway, "remove-background", "multipart", {"model": "nova", "image": OPAQUE_RGBA}
        )
        answer_images(response, 1)
        sent = the_body(emulator, NOVA)["backgroundRemovalParams"]["image"]
        np.testing.assert_array_equal(pixels(sent), pixels(COFFEE))


class TestNovaEdits:
    @pytest.mark.parametrize("content", CONTENTS)
    async def test_inpaint_sends_no_size_and_a_pure_black_edit_mask(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer, content: Content
    ) -> None:
        fields = {
            "model": "nova",
            "prompt": "latte art",
            "seed": 3,
            "image": COFFEE,
            "mask": BLACK_EDIT,
        }
        [image] = answer_images(await post(gateway, "inpaint", content, fields), 1)

        body = the_body(emulator, NOVA)
        mask = body["inPaintingParams"]["maskImage"]
        assert set(np.unique(pixels(mask))) <= {0, 255}
        np.testing.assert_array_equal(region(mask), region(BLACK_EDIT))
        assert body == {
            "taskType": "INPAINTING",
            "inPaintingParams": {"text": "latte art", "image": b64(COFFEE), "maskImage": mask},
            "imageGenerationConfig": {"numberOfImages": 1, "seed": 3},
        }
        assert_edited_inside_only(image["b64_json"], COFFEE, region(BLACK_EDIT))

    async def test_outpaint_sends_the_complement_of_the_callers_mask(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        fields = {
            "model": "nova",
            "prompt": "a cafe table",
            "image": COFFEE,
            "mask": BLACK_EDIT,
            "outpainting_mode": "PRECISE",
        }
        [image] = answer_images(await post(gateway, "outpaint", "multipart", fields), 1)
        body = the_body(emulator, NOVA)
        assert "width" not in body["imageGenerationConfig"]
        np.testing.assert_array_equal(
            region(body["outPaintingParams"]["maskImage"]), ~region(BLACK_EDIT)
        )
        # PRECISE keeps what the caller did not mark, byte for byte.
        kept = ~region(BLACK_EDIT)
        np.testing.assert_array_equal(pixels(image["b64_json"])[kept], pixels(COFFEE)[kept])

    async def test_alpha_is_edit_image_is_a_mask_not_a_refused_picture(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        fields = {
            "model": "nova",
            "prompt": "latte art",
            "image": ALPHA_EDIT,
            "mask_convention": "alpha-is-edit",
        }
        answer_images(await post(gateway, "inpaint", "multipart", fields), 1)
        params = the_body(emulator, NOVA)["inPaintingParams"]
        assert pixels(params["image"]).shape == (400, 600, 3)
        np.testing.assert_array_equal(region(params["maskImage"]), region(BLACK_EDIT))


class TestModels:
    async def test_each_entry_describes_its_own_limits(self, gateway: httpx.AsyncClient) -> None:
        response = await gateway.get("/v1/models")
        assert response.status_code == 200
        models = {m["id"]: m for m in response.json()["models"]}
        v1, v2, nova = models[V1], models[V2], models[NOVA]

        assert v2["aliases"] == ["titan-v2"]
        assert nova["aliases"] == ["nova-canvas", "nova"]
        assert (v2["status"], v2["end_of_life"]) == ("retired", "2026-06-30")
        assert (nova["status"], nova["end_of_life"]) == ("retired", "2026-09-30")
        v1_tasks = {"text-to-image", "inpaint", "outpaint", "variations", "image-to-image"}
        assert {t["task"] for t in v1["tasks"]} == v1_tasks
        v2_tasks = v1_tasks | {"color-guided", "remove-background"}
        assert {t["task"] for t in v2["tasks"]} == v2_tasks
        assert {t["task"] for t in nova["tasks"]} == v2_tasks | {"virtual-try-on"}

        assert "1173x640" in v1["limits"]["sizes"]
        assert "size_rule" not in v1["limits"]
        assert v1["limits"]["seed"] == v2["limits"]["seed"] == [0, 2_147_483_646]
        assert (v1["limits"]["conditioning"], v2["limits"]["conditioning"]) == (False, True)
        assert "styles" not in v1["limits"]
        assert "styles" not in v2["limits"]
        assert v2["limits"]["defaults"]["control_strength"] == 0.7

        limits = nova["limits"]
        assert "sizes" not in limits
        assert limits["size_rule"] == {
            "min_side": 320,
            "max_side": 4096,
            "multiple_of": 16,
            "max_aspect": 4.0,
            "max_pixels_below": 4_194_304,
        }
        assert limits["seed"] == [0, 858_993_459]
        assert limits["prompt_max_chars"] == 1024
        assert limits["defaults"]["cfg_scale"] == 6.5
        assert "PHOTOREALISM" in limits["styles"]
        assert len(limits["styles"]) == 8
        assert limits["input_alpha"] == "refused unless fully opaque"


T2I = "text-to-image"
_NOVA = {"model": "nova", "prompt": "x"}
_V2 = {"model": "titan-v2", "prompt": "x"}
_V1 = {"model": "titan", "prompt": "x"}

REFUSED: list[tuple[str, str, Content, dict[str, Any], tuple[str, ...]]] = [
    # id, task, content, fields, the fields the answer must name
    ("nova not /16", T2I, "json", {**_NOVA, "width": 1000, "height": 1000}, ("width", "height")),
    ("nova height not /16", T2I, "json", {**_NOVA, "width": 1024, "height": 1032}, ("height",)),
    ("nova aspect past 4:1", T2I, "json", {**_NOVA, "width": 320, "height": 1600}, ("width",)),
    ("nova aspect one step", T2I, "json", {**_NOVA, "width": 320, "height": 1296}, ("width",)),
    ("nova 2048x2048 pixels", T2I, "json", {**_NOVA, "width": 2048, "height": 2048}, ("width",)),
    ("nova side 304", T2I, "json", {**_NOVA, "width": 304, "height": 320}, ("width",)),
    ("nova width alone", T2I, "json", {**_NOVA, "width": 1024}, ("height",)),
    ("nova seed past", T2I, "json", {**_NOVA, "seed": 858_993_460}, ("seed",)),
    ("nova prompt 1025", T2I, "json", {**_NOVA, "prompt": "x" * 1025}, ("prompt",)),
    ("nova negative 1025", T2I, "json", {**_NOVA, "negative_prompt": "x" * 1025},
     ("negative_prompt",)),
    ("nova negative empty", T2I, "json", {**_NOVA, "negative_prompt": ""}, ("negative_prompt",)),
    ("nova cfg 10.1", T2I, "json", {**_NOVA, "cfg_scale": 10.1}, ("cfg_scale",)),
    ("nova cfg 1.0", T2I, "json", {**_NOVA, "cfg_scale": 1.0}, ("cfg_scale",)),
    ("nova bad style", T2I, "json", {**_NOVA, "style": "ANIME"}, ("style",)),
    ("nova control strength 1.1", T2I, "json",
     {**_NOVA, "condition_image": b64(CHELSEA), "control_strength": 1.1}, ("control_strength",)),
    ("control mode alone", T2I, "json", {**_V2, "control_mode": "CANNY_EDGE"}, ("control_mode",)),
    ("control strength alone", T2I, "json", {**_NOVA, "control_strength": 0.5},
     ("control_strength",)),
    ("nova partial alpha condition", T2I, "json", {**_NOVA, "condition_image": b64(ALPHA_EDIT)},
     ("condition_image",)),
    ("v2 prompt 513", T2I, "json", {**_V2, "prompt": "x" * 513}, ("prompt",)),
    ("v2 seed past", T2I, "json", {**_V2, "seed": 2_147_483_647}, ("seed",)),
    ("v2 nova size", T2I, "json", {**_V2, "width": 1280, "height": 720}, ("width",)),
    ("v2 takes no style", T2I, "json", {**_V2, "style": "PHOTOREALISM"}, ("style",)),
    ("v2 condition side 1409", T2I, "json", {**_V2, "condition_image": b64(grey_png(1409, 64))},
     ("condition_image",)),
    ("v1 takes no conditioning", T2I, "json",
     {**_V1, "condition_image": b64(CHELSEA), "control_mode": "SEGMENTATION",
      "control_strength": 0.5}, ("condition_image", "control_mode", "control_strength")),
    ("v1 takes no style", T2I, "json", {**_V1, "style": "PHOTOREALISM"}, ("style",)),
    ("v1 no colour guidance", "color-guided", "json", {**_V1, "colors": COLORS}, ("model",)),
    ("v1 no background removal", "remove-background", "multipart",
     {"model": "titan", "image": COFFEE}, ("model",)),
    ("eleven colours", "color-guided", "json", {**_V2, "colors": ["#000000"] * 11}, ("colors",)),
    ("no colours", "color-guided", "json", {**_V2, "colors": []}, ("colors",)),
    ("colour not hex", "color-guided", "json", {**_V2, "colors": ["#FFF"]}, ("colors[0]",)),
    ("colour-guided takes no style", "color-guided", "json",
     {**_NOVA, "colors": COLORS, "style": "PHOTOREALISM"}, ("style",)),
    ("colour-guided nova size", "color-guided", "json",
     {**_NOVA, "colors": COLORS, "width": 1000, "height": 1024}, ("width",)),
    ("colour-guided v2 seed", "color-guided", "json",
     {**_V2, "colors": COLORS, "seed": 2_147_483_647}, ("seed",)),
    ("colour-guided reference side", "color-guided", "json",
     {**_V2, "colors": COLORS, "reference_image": b64(grey_png(64, 1409))}, ("reference_image",)),
    ("nova partial alpha image", "image-to-image", "multipart",
     {"model": "nova", "image": ALPHA_EDIT}, ("image",)),
    ("nova partial alpha variation", "variations", "multipart",
     {"model": "nova", "images": [COFFEE, ALPHA_EDIT]}, ("images[1]",)),
    ("nova similarity 0.19", "variations", "json",
     {"model": "nova", "images": [COFFEE], "similarity_strength": 0.19}, ("similarity_strength",)),
    ("nova input side 4097", "image-to-image", "multipart",
     {"model": "nova", "image": grey_png(4097, 64)}, ("image",)),
    ("nova input pixels", "image-to-image", "multipart",
     {"model": "nova", "image": grey_png(2049, 2048)}, ("image",)),
    ("nova inpaint width", "inpaint", "json",
     {"model": "nova", "image": COFFEE, "mask": BLACK_EDIT, "width": 1024}, ("width",)),
    ("nova outpaint height", "outpaint", "multipart",
     {"model": "nova", "prompt": "x", "image": COFFEE, "mask": BLACK_EDIT, "height": 1024},
     ("height",)),
    ("nova mask prompt 1025", "inpaint", "json",
     {"model": "nova", "image": COFFEE, "mask_prompt": "x" * 1025}, ("mask_prompt",)),
    ("v2 mask prompt 513", "inpaint", "json",
     {"model": "titan-v2", "image": COFFEE, "mask_prompt": "x" * 513}, ("mask_prompt",)),
    ("nova partial alpha inpaint image", "inpaint", "multipart",
     {"model": "nova", "image": ALPHA_EDIT, "mask": BLACK_EDIT}, ("image",)),
    ("background removal n 2", "remove-background", "multipart",
     {"model": "nova", "image": COFFEE, "n": 2}, ("n",)),
    ("background removal takes no seed", "remove-background", "json",
     {"model": "titan-v2", "image": COFFEE, "seed": 1}, ("seed",)),
    ("nova partial alpha background removal", "remove-background", "json",
     {"model": "nova", "image": ALPHA_EDIT}, ("image",)),
    ("v2 background removal side 1409", "remove-background", "json",
     {"model": "titan-v2", "image": grey_png(1409, 64)}, ("image",)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("task", "content", "fields", "named"),
    [case[1:] for case in REFUSED],
    ids=[case[0] for case in REFUSED],
)
async def test_refused_naming_the_field(
    gateway: httpx.AsyncClient,
    emulator: EmulatorServer,
    task: str,
    content: Content,
    fields: dict[str, Any],
    named: tuple[str, ...],
) -> None:
    assert_invalid(await post(gateway, task, content, fields), emulator, *named)


ACCEPTED: list[tuple[str, str, dict[str, Any], tuple[int, int]]] = [
    # id, task, fields, the output size
    ("nova 1280x720", T2I, {**_NOVA, "width": 1280, "height": 720}, (1280, 720)),
    ("nova 4:1", T2I, {**_NOVA, "width": 1280, "height": 320}, (1280, 320)),
    ("nova largest square", T2I, {**_NOVA, "width": 2032, "height": 2032}, (2032, 2032)),
    ("nova prompt 1024", T2I, {**_NOVA, "prompt": "x" * 1024}, (1024, 1024)),
    ("v2 allowed pair", T2I, {**_V2, "width": 1173, "height": 640}, (1173, 640)),
    ("v2 prompt 512", T2I, {**_V2, "prompt": "x" * 512}, (1024, 1024)),
    ("v2 largest seed", T2I, {**_V2, "seed": 2_147_483_646}, (1024, 1024)),
    ("nova variation size", "variations", {"model": "nova", "images": [COFFEE], "width": 640,
     "height": 400, "similarity_strength": 0.2}, (640, 400)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("task", "fields", "size"), [case[1:] for case in ACCEPTED], ids=[case[0] for case in ACCEPTED]
)
async def test_accepted_at_the_limit(
    gateway: httpx.AsyncClient, task: str, fields: dict[str, Any], size: tuple[int, int]
) -> None:
    content: Content = "json"
    [image] = answer_images(await post(gateway, task, content, fields), 1)
    assert image_size(image["b64_json"]) == size


async def test_v1_message_names_what_it_takes(
    gateway: httpx.AsyncClient, emulator: EmulatorServer
) -> None:
    response = await gateway.post("/v1/images/text-to-image", json={**_V1, "style": "MAXIMALISM"})
    assert_invalid(response, emulator, "style")
    [error] = response.json()["errors"]
    assert error["message"].startswith(f"not taken by {V1} for text-to-image; it takes: ")
    assert "condition_image" not in error["message"]


async def test_nova_transparency_message(
    gateway: httpx.AsyncClient, emulator: EmulatorServer
) -> None:
    fields = {"model": "nova", "image": ALPHA_EDIT}
    response = await post(gateway, "remove-background", "multipart", fields)
    assert_invalid(response, emulator, "image")
    [error] = response.json()["errors"]
    assert "transparent pixels" in error["message"]
    assert NOVA in error["message"]
