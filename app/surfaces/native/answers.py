"""Answering with JSON (base64 images) or with the image bytes themselves."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from starlette.responses import Response

from ...bedrock import blobs
from ...http.media import JSON
from ...http.result_headers import answer_headers
from ...http.spliced import SplicedResponse
from ...imaging.outputs import OUTPUT_MIME, transcode
from ...problems import ProblemError
from ...problems.types import CONTENT_FILTERED, NO_IMAGES, NOT_ACCEPTABLE
from ...tasks.runner import TaskResult

IMAGE_TYPES = {mime: fmt for fmt, mime in OUTPUT_MIME.items()}
_OFFERS = (JSON, "image/png", "image/jpeg", "image/webp")


def negotiate(accept: str | None) -> str:
    """The answer type for an Accept header: JSON unless the caller prefers an image type."""
    if not accept:
        return JSON
    best, best_q = None, 0.0
    for rank, part in enumerate(accept.split(",")):
        media, _, params = part.strip().partition(";")
        media = media.strip().lower()
        q = _quality(params)
        for offer in _OFFERS:
            if q > best_q and _matches(media, offer):
                best, best_q = offer, q - rank * 1e-6  # earlier entries win ties
                break
    if best is None:
        raise NOT_ACCEPTABLE.error(
            detail=(
                f"this endpoint answers {', '.join(_OFFERS)}; the Accept header allows none of them"
            ),
        )
    return best


def check_binary_count(media: str, raw: dict[str, Any]) -> None:
    """An image answer holds one image: refuse n > 1 before any Bedrock call is made."""
    if media == JSON:
        return
    try:
        n = int(raw.get("n", 1))
    except (TypeError, ValueError):
        return  # validation names the bad n
    if n > 1:
        raise NOT_ACCEPTABLE.error(
            detail=(
                f"an {media} answer holds one image and n is {n}: ask for application/json, or n=1"
            ),
        )


async def render(result: TaskResult, media: str, request_id: str | None) -> Response:
    """The answer for a task's result in the negotiated type."""
    if not result.produced:
        raise _nothing_produced(result)
    headers = answer_headers(result)
    if media == JSON:
        return SplicedResponse(blobs.dumps(_json_body(result, request_id)), headers=headers)
    image = result.images[0]
    assert image.b64 is not None
    data = blobs.decoded(image.b64)
    target = IMAGE_TYPES[media]
    if image.mime_type != media:
        data = await asyncio.to_thread(transcode, data, target)
    headers["Finish-Reason"] = image.finish_reason.value
    if image.seed is not None:  # deterministic tools (background removal, fast upscale) have none
        headers["Seed"] = str(image.seed)
    return Response(data, media_type=media, headers=headers)


def _json_body(result: TaskResult, request_id: str | None) -> dict[str, Any]:
    return {
        "id": request_id,
        "model": result.model_id,
        "created": int(time.time()),
        "images": [
            {
                "b64_json": image.b64,
                "seed": image.seed,
                "finish_reason": image.finish_reason.value,
                "mime_type": image.mime_type,
                "error": image.error,
            }
            for image in result.images
        ],
        "applied": result.notes.applied,
        "warnings": list(result.notes.warnings),
        "usage": _usage(result),
    }


def _usage(result: TaskResult) -> dict[str, Any]:
    cost = result.cost
    if cost is None:
        return {"images": len(result.produced), "cost_usd": None}
    usage: dict[str, Any] = {"images": cost.images, "cost_usd": cost.usd}
    if cost.input_tokens is not None:
        usage["input_tokens"] = cost.input_tokens
        usage["output_tokens"] = cost.output_tokens
    return usage


def _nothing_produced(result: TaskResult) -> ProblemError:
    reasons = [
        {"seed": i.seed, "finish_reason": i.finish_reason.value, "error": i.error}
        for i in result.images
    ]
    if result.filtered:
        return CONTENT_FILTERED.error(
            detail=f"{result.model_id} filtered all {len(result.images)} images",
            extra={"images": reasons},
        )
    return NO_IMAGES.error(
        detail=f"{result.model_id} returned no image",
        extra={"images": reasons},
    )


def _quality(params: str) -> float:
    for param in params.split(";"):
        key, _, value = param.strip().partition("=")
        if key.strip() == "q":
            try:
                return max(0.0, min(1.0, float(value)))
            except ValueError:
                return 0.0
    return 1.0


def _matches(pattern: str, offer: str) -> bool:
    if pattern in ("*/*", offer):
        return True
    return pattern.endswith("/*") and offer.startswith(pattern[:-1])
