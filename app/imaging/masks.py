"""Edit masks in the three conventions callers use, reduced to one region and re-encoded."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

import numpy as np
from PIL import Image
from zlib_ng import zlib_ng

from app.imaging import png
from app.imaging.inputs import (
    ImageInputError,
    InputImage,
    decoded,
    pixels_of,
)


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


def keep_planes(mask: InputImage, im: Image.Image) -> None:
    """Keep on `mask` what its edit region is read from, from `im`, the decoded mask: its
    luminance and its alpha (if any)."""
    if im.mode in ("RGB", "L") and not mask.has_alpha:
        # The common mask: the luminance straight from Pillow, without an RGB array in numpy.
        mask.planes["luma"] = np.asarray(im.convert("L"))
        return
    pixels = pixels_of(im, mask)
    mask.planes["luma"] = _luminance(pixels)
    if pixels.shape[2] == 4:
        mask.planes["alpha"] = np.ascontiguousarray(pixels[:, :, 3])


def _planes(mask: InputImage) -> dict[str, np.ndarray]:
    if "luma" not in mask.planes:
        with decoded(mask) as im:
            keep_planes(mask, im)
    return mask.planes


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
        alpha = _planes(mask)["alpha"]
        _check_near_binary(alpha, "partly transparent")
        return alpha < _THRESHOLD
    luma = _planes(mask)["luma"]
    _check_near_binary(luma, "grey")
    if convention is MaskConvention.BLACK_IS_EDIT:
        return luma < _THRESHOLD
    return luma >= _THRESHOLD


def encode_mask(region: np.ndarray, *, edit: Literal["black", "white"]) -> bytes:
    """An 8-bit PNG of ``region`` with edit pixels in the ``edit`` colour and the rest opposite.

    Black-edit masks are RGB (Titan wants (0,0,0) and (255,255,255)); white-edit masks are L.
    """
    edit_value, keep_value = (0, 255) if edit == "black" else (255, 0)
    grey = np.where(np.asarray(region, dtype=bool), np.uint8(edit_value), np.uint8(keep_value))
    return _two_tone_png(grey, channels=3 if edit == "black" else 1)


def _two_tone_png(grey: np.ndarray, *, channels: int) -> bytes:
    # Pillow's PNG encoder tries five filters on every row and keeps the best: for a mask, two
    # values in long runs, that costs more than the compression. Unfiltered rows (filter byte 0)
    # with the run-length strategy cost about half, and come out smaller. zlib-ng's run-length
    # deflate writes the same bytes as zlib's ten times faster (3 MB of RGB rows: 0.5 ms, not 5).
    height, width = grey.shape
    rows = np.zeros((height, 1 + width * channels), np.uint8)
    rows[:, 1:] = np.repeat(grey, channels, axis=1) if channels > 1 else grey
    deflate = zlib_ng.compressobj(1, zlib_ng.DEFLATED, 15, 9, zlib_ng.Z_RLE)
    return png.container(width, height, channels, deflate.compress(rows.data) + deflate.flush())


def check_same_size(image: InputImage, mask: InputImage) -> str | None:
    """None when the mask matches the image's size, else a message completing "mask ..."."""
    if (mask.width, mask.height) == (image.width, image.height):
        return None
    return (
        f"is {mask.width}x{mask.height} but the image is {image.width}x{image.height}; "
        "they must match"
    )
