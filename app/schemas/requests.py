"""Request bodies of the native API, one model per task, in one snake_case vocabulary.

These models check what holds for every model (types, the widest ranges, 1 <= n <= 10); each model
adapter then checks its own limits (allowed sizes, prompt lengths, its ranges) before any call.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

import numpy as np
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
from ..imaging.masks import MaskConvention, edit_region
from ..imaging.verify import verify_decodes


class Task(StrEnum):
    """The tasks of the native API; each has its own path under /v1/images/."""

    TEXT_TO_IMAGE = "text-to-image"
    INPAINT = "inpaint"
    OUTPAINT = "outpaint"
    VARIATIONS = "variations"
    IMAGE_TO_IMAGE = "image-to-image"
    ERASE = "erase"
    SEARCH_REPLACE = "search-replace"
    SEARCH_RECOLOR = "search-recolor"
    REMOVE_BACKGROUND = "remove-background"
    UPSCALE = "upscale"
    STYLE_TRANSFER = "style-transfer"
    STYLE_GUIDE = "style-guide"
    CONTROL = "control"
    COLOR_GUIDED = "color-guided"
    EDIT = "edit"
    VIRTUAL_TRY_ON = "virtual-try-on"


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
        image = parse_image(data, max_bytes=limits.max_bytes, max_pixels=limits.max_pixels)
        # A mask is decoded whole and its planes kept: its edit region is read from them.
        verify_decodes(image, mask=info.field_name == "mask")
        return image
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


AspectRatio = Literal["16:9", "1:1", "21:9", "2:3", "3:2", "4:5", "5:4", "9:16", "9:21"]
OutputFormat = Literal["png", "jpeg", "webp"]
NovaStyle = Literal[
    "3D_ANIMATED_FAMILY_FILM",
    "DESIGN_SKETCH",
    "FLAT_VECTOR_ILLUSTRATION",
    "GRAPHIC_NOVEL_ILLUSTRATION",
    "MAXIMALISM",
    "MIDCENTURY_RETRO",
    "PHOTOREALISM",
    "SOFT_DIGITAL_PAINTING",
]
Unit = Annotated[float, Field(ge=0, le=1)]


class _TaskRequest(BaseModel):
    """Fields every task takes."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    model: str | None = Field(
        default=None,
        description="A Bedrock model id or a short alias; the task's default model when omitted.",
        examples=["titan"],
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
    output_format: OutputFormat | None = Field(
        default=None,
        description="Stability models: the image type the model returns (png by default).",
    )

    def given(self) -> frozenset[str]:
        """The fields the caller set (defaults excluded): what the model must be able to take."""
        return frozenset(self.model_fields_set)


class _Prompted(_TaskRequest):
    negative_prompt: str | None = Field(
        default=None, max_length=10_000, description="What the image should not show."
    )
    style_preset: StylePreset | None = Field(
        default=None, description="SDXL, Stable Image Ultra and Core, and most Image Services."
    )


class DiffusionRequest(_Prompted):
    """Knobs of the first models (Titan G1, SDXL 1.0)."""

    cfg_scale: float | None = Field(default=None, ge=0, le=35, description="Prompt adherence.")
    quality: Literal["standard", "premium"] | None = Field(
        default=None, description="Titan family only."
    )
    steps: int | None = Field(default=None, ge=10, le=50, description="SDXL only: diffusion steps.")
    sampler: Sampler | None = Field(default=None, description="SDXL only; automatic when omitted.")
    clip_guidance_preset: ClipGuidancePreset | None = Field(default=None, description="SDXL only.")


class _Sized(BaseModel):
    width: int | None = Field(default=None, ge=1, le=8192, description="Output width in pixels.")
    height: int | None = Field(default=None, ge=1, le=8192, description="Output height in pixels.")


class TextToImageRequest(DiffusionRequest, _Sized):
    """Generate images from a prompt."""

    prompt: str = Field(
        min_length=1, max_length=10_000, examples=["a red fox in the snow, photograph"]
    )
    aspect_ratio: AspectRatio | None = Field(
        default=None,
        description=(
            "Stability SD3.5, Ultra and Core (1:1 by default). Those models take no width and "
            "height: when given, they are mapped to the nearest ratio and the answer's `applied` "
            "says which."
        ),
    )
    style: NovaStyle | None = Field(default=None, description="Nova Canvas only: a visual style.")
    condition_image: ImageInput | None = Field(
        default=None,
        description="Titan v2 and Nova Canvas: an image whose layout guides the output.",
    )
    control_mode: Literal["CANNY_EDGE", "SEGMENTATION"] | None = Field(
        default=None, description="With condition_image: how it guides (CANNY_EDGE by default)."
    )
    control_strength: Unit | None = Field(
        default=None, description="With condition_image: how closely to follow it (0.7)."
    )


class _Masked(_TaskRequest):
    # edit_region's, once decoded: only the property reads and writes it.
    _edit_region: np.ndarray | None = PrivateAttr(default=None)

    image: ImageInput
    mask: ImageInput | None = Field(
        default=None,
        description="Marks the pixels to generate, in `mask_convention`; same size as the image.",
    )
    mask_convention: MaskConvention = Field(
        default=MaskConvention.BLACK_IS_EDIT,
        description=(
            "How `mask` marks the pixels to generate: black (Titan, the default), "
            "white (Stability) or transparent (OpenAI). With alpha-is-edit and no mask, the "
            "image's own transparent pixels are generated."
        ),
    )
    grow_mask: int | None = Field(
        default=None,
        ge=0,
        le=100,
        description="Stability only: pixels to grow the mask by, softening its edge.",
    )

    @property
    def edit_region(self) -> np.ndarray:
        """The pixels to generate (True), read from the mask, else from the image's alpha.

        Decoded on first use, which is the family's check (a photo sent as a mask is named with
        every other bad field), and kept for its plan: both ask the request, nothing is left on
        it behind their backs. ImageInputError when the mask is not one.
        """
        # Not functools.cached_property: before Python 3.12 it holds one lock for every
        # instance, so concurrent requests would decode their masks one at a time.
        if self._edit_region is None:
            source = self.mask if self.mask is not None else self.image
            self._edit_region = edit_region(source, self.mask_convention)
        return self._edit_region


class _MaskedEdit(_Masked, DiffusionRequest):
    mask_prompt: str | None = Field(
        default=None,
        min_length=1,
        max_length=10_000,
        description="Titan family only: describes the masked region instead of a mask image.",
    )
    prompt: str | None = Field(default=None, min_length=1, max_length=10_000)


class InpaintRequest(_MaskedEdit):
    """Replace the masked pixels of an image."""


class OutpaintRequest(_MaskedEdit):
    """Generate the masked pixels around what is kept (Titan, SDXL), or extend the canvas by
    `left`/`right`/`up`/`down` pixels (Stability outpaint)."""

    outpainting_mode: Literal["DEFAULT", "PRECISE"] | None = Field(
        default=None, description="Titan family only: PRECISE leaves the kept pixels untouched."
    )
    left: int | None = Field(default=None, ge=0, le=2000, description="Stability: px to add.")
    right: int | None = Field(default=None, ge=0, le=2000, description="Stability: px to add.")
    up: int | None = Field(default=None, ge=0, le=2000, description="Stability: px to add.")
    down: int | None = Field(default=None, ge=0, le=2000, description="Stability: px to add.")
    creativity: Unit | None = Field(
        default=None, description="Stability: how freely the new area is drawn (0.5)."
    )


class _FromImages(DiffusionRequest, _Sized):
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
    strength: Unit | None = Field(
        default=None,
        description="SD3.5 and Ultra: how much the input changes (0 keeps it; required there).",
    )


class VariationsRequest(_FromImages):
    """Make variations of one to five images."""

    images: list[ImageInput] = Field(min_length=1, max_length=5)


class EditRequest(_TaskRequest, _Sized):
    """Edit one image or several by an instruction, without a mask (Nova 2 Omni)."""

    images: list[ImageInput] = Field(
        min_length=1,
        max_length=20,
        description="The image to edit first; any others are references the instruction names.",
    )
    prompt: str = Field(
        min_length=1,
        max_length=10_000,
        description="The instruction, e.g. 'remove the cars from the driveway'.",
        examples=["remove the cars from the driveway"],
    )
    aspect_ratio: AspectRatio | None = Field(
        default=None,
        description="Asked of the model in the prompt; the answer is centre-cropped to it.",
    )


class ImageToImageRequest(_FromImages):
    """Transform one image, guided by a prompt."""

    image: ImageInput


class EraseRequest(_Masked):
    """Erase what the mask (or the image's transparency) marks, filling it from the surroundings."""


class _Searched(_Prompted):
    image: ImageInput
    prompt: str = Field(min_length=1, max_length=10_000, description="What to put there.")
    grow_mask: int | None = Field(
        default=None, ge=0, le=20, description="Pixels to grow the found area by (3)."
    )


class SearchReplaceRequest(_Searched):
    """Replace what `search_prompt` names with what `prompt` describes."""

    search_prompt: str = Field(min_length=1, max_length=10_000, examples=["the cup"])


class SearchRecolorRequest(_Searched):
    """Recolour what `select_prompt` names as `prompt` describes."""

    select_prompt: str = Field(min_length=1, max_length=10_000, examples=["the car"])


class RemoveBackgroundRequest(_TaskRequest):
    """Make the background transparent."""

    image: ImageInput


class UpscaleRequest(_Prompted):
    """Upscale an image: fast (4x), conservative or creative (to about 4 megapixels)."""

    image: ImageInput
    mode: Literal["fast", "conservative", "creative"] | None = Field(
        default=None,
        description="fast when neither `mode` nor `model` names another; the mode picks the model.",
    )
    prompt: str | None = Field(
        default=None, min_length=1, max_length=10_000, description="Conservative and creative."
    )
    creativity: float | None = Field(
        default=None, ge=0, le=1, description="Conservative 0.2-0.5 (0.35), creative 0.1-0.5 (0.3)."
    )


class StyleTransferRequest(_Prompted):
    """Redraw `init_image` in the style of `style_image`."""

    init_image: ImageInput
    style_image: ImageInput
    prompt: str | None = Field(default=None, min_length=1, max_length=10_000)
    style_strength: Unit | None = Field(default=None, description="(1)")
    composition_fidelity: Unit | None = Field(default=None, description="(0.9)")
    change_strength: float | None = Field(default=None, ge=0.1, le=1, description="(0.9)")


class StyleGuideRequest(_Prompted):
    """Generate an image in the style of `image`."""

    image: ImageInput
    prompt: str = Field(min_length=1, max_length=10_000)
    aspect_ratio: AspectRatio | None = Field(default=None, description="(1:1)")
    fidelity: Unit | None = Field(
        default=None, description="How closely to follow the style (0.5)."
    )


class ControlRequest(_Prompted):
    """Generate an image that follows a sketch or the structure of `image`."""

    image: ImageInput
    prompt: str = Field(min_length=1, max_length=10_000)
    control: Literal["sketch", "structure"] | None = Field(
        default=None, description="Required unless `model` names the control model."
    )
    control_strength: Unit | None = Field(default=None, description="(0.7)")


class ColorGuidedRequest(DiffusionRequest, _Sized):
    """Generate images from a prompt in a palette of colours (Titan v2, Nova Canvas)."""

    prompt: str = Field(min_length=1, max_length=10_000)
    colors: list[Annotated[str, Field(pattern=r"^#[0-9A-Fa-f]{6}$")]] = Field(
        min_length=1, max_length=10, examples=[["#FF8800", "#0044AA"]]
    )
    reference_image: ImageInput | None = Field(
        default=None, description="An image whose colours and layout guide the output."
    )


class VirtualTryOnRequest(_TaskRequest):
    """Dress the person in `image` in the garment of `reference_image` (Nova Canvas).

    Where the garment goes is `mask_type`'s: IMAGE, a mask; GARMENT (the default without a mask
    or a mask prompt), the body area of `garment_class`; PROMPT, what `mask_prompt` names. The
    answer has the person image's size. Values Bedrock documents loosely are passed as given:
    Bedrock has the last word on them.
    """

    image: ImageInput = Field(description="The person (Bedrock's sourceImage).")
    reference_image: ImageInput = Field(description="The garment (Bedrock's referenceImage).")
    mask_type: Literal["IMAGE", "GARMENT", "PROMPT"] | None = Field(
        default=None,
        description="IMAGE with `mask`, PROMPT with `mask_prompt`, else GARMENT when omitted.",
    )
    mask: ImageInput | None = Field(
        default=None,
        description="mask_type IMAGE: marks where the garment goes, in `mask_convention`; the "
        "image's size.",
    )
    mask_convention: MaskConvention = Field(
        default=MaskConvention.BLACK_IS_EDIT,
        description="How `mask` marks the garment's area: black (the default), white or "
        "transparent.",
    )
    mask_prompt: str | None = Field(
        default=None,
        min_length=1,
        max_length=10_000,
        description="mask_type PROMPT: what to dress, e.g. 'the jacket'.",
    )
    mask_shape: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="mask_type GARMENT or PROMPT: CONTOUR, BOUNDING_BOX or DEFAULT.",
    )
    garment_class: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="mask_type GARMENT: e.g. UPPER_BODY (the default), LOWER_BODY, FULL_BODY, "
        "FOOTWEAR, LONG_SLEEVE_SHIRT, LONG_PANTS, SHOES.",
    )
    long_sleeve_style: str | None = Field(
        default=None, min_length=1, max_length=100, description="GARMENT: e.g. SLEEVE_DOWN."
    )
    tucking_style: str | None = Field(
        default=None, min_length=1, max_length=100, description="GARMENT: e.g. UNTUCKED."
    )
    outer_layer_style: str | None = Field(
        default=None, min_length=1, max_length=100, description="GARMENT: e.g. CLOSED."
    )
    preserve_body: bool | None = Field(default=None, description="Keep the body as it is.")
    preserve_hands: bool | None = Field(default=None, description="Keep the hands as they are.")
    preserve_face: bool | None = Field(default=None, description="Keep the face as it is.")
    merge_style: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="How the garment is merged: BALANCED, SEAMLESS or DETAILED.",
    )
    cfg_scale: float | None = Field(default=None, ge=0, le=35, description="Prompt adherence.")
    quality: Literal["standard", "premium"] | None = Field(default=None)


TaskRequest = (
    TextToImageRequest
    | InpaintRequest
    | OutpaintRequest
    | VariationsRequest
    | ImageToImageRequest
    | EraseRequest
    | SearchReplaceRequest
    | SearchRecolorRequest
    | RemoveBackgroundRequest
    | UpscaleRequest
    | StyleTransferRequest
    | StyleGuideRequest
    | ControlRequest
    | ColorGuidedRequest
    | EditRequest
    | VirtualTryOnRequest
)
MaskedRequest = InpaintRequest | OutpaintRequest | EraseRequest
# What every task's request is: what a family's task handler may be typed to.
BaseTaskRequest = _TaskRequest

REQUEST_MODELS: dict[Task, type[BaseTaskRequest]] = {
    Task.TEXT_TO_IMAGE: TextToImageRequest,
    Task.INPAINT: InpaintRequest,
    Task.OUTPAINT: OutpaintRequest,
    Task.VARIATIONS: VariationsRequest,
    Task.IMAGE_TO_IMAGE: ImageToImageRequest,
    Task.ERASE: EraseRequest,
    Task.SEARCH_REPLACE: SearchReplaceRequest,
    Task.SEARCH_RECOLOR: SearchRecolorRequest,
    Task.REMOVE_BACKGROUND: RemoveBackgroundRequest,
    Task.UPSCALE: UpscaleRequest,
    Task.STYLE_TRANSFER: StyleTransferRequest,
    Task.STYLE_GUIDE: StyleGuideRequest,
    Task.CONTROL: ControlRequest,
    Task.COLOR_GUIDED: ColorGuidedRequest,
    Task.EDIT: EditRequest,
    Task.VIRTUAL_TRY_ON: VirtualTryOnRequest,
}

IMAGE_FIELDS = frozenset(
    {"image", "images", "mask", "condition_image", "reference_image", "init_image", "style_image"}
)
