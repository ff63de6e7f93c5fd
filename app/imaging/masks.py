"""Edit masks in the three conventions callers use, reduced to one region and re-encoded."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

import numpy as np
from PIL import Image

from app.imaging.inputs import ImageInputError, InputImage, encode_png, load_pixels


class MaskConvention(StrEnum):
    """Which pixels of a caller's mask mark the area to edit."""

    BLACK_IS_EDIT = "black-is-edit"  # Titan, Nova
    WHITE_IS_EDIT = "white-is-edit"  # Stability
    ALPHA_IS_EDIT = "alpha-is-edit"  # OpenAI: transparent pixels


# Values in this band are neither clearly black nor clearly white (or opaque/transparent); a few
# come from anti-aliased edges and JPEG noise, many mean the caller sent a photo or a soft matte.
_MID_LOW, _MID_HIGH = 32, 223
_MAX_MID_FRACTION = 0.10
_THRESHOLD = 128


def _luminance(pixels: np.ndarray) -> np.ndarray:
    # Pillow's "L" conversion (ITU-R 601-2 luma) runs in C, without wide temporaries; ignores alpha.
    rgb = pixels if pixels.shape[2] == 3 else np.ascontiguousarray(pixels[:, :, :3])
    return np.asarray(Image.fromarray(rgb).convert("L"))


def _check_near_binary(values: np.ndarray, are: str) -> None:
    mid = np.count_nonzero((values >= _MID_LOW) & (values <= _MID_HIGH))
    fraction = mid / values.size
    if fraction > _MAX_MID_FRACTION:
        raise ImageInputError(
            f"is not a black-and-white mask: {fraction:.0%} of its pixels are {are} "
            f"(at most {_MAX_MID_FRACTION:.0%} may be, for anti-aliased edges)"
        )


def edit_region(mask: InputImage, convention: MaskConvention) -> np.ndarray:
    """The pixels to edit as a bool HxW array, thresholded at 128.

    black/white conventions read the luminance, alpha-is-edit the alpha channel (alpha < 128 is
    edit). A mask with more than 10% mid-tone pixels is refused as not black-and-white; an empty
    region is returned as is.
    """
    if convention is MaskConvention.ALPHA_IS_EDIT:
        if not mask.has_alpha:
            raise ImageInputError(
                "has no alpha channel; alpha-is-edit needs a PNG with transparency"
            )
        alpha = load_pixels(mask)[:, :, 3]
        _check_near_binary(alpha, "partly transparent")
        return alpha < _THRESHOLD
    luma = _luminance(load_pixels(mask))
    _check_near_binary(luma, "grey")
    if convention is MaskConvention.BLACK_IS_EDIT:
        return luma < _THRESHOLD
    return luma >= _THRESHOLD


def encode_mask(region: np.ndarray, *, edit: Literal["black", "white"]) -> bytes:
    """An 8-bit PNG of ``region`` with edit pixels in the ``edit`` colour and the rest opposite.

    Black-edit masks are RGB (Titan wants (0,0,0) and (255,255,255)); white-edit masks are L.
    """
    edit_value, keep_value = (0, 255) if edit == "black" else (255, 0)
    grey = np.where(np.asarray(region, dtype=bool), edit_value, keep_value).astype(np.uint8)
    return encode_png(np.repeat(grey[:, :, None], 3, axis=2) if edit == "black" else grey)


def check_same_size(image: InputImage, mask: InputImage) -> str | None:
    """None when the mask matches the image's size, else a message completing "mask ..."."""
    if (mask.width, mask.height) == (image.width, image.height):
        return None
    return (
        f"is {mask.width}x{mask.height} but the image is {image.width}x{image.height}; "
        "they must match"
    )
