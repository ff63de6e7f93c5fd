"""Mask conventions through the gateway: what the models receive, and which pixels change."""

from __future__ import annotations

import io
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image, ImageFilter

from emulator.testing import EmulatorServer
from tests.support.edits import (
    ALPHA_EDIT,
    BLACK_EDIT,
    COFFEE,
    CONTENTS,
    SDXL_ALPHA_EDIT,
    SDXL_BLACK_EDIT,
    SDXL_COFFEE,
    SDXL_ID,
    SDXL_WHITE_EDIT,
    TITAN_ID,
    WHITE_EDIT,
    Content,
    answer_images,
    assert_edited_inside_only,
    bodies,
    post,
    region,
)
from tests.support.gateway import image_size, pixels
from tests.support.problems import assert_invalid

MODELS = ("titan", "sdxl")
# Per model: the image, and its masks in each convention (all marking the same ellipse).
INPUTS: dict[str, tuple[bytes, dict[str, bytes]]] = {
    "titan": (
        COFFEE,
        {"black-is-edit": BLACK_EDIT, "white-is-edit": WHITE_EDIT, "alpha-is-edit": ALPHA_EDIT},
    ),
    "sdxl": (
        SDXL_COFFEE,
        {
            "black-is-edit": SDXL_BLACK_EDIT,
            "white-is-edit": SDXL_WHITE_EDIT,
            "alpha-is-edit": SDXL_ALPHA_EDIT,
        },
    ),
}
MODEL_IDS = {"titan": TITAN_ID, "sdxl": SDXL_ID}


def sent_mask(body: dict[str, Any]) -> str:
    """The mask image of a Titan or SDXL masking body."""
    for params in ("inPaintingParams", "outPaintingParams"):
        if params in body:
            mask: str = body[params]["maskImage"]
            return mask
    mask = body["mask_image"]
    return mask


def sent_image(body: dict[str, Any]) -> str:
    """The input image of a Titan or SDXL masking body."""
    for params in ("inPaintingParams", "outPaintingParams"):
        if params in body:
            image: str = body[params]["image"]
            return image
    image = body["init_image"]
    return image


def encoded(image: Image.Image, fmt: str, **options: Any) -> bytes:
    """`image` saved in `fmt`."""
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


class TestConventions:
    @pytest.mark.parametrize("content", CONTENTS)
    @pytest.mark.parametrize("model", MODELS)
    async def test_three_conventions_send_the_same_mask(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer, model: str, content: Content
    ) -> None:
        image, masks = INPUTS[model]
        edited = region(masks["black-is-edit"])
        results = []
        for convention, mask in masks.items():
            fields = {
                "model": model,
                "prompt": "a chocolate biscuit",
                "seed": 6,
                "mask_convention": convention,
                "image": image,
                "mask": mask,
            }
            [answer] = answer_images(await post(gateway, "inpaint", content, fields), 1)
            results.append(answer["b64_json"])

        received = bodies(emulator, MODEL_IDS[model])
        assert len(received) == 3
        # Titan's black and SDXL's white (MASK_IMAGE_WHITE) mark the ellipse, pure 0 and 255.
        expected = masks["black-is-edit"] if model == "titan" else masks["white-is-edit"]
        for body in received:
            np.testing.assert_array_equal(pixels(sent_mask(body)), pixels(expected))
            assert body == received[0]
        assert results[1:] == results[:1] * 2
        assert_edited_inside_only(results[0], image, edited)

    @pytest.mark.parametrize("convention", ["black-is-edit", "white-is-edit", "alpha-is-edit"])
    async def test_outpaint_sends_titan_the_complement(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer, convention: str
    ) -> None:
        # The caller marks the ellipse to generate; Titan's black marks what to keep.
        fields = {
            "model": "titan",
            "prompt": "a biscuit",
            "seed": 2,
            "outpainting_mode": "PRECISE",
            "mask_convention": convention,
            "image": COFFEE,
            "mask": INPUTS["titan"][1][convention],
        }
        [answer] = answer_images(await post(gateway, "outpaint", "multipart", fields), 1)

        [body] = bodies(emulator, TITAN_ID)
        np.testing.assert_array_equal(pixels(sent_mask(body)), pixels(WHITE_EDIT))
        assert_edited_inside_only(answer["b64_json"], COFFEE, region(BLACK_EDIT))

    async def test_outpaint_sends_sdxl_the_region_itself(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer
    ) -> None:
        fields = {
            "model": "sdxl",
            "prompt": "a biscuit",
            "image": SDXL_COFFEE,
            "mask": SDXL_BLACK_EDIT,
        }
        [answer] = answer_images(await post(gateway, "outpaint", "json", fields), 1)

        [body] = bodies(emulator, SDXL_ID)
        np.testing.assert_array_equal(pixels(sent_mask(body)), pixels(SDXL_WHITE_EDIT))
        assert_edited_inside_only(answer["b64_json"], SDXL_COFFEE, region(SDXL_BLACK_EDIT))

    @pytest.mark.parametrize("content", CONTENTS)
    @pytest.mark.parametrize("model", MODELS)
    async def test_alpha_is_edit_without_mask_reads_the_image_alpha(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer, model: str, content: Content
    ) -> None:
        masks = INPUTS[model][1]
        photo = masks["alpha-is-edit"]  # the photo itself, transparent on the ellipse
        fields = {
            "model": model,
            "prompt": "a biscuit",
            "seed": 4,
            "mask_convention": "alpha-is-edit",
            "image": photo,
        }
        [answer] = answer_images(await post(gateway, "inpaint", content, fields), 1)

        [body] = bodies(emulator, MODEL_IDS[model])
        expected = masks["black-is-edit"] if model == "titan" else masks["white-is-edit"]
        np.testing.assert_array_equal(pixels(sent_mask(body)), pixels(expected))
        # Models take 8-bit RGB: the transparent pixels are flattened onto white.
        edited = region(masks["black-is-edit"])
        sent = pixels(sent_image(body))
        assert sent.shape == (*edited.shape, 3)
        np.testing.assert_array_equal(sent[~edited], pixels(photo)[..., :3][~edited])
        assert (sent[edited] == 255).all()
        assert image_size(answer["b64_json"]) == (edited.shape[1], edited.shape[0])
        np.testing.assert_array_equal(pixels(answer["b64_json"])[~edited], sent[~edited])


def jpeg_mask(raw: bytes) -> bytes:
    """A black-edit mask as a lossy JPEG: noise around the edges."""
    with Image.open(io.BytesIO(raw)) as image:
        return encoded(image.convert("RGB"), "JPEG", quality=70)


def blurred_mask(raw: bytes) -> bytes:
    """A black-edit mask with soft, anti-aliased edges."""
    with Image.open(io.BytesIO(raw)) as image:
        return encoded(image.convert("L").filter(ImageFilter.GaussianBlur(1.5)), "PNG")


class TestNearBinaryMasks:
    @pytest.mark.parametrize("damage", [jpeg_mask, blurred_mask], ids=["jpeg", "blurred"])
    @pytest.mark.parametrize("model", MODELS)
    async def test_thresholded_to_the_same_region(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer, model: str, damage: Any
    ) -> None:
        image, masks = INPUTS[model]
        mask = damage(masks["black-is-edit"])
        edited = region(masks["black-is-edit"])
        assert not np.isin(pixels(mask), (0, 255)).all()  # the damage is real
        fields = {"model": model, "prompt": "a biscuit", "seed": 1, "image": image, "mask": mask}
        answer_images(await post(gateway, "inpaint", "json", fields), 1)

        [body] = bodies(emulator, MODEL_IDS[model])
        sent = pixels(sent_mask(body))
        assert np.isin(sent, (0, 255)).all()
        found = region(sent_mask(body)) if model == "titan" else ~region(sent_mask(body))
        # Only pixels along the ellipse's edge may differ.
        assert np.count_nonzero(found != edited) <= 0.05 * np.count_nonzero(edited)


class TestRefusedMasks:
    @pytest.mark.parametrize("content", CONTENTS)
    @pytest.mark.parametrize("model", MODELS)
    @pytest.mark.parametrize(
        ("case", "field"),
        [
            ("photo", "mask"),
            ("other size", "mask"),
            ("mask and mask_prompt", "mask_prompt"),
            ("neither", "mask"),
            ("no alpha in mask", "mask"),
            ("no alpha in image", "mask"),
        ],
    )
    async def test_refused_before_any_call(
        self,
        gateway: httpx.AsyncClient,
        emulator: EmulatorServer,
        model: str,
        content: Content,
        case: str,
        field: str,
    ) -> None:
        image, masks = INPUTS[model]
        other_size = INPUTS["sdxl" if model == "titan" else "titan"][1]["black-is-edit"]
        cases: dict[str, dict[str, Any]] = {
            "photo": {"mask": image},
            "other size": {"mask": other_size},
            "mask and mask_prompt": {"mask": masks["black-is-edit"], "mask_prompt": "the cup"},
            "neither": {},
            "no alpha in mask": {
                "mask": masks["black-is-edit"],
                "mask_convention": "alpha-is-edit",
            },
            "no alpha in image": {"mask_convention": "alpha-is-edit"},
        }
        extra = cases[case]
        fields = {"model": model, "prompt": "a biscuit", "image": image, **extra}
        response = await post(gateway, "inpaint", content, fields)
        assert_invalid(response, emulator, field)

    @pytest.mark.parametrize(("model", "too_long"), [("titan", 513), ("sdxl", 2001)])
    async def test_photo_mask_listed_with_every_other_bad_field(
        self, gateway: httpx.AsyncClient, emulator: EmulatorServer, model: str, too_long: int
    ) -> None:
        # Every bad field in one answer: the caller must not learn of the mask on a second try.
        image = INPUTS[model][0]
        fields = {"model": model, "prompt": "x" * too_long, "image": image, "mask": image}
        response = await post(gateway, "inpaint", "json", fields)
        assert_invalid(response, emulator, "mask", "prompt")
