"""Stability's text-to-image family (reference §4): SD3/SD3.5 Large, Stable Image Ultra and Core.

One request draws one image: text-to-image at an aspect ratio's size, or (SD3, SD3.5, Ultra v1:1)
image-to-image at the input's size, closer to the input as `strength` falls. A prompt that trips
the content filter answers 200 with a `finish_reasons` entry and no image, as Stability's models do.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import orjson

from ..imaging.codec import ImageDecodeError, decode_b64, encode_b64, image_info
from ..imaging.edit import blend_towards
from ..imaging.presets import apply_style_preset
from ..imaging.synth import text_to_image
from .base import Invocation, ModelSpec, is_blocked
from .checks import Checker
from .vocab import (
    ASPECT_RATIO_SIZES,
    FILTER_PROMPT,
    OUTPUT_FORMATS,
    STABILITY_SEED_MAX,
    STYLE_PRESETS,
)

TEXT_TO_IMAGE = "text-to-image"
IMAGE_TO_IMAGE = "image-to-image"
PROMPT_MAX = 10_000
# The input-image rule shared by Stability's current models (§4b "Common").
IMAGE_MIN_SIDE = 64
IMAGE_MAX_PIXELS = 9_437_184
IMAGE_MAX_ASPECT = 2.5


@dataclass(frozen=True)
class Variant:
    """What one model of the family accepts."""

    model_id: str
    image_to_image: bool
    style_preset: bool
    formats: tuple[str, ...]


VARIANTS: tuple[Variant, ...] = (
    Variant("stability.sd3-5-large-v1:0", True, False, OUTPUT_FORMATS),
    Variant("stability.stable-image-ultra-v1:1", True, True, ("png", "jpeg")),
    Variant("stability.stable-image-core-v1:1", False, True, ("png", "jpeg")),
    Variant("stability.sd3-large-v1:0", True, False, ("png", "jpeg")),
    Variant("stability.stable-image-ultra-v1:0", False, True, ("png", "jpeg")),
    Variant("stability.stable-image-core-v1:0", False, True, ("png", "jpeg")),
)


@dataclass(frozen=True)
class Request:
    """A validated body."""

    prompt: str
    negative_prompt: str | None
    mode: str
    aspect_ratio: str
    output_format: str
    seed: int
    style_preset: str | None
    image: str | None
    strength: float


def check_input_image(checker: Checker, data: Any, path: str) -> None:
    """Record violations of the common input-image rule for the base64 image at `path`."""
    if not isinstance(data, str):
        return
    try:
        _fmt, width, height, _mode, _size = image_info(data)
    except ImageDecodeError as err:
        checker.fail(path, f"invalid image: {err}")
        return
    if min(width, height) < IMAGE_MIN_SIDE:
        checker.fail(
            path, f"image sides must be at least {IMAGE_MIN_SIDE} px, got {width}x{height}"
        )
    if width * height > IMAGE_MAX_PIXELS:
        checker.fail(
            path, f"image must have at most {IMAGE_MAX_PIXELS} pixels, got {width * height}"
        )
    if max(width, height) > IMAGE_MAX_ASPECT * min(width, height):
        checker.fail(
            path, f"image aspect ratio must be between 1:2.5 and 2.5:1, got {width}x{height}"
        )


def _validate(variant: Variant, body: dict[str, Any]) -> Request:
    checker = Checker()
    allowed = {"prompt", "negative_prompt", "mode", "aspect_ratio", "output_format", "seed"}
    if variant.style_preset:
        allowed.add("style_preset")
    modes = (TEXT_TO_IMAGE, IMAGE_TO_IMAGE) if variant.image_to_image else (TEXT_TO_IMAGE,)
    mode = checker.enum(body, "mode", "#", modes, default=TEXT_TO_IMAGE) or TEXT_TO_IMAGE
    if mode == IMAGE_TO_IMAGE:
        allowed |= {"image", "strength"}
        allowed.discard("aspect_ratio")
    else:
        # Bedrock takes (and ignores) a `strength` on text-to-image: public code sends
        # {"mode": "text-to-image", "strength": 1}.
        allowed.add("strength")
    checker.unknown(body, allowed, "#")
    prompt = checker.string(body, "prompt", "#", required=True, min_len=1, max_len=PROMPT_MAX)
    negative = checker.string(body, "negative_prompt", "#", max_len=PROMPT_MAX)
    aspect = checker.enum(body, "aspect_ratio", "#", tuple(ASPECT_RATIO_SIZES), default="1:1")
    fmt = checker.enum(body, "output_format", "#", variant.formats, default="png")
    seed = checker.integer(body, "seed", "#", lo=0, hi=STABILITY_SEED_MAX, default=0)
    style = checker.enum(body, "style_preset", "#", STYLE_PRESETS) if variant.style_preset else None
    image: str | None = None
    strength = 0.0
    if mode == IMAGE_TO_IMAGE:
        image = checker.string(body, "image", "#", required=True, min_len=1)
        strength = checker.number(body, "strength", "#", lo=0.0, hi=1.0, required=True) or 0.0
        check_input_image(checker, image, "#/image")
    else:
        checker.number(body, "strength", "#", lo=0.0, hi=1.0)
    checker.done()
    return Request(
        prompt=prompt or "",
        negative_prompt=negative,
        mode=mode,
        aspect_ratio=aspect or "1:1",
        output_format=fmt or "png",
        seed=seed or 0,
        style_preset=style,
        image=image,
        strength=strength,
    )


def resolve_seed(seed: int, body: dict[str, Any]) -> int:
    """Seed 0 means "random": derive one from the body, so the same body still gives one image.

    The seed key itself is left out of the hash: an omitted seed and `"seed": 0` mean the same.
    """
    if seed:
        return seed
    rest = {key: value for key, value in body.items() if key != "seed"}
    digest = hashlib.sha256(orjson.dumps(rest, option=orjson.OPT_SORT_KEYS)).digest()
    return int.from_bytes(digest[:8], "big") % STABILITY_SEED_MAX + 1


def _draw(variant: Variant, request: Request, seed: int) -> np.ndarray:
    source = decode_b64(request.image)[..., :3] if request.image is not None else None
    if source is not None:
        height, width = source.shape[:2]
    else:
        width, height = ASPECT_RATIO_SIZES[request.aspect_ratio]
    generated = text_to_image(
        request.prompt, request.negative_prompt, width, height, seed, salt=variant.model_id
    )
    generated = apply_style_preset(generated, request.style_preset)
    if source is None:
        return generated
    return blend_towards(source, generated, keep=1.0 - request.strength)


def invoke(variant: Variant, invocation: Invocation) -> dict[str, Any]:
    """Validate one body and draw its image, or report the content filter."""
    request = _validate(variant, invocation.body)
    seed = resolve_seed(request.seed, invocation.body)
    if is_blocked(invocation.blocked_words, request.prompt, request.negative_prompt):
        return {"seeds": [seed], "finish_reasons": [FILTER_PROMPT], "images": []}
    pixels = _draw(variant, request, seed)
    return {
        "seeds": [seed],
        "finish_reasons": [None],
        "images": [encode_b64(pixels, request.output_format)],
    }


SPECS: list[ModelSpec] = [
    ModelSpec(
        model_id=variant.model_id,
        family="stability-t2i",
        invoke=partial(invoke, variant),
        tasks=(TEXT_TO_IMAGE, IMAGE_TO_IMAGE) if variant.image_to_image else (TEXT_TO_IMAGE,),
    )
    for variant in VARIANTS
]
