"""Nova Canvas VIRTUAL_TRY_ON: the garment lands where the mask type says, the rest of the person
is kept pixel for pixel, and every schema violation is named by its path."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tests.support.emulator_calls import (
    NOVA,
    TITAN_V2,
    decode,
    file_b64,
    file_pixels,
    invoke,
    pixels_b64,
)

PERSON = file_b64("astronaut.png")
PERSON_PIXELS = file_pixels("astronaut.png")[..., :3]
GARMENT_PIXELS = np.zeros((200, 160, 3), np.uint8)
GARMENT_PIXELS[..., 2] = 220  # a blue shirt
GARMENT = pixels_b64(GARMENT_PIXELS)


def try_on(mask_type: str, **params: Any) -> dict[str, Any]:
    body = {"sourceImage": PERSON, "referenceImage": GARMENT, "maskType": mask_type, **params}
    return {"taskType": "VIRTUAL_TRY_ON", "virtualTryOnParams": body}


def box_mask(top: int, bottom: int, left: int, right: int) -> tuple[str, np.ndarray]:
    """A Nova mask (black inside) of the person's size, and its inside."""
    height, width = PERSON_PIXELS.shape[:2]
    inside = np.zeros((height, width), bool)
    inside[top:bottom, left:right] = True
    pixels = np.where(inside[..., None], 0, 255).astype(np.uint8).repeat(3, axis=2)
    return pixels_b64(pixels), inside


def test_an_image_mask_puts_the_garment_inside_and_keeps_the_rest(runtime: Any) -> None:
    mask, inside = box_mask(100, 300, 150, 350)
    body = try_on("IMAGE", imageBasedMask={"maskImage": mask}, returnMask=True)
    answer = invoke(runtime, NOVA, body)
    [image] = [decode(data) for data in answer["images"]]
    assert image.shape == PERSON_PIXELS.shape
    assert np.array_equal(image[~inside], PERSON_PIXELS[~inside])
    blue = image[inside].astype(int)
    assert blue[:, 2].mean() > 200
    assert blue[:, :2].mean() < 10
    returned = decode(answer["maskImage"]).reshape(*inside.shape, -1)
    assert np.array_equal(returned[..., 0] == 0, inside)


def test_a_garment_class_picks_the_body_area(runtime: Any) -> None:
    height = PERSON_PIXELS.shape[0]
    upper = decode(invoke(runtime, NOVA, try_on("GARMENT"))["images"][0])
    lower = decode(
        invoke(runtime, NOVA, try_on("GARMENT", garmentBasedMask={"garmentClass": "LONG_PANTS"}))[
            "images"
        ][0]
    )
    changed_rows = [
        np.flatnonzero((image != PERSON_PIXELS).any(axis=(1, 2))) for image in (upper, lower)
    ]
    assert changed_rows[0].min() >= int(0.25 * height) - 1
    assert changed_rows[0].max() < int(0.6 * height)
    assert changed_rows[1].min() >= int(0.5 * height) - 1


def test_seamless_keeps_some_of_the_person_and_a_batch_differs(runtime: Any) -> None:
    mask, inside = box_mask(50, 250, 50, 250)
    params = {"imageBasedMask": {"maskImage": mask}}
    balanced = decode(invoke(runtime, NOVA, try_on("IMAGE", **params))["images"][0])
    seamless = decode(
        invoke(runtime, NOVA, try_on("IMAGE", mergeStyle="SEAMLESS", **params))["images"][0]
    )
    person = PERSON_PIXELS[inside].astype(float)
    assert np.abs(seamless[inside] - person).mean() < np.abs(balanced[inside] - person).mean()
    batch = try_on("IMAGE", **params) | {"imageGenerationConfig": {"numberOfImages": 2}}
    first, second = (decode(data) for data in invoke(runtime, NOVA, batch)["images"])
    assert not np.array_equal(first, second)


TRY_ON_LIMITS: list[tuple[str, dict[str, Any], str]] = [
    (NOVA, try_on("IMAGE"), "#/virtualTryOnParams: required key [imageBasedMask] not found"),
    (NOVA, try_on("PROMPT", promptBasedMask={}),
     "#/virtualTryOnParams/promptBasedMask: required key [maskPrompt] not found"),
    (NOVA, try_on("SHIRT"), "#/virtualTryOnParams/maskType: 'SHIRT' is not a valid enum"),
    (NOVA, try_on("GARMENT", promptBasedMask={"maskPrompt": "the shirt"}),
     "#/virtualTryOnParams/promptBasedMask: not allowed with maskType GARMENT"),
    (NOVA, try_on("GARMENT", garmentBasedMask={"garmentClass": "HAT"}),
     "#/virtualTryOnParams/garmentBasedMask/garmentClass: 'HAT' is not a valid enum"),
    (NOVA, try_on("GARMENT", mergeStyle="FAST"), "#/virtualTryOnParams/mergeStyle"),
    (NOVA, try_on("GARMENT", maskExclusions={"preserveFace": "yes"}),
     "#/virtualTryOnParams/maskExclusions/preserveFace: expected type: Boolean"),
    (NOVA, try_on("GARMENT", referenceImage=None),
     "#/virtualTryOnParams: required key [referenceImage] not found"),
    (NOVA, try_on("GARMENT") | {"imageGenerationConfig": {"width": 512}},
     "#/imageGenerationConfig: extraneous key [width]"),
    (NOVA, try_on("IMAGE", imageBasedMask={"maskImage": GARMENT}),
     "#/virtualTryOnParams/imageBasedMask/maskImage: mask size 160x200 does not match"),
    (TITAN_V2, try_on("GARMENT"), "#/taskType: 'VIRTUAL_TRY_ON' is not a valid enum"),
]  # fmt: skip


@pytest.mark.parametrize(("model_id", "body", "field"), TRY_ON_LIMITS)
def test_a_bad_try_on_is_refused_naming_the_field(
    runtime: Any, model_id: str, body: dict[str, Any], field: str
) -> None:
    params = body.get("virtualTryOnParams", {})
    body["virtualTryOnParams"] = {k: v for k, v in params.items() if v is not None}
    with pytest.raises(runtime.exceptions.ValidationException) as info:
        invoke(runtime, model_id, body)
    assert field in info.value.response["Error"]["Message"]
