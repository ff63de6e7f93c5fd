"""Request bodies of the native API, one model per task, in one snake_case vocabulary.

These models check what holds for every model (types, the widest ranges, 1 <= n <= 10); each model
adapter then checks its own limits (allowed sizes, prompt lengths, its ranges) before any call.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from ..imaging.inputs import ImageInputError, InputImage, decode_base64_image, parse_image
from ..imaging.masks import MaskConvention


class Task(StrEnum):
    """The tasks of the native API; each has its own path under /v1/images/."""

    TEXT_TO_IMAGE = "text-to-image"
    INPAINT = "inpaint"
    OUTPAINT = "outpaint"
    VARIATIONS = "variations"
    IMAGE_TO_IMAGE = "image-to-image"


class ImageLimits(BaseModel):
    """Upload limits, passed to validation as context so settings decide them."""

    max_bytes: int
    max_pixels: int


def _read_image(value: Any, info: ValidationInfo) -> InputImage:
    if isinstance(value, InputImage):
        return value
    context = info.context or {}
    limits = context.get("image_limits") or ImageLimits(max_bytes=20_000_000, max_pixels=40_000_000)
    try:
        if isinstance(value, str):
            data = decode_base64_image(value)
        elif isinstance(value, bytes | bytearray):
            data = bytes(value)
        else:
            raise PydanticCustomError(
                "image_type",
                "must be a base64 string or data URL (JSON) or a file part (multipart)",
            )
        return parse_image(data, max_bytes=limits.max_bytes, max_pixels=limits.max_pixels)
    except ImageInputError as exc:
        kind = "unsupported_image" if exc.unsupported else "invalid_image"
        raise PydanticCustomError(kind, "{message}", {"message": exc.message}) from None


ImageInput = Annotated[
    InputImage,
    BeforeValidator(_read_image),
    WithJsonSchema(
        {
            "type": "string",
            "contentEncoding": "base64",
            "description": (
                "A PNG or JPEG image: base64 or a data URL in JSON, a file part in multipart."
            ),
        }
    ),
]

Sampler = Literal[
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
]
StylePreset = Literal[
    "3d-model",
    "analog-film",
    "anime",
    "cinematic",
    "comic-book",
    "digital-art",
    "enhance",
    "fantasy-art",
    "isometric",
    "line-art",
    "low-poly",
    "modeling-compound",
    "neon-punk",
    "origami",
    "photographic",
    "pixel-art",
    "tile-texture",
]
ClipGuidancePreset = Literal[
    "FAST_BLUE", "FAST_GREEN", "NONE", "SIMPLE", "SLOW", "SLOWER", "SLOWEST"
]


class _TaskRequest(BaseModel):
    """Fields every task takes."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    model: str | None = Field(
        default=None,
        description="A Bedrock model id or a short alias; the task's default model when omitted.",
        examples=["titan"],
    )
    negative_prompt: str | None = Field(
        default=None, max_length=10_000, description="What the image should not show."
    )
    n: int = Field(
        default=1, ge=1, le=10, description="How many images, whatever the model's per-call limit."
    )
    seed: int | None = Field(
        default=None,
        ge=0,
        le=4_294_967_295,
        description=(
            "Makes the result reproducible; the gateway picks one when omitted and reports it."
        ),
    )
    cfg_scale: float | None = Field(default=None, ge=0, le=35, description="Prompt adherence.")
    quality: Literal["standard", "premium"] | None = Field(default=None, description="Titan only.")
    steps: int | None = Field(default=None, ge=10, le=50, description="SDXL only: diffusion steps.")
    sampler: Sampler | None = Field(default=None, description="SDXL only; automatic when omitted.")
    style_preset: StylePreset | None = Field(default=None, description="SDXL only.")
    clip_guidance_preset: ClipGuidancePreset | None = Field(default=None, description="SDXL only.")

    def given(self) -> frozenset[str]:
        """The fields the caller set (defaults excluded): what the model must be able to take."""
        return frozenset(self.model_fields_set)


class _Sized(BaseModel):
    width: int | None = Field(default=None, ge=1, le=8192, description="Output width in pixels.")
    height: int | None = Field(default=None, ge=1, le=8192, description="Output height in pixels.")


class TextToImageRequest(_TaskRequest, _Sized):
    """Generate images from a prompt."""

    prompt: str = Field(
        min_length=1, max_length=10_000, examples=["a red fox in the snow, photograph"]
    )


class _MaskedEdit(_TaskRequest):
    # The pixels to generate, decoded once while validating and reused to build the calls.
    _edit_region: Any = PrivateAttr(default=None)

    image: ImageInput
    mask: ImageInput | None = Field(
        default=None,
        description="Marks the pixels to generate, in `mask_convention`; same size as the image.",
    )
    mask_prompt: str | None = Field(
        default=None,
        min_length=1,
        max_length=10_000,
        description="Titan only: describes the masked region instead of a mask image.",
    )
    mask_convention: MaskConvention = Field(
        default=MaskConvention.BLACK_IS_EDIT,
        description=(
            "How `mask` marks the pixels to generate: black (Titan, the default), "
            "white (Stability) or transparent (OpenAI)."
        ),
    )
    prompt: str | None = Field(default=None, min_length=1, max_length=10_000)


class InpaintRequest(_MaskedEdit):
    """Replace the masked pixels of an image."""


class OutpaintRequest(_MaskedEdit):
    """Generate the masked pixels around what is kept, extending the image."""

    outpainting_mode: Literal["DEFAULT", "PRECISE"] | None = Field(
        default=None, description="Titan only: PRECISE leaves the kept pixels untouched."
    )


class _FromImages(_TaskRequest, _Sized):
    prompt: str | None = Field(default=None, min_length=1, max_length=10_000)
    similarity_strength: float | None = Field(
        default=None, ge=0, le=1, description="Titan only: how close to the input (0.2-1.0)."
    )
    image_strength: float | None = Field(
        default=None, ge=0, le=1, description="SDXL only: near 1 stays close to the input."
    )
    init_image_mode: Literal["IMAGE_STRENGTH", "STEP_SCHEDULE"] | None = Field(
        default=None, description="SDXL only."
    )


class VariationsRequest(_FromImages):
    """Make variations of one to five images."""

    images: list[ImageInput] = Field(min_length=1, max_length=5)


class ImageToImageRequest(_FromImages):
    """Transform one image, guided by a prompt."""

    image: ImageInput


TaskRequest = (
    TextToImageRequest | InpaintRequest | OutpaintRequest | VariationsRequest | ImageToImageRequest
)

REQUEST_MODELS: dict[Task, type[_TaskRequest]] = {
    Task.TEXT_TO_IMAGE: TextToImageRequest,
    Task.INPAINT: InpaintRequest,
    Task.OUTPAINT: OutpaintRequest,
    Task.VARIATIONS: VariationsRequest,
    Task.IMAGE_TO_IMAGE: ImageToImageRequest,
}

IMAGE_FIELDS = frozenset({"image", "images", "mask"})
