"""Errors in OpenAI's shape, with the statuses the OpenAI SDK turns into its exception classes.

The body is `{"error": {"message", "type", "param", "code"}}`; each problem type's code and
whether a retry helps are in the problem-type table (app/problems/types.py). What maps to what:

- The gateway's field validation (422) is a 400 `invalid_request_error` (OpenAI answers bad
  parameters with 400, which the SDK raises as BadRequestError), `param` naming the first bad field
  in OpenAI's vocabulary (`size`, not `width`) and the message listing every one.
- Every image blocked by content filters: 400 `content_policy_violation`, as OpenAI answers.
- A model the gateway does not know, or one past its end of life (410): 404 `model_not_found`.
- 406 and 415 (a body or image type not taken): 400. 413 stays 413.
- 429 is a `rate_limit_error`, 5xx a `server_error`; both keep the problem's Retry-After and add
  `retry-after-ms` (the SDK prefers it), so the SDK's own retries wait as long as the gateway asks.
- Failures a retry cannot fix (the gateway may not call the model, Bedrock does not serve it) carry
  `x-should-retry: false`, which the SDK obeys.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import orjson
from starlette.responses import Response

from ...http.media import JSON
from ...problems import ProblemError, ProblemType, problem_type
from ...problems.types import UNSUPPORTED_MEDIA_TYPE

DEFAULT_RETRY_AFTER = "1"
# A problem's headers an error answer keeps: when to retry, and a key's quota state.
# Connection: close comes with refusals made before the body or head was read whole.
KEPT_HEADERS = frozenset({"retry-after", "ratelimit", "ratelimit-policy", "connection"})

_STATUS = {406: 400, 410: 404, 415: 400, 422: 400}


@dataclass
class OpenAIError(Exception):
    """An answer in OpenAI's error shape."""

    status: int
    message: str
    param: str | None = None
    code: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"

    @property
    def type(self) -> str:
        """OpenAI's error type for the status."""
        if self.status == 429:
            return "rate_limit_error"
        if self.status >= 500:
            return "server_error"
        if self.status == 401:
            return "authentication_error"
        return "invalid_request_error"

    def response(self, request_id: str | None) -> Response:
        """The HTTP answer; the request id goes where the SDK reads it (`x-request-id`)."""
        body = {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }
        headers = dict(self.headers)
        if request_id:
            headers["x-request-id"] = request_id
        return Response(
            orjson.dumps(body), status_code=self.status, media_type=JSON, headers=headers
        )


def bad_param(param: str, message: str, code: str = "invalid_value") -> OpenAIError:
    """A 400 naming one parameter."""
    return OpenAIError(400, message, param=param, code=code)


def from_problem(problem: ProblemError, param_of: Callable[[str], str | None]) -> OpenAIError:
    """The OpenAI error for a problem of the native layers; `param_of` names a native field as the
    caller sent it."""
    status = _STATUS.get(problem.status, problem.status)
    code = _code(problem)
    params: list[str | None] = []
    listing: list[str] = []
    for error in problem.errors:
        param = param_of(error.field)
        line = f"{param or error.field}: {error.message}"
        if line not in listing:  # width and height both become `size`
            listing.append(line)
        params.append(param)
    message = problem.detail + (f": {'; '.join(listing)}" if listing else "")
    headers = {k: v for k, v in problem.headers.items() if k.lower() in KEPT_HEADERS}
    if status in (429, 503):
        headers.setdefault("Retry-After", DEFAULT_RETRY_AFTER)
    retry_after = headers.get("Retry-After")
    if retry_after is not None and retry_after.isdigit():
        headers["retry-after-ms"] = str(int(retry_after) * 1000)
    kind = problem_type(problem.slug)
    if kind is not None and not kind.retryable:
        headers["x-should-retry"] = "false"
    return OpenAIError(
        status, message, param=params[0] if params else None, code=code, headers=headers
    )


def _code(problem: ProblemError) -> str:
    """The problem type's OpenAI code (the table's); an unsupported image, which names its
    field, is OpenAI's invalid_image_format."""
    if problem.slug == UNSUPPORTED_MEDIA_TYPE.slug and problem.errors:
        return "invalid_image_format"
    kind = problem_type(problem.slug) or ProblemType(problem.slug, problem.status, "")
    return kind.openai_code
