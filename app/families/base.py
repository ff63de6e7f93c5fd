"""What a model family is: its adapter (the vocabulary in, its Bedrock bodies out, images back),
its built-in entries, and its body's reader and answer's writer on the Bedrock surface.

A new model family is one package exporting `FAMILY`, listed in the registry or in
GATEWAY_FAMILIES.
"""

from __future__ import annotations

import hashlib
import random
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from typing import Any, ClassVar, Generic, TypeVar

import orjson
import pybase64
from pydantic import BaseModel, ConfigDict, Field

from ..problems import FieldProblem
from ..schemas.images import B64, GeneratedImage
from ..schemas.requests import BaseTaskRequest, Task, TaskRequest
from .examples import Examples
from .reading import Reading
from .vocabulary import OpenAIVocabulary, Sizing, sizing_from_description

ALWAYS_TAKEN = frozenset({"model", "n"})


class Lifecycle(StrEnum):
    """Where a model is in Bedrock's lifecycle."""

    ACTIVE = "active"
    LEGACY = "legacy"  # still served, with an end-of-life date announced
    RETIRED = "retired"  # Bedrock answers ResourceNotFoundException


class ModelEntry(BaseModel):
    """A model the gateway can call: one registry entry, built in or from settings."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(description="The Bedrock model id.")
    family: str = Field(description="The adapter that speaks its schema.")
    aliases: tuple[str, ...] = ()
    tasks: tuple[Task, ...]
    status: Lifecycle = Lifecycle.ACTIVE
    legacy_date: date | None = None
    end_of_life: date | None = None
    successors: tuple[str, ...] = Field(
        default=(), description="Models (ids or aliases) to move to when this one is retired."
    )
    invoke_id: str | None = Field(
        default=None,
        description="What to call it by: an inference-profile id (us., eu., apac., global.) or "
        "an ARN; the id itself when omitted.",
    )
    region: str | None = Field(default=None, description="The gateway's region when omitted.")
    fallback_regions: tuple[str, ...] = Field(
        default=(),
        description="Regions to call, in order, when the first is throttling or down.",
    )
    read_timeout_s: float | None = Field(
        default=None, gt=0, description="The gateway's read timeout when omitted."
    )
    selector: dict[str, str] = Field(
        default_factory=dict,
        description="For tasks served by several models, the request field value that picks "
        'this one, e.g. {"mode": "fast"} for the fast upscaler.',
    )
    limits: dict[str, Any] = Field(
        default_factory=dict, description="Overrides of the family's limits for this model."
    )
    description: str = ""

    @property
    def target(self) -> str:
        """The model id, profile id or ARN that InvokeModel is called with."""
        return self.invoke_id or self.id

    @property
    def name(self) -> str:
        """The short name callers know it by."""
        return self.aliases[0] if self.aliases else self.id


@dataclass(frozen=True)
class Notes:
    """What the gateway decided on the caller's behalf, reported in the answer."""

    applied: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Call:
    """One InvokeModel call of a request: its body and the seeds of the images it should return."""

    body: dict[str, Any]
    seeds: tuple[int, ...]
    extra: dict[str, Any] = field(default_factory=dict)
    # The Bedrock operation: InvokeModel, or Converse (its JSON body as on the wire).
    operation: str = "InvokeModel"
    # The body as sent, once `encoded()`, and its SHA-256 (hex) for the request's signature.
    payload: bytes | None = None
    payload_sha256: str | None = None

    @property
    def count(self) -> int:
        """How many images the call asks for."""
        return len(self.seeds)

    def encoded(self) -> Call:
        """The call with its body serialised, and the dict dropped: a call waiting for a slot
        holds its images once (megabytes of base64), not twice.

        An InvokeModel body's SHA-256 is taken here too: requests with images are planned in a
        worker thread, and signing would otherwise hash megabytes on the event loop (1.6 ms for a
        1024² PNG). A Converse body is not sent as these bytes (botocore serialises it again), so
        its digest would serve nothing."""
        payload = orjson.dumps(self.body)
        digest = hashlib.sha256(payload).hexdigest() if self.operation == "InvokeModel" else None
        return replace(self, body={}, payload=payload, payload_sha256=digest)


class FamilyLimits(BaseModel):
    """A family's limits as an entry's `limits` may give them: typed, unknown keys refused.

    The registry validates every entry's `limits` with its family's model when it is built, so
    a bad or unknown limit in GATEWAY_MODELS stops the start instead of failing on requests.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")


R = TypeVar("R", bound=BaseTaskRequest)


class TaskHandler(ABC, Generic[R]):
    """One family's way with one task: its limits checked, its calls planned, its choices noted,
    each typed to that task's request class (`request_type`, checked by the registry)."""

    request_type: ClassVar[type[BaseTaskRequest]]

    @abstractmethod
    def check(self, entry: ModelEntry, request: R) -> list[FieldProblem]:
        """Every limit of the model that the request breaks; cheap (headers only, no decoding)."""

    @abstractmethod
    def plan(self, entry: ModelEntry, request: R, rng: random.Random) -> list[Call]:
        """The Bedrock calls that make `request.n` images (CPU work: run in a thread)."""

    def notes(self, entry: ModelEntry, request: R) -> Notes:
        """Choices made for the caller (a width/height mapped to an aspect ratio, ...)."""
        return Notes()


class ModelAdapter(ABC):
    """Speaks one model family's schema: a handler per task, and the answers' images."""

    family: ClassVar[str]
    # What an entry's `limits` may hold for this family.
    limits_model: ClassVar[type[BaseModel]]
    # The Bedrock operation its models are called with: InvokeModel or Converse.
    operation: ClassVar[str] = "InvokeModel"
    # The tasks the family does, each by its own handler.
    handlers: ClassVar[Mapping[Task, TaskHandler[Any]]]

    @abstractmethod
    def fields(self, task: Task) -> frozenset[str]:
        """The vocabulary fields this family takes for `task` (besides model and n)."""

    @abstractmethod
    def parse(self, call: Call, payload: dict[str, Any]) -> list[GeneratedImage]:
        """The images of one call's answer, one entry per image asked for, produced or not."""

    @abstractmethod
    def describe(self, entry: ModelEntry) -> dict[str, Any]:
        """Limits and defaults, for GET /v1/models."""

    def fields_for(self, entry: ModelEntry, task: Task) -> frozenset[str]:
        """The fields `entry` itself takes for `task`; the family's when its models all agree."""
        return self.fields(task)

    def sizing(self, entry: ModelEntry) -> Sizing:
        """The sizes, prompt length and input images `entry` takes, for surfaces that adapt a
        request to them; read from `describe` unless the family says otherwise."""
        return sizing_from_description(self.describe(entry))

    def untaken(self, entry: ModelEntry, task: Task, request: TaskRequest) -> list[FieldProblem]:
        """A problem for each field the caller set that `entry` does not take for `task`."""
        own = self.fields_for(entry, task)
        extra = sorted(request.given() - own - ALWAYS_TAKEN)
        listing = ", ".join(sorted(own))
        return [
            FieldProblem(
                field=name, message=f"not taken by {entry.id} for {task}; it takes: {listing}"
            )
            for name in extra
        ]


@dataclass(frozen=True)
class Retirement:
    """What a family knows of its own fields when the replacement map (app.tasks.replacement)
    serves its retired models' requests by live models of other families."""

    # The successor (a name the registry resolves) for each task.
    routes: Mapping[Task, str]
    # Tasks no live model does the same way, and what the caller can do instead.
    refused: Mapping[Task, str] = field(default_factory=dict)
    # The size its models answer when the request gives none: the successor's answer is fitted.
    default_size: tuple[int, int] = (1024, 1024)
    # Its `style` values that a successor's `style_preset` of the same look stands for.
    styles: Mapping[str, str] = field(default_factory=dict)
    # Text-to-image with a `condition_image`: the successor (a control model) per control_mode.
    conditioning: Mapping[str, str] = field(default_factory=dict)
    # Inpaint: the successor when a mask prompt names the region (search and replace), and why
    # it needs a prompt ({successor} is its name); the successor when no prompt is given (erase).
    mask_prompt_route: tuple[str, str] | None = None
    promptless_inpaint_route: str | None = None
    # Image-to-image and variations: the field saying how close the answer stays to the input
    # (1 - the successor's `strength`), its default, and a field whose value it implies.
    closeness: tuple[str, float] = ("similarity_strength", 0.7)
    closeness_mode: tuple[str, str] | None = None
    # ...and whether the answer is the size of the input (else the size asked, or the default).
    from_image_keeps_input_size: bool = False


# A body in the family's Bedrock schema read into the native vocabulary (app.families.reading).
Reader = Callable[[ModelEntry, dict[str, Any]], Reading]
# The images of a task written as the family's models answer InvokeModel.
Writer = Callable[[list[GeneratedImage]], dict[str, Any]]


@dataclass(frozen=True)
class Family:
    """Everything the gateway knows of one family's schema, as its package exports it (`FAMILY`).

    Surfaces, tasks and the runner reach it only through the registry.
    """

    adapter: ModelAdapter
    models: tuple[ModelEntry, ...]
    reader: Reader
    writer: Writer
    # How its retired models' requests are translated for other families' models; None when
    # they can be served by models of their own family only.
    retirement: Retirement | None = None
    # Its side of the OpenAI surface's parameters (quality); none by default.
    openai: OpenAIVocabulary = field(default_factory=OpenAIVocabulary)
    # The spec's request examples for its tasks, each naming a model of the family (or none,
    # for a task only the family does).
    examples: Examples = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The family's name, as entries' `family` give it."""
        return self.adapter.family


def b64(data: bytes) -> str:
    """Base64 text of image bytes, as Bedrock bodies carry them."""
    return pybase64.b64encode_as_string(data)


def mime_of_b64(text: B64) -> str:
    """The image type of base64 data, from its first bytes only."""
    start = text[:16] if isinstance(text, str) else str(text[:16], "ascii")
    head = pybase64.b64decode(start + "=" * (-len(start) % 4))
    if head.startswith(b"\x89PNG"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return "application/octet-stream"


def seeds_for(
    first: int | None, count: int, *, low: int, high: int, rng: random.Random
) -> list[int]:
    """`count` distinct seeds in [low, high]: first, first+1, ... (wrapping), or random ones."""
    if first is None:
        return [rng.randint(low, high) for _ in range(count)]
    span = high - low + 1
    return [low + (first - low + i) % span for i in range(count)]


def check_size_pair(
    width: int | None, height: int | None, allowed: Iterable[tuple[int, int]], model_id: str
) -> list[FieldProblem]:
    """Both or neither of width and height, and the pair one the model accepts."""
    if width is None and height is None:
        return []
    if width is None or height is None:
        missing = "width" if width is None else "height"
        return [FieldProblem(field=missing, message="width and height must be given together")]
    pairs = list(allowed)
    if (width, height) in pairs:
        return []
    listing = ", ".join(f"{w}x{h}" for w, h in pairs)
    return [
        FieldProblem(
            field="width",
            message=f"{width}x{height} is not a size {model_id} accepts; allowed: {listing}",
        )
    ]
