"""Reading an OpenAI request body: JSON here, multipart through the native reader.

JSON is read here rather than by the native reader because OpenAI's vocabulary has a boolean the
native one refuses (`stream: false`); multipart, with its limits and error messages, is the native
API's.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from fastapi import Request

from ..native.body import read_fields
from .errors import OpenAIError

# Below this a thread hop costs more than the parse itself.
_PARSE_INLINE_BYTES = 64 * 1024


async def read_body(request: Request, *, multipart: bool) -> dict[str, Any]:
    """The body's fields: images stay data-URL text (JSON) or bytes (multipart file parts)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in ("", "application/json") and not media.endswith("+json"):
        return await read_fields(request, multipart=multipart)
    # Not request.body(): the request would keep its copy of the upload to the end.
    raw = b"".join([chunk async for chunk in request.stream()])
    if len(raw) <= _PARSE_INLINE_BYTES:
        return _parse(raw)
    return await asyncio.to_thread(_parse, raw)


def _parse(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        raise OpenAIError(400, "The body is empty; a JSON object is required.", code="invalid_json")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise OpenAIError(400, f"The body is not valid JSON: {exc}", code="invalid_json") from None
    if not isinstance(data, dict):
        raise OpenAIError(400, "The body must be a JSON object.", code="invalid_json")
    return data
