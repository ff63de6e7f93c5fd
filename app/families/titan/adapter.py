"""Amazon's Titan family (reference §2): Titan Image Generator G1 (v1) and v2, and Nova Canvas.

One adapter for the three: taskType bodies, up to five images per call. What differs between
the models (sizes, prompt length, seed range, cfg default, input limits, alpha rule, conditioning,
style) is each entry's `limits` over Titan v1's defaults: a model of this family is configuration.
"""

from __future__ import annotations

import random
from datetime import date
from typing import Any, get_args

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ...imaging.inputs import ImageInputError, InputImage, as_rgb_image, load_pixels
from ...imaging.masks import encode_mask
from ...problems import FieldProblem
from ...schemas.images import B64_TYPES, FinishReason, GeneratedImage
from ...schemas.requests import (
    ColorGuidedRequest,
    DiffusionRequest,
    ImageToImageRequest,
    InpaintRequest,
    NovaStyle,
    OutpaintRequest,
    RemoveBackgroundRequest,
    Task,
    TaskRequest,
    TextToImageRequest,
    VariationsRequest,
)
from ...wording import byte_size
from ..base import (
    Call,
    Lifecycle,
    ModelAdapter,
    ModelEntry,
    b64,
    check_size_pair,
    mime_of_b64,
    seeds_for,
)
from ..masking import mask_problems, region_of, uses_image_alpha

SIZES: tuple[tuple[int, int], ...] = (
    (1024, 1024), (768, 768), (512, 512), (768, 1152), (384, 576), (1152, 768), (576, 384),
    (768, 1280), (384, 640), (1280, 768), (640, 384), (896, 1152), (448, 576), (1152, 896),
    (576, 448), (768, 1408), (384, 704), (1408, 768), (704, 384), (640, 1408), (320, 704),
    (1408, 640), (704, 320), (1152, 640), (1173, 640),
)  # fmt: skip
NOVA_STYLES: tuple[str, ...] = get_args(NovaStyle)
CONTROL_DEFAULTS = {"control_mode": "CANNY_EDGE", "control_strength": 0.7}


class SizeRule(BaseModel):
    """Free output sizes (Nova Canvas): bounded sides, a step, an aspect range, a pixel ceiling."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_side: int
    max_side: int
    multiple_of: int
    max_aspect: float
    max_pixels_below: int  # exclusive: width * height must be smaller

    def problems(self, width: int | None, height: int | None, model: str) -> list[FieldProblem]:
        """Each broken rule, naming width or height (both or neither must be given)."""
        if width is None and height is None:
            return []
        if width is None or height is None:
            missing = "width" if width is None else "height"
            return [FieldProblem(field=missing, message="width and height must be given together")]
        found: dict[str, list[str]] = {"width": [], "height": []}
        for name, value in (("width", width), ("height", height)):
            if not self.min_side <= value <= self.max_side:
                found[name].append(f"must be {self.min_side}-{self.max_side} px")
            if value % self.multiple_of:
                found[name].append(f"must be divisible by {self.multiple_of}")
        if max(width, height) > self.max_aspect * min(width, height):
            found["width"].append(
                f"{width}x{height} is outside the aspect ratios 1:{self.max_aspect:g} to "
                f"{self.max_aspect:g}:1"
            )
        if width * height >= self.max_pixels_below:
            found["width"].append(
                f"{width}x{height} is {width * height} pixels; fewer than "
                f"{self.max_pixels_below} are allowed"
            )
        return [
            FieldProblem(field=name, message=f"{'; '.join(messages)} for {model}")
            for name, messages in found.items()
            if messages
        ]


class TitanLimits(BaseModel):
    """One model's limits; the defaults are Titan v1's. Read from `ModelEntry.limits`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sizes: tuple[tuple[int, int], ...] | None = SIZES
    size_rule: SizeRule | None = None  # instead of `sizes`
    default_size: tuple[int, int] = (1024, 1024)
    prompt_max: int = Field(default=512, ge=1)  # text, negativeText and maskPrompt
    seed_max: int = Field(default=2_147_483_646, ge=0)
    cfg_scale: tuple[float, float] = (1.1, 10.0)
    cfg_default: float = 8.0
    similarity_strength: tuple[float, float] = (0.2, 1.0)
    images_per_call: int = Field(default=5, ge=1)
    input_max_side: int = Field(default=1408, ge=1)
    input_max_pixels: int | None = Field(default=None, ge=1)
    input_max_bytes: int | None = Field(default=5 * 1024 * 1024, ge=1)
    # Nova: a PNG's alpha is refused unless every pixel is opaque. Otherwise alpha is flattened.
    opaque_alpha_only: bool = False
    conditioning: bool = False  # condition_image, control_mode, control_strength
    styles: bool = False  # Nova's `style`

    @model_validator(mode="after")
    def _one_size_rule(self) -> TitanLimits:
        if (self.sizes is None) == (self.size_rule is None):
            raise ValueError("give exactly one of sizes and size_rule")
        return self


def limits_of(entry: ModelEntry) -> TitanLimits:
    """The entry's limits over Titan v1's."""
    return TitanLimits.model_validate(entry.limits)


_COMMON = frozenset({"prompt", "negative_prompt", "cfg_scale", "seed", "quality"})
_CONDITIONING = ("condition_image", "control_mode", "control_strength")
_FIELDS: dict[Task, frozenset[str]] = {
    Task.TEXT_TO_IMAGE: _COMMON | {"width", "height", "style", *_CONDITIONING},
    Task.INPAINT: _COMMON | {"image", "mask", "mask_prompt", "mask_convention"},
    Task.OUTPAINT: _COMMON
    | {"image", "mask", "mask_prompt", "mask_convention", "outpainting_mode"},
    Task.VARIATIONS: _COMMON | {"width", "height", "images", "similarity_strength"},
    Task.IMAGE_TO_IMAGE: _COMMON | {"width", "height", "image", "similarity_strength"},
    Task.COLOR_GUIDED: _COMMON | {"width", "height", "colors", "reference_image"},
    Task.REMOVE_BACKGROUND: frozenset({"image"}),
}
_TASK_TYPES = {
    Task.TEXT_TO_IMAGE: ("TEXT_IMAGE", "textToImageParams"),
    Task.INPAINT: ("INPAINTING", "inPaintingParams"),
    Task.OUTPAINT: ("OUTPAINTING", "outPaintingParams"),
    Task.VARIATIONS: ("IMAGE_VARIATION", "imageVariationParams"),
    Task.IMAGE_TO_IMAGE: ("IMAGE_VARIATION", "imageVariationParams"),
    Task.COLOR_GUIDED: ("COLOR_GUIDED_GENERATION", "colorGuidedGenerationParams"),
    Task.REMOVE_BACKGROUND: ("BACKGROUND_REMOVAL", "backgroundRemovalParams"),
}
_Sized = TextToImageRequest | VariationsRequest | ImageToImageRequest | ColorGuidedRequest


class TitanAdapter(ModelAdapter):
    """Titan Image Generator v1 and v2 and Nova Canvas, each entry's limits over v1's."""

    family = "titan"
    limits_model = TitanLimits

    def fields(self, task: Task) -> frozenset[str]:
        return _FIELDS[task]

    def fields_for(self, entry: ModelEntry, task: Task) -> frozenset[str]:
        """The fields `entry` itself takes for `task`: `fields(task)` less what its limits lack."""
        return _FIELDS[task] - _lacking(limits_of(entry))

    def check(self, entry: ModelEntry, task: Task, request: TaskRequest) -> list[FieldProblem]:
        limits = limits_of(entry)
        problems = _image_problems(entry, limits, request)
        if isinstance(request, RemoveBackgroundRequest):
            if request.n > 1:
                message = "background removal makes one image; send n=1"
                problems.append(FieldProblem(field="n", message=message))
            return problems
        assert isinstance(request, DiffusionRequest)  # the registry gives this family no other
        for name in ("prompt", "negative_prompt", "mask_prompt"):
            text = getattr(request, name, None)
            if text is not None and not 1 <= len(text) <= limits.prompt_max:
                message = f"is {len(text)} characters; {entry.id} takes 1-{limits.prompt_max}"
                problems.append(FieldProblem(field=name, message=message))
        if task is Task.OUTPAINT and getattr(request, "prompt", None) is None:
            problems.append(FieldProblem(field="prompt", message="required by Titan for outpaint"))
        if request.cfg_scale is not None:
            problems += _range("cfg_scale", request.cfg_scale, limits.cfg_scale, entry)
        if request.seed is not None:
            problems += _range("seed", request.seed, (0, limits.seed_max), entry)
        if isinstance(request, _Sized):
            if limits.size_rule is not None:
                problems += limits.size_rule.problems(request.width, request.height, entry.id)
            else:
                problems += check_size_pair(
                    request.width, request.height, limits.sizes or (), entry.id
                )
        if isinstance(request, VariationsRequest | ImageToImageRequest):
            strength = request.similarity_strength
            if strength is not None:
                problems += _range(
                    "similarity_strength", strength, limits.similarity_strength, entry
                )
        if isinstance(request, InpaintRequest | OutpaintRequest):
            problems += mask_problems(request, prompt_allowed=True)
        if isinstance(request, TextToImageRequest) and request.condition_image is None:
            for name in ("control_mode", "control_strength"):
                if getattr(request, name) is not None:
                    message = "takes effect only with condition_image"
                    problems.append(FieldProblem(field=name, message=message))
        return problems

    def plan(
        self, entry: ModelEntry, task: Task, request: TaskRequest, rng: random.Random
    ) -> list[Call]:
        limits = limits_of(entry)
        task_type, params_key = _TASK_TYPES[task]
        if isinstance(request, RemoveBackgroundRequest):
            # No imageGenerationConfig: no count, no seed. The seed in `seeds` is never reported.
            params = {"image": b64(as_rgb_image(request.image))}
            return [
                Call(
                    body={"taskType": task_type, params_key: params},
                    seeds=(0,),
                    extra={"seedless": True},
                )
            ]
        assert isinstance(request, DiffusionRequest)
        params = _task_params(task, request)
        per_call = limits.images_per_call
        counts = [min(per_call, request.n - i) for i in range(0, request.n, per_call)]
        call_seeds = seeds_for(request.seed, len(counts), low=0, high=limits.seed_max, rng=rng)
        calls = []
        for count, seed in zip(counts, call_seeds, strict=True):
            config: dict[str, Any] = {"numberOfImages": count}
            if isinstance(request, _Sized):
                width, height = (
                    (request.width, request.height) if request.width else limits.default_size
                )
                config.update(width=width, height=height)
            if request.cfg_scale is not None:
                config["cfgScale"] = request.cfg_scale
            if request.quality is not None:
                config["quality"] = request.quality
            config["seed"] = seed
            body = {"taskType": task_type, params_key: params, "imageGenerationConfig": config}
            # Every image of a Titan call shares the call's seed: that seed with the same
            # numberOfImages reproduces the batch.
            calls.append(Call(body=body, seeds=(seed,) * count))
        return calls

    def parse(self, call: Call, payload: dict[str, Any]) -> list[GeneratedImage]:
        images = [i for i in payload.get("images") or [] if isinstance(i, B64_TYPES)]
        error = payload.get("error")
        seeded = not call.extra.get("seedless")
        seeds: list[int | None] = list(call.seeds) if seeded else [None] * call.count
        out = [
            GeneratedImage(
                b64=data, seed=seed, finish_reason=FinishReason.SUCCESS, mime_type=mime_of_b64(data)
            )
            for data, seed in zip(images, seeds, strict=False)
        ]
        # Titan may answer with fewer images than asked, and an `error`: report each missing one.
        filtered = isinstance(error, str) and "filter" in error.lower()
        reason = FinishReason.CONTENT_FILTERED if filtered else FinishReason.ERROR
        message = error if isinstance(error, str) else "the model returned fewer images than asked"
        out += [
            GeneratedImage(b64=None, seed=seed, finish_reason=reason, error=message)
            for seed in seeds[len(images) :]
        ]
        return out

    def describe(self, entry: ModelEntry) -> dict[str, Any]:
        limits = limits_of(entry)
        width, height = limits.default_size
        described: dict[str, Any] = {
            "prompt_max_chars": limits.prompt_max,
            "cfg_scale": list(limits.cfg_scale),
            "seed": [0, limits.seed_max],
            "similarity_strength": list(limits.similarity_strength),
            "images_per_call": limits.images_per_call,
            "input_max_side": limits.input_max_side,
            "input_max_pixels": limits.input_max_pixels,
            "input_max_bytes": limits.input_max_bytes,
            "input_alpha": "refused unless fully opaque"
            if limits.opaque_alpha_only
            else "flattened onto white",
            "variation_images": [1, 5],
            "mask_prompt": True,
            "conditioning": limits.conditioning,
            "defaults": {
                "width": width,
                "height": height,
                "cfg_scale": limits.cfg_default,
                "similarity_strength": 0.7,
                "quality": "standard",
                "outpainting_mode": "DEFAULT",
                **(CONTROL_DEFAULTS if limits.conditioning else {}),
            },
        }
        if limits.size_rule is not None:
            described["size_rule"] = limits.size_rule.model_dump()
        else:
            described["sizes"] = [f"{w}x{h}" for w, h in limits.sizes or ()]
        if limits.styles:
            described["styles"] = list(NOVA_STYLES)
        return described


def _lacking(limits: TitanLimits) -> frozenset[str]:
    lacking: set[str] = set()
    if not limits.conditioning:
        lacking |= set(_CONDITIONING)
    if not limits.styles:
        lacking.add("style")
    return frozenset(lacking)


def _inputs(request: TaskRequest) -> list[tuple[str, InputImage]]:
    """The request's images, each with the field that names it."""
    found: list[tuple[str, InputImage]] = []
    for name in ("image", "condition_image", "reference_image"):
        image = getattr(request, name, None)
        if isinstance(image, InputImage):
            found.append((name, image))
    if isinstance(request, VariationsRequest):
        found += [(f"images[{i}]", image) for i, image in enumerate(request.images)]
    return found


def _image_problems(
    entry: ModelEntry, limits: TitanLimits, request: TaskRequest
) -> list[FieldProblem]:
    problems = []
    for name, image in _inputs(request):
        found = []
        if max(image.width, image.height) > limits.input_max_side:
            found.append(f"at most {limits.input_max_side} px on the longer side")
        if limits.input_max_pixels is not None and image.pixels > limits.input_max_pixels:
            found.append(f"at most {limits.input_max_pixels} pixels")
        if limits.input_max_bytes is not None and len(image.data) > limits.input_max_bytes:
            found.append(f"at most {byte_size(limits.input_max_bytes)}")
        if found:
            size = f"{image.width}x{image.height}, {byte_size(len(image.data))}"
            message = f"is {size}; {entry.id} takes {', '.join(found)}"
            problems.append(FieldProblem(field=name, message=message))
        elif limits.opaque_alpha_only and image.has_alpha and not _alpha_is_mask(request, name):
            problems += _opacity_problems(name, image, entry)
    return problems


def _alpha_is_mask(request: TaskRequest, name: str) -> bool:
    """The edit image's alpha marks the pixels to generate: it is the mask, not a picture."""
    return (
        name == "image"
        and isinstance(request, InpaintRequest | OutpaintRequest)
        and uses_image_alpha(request)
    )


def _opacity_problems(name: str, image: InputImage, entry: ModelEntry) -> list[FieldProblem]:
    # Decoding costs: only images whose header announces alpha get here.
    try:
        pixels = load_pixels(image)
    except ImageInputError as exc:
        return [FieldProblem(field=name, message=exc.message)]
    if pixels.shape[2] == 3 or bool(np.all(pixels[..., 3] == 255)):
        return []
    message = f"has transparent pixels; {entry.id} takes alpha only when every pixel is opaque"
    return [FieldProblem(field=name, message=message)]


def _task_params(task: Task, request: DiffusionRequest) -> dict[str, Any]:
    params: dict[str, Any] = {}
    prompt = getattr(request, "prompt", None)
    if prompt is not None:
        params["text"] = prompt
    if request.negative_prompt is not None:
        params["negativeText"] = request.negative_prompt
    if isinstance(request, TextToImageRequest):
        if request.condition_image is not None:
            params["conditionImage"] = b64(as_rgb_image(request.condition_image))
        if request.control_mode is not None:
            params["controlMode"] = request.control_mode
        if request.control_strength is not None:
            params["controlStrength"] = request.control_strength
        if request.style is not None:
            params["style"] = request.style
    elif isinstance(request, ColorGuidedRequest):
        params["colors"] = list(request.colors)
        if request.reference_image is not None:
            params["referenceImage"] = b64(as_rgb_image(request.reference_image))
    elif isinstance(request, InpaintRequest | OutpaintRequest):
        params["image"] = b64(as_rgb_image(request.image))
        if request.mask_prompt is not None:
            params["maskPrompt"] = request.mask_prompt
        else:
            region = region_of(request)
            # Titan's mask is black inside: inpainting regenerates the inside, outpainting keeps
            # it. The caller's mask marks what to generate, so outpainting sends the complement.
            inside = region if task is Task.INPAINT else ~region
            params["maskImage"] = b64(encode_mask(inside, edit="black"))
        if isinstance(request, OutpaintRequest) and request.outpainting_mode is not None:
            params["outPaintingMode"] = request.outpainting_mode
    elif isinstance(request, VariationsRequest):
        params["images"] = [b64(as_rgb_image(image)) for image in request.images]
    elif isinstance(request, ImageToImageRequest):
        params["images"] = [b64(as_rgb_image(request.image))]
    if (
        isinstance(request, VariationsRequest | ImageToImageRequest)
        and request.similarity_strength is not None
    ):
        params["similarityStrength"] = request.similarity_strength
    return params


def _range(
    name: str, value: float, bounds: tuple[float, float], entry: ModelEntry
) -> list[FieldProblem]:
    if bounds[0] <= value <= bounds[1]:
        return []
    message = f"{value} is outside {entry.id}'s range {bounds[0]}-{bounds[1]}"
    return [FieldProblem(field=name, message=message)]


ADAPTER = TitanAdapter()
_V1_TASKS = (
    Task.TEXT_TO_IMAGE, Task.INPAINT, Task.OUTPAINT, Task.VARIATIONS, Task.IMAGE_TO_IMAGE,
)  # fmt: skip
_V2_TASKS = (*_V1_TASKS, Task.COLOR_GUIDED, Task.REMOVE_BACKGROUND)
_SUCCESSORS = ("sd3.5-large", "ultra")
MODELS: tuple[ModelEntry, ...] = (
    ModelEntry(
        id="amazon.titan-image-generator-v1",
        family="titan",
        aliases=("titan", "titan-v1"),
        tasks=_V1_TASKS,
        status=Lifecycle.RETIRED,
        successors=_SUCCESSORS,
        description="Amazon Titan Image Generator G1",
    ),
    ModelEntry(
        id="amazon.titan-image-generator-v2:0",
        family="titan",
        aliases=("titan-v2",),
        tasks=_V2_TASKS,
        status=Lifecycle.RETIRED,
        end_of_life=date(2026, 6, 30),
        successors=_SUCCESSORS,
        limits={"conditioning": True},
        description="Amazon Titan Image Generator G1 v2: conditioning, colour guidance, "
        "background removal",
    ),
    ModelEntry(
        id="amazon.nova-canvas-v1:0",
        family="titan",
        aliases=("nova-canvas", "nova"),
        tasks=_V2_TASKS,
        status=Lifecycle.RETIRED,
        end_of_life=date(2026, 9, 30),
        # AWS names no successor with this schema.
        successors=_SUCCESSORS,
        limits={
            "sizes": None,
            "size_rule": {
                "min_side": 320,
                "max_side": 4096,
                "multiple_of": 16,
                "max_aspect": 4.0,
                "max_pixels_below": 4_194_304,
            },
            "prompt_max": 1024,
            # One AWS page says 2,147,483,646; the reference says to use the smaller.
            "seed_max": 858_993_459,
            "cfg_default": 6.5,
            "input_max_side": 4096,
            "input_max_pixels": 4_194_304,
            "input_max_bytes": None,
            "opaque_alpha_only": True,
            "conditioning": True,
            "styles": True,
        },
        description="Amazon Nova Canvas",
    ),
)
