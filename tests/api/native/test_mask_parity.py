"""The same caller mask edits the same pixels on every model.

Each family wants its own mask on the wire (Titan black = edit, SDXL MASK_IMAGE_WHITE, Stability's
Image Services white = edit or the image's alpha); each adapter converts the caller's mask. The
emulator's fills change every pixel inside the mask they receive and none outside it, so the set
of changed pixels is exactly the region the model was sent: equal to the caller's region only when
the adapter converted it right. Stability grows its mask by default: grow_mask 0 keeps it exact.
"""

from __future__ import annotations

from typing import Any

import httpx
import numpy as np
import pytest

from emulator.testing import EmulatorServer
from tests.support.edits import (
    ALPHA_EDIT,
    BLACK_EDIT,
    COFFEE,
    CONTENTS,
    SDXL_ALPHA_EDIT,
    SDXL_BLACK_EDIT,
    SDXL_COFFEE,
    SDXL_WHITE_EDIT,
    WHITE_EDIT,
    Content,
    answer_images,
    post,
    region,
)
from tests.support.gateway import pixels

# "image-alpha": no mask at all, the image's own transparent pixels mark the edit.
CONVENTIONS = ("black-is-edit", "white-is-edit", "alpha-is-edit", "image-alpha")
# Per model: the task, extra fields, the photo and its masks. SDXL takes 262,144 to 1,048,576
# pixels: it gets the 1216x832 copy and the masks resized to it (nearest, so still binary).
MODELS: dict[str, tuple[str, dict[str, Any], bytes, dict[str, bytes]]] = {
    "titan": (
        "inpaint",
        {"prompt": "a chocolate biscuit"},
        COFFEE,
        {"black-is-edit": BLACK_EDIT, "white-is-edit": WHITE_EDIT, "alpha-is-edit": ALPHA_EDIT},
    ),
    "sdxl": (
        "inpaint",
        {"prompt": "a chocolate biscuit"},
        SDXL_COFFEE,
        {
            "black-is-edit": SDXL_BLACK_EDIT,
            "white-is-edit": SDXL_WHITE_EDIT,
            "alpha-is-edit": SDXL_ALPHA_EDIT,
        },
    ),
    "stability-inpaint": (
        "inpaint",
        {"prompt": "a chocolate biscuit", "grow_mask": 0},
        COFFEE,
        {"black-is-edit": BLACK_EDIT, "white-is-edit": WHITE_EDIT, "alpha-is-edit": ALPHA_EDIT},
    ),
    "erase": (
        "erase",
        {"grow_mask": 0},
        COFFEE,
        {"black-is-edit": BLACK_EDIT, "white-is-edit": WHITE_EDIT, "alpha-is-edit": ALPHA_EDIT},
    ),
}


def caller_fields(model: str, convention: str) -> dict[str, Any]:
    """The request marking the ellipse in `convention` (image-alpha: the alpha photo, no mask)."""
    _, extra, photo, masks = MODELS[model]
    if convention == "image-alpha":
        return {**extra, "mask_convention": "alpha-is-edit", "image": masks["alpha-is-edit"]}
    return {**extra, "mask_convention": convention, "image": photo, "mask": masks[convention]}


@pytest.mark.parametrize("content", CONTENTS)
@pytest.mark.parametrize("convention", CONVENTIONS)
@pytest.mark.parametrize("model", list(MODELS))
async def test_changed_pixels_are_the_callers_region(
    gateway: httpx.AsyncClient,
    emulator: EmulatorServer,
    model: str,
    convention: str,
    content: Content,
) -> None:
    task, _, _, masks = MODELS[model]
    fields = {"model": model, "seed": 17, **caller_fields(model, convention)}
    [image] = answer_images(await post(gateway, task, content, fields), 1)

    edited = region(masks["black-is-edit"])
    # Compared with the image sent: SDXL's alpha copy was resized apart from its RGB copy.
    out, original = pixels(image["b64_json"])[..., :3], pixels(fields["image"])[..., :3]
    assert out.shape == original.shape
    changed = (out != original).any(axis=2)
    assert changed.sum() == edited.sum() > 0
    np.testing.assert_array_equal(changed, edited)


@pytest.mark.parametrize("model", ["stability-inpaint", "erase"])
async def test_mask_files_give_the_same_call_and_image(
    gateway: httpx.AsyncClient, emulator: EmulatorServer, model: str
) -> None:
    # Titan and SDXL are checked so in test_masks.py; here the Image Services.
    task = MODELS[model][0]
    results = []
    for convention in CONVENTIONS[:3]:
        fields = {"model": model, "seed": 8, **caller_fields(model, convention)}
        [image] = answer_images(await post(gateway, task, "json", fields), 1)
        results.append(image["b64_json"])
    received = [record["body"] for record in emulator.requests()]
    assert len(received) == 3
    assert received[1:] == received[:1] * 2
    assert results[1:] == results[:1] * 2
