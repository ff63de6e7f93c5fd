"""Errors in Bedrock's own shape, so boto3 raises the modeled exception a client already handles.

Bedrock answers an error with its HTTP status, the header `x-amzn-ErrorType: <Code>` (botocore
takes the code from it) and the body `{"message": "..."}`. What maps to what:

- An upstream ClientError comes back as Bedrock sent it: its code, message and status (and
  ModelErrorException's `originalStatusCode` / `resourceName`), ARNs and key ids withheld.
- Transport failures have no Bedrock answer, so the gateway picks the code a client expects for
  them: a read timeout is 408 ModelTimeoutException (the model did not answer in time; botocore does
  not retry it, as the gateway's own client already did); a connection that cannot be made or
  breaks is 503 ServiceUnavailableException (retryable, as it is for Bedrock); no credentials is
  403 AccessDeniedException.
- A ProblemError, by its type in the problem-type table (app/problems/types.py): the gateway's
  own refusals by type (overloaded 429 ThrottlingException;
  gateway-busy, queue-timeout, circuit-open 503 ServiceUnavailableException; deadline-exceeded 408
  ModelTimeoutException; budget-exceeded 400 ServiceQuotaExceededException); one carrying
  `extra["upstream_error"]` maps back to that Bedrock code;
  the others by type (content-filtered ValidationException, no-images ModelErrorException,
  model-retired ResourceNotFoundException with status 410 kept), else by status:
  400/406/413/415/422 ValidationException, 403 AccessDeniedException, 404
  ResourceNotFoundException, 429 ThrottlingException, 503 ServiceUnavailableException, 504
  ModelTimeoutException, anything else InternalServerException. Retry-After is kept, and a
  quota's RateLimit and RateLimit-Policy.
- A body over the size cap is a ValidationException: it is what Bedrock answers for an input it
  will not take, and boto3 raises it without retrying.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from botocore.exceptions import ClientError
from starlette.responses import Response

from ...bedrock.errors import (
    CONNECT_FAILED,
    CONNECTION_BROKEN,
    NO_CREDENTIALS,
    READ_TIMEOUT,
    UNKNOWN,
    scrub,
    transport_failure,
)
from ...http.media import JSON
from ...problems import MAX_LISTED_ERRORS, ProblemError, problem_type

INVALID_MODEL = "The provided model identifier is invalid."
# A problem's headers an error answer keeps: when to retry, and a key's quota state.
# Connection: close comes with refusals made before the body or head was read whole.
KEPT_HEADERS = frozenset({"retry-after", "ratelimit", "ratelimit-policy", "connection"})

# The status Bedrock answers each code with (reference §1).
STATUS: dict[str, int] = {
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
    # AWS's code for a credential it does not know; 401 here, as the gateway's other surfaces.
    "UnrecognizedClientException": 401,
    # AWS's front end's codes (S3 names them) for a request that came too slowly or with too
    # large a head, with HTTP's own statuses; and nginx's 499 for a caller that hung up, which
    # nobody reads but the access line and the metrics.
    "RequestTimeout": 408,
    "RequestHeaderSectionTooLarge": 431,
    "ClientClosedRequest": 499,
}
_BY_STATUS: dict[int, str] = {
    400: "ValidationException",
    403: "AccessDeniedException",
    404: "ResourceNotFoundException",
    406: "ValidationException",
    410: "ResourceNotFoundException",
    413: "ValidationException",
    415: "ValidationException",
    422: "ValidationException",
    429: "ThrottlingException",
    503: "ServiceUnavailableException",
    504: "ModelTimeoutException",
}
_MODEL_ERROR_FIELDS = ("originalStatusCode", "resourceName")

# A call that got no answer: the code a client expects for it (keys of bedrock.errors' table).
_TRANSPORT: dict[str, tuple[str, str]] = {
    CONNECT_FAILED: ("ServiceUnavailableException", "The gateway could not reach Bedrock."),
    CONNECTION_BROKEN: ("ServiceUnavailableException", "The connection to Bedrock broke."),
    READ_TIMEOUT: (
        "ModelTimeoutException",
        "The model did not answer within the gateway's read timeout.",
    ),
    NO_CREDENTIALS: (
        "AccessDeniedException",
        "The gateway has no AWS credentials to call Bedrock.",
    ),
    UNKNOWN: ("InternalServerException", "The gateway's call to Bedrock failed."),
}


@dataclass
class BedrockError(Exception):
    """An answer in Bedrock's error shape."""

    code: str
    message: str
    status: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.status:
            self.status = STATUS.get(self.code, 500)

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"

    def response(self, request_id: str | None) -> Response:
        """The HTTP answer, with the request id botocore reports."""
        headers = {**self.headers, "x-amzn-ErrorType": self.code}
        if request_id:
            headers["x-amzn-RequestId"] = request_id
        body = orjson.dumps({"message": self.message, **self.extra})
        return Response(body, status_code=self.status, media_type=JSON, headers=headers)


def validation_error(violations: list[str]) -> BedrockError:
    """One ValidationException listing the violations (`#/path: message`): the first
    MAX_LISTED_ERRORS, then how many more."""
    count = len(violations)
    noun = "violation" if count == 1 else "violations"
    listing = "; ".join(violations[:MAX_LISTED_ERRORS])
    if count > MAX_LISTED_ERRORS:
        listing += f"; and {count - MAX_LISTED_ERRORS} more"
    return BedrockError("ValidationException", f"{count} schema {noun} found: {listing}")


def invalid_model() -> BedrockError:
    """Bedrock's answer for a model id it does not know."""
    return BedrockError("ValidationException", INVALID_MODEL)


def from_upstream(exc: BaseException) -> BedrockError:
    """The Bedrock error for a failed pass-through call; unknown exceptions propagate."""
    if isinstance(exc, ProblemError):
        return from_problem(exc)
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code") or "InternalServerException")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        answer: dict[str, Any] = dict(exc.response)
        extra = {
            k: scrub(v) if isinstance(v, str) else v
            for k, v in answer.items()
            if k in _MODEL_ERROR_FIELDS
        }
        return BedrockError(
            code,
            scrub(str(error.get("Message") or code)),
            status=status if isinstance(status, int) else 0,
            extra=extra,
        )
    failure = transport_failure(exc)
    if failure is None:
        raise exc
    code, message = _TRANSPORT[failure]
    return BedrockError(code, f"{message} ({type(exc).__name__})")


def from_problem(problem: ProblemError) -> BedrockError:
    """The Bedrock error for a problem the gateway raised (its own, or Bedrock's mapped).

    The gateway's own refusals map by their type; an upstream problem goes back to Bedrock's code
    (`upstream_error`); the rest by type, else by status. Bedrock's status for the code, except a
    retired model's 410. Retry-After and RateLimit are kept: botocore ignores them, other clients
    may not.
    """
    upstream = problem.extra.get("upstream_error")
    kind = problem_type(problem.slug)
    code = kind.bedrock_code if kind is not None and not kind.from_bedrock else None
    if code is None and isinstance(upstream, str) and upstream:
        code = upstream
    if code is None:
        code = (kind.bedrock_code if kind else None) or _BY_STATUS.get(
            problem.status, "InternalServerException"
        )
    status = 410 if problem.status == 410 else STATUS.get(code, 500)
    message = problem.detail
    if problem.errors:
        listing = "; ".join(f"{e.field}: {e.message}" for e in problem.errors)
        message = f"{message}: {listing}"
    headers = {k: v for k, v in problem.headers.items() if k.lower() in KEPT_HEADERS}
    return BedrockError(code, message, status=status, headers=headers)
