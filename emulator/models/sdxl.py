"""Stability SDXL 1.0 (reference §3): text-to-image, image-to-image and masking, one image a call.

The mode follows the body: `mask_source` means masking, `init_image` alone image-to-image,
neither text-to-image. A blocked prompt answers 200 with a black CONTENT_FILTERED artifact.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from ..imaging.codec import ImageDecodeError, decode_b64, encode_b64, image_info
from ..imaging.edit import blend_towards, fill_region
from ..imaging.synth import text_to_image
from .base import Invocation, ModelSpec, is_blocked
from .checks import Checker
from .vocab import STYLE_PRESETS

MODEL_ID = "stability.stable-diffusion-xl-v1"
SIZES: frozenset[tuple[int, int]] = frozenset(
    {
        (1024, 1024), (1152, 896), (1216, 832), (1344, 768), (1536, 640),
        (640, 1536), (768, 1344), (832, 1216), (896, 1152),
    }
)  # fmt: skip
CLIP_GUIDANCE = ("FAST_BLUE", "FAST_GREEN", "NONE", "SIMPLE", "SLOW", "SLOWER", "SLOWEST")
SAMPLERS = (
    "DDIM",
    "DDPM",
    "K_DPMPP_2M",
    "K_DPMPP_2S_ANCESTRAL",
    "K_DPM_2",
    "K_DPM_2_ANCESTRAL",
    "K_EULER",
    "K_EULER_ANCESTRAL",
    "K_HEUN",
    "K_LMS",
)
INIT_IMAGE_MODES = ("IMAGE_STRENGTH", "STEP_SCHEDULE")
MASK_SOURCES = ("MASK_IMAGE_WHITE", "MASK_IMAGE_BLACK", "INIT_IMAGE_ALPHA")
SEED_MAX = 4_294_967_295
PROMPT_MAX = 2000
INIT_MIN_PIXELS = 262_144
INIT_MAX_PIXELS = 1_048_576
# Stability's defaults: image_strength 0.35, and a step schedule starting at 0.65.
DEFAULT_IMAGE_STRENGTH = 0.35
DEFAULT_STEP_SCHEDULE_START = 0.65

_KEYS = {
    "text_prompts",
    "height",
    "width",
    "cfg_scale",
    "clip_guidance_preset",
    "sampler",
    "samples",
    "seed",
    "steps",
    "style_preset",
    "extras",
    "init_image",
    "init_image_mode",
    "image_strength",
    "step_schedule_start",
    "step_schedule_end",
    "mask_source",
    "mask_image",
}


@dataclass
class SdxlRequest:
    """A validated body."""

    prompt: str = ""
    negative_prompt: str = ""
    width: int = 1024
    height: int = 1024
    seed: int = 0
    init_image: np.ndarray | None = None  # RGB or RGBA
    keep: float = DEFAULT_IMAGE_STRENGTH  # how close image-to-image stays to the init image
    edit: np.ndarray | None = None  # masking: bool, True = replace
    style_preset: str | None = None


def parse_request(body: dict[str, Any]) -> SdxlRequest:
    """Validate `body`; raise one ValidationException naming every bad field."""
    c = Checker()
    c.unknown(body, _KEYS, "#")
    request = SdxlRequest()
    _prompts(c, body, request)
    c.number(body, "cfg_scale", "#", lo=0, hi=35, default=7)
    c.enum(body, "clip_guidance_preset", "#", CLIP_GUIDANCE)
    c.enum(body, "sampler", "#", SAMPLERS)
    c.integer(body, "samples", "#", lo=1, hi=1, default=1)
    request.seed = c.integer(body, "seed", "#", lo=0, hi=SEED_MAX, default=0) or 0
    c.integer(body, "steps", "#", lo=10, hi=50, default=30)
    request.style_preset = c.enum(body, "style_preset", "#", STYLE_PRESETS)
    c.obj(body, "extras", "#", required=False)
    width = c.integer(body, "width", "#", lo=640, hi=1536, default=1024)
    height = c.integer(body, "height", "#", lo=640, hi=1536, default=1024)
    if width is not None and height is not None:
        if (width, height) not in SIZES:
            c.fail("#/width", f"width x height {width}x{height} is not a supported SDXL size")
        request.width, request.height = width, height
    masking = body.get("mask_source") is not None
    if masking or body.get("init_image") is not None:
        _init_image(c, body, request, required=True)
    if masking:
        _masking(c, body, request)
    elif request.init_image is not None:
        _image_to_image(c, body, request)
    c.done()
    return request


def _prompts(c: Checker, body: dict[str, Any], request: SdxlRequest) -> None:
    """text_prompts: weight >= 0 joins the prompt, weight < 0 the negative prompt."""
    positive: list[str] = []
    negative: list[str] = []
    prompts = c.array(body, "text_prompts", "#", min_items=1, required=True)
    for index, item in enumerate(prompts):
        path = f"#/text_prompts/{index}"
        if not isinstance(item, dict):
            c.fail(path, "expected type: JSONObject")
            continue
        c.unknown(item, {"text", "weight"}, path)
        text = c.string(item, "text", path, required=True, max_len=PROMPT_MAX)
        weight = c.number(item, "weight", path, lo=-float("inf"), hi=float("inf"), default=1.0)
        if text:
            (negative if weight is not None and weight < 0 else positive).append(text)
    request.prompt, request.negative_prompt = " ".join(positive), " ".join(negative)


def _init_image(c: Checker, body: dict[str, Any], request: SdxlRequest, *, required: bool) -> None:
    data = c.string(body, "init_image", "#", required=required, min_len=1)
    if data is None:
        return
    pixels = _decode(c, data, "#/init_image")
    if pixels is None:
        return
    count = pixels.shape[0] * pixels.shape[1]
    if not INIT_MIN_PIXELS <= count <= INIT_MAX_PIXELS:
        c.fail(
            "#/init_image",
            f"image has {count} pixels; expected between {INIT_MIN_PIXELS} and {INIT_MAX_PIXELS}",
        )
        return
    request.init_image = pixels


def _image_to_image(c: Checker, body: dict[str, Any], request: SdxlRequest) -> None:
    mode = c.enum(body, "init_image_mode", "#", INIT_IMAGE_MODES, default="IMAGE_STRENGTH")
    strength = c.number(body, "image_strength", "#", lo=0.0, hi=1.0, default=DEFAULT_IMAGE_STRENGTH)
    start = c.number(
        body, "step_schedule_start", "#", lo=0.0, hi=1.0, default=DEFAULT_STEP_SCHEDULE_START
    )
    c.number(body, "step_schedule_end", "#", lo=0.0, hi=1.0, default=1.0)
    if mode == "STEP_SCHEDULE":
        # As in Stability's API: a lower start gives the init image more influence.
        request.keep = 1.0 - (DEFAULT_STEP_SCHEDULE_START if start is None else start)
    else:
        request.keep = DEFAULT_IMAGE_STRENGTH if strength is None else strength


def _masking(c: Checker, body: dict[str, Any], request: SdxlRequest) -> None:
    source = c.enum(body, "mask_source", "#", MASK_SOURCES)
    init = request.init_image
    if source is None or init is None:
        return
    if source == "INIT_IMAGE_ALPHA":
        if "mask_image" in body:
            c.fail("#", "extraneous key [mask_image] is not permitted with INIT_IMAGE_ALPHA")
        if init.shape[2] != 4:
            c.fail("#/init_image", "INIT_IMAGE_ALPHA needs an image with an alpha channel")
            return
        request.edit = init[..., 3] < 128
        return
    data = c.string(body, "mask_image", "#", required=True, min_len=1)
    mask = None if data is None else _decode(c, data, "#/mask_image")
    if mask is None:
        return
    if mask.shape[:2] != init.shape[:2]:
        c.fail(
            "#/mask_image",
            f"mask size {mask.shape[1]}x{mask.shape[0]} does not match init_image size "
            f"{init.shape[1]}x{init.shape[0]}",
        )
        return
    luma = mask[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    request.edit = luma >= 128 if source == "MASK_IMAGE_WHITE" else luma < 128


def _decode(c: Checker, data: str, path: str) -> np.ndarray | None:
    try:
        fmt = image_info(data)[0]
        if fmt not in ("png", "jpeg"):
            c.fail(path, f"expected a PNG or JPEG image, found: {fmt}")
            return None
        return decode_b64(data)
    except ImageDecodeError as error:
        c.fail(path, f"invalid image: {error}")
        return None


def effective_seed(seed: int, body: dict[str, Any]) -> int:
    """Seed 0 means "random": derive one from the body, so the same body gives the same image."""
    if seed:
        return seed
    digest = hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).digest()
    return int.from_bytes(digest[:4], "big") % SEED_MAX + 1


def render(request: SdxlRequest, seed: int) -> np.ndarray:
    """The artifact's pixels: drawn, blended towards the init image, or filled inside the mask."""
    salt = f"{MODEL_ID}/{request.style_preset}"
    init = request.init_image
    if init is not None and request.edit is not None:
        return fill_region(init[..., :3], request.edit, request.prompt, seed)
    height, width = (request.height, request.width) if init is None else init.shape[:2]
    generated = text_to_image(
        request.prompt, request.negative_prompt, width, height, seed, salt=salt
    )
    if init is None:
        return generated
    return blend_towards(init[..., :3], generated, request.keep)


def invoke(invocation: Invocation) -> dict[str, Any]:
    """Validate one body and answer its single artifact."""
    request = parse_request(invocation.body)
    seed = effective_seed(request.seed, invocation.body)
    if is_blocked(invocation.blocked_words, request.prompt):
        shape = request.init_image.shape[:2] if request.init_image is not None else None
        height, width = shape or (request.height, request.width)
        black = np.zeros((height, width, 3), dtype=np.uint8)
        artifact = {"seed": seed, "base64": encode_b64(black), "finishReason": "CONTENT_FILTERED"}
    else:
        pixels = render(request, seed)
        artifact = {"seed": seed, "base64": encode_b64(pixels), "finishReason": "SUCCESS"}
    return {"result": "success", "artifacts": [artifact]}


SPECS: list[ModelSpec] = [
    ModelSpec(
        model_id=MODEL_ID,
        family="sdxl",
        invoke=invoke,
        tasks=("text-to-image", "image-to-image", "masking"),
    )
]
