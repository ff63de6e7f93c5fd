"""Nova Canvas VIRTUAL_TRY_ON: a garment from `referenceImage` dressed onto `sourceImage`.

The body (virtualTryOnParams): both images, a `maskType` saying where the garment goes (IMAGE: the
black pixels of imageBasedMask.maskImage; GARMENT: the body area of garmentBasedMask.garmentClass;
PROMPT: what promptBasedMask.maskPrompt names), optional maskExclusions, mergeStyle and returnMask.
Its imageGenerationConfig takes no size: the output has the source image's size.

The output is procedural and measurable: outside the region the source is kept pixel for pixel;
inside, the reference image (resized to the region's bounding box) replaces it, fully with the
BALANCED and DETAILED merge styles and mixed 80/20 with the source with SEAMLESS; each image's
seed adds a grain of a few levels to the garment, so the images of a batch differ.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..imaging.edit import region_from_prompt, resize
from .checks import Checker

MASK_TYPES = ("IMAGE", "GARMENT", "PROMPT")
MASK_OBJECTS = {
    "IMAGE": "imageBasedMask",
    "GARMENT": "garmentBasedMask",
    "PROMPT": "promptBasedMask",
}
MASK_SHAPES = ("CONTOUR", "BOUNDING_BOX", "DEFAULT")
MERGE_STYLES = ("BALANCED", "SEAMLESS", "DETAILED")
# Where each garment class sits, as (top, bottom) fractions of the image's height.
_UPPER, _LOWER, _FULL, _FEET = (0.25, 0.6), (0.5, 0.9), (0.2, 0.9), (0.85, 1.0)
GARMENT_CLASSES: dict[str, tuple[float, float]] = {
    "UPPER_BODY": _UPPER,
    "LONG_SLEEVE_SHIRT": _UPPER,
    "SHORT_SLEEVE_SHIRT": _UPPER,
    "NO_SLEEVE_SHIRT": _UPPER,
    "OTHER_UPPER_BODY": _UPPER,
    "LOWER_BODY": _LOWER,
    "LONG_PANTS": _LOWER,
    "SHORT_PANTS": _LOWER,
    "OTHER_LOWER_BODY": _LOWER,
    "FULL_BODY": _FULL,
    "LONG_DRESS": _FULL,
    "SHORT_DRESS": _FULL,
    "FULL_BODY_OUTFIT": _FULL,
    "OTHER_FULL_BODY": _FULL,
    "FOOTWEAR": _FEET,
    "SHOES": _FEET,
    "BOOTS": _FEET,
    "OTHER_FOOTWEAR": _FEET,
}
_STYLING = {
    "longSleeveStyle": ("SLEEVE_DOWN", "SLEEVE_UP"),
    "tuckingStyle": ("UNTUCKED", "TUCKED"),
    "outerLayerStyle": ("CLOSED", "OPEN"),
}
_EXCLUSIONS = ("preserveBody", "preserveHands", "preserveFace")
# The share of the garment in the region's pixels, per merge style.
_GARMENT_SHARE = {"BALANCED": 1.0, "DETAILED": 1.0, "SEAMLESS": 0.8}


class TryOn:
    """A validated try-on: where the garment goes and how it is merged."""

    def __init__(self) -> None:
        self.mask_type = "GARMENT"
        self.mask_image: dict[str, Any] = {}
        self.garment_class = "UPPER_BODY"
        self.mask_prompt = ""
        self.merge_style = "BALANCED"

    def region(self, height: int, width: int, mask: np.ndarray | None) -> np.ndarray:
        """The pixels the garment covers (True)."""
        if self.mask_type == "IMAGE" and mask is not None:
            return mask
        if self.mask_type == "PROMPT":
            return region_from_prompt(height, width, self.mask_prompt)
        top, bottom = GARMENT_CLASSES.get(self.garment_class, _UPPER)
        region = np.zeros((height, width), dtype=bool)
        region[int(top * height) : int(bottom * height), int(0.2 * width) : int(0.8 * width)] = True
        return region


def parse_try_on(c: Checker, params: dict[str, Any], path: str) -> TryOn:
    """The mask choice and merge options of virtualTryOnParams (the images are the caller's)."""
    c.unknown(
        params,
        {"sourceImage", "referenceImage", "maskType", *MASK_OBJECTS.values(), "maskExclusions",
         "mergeStyle", "returnMask"},
        path,
    )  # fmt: skip
    try_on = TryOn()
    mask_type = c.enum(params, "maskType", path, MASK_TYPES, required=True)
    for kind, key in MASK_OBJECTS.items():
        if key in params and mask_type is not None and kind != mask_type:
            c.fail(f"{path}/{key}", f"not allowed with maskType {mask_type}")
    if mask_type is None:
        return try_on
    try_on.mask_type = mask_type
    key = MASK_OBJECTS[mask_type]
    where = f"{path}/{key}"
    mask = c.obj(params, key, path, required=mask_type != "GARMENT")
    if mask_type == "IMAGE":
        c.unknown(mask, {"maskImage"}, where)
        if "maskImage" not in mask:
            c.fail(where, "required key [maskImage] not found")
        try_on.mask_image = mask
    elif mask_type == "PROMPT":
        c.unknown(mask, {"maskPrompt", "maskShape"}, where)
        try_on.mask_prompt = c.string(mask, "maskPrompt", where, required=True, min_len=1) or ""
        c.enum(mask, "maskShape", where, MASK_SHAPES)
    else:
        c.unknown(mask, {"garmentClass", "maskShape", "garmentStyling"}, where)
        garment = c.enum(mask, "garmentClass", where, tuple(GARMENT_CLASSES))
        try_on.garment_class = garment or "UPPER_BODY"
        c.enum(mask, "maskShape", where, MASK_SHAPES)
        styling = c.obj(mask, "garmentStyling", where, required=False)
        c.unknown(styling, _STYLING, f"{where}/garmentStyling")
        for name, choices in _STYLING.items():
            c.enum(styling, name, f"{where}/garmentStyling", choices)
    exclusions = c.obj(params, "maskExclusions", path, required=False)
    c.unknown(exclusions, _EXCLUSIONS, f"{path}/maskExclusions")
    for name in _EXCLUSIONS:
        value = exclusions.get(name)
        if value is not None and not isinstance(value, bool):
            c.fail(f"{path}/maskExclusions/{name}", "expected type: Boolean")
    try_on.merge_style = c.enum(params, "mergeStyle", path, MERGE_STYLES) or "BALANCED"
    return try_on


def dress(
    source: np.ndarray, garment: np.ndarray, region: np.ndarray, merge_style: str, seed: int
) -> np.ndarray:
    """`source` with `garment` over `region` (see the module docstring)."""
    out = source.copy()
    rows, cols = np.flatnonzero(region.any(axis=1)), np.flatnonzero(region.any(axis=0))
    if rows.size == 0:
        return out
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    placed = np.zeros_like(source, dtype=np.float32)
    placed[top:bottom, left:right] = resize(garment, int(right - left), int(bottom - top))
    # The seed's grain: a few levels per pixel, so no two images of a batch are alike.
    placed += np.random.default_rng(seed).integers(-3, 4, placed.shape[:2])[..., None]
    share = _GARMENT_SHARE[merge_style]
    mixed = share * placed + (1 - share) * source.astype(np.float32)
    out[region] = np.clip(mixed[region] + 0.5, 0, 255).astype(np.uint8)
    return out
