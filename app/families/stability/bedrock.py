"""SD3.5 Large, Ultra and Core on the Bedrock surface: their body read, their answer written."""

from __future__ import annotations

from typing import Any

from ...schemas.requests import Task
from ..base import ModelEntry
from ..reading import Reading
from ..stability_shapes import write_stability

_STABILITY_KEYS: dict[str, tuple[str | None, str]] = {
    "prompt": ("prompt", "str"),
    "negative_prompt": ("negative_prompt", "str"),
    "mode": (None, "str"),
    "aspect_ratio": ("aspect_ratio", "str"),
    "output_format": ("output_format", "str"),
    "seed": ("seed", "int"),
    "image": ("image", "str"),
    "strength": ("strength", "num"),
    "style_preset": ("style_preset", "str"),
}
_STABILITY_MODES = {"text-to-image": Task.TEXT_TO_IMAGE, "image-to-image": Task.IMAGE_TO_IMAGE}


def read(entry: ModelEntry, body: dict[str, Any]) -> Reading:
    """A text-to-image or image-to-image body; its `mode` says which."""
    mode = body.get("mode", "text-to-image")
    task = _STABILITY_MODES.get(mode) if isinstance(mode, str) else None
    # With a bad mode the rest is still checked, as text-to-image, so every violation is named.
    reading = Reading(task=task or Task.TEXT_TO_IMAGE, whole="#/mode" if "mode" in body else "#")
    if task is None:
        listing = ", ".join(_STABILITY_MODES)
        reading.fail("#/mode", f"{mode!r} is not a valid enum value ({listing})")
    keys = _STABILITY_KEYS
    if reading.task is Task.TEXT_TO_IMAGE:
        # Bedrock takes a `strength` on text-to-image and ignores it (public code sends
        # "strength": 1): type-checked, left out of the fields, passed through.
        keys = {**keys, "strength": (None, "num")}
    reading.take(body, keys, "#")
    return reading


write = write_stability
