"""Amazon Titan Image Generator v1/v2 and Nova Canvas (reference §2): one task-typed body, k images.

Images depend only on (model, body): each image's seed is a hash of the model id, the body without
`numberOfImages`, and the image's index, so image 0 of a batch is the image a one-image request
with the same body gets, and every other field (the seed above all) changes the picture.
Nova Canvas also does VIRTUAL_TRY_ON (titan_try_on.py).
"""

from __future__ import annotations

import hashlib
from functools import partial
from typing import Any

import numpy as np
import orjson

from ..imaging.codec import encode_b64
from ..imaging.edit import (
    blend_towards,
    fill_region,
    region_from_prompt,
    remove_background,
    resize,
)
from ..imaging.style import follow_structure, trace_sketch
from ..imaging.synth import palette_image, text_to_image
from .base import Invocation, ModelSpec, is_blocked, validation_error
from .titan_request import (
    BACKGROUND_REMOVAL,
    COLOR_GUIDED_GENERATION,
    IMAGE_VARIATION,
    INPAINTING,
    OUTPAINTING,
    TEXT_IMAGE,
    VIRTUAL_TRY_ON,
    Flavour,
    TitanRequest,
    parse_request,
)
from .titan_try_on import dress

BLOCKED = "This request has been blocked by our content filters."
# DEFAULT outpainting may touch the kept area a little, as the model blends it with the new one.
DEFAULT_OUTPAINT_KEEP = 0.9

_TITAN_TASKS = (TEXT_IMAGE, INPAINTING, OUTPAINTING, IMAGE_VARIATION)
_V2_TASKS = (*_TITAN_TASKS, COLOR_GUIDED_GENERATION, BACKGROUND_REMOVAL)
_NOVA_TASKS = (*_V2_TASKS, VIRTUAL_TRY_ON)


def _titan(model_id: str, tasks: tuple[str, ...]) -> Flavour:
    return Flavour(
        model_id,
        tasks,
        nova=False,
        text_min=1,
        text_max=512,
        seed_max=2_147_483_646,
        cfg_default=8.0,
        image_max_side=1408,
        image_max_pixels=1408 * 1408,
        image_max_bytes=5 * 1024 * 1024,
    )


FLAVOURS: tuple[Flavour, ...] = (
    _titan("amazon.titan-image-generator-v1", _TITAN_TASKS),
    _titan("amazon.titan-image-generator-v2:0", _V2_TASKS),
    Flavour(
        "amazon.nova-canvas-v1:0",
        _NOVA_TASKS,
        nova=True,
        text_min=1,
        text_max=1024,
        seed_max=858_993_459,
        cfg_default=6.5,
        image_max_side=4096,
        image_max_pixels=4_194_304,
        image_max_bytes=25_000_000,
    ),
)


def image_seeds(model_id: str, body: dict[str, Any], count: int) -> list[int]:
    """One seed per image, from the body without numberOfImages (see the module docstring)."""
    config = body.get("imageGenerationConfig")
    if isinstance(config, dict) and "numberOfImages" in config:
        config = {key: value for key, value in config.items() if key != "numberOfImages"}
        body = {**body, "imageGenerationConfig": config}
    digest = hashlib.sha256(model_id.encode() + orjson.dumps(body, option=orjson.OPT_SORT_KEYS))
    base = digest.digest()
    return [
        int.from_bytes(hashlib.sha256(base + index.to_bytes(1, "big")).digest()[:4], "big")
        for index in range(count)
    ]


def render(request: TitanRequest, seed: int, salt: str) -> np.ndarray:
    """One output image (RGB, or RGBA for background removal) of a validated request."""
    if request.task == TEXT_IMAGE:
        return _text_image(request, seed, salt)
    if request.task == INPAINTING:
        return fill_region(_input(request), _edit_region(request), request.text, seed)
    if request.task == OUTPAINTING:
        return _outpaint(request, seed, salt)
    if request.task == IMAGE_VARIATION:
        return _variation(request, seed, salt)
    if request.task == COLOR_GUIDED_GENERATION:
        return _color_guided(request, seed, salt)
    if request.task == VIRTUAL_TRY_ON:
        return _try_on(request, seed)
    return remove_background(_input(request))


def _input(request: TitanRequest) -> np.ndarray:
    if request.image is None:
        raise ValueError("a validated edit request carries its image")
    return request.image


def _edit_region(request: TitanRequest) -> np.ndarray:
    """The mask's inside: black pixels of maskImage, or the region maskPrompt names."""
    if request.mask is not None:
        return request.mask
    height, width = _input(request).shape[:2]
    return region_from_prompt(height, width, request.mask_prompt or "")


def _text_image(request: TitanRequest, seed: int, salt: str) -> np.ndarray:
    width, height = request.width, request.height
    generated = text_to_image(
        request.text or "", request.negative_text, width, height, seed, salt=salt
    )
    if request.condition_image is None:
        return generated
    guide = resize(request.condition_image, width, height)
    if request.control_mode == "SEGMENTATION":
        return follow_structure(generated, guide, request.control_strength)
    return trace_sketch(generated, guide, request.control_strength)


def _try_on_region(request: TitanRequest) -> np.ndarray:
    if request.try_on is None:
        raise ValueError("a validated try-on request carries its mask choice")
    height, width = _input(request).shape[:2]
    return request.try_on.region(height, width, request.mask)


def _try_on(request: TitanRequest, seed: int) -> np.ndarray:
    if request.try_on is None or request.reference_image is None:
        raise ValueError("a validated try-on request carries its garment")
    region = _try_on_region(request)
    return dress(_input(request), request.reference_image, region, request.try_on.merge_style, seed)


def _outpaint(request: TitanRequest, seed: int, salt: str) -> np.ndarray:
    """Keep the mask's inside (PRECISE: byte for byte), generate everything around it."""
    image = _input(request)
    keep = _edit_region(request)
    extended = fill_region(image, ~keep, request.text, seed)
    if request.outpainting_mode == "PRECISE":
        return extended
    height, width = image.shape[:2]
    fresh = text_to_image(request.text or "", request.negative_text, width, height, seed, salt=salt)
    softened = blend_towards(image, fresh, DEFAULT_OUTPAINT_KEEP)
    return np.where(keep[..., None], softened, extended)


def similarity_keep(similarity: float) -> float:
    """How much of the input a variation keeps: rises with similarityStrength (0.2..1.0)."""
    return 0.1 + 0.85 * (similarity - 0.2) / 0.8


def _variation(request: TitanRequest, seed: int, salt: str) -> np.ndarray:
    width, height = request.width, request.height
    stack = np.stack([resize(image, width, height) for image in request.images])
    source = np.clip(stack.astype(np.float32).mean(axis=0) + 0.5, 0, 255).astype(np.uint8)
    generated = text_to_image(
        request.text or "", request.negative_text, width, height, seed, salt=salt
    )
    return blend_towards(source, generated, similarity_keep(request.similarity))


def _color_guided(request: TitanRequest, seed: int, salt: str) -> np.ndarray:
    width, height = request.width, request.height
    painted = palette_image(request.colors, width, height, seed, salt=salt)
    if request.reference_image is None:
        return painted
    return follow_structure(painted, resize(request.reference_image, width, height), 0.5)


def invoke(flavour: Flavour, invocation: Invocation) -> dict[str, Any]:
    """Validate one body and draw its images, or refuse it as Bedrock does."""
    request = parse_request(flavour, invocation.body)
    if is_blocked(invocation.blocked_words, *request.texts()):
        raise validation_error(BLOCKED)
    seeds = image_seeds(flavour.model_id, invocation.body, request.number_of_images)
    images = [encode_b64(render(request, seed, flavour.model_id)) for seed in seeds]
    answer: dict[str, Any] = {"images": images}
    if request.return_mask and request.task in (INPAINTING, VIRTUAL_TRY_ON):
        inside = _edit_region(request) if request.task == INPAINTING else _try_on_region(request)
        answer["maskImage"] = encode_b64(np.where(inside, 0, 255).astype(np.uint8))
    return answer


SPECS: list[ModelSpec] = [
    ModelSpec(
        model_id=flavour.model_id,
        family="titan",
        invoke=partial(invoke, flavour),
        tasks=flavour.tasks,
    )
    for flavour in FLAVOURS
]
