"""Stability's text-to-image family (reference §4): SD3.5 Large, Stable Image Ultra and Core.

One image per call. Text-to-image draws at an aspect ratio (width/height are mapped to the nearest
one); image-to-image and variations (SD3, SD3.5, Ultra v1:1) redraw one input image, changing it
more as `strength` rises. What differs between the models is per-entry configuration (`limits`).
"""

from __future__ import annotations

import random
from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar, get_args

from pydantic import Field

from ...imaging.inputs import InputImage
from ...problems import FieldProblem
from ...schemas.images import GeneratedImage
from ...schemas.requests import (
    ImageToImageRequest,
    StylePreset,
    Task,
    TextToImageRequest,
    VariationsRequest,
)
from ..base import Call, FamilyLimits, Lifecycle, ModelAdapter, ModelEntry, Notes, TaskHandler
from ..stability_common import (
    ASPECT_RATIOS,
    PROMPT_MAX,
    READ_TIMEOUT_S,
    REGION,
    SEED_MAX,
    ImageRule,
    ImageRuleLimits,
    OutputFormatName,
    copy_fields,
    image_b64,
    nearest_aspect_ratio,
    one_call_per_image,
    parse_answer,
)

STYLE_PRESETS: tuple[str, ...] = get_args(StylePreset)
DEFAULT_ASPECT_RATIO = "1:1"
DEFAULT_OUTPUT_FORMAT = "png"
# Bedrock requires `strength` with an input image and has no default. Variations stay close to
# the input (as Titan's similarity 0.7 does); image-to-image lets the prompt change more of it.
DEFAULT_STRENGTH: dict[Task, float] = {Task.VARIATIONS: 0.35, Task.IMAGE_TO_IMAGE: 0.6}

# The family's limits, which an entry's `limits` override key by key: what every model of §4
# takes, so a new model takes no more than is known until configured otherwise.
FAMILY_LIMITS: dict[str, Any] = {
    "output_formats": ["png", "jpeg"],
    "style_preset": False,
    "image_to_image": False,
    "input_image": {},
}


class StabilityLimitsModel(FamilyLimits):
    """What an entry's `limits` may override for this family (FAMILY_LIMITS' keys)."""

    output_formats: tuple[OutputFormatName, ...] = Field(default=("png", "jpeg"), min_length=1)
    style_preset: bool = False
    image_to_image: bool = False
    input_image: ImageRuleLimits = Field(default_factory=ImageRuleLimits)


_SHARED = frozenset({"prompt", "negative_prompt", "seed", "output_format", "style_preset"})
_FIELDS: dict[Task, frozenset[str]] = {
    Task.TEXT_TO_IMAGE: _SHARED | {"aspect_ratio", "width", "height"},
    Task.IMAGE_TO_IMAGE: _SHARED | {"image", "strength"},
    Task.VARIATIONS: _SHARED | {"images", "strength"},
}


_FromImage = ImageToImageRequest | VariationsRequest
F = TypeVar("F", ImageToImageRequest, VariationsRequest)


@dataclass(frozen=True)
class StabilityLimits:
    """What one model of the family takes: the family's limits under the entry's overrides."""

    output_formats: tuple[str, ...]
    style_preset: bool
    image_to_image: bool
    input_image: ImageRule

    @classmethod
    def of(cls, entry: ModelEntry) -> StabilityLimits:
        """The limits of `entry`."""
        merged = {**FAMILY_LIMITS, **entry.limits}
        return cls(
            output_formats=tuple(merged["output_formats"]),
            style_preset=bool(merged["style_preset"]),
            image_to_image=bool(merged["image_to_image"]),
            input_image=ImageRule(**merged["input_image"]),
        )


def _common_problems(
    entry: ModelEntry, limits: StabilityLimits, request: TextToImageRequest | _FromImage
) -> list[FieldProblem]:
    """The prompt, the seed and the output format, whatever the task."""
    problems: list[FieldProblem] = []
    if request.prompt is None:
        problems.append(FieldProblem(field="prompt", message=f"required by {entry.id}"))
    if request.seed is not None and request.seed > SEED_MAX:
        problems.append(
            FieldProblem(
                field="seed",
                message=f"{request.seed} is outside {entry.id}'s range 0-{SEED_MAX}",
            )
        )
    if request.output_format is not None and request.output_format not in limits.output_formats:
        listing = ", ".join(limits.output_formats)
        problems.append(
            FieldProblem(
                field="output_format",
                message=f"{entry.id} answers {listing}, not {request.output_format}",
            )
        )
    return problems


def _calls(
    body: dict[str, Any], request: TextToImageRequest | _FromImage, rng: random.Random
) -> list[Call]:
    body.update(copy_fields(request, ("output_format", "style_preset")))
    return one_call_per_image(body, request.seed, request.n, rng)


def _prompt_body(request: TextToImageRequest | _FromImage) -> dict[str, Any]:
    return {"prompt": request.prompt, **copy_fields(request, ("negative_prompt",))}


class TextToImage(TaskHandler[TextToImageRequest]):
    """Drawn at an aspect ratio; a width and height are mapped to the nearest one."""

    request_type = TextToImageRequest

    def check(self, entry: ModelEntry, request: TextToImageRequest) -> list[FieldProblem]:
        return _common_problems(entry, StabilityLimits.of(entry), request) + _size_problems(request)

    def plan(
        self, entry: ModelEntry, request: TextToImageRequest, rng: random.Random
    ) -> list[Call]:
        body = _prompt_body(request)
        # mode text-to-image is the model's default: left out, as AWS's examples leave it.
        ratio = _aspect_ratio(request)
        if ratio is not None:
            body["aspect_ratio"] = ratio
        return _calls(body, request, rng)

    def notes(self, entry: ModelEntry, request: TextToImageRequest) -> Notes:
        if request.width is not None and request.aspect_ratio is None:
            return Notes(applied={"aspect_ratio": _aspect_ratio(request)})
        return Notes()


class _Redraw(TaskHandler[F]):
    """One input image redrawn (mode image-to-image), changed more as `strength` rises."""

    task: ClassVar[Task]
    field: ClassVar[str]  # how the input image is named in problems

    @abstractmethod
    def input_image(self, request: F) -> InputImage:
        """The image redrawn."""

    def count_problems(self, entry: ModelEntry, request: F) -> list[FieldProblem]:
        """A problem when the request sends more than one image."""
        return []

    def check(self, entry: ModelEntry, request: F) -> list[FieldProblem]:
        limits = StabilityLimits.of(entry)
        problems: list[FieldProblem] = _common_problems(entry, limits, request)
        if not limits.image_to_image:
            name = "image" if self.field == "image" else "images"
            refused = FieldProblem(field=name, message=f"{entry.id} takes no input image")
            return [*problems, refused]
        counted = self.count_problems(entry, request)
        if counted:
            return problems + counted
        return problems + limits.input_image.problems(
            self.field, self.input_image(request), entry.id
        )

    def plan(self, entry: ModelEntry, request: F, rng: random.Random) -> list[Call]:
        body = _prompt_body(request)
        body.update(
            mode="image-to-image",
            image=image_b64(self.input_image(request)),
            strength=self.strength(request),
        )
        return _calls(body, request, rng)

    def notes(self, entry: ModelEntry, request: F) -> Notes:
        if request.strength is None:
            return Notes(applied={"strength": self.strength(request)})
        return Notes()

    def strength(self, request: F) -> float:
        """The strength asked, or the task's default (Bedrock requires one)."""
        return request.strength if request.strength is not None else DEFAULT_STRENGTH[self.task]


class ImageToImage(_Redraw[ImageToImageRequest]):
    """The image redrawn as the prompt says."""

    request_type = ImageToImageRequest
    task = Task.IMAGE_TO_IMAGE
    field = "image"

    def input_image(self, request: ImageToImageRequest) -> InputImage:
        return request.image


class Variations(_Redraw[VariationsRequest]):
    """Variations of exactly one image."""

    request_type = VariationsRequest
    task = Task.VARIATIONS
    field = "images[0]"

    def input_image(self, request: VariationsRequest) -> InputImage:
        return request.images[0]

    def count_problems(self, entry: ModelEntry, request: VariationsRequest) -> list[FieldProblem]:
        if len(request.images) == 1:
            return []
        message = (
            f"{entry.id} makes variations of exactly one image, {len(request.images)} were sent"
        )
        return [FieldProblem(field="images", message=message)]


class StabilityAdapter(ModelAdapter):
    """SD3/SD3.5 Large, Stable Image Ultra and Core: text-to-image, image-to-image, variations."""

    family = "stability"
    limits_model = StabilityLimitsModel
    handlers: ClassVar[Mapping[Task, TaskHandler[Any]]] = {
        Task.TEXT_TO_IMAGE: TextToImage(),
        Task.IMAGE_TO_IMAGE: ImageToImage(),
        Task.VARIATIONS: Variations(),
    }

    def fields(self, task: Task) -> frozenset[str]:
        return _FIELDS[task]

    def fields_for(self, entry: ModelEntry, task: Task) -> frozenset[str]:
        if StabilityLimits.of(entry).style_preset:
            return _FIELDS[task]
        return _FIELDS[task] - {"style_preset"}

    def parse(self, call: Call, payload: dict[str, Any]) -> list[GeneratedImage]:
        return parse_answer(call, payload)

    def describe(self, entry: ModelEntry) -> dict[str, Any]:
        limits = StabilityLimits.of(entry)
        described: dict[str, Any] = {
            "aspect_ratios": list(ASPECT_RATIOS),
            "output_formats": list(limits.output_formats),
            "style_presets": list(STYLE_PRESETS) if limits.style_preset else [],
            "prompt_max_chars": PROMPT_MAX,
            "seed": [0, SEED_MAX],
            "images_per_call": 1,
            "image_to_image": limits.image_to_image,
            "defaults": {
                "aspect_ratio": DEFAULT_ASPECT_RATIO,
                "output_format": DEFAULT_OUTPUT_FORMAT,
            },
        }
        if limits.image_to_image:
            described.update(
                input_image=limits.input_image.describe(), strength=[0, 1], variation_images=[1, 1]
            )
            described["defaults"]["strength"] = {
                task.value: value for task, value in DEFAULT_STRENGTH.items()
            }
        return described


def _size_problems(request: TextToImageRequest) -> list[FieldProblem]:
    """width and height only together, and not with aspect_ratio."""
    width, height = request.width, request.height
    if (width is None) != (height is None):
        missing = "width" if width is None else "height"
        return [
            FieldProblem(
                field=missing,
                message="width and height must be given together (mapped to an aspect ratio)",
            )
        ]
    if width is not None and request.aspect_ratio is not None:
        return [
            FieldProblem(
                field="aspect_ratio", message="give aspect_ratio or width and height, not both"
            )
        ]
    return []


def _aspect_ratio(request: TextToImageRequest) -> str | None:
    """The ratio asked for, the one nearest width x height, or None for the model's default."""
    if request.aspect_ratio is not None:
        return request.aspect_ratio
    if request.width is not None and request.height is not None:
        return nearest_aspect_ratio(request.width, request.height)
    return None


ADAPTER = StabilityAdapter()

_WITH_IMAGES = (Task.TEXT_TO_IMAGE, Task.IMAGE_TO_IMAGE, Task.VARIATIONS)


def _entry(
    model_id: str, aliases: tuple[str, ...], description: str, limits: dict[str, Any], **extra: Any
) -> ModelEntry:
    tasks = _WITH_IMAGES if limits.get("image_to_image") else (Task.TEXT_TO_IMAGE,)
    return ModelEntry(
        id=model_id,
        family="stability",
        aliases=aliases,
        tasks=tasks,
        invoke_id=f"us.{model_id}",
        region=REGION,
        read_timeout_s=READ_TIMEOUT_S,
        limits=limits,
        description=description,
        **extra,
    )


_SD35 = {"output_formats": ["png", "jpeg", "webp"], "image_to_image": True}
_ULTRA = {"style_preset": True, "image_to_image": True}
_CORE = {"style_preset": True}

MODELS: tuple[ModelEntry, ...] = (
    _entry(
        "stability.sd3-5-large-v1:0", ("sd3.5-large", "sd3.5"), "Stable Diffusion 3.5 Large", _SD35
    ),
    _entry(
        "stability.stable-image-ultra-v1:1",
        ("ultra", "stable-image-ultra"),
        "Stable Image Ultra 1.1",
        _ULTRA,
    ),
    _entry(
        "stability.stable-image-core-v1:1",
        ("core", "stable-image-core"),
        "Stable Image Core 1.1",
        _CORE,
    ),
    _entry(
        "stability.sd3-large-v1:0",
        ("sd3-large",),
        "Stable Diffusion 3 Large",
        {"image_to_image": True},
        # Bedrock gives no end-of-life date for the retired ones (reference §0): none is set.
        status=Lifecycle.RETIRED,
        successors=("sd3.5-large",),
    ),
    _entry(
        "stability.stable-image-ultra-v1:0",
        ("ultra-v1.0",),
        "Stable Image Ultra 1.0",
        {"style_preset": True},
        status=Lifecycle.RETIRED,
        successors=("ultra",),
    ),
    _entry(
        "stability.stable-image-core-v1:0",
        ("core-v1.0",),
        "Stable Image Core 1.0",
        _CORE,
        status=Lifecycle.RETIRED,
        successors=("core",),
    ),
)
