"""The editing tools of §4b: inpaint, outpaint, search and replace, search and recolor, erase
object, remove background. Each changes only the area it is asked to, the rest stays byte-identical.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ...imaging.edit import (
    extend_canvas,
    fill_region,
    recolor,
    region_from_prompt,
    remove_background,
)
from ..base import Invocation
from .form import ImageLimits, ServiceForm, rgb

_COMMON = ("image", "seed", "output_format")
INPAINT_KEYS = (*_COMMON, "prompt", "mask", "grow_mask", "negative_prompt", "style_preset")
OUTPAINT_KEYS = (
    *_COMMON, "left", "right", "up", "down", "prompt", "creativity", "style_preset",
)  # fmt: skip
SEARCH_REPLACE_KEYS = (
    *_COMMON, "prompt", "search_prompt", "negative_prompt", "grow_mask", "style_preset",
)  # fmt: skip
SEARCH_RECOLOR_KEYS = (
    *_COMMON, "prompt", "select_prompt", "negative_prompt", "grow_mask", "style_preset",
)  # fmt: skip
ERASE_KEYS = (*_COMMON, "mask", "grow_mask")
REMOVE_BACKGROUND_KEYS = ("image", "output_format")
OUTPAINT_MAX = 2000

# fill_region or recolor: (image, region, prompt, seed) -> the image changed inside region only.
RegionEdit = Callable[[np.ndarray, np.ndarray, str, int], np.ndarray]


def inpaint(invocation: Invocation) -> dict[str, Any]:
    """Fill the (grown) mask from its surroundings, tinted by the prompt; the rest stays as is."""
    return _fill_mask(invocation, INPAINT_KEYS, grow_max=100)


def erase(invocation: Invocation) -> dict[str, Any]:
    """Erase object: inpainting with no prompt, the fill drawn only from the surroundings."""
    return _fill_mask(invocation, ERASE_KEYS, grow_max=20)


def search_replace(invocation: Invocation) -> dict[str, Any]:
    """Fill the area `search_prompt` names (grown by grow_mask) with what `prompt` describes."""
    return _edit_found(invocation, SEARCH_REPLACE_KEYS, "search_prompt", fill_region)


def search_recolor(invocation: Invocation) -> dict[str, Any]:
    """Recolour the area `select_prompt` names toward the colour `prompt` names."""
    return _edit_found(invocation, SEARCH_RECOLOR_KEYS, "select_prompt", recolor)


def outpaint(invocation: Invocation) -> dict[str, Any]:
    """Grow the canvas by exactly left/right/up/down pixels, the original untouched inside it."""
    form = ServiceForm(invocation, OUTPAINT_KEYS)
    image = form.image("image")
    sides = [form.integer(side, 0, OUTPAINT_MAX, 0) for side in ("left", "right", "up", "down")]
    if all(side <= 0 for side in sides):
        form.check.fail("#", "at least one of [left, right, up, down] must be greater than 0")
    prompt = form.optional_text("prompt")
    form.number("creativity", 0.0, 1.0, 0.5)
    form.variety()
    fmt = form.output_format()
    filtered = form.finish()
    if filtered is not None:
        return filtered
    left, right, up, down = sides
    grown = extend_canvas(rgb(image), left, right, up, down, prompt, form.pixel_seed)
    border = np.ones(grown.shape[:2], dtype=bool)
    border[up : up + image.shape[0], left : left + image.shape[1]] = False
    return form.respond(form.styled(grown, border), fmt)


def remove_background_tool(invocation: Invocation) -> dict[str, Any]:
    """The subject on a transparent background (RGBA), in png or webp."""
    form = ServiceForm(invocation, REMOVE_BACKGROUND_KEYS)
    image = form.image("image", limits=ImageLimits(max_pixels=4_194_304))
    form.variety()
    fmt = form.output_format(("png", "webp"))
    filtered = form.finish()
    if filtered is not None:
        return filtered
    return form.respond(remove_background(rgb(image)), fmt)


def _fill_mask(invocation: Invocation, keys: tuple[str, ...], grow_max: int) -> dict[str, Any]:
    form = ServiceForm(invocation, keys)
    image = form.image("image")
    prompt = form.text("prompt") if "prompt" in keys else None
    grow = form.integer("grow_mask", 0, grow_max, 5)
    form.variety()
    fmt = form.output_format()
    region = form.edit_region(image)
    filtered = form.finish()
    if filtered is not None:
        return filtered
    region = grow_region(region, grow)
    filled = fill_region(rgb(image), region, prompt, form.pixel_seed)
    return form.respond(form.styled(filled, region), fmt)


def _edit_found(
    invocation: Invocation, keys: tuple[str, ...], finder: str, change: RegionEdit
) -> dict[str, Any]:
    """Edit the region the `finder` prompt names, grown by grow_mask, as `prompt` says."""
    form = ServiceForm(invocation, keys)
    image = form.image("image")
    prompt = form.text("prompt")
    found = form.text(finder)
    grow = form.integer("grow_mask", 0, 20, 3)
    form.variety()
    fmt = form.output_format()
    filtered = form.finish()
    if filtered is not None:
        return filtered
    region = grow_region(region_from_prompt(image.shape[0], image.shape[1], found), grow)
    edited = change(rgb(image), region, prompt, form.pixel_seed)
    return form.respond(form.styled(edited, region), fmt)


def grow_region(region: np.ndarray, pixels: int) -> np.ndarray:
    """The region dilated by `pixels` in every direction (a square structuring element)."""
    grown = region
    for axis in (0, 1):
        grown = _dilate_along(grown, pixels, axis)
    return grown


def _dilate_along(region: np.ndarray, pixels: int, axis: int) -> np.ndarray:
    # A pixel is set when any of the 2*pixels+1 around it along the axis is: a sliding window sum
    # through a cumulative sum, the same cost for any radius.
    if pixels == 0:
        return region
    size = region.shape[axis]
    padding = [(0, 0), (0, 0)]
    padding[axis] = (pixels + 1, pixels)
    totals = np.cumsum(np.pad(region, padding).astype(np.int32), axis=axis)
    upper = np.take(totals, np.arange(2 * pixels + 1, 2 * pixels + 1 + size), axis=axis)
    lower = np.take(totals, np.arange(size), axis=axis)
    return np.asarray(upper - lower > 0)
