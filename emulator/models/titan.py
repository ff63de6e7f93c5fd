"""Amazon Titan Image Generator v1/v2 and Nova Canvas (reference §2)."""

from __future__ import annotations

from .base import ModelSpec

SPECS: list[ModelSpec] = []
