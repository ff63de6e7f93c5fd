"""What a family tells the OpenAI surface: how OpenAI's `quality` maps onto its own, and the sizes,
prompt length and input images its models take (to adapt a request to them before validation).

A family gives its own (`Family.openai`, `ModelAdapter.sizing`); the defaults suit a family with no
quality setting whose GET /v1/models description names its limits in the usual keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class OpenAIVocabulary:
    """The family's side of OpenAI's parameters."""

    # OpenAI's quality names -> the family's `quality`; empty: the family has no quality setting
    # (the surface then says the parameter was ignored).
    quality: Mapping[str, str] = field(default_factory=dict)
    # The family's `quality` -> OpenAI's name for the quality an answer was drawn at.
    drawn_quality: Mapping[str, str] = field(default_factory=dict)
    # What the family draws at when no quality is asked.
    default_quality: str | None = None


@dataclass(frozen=True)
class SizeRule:
    """Free sizes within bounds (Nova Canvas): sides, a step, an aspect ratio, a pixel ceiling."""

    min_side: int
    max_side: int
    multiple_of: int
    max_aspect: float
    max_pixels_below: int


@dataclass(frozen=True)
class Sizing:
    """One model's limits as far as a surface adapts a request to them; None where it has none."""

    sizes: tuple[tuple[int, int], ...] = ()
    size_rule: SizeRule | None = None
    prompt_max: int | None = None
    input_max_side: int | None = None
    input_max_pixels: int | None = None


def sizing_from_description(described: Mapping[str, Any]) -> Sizing:
    """A model's sizing read from its GET /v1/models description: `sizes` ("WxH") or a
    `size_rule`, `prompt_max_chars`, and input limits at the top or in an `input_image` rule."""
    sizes = tuple(_pair(text) for text in described.get("sizes") or ())
    rule = described.get("size_rule")
    inputs: Mapping[str, Any] = described.get("input_image") or {}
    return Sizing(
        sizes=sizes,
        size_rule=SizeRule(**rule) if isinstance(rule, dict) else None,
        prompt_max=described.get("prompt_max_chars"),
        input_max_side=described.get("input_max_side") or inputs.get("max_side"),
        input_max_pixels=described.get("input_max_pixels") or inputs.get("max_pixels"),
    )


def _pair(text: str) -> tuple[int, int]:
    width, height = text.split("x")
    return int(width), int(height)
