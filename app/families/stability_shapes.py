"""The Bedrock-surface shapes the Stability families share: the `{"seeds", "finish_reasons",
"images"}` answer, and the Image Services' bodies, whose fields are the native ones."""

from __future__ import annotations

from typing import Any

from ..imaging.masks import MaskConvention
from ..schemas.images import FinishReason, GeneratedImage
from ..schemas.requests import Task
from .base import ModelEntry
from .reading import Reading

# Native fields that are not Bedrock keys: the model id says what they choose.
_NATIVE_ONLY = frozenset({"model", "n", "mask_convention", "control", "mode"})
_KEEPS_ALPHA_MASK = (Task.INPAINT, Task.ERASE)


def read_native(entry: ModelEntry, body: dict[str, Any]) -> Reading:
    """A body whose keys are the native fields of the entry's one task (the Image Services)."""
    if len(entry.tasks) != 1:
        reading = Reading(task=None)
        reading.fail("#", f"the gateway cannot read bodies for {entry.id}")
        return reading
    task = entry.tasks[0]
    reading = Reading(task=task)
    for key, value in body.items():
        if key in _NATIVE_ONLY:
            reading.fail("#", f"extraneous key [{key}] is not permitted")
        elif value is not None:
            reading.fields[key] = value
            reading.paths[key] = f"#/{key}"
    if task in _KEEPS_ALPHA_MASK:
        # White marks the pixels to change; without a mask, the image's transparent ones do.
        has_mask = reading.fields.get("mask") is not None
        convention = MaskConvention.WHITE_IS_EDIT if has_mask else MaskConvention.ALPHA_IS_EDIT
        reading.fields["mask_convention"] = convention.value
    return reading


def write_stability(images: list[GeneratedImage]) -> dict[str, Any]:
    """The answer of Stability's current models: seeds, finish reasons, the images made."""
    return {
        "seeds": [image.seed for image in images],
        "finish_reasons": [_reason(image) for image in images],
        "images": [image.b64 for image in images if image.b64 is not None],
    }


def _reason(image: GeneratedImage) -> str | None:
    if image.finish_reason is FinishReason.SUCCESS:
        return None
    if image.finish_reason is FinishReason.CONTENT_FILTERED:
        error = image.error or ""
        return error if error.startswith("Filter reason") else "Filter reason: output image"
    return "Inference error"
