"""What the OpenAI surface needs to know of a model to adapt a request to it: the sizes it draws,
the longest prompt and the largest input image it takes, read from its adapter's description
(what GET /v1/models lists), so every family and every configured model is covered alike."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...families.base import ModelEntry
from ...tasks.validation import RequestValidator


@dataclass(frozen=True)
class SizeRule:
    """Free sizes within bounds (Nova Canvas): sides, a step, an aspect ratio, a pixel ceiling."""

    min_side: int
    max_side: int
    multiple_of: int
    max_aspect: float
    max_pixels_below: int


@dataclass(frozen=True)
class ModelLimits:
    """One model's limits as far as the surface adapts to them; None where it has none."""

    sizes: tuple[tuple[int, int], ...] = ()
    size_rule: SizeRule | None = None
    prompt_max: int | None = None
    input_max_side: int | None = None
    input_max_pixels: int | None = None


def limits_of(validator: RequestValidator, entry: ModelEntry | None) -> ModelLimits:
    """`entry`'s limits; none known for no model (validation then names what is missing)."""
    if entry is None:
        return ModelLimits()
    described: dict[str, Any] = validator.registry.adapter(entry).describe(entry)
    sizes = tuple(_pair(text) for text in described.get("sizes") or ())
    rule = described.get("size_rule")
    # Titan's family names its input limits at the top; Stability's in an `input_image` rule.
    inputs: dict[str, Any] = described.get("input_image") or {}
    return ModelLimits(
        sizes=sizes,
        size_rule=SizeRule(**rule) if isinstance(rule, dict) else None,
        prompt_max=described.get("prompt_max_chars"),
        input_max_side=described.get("input_max_side") or inputs.get("max_side"),
        input_max_pixels=described.get("input_max_pixels") or inputs.get("max_pixels"),
    )


def _pair(text: str) -> tuple[int, int]:
    width, height = text.split("x")
    return int(width), int(height)
