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

from ...problems import ProblemError
from ..json_bounds import JsonBounds
from ..json_bounds import check as check_bounds
from ..native.body import read_fields
from ..upload import read_upload
from .errors import OpenAIError

# Below this a thread hop costs more than the parse itself.
_PARSE_INLINE_BYTES = 64 * 1024


async def read_body(request: Request, bounds: JsonBounds, *, multipart: bool) -> dict[str, Any]:
    """The body's fields (JSON within `bounds`): images stay data-URL text (JSON) or bytes
    (multipart file parts)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in ("", "application/json") and not media.endswith("+json"):
        return await read_fields(request, bounds, multipart=multipart)
    raw = await read_upload(request)
    if len(raw) <= _PARSE_INLINE_BYTES:
        return _parse(raw, bounds)
    return await asyncio.to_thread(_parse, raw, bounds)


def _parse(raw: bytes, bounds: JsonBounds) -> dict[str, Any]:
    if not raw.strip():
        raise OpenAIError(400, "The body is empty; a JSON object is required.", code="invalid_json")
    try:
        check_bounds(raw, bounds)
    except ProblemError as problem:
        raise OpenAIError(400, problem.detail, code="json_too_complex") from None
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise OpenAIError(400, f"The body is not valid JSON: {exc}", code="invalid_json") from None
    if not isinstance(data, dict):
        raise OpenAIError(400, "The body must be a JSON object.", code="invalid_json")
    return data
