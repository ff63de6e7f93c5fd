"""What a failed Bedrock call means for the caller: Bedrock's errors mapped to HTTP problems.

Caller mistakes keep Bedrock's message (it names the field); the gateway's own misconfiguration
(access denied, a model it may not call) is a 502 with a detail an operator can act on; throttling
and outages say when to come back. A model past its end of life is a 410 naming its successors and
the setting that serves its requests with them.
"""

from __future__ import annotations

from collections.abc import Sequence

import aiohttp
import orjson
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
    ResponseStreamingError,
)

from ..problems import ProblemError

CONTENT_FILTER_MARK = "blocked by our content filters"
# Bedrock's ResourceNotFoundException for a retired model: "... has reached the end of its life."
END_OF_LIFE_MARKS = ("end of its life", "end of life")
REPLACEMENTS_SETTING = "GATEWAY_REPLACEMENTS"
RETRY_AFTER_THROTTLED = "2"
RETRY_AFTER_UNAVAILABLE = "5"

# Bedrock error code -> (status, slug, title, Retry-After or None)
_BY_CODE: dict[str, tuple[int, str, str, str | None]] = {
    "ValidationException": (400, "upstream-validation", "Bedrock refused the request", None),
    "ServiceQuotaExceededException": (
        429,
        "upstream-quota",
        "The Bedrock quota is exhausted",
        RETRY_AFTER_THROTTLED,
    ),
    "AccessDeniedException": (
        502,
        "upstream-access-denied",
        "The gateway may not call this model",
        None,
    ),
    "ResourceNotFoundException": (
        502,
        "upstream-model-unavailable",
        "Bedrock does not serve this model",
        None,
    ),
    "ModelTimeoutException": (504, "upstream-timeout", "The model took too long", None),
    "ModelErrorException": (502, "upstream-model-error", "The model failed", None),
    "ThrottlingException": (
        429,
        "upstream-throttled",
        "Bedrock is throttling",
        RETRY_AFTER_THROTTLED,
    ),
    "ModelNotReadyException": (
        503,
        "upstream-model-not-ready",
        "The model is not ready yet",
        RETRY_AFTER_UNAVAILABLE,
    ),
    "InternalServerException": (502, "upstream-error", "Bedrock failed", None),
    "ServiceUnavailableException": (
        503,
        "upstream-unavailable",
        "Bedrock is unavailable",
        RETRY_AFTER_UNAVAILABLE,
    ),
}

_OPERATOR_HINTS = {
    "AccessDeniedException": (
        "check the gateway's IAM permissions (bedrock:InvokeModel) and that model access is "
        "enabled for this account and region"
    ),
    "ResourceNotFoundException": (
        "the model id is not served in this region or has reached its end of life"
    ),
}


def upstream_problem(
    exc: BaseException, model_id: str, *, retired: bool = False, successors: Sequence[str] = ()
) -> ProblemError:
    """The problem a caller gets for a Bedrock call to `model_id` that failed with `exc`.

    `retired`: the registry marks the model retired; `successors`: the models to move to, as
    the caller should read them. Either that or Bedrock's message makes a missing model a 410.
    """
    if isinstance(exc, ClientError):
        if is_end_of_life(exc, retired=retired):
            return retired_problem(model_id, successors, _message(exc))
        return _client_error_problem(exc, model_id)
    if isinstance(exc, ReadTimeoutError | ConnectTimeoutError):
        return ProblemError(
            status=504,
            slug="upstream-timeout",
            title="Bedrock did not answer in time",
            detail=f"no answer from Bedrock for {model_id} within the gateway's timeout",
        )
    if isinstance(
        exc,
        EndpointConnectionError
        | ConnectionClosedError
        | ResponseStreamingError
        | aiohttp.ClientError
        | BotoCoreError,
    ):
        return ProblemError(
            status=502,
            slug="upstream-connection",
            title="The connection to Bedrock failed",
            detail=f"the call to {model_id} failed in transit ({type(exc).__name__})",
        )
    raise exc


def is_end_of_life(exc: BaseException, *, retired: bool = False) -> bool:
    """ResourceNotFoundException for a model marked retired, or whose message says end of life."""
    if not isinstance(exc, ClientError):
        return False
    if str(exc.response.get("Error", {}).get("Code", "")) != "ResourceNotFoundException":
        return False
    message = _message(exc).lower()
    return retired or any(mark in message for mark in END_OF_LIFE_MARKS)


def retired_problem(model_id: str, successors: Sequence[str], upstream: str) -> ProblemError:
    """410 model-retired: Bedrock no longer serves `model_id`; what to move to, and the setting
    that lets the gateway serve its requests with the successors meanwhile."""
    example = orjson.dumps({model_id: {}}).decode()
    moves = f"move to {' or '.join(successors)}, or " if successors else ""
    return ProblemError(
        status=410,
        slug="model-retired",
        title="The model is retired",
        detail=(
            f"{model_id} has reached its end of life and Bedrock no longer serves it: {moves}"
            f"let the gateway serve its requests with its successors by setting "
            f"{REPLACEMENTS_SETTING}={example} (Bedrock said: {upstream})"
        ),
        extra={
            "upstream_error": "ResourceNotFoundException",
            "successors": list(successors),
            "setting": REPLACEMENTS_SETTING,
            "setting_example": example,
        },
    )


def _client_error_problem(exc: ClientError, model_id: str) -> ProblemError:
    code = str(exc.response.get("Error", {}).get("Code", ""))
    message = _message(exc)
    if code == "ValidationException" and CONTENT_FILTER_MARK in message:
        return ProblemError(
            status=422,
            slug="content-filtered",
            title="The request was blocked by content filters",
            detail=message,
        )
    status, slug, title, retry_after = _BY_CODE.get(
        code, (502, "upstream-error", "Bedrock failed", None)
    )
    detail = message or code
    if code in _OPERATOR_HINTS:
        detail = f"{detail} ({model_id}: {_OPERATOR_HINTS[code]})"
    headers = {"Retry-After": retry_after} if retry_after else {}
    return ProblemError(
        status=status,
        slug=slug,
        title=title,
        detail=detail,
        headers=headers,
        extra={"upstream_error": code},
    )


def _message(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Message", ""))
