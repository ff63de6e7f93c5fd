"""The one table of problem types: each slug's status and title, and how the OpenAI and Bedrock
surfaces render it (their error code, whether a retry can help). Every ProblemError the gateway
raises is made from a type here; the surfaces' renderers read this table, not lists of their own."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .document import MAX_LISTED_ERRORS, FieldProblem, ProblemError


@dataclass(frozen=True)
class ProblemType:
    """One kind of problem (`/problems/{slug}`)."""

    slug: str
    status: int
    title: str
    # OpenAI's `error.code`; by default the slug's (rate_limit_exceeded for a 429).
    openai: str | None = None
    # The Bedrock error code the Bedrock surface answers with; None: by status.
    bedrock_code: str | None = None
    # Made from a Bedrock error: the code Bedrock sent (`upstream_error`) goes back as it was,
    # `bedrock_code` only when there is none. The gateway's own refusals carry their code always.
    from_bedrock: bool = False
    # Whether a retry can help (the OpenAI SDK is told `x-should-retry: false` when not).
    retryable: bool = True

    @property
    def head(self) -> tuple[int, str, str]:
        """Status, slug and title: the first fields of a ProblemError."""
        return self.status, self.slug, self.title

    @property
    def openai_code(self) -> str:
        """OpenAI's `error.code` for this type."""
        if self.openai is not None:
            return self.openai
        return "rate_limit_exceeded" if self.status == 429 else self.slug.replace("-", "_")

    def error(
        self,
        detail: str,
        *,
        title: str | None = None,
        errors: list[FieldProblem] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> ProblemError:
        """A problem of this type; `title` only where one occurrence has a more precise one."""
        return ProblemError(
            status=self.status,
            slug=self.slug,
            title=title or self.title,
            detail=detail,
            errors=errors or [],
            headers=headers or {},
            extra=extra or {},
        )


PROBLEM_TYPES: dict[str, ProblemType] = {}


def _type(
    slug: str,
    status: int,
    title: str,
    *,
    openai_code: str | None = None,
    bedrock_code: str | None = None,
    from_bedrock: bool = False,
    retryable: bool = True,
) -> ProblemType:
    kind = ProblemType(slug, status, title, openai_code, bedrock_code, from_bedrock, retryable)
    PROBLEM_TYPES[slug] = kind
    return kind


def problem_type(slug: str) -> ProblemType | None:
    """The type a slug names; None for one the table does not know."""
    return PROBLEM_TYPES.get(slug)


BAD_REQUEST = _type("bad-request", 400, "Bad request")
INVALID_JSON = _type("invalid-json", 400, "The body is not valid JSON")
INVALID_MULTIPART = _type("invalid-multipart", 400, "The body is not valid multipart/form-data")
JSON_TOO_COMPLEX = _type("json-too-complex", 400, "The JSON is too complex")
BAD_IDEMPOTENCY_KEY = _type("bad-idempotency-key", 400, "The Idempotency-Key header is not valid")
UNAUTHORIZED = _type(
    "unauthorized", 401, "An API key is required", bedrock_code="UnrecognizedClientException"
)
FORBIDDEN = _type("forbidden", 403, "The API key may not do this")
BAD_SIGNATURE = _type("bad-signature", 403, "The file URL is not valid")
NOT_FOUND = _type("not-found", 404, "Not found")
MODEL_NOT_FOUND = _type("model-not-found", 404, "No such model")
UNKNOWN_TASK = _type("unknown-task", 404, "No such task")
JOB_NOT_FOUND = _type("job-not-found", 404, "No such job")
BATCH_NOT_FOUND = _type("batch-not-found", 404, "No such batch")
FILE_NOT_FOUND = _type("file-not-found", 404, "No such file")
METHOD_NOT_ALLOWED = _type("method-not-allowed", 405, "Method not allowed")
NOT_ACCEPTABLE = _type("not-acceptable", 406, "Not acceptable")
BODY_TIMEOUT = _type(
    "body-timeout", 408, "The request body came too slowly", bedrock_code="RequestTimeout"
)
HEADER_TIMEOUT = _type(
    "header-timeout", 408, "The request headers came too slowly", bedrock_code="RequestTimeout"
)
MODEL_RETIRED = _type(
    "model-retired",
    410,
    "The model is retired",
    openai_code="model_not_found",
    bedrock_code="ResourceNotFoundException",
    from_bedrock=True,
)
JOB_INPUT_GONE = _type("job-input-gone", 410, "The job's body is no longer stored")
PAYLOAD_TOO_LARGE = _type("payload-too-large", 413, "The request body is too large")
BATCH_TOO_LARGE = _type("batch-too-large", 413, "The batch has too many lines")
UNSUPPORTED_MEDIA_TYPE = _type("unsupported-media-type", 415, "Unsupported media type")
VALIDATION_ERROR = _type(
    "validation-error", 422, "The request is not valid", openai_code="invalid_value"
)
INVALID_BATCH = _type("invalid-batch", 422, "The batch has lines that are not valid")
IDEMPOTENCY_KEY_REUSED = _type(
    "idempotency-key-reused", 422, "The Idempotency-Key was used for another request"
)
CONTENT_FILTERED = _type(
    "content-filtered",
    422,
    "Every image was blocked by content filters",
    openai_code="content_policy_violation",
    bedrock_code="ValidationException",
    from_bedrock=True,
)
HEADERS_TOO_LARGE = _type(
    "headers-too-large",
    431,
    "The request headers are too large",
    bedrock_code="RequestHeaderSectionTooLarge",
)
CLIENT_CLOSED_REQUEST = _type(
    "client-closed-request",
    499,
    "The client closed the request",
    bedrock_code="ClientClosedRequest",
)
BUDGET_EXCEEDED = _type(
    "budget-exceeded",
    402,
    "The API key's budget is spent",
    bedrock_code="ServiceQuotaExceededException",
    retryable=False,
)
QUOTA_EXCEEDED = _type("quota-exceeded", 429, "The API key's quota is spent")
OVERLOADED = _type("overloaded", 429, "The model is overloaded", bedrock_code="ThrottlingException")
GATEWAY_BUSY = _type(
    "gateway-busy", 503, "The gateway is busy", bedrock_code="ServiceUnavailableException"
)
QUEUE_TIMEOUT = _type(
    "queue-timeout",
    503,
    "No capacity for the model in time",
    bedrock_code="ServiceUnavailableException",
)
CIRCUIT_OPEN = _type(
    "circuit-open", 503, "The model is failing", bedrock_code="ServiceUnavailableException"
)
DEADLINE_EXCEEDED = _type(
    "deadline-exceeded", 504, "The request ran out of time", bedrock_code="ModelTimeoutException"
)
NOT_READY = _type("not-ready", 503, "The gateway cannot serve requests")
JOBS_UNAVAILABLE = _type("jobs-unavailable", 503, "Jobs are not configured")
ADMISSION_UNAVAILABLE = _type(
    "admission-unavailable",
    503,
    "The shared call budget cannot be read",
    bedrock_code="ServiceUnavailableException",
)
QUOTA_UNAVAILABLE = _type("quota-unavailable", 503, "Quotas cannot be checked")
SPEND_UNAVAILABLE = _type("spend-unavailable", 503, "Budgets cannot be checked")
IDEMPOTENCY_UNAVAILABLE = _type(
    "idempotency-unavailable", 503, "Idempotency keys cannot be checked"
)
INTERNAL_ERROR = _type("internal-error", 500, "Internal error")
HTTP_ERROR = _type("http-error", 500, "HTTP error")
NO_IMAGES = _type(
    "no-images", 502, "No image was produced", bedrock_code="ModelErrorException", from_bedrock=True
)
UPSTREAM_VALIDATION = _type(
    "upstream-validation", 400, "Bedrock refused the request", from_bedrock=True
)
UPSTREAM_QUOTA = _type("upstream-quota", 429, "The Bedrock quota is exhausted", from_bedrock=True)
UPSTREAM_THROTTLED = _type("upstream-throttled", 429, "Bedrock is throttling", from_bedrock=True)
UPSTREAM_ACCESS_DENIED = _type(
    "upstream-access-denied",
    502,
    "The gateway may not call this model",
    bedrock_code="AccessDeniedException",
    from_bedrock=True,
    retryable=False,
)
UPSTREAM_MODEL_UNAVAILABLE = _type(
    "upstream-model-unavailable",
    502,
    "Bedrock does not serve this model",
    from_bedrock=True,
    retryable=False,
)
UPSTREAM_MODEL_ERROR = _type("upstream-model-error", 502, "The model failed", from_bedrock=True)
UPSTREAM_CONNECTION = _type(
    "upstream-connection",
    502,
    "The connection to Bedrock broke",
    bedrock_code="ServiceUnavailableException",
    from_bedrock=True,
)
UPSTREAM_ERROR = _type("upstream-error", 502, "Bedrock failed", from_bedrock=True)
UPSTREAM_MODEL_NOT_READY = _type(
    "upstream-model-not-ready", 503, "The model is not ready yet", from_bedrock=True
)
UPSTREAM_UNAVAILABLE = _type(
    "upstream-unavailable",
    503,
    "Bedrock is unavailable",
    bedrock_code="ServiceUnavailableException",
    from_bedrock=True,
)
UPSTREAM_TIMEOUT = _type(
    "upstream-timeout",
    504,
    "The model did not answer in time",
    bedrock_code="ModelTimeoutException",
    from_bedrock=True,
)


def invalid(
    errors: list[FieldProblem],
    detail: str | None = None,
    status: int = 422,
    *,
    count: int | None = None,
) -> ProblemError:
    """A validation problem listing the bad fields: the first MAX_LISTED_ERRORS, and
    `error_count` when there are more. `count` is the total when `errors` is already a part."""
    count = max(count or 0, len(errors))
    extra = {"error_count": count} if count > MAX_LISTED_ERRORS else {}
    detail = detail or f"{count} field{'s are' if count != 1 else ' is'} not valid"
    if status == 422:
        return VALIDATION_ERROR.error(detail, errors=errors[:MAX_LISTED_ERRORS], extra=extra)
    # An image of a type the model does not take: the 415 names the field.
    return UNSUPPORTED_MEDIA_TYPE.error(
        detail, title="Unsupported image type", errors=errors[:MAX_LISTED_ERRORS], extra=extra
    )
