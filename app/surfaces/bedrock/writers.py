"""A task's result written in the caller's family shape, as the model it called answers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...bedrock import blobs
from ...schemas.images import FinishReason, GeneratedImage
from ...tasks.runner import TaskResult

_SDXL_FINISH = {
    FinishReason.SUCCESS: "SUCCESS",
    FinishReason.CONTENT_FILTERED: "CONTENT_FILTERED",
    FinishReason.ERROR: "ERROR",
}


def write(family: str, result: TaskResult) -> bytes:
    """The JSON answer body a model of `family` gives for these images."""
    writer = WRITERS[family]
    # One buffer: this surface's answers go out whole (a pass-through answer is bytes too).
    return b"".join(blobs.dumps(writer(result.images)))


def _titan(images: list[GeneratedImage]) -> dict[str, Any]:
    produced = [i.b64 for i in images if i.b64 is not None]
    errors = list(dict.fromkeys(i.error or i.finish_reason.value for i in images if i.b64 is None))
    # Titan answers with the images it made and says why the others are missing.
    return {"images": produced, "error": "; ".join(errors) if errors else None}


def _sdxl(images: list[GeneratedImage]) -> dict[str, Any]:
    return {
        "result": "success",
        "artifacts": [
            {
                "seed": image.seed,
                # An empty string rather than null: clients decode before reading finishReason.
                "base64": image.b64 or "",
                "finishReason": _SDXL_FINISH[image.finish_reason],
            }
            for image in images
        ],
    }


def _stability(images: list[GeneratedImage]) -> dict[str, Any]:
    return {
        "seeds": [image.seed for image in images],
        "finish_reasons": [_stability_reason(image) for image in images],
        "images": [image.b64 for image in images if image.b64 is not None],
    }


def _stability_reason(image: GeneratedImage) -> str | None:
    if image.finish_reason is FinishReason.SUCCESS:
        return None
    if image.finish_reason is FinishReason.CONTENT_FILTERED:
        error = image.error or ""
        return error if error.startswith("Filter reason") else "Filter reason: output image"
    return "Inference error"


# Every family the registry knows has one (checked at start: app.surfaces.bedrock.shapes).
WRITERS: dict[str, Callable[[list[GeneratedImage]], dict[str, Any]]] = {
    "titan": _titan,
    "sdxl": _sdxl,
    "stability": _stability,
    "stability-edit": _stability,
    "stability-guided": _stability,
}
