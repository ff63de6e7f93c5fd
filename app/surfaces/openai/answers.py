"""Answering as OpenAI's Images API answers: `{created, data: [{b64_json} | {url}], ...}`.

`data` holds the images that came out, in request order. Images that did not (a call that failed
while others succeeded, an image blocked by content filters) are not silently dropped: the answer
says how many in the `Images-Failed` header and why in `Warning`. When none came out, the answer
is an error. `response_format=url` is answered with a `data:` URL: the gateway stores nothing, so
there is no URL to fetch later, and a data URL works wherever a browser or client takes a URL.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pybase64
from starlette.responses import Response

from ...bedrock import blobs
from ...imaging.outputs import OUTPUT_MIME, transcode
from ...schemas.images import B64, FinishReason, GeneratedImage
from ...tasks.runner import TaskResult
from ..native.answers import answer_headers, warning_value
from ..spliced import SplicedResponse
from .errors import OpenAIError
from .vocabulary import Mapped

_FORMATS = {mime: fmt for fmt, mime in OUTPUT_MIME.items()}


async def render(result: TaskResult, mapped: Mapped) -> Response:
    """The 200 answer for `result`, or the OpenAI error when no image came out."""
    produced = result.produced
    if not produced:
        raise _nothing_produced(result)
    entries = await asyncio.to_thread(_entries, produced, mapped)
    formats = {fmt for _, fmt in entries}
    body: dict[str, Any] = {
        "created": int(time.time()),
        "data": [_datum(b64, fmt, mapped) for b64, fmt in entries],
    }
    if len(formats) == 1:
        body["output_format"] = formats.pop()
    headers = answer_headers(result)
    warnings = list(mapped.warnings) + _failures(result.images)
    if warnings:
        own = ", ".join(warning_value(w) for w in warnings)
        headers["Warning"] = f"{headers['Warning']}, {own}" if "Warning" in headers else own
    failed = len(result.images) - len(produced)
    if failed:
        headers["Images-Failed"] = str(failed)
    return SplicedResponse(blobs.dumps(body), headers=headers)


def _entries(images: list[GeneratedImage], mapped: Mapped) -> list[tuple[B64, str]]:
    """(base64, format) per image, transcoded to the output_format asked for (CPU work)."""
    entries = []
    for image in images:
        assert image.b64 is not None
        fmt = _FORMATS.get(image.mime_type or "", "png")
        b64 = image.b64
        if mapped.output_format is not None and mapped.output_format != fmt:
            data = transcode(pybase64.b64decode(b64), mapped.output_format)
            b64, fmt = pybase64.b64encode_as_string(data), mapped.output_format
        entries.append((b64, fmt))
    return entries


def _datum(b64: B64, fmt: str, mapped: Mapped) -> dict[str, B64]:
    if mapped.response_format == "url":
        return {"url": f"data:{OUTPUT_MIME[fmt]};base64,{blobs.text_of(b64)}"}
    return {"b64_json": b64}


def _failures(images: list[GeneratedImage]) -> list[str]:
    total = len(images)
    lines = []
    for index, image in enumerate(images):
        if image.finish_reason is FinishReason.SUCCESS:
            continue
        why = image.error or image.finish_reason.value
        lines.append(f"image {index + 1} of {total} is missing: {why}")
    return lines


def _nothing_produced(result: TaskResult) -> OpenAIError:
    if all(i.finish_reason is FinishReason.CONTENT_FILTERED for i in result.images):
        return OpenAIError(
            400,
            f"Every image was blocked by {result.model_id}'s content filters.",
            code="content_policy_violation",
        )
    reasons = "; ".join(i.error or i.finish_reason.value for i in result.images)
    return OpenAIError(502, f"{result.model_id} returned no image: {reasons}", code="no_images")
