"""Answering as OpenAI's Images API answers: `{created, data: [{b64_json} | {url}], ...}`, or with
`stream: true` a `text/event-stream` of one `image_generation.completed` (`image_edit.completed`)
event per image.

`data` holds the images that came out, in request order. Images that did not (a call that failed
while others succeeded, an image blocked by content filters) are not silently dropped: the answer
says how many in the `Images-Failed` header and why in `Warning`. When none came out, the answer
is an error. There are no `partial_image` events: Bedrock returns only final images, and the
stream starts once they are in (an error before that is an ordinary error answer).

`usage` counts what the gateway knows, in OpenAI's fields: Bedrock charges its image models per
image made, and nothing per input token or image, so `output_tokens` is the number of images
Bedrock made for the answer (a background removal is one more) and `input_tokens` is 0.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

from starlette.responses import Response

from ...auth.keys import ApiKey
from ...bedrock import blobs
from ...bedrock.blobs import Piece
from ...http.result_headers import answer_headers, warning_value
from ...http.spliced import SplicedResponse
from ...schemas.images import FinishReason, GeneratedImage
from ...store.links import ResultLinks
from ...tasks.runner import TaskResult, TaskRunner
from .errors import OpenAIError
from .finishing import Finished, finish, remove_backgrounds
from .urls import image_url
from .vocabulary import Mapped

EVENT_STREAM = "text/event-stream"


async def render(
    runner: TaskRunner,
    result: TaskResult,
    mapped: Mapped,
    key: ApiKey,
    links: ResultLinks | None = None,
) -> Response:
    """The 200 answer for `result`, or the OpenAI error when no image came out; `links` stores
    the images of a `response_format: url` answer (data URLs without)."""
    if not result.produced:
        raise _nothing_produced(result.images, result.model_id)
    images = await remove_backgrounds(runner, result, mapped, key)
    done = [(image, count) for image, count in images if image.b64 is not None]
    if not done:  # every background removal failed
        raise _nothing_produced([image for image, _ in images], result.model_id)
    finished = await asyncio.to_thread(
        lambda: [finish(image, count, mapped) for image, count in done]
    )
    headers = answer_headers(result)
    warnings = list(mapped.warnings) + _resized(finished, mapped, result.model_id)
    warnings += _failures([image for image, _ in images])
    if warnings:
        own = ", ".join(warning_value(w) for w in warnings)
        headers["Warning"] = f"{headers['Warning']}, {own}" if "Warning" in headers else own
    failed = len(images) - len(finished)
    if failed:
        headers["Images-Failed"] = str(failed)
    created = int(time.time())
    if mapped.stream:
        headers["Cache-Control"] = "no-cache"
        return SplicedResponse(
            _events(finished, mapped, created), headers=headers, media_type=EVENT_STREAM
        )
    urls = None
    if mapped.response_format == "url":
        urls = [await image_url(image.b64, image.format, links) for image in finished]
    return SplicedResponse(blobs.dumps(_body(finished, mapped, created, urls)), headers=headers)


def _body(
    finished: list[Finished], mapped: Mapped, created: int, urls: list[str] | None
) -> dict[str, Any]:
    data = [{"url": url} for url in urls] if urls is not None else []
    body: dict[str, Any] = {
        "created": created,
        "data": data or [{"b64_json": image.b64} for image in finished],
        "background": "transparent" if mapped.transparent else "opaque",
    }
    formats = {image.format for image in finished}
    if len(formats) == 1:
        body["output_format"] = formats.pop()
    sizes = {image.size for image in finished}
    if len(sizes) == 1:
        width, height = sizes.pop()
        body["size"] = f"{width}x{height}"
    if mapped.quality is not None:
        body["quality"] = mapped.quality
    body["usage"] = _usage(sum(image.bedrock_images for image in finished))
    return body


def _events(finished: list[Finished], mapped: Mapped, created: int) -> list[Piece]:
    """One completed event per image, each with the fields OpenAI's event has."""
    kind = "image_edit.completed" if mapped.edit else "image_generation.completed"
    pieces: list[Piece] = []
    for image in finished:
        event = {
            "type": kind,
            "b64_json": image.b64,
            "created_at": created,
            "size": f"{image.size[0]}x{image.size[1]}",
            # A model without a quality setting draws at its one quality: OpenAI's `auto`.
            "quality": mapped.quality or "auto",
            "background": "transparent" if mapped.transparent else "opaque",
            "output_format": image.format,
            "usage": _usage(image.bedrock_images),
        }
        pieces += [f"event: {kind}\ndata: ".encode(), *blobs.dumps(event), b"\n\n"]
    return pieces


def _usage(images: int) -> dict[str, Any]:
    return {
        "input_tokens": 0,
        "input_tokens_details": {"image_tokens": 0, "text_tokens": 0},
        "output_tokens": images,
        "total_tokens": images,
    }


def _resized(finished: list[Finished], mapped: Mapped, model_id: str) -> list[str]:
    """A Warning when the model drew another size than the answer has."""
    if mapped.size is None:
        return []
    width, height = mapped.size
    drawn = sorted({image.drawn for image in finished if image.drawn != mapped.size})
    if not drawn:
        return []
    listing = ", ".join(f"{w}x{h}" for w, h in drawn)
    common = math.gcd(width, height)
    return [
        f"size {width}x{height} is not one {model_id} draws: it drew {listing}, and the "
        f"image is cropped to {width // common}:{height // common} and resized to "
        f"{width}x{height}"
    ]


def _failures(images: list[GeneratedImage]) -> list[str]:
    total = len(images)
    lines = []
    for index, image in enumerate(images):
        if image.finish_reason is FinishReason.SUCCESS:
            continue
        why = image.error or image.finish_reason.value
        lines.append(f"image {index + 1} of {total} is missing: {why}")
    return lines


def _nothing_produced(images: list[GeneratedImage], model_id: str) -> OpenAIError:
    if all(i.finish_reason is FinishReason.CONTENT_FILTERED for i in images):
        return OpenAIError(
            400,
            f"Every image was blocked by {model_id}'s content filters.",
            code="content_policy_violation",
        )
    reasons = "; ".join(i.error or i.finish_reason.value for i in images)
    return OpenAIError(502, f"{model_id} returned no image: {reasons}", code="no_images")
