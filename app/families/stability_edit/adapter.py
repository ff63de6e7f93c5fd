"""Stability's editing Image Services (reference §4b): inpaint, outpaint, search and replace,
search and recolor, erase object, remove background. One model per tool, one image per call.

Masks arrive in the caller's convention and leave as Stability's: white = change, black = keep.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any, ClassVar, TypeVar

from pydantic import Field

from ...imaging.masks import encode_mask
from ...problems import FieldProblem
from ...schemas.images import GeneratedImage
from ...schemas.requests import (
    EraseRequest,
    InpaintRequest,
    OutpaintRequest,
    RemoveBackgroundRequest,
    SearchRecolorRequest,
    SearchReplaceRequest,
    Task,
    TaskRequest,
)
from ..base import Call, FamilyLimits, ModelAdapter, ModelEntry, TaskHandler, b64
from ..masking import mask_problems, region_of, uses_image_alpha
from ..stability_common import (
    PROMPT_MAX,
    SEED_MAX,
    ImageRule,
    ImageRuleLimits,
    OutputFormatName,
    copy_fields,
    image_b64,
    one_call_per_image,
    parse_answer,
    range_problem,
    service_entry,
)

OUTPUT_FORMATS: tuple[OutputFormatName, ...] = ("png", "jpeg", "webp")
MARGINS = ("left", "right", "up", "down")
E = TypeVar(
    "E",
    InpaintRequest,
    OutpaintRequest,
    SearchReplaceRequest,
    SearchRecolorRequest,
    EraseRequest,
    RemoveBackgroundRequest,
)
K = TypeVar("K", InpaintRequest, EraseRequest)


@dataclass(frozen=True)
class ToolLimits:
    """One tool's limits; an entry's `limits` overrides any of them by name."""

    image: ImageRule = field(default_factory=ImageRule)
    grow_mask: tuple[int, int] | None = None
    margin_max: int | None = None
    creativity: tuple[float, float] | None = None
    output_formats: tuple[str, ...] = OUTPUT_FORMATS

    def describe(self) -> dict[str, Any]:
        """The limits, for GET /v1/models (the ones the tool has)."""
        found: dict[str, Any] = {"input_image": self.image.describe()}
        if self.grow_mask is not None:
            found["grow_mask"] = list(self.grow_mask)
        if self.margin_max is not None:
            found["margins"] = [0, self.margin_max]
        if self.creativity is not None:
            found["creativity"] = list(self.creativity)
        found["output_formats"] = list(self.output_formats)
        return found


class EditLimitsModel(FamilyLimits):
    """What an entry's `limits` may override (ToolLimits' fields, `image` field by field)."""

    image: ImageRuleLimits = Field(default_factory=ImageRuleLimits)
    grow_mask: tuple[int, int] | None = None
    margin_max: int | None = Field(default=None, ge=1)
    creativity: tuple[float, float] | None = None
    output_formats: tuple[OutputFormatName, ...] = Field(default=OUTPUT_FORMATS, min_length=1)


@dataclass(frozen=True)
class Tool:
    """What one Image Service takes: its fields, limits and defaults."""

    fields: frozenset[str]
    limits: ToolLimits
    defaults: dict[str, Any]
    seeded: bool = True


_VARIETY = frozenset({"seed", "output_format"})
_STYLED = _VARIETY | {"style_preset"}
_SEARCHED = _STYLED | {"image", "prompt", "negative_prompt", "grow_mask"}
TOOLS: dict[Task, Tool] = {
    Task.INPAINT: Tool(
        fields=_STYLED
        | {"image", "prompt", "mask", "mask_convention", "grow_mask", "negative_prompt"},
        limits=ToolLimits(grow_mask=(0, 100)),
        defaults={"grow_mask": 5, "output_format": "png"},
    ),
    Task.OUTPAINT: Tool(
        fields=_STYLED | {"image", "prompt", "creativity", *MARGINS},
        limits=ToolLimits(margin_max=2000, creativity=(0.0, 1.0)),
        defaults={**dict.fromkeys(MARGINS, 0), "creativity": 0.5, "output_format": "png"},
    ),
    Task.SEARCH_REPLACE: Tool(
        fields=_SEARCHED | {"search_prompt"},
        limits=ToolLimits(grow_mask=(0, 20)),
        defaults={"grow_mask": 3, "output_format": "png"},
    ),
    Task.SEARCH_RECOLOR: Tool(
        fields=_SEARCHED | {"select_prompt"},
        limits=ToolLimits(grow_mask=(0, 20)),
        defaults={"grow_mask": 3, "output_format": "png"},
    ),
    Task.ERASE: Tool(
        fields=_VARIETY | {"image", "mask", "mask_convention", "grow_mask"},
        limits=ToolLimits(grow_mask=(0, 20)),
        defaults={"grow_mask": 5, "output_format": "png"},
    ),
    Task.REMOVE_BACKGROUND: Tool(
        fields=frozenset({"image", "output_format"}),
        limits=ToolLimits(image=ImageRule(max_pixels=4_194_304), output_formats=("png", "webp")),
        defaults={"output_format": "png"},
        seeded=False,
    ),
}

# Fields the caller may reach for out of habit with another model, and where they belong here.
_HINTS: dict[Task, dict[str, str]] = {
    Task.INPAINT: {
        "mask_prompt": "to edit what a prompt names, use /v1/images/search-replace "
        "(search_prompt) or a Titan model",
    },
    Task.OUTPAINT: {
        "mask": "Stability outpaint grows the canvas by left/right/up/down pixels; "
        "outpainting by mask is done by the Titan and SDXL models",
        "mask_convention": "Stability outpaint takes no mask; it grows the canvas by "
        "left/right/up/down pixels",
    },
}
_ALPHA_HINT = "; or send an image with transparent pixels to edit and mask_convention alpha-is-edit"


def limits_for(entry: ModelEntry, task: Task) -> ToolLimits:
    """The tool's limits for `entry`: the family's, overridden by `entry.limits`."""
    limits = TOOLS[task].limits
    overrides: dict[str, Any] = {}
    for name, value in entry.limits.items():
        if name == "image":
            overrides["image"] = ImageRule(**{**asdict(limits.image), **value})
        elif name in ("grow_mask", "creativity", "output_formats"):
            overrides[name] = tuple(value)
        elif name == "margin_max":
            overrides[name] = int(value)
    return replace(limits, **overrides)


class _Tool(TaskHandler[E]):
    """One Image Service: one image in, one image a call (none seeded for remove background)."""

    task: ClassVar[Task]

    def task_problems(
        self, entry: ModelEntry, limits: ToolLimits, request: E
    ) -> list[FieldProblem]:
        """What the tool itself checks (a prompt, a mask, margins)."""
        return []

    def mask(self, request: E) -> dict[str, Any]:
        """The mask part of the body (none for the tools that take no mask)."""
        return {}

    def check(self, entry: ModelEntry, request: E) -> list[FieldProblem]:
        tool, limits, name = TOOLS[self.task], limits_for(entry, self.task), entry.name
        problems: list[FieldProblem] = limits.image.problems("image", request.image, name)
        if tool.seeded:
            problems += range_problem("seed", request.seed, 0, SEED_MAX, name)
        elif request.n > 1:
            problems.append(
                FieldProblem(
                    field="n",
                    message=f"is {request.n}; {name} takes no seed and gives the same image "
                    "every time, so it makes one",
                )
            )
        fmt = request.output_format
        if fmt is not None and fmt not in limits.output_formats:
            allowed = ", ".join(limits.output_formats)
            problems.append(
                FieldProblem(field="output_format", message=f"{name} answers in {allowed} only")
            )
        if limits.grow_mask is not None:
            grow = getattr(request, "grow_mask", None)
            problems += range_problem("grow_mask", grow, *limits.grow_mask, name)
        return problems + self.task_problems(entry, limits, request)

    def plan(self, entry: ModelEntry, request: E, rng: random.Random) -> list[Call]:
        # The Bedrock body shared by every call of the request (the seed is added per call).
        names = TOOLS[self.task].fields - {"image", "mask", "mask_convention", "seed"}
        body: dict[str, Any] = {
            "image": image_b64(request.image),
            **copy_fields(request, names),
            **self.mask(request),
        }
        if not TOOLS[self.task].seeded:
            # Deterministic: one call, and no seed to report (none reproduces it better).
            return [Call(body=body, seeds=(0,), extra={"seedless": True})]
        return one_call_per_image(body, request.seed, request.n, rng)


class _MaskedTool(_Tool[K]):
    """Inpaint and erase: a mask, or the image's own transparent pixels."""

    def task_problems(
        self, entry: ModelEntry, limits: ToolLimits, request: K
    ) -> list[FieldProblem]:
        return _mask_problems(request)

    def mask(self, request: K) -> dict[str, Any]:
        if uses_image_alpha(request):
            return {}
        # Stability changes the white pixels: the caller's region, whatever its convention.
        return {"mask": b64(encode_mask(region_of(request), edit="white"))}


class Inpaint(_MaskedTool[InpaintRequest]):
    """The masked pixels redrawn as the prompt says."""

    request_type = InpaintRequest
    task = Task.INPAINT

    def task_problems(
        self, entry: ModelEntry, limits: ToolLimits, request: InpaintRequest
    ) -> list[FieldProblem]:
        problems: list[FieldProblem] = []
        if request.prompt is None:
            problems.append(FieldProblem(field="prompt", message=f"required by {entry.name}"))
        return problems + _mask_problems(request)


class Erase(_MaskedTool[EraseRequest]):
    """The masked pixels filled from their surroundings."""

    request_type = EraseRequest
    task = Task.ERASE


class Outpaint(_Tool[OutpaintRequest]):
    """The canvas grown by margins."""

    request_type = OutpaintRequest
    task = Task.OUTPAINT

    def task_problems(
        self, entry: ModelEntry, limits: ToolLimits, request: OutpaintRequest
    ) -> list[FieldProblem]:
        return _outpaint_problems(request, limits, entry.name)


class SearchReplace(_Tool[SearchReplaceRequest]):
    """What `search_prompt` names, replaced."""

    request_type = SearchReplaceRequest
    task = Task.SEARCH_REPLACE


class SearchRecolor(_Tool[SearchRecolorRequest]):
    """What `select_prompt` names, recoloured."""

    request_type = SearchRecolorRequest
    task = Task.SEARCH_RECOLOR


class RemoveBackground(_Tool[RemoveBackgroundRequest]):
    """The background made transparent."""

    request_type = RemoveBackgroundRequest
    task = Task.REMOVE_BACKGROUND


class StabilityEditsAdapter(ModelAdapter):
    """The six editing Image Services, each a model serving one task."""

    family = "stability-edit"
    limits_model = EditLimitsModel
    handlers: ClassVar[Mapping[Task, TaskHandler[Any]]] = {
        Task.INPAINT: Inpaint(),
        Task.OUTPAINT: Outpaint(),
        Task.SEARCH_REPLACE: SearchReplace(),
        Task.SEARCH_RECOLOR: SearchRecolor(),
        Task.ERASE: Erase(),
        Task.REMOVE_BACKGROUND: RemoveBackground(),
    }

    def fields(self, task: Task) -> frozenset[str]:
        return TOOLS[task].fields

    def untaken(self, entry: ModelEntry, task: Task, request: TaskRequest) -> list[FieldProblem]:
        hints = _HINTS.get(task, {})
        return [
            FieldProblem(field=p.field, message=f"{p.message}; {hints[p.field]}")
            if p.field in hints
            else p
            for p in super().untaken(entry, task, request)
        ]

    def parse(self, call: Call, payload: dict[str, Any]) -> list[GeneratedImage]:
        images = parse_answer(call, payload)
        if call.extra.get("seedless"):
            return [replace(image, seed=None) for image in images]
        return images

    def describe(self, entry: ModelEntry) -> dict[str, Any]:
        task = next((t for t in entry.tasks if t in TOOLS), None)
        if task is None:
            return {}
        tool = TOOLS[task]
        return {
            **limits_for(entry, task).describe(),
            "prompt_max_chars": PROMPT_MAX,
            "seed": [0, SEED_MAX] if tool.seeded else None,
            "images_per_call": 1,
            "defaults": dict(tool.defaults),
        }


def _mask_problems(request: InpaintRequest | EraseRequest) -> list[FieldProblem]:
    problems = mask_problems(request, prompt_allowed=False)
    if request.mask is None:
        return [
            FieldProblem(field=p.field, message=p.message + _ALPHA_HINT) if p.field == "mask" else p
            for p in problems
        ]
    return problems


def _outpaint_problems(
    request: OutpaintRequest, limits: ToolLimits, name: str
) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    margins = {side: getattr(request, side) for side in MARGINS}
    if limits.margin_max is not None:
        for side, value in margins.items():
            problems += range_problem(side, value, 0, limits.margin_max, name)
    if not any(value for value in margins.values()):
        problems.append(
            FieldProblem(
                field="left",
                message=f"{name} needs at least one of left, right, up, down greater than 0",
            )
        )
    if limits.creativity is not None:
        problems += range_problem("creativity", request.creativity, *limits.creativity, name)
    return problems


ADAPTER = StabilityEditsAdapter()


def _entry(model_id: str, alias: str, task: Task, description: str) -> ModelEntry:
    return service_entry(ADAPTER.family, model_id, alias, task, description)


MODELS: tuple[ModelEntry, ...] = (
    _entry(
        "stability.stable-image-inpaint-v1:0",
        "stability-inpaint",
        Task.INPAINT,
        "Stability Image Services: Inpaint",
    ),
    _entry(
        "stability.stable-outpaint-v1:0",
        "stability-outpaint",
        Task.OUTPAINT,
        "Stability Image Services: Outpaint",
    ),
    _entry(
        "stability.stable-image-search-replace-v1:0",
        "search-replace",
        Task.SEARCH_REPLACE,
        "Stability Image Services: Search and Replace",
    ),
    _entry(
        "stability.stable-image-search-recolor-v1:0",
        "search-recolor",
        Task.SEARCH_RECOLOR,
        "Stability Image Services: Search and Recolor",
    ),
    _entry(
        "stability.stable-image-erase-object-v1:0",
        "erase",
        Task.ERASE,
        "Stability Image Services: Erase Object",
    ),
    _entry(
        "stability.stable-image-remove-background-v1:0",
        "remove-background",
        Task.REMOVE_BACKGROUND,
        "Stability Image Services: Remove Background",
    ),
)
