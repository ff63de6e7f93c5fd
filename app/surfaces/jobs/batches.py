"""POST /v1/batches, GET and DELETE /v1/batches/{id}: many requests in one JSONL upload."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from ...auth.keys import current_key
from ...http.services import RunnerDep
from ...http.spec import KEY_MISSING, problem_answer
from ...jobs import webhooks
from ...jobs.batches import BatchStatus
from ...jobs.service import Jobs
from ...problems import ProblemError
from ...problems.types import (
    BATCH_NOT_FOUND,
    BATCH_TOO_LARGE,
    INVALID_BATCH,
    JOBS_UNAVAILABLE,
    UNSUPPORTED_MEDIA_TYPE,
    VALIDATION_ERROR,
)
from .batch_input import MAX_LISTED, MEDIA_TYPES, BatchReader
from .routes import JobsDep

router = APIRouter(tags=["batches"])
_BATCH = "batch_3c9e1f0a7b5d4e2f8a6c0b9d1e7f5a3c"
_EXAMPLE_LINES = (
    '{"custom_id": "kite-1", "task": "text-to-image", "body": {"prompt": "a red kite", '
    '"width": 1024, "height": 1024}}\n'
    '{"custom_id": "kite-2", "url": "/v1/images/text-to-image", "body": {"prompt": "a blue '
    'kite", "width": 1024, "height": 1024}}\n'
)


class BatchCounts(BaseModel):
    """A batch's requests by where they are."""

    total: int = Field(examples=[2])
    pending: int = Field(description="Not ended yet: queued, running or waiting to be tried again "
                         "after throttling.", examples=[0])  # fmt: skip
    succeeded: int = Field(examples=[2])
    failed: int = Field(examples=[0])
    cancelled: int = Field(examples=[0])


class BatchOut(BaseModel):
    """A batch: where it is, its requests by status, and (once ended) its result file."""

    id: str = Field(examples=[_BATCH])
    object: str = Field(default="batch", examples=["batch"])
    status: BatchStatus
    created_at: int = Field(description="Unix time the batch was accepted.")
    finished_at: int | None = Field(description="Unix time its last request ended.")
    counts: BatchCounts
    result_url: str | None = Field(description="Once the batch has ended: its result file (JSON "
                                   "Lines, one line per request, any order: custom_id, status, "
                                   "model, images with their URLs, or error), signed; it "
                                   "expires.")  # fmt: skip
    status_url: str


BatchId = Annotated[str, Path(max_length=64, description="The batch's id.")]
_UNAVAILABLE = problem_answer(
    JOBS_UNAVAILABLE,
    "The gateway has no job queue (`jobs-unavailable`).",
    name="batch-jobs-unavailable",
    detail="this gateway has no job queue: set GATEWAY_JOBS_REDIS_URL (docs/jobs.md)",
    instance="/v1/batches",
)
_NOT_FOUND = problem_answer(
    BATCH_NOT_FOUND,
    "No batch of this API key has that id (`batch-not-found`): never made, made with another "
    "key, or past retention.",
    detail=f"no batch '{_BATCH}' was made with this API key (or it is past retention)",
    instance=f"/v1/batches/{_BATCH}",
)
_BAD_QUERY = problem_answer(
    VALIDATION_ERROR,
    "A path or query parameter is not valid (`errors` names it).",
    name="batch-bad-parameter",
    detail="1 field is not valid",
    instance=f"/v1/batches/{_BATCH}",
    errors=[{"field": "wait", "message": "Input should be less than or equal to 60"}],
)
_SUBMIT_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {
        "description": "The batch, accepted: every line was valid and is queued.",
        "headers": {"Location": {"description": "Its status URL.", "schema": {"type": "string"}}},
    },
    401: KEY_MISSING,
    413: problem_answer(
        BATCH_TOO_LARGE,
        "More lines than a batch holds (`batch-too-large`), or a body over the size cap.",
        detail="a batch holds at most 50,000 requests; line 50001 is one more: split the file",
        instance="/v1/batches",
    ),
    415: problem_answer(
        UNSUPPORTED_MEDIA_TYPE,
        "The body is not JSON Lines (`unsupported-media-type`).",
        name="batch-media-type",
        detail=f"the body is application/json; a batch is JSON Lines: {', '.join(MEDIA_TYPES)}",
        instance="/v1/batches",
    ),
    422: problem_answer(
        INVALID_BATCH,
        "Lines that are not valid (`invalid-batch`: each listed in `lines` by number and "
        f"custom_id, with the problem its request would get; at most {MAX_LISTED}, all counted "
        "in `bad_line_count`), refused whole; or a `webhook_url` the gateway will not call.",
        detail="1 of 2 lines are not valid: the batch is refused whole and nothing was queued; "
        "fix them and send it again",
        instance="/v1/batches",
        bad_line_count=1,
        lines=[
            {
                "line": 2,
                "custom_id": "kite-2",
                "type": "/problems/validation-error",
                "title": "The request is not valid",
                "status": 422,
                "detail": "1 field is not valid",
                "errors": [{"field": "width", "message": "must be a multiple of 64"}],
            }
        ],
    ),
    503: _UNAVAILABLE,
}
_BATCH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: KEY_MISSING,
    404: _NOT_FOUND,
    422: _BAD_QUERY,
    503: _UNAVAILABLE,
}
_WEBHOOK = (
    "Where to POST the batch's status when it has ended (completed or cancelled), signed per "
    "Standard Webhooks, as a job's is. A private, loopback or link-local address is refused "
    "(422) unless the operator allows it."
)


async def _answer(
    jobs: Jobs, record: dict[str, Any], request: Request, status: int = 200
) -> Response:
    base = str(request.base_url).rstrip("/")
    batch = BatchOut.model_validate(await jobs.batches.describe(record, base))
    headers = {"Location": batch.status_url} if status == 202 else None
    return Response(
        batch.model_dump_json().encode(),
        status_code=status,
        headers=headers,
        media_type="application/json",
    )


def _not_found(batch_id: str) -> ProblemError:
    return BATCH_NOT_FOUND.error(
        f"no batch {batch_id[:64]!r} was made with this API key (or it is past retention)"
    )


async def _mine(jobs: Jobs, batch_id: str, request: Request) -> dict[str, Any]:
    record = await jobs.batches.get(batch_id) if batch_id.startswith("batch_") else None
    if record is None or record["owner"] != current_key(request.scope).name:
        raise _not_found(batch_id)
    return record


@router.post(
    "/v1/batches",
    operation_id="submitBatch",
    status_code=202,
    response_model=BatchOut,
    responses=_SUBMIT_RESPONSES,
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "JSON Lines: one request a line, `{custom_id, task (or url: "
            "/v1/images/<task>), body}`, as OpenAI's Batch API input; at most "
            "GATEWAY_BATCH_MAX_LINES lines (50,000) and GATEWAY_MAX_BODY_BYTES.",
            # application/x-ndjson and application/jsonlines are taken too, undocumented: one
            # media type keeps generated clients to one method.
            "content": {
                "application/jsonl": {
                    "schema": {"type": "string", "format": "binary"},
                    "example": _EXAMPLE_LINES,
                }
            },
        }
    },
)
async def submit_batch(
    request: Request,
    runner: RunnerDep,
    jobs: JobsDep,
    webhook_url: Annotated[str | None, Query(max_length=2048, description=_WEBHOOK)] = None,
) -> Response:
    """Queue many requests at once. Every line is validated as its synchronous request is,
    before anything is queued: a batch with a bad line is refused whole, its bad lines listed.
    Each line then runs as a job, at the per-model concurrency the operator set."""
    key = current_key(request.scope)
    if webhook_url is not None:
        if jobs.webhook_secret is None:
            raise webhooks.unavailable()
        await webhooks.check_url(webhook_url, jobs.webhook_allow)
    max_lines = runner.validator.settings.batch_max_lines
    draft = await BatchReader(runner, jobs, key, max_lines).read(request)
    base = str(request.base_url)
    record = await jobs.batches.create(draft, key.name, base_url=base, webhook_url=webhook_url)
    return await _answer(jobs, record, request, 202)


@router.get(
    "/v1/batches/{batch_id}",
    operation_id="getBatch",
    response_model=BatchOut,
    responses=_BATCH_RESPONSES,
)
async def get_batch(
    batch_id: BatchId,
    request: Request,
    jobs: JobsDep,
    wait: Annotated[
        float,
        Query(ge=0, le=60, description="Seconds to wait for the batch to end before answering."),
    ] = 0,
) -> Response:
    """A batch of this API key: its status, its requests counted by status, and once it has
    ended the signed URL of its result file."""
    await _mine(jobs, batch_id, request)
    if wait:
        await jobs.batches.wait_ended(batch_id, wait)
    return await _answer(jobs, await _mine(jobs, batch_id, request), request)


@router.delete(
    "/v1/batches/{batch_id}",
    operation_id="cancelBatch",
    response_model=BatchOut,
    responses=_BATCH_RESPONSES,
)
async def cancel_batch(batch_id: BatchId, request: Request, jobs: JobsDep) -> Response:
    """Cancel a batch: no new call is made for it, its running calls are stopped, and every
    request not yet ended ends cancelled (listed in the result file). An ended batch is answered
    as it is."""
    record = await _mine(jobs, batch_id, request)
    return await _answer(jobs, await jobs.batches.cancel(record), request)
