"""The three upscalers of §4b: fast (exactly 4x), conservative and creative (to about 4 MP)."""

from __future__ import annotations

import math
from typing import Any

from ...imaging.edit import blend_towards, upscale
from ...imaging.synth import text_to_image
from ..base import Invocation
from .form import ImageLimits, ServiceForm, rgb

FAST_KEYS = ("image", "output_format")
CONSERVATIVE_KEYS = ("image", "prompt", "creativity", "negative_prompt", "seed", "output_format")
CREATIVE_KEYS = (*CONSERVATIVE_KEYS, "style_preset")

FAST_LIMITS = ImageLimits(min_side=32, max_side=1536, min_pixels=1024, max_pixels=1_048_576)
CONSERVATIVE_LIMITS = ImageLimits(min_pixels=4096, max_pixels=9_437_184)
CREATIVE_LIMITS = ImageLimits(min_pixels=4096, max_pixels=1_048_576)
# Stability documents both as "up to 4K / 4 megapixels" out.
TARGET_PIXELS = 4_194_304


def fast_upscale(invocation: Invocation) -> dict[str, Any]:
    """Exactly four times the width and the height, nothing invented."""
    form = ServiceForm(invocation, FAST_KEYS)
    image = form.image("image", limits=FAST_LIMITS)
    form.variety()
    fmt = form.output_format()
    filtered = form.finish()
    if filtered is not None:
        return filtered
    height, width = image.shape[:2]
    return form.respond(upscale(rgb(image), 4 * width, 4 * height), fmt)


def conservative_upscale(invocation: Invocation) -> dict[str, Any]:
    """To about 4 megapixels, with a touch of prompt-driven detail (creativity 0.2..0.5)."""
    return _detailed_upscale(
        invocation, CONSERVATIVE_KEYS, CONSERVATIVE_LIMITS, (0.2, 0.5, 0.35), 0.25
    )


def creative_upscale(invocation: Invocation) -> dict[str, Any]:
    """To about 4 megapixels, reinventing more of the picture (creativity 0.1..0.5)."""
    return _detailed_upscale(invocation, CREATIVE_KEYS, CREATIVE_LIMITS, (0.1, 0.5, 0.3), 1.0)


def upscaled_size(width: int, height: int) -> tuple[int, int]:
    """The input scaled, aspect kept, to about 4 megapixels; never smaller than the input."""
    factor = max(1.0, math.sqrt(TARGET_PIXELS / (width * height)))
    return round(width * factor), round(height * factor)


def _detailed_upscale(
    invocation: Invocation,
    keys: tuple[str, ...],
    limits: ImageLimits,
    creativity_range: tuple[float, float, float],
    detail_weight: float,
) -> dict[str, Any]:
    form = ServiceForm(invocation, keys)
    image = form.image("image", limits=limits)
    prompt = form.text("prompt")
    creativity = form.number("creativity", *creativity_range)
    form.variety()
    fmt = form.output_format()
    filtered = form.finish()
    if filtered is not None:
        return filtered
    width, height = upscaled_size(image.shape[1], image.shape[0])
    enlarged = upscale(rgb(image), width, height)
    detail = text_to_image(
        prompt, form.negative_prompt, width, height, form.pixel_seed, salt=invocation.model_id
    )
    detail = form.styled(detail)  # the style shows in what the upscaler invents
    # The more creative, the more of the invented detail shows through; conservative stays closer.
    return form.respond(blend_towards(enlarged, detail, 1.0 - creativity * detail_weight), fmt)
