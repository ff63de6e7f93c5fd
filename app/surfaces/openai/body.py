"""Reading an OpenAI request body: JSON here, multipart through the shared reader (app/http).

JSON is read here rather than by the shared reader because OpenAI's vocabulary has a boolean the
native one refuses (`stream: false`); multipart, with its limits and error messages, is the shared
reader's.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Request

from ...http.body import read_fields, read_parsed
from ...http.json_bounds import JsonBounds
from ...http.json_bounds import check as check_bounds
from ...problems import ProblemError
from .errors import OpenAIError


async def read_body(request: Request, bounds: JsonBounds, *, multipart: bool) -> dict[str, Any]:
    """The body's fields (JSON within `bounds`): images stay data-URL text (JSON) or bytes
    (multipart file parts)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in ("", "application/json") and not media.endswith("+json"):
        return await read_fields(request, bounds, multipart=multipart)
    return await read_parsed(request, lambda raw: _parse(raw, bounds))


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
