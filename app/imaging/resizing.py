"""Changing an image's size: to fit within a model's limits, or to exactly the size asked for."""

from __future__ import annotations

import math

from PIL import Image


def cover(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """`image` at exactly `size`: cropped around its centre to that aspect ratio, then resized.

    Cropping before resizing keeps the picture undistorted; what is cut is the least of it.
    """
    if image.size == size:
        return image
    width, height = image.size
    target = size[0] / size[1]
    if width / height > target:
        crop = round(height * target)
        box = ((width - crop) // 2, 0, (width - crop) // 2 + crop, height)
    else:
        crop = round(width / target)
        box = (0, (height - crop) // 2, width, (height - crop) // 2 + crop)
    return image.crop(box).resize(size, Image.Resampling.LANCZOS)


def within(
    size: tuple[int, int], max_side: int | None, max_pixels: int | None
) -> tuple[int, int] | None:
    """The largest size of `size`'s aspect ratio within both limits, or None when `size` is."""
    width, height = size
    scale = 1.0
    if max_side is not None and max(width, height) > max_side:
        scale = max_side / max(width, height)
    if max_pixels is not None and width * height * scale * scale > max_pixels:
        scale = math.sqrt(max_pixels / (width * height))
    if scale >= 1.0:
        return None
    # Rounded down: a side rounded up could break the limit it was scaled for.
    return max(1, math.floor(width * scale)), max(1, math.floor(height * scale))
