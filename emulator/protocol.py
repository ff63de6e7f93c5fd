"""Bedrock's rest-json wire format: how answers and errors look to botocore."""

from __future__ import annotations

import uuid
from typing import Any

import orjson

from .models.base import BedrockError

ERROR_TYPE_SUFFIX = ":http://internal.amazon.com/coral/com.amazon.bedrock/"

# Every error code Bedrock's InvokeModel declares, with its HTTP status (reference §1).
ERROR_STATUS: dict[str, int] = {
    "ValidationException": 400,
    "ServiceQuotaExceededException": 400,
    "AccessDeniedException": 403,
    "ResourceNotFoundException": 404,
    "ModelTimeoutException": 408,
    "ModelErrorException": 424,
    "ThrottlingException": 429,
    "ModelNotReadyException": 429,
    "InternalServerException": 500,
    "ServiceUnavailableException": 503,
}

Headers = list[tuple[bytes, bytes]]


def new_request_id() -> str:
    """A fresh request id, as Bedrock puts in `x-amzn-RequestId`."""
    return str(uuid.uuid4())


def json_answer(status: int, payload: Any, request_id: str) -> tuple[int, Headers, bytes]:
    """Status, raw ASGI headers and body of a JSON answer."""
    body = orjson.dumps(payload)
    headers: Headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"x-amzn-requestid", request_id.encode()),
    ]
    return status, headers, body


def error_answer(error: BedrockError, request_id: str) -> tuple[int, Headers, bytes]:
    """An error as botocore parses it: `x-amzn-ErrorType` names the code, the body the message."""
    status, headers, body = json_answer(
        error.status, {"message": error.message, **error.extra}, request_id
    )
    headers.append((b"x-amzn-errortype", (error.code + ERROR_TYPE_SUFFIX).encode()))
    return status, headers, body


def bedrock_error(code: str, message: str, extra: dict[str, Any] | None = None) -> BedrockError:
    """A BedrockError for `code` with its documented status."""
    return BedrockError(code, ERROR_STATUS[code], message, extra)
