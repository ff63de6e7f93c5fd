"""Reading a request body as a field dict: JSON, or multipart with images as file parts."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Request
from starlette.datastructures import UploadFile

from ...problems import FieldProblem, ProblemError, invalid

# Image fields may arrive as repeated parts (`images`) or with the bracket suffix HTML forms and
# several client libraries use (`images[]`).
_LIST_FIELDS = {"images"}
_MAX_FILES = 8
_MAX_FIELDS = 64


async def read_fields(request: Request, *, multipart: bool) -> dict[str, Any]:
    """The body's fields; images stay base64 text (JSON) or bytes (multipart) for the schema."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if multipart and media == "multipart/form-data":
        return await _read_form(request)
    if media in ("", "application/json") or media.endswith("+json"):
        return await _read_json(request)
    accepted = "application/json or multipart/form-data" if multipart else "application/json"
    raise ProblemError(
        status=415,
        slug="unsupported-media-type",
        title="Unsupported media type",
        detail=f"the body is {media}; this endpoint takes {accepted}",
    )


async def _read_json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        raise invalid([FieldProblem(field="body", message="a JSON object is required")])
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ProblemError(
            status=400, slug="invalid-json", title="The body is not valid JSON", detail=str(exc)
        ) from None
    if not isinstance(data, dict):
        raise invalid([FieldProblem(field="body", message="must be a JSON object")])
    return data


async def _read_form(request: Request) -> dict[str, Any]:
    # Starlette spools file parts to disk past 1 MB and answers 400 for malformed multipart;
    # the body cap of the middleware bounds the total.
    form = await request.form(max_files=_MAX_FILES, max_fields=_MAX_FIELDS)
    fields: dict[str, Any] = {}
    try:
        for key in set(form.keys()):
            name = key[:-2] if key.endswith("[]") else key
            values = [await _value(v) for v in form.getlist(key)]
            values = [v for v in values if v != ""]  # an empty form input means "not given"
            if not values:
                continue
            if name in _LIST_FIELDS:
                fields.setdefault(name, []).extend(values)
            else:
                fields[name] = values[0] if len(values) == 1 else values
    finally:
        await form.close()
    return fields


async def _value(value: str | UploadFile) -> str | bytes:
    if isinstance(value, UploadFile):
        return await value.read()
    return value
