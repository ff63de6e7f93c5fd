"""Stability's guided and upscaling Image Services (reference §4b): control by sketch or
structure, style guide, style transfer, and the fast, conservative and creative upscalers.

Each tool is one flat JSON body and one image per call. Which tool an entry is follows from its
task and, for the upscalers, its `mode` selector; `entry.limits` overrides the tool's input-image
rules and ranges, so another model of this family is configuration only.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from pydantic import Field

from ...problems import FieldProblem
from ...schemas.images import GeneratedImage
from ...schemas.requests import (
    ControlRequest,
    OutputFormat,
    StyleGuideRequest,
    StyleTransferRequest,
    Task,
    TaskRequest,
    UpscaleRequest,
)
from ..base import ALWAYS_TAKEN, Call, FamilyLimits, ModelAdapter, ModelEntry, Notes, TaskHandler
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

OUTPUT_FORMATS: tuple[OutputFormat, ...] = ("png", "jpeg", "webp")
_TEXT_FIELDS = ("prompt", "negative_prompt")
Q = TypeVar("Q", ControlRequest, StyleGuideRequest, StyleTransferRequest, UpscaleRequest)


@dataclass(frozen=True)
class Tool:
    """One Image Service's schema: what it takes, its ranges and its input-image rules."""

    name: str
    images: Mapping[str, ImageRule]
    # Fields sent as given (besides the images and the seed), and their (low, high, default).
    sent: tuple[str, ...]
    ranges: Mapping[str, tuple[float, float, float]]
    prompt_required: bool
    seeded: bool = True
    selector: str | None = None  # picks the model; the model id says it, so it is not sent
    output: str = ""

    @property
    def fields(self) -> frozenset[str]:
        """The request fields the tool takes (besides model and n)."""
        seed = {"seed"} if self.seeded else set()
        picker = {self.selector} if self.selector else set()
        return frozenset(self.images) | frozenset(self.sent) | seed | picker


CONTROL = Tool(
    name="control",
    images={"image": ImageRule()},
    sent=(
        "prompt",
        "control_strength",
        "negative_prompt",
        "output_format",
        "style_preset",
    ),
    ranges={"control_strength": (0.0, 1.0, 0.7)},
    prompt_required=True,
    selector="control",
    output="the size of the input image",
)
STYLE_GUIDE = Tool(
    name="style-guide",
    images={"image": ImageRule()},
    sent=(
        "prompt",
        "aspect_ratio",
        "fidelity",
        "negative_prompt",
        "output_format",
        "style_preset",
    ),
    ranges={"fidelity": (0.0, 1.0, 0.5)},
    prompt_required=True,
    output="the aspect_ratio's size (1:1 by default)",
)
STYLE_TRANSFER = Tool(
    name="style-transfer",
    images={"init_image": ImageRule(), "style_image": ImageRule()},
    sent=(
        "prompt",
        "negative_prompt",
        "style_strength",
        "composition_fidelity",
        "change_strength",
        "output_format",
    ),
    ranges={
        "style_strength": (0.0, 1.0, 1.0),
        "composition_fidelity": (0.0, 1.0, 0.9),
        "change_strength": (0.1, 1.0, 0.9),
    },
    prompt_required=False,
    output="the size of init_image",
)
FAST_UPSCALE = Tool(
    name="fast-upscale",
    images={"image": ImageRule(min_side=32, max_side=1536, min_pixels=1024, max_pixels=1_048_576)},
    sent=("output_format",),
    ranges={},
    prompt_required=False,
    # No seed: the same image always upscales to the same pixels.
    seeded=False,
    selector="mode",
    output="4x the width and the height",
)
CONSERVATIVE_UPSCALE = Tool(
    name="conservative-upscale",
    images={"image": ImageRule(min_pixels=4096, max_pixels=9_437_184)},
    sent=("prompt", "creativity", "negative_prompt", "output_format"),
    ranges={"creativity": (0.2, 0.5, 0.35)},
    prompt_required=True,
    selector="mode",
    output="about 4 megapixels, aspect kept",
)
CREATIVE_UPSCALE = Tool(
    name="creative-upscale",
    images={"image": ImageRule(min_pixels=4096, max_pixels=1_048_576)},
    sent=("prompt", "creativity", "negative_prompt", "output_format", "style_preset"),
    ranges={"creativity": (0.1, 0.5, 0.3)},
    prompt_required=True,
    selector="mode",
    output="about 4 megapixels, aspect kept",
)
UPSCALERS: dict[str, Tool] = {
    "fast": FAST_UPSCALE,
    "conservative": CONSERVATIVE_UPSCALE,
    "creative": CREATIVE_UPSCALE,
}
_BY_TASK: dict[Task, Tool] = {
    Task.CONTROL: CONTROL,
    Task.STYLE_GUIDE: STYLE_GUIDE,
    Task.STYLE_TRANSFER: STYLE_TRANSFER,
}


Bounds = tuple[float, float] | tuple[float, float, float]


class GuidedLimitsModel(FamilyLimits):
    """What an entry's `limits` may override: an input image's rule field by field, a range as
    [low, high] or [low, high, default], the prompt's length and the output formats."""

    image: ImageRuleLimits = Field(default_factory=ImageRuleLimits)
    init_image: ImageRuleLimits = Field(default_factory=ImageRuleLimits)
    style_image: ImageRuleLimits = Field(default_factory=ImageRuleLimits)
    control_strength: Bounds = (0.0, 1.0)
    fidelity: Bounds = (0.0, 1.0)
    style_strength: Bounds = (0.0, 1.0)
    composition_fidelity: Bounds = (0.0, 1.0)
    change_strength: Bounds = (0.1, 1.0)
    creativity: Bounds = (0.1, 0.5)
    prompt_max_chars: int = Field(default=PROMPT_MAX, ge=1)
    output_formats: tuple[OutputFormatName, ...] = Field(default=OUTPUT_FORMATS, min_length=1)


@dataclass(frozen=True)
class Limits:
    """A tool's limits for one entry: the tool's own, with `entry.limits` over them."""

    images: dict[str, ImageRule]
    ranges: dict[str, tuple[float, float, float]]
    prompt_max: int
    output_formats: tuple[str, ...]


def tool_of(entry: ModelEntry, task: Task) -> Tool:
    """The tool an entry is for `task`: by task, and for upscale by the entry's `mode`."""
    if task is Task.UPSCALE:
        return UPSCALERS[entry.selector.get("mode", "fast")]
    return _BY_TASK[task]


def limits_of(entry: ModelEntry, tool: Tool) -> Limits:
    """The tool's limits with the entry's overrides: an image field maps to ImageRule fields,
    a range to [low, high] or [low, high, default]; also prompt_max_chars and output_formats."""
    given = entry.limits
    images = {
        name: dataclasses.replace(rule, **given.get(name, {})) for name, rule in tool.images.items()
    }
    ranges = {}
    for name, (low, high, default) in tool.ranges.items():
        bounds = [float(v) for v in given.get(name, (low, high))]
        ranges[name] = (bounds[0], bounds[1], bounds[2] if len(bounds) > 2 else default)
    return Limits(
        images=images,
        ranges=ranges,
        prompt_max=int(given.get("prompt_max_chars", PROMPT_MAX)),
        output_formats=tuple(given.get("output_formats", OUTPUT_FORMATS)),
    )


class _Guided(TaskHandler[Q]):
    """One task of the family: which tool follows from the entry (the upscalers' mode)."""

    task: ClassVar[Task]

    def check(self, entry: ModelEntry, request: Q) -> list[FieldProblem]:
        tool = tool_of(entry, self.task)
        limits = limits_of(entry, tool)
        problems: list[FieldProblem] = []
        if not tool.seeded and request.n > 1:
            problems.append(
                FieldProblem(
                    field="n",
                    message=f"{entry.name} is deterministic (it takes no seed): every call "
                    "returns the same image, so n must be 1",
                )
            )
        for name, rule in limits.images.items():
            problems += rule.problems(name, getattr(request, name), entry.name)
        if tool.prompt_required and getattr(request, "prompt", None) is None:
            problems.append(FieldProblem(field="prompt", message=f"required by {entry.name}"))
        for name in _TEXT_FIELDS:
            text = getattr(request, name, None)
            if name in tool.fields and text is not None and len(text) > limits.prompt_max:
                problems.append(
                    FieldProblem(
                        field=name,
                        message=f"is {len(text)} characters; {entry.name} takes at most "
                        f"{limits.prompt_max}",
                    )
                )
        for name, (low, high, _) in limits.ranges.items():
            problems += range_problem(name, getattr(request, name), low, high, entry.name)
        if tool.seeded:
            problems += range_problem("seed", request.seed, 0, SEED_MAX, entry.name)
        fmt = request.output_format
        if fmt is not None and fmt not in limits.output_formats:
            listing = ", ".join(limits.output_formats)
            problems.append(
                FieldProblem(field="output_format", message=f"{entry.name} returns only {listing}")
            )
        return problems

    def plan(self, entry: ModelEntry, request: Q, rng: random.Random) -> list[Call]:
        tool = tool_of(entry, self.task)
        body = {name: image_b64(getattr(request, name)) for name in tool.images}
        body.update(copy_fields(request, tool.sent))
        if not tool.seeded:
            # check() allows n = 1 only. The seed slot is unused: parse() reports none.
            return [Call(body=body, seeds=(0,), extra={"seeded": False})]
        return one_call_per_image(body, request.seed, request.n, rng)

    def notes(self, entry: ModelEntry, request: Q) -> Notes:
        tool = tool_of(entry, self.task)
        if tool.selector is None or tool.selector in request.given():
            return Notes()
        # The model was picked by default or by name: say which mode/control that means.
        value = entry.selector.get(tool.selector)
        return Notes(applied={tool.selector: value}) if value is not None else Notes()


class Control(_Guided[ControlRequest]):
    """By sketch or structure: the model picks the tool."""

    request_type = ControlRequest
    task = Task.CONTROL


class StyleGuide(_Guided[StyleGuideRequest]):
    """An image in the style of another."""

    request_type = StyleGuideRequest
    task = Task.STYLE_GUIDE


class StyleTransfer(_Guided[StyleTransferRequest]):
    """One image redrawn in another's style."""

    request_type = StyleTransferRequest
    task = Task.STYLE_TRANSFER


class Upscale(_Guided[UpscaleRequest]):
    """Fast, conservative or creative: the model picks the tool."""

    request_type = UpscaleRequest
    task = Task.UPSCALE


class StabilityGuidedAdapter(ModelAdapter):
    """Control, style guide, style transfer and the three upscalers; n images are n calls."""

    family = "stability-guided"
    limits_model = GuidedLimitsModel
    handlers: ClassVar[Mapping[Task, TaskHandler[Any]]] = {
        Task.CONTROL: Control(),
        Task.STYLE_GUIDE: StyleGuide(),
        Task.STYLE_TRANSFER: StyleTransfer(),
        Task.UPSCALE: Upscale(),
    }

    def fields(self, task: Task) -> frozenset[str]:
        if task is Task.UPSCALE:
            return frozenset().union(*(tool.fields for tool in UPSCALERS.values()))
        return _BY_TASK[task].fields

    def fields_for(self, entry: ModelEntry, task: Task) -> frozenset[str]:
        return tool_of(entry, task).fields

    def untaken(self, entry: ModelEntry, task: Task, request: TaskRequest) -> list[FieldProblem]:
        tool = tool_of(entry, task)
        return [
            FieldProblem(field=name, message=_untaken_message(entry, tool, name))
            for name in sorted(request.given() - tool.fields - ALWAYS_TAKEN)
        ]

    def parse(self, call: Call, payload: dict[str, Any]) -> list[GeneratedImage]:
        images = parse_answer(call, payload)
        if call.extra.get("seeded", True):
            return images
        return [dataclasses.replace(image, seed=None) for image in images]

    def describe(self, entry: ModelEntry) -> dict[str, Any]:
        tool = tool_of(entry, entry.tasks[0])
        limits = limits_of(entry, tool)
        described: dict[str, Any] = {
            "tool": tool.name,
            "fields": sorted(tool.fields),
            **{name: rule.describe() for name, rule in limits.images.items()},
            **{name: [low, high] for name, (low, high, _) in limits.ranges.items()},
            "prompt_max_chars": limits.prompt_max,
            "prompt_required": tool.prompt_required,
            "output_formats": list(limits.output_formats),
            "output_size": tool.output,
            "images_per_call": 1,
            "deterministic": not tool.seeded,
            "defaults": {
                "output_format": "png",
                **{name: default for name, (_, _, default) in limits.ranges.items()},
            },
        }
        if tool.seeded:
            described["seed"] = [0, SEED_MAX]
        if tool is STYLE_GUIDE:
            described["defaults"]["aspect_ratio"] = "1:1"
        return described


def _untaken_message(entry: ModelEntry, tool: Tool, name: str) -> str:
    if name == "seed" and not tool.seeded:
        return f"{entry.name} takes no seed: it is deterministic"
    listing = ", ".join(sorted(tool.fields))
    return f"not taken by {entry.name}; it takes: {listing}"


ADAPTER = StabilityGuidedAdapter()


def _service(
    model_id: str, alias: str, task: Task, description: str, selector: dict[str, str] | None = None
) -> ModelEntry:
    return service_entry(ADAPTER.family, model_id, alias, task, description, selector)


MODELS: tuple[ModelEntry, ...] = (
    _service(
        "stability.stable-image-control-sketch-v1:0",
        "control-sketch",
        Task.CONTROL,
        "Stability Control Sketch: an image from a prompt that follows a sketch's lines",
        {"control": "sketch"},
    ),
    _service(
        "stability.stable-image-control-structure-v1:0",
        "control-structure",
        Task.CONTROL,
        "Stability Control Structure: an image from a prompt that keeps an image's structure",
        {"control": "structure"},
    ),
    _service(
        "stability.stable-image-style-guide-v1:0",
        "style-guide",
        Task.STYLE_GUIDE,
        "Stability Style Guide: an image from a prompt in the style of an image",
    ),
    _service(
        "stability.stable-style-transfer-v1:0",
        "style-transfer",
        Task.STYLE_TRANSFER,
        "Stability Style Transfer: init_image redrawn in the style of style_image",
    ),
    _service(
        "stability.stable-fast-upscale-v1:0",
        "fast-upscale",
        Task.UPSCALE,
        "Stability Fast Upscale: 4x, deterministic",
        {"mode": "fast"},
    ),
    _service(
        "stability.stable-conservative-upscale-v1:0",
        "conservative-upscale",
        Task.UPSCALE,
        "Stability Conservative Upscale: to about 4 megapixels, staying close to the input",
        {"mode": "conservative"},
    ),
    _service(
        "stability.stable-creative-upscale-v1:0",
        "creative-upscale",
        Task.UPSCALE,
        "Stability Creative Upscale: to about 4 megapixels, inventing detail",
        {"mode": "creative"},
    ),
)
