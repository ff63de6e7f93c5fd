"""The thirteen Stability Image Services (reference §4b), served through `us.` inference profiles."""

from __future__ import annotations

from .base import ModelSpec

SPECS: list[ModelSpec] = []
