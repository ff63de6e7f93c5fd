"""Titan v1/v2 and Nova Canvas request bodies (reference §2), checked as Bedrock checks them.

`parse_request` turns a body into a `TitanRequest` with decoded pixels, or raises one
ValidationException naming every field that is wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..imaging.codec import ImageDecodeError, decode_b64, image_info
from .checks import Checker, schema_error
from .titan_try_on import TryOn, parse_try_on

TEXT_IMAGE = "TEXT_IMAGE"
INPAINTING = "INPAINTING"
OUTPAINTING = "OUTPAINTING"
IMAGE_VARIATION = "IMAGE_VARIATION"
COLOR_GUIDED_GENERATION = "COLOR_GUIDED_GENERATION"
BACKGROUND_REMOVAL = "BACKGROUND_REMOVAL"
VIRTUAL_TRY_ON = "VIRTUAL_TRY_ON"

PARAMS_KEY = {
    TEXT_IMAGE: "textToImageParams",
    INPAINTING: "inPaintingParams",
    OUTPAINTING: "outPaintingParams",
    IMAGE_VARIATION: "imageVariationParams",
    COLOR_GUIDED_GENERATION: "colorGuidedGenerationParams",
    BACKGROUND_REMOVAL: "backgroundRemovalParams",
    VIRTUAL_TRY_ON: "virtualTryOnParams",
}

TITAN_SIZES: frozenset[tuple[int, int]] = frozenset(
    {
        (1024, 1024), (768, 768), (512, 512), (768, 1152), (384, 576), (1152, 768),
        (576, 384), (768, 1280), (384, 640), (1280, 768), (640, 384), (896, 1152),
        (448, 576), (1152, 896), (576, 448), (768, 1408), (384, 704), (1408, 768),
        (704, 384), (640, 1408), (320, 704), (1408, 640), (704, 320), (1152, 640),
        (1173, 640),
    }
)  # fmt: skip
NOVA_STYLES = (
    "3D_ANIMATED_FAMILY_FILM",
    "DESIGN_SKETCH",
    "FLAT_VECTOR_ILLUSTRATION",
    "GRAPHIC_NOVEL_ILLUSTRATION",
    "MAXIMALISM",
    "MIDCENTURY_RETRO",
    "PHOTOREALISM",
    "SOFT_DIGITAL_PAINTING",
)
CONTROL_MODES = ("CANNY_EDGE", "SEGMENTATION")
OUTPAINTING_MODES = ("DEFAULT", "PRECISE")
QUALITIES = ("standard", "premium")
NOVA_MAX_PIXELS = 4_194_304  # exclusive for outputs, inclusive for inputs
_HEX_COLOR = re.compile(r"#[0-9A-Fa-f]{6}")


@dataclass(frozen=True)
class Flavour:
    """What one model of the family accepts."""

    model_id: str
    tasks: tuple[str, ...]
    nova: bool
    text_min: int
    text_max: int
    seed_max: int
    cfg_default: float
    image_max_side: int
    image_max_pixels: int
    image_max_bytes: int


@dataclass
class TitanRequest:
    """A validated body: the task, its texts, decoded images and the generation config."""

    task: str
    text: str | None = None
    negative_text: str | None = None
    image: np.ndarray | None = None  # RGB
    mask: np.ndarray | None = None  # bool, True = inside the mask (black pixels)
    mask_prompt: str | None = None
    images: list[np.ndarray] = field(default_factory=list)
    similarity: float = 0.7
    outpainting_mode: str = "DEFAULT"
    condition_image: np.ndarray | None = None
    control_mode: str = "CANNY_EDGE"
    control_strength: float = 0.7
    colors: list[tuple[int, int, int]] = field(default_factory=list)
    reference_image: np.ndarray | None = None
    return_mask: bool = False
    try_on: TryOn | None = None
    number_of_images: int = 1
    seed: int = 0
    width: int = 1024
    height: int = 1024

    def texts(self) -> tuple[str | None, ...]:
        """Every prompt-like text, for the content filter."""
        return (self.text, self.negative_text, self.mask_prompt)


def parse_request(flavour: Flavour, body: dict[str, Any]) -> TitanRequest:
    """Validate `body` for `flavour`; raise a ValidationException naming each bad field."""
    c = Checker()
    task = c.enum(body, "taskType", "#", flavour.tasks, required=True)
    if task is None:
        raise schema_error(c.violations)
    params_key = PARAMS_KEY[task]
    allowed = {"taskType", params_key}
    if task != BACKGROUND_REMOVAL:
        allowed.add("imageGenerationConfig")
    c.unknown(body, allowed, "#")
    params = c.obj(body, params_key, "#", required=True)
    request = TitanRequest(task=task)
    path = f"#/{params_key}"
    _TASK_PARSERS[task](c, flavour, params, path, request)
    if task != BACKGROUND_REMOVAL:
        config = c.obj(body, "imageGenerationConfig", "#", required=False)
        # Nova takes no size for edits: the output has the input's size.
        sized = not (flavour.nova and task in (INPAINTING, OUTPAINTING, VIRTUAL_TRY_ON))
        _config(c, flavour, config, request, sized=sized)
    c.done()
    return request


def _text_fields(
    c: Checker, flavour: Flavour, params: dict[str, Any], path: str, *, required: bool
) -> tuple[str | None, str | None]:
    low, high = flavour.text_min, flavour.text_max
    text = c.string(params, "text", path, required=required, min_len=low, max_len=high)
    negative = c.string(params, "negativeText", path, min_len=low, max_len=high)
    return text, negative


def _text_image(
    c: Checker, flavour: Flavour, params: dict[str, Any], path: str, request: TitanRequest
) -> None:
    allowed = {"text", "negativeText"}
    if flavour.model_id != "amazon.titan-image-generator-v1":
        allowed |= {"conditionImage", "controlMode", "controlStrength"}
    if flavour.nova:
        allowed.add("style")
    c.unknown(params, allowed, path)
    request.text, request.negative_text = _text_fields(c, flavour, params, path, required=True)
    if "conditionImage" in allowed:
        request.condition_image = _image(c, flavour, params, "conditionImage", path)
        mode = c.enum(params, "controlMode", path, CONTROL_MODES, default="CANNY_EDGE")
        request.control_mode = mode or "CANNY_EDGE"
        strength = c.number(params, "controlStrength", path, lo=0.0, hi=1.0, default=0.7)
        request.control_strength = 0.7 if strength is None else strength
    if flavour.nova:
        c.enum(params, "style", path, NOVA_STYLES)


def _mask_fields(
    c: Checker, flavour: Flavour, params: dict[str, Any], path: str, request: TitanRequest
) -> None:
    """The edit image and exactly one of maskPrompt | maskImage."""
    request.image = _image(c, flavour, params, "image", path, required=True)
    has_prompt = params.get("maskPrompt") is not None
    has_image = params.get("maskImage") is not None
    if has_prompt == has_image:
        c.fail(path, "exactly one of [maskPrompt, maskImage] must be provided")
        return
    if has_prompt:
        request.mask_prompt = c.string(
            params, "maskPrompt", path, min_len=1, max_len=flavour.text_max
        )
        return
    request.mask = _mask(c, flavour, params, path, request.image)


def _inpainting(
    c: Checker, flavour: Flavour, params: dict[str, Any], path: str, request: TitanRequest
) -> None:
    allowed = {"image", "text", "negativeText", "maskPrompt", "maskImage"}
    if flavour.model_id != "amazon.titan-image-generator-v1":
        allowed.add("returnMask")
    c.unknown(params, allowed, path)
    request.text, request.negative_text = _text_fields(c, flavour, params, path, required=False)
    _mask_fields(c, flavour, params, path, request)
    request.return_mask = _boolean(c, params, "returnMask", path)


def _outpainting(
    c: Checker, flavour: Flavour, params: dict[str, Any], path: str, request: TitanRequest
) -> None:
    allowed = {"image", "text", "negativeText", "maskPrompt", "maskImage", "outPaintingMode"}
    c.unknown(params, allowed, path)
    request.text, request.negative_text = _text_fields(c, flavour, params, path, required=True)
    _mask_fields(c, flavour, params, path, request)
    mode = c.enum(params, "outPaintingMode", path, OUTPAINTING_MODES, default="DEFAULT")
    request.outpainting_mode = mode or "DEFAULT"


def _image_variation(
    c: Checker, flavour: Flavour, params: dict[str, Any], path: str, request: TitanRequest
) -> None:
    c.unknown(params, {"images", "text", "negativeText", "similarityStrength"}, path)
    request.text, request.negative_text = _text_fields(c, flavour, params, path, required=False)
    items = c.array(params, "images", path, min_items=1, max_items=5, required=True)
    for index, item in enumerate(items[:5]):
        pixels = _image(c, flavour, {str(index): item}, str(index), f"{path}/images")
        if pixels is not None:
            request.images.append(pixels)
    strength = c.number(params, "similarityStrength", path, lo=0.2, hi=1.0, default=0.7)
    request.similarity = 0.7 if strength is None else strength


def _color_guided(
    c: Checker, flavour: Flavour, params: dict[str, Any], path: str, request: TitanRequest
) -> None:
    c.unknown(params, {"text", "negativeText", "colors", "referenceImage"}, path)
    request.text, request.negative_text = _text_fields(c, flavour, params, path, required=True)
    colors = c.array(params, "colors", path, min_items=1, max_items=10, required=True)
    for index, color in enumerate(colors):
        if not isinstance(color, str) or not _HEX_COLOR.fullmatch(color):
            c.fail(f"{path}/colors/{index}", f"{color!r} is not a hex colour like #FF9800")
            continue
        value = int(color[1:], 16)
        request.colors.append((value >> 16, (value >> 8) & 0xFF, value & 0xFF))
    request.reference_image = _image(c, flavour, params, "referenceImage", path)


def _background_removal(
    c: Checker, flavour: Flavour, params: dict[str, Any], path: str, request: TitanRequest
) -> None:
    c.unknown(params, {"image"}, path)
    request.image = _image(c, flavour, params, "image", path, required=True)


def _virtual_try_on(
    c: Checker, flavour: Flavour, params: dict[str, Any], path: str, request: TitanRequest
) -> None:
    """The person (sourceImage), the garment (referenceImage) and where it goes."""
    request.try_on = parse_try_on(c, params, path)
    request.image = _image(c, flavour, params, "sourceImage", path, required=True)
    request.reference_image = _image(c, flavour, params, "referenceImage", path, required=True)
    request.return_mask = _boolean(c, params, "returnMask", path)
    mask = request.try_on.mask_image
    if "maskImage" in mask:
        request.mask = _mask(c, flavour, mask, f"{path}/imageBasedMask", request.image)


_TASK_PARSERS = {
    TEXT_IMAGE: _text_image,
    INPAINTING: _inpainting,
    OUTPAINTING: _outpainting,
    IMAGE_VARIATION: _image_variation,
    COLOR_GUIDED_GENERATION: _color_guided,
    BACKGROUND_REMOVAL: _background_removal,
    VIRTUAL_TRY_ON: _virtual_try_on,
}


def _config(
    c: Checker, flavour: Flavour, config: dict[str, Any], request: TitanRequest, *, sized: bool
) -> None:
    path = "#/imageGenerationConfig"
    allowed = {"numberOfImages", "cfgScale", "seed", "quality"}
    if sized:
        allowed |= {"width", "height"}
    c.unknown(config, allowed, path)
    request.number_of_images = c.integer(config, "numberOfImages", path, lo=1, hi=5, default=1) or 1
    c.number(config, "cfgScale", path, lo=1.1, hi=10.0, default=flavour.cfg_default)
    request.seed = c.integer(config, "seed", path, lo=0, hi=flavour.seed_max, default=0) or 0
    c.enum(config, "quality", path, QUALITIES, default="standard")
    if not sized:
        return
    if flavour.nova:
        width = c.integer(config, "width", path, lo=320, hi=4096, default=1024)
        height = c.integer(config, "height", path, lo=320, hi=4096, default=1024)
        if width is None or height is None:
            return
        _nova_size(c, path, width, height)
    else:
        width = c.integer(config, "width", path, lo=1, hi=1408, default=1024)
        height = c.integer(config, "height", path, lo=1, hi=1408, default=1024)
        if width is None or height is None:
            return
        if (width, height) not in TITAN_SIZES:
            c.fail(
                f"{path}/width",
                f"width x height {width}x{height} is not a supported size "
                "(see the allowed width/height pairs)",
            )
    request.width, request.height = width, height


def _nova_size(c: Checker, path: str, width: int, height: int) -> None:
    for key, value in (("width", width), ("height", height)):
        if value % 16:
            c.fail(f"{path}/{key}", f"{value} is not divisible by 16")
    if max(width, height) > 4 * min(width, height):
        c.fail(f"{path}/width", f"aspect ratio {width}x{height} is outside 1:4 to 4:1")
    if width * height >= NOVA_MAX_PIXELS:
        c.fail(
            f"{path}/width",
            f"width x height {width}x{height} has {width * height} pixels; "
            f"expected fewer than {NOVA_MAX_PIXELS}",
        )


def _boolean(c: Checker, params: dict[str, Any], key: str, path: str) -> bool:
    value = params.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        c.fail(f"{path}/{key}", f"expected type: Boolean, found: {type(value).__name__}")
        return False
    return value


def _decode(
    c: Checker, flavour: Flavour, params: dict[str, Any], key: str, path: str, *, required: bool
) -> np.ndarray | None:
    """A base64 PNG/JPEG within the model's input limits, decoded (RGB or RGBA)."""
    data = c.string(params, key, path, required=required, min_len=1)
    if data is None:
        return None
    where = f"{path}/{key}"
    try:
        fmt, width, height, _mode, size = image_info(data)
        if fmt not in ("png", "jpeg"):
            c.fail(where, f"expected a PNG or JPEG image, found: {fmt}")
            return None
        if max(width, height) > flavour.image_max_side:
            c.fail(
                where,
                f"image is {width}x{height}; the longer side must be at most "
                f"{flavour.image_max_side} pixels",
            )
            return None
        if width * height > flavour.image_max_pixels:
            c.fail(where, f"image has {width * height} pixels; at most {flavour.image_max_pixels}")
            return None
        if size > flavour.image_max_bytes:
            c.fail(where, f"image is {size} bytes; at most {flavour.image_max_bytes}")
            return None
        return decode_b64(data)
    except ImageDecodeError as error:
        c.fail(where, f"invalid image: {error}")
        return None


def _image(
    c: Checker,
    flavour: Flavour,
    params: dict[str, Any],
    key: str,
    path: str,
    *,
    required: bool = False,
) -> np.ndarray | None:
    """An input image as RGB; Titan refuses alpha, Nova accepts it only fully opaque."""
    pixels = _decode(c, flavour, params, key, path, required=required)
    if pixels is None or pixels.shape[2] == 3:
        return pixels
    if not flavour.nova:
        c.fail(f"{path}/{key}", "expected an 8-bit RGB image, found an alpha channel")
        return None
    if (pixels[..., 3] != 255).any():
        c.fail(f"{path}/{key}", "transparent pixels are not supported; send an opaque image")
        return None
    return pixels[..., :3]


def _mask(
    c: Checker, flavour: Flavour, params: dict[str, Any], path: str, image: np.ndarray | None
) -> np.ndarray | None:
    """maskImage as a bool array, True where black (inside the mask); same size as the image."""
    pixels = _decode(c, flavour, params, "maskImage", path, required=True)
    if pixels is None:
        return None
    where = f"{path}/maskImage"
    rgb = pixels[..., :3]
    if image is not None and rgb.shape[:2] != image.shape[:2]:
        c.fail(
            where,
            f"mask size {rgb.shape[1]}x{rgb.shape[0]} does not match image size "
            f"{image.shape[1]}x{image.shape[0]}",
        )
        return None
    if flavour.nova and not np.isin(rgb, (0, 255)).all():
        c.fail(where, "the mask must contain only pure black (0,0,0) and white (255,255,255)")
        return None
    luma = rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    inside: np.ndarray = luma < 128
    return inside
