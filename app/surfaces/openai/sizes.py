"""OpenAI's `size` on models with other sizes: the size a model draws nearest to the one asked.

Any `WxH` within the bounds below is honoured: the model draws at its own size nearest in aspect
ratio (then in area), and the answer is cropped around the centre to the ratio asked and resized
to it (`imaging.resizing.cover`), with a Warning. The bounds are OpenAI's for free sizes (at most
3:1) with sides of 64-4096 px: past them a crop would keep too little of the picture, or the
resize would cost more memory than an answer should.
"""

from __future__ import annotations

import math
import re
from typing import Any

from .errors import bad_param
from .model_limits import ModelLimits, SizeRule

MIN_SIDE = 64
MAX_SIDE = 4096
MAX_ASPECT = 3.0

_SIZE = re.compile(r"^\s*(\d{1,5})\s*[xX]\s*(\d{1,5})\s*$")


def parse_size(value: Any) -> tuple[int, int] | None:
    """`WxH` as (width, height), None for `auto` or none; a 400 naming `size` otherwise."""
    if value is None or value == "auto":
        return None
    match = _SIZE.match(value) if isinstance(value, str) else None
    if match is None:
        raise bad_param(
            "size", f"{value!r} is not a size: give WIDTHxHEIGHT (e.g. 1024x1024) or auto"
        )
    width, height = int(match.group(1)), int(match.group(2))
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        raise bad_param(
            "size", f"{width}x{height} is out of bounds: each side must be {MIN_SIDE}-{MAX_SIDE} px"
        )
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise bad_param(
            "size",
            f"{width}x{height} is out of bounds: the aspect ratio must be within "
            f"1:{MAX_ASPECT:g} and {MAX_ASPECT:g}:1",
        )
    return width, height


def drawn_size(limits: ModelLimits, asked: tuple[int, int]) -> tuple[int, int] | None:
    """The width and height to ask the model for; None when it has no list or rule of sizes
    (it maps a width and height to its aspect ratios itself)."""
    if limits.sizes:
        return asked if asked in limits.sizes else _nearest(limits.sizes, asked)
    if limits.size_rule is not None:
        return _ruled(limits.size_rule, asked)
    return None


def _nearest(sizes: tuple[tuple[int, int], ...], asked: tuple[int, int]) -> tuple[int, int]:
    ratio = math.log(asked[0] / asked[1])
    area = asked[0] * asked[1]

    def distance(size: tuple[int, int]) -> tuple[float, float]:
        # Rounded so that sizes of one ratio tie on it and the nearer area decides.
        off_ratio = round(abs(math.log(size[0] / size[1]) - ratio), 6)
        return off_ratio, abs(math.log(size[0] * size[1] / area))

    return min(sizes, key=distance)


def _ruled(rule: SizeRule, asked: tuple[int, int]) -> tuple[int, int]:
    """The size the rule allows nearest `asked`: its ratio clamped, its area bounded, its sides
    on the rule's step."""
    ratio = min(max(asked[0] / asked[1], 1 / rule.max_aspect), rule.max_aspect)
    area = min(asked[0] * asked[1], rule.max_pixels_below - 1)
    width, height = math.sqrt(area * ratio), math.sqrt(area / ratio)
    shrink = min(1.0, rule.max_side / max(width, height))
    grow = max(1.0, rule.min_side / min(width * shrink, height * shrink))
    width, height = width * shrink * grow, height * shrink * grow
    step = rule.multiple_of

    def snap(side: float) -> int:
        low = math.ceil(rule.min_side / step) * step
        return min(max(low, math.floor(side / step) * step), rule.max_side // step * step)

    return snap(width), snap(height)
