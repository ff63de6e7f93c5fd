"""What Stability's current models share (reference §4, §4b): seeds, input-image rules, bodies,
and the `{"seeds", "finish_reasons", "images"}` answer. Used by the text-to-image family and by
the Image Services; each model is one image per call.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field

from ..imaging.inputs import InputImage
from ..problems import FieldProblem
from ..schemas.images import B64_TYPES, FinishReason, GeneratedImage
from ..schemas.requests import Task, TaskRequest
from .base import Call, FamilyLimits, ModelEntry, b64, mime_of_b64, seeds_for

SEED_MAX = 4_294_967_294
# Bedrock serves Stability's current models on demand in us-west-2, and the Image Services only
# through the us. inference profile; they can take long.
REGION = "us-west-2"
READ_TIMEOUT_S = 120.0
PROMPT_MAX = 10_000
ASPECT_RATIOS: dict[str, tuple[int, int]] = {
    "21:9": (21, 9),
    "16:9": (16, 9),
    "3:2": (3, 2),
    "5:4": (5, 4),
    "1:1": (1, 1),
    "4:5": (4, 5),
    "2:3": (2, 3),
    "9:16": (9, 16),
    "9:21": (9, 21),
}


OutputFormatName = Literal["png", "jpeg", "webp"]


class ImageRuleLimits(FamilyLimits):
    """An entry's overrides of an `ImageRule`, each field optional."""

    # Only max_side may be null (no maximum); the defaults are ImageRule's.
    min_side: int = Field(default=64, ge=1)
    max_side: int | None = Field(default=None, ge=1)
    min_pixels: int = Field(default=0, ge=0)
    max_pixels: int = Field(default=9_437_184, ge=1)
    max_aspect: float = Field(default=2.5, ge=1)


@dataclass(frozen=True)
class ImageRule:
    """Size limits on an input image; the defaults are §4b's "unless stated" ones."""

    min_side: int = 64
    max_side: int | None = None
    min_pixels: int = 0
    max_pixels: int = 9_437_184
    max_aspect: float = 2.5

    def problems(self, field: str, image: InputImage, model: str) -> list[FieldProblem]:
        """A problem naming `field` for each limit `image` breaks."""
        size = f"{image.width}x{image.height}"
        found: list[str] = []
        if min(image.width, image.height) < self.min_side:
            found.append(f"each side must be at least {self.min_side} px")
        if self.max_side is not None and max(image.width, image.height) > self.max_side:
            found.append(f"each side must be at most {self.max_side} px")
        if image.pixels < self.min_pixels:
            found.append(f"it must have at least {self.min_pixels} pixels")
        if image.pixels > self.max_pixels:
            found.append(f"it must have at most {self.max_pixels} pixels")
        if max(image.width, image.height) > self.max_aspect * min(image.width, image.height):
            found.append(
                f"its aspect ratio must be between 1:{self.max_aspect} and {self.max_aspect}:1"
            )
        if not found:
            return []
        message = f"is {size} ({image.pixels} pixels); for {model} " + "; ".join(found)
        return [FieldProblem(field=field, message=message)]

    def describe(self) -> dict[str, Any]:
        """The rule, for GET /v1/models."""
        return {
            "min_side": self.min_side,
            "max_side": self.max_side,
            "min_pixels": self.min_pixels,
            "max_pixels": self.max_pixels,
            "max_aspect": self.max_aspect,
        }


def range_problem(
    field: str, value: float | None, low: float, high: float, model: str
) -> list[FieldProblem]:
    """A problem when `value` is set and outside [low, high]."""
    if value is None or low <= value <= high:
        return []
    return [FieldProblem(field=field, message=f"{value} is outside {model}'s range {low}-{high}")]


def nearest_aspect_ratio(width: int, height: int) -> str:
    """The aspect ratio Stability takes that is closest to width:height (compared in log space,
    so 2:1 is as far from 1:1 as 1:2 is)."""
    target = math.log(width / height)

    def distance(ratio: str) -> float:
        w, h = ASPECT_RATIOS[ratio]
        return abs(math.log(w / h) - target)

    return min(ASPECT_RATIOS, key=distance)


def copy_fields(request: TaskRequest, names: Iterable[str]) -> dict[str, Any]:
    """The fields among `names` that the caller set, under the same names (Stability's own)."""
    given = request.given()
    return {name: getattr(request, name) for name in names if name in given}


def image_b64(image: InputImage) -> str:
    """An input image as Stability takes it: the caller's bytes, base64 (PNG, JPEG or WebP; the
    alpha channel is kept, since Stability reads it as a mask where it takes one)."""
    return b64(image.data)


def one_call_per_image(
    body: dict[str, Any], seed: int | None, n: int, rng: random.Random
) -> list[Call]:
    """n calls of `body`, each with its own seed: seed, seed+1, ... or random ones.

    Seed 0 means "random" to Stability: real seeds are chosen, so each image reports its own.
    """
    seeds = seeds_for(seed or None, n, low=1, high=SEED_MAX, rng=rng)
    return [Call(body={**body, "seed": value}, seeds=(value,)) for value in seeds]


def parse_answer(call: Call, payload: dict[str, Any]) -> list[GeneratedImage]:
    """The one image of a §4/§4b answer, or why there is none."""
    seeds = payload.get("seeds") or []
    seed = seeds[0] if seeds and isinstance(seeds[0], int) else call.seeds[0]
    reasons = payload.get("finish_reasons") or [None]
    reason = reasons[0]
    images = [i for i in payload.get("images") or [] if isinstance(i, B64_TYPES)]
    if reason is None and images:
        data = images[0]
        return [
            GeneratedImage(
                b64=data, seed=seed, finish_reason=FinishReason.SUCCESS, mime_type=mime_of_b64(data)
            )
        ]
    text = str(reason) if reason is not None else "the model returned no image"
    finish = (
        FinishReason.CONTENT_FILTERED if text.lower().startswith("filter") else FinishReason.ERROR
    )
    return [GeneratedImage(b64=None, seed=seed, finish_reason=finish, error=text)]


def service_entry(
    family: str,
    model_id: str,
    alias: str,
    task: Task,
    description: str,
    selector: dict[str, str] | None = None,
) -> ModelEntry:
    """The registry entry of one Image Service: one task, called by its us. profile."""
    return ModelEntry(
        id=model_id,
        family=family,
        aliases=(alias,),
        tasks=(task,),
        invoke_id=f"us.{model_id}",
        region=REGION,
        read_timeout_s=READ_TIMEOUT_S,
        selector=selector or {},
        description=description,
    )
