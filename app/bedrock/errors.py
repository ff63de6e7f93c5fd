"""What a failed Bedrock call means for the caller: Bedrock's errors mapped to HTTP problems.

`ERROR_TABLE` is the one table (docs/api.md's error table is written from it): each Bedrock error
code, and each transport failure, to a status, problem type, title and Retry-After. In short:

- Caller mistakes (ValidationException) are 400 with Bedrock's message, which names the field; a
  prompt Bedrock's content filters blocked is 422 content-filtered.
- Throttling is 429 and outages (ServiceUnavailable, InternalServer, a model not ready, an
  endpoint that cannot be reached) are 503, both with Retry-After. Bedrock sends no Retry-After:
  the values are the gateway's advice. ServiceQuotaExceeded is a 429 too (Bedrock answers 400, but
  the caller's request is fine: the account's quota is what is exhausted, its rate quotas count
  per minute, and the operator can raise it), with a minute's Retry-After.
- Timeouts (ModelTimeoutException, no answer within the read timeout) are 504; a connection that
  breaks mid-answer and a model that fails on the input (ModelErrorException) are 502.
- The gateway's own misconfiguration (access denied, a model not served in its region, no
  credentials) is 502 with a detail an operator can act on: the model, the region, what to fix.

Nothing secret reaches a caller: Bedrock's messages lose every ARN (an AccessDeniedException
names the gateway's IAM principal and account) and access key id, and transport failures are
named by their class, never by the endpoint URL. The operator's copy, unredacted, is logged.
A model past its end of life is a 410 naming its successors and the setting that serves its
requests with them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp
import orjson
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    HTTPClientError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
)

from ..problems import ProblemError, ProblemType
from ..problems.types import CONTENT_FILTERED as CONTENT_FILTERED_TYPE
from ..problems.types import (
    MODEL_RETIRED,
    UPSTREAM_ACCESS_DENIED,
    UPSTREAM_CONNECTION,
    UPSTREAM_ERROR,
    UPSTREAM_MODEL_ERROR,
    UPSTREAM_MODEL_NOT_READY,
    UPSTREAM_MODEL_UNAVAILABLE,
    UPSTREAM_QUOTA,
    UPSTREAM_THROTTLED,
    UPSTREAM_TIMEOUT,
    UPSTREAM_UNAVAILABLE,
    UPSTREAM_VALIDATION,
)

log = logging.getLogger("app.bedrock")

CONTENT_FILTER_MARK = "blocked by our content filters"
# Bedrock's ResourceNotFoundException for a retired model: "... has reached the end of its life."
END_OF_LIFE_MARKS = ("end of its life", "end of life")
REPLACEMENTS_SETTING = "GATEWAY_REPLACEMENTS"
RETRY_AFTER_THROTTLED = "2"
RETRY_AFTER_UNAVAILABLE = "5"
RETRY_AFTER_QUOTA = "60"

# Rows of the table that are not a Bedrock error code.
CONTENT_FILTERED = "ValidationException (content filter)"
CONNECT_FAILED = "connect error"
READ_TIMEOUT = "read timeout"
CONNECTION_BROKEN = "dropped connection"
NO_CREDENTIALS = "no credentials"
UNKNOWN = "any other error"


@dataclass(frozen=True)
class ErrorRow:
    """What the caller gets for one kind of failed call. `hint`, for the gateway's own
    misconfiguration, tells the operator what to fix ({model} and {region} filled in)."""

    kind: ProblemType
    retry_after: str | None = None
    hint: str | None = None
    # A more precise title than the type's, for this failure.
    title: str | None = None


_UNAVAILABLE = ErrorRow(UPSTREAM_UNAVAILABLE, RETRY_AFTER_UNAVAILABLE)
_TIMEOUT = ErrorRow(UPSTREAM_TIMEOUT)

ERROR_TABLE: dict[str, ErrorRow] = {
    "ValidationException": ErrorRow(UPSTREAM_VALIDATION),
    CONTENT_FILTERED: ErrorRow(
        CONTENT_FILTERED_TYPE, title="The request was blocked by content filters"
    ),
    "ServiceQuotaExceededException": ErrorRow(
        UPSTREAM_QUOTA,
        RETRY_AFTER_QUOTA,
        hint="the operator can raise the account's Bedrock quotas for {model} in {region} "
        "(Service Quotas)",
    ),
    "AccessDeniedException": ErrorRow(
        UPSTREAM_ACCESS_DENIED,
        hint="grant the gateway's IAM identity bedrock:InvokeModel on {model} and enable access "
        "to the model in {region} (Bedrock console, Model access)",
    ),
    "ResourceNotFoundException": ErrorRow(
        UPSTREAM_MODEL_UNAVAILABLE,
        hint="{model} is not served in {region}: check the model's id and region "
        "(GATEWAY_MODELS: region, fallback_regions)",
    ),
    "ModelTimeoutException": _TIMEOUT,
    "ModelErrorException": ErrorRow(UPSTREAM_MODEL_ERROR),
    "ThrottlingException": ErrorRow(UPSTREAM_THROTTLED, RETRY_AFTER_THROTTLED),
    "ModelNotReadyException": ErrorRow(UPSTREAM_MODEL_NOT_READY, RETRY_AFTER_UNAVAILABLE),
    "InternalServerException": _UNAVAILABLE,
    "ServiceUnavailableException": _UNAVAILABLE,
    CONNECT_FAILED: _UNAVAILABLE,
    READ_TIMEOUT: _TIMEOUT,
    CONNECTION_BROKEN: ErrorRow(UPSTREAM_CONNECTION),
    NO_CREDENTIALS: ErrorRow(
        UPSTREAM_ACCESS_DENIED,
        hint="the gateway found no AWS credentials to call {model} in {region}: give it an IAM "
        "role or credentials (environment, profile)",
    ),
    UNKNOWN: ErrorRow(UPSTREAM_ERROR),
}

# An ARN (account ids and IAM names live in them), and an AWS access key id.
_RESOURCE = r"[^\s\"',;()]*[^\s\"',;().]"
_ARN = re.compile(r"arn:aws[\w-]*:[\w-]*:[\w-]*:\d*:" + _RESOURCE)
_FOUNDATION_MODEL = re.compile(
    r"arn:aws[\w-]*:bedrock:[\w-]*::foundation-model/(" + _RESOURCE + ")"
)
_ACCESS_KEY = re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b")


def upstream_problem(
    exc: BaseException,
    model_id: str,
    *,
    retired: bool = False,
    successors: Sequence[str] = (),
    region: str | None = None,
) -> ProblemError:
    """The problem a caller gets for a Bedrock call to `model_id` that failed with `exc`.

    `retired`: the registry marks the model retired; `successors`: the models to move to, as
    the caller should read them. Either that or Bedrock's message makes a missing model a 410.
    `region`: where the failed call went, for the operator's hint. A ProblemError (the client's
    own refusals: overloaded, circuit open, deadline) comes back unchanged; an exception that is
    not a failed Bedrock call (a bug) is raised again.
    """
    if isinstance(exc, ProblemError):
        return exc
    if isinstance(exc, ClientError):
        if is_end_of_life(exc, retired=retired):
            return retired_problem(model_id, successors, _message(exc))
        return _client_error_problem(exc, model_id, region)
    key = transport_failure(exc)
    if key is None:
        raise exc
    row = ERROR_TABLE[key]
    where = f" in {region}" if region else ""
    if key == CONNECT_FAILED:
        what = f"the gateway could not connect to Bedrock{where} to call {model_id}"
    elif key == READ_TIMEOUT:
        what = f"no answer from Bedrock{where} for {model_id} within the read timeout"
    elif key == CONNECTION_BROKEN:
        what = f"the connection to Bedrock{where} broke during the call to {model_id}"
    elif row.hint:
        log.warning("Bedrock call to %s in %s failed: %r", model_id, region, exc)
        what = _hint(row, model_id, region)
    else:
        what = f"the call to {model_id}{where} failed"
    return _problem(row, f"{what} ({type(exc).__name__})")


def transport_failure(exc: BaseException) -> str | None:
    """The table's key for a call that got no answer from Bedrock (CONNECT_FAILED,
    READ_TIMEOUT, CONNECTION_BROKEN, NO_CREDENTIALS, UNKNOWN); None for any other exception."""
    # Order matters: botocore's connect timeout is also an EndpointConnectionError.
    if isinstance(
        exc, ConnectTimeoutError | EndpointConnectionError | aiohttp.ClientConnectorError
    ):
        return CONNECT_FAILED
    if isinstance(exc, ReadTimeoutError | aiohttp.ServerTimeoutError):
        return READ_TIMEOUT
    if isinstance(exc, HTTPClientError | aiohttp.ClientError):
        return CONNECTION_BROKEN
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return NO_CREDENTIALS
    if isinstance(exc, BotoCoreError):
        return UNKNOWN
    return None


def scrub(text: str) -> str:
    """`text` without what a caller must not see: ARNs (a foundation model's becomes its id)
    and access key ids."""
    text = _FOUNDATION_MODEL.sub(r"\1", text)
    text = _ARN.sub("[ARN withheld]", text)
    return _ACCESS_KEY.sub("[key withheld]", text)


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
    return MODEL_RETIRED.error(
        detail=(
            f"{model_id} has reached its end of life and Bedrock no longer serves it: {moves}"
            f"let the gateway serve its requests with its successors by setting "
            f"{REPLACEMENTS_SETTING}={example} (Bedrock said: {scrub(upstream)})"
        ),
        extra={
            "upstream_error": "ResourceNotFoundException",
            "successors": list(successors),
            "setting": REPLACEMENTS_SETTING,
            "setting_example": example,
        },
    )


def _client_error_problem(exc: ClientError, model_id: str, region: str | None) -> ProblemError:
    code = str(exc.response.get("Error", {}).get("Code", ""))
    message = scrub(_message(exc)) or code
    if code == "ValidationException" and CONTENT_FILTER_MARK in message:
        code_row = ERROR_TABLE[CONTENT_FILTERED]
    else:
        code_row = ERROR_TABLE.get(code, ERROR_TABLE[UNKNOWN])
    if code == "ValidationException":
        detail = message  # the caller's mistake, in Bedrock's words (it names the field)
    elif code_row.hint:
        log.warning("Bedrock refused %s in %s: %s: %s", model_id, region, code, _message(exc))
        detail = f"{_hint(code_row, model_id, region)} (Bedrock said: {message})"
    else:
        where = f" in {region}" if region else ""
        detail = f"{model_id}{where}: {message}"
    return _problem(code_row, detail, code)


def _hint(row: ErrorRow, model_id: str, region: str | None) -> str:
    return (row.hint or "").format(model=model_id, region=region or "the gateway's region")


def _problem(row: ErrorRow, detail: str, code: str | None = None) -> ProblemError:
    return row.kind.error(
        detail,
        title=row.title,
        headers={"Retry-After": row.retry_after} if row.retry_after else {},
        extra={"upstream_error": code} if code else {},
    )


def _message(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Message", ""))
