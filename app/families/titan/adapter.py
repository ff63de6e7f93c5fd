"""Amazon's Titan family (reference §2): Titan Image Generator G1 (v1) and v2, and Nova Canvas.

One adapter for the three: taskType bodies, up to five images per call. What differs between
the models (sizes, prompt length, seed range, cfg default, input limits, alpha rule, conditioning,
style) is each entry's `limits` over Titan v1's defaults: a model of this family is configuration.
"""

from __future__ import annotations

import random
from abc import abstractmethod
from collections.abc import Mapping
from datetime import date
from typing import Any, ClassVar, TypeVar, get_args

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ...imaging.inputs import ImageInputError, InputImage, as_rgb_image, load_pixels
from ...imaging.masks import edit_region, encode_mask
from ...problems import FieldProblem
from ...schemas.images import B64_TYPES, FinishReason, GeneratedImage
from ...schemas.requests import (
    ColorGuidedRequest,
    ImageToImageRequest,
    InpaintRequest,
    NovaStyle,
    OutpaintRequest,
    RemoveBackgroundRequest,
    Task,
    TextToImageRequest,
    VariationsRequest,
    VirtualTryOnRequest,
)
from ...wording import byte_size
from ..base import (
    Call,
    Lifecycle,
    ModelAdapter,
    ModelEntry,
    Notes,
    TaskHandler,
    b64,
    check_size_pair,
    mime_of_b64,
    seeds_for,
)
from ..masking import mask_problems, region_of, uses_image_alpha
from ..vocabulary import SizeRule as SurfaceSizeRule
from ..vocabulary import Sizing

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
_GARMENT_FIELDS = ("garment_class", "long_sleeve_style", "tucking_style", "outer_layer_style")
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
    Task.VIRTUAL_TRY_ON: frozenset(
        {"image", "reference_image", "mask_type", "mask", "mask_convention", "mask_prompt"}
        | {"mask_shape", *_GARMENT_FIELDS, "merge_style", "cfg_scale", "seed", "quality"}
        | {"preserve_body", "preserve_hands", "preserve_face"}
    ),
}
T = TypeVar(
    "T",
    TextToImageRequest,
    InpaintRequest,
    OutpaintRequest,
    VariationsRequest,
    ImageToImageRequest,
    ColorGuidedRequest,
)
M = TypeVar("M", InpaintRequest, OutpaintRequest)
S = TypeVar("S", VariationsRequest, ImageToImageRequest)


class _Diffusion(TaskHandler[T]):
    """The taskType bodies with an imageGenerationConfig: prompts, cfg, seed, up to
    `images_per_call` images a call, every image of a call sharing its seed."""

    task_type: ClassVar[str]
    params_key: ClassVar[str]
    prompt_required: ClassVar[bool] = False

    def inputs(self, request: T) -> list[tuple[str, InputImage]]:
        """The request's images, each with the field that names it."""
        return []

    def alpha_is_mask(self, request: T) -> bool:
        """Whether the edit image's alpha marks the pixels to generate (it is no picture)."""
        return False

    def texts(self, request: T) -> list[tuple[str, str | None]]:
        """The texts the model bounds, by field."""
        return [("prompt", request.prompt), ("negative_prompt", request.negative_prompt)]

    def size(self, request: T) -> tuple[int | None, int | None] | None:
        """The width and height asked, for the tasks that take a size; None for the others."""
        return None

    def task_problems(
        self, entry: ModelEntry, limits: TitanLimits, request: T
    ) -> list[FieldProblem]:
        """What the task itself checks (similarity, mask, conditioning)."""
        return []

    def task_params(self, request: T) -> dict[str, Any]:
        """The task's part of the params, after the prompts."""
        return {}

    def check(self, entry: ModelEntry, request: T) -> list[FieldProblem]:
        limits = limits_of(entry)
        problems = _image_problems(
            entry, limits, self.inputs(request), alpha_is_mask=self.alpha_is_mask(request)
        )
        for name, text in self.texts(request):
            if text is not None and not 1 <= len(text) <= limits.prompt_max:
                message = f"is {len(text)} characters; {entry.id} takes 1-{limits.prompt_max}"
                problems.append(FieldProblem(field=name, message=message))
        if self.prompt_required and request.prompt is None:
            problems.append(FieldProblem(field="prompt", message="required by Titan for outpaint"))
        if request.cfg_scale is not None:
            problems += _range("cfg_scale", request.cfg_scale, limits.cfg_scale, entry)
        if request.seed is not None:
            problems += _range("seed", request.seed, (0, limits.seed_max), entry)
        size = self.size(request)
        if size is not None:
            width, height = size
            if limits.size_rule is not None:
                problems += limits.size_rule.problems(width, height, entry.id)
            else:
                problems += check_size_pair(width, height, limits.sizes or (), entry.id)
        return problems + self.task_problems(entry, limits, request)

    def plan(self, entry: ModelEntry, request: T, rng: random.Random) -> list[Call]:
        limits = limits_of(entry)
        params: dict[str, Any] = {}
        if request.prompt is not None:
            params["text"] = request.prompt
        if request.negative_prompt is not None:
            params["negativeText"] = request.negative_prompt
        params.update(self.task_params(request))
        size = self.size(request)
        if size is not None and not size[0]:
            size = limits.default_size
        body = {"taskType": self.task_type, self.params_key: params}
        return _generation_calls(limits, body, request, size, rng)


class TextToImage(_Diffusion[TextToImageRequest]):
    """From a prompt; conditioned on an image's layout (v2, Nova), in a style (Nova)."""

    request_type = TextToImageRequest
    task_type, params_key = "TEXT_IMAGE", "textToImageParams"

    def inputs(self, request: TextToImageRequest) -> list[tuple[str, InputImage]]:
        image = request.condition_image
        return [] if image is None else [("condition_image", image)]

    def size(self, request: TextToImageRequest) -> tuple[int | None, int | None]:
        return request.width, request.height

    def task_problems(
        self, entry: ModelEntry, limits: TitanLimits, request: TextToImageRequest
    ) -> list[FieldProblem]:
        if request.condition_image is not None:
            return []
        return [
            FieldProblem(field=name, message="takes effect only with condition_image")
            for name in ("control_mode", "control_strength")
            if getattr(request, name) is not None
        ]

    def task_params(self, request: TextToImageRequest) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if request.condition_image is not None:
            params["conditionImage"] = b64(as_rgb_image(request.condition_image))
        if request.control_mode is not None:
            params["controlMode"] = request.control_mode
        if request.control_strength is not None:
            params["controlStrength"] = request.control_strength
        if request.style is not None:
            params["style"] = request.style
        return params


class _Masked(_Diffusion[M]):
    """Inpaint and outpaint: a mask image, the image's alpha, or a mask prompt."""

    def inputs(self, request: M) -> list[tuple[str, InputImage]]:
        return [("image", request.image)]

    def alpha_is_mask(self, request: M) -> bool:
        return uses_image_alpha(request)

    def texts(self, request: M) -> list[tuple[str, str | None]]:
        return [*super().texts(request), ("mask_prompt", request.mask_prompt)]

    def task_problems(
        self, entry: ModelEntry, limits: TitanLimits, request: M
    ) -> list[FieldProblem]:
        return mask_problems(request, prompt_allowed=True)

    def task_params(self, request: M) -> dict[str, Any]:
        params: dict[str, Any] = {"image": b64(as_rgb_image(request.image))}
        if request.mask_prompt is not None:
            params["maskPrompt"] = request.mask_prompt
        else:
            # Titan's mask is black inside: inpainting regenerates the inside, outpainting keeps
            # it. The caller's mask marks what to generate, so outpainting sends the complement.
            params["maskImage"] = b64(encode_mask(self.inside(region_of(request)), edit="black"))
        return params

    @abstractmethod
    def inside(self, region: np.ndarray) -> np.ndarray:
        """The pixels inside Titan's mask, from the pixels to generate."""


class Inpaint(_Masked[InpaintRequest]):
    """The masked pixels regenerated."""

    request_type = InpaintRequest
    task_type, params_key = "INPAINTING", "inPaintingParams"

    def inside(self, region: np.ndarray) -> np.ndarray:
        return region


class Outpaint(_Masked[OutpaintRequest]):
    """What the mask does not keep regenerated; a prompt is required."""

    request_type = OutpaintRequest
    task_type, params_key = "OUTPAINTING", "outPaintingParams"
    prompt_required = True

    def inside(self, region: np.ndarray) -> np.ndarray:
        return ~region

    def task_params(self, request: OutpaintRequest) -> dict[str, Any]:
        params = super().task_params(request)
        if request.outpainting_mode is not None:
            params["outPaintingMode"] = request.outpainting_mode
        return params


class _Similar(_Diffusion[S]):
    """Variations and image-to-image: IMAGE_VARIATION, as close to the inputs as asked."""

    task_type, params_key = "IMAGE_VARIATION", "imageVariationParams"

    def size(self, request: S) -> tuple[int | None, int | None]:
        return request.width, request.height

    def task_problems(
        self, entry: ModelEntry, limits: TitanLimits, request: S
    ) -> list[FieldProblem]:
        strength = request.similarity_strength
        if strength is None:
            return []
        return _range("similarity_strength", strength, limits.similarity_strength, entry)

    def task_params(self, request: S) -> dict[str, Any]:
        params: dict[str, Any] = {
            "images": [b64(as_rgb_image(image)) for _, image in self.inputs(request)]
        }
        if request.similarity_strength is not None:
            params["similarityStrength"] = request.similarity_strength
        return params


class Variations(_Similar[VariationsRequest]):
    """Variations of one to five images."""

    request_type = VariationsRequest

    def inputs(self, request: VariationsRequest) -> list[tuple[str, InputImage]]:
        return [(f"images[{i}]", image) for i, image in enumerate(request.images)]


class ImageToImage(_Similar[ImageToImageRequest]):
    """Variations of one image."""

    request_type = ImageToImageRequest

    def inputs(self, request: ImageToImageRequest) -> list[tuple[str, InputImage]]:
        return [("image", request.image)]


class ColorGuided(_Diffusion[ColorGuidedRequest]):
    """In a palette, guided by a reference image when one is given."""

    request_type = ColorGuidedRequest
    task_type, params_key = "COLOR_GUIDED_GENERATION", "colorGuidedGenerationParams"

    def inputs(self, request: ColorGuidedRequest) -> list[tuple[str, InputImage]]:
        image = request.reference_image
        return [] if image is None else [("reference_image", image)]

    def size(self, request: ColorGuidedRequest) -> tuple[int | None, int | None]:
        return request.width, request.height

    def task_params(self, request: ColorGuidedRequest) -> dict[str, Any]:
        params: dict[str, Any] = {"colors": list(request.colors)}
        if request.reference_image is not None:
            params["referenceImage"] = b64(as_rgb_image(request.reference_image))
        return params


class VirtualTryOn(TaskHandler[VirtualTryOnRequest]):
    """Nova Canvas: the garment of `reference_image` on the person of `image`, where the mask
    type says; the answer has the person image's size."""

    request_type = VirtualTryOnRequest

    def check(self, entry: ModelEntry, request: VirtualTryOnRequest) -> list[FieldProblem]:
        limits = limits_of(entry)
        inputs = [("image", request.image), ("reference_image", request.reference_image)]
        problems = _image_problems(entry, limits, inputs, alpha_is_mask=False)
        problems += _try_on_mask_problems(request)
        text = request.mask_prompt
        if text is not None and len(text) > limits.prompt_max:
            message = f"is {len(text)} characters; {entry.id} takes 1-{limits.prompt_max}"
            problems.append(FieldProblem(field="mask_prompt", message=message))
        if request.cfg_scale is not None:
            problems += _range("cfg_scale", request.cfg_scale, limits.cfg_scale, entry)
        if request.seed is not None:
            problems += _range("seed", request.seed, (0, limits.seed_max), entry)
        return problems

    def plan(
        self, entry: ModelEntry, request: VirtualTryOnRequest, rng: random.Random
    ) -> list[Call]:
        params: dict[str, Any] = {
            "sourceImage": b64(as_rgb_image(request.image)),
            "referenceImage": b64(as_rgb_image(request.reference_image)),
        }
        mask_type = _mask_type(request)
        params["maskType"] = mask_type
        if mask_type == "IMAGE":
            assert request.mask is not None  # check() requires it
            region = edit_region(request.mask, request.mask_convention)
            params["imageBasedMask"] = {"maskImage": b64(encode_mask(region, edit="black"))}
        else:
            key = "garmentBasedMask" if mask_type == "GARMENT" else "promptBasedMask"
            given = {
                "maskPrompt": request.mask_prompt,
                "maskShape": request.mask_shape,
                "garmentClass": request.garment_class,
            }
            mask: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
            styling = {
                name: value
                for name, value in (
                    ("longSleeveStyle", request.long_sleeve_style),
                    ("tuckingStyle", request.tucking_style),
                    ("outerLayerStyle", request.outer_layer_style),
                )
                if value is not None
            }
            if styling:
                mask["garmentStyling"] = styling
            if mask or mask_type == "PROMPT":
                params[key] = mask
        exclusions = {
            name: value
            for name, value in (
                ("preserveBody", request.preserve_body),
                ("preserveHands", request.preserve_hands),
                ("preserveFace", request.preserve_face),
            )
            if value is not None
        }
        if exclusions:
            params["maskExclusions"] = exclusions
        if request.merge_style is not None:
            params["mergeStyle"] = request.merge_style
        body = {"taskType": "VIRTUAL_TRY_ON", "virtualTryOnParams": params}
        return _generation_calls(limits_of(entry), body, request, None, rng)

    def notes(self, entry: ModelEntry, request: VirtualTryOnRequest) -> Notes:
        if request.mask_type is None:
            return Notes(applied={"mask_type": _mask_type(request)})
        return Notes()


def _mask_type(request: VirtualTryOnRequest) -> str:
    """The mask type asked, or the one the fields given imply."""
    if request.mask_type is not None:
        return request.mask_type
    if request.mask is not None:
        return "IMAGE"
    return "PROMPT" if request.mask_prompt is not None else "GARMENT"


def _try_on_mask_problems(request: VirtualTryOnRequest) -> list[FieldProblem]:
    """The fields of one mask type only, the ones it needs given, and a mask of the image's size."""
    mask_type = _mask_type(request)
    problems: list[FieldProblem] = []
    needed = {"IMAGE": "mask", "PROMPT": "mask_prompt"}.get(mask_type)
    if needed is not None and getattr(request, needed) is None:
        problems.append(FieldProblem(field=needed, message=f"required with mask_type {mask_type}"))
    owners = {"mask": "IMAGE", "mask_prompt": "PROMPT", **dict.fromkeys(_GARMENT_FIELDS, "GARMENT")}
    for name, owner in owners.items():
        if getattr(request, name) is not None and owner != mask_type:
            message = f"takes effect only with mask_type {owner}, not {mask_type}"
            problems.append(FieldProblem(field=name, message=message))
    if request.mask_shape is not None and mask_type == "IMAGE":
        message = "takes effect only with mask_type GARMENT or PROMPT"
        problems.append(FieldProblem(field="mask_shape", message=message))
    mask, image = request.mask, request.image
    if mask is not None and (mask.width, mask.height) != (image.width, image.height):
        message = f"is {mask.width}x{mask.height}; the image is {image.width}x{image.height}"
        problems.append(FieldProblem(field="mask", message=message))
    return problems


def _generation_calls(
    limits: TitanLimits,
    body: dict[str, Any],
    request: TextToImageRequest
    | InpaintRequest
    | OutpaintRequest
    | VariationsRequest
    | ImageToImageRequest
    | ColorGuidedRequest
    | VirtualTryOnRequest,
    size: tuple[int | None, int | None] | None,
    rng: random.Random,
) -> list[Call]:
    """`body` with an imageGenerationConfig per call: up to `images_per_call` images a call."""
    per_call = limits.images_per_call
    counts = [min(per_call, request.n - i) for i in range(0, request.n, per_call)]
    call_seeds = seeds_for(request.seed, len(counts), low=0, high=limits.seed_max, rng=rng)
    calls = []
    for count, seed in zip(counts, call_seeds, strict=True):
        config: dict[str, Any] = {"numberOfImages": count}
        if size is not None:
            width, height = size
            config.update(width=width, height=height)
        if request.cfg_scale is not None:
            config["cfgScale"] = request.cfg_scale
        if request.quality is not None:
            config["quality"] = request.quality
        config["seed"] = seed
        # Every image of a Titan call shares the call's seed: that seed with the same
        # numberOfImages reproduces the batch.
        calls.append(Call(body={**body, "imageGenerationConfig": config}, seeds=(seed,) * count))
    return calls


class RemoveBackground(TaskHandler[RemoveBackgroundRequest]):
    """One image, no imageGenerationConfig: no count, no seed."""

    request_type = RemoveBackgroundRequest

    def check(self, entry: ModelEntry, request: RemoveBackgroundRequest) -> list[FieldProblem]:
        limits = limits_of(entry)
        problems = _image_problems(entry, limits, [("image", request.image)], alpha_is_mask=False)
        if request.n > 1:
            message = "background removal makes one image; send n=1"
            problems.append(FieldProblem(field="n", message=message))
        return problems

    def plan(
        self, entry: ModelEntry, request: RemoveBackgroundRequest, rng: random.Random
    ) -> list[Call]:
        # The seed in `seeds` is never reported.
        params = {"image": b64(as_rgb_image(request.image))}
        body = {"taskType": "BACKGROUND_REMOVAL", "backgroundRemovalParams": params}
        return [Call(body=body, seeds=(0,), extra={"seedless": True})]


class TitanAdapter(ModelAdapter):
    """Titan Image Generator v1 and v2 and Nova Canvas, each entry's limits over v1's."""

    family = "titan"
    limits_model = TitanLimits
    handlers: ClassVar[Mapping[Task, TaskHandler[Any]]] = {
        Task.TEXT_TO_IMAGE: TextToImage(),
        Task.INPAINT: Inpaint(),
        Task.OUTPAINT: Outpaint(),
        Task.VARIATIONS: Variations(),
        Task.IMAGE_TO_IMAGE: ImageToImage(),
        Task.COLOR_GUIDED: ColorGuided(),
        Task.REMOVE_BACKGROUND: RemoveBackground(),
        Task.VIRTUAL_TRY_ON: VirtualTryOn(),
    }

    def fields(self, task: Task) -> frozenset[str]:
        return _FIELDS[task]

    def fields_for(self, entry: ModelEntry, task: Task) -> frozenset[str]:
        """The fields `entry` itself takes for `task`: `fields(task)` less what its limits lack."""
        return _FIELDS[task] - _lacking(limits_of(entry))

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

    def sizing(self, entry: ModelEntry) -> Sizing:
        limits = limits_of(entry)
        rule = limits.size_rule
        return Sizing(
            sizes=limits.sizes or (),
            size_rule=SurfaceSizeRule(**rule.model_dump()) if rule is not None else None,
            prompt_max=limits.prompt_max,
            input_max_side=limits.input_max_side,
            input_max_pixels=limits.input_max_pixels,
        )

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


def _image_problems(
    entry: ModelEntry,
    limits: TitanLimits,
    inputs: list[tuple[str, InputImage]],
    *,
    alpha_is_mask: bool,
) -> list[FieldProblem]:
    """Each input image over the model's limits; with Nova, one with transparent pixels (unless
    `alpha_is_mask`: the edit image, the only input then, has alpha marking what to generate)."""
    problems = []
    for name, image in inputs:
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
        elif limits.opaque_alpha_only and image.has_alpha and not alpha_is_mask:
            problems += _opacity_problems(name, image, entry)
    return problems


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
        tasks=(*_V2_TASKS, Task.VIRTUAL_TRY_ON),
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
