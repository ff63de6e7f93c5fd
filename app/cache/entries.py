"""A task's result as the cache keeps it: one JSON object, the images base64 in it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from ..families.base import Notes
from ..schemas.images import FinishReason, GeneratedImage

if TYPE_CHECKING:
    from ..tasks.runner import TaskResult


def storable(result: TaskResult) -> bool:
    """Whether the result is the model's answer to keep: something came out and nothing failed
    (a failed call's images would come out next time)."""
    reasons = {image.finish_reason for image in result.images}
    return FinishReason.SUCCESS in reasons and FinishReason.ERROR not in reasons


def encode(result: TaskResult) -> bytes:
    """The result's JSON; the per-request quota headers are not part of it."""
    return orjson.dumps(
        {
            "model_id": result.model_id,
            "requested_model": result.requested_model,
            "deprecated_at": result.deprecated_at,
            "applied": result.notes.applied,
            "warnings": list(result.notes.warnings),
            "images": [_image(image) for image in result.images],
        }
    )


def decode(data: bytes) -> TaskResult:
    """The result `encode` made. Its images carry no token usage: this answer used none."""
    # Imported here: the runner imports the cache, which must not import it back first.
    from ..tasks.runner import TaskResult

    kept = orjson.loads(data)
    return TaskResult(
        model_id=kept["model_id"],
        images=[
            GeneratedImage(
                b64=image["b64"],
                seed=image["seed"],
                finish_reason=FinishReason(image["finish_reason"]),
                mime_type=image["mime_type"],
                error=image["error"],
            )
            for image in kept["images"]
        ],
        notes=Notes(applied=kept["applied"], warnings=tuple(kept["warnings"])),
        requested_model=kept["requested_model"],
        deprecated_at=kept["deprecated_at"],
    )


def _image(image: GeneratedImage) -> dict[str, Any]:
    b64 = image.b64
    return {
        "b64": bytes(b64).decode("ascii") if isinstance(b64, memoryview) else b64,
        "seed": image.seed,
        "finish_reason": image.finish_reason.value,
        "mime_type": image.mime_type,
        "error": image.error,
    }
