"""Stability SDXL 1.0 (reference §3)."""

from __future__ import annotations

from .base import ModelSpec

SPECS: list[ModelSpec] = []
