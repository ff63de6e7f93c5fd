"""POST /v1/jobs/{task}, GET and DELETE /v1/jobs/{id}, GET /v1/files/{name}.

A job is the synchronous task's body at its own path (`/v1/jobs/text-to-image` for
`/v1/images/text-to-image`) rather than `Prefer: respond-async` on the task's path: each is its own
operation in the spec, with its 202 answer documented and a method of its own in generated clients,
and a proxy that drops the Prefer header cannot turn a job into a long synchronous call.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from ...auth.keys import current_key
from ...http.body import read_fields
from ...http.services import BoundsDep, MaybeJobsDep, RunnerDep
from ...http.spec import (
    IMAGE_RESPONSES,
    KEY_MISSING,
    MULTIPART_TASKS,
    problem_answer,
    request_body,
)
from ...imaging.outputs import OUTPUT_MIME
from ...jobs.records import Status
from ...jobs.service import Jobs
from ...problems import Problem, ProblemError
from ...problems.types import (
    BAD_SIGNATURE,
    FILE_NOT_FOUND,
    JOB_NOT_FOUND,
    JOBS_UNAVAILABLE,
    UNKNOWN_TASK,
    VALIDATION_ERROR,
)
from ...schemas.images import FinishReason
from ...schemas.requests import REQUEST_MODELS, Task
from ...store.local import valid_name
from ...wording import did_you_mean

router = APIRouter(tags=["jobs"])
# A job's images, and a batch's result file.
_MIME = {**{f".{fmt}": mime for fmt, mime in OUTPUT_MIME.items()}, ".jsonl": "application/jsonl"}


class JobImage(BaseModel):
    """One image of a job, fetched by its URL."""

    url: str | None = Field(description="Where to fetch the image (signed, it expires); null "
                            "when it was not produced.")  # fmt: skip
    seed: int | None = Field(examples=[42])
    finish_reason: FinishReason = Field(examples=["success"])
    mime_type: str | None = Field(default=None, examples=["image/png"])
    error: str | None = Field(default=None, description="Why the image was not produced.")


class JobOut(BaseModel):
    """A job: where it is, what served it, and its images or its error."""

    id: str = Field(examples=["job_5d1f0c3b9a7e4f2d8c6b1a0e9f8d7c6b"])
    object: str = Field(default="job", examples=["job"])
    task: str = Field(examples=["text-to-image"])
    status: Status
    progress: float = Field(ge=0, le=1, description="The share of the job done, 0 to 1.")
    model: str = Field(description="The model that serves (or served) the job.")
    created_at: int = Field(description="Unix time the job was accepted.")
    started_at: int | None = Field(description="Unix time a worker first started it.")
    finished_at: int | None = Field(description="Unix time it ended.")
    attempts: int = Field(description="Runs so far: more than one after a worker died or "
                          "Bedrock throttled it.")  # fmt: skip
    images: list[JobImage]
    error: Problem | None = Field(description="When it failed: the problem the synchronous call "
                                  "would have answered.")  # fmt: skip
    status_url: str


async def get_jobs(jobs: MaybeJobsDep) -> Jobs:
    """The jobs service, or 503 when the gateway has no queue configured."""
    if jobs is None:
        raise JOBS_UNAVAILABLE.error(
            detail="this gateway has no job queue: set GATEWAY_JOBS_REDIS_URL (docs/jobs.md)",
        )
    return jobs


JobsDep = Annotated[Jobs, Depends(get_jobs)]
JobId = Annotated[str, Path(max_length=64, description="The job's id.")]
_UNAVAILABLE = problem_answer(
    JOBS_UNAVAILABLE,
    "The gateway has no job queue (`jobs-unavailable`).",
    detail="this gateway has no job queue: set GATEWAY_JOBS_REDIS_URL (docs/jobs.md)",
    instance="/v1/jobs/job_5d1f0c3b9a7e4f2d8c6b1a0e9f8d7c6b",
)
_BAD_QUERY = problem_answer(
    VALIDATION_ERROR,
    "A path or query parameter is not valid (`errors` names it).",
    name="job-bad-parameter",
    detail="1 field is not valid",
    instance="/v1/jobs/job_5d1f0c3b9a7e4f2d8c6b1a0e9f8d7c6b",
    errors=[{"field": "wait", "message": "Input should be less than or equal to 60"}],
)
_JOB_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: KEY_MISSING,
    404: problem_answer(
        JOB_NOT_FOUND,
        "No job of this API key has that id (`job-not-found`): never made, made with another "
        "key, or past retention.",
        detail="no job 'job_5d1f0c3b9a7e4f2d8c6b1a0e9f8d7c6b' was made with this API key (or "
        "it is past retention)",
        instance="/v1/jobs/job_5d1f0c3b9a7e4f2d8c6b1a0e9f8d7c6b",
    ),
    422: _BAD_QUERY,
    503: _UNAVAILABLE,
}
_FILE = "/v1/files/job_5d1f0c3b9a7e4f2d8c6b1a0e9f8d7c6b-0.png"
_FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The image.",
        "content": {m: {"schema": {"type": "string", "format": "binary"}} for m in _MIME.values()},
    },
    403: problem_answer(
        BAD_SIGNATURE,
        "The URL's signature is missing, altered or expired (`bad-signature`).",
        detail="the URL has expired: fetch the job's status again for a fresh one",
        instance=_FILE,
    ),
    404: problem_answer(
        FILE_NOT_FOUND,
        "No such file: it is past retention (`file-not-found`).",
        detail="no file 'job_5d1f0c3b9a7e4f2d8c6b1a0e9f8d7c6b-0.png': it is past retention",
        instance=_FILE,
    ),
    422: _BAD_QUERY,
    503: _UNAVAILABLE,
}


# What a submission answers: the synchronous call's refusals (the same validation), or 202. Not
# budget-exceeded: a job spends as it runs, and fails with that problem then.
SUBMIT_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {
        "description": "The job, queued.",
        "headers": {"Location": {"description": "Its status URL.", "schema": {"type": "string"}}},
    },
    **{status: answer for status, answer in IMAGE_RESPONSES.items() if status not in (200, 402)},
}


async def _out(record: dict[str, Any], request: Request, jobs: Jobs) -> JobOut:
    base = str(request.base_url).rstrip("/")
    images = [
        JobImage(
            url=await jobs.store.url(image["file"], base) if image["file"] else None,
            seed=image["seed"],
            finish_reason=image["finish_reason"],
            mime_type=image["mime_type"],
            error=image["error"],
        )
        for image in record["images"]
    ]
    status = Status(record["status"])
    return JobOut(
        id=record["id"],
        task=record["task"],
        status=status,
        progress=1.0 if status in (Status.SUCCEEDED, Status.FAILED) else 0.0,
        model=record["model"],
        created_at=record["created_at"],
        started_at=record["started_at"],
        finished_at=record["finished_at"],
        attempts=record["attempts"],
        images=images,
        error=record["error"],
        status_url=f"{base}/v1/jobs/{record['id']}",
    )


def _answer(job: JobOut, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = job.model_dump_json().encode()
    return Response(body, status_code=status, headers=headers, media_type="application/json")


def _not_found(job_id: str) -> ProblemError:
    return JOB_NOT_FOUND.error(
        detail=f"no job {job_id[:64]!r} was made with this API key (or it is past retention)",
    )


_WEBHOOK = (
    "Where to POST the job's status when it has succeeded or failed, signed per Standard "
    "Webhooks (webhook-id, webhook-timestamp, webhook-signature). An address that is loopback, "
    "link-local, private or reserved after DNS resolution is refused (422) unless the operator "
    "allows it."
)


def _submit(task: Task) -> Callable[..., Awaitable[Response]]:
    multipart = task in MULTIPART_TASKS

    async def submit(
        request: Request,
        runner: RunnerDep,
        jobs: JobsDep,
        bounds: BoundsDep,
        webhook_url: Annotated[str | None, Query(max_length=2048, description=_WEBHOOK)] = None,
    ) -> Response:
        raw = await read_fields(request, bounds, multipart=multipart)
        key = current_key(request.scope)
        base = str(request.base_url)
        record = await jobs.submit(runner, task, raw, key, base_url=base, webhook_url=webhook_url)
        job = await _out(record, request, jobs)
        return _answer(job, 202, {"Location": job.status_url})

    return submit


for _task in Task:
    _name = "".join(part.title() for part in _task.value.split("-"))
    router.add_api_route(
        f"/v1/jobs/{_task.value}",
        _submit(_task),
        methods=["POST"],
        operation_id=f"submit{_name}Job",
        summary=f"Queue a {_task.value} job",
        description=f"The body of `POST /v1/images/{_task.value}`, validated the same way (a bad "
        "one gets the same 4xx now, never a failed job later), run by a worker. Answered 202 "
        "with the job; `Location` is its status URL.",
        openapi_extra=request_body(
            _task, REQUEST_MODELS[_task], multipart=_task in MULTIPART_TASKS
        ),
        status_code=202,
        response_model=JobOut,
        responses=SUBMIT_RESPONSES,
    )


@router.post("/v1/jobs/{task}", include_in_schema=False)
async def unknown_task(task: Annotated[str, Path(max_length=200)]) -> Response:
    """A job for a task the gateway does not have: 404 naming the ones it has."""
    names = [t.value for t in Task]
    hint = did_you_mean(task, names)
    raise UNKNOWN_TASK.error(
        detail=f"there is no task {task[:64]!r}; {hint + ' ' if hint else ''}"
        f"tasks: {', '.join(names)}",
    )


@router.get(
    "/v1/jobs/{job_id}", operation_id="getJob", response_model=JobOut, responses=_JOB_RESPONSES
)
async def get_job(
    job_id: JobId,
    request: Request,
    jobs: JobsDep,
    wait: Annotated[
        float,
        Query(ge=0, le=60, description="Seconds to wait for the job to end before answering."),
    ] = 0,
) -> Response:
    """A job of this API key: its status, model, timestamps, and its image URLs or its error.
    With `wait`, the answer comes when the job ends (or `wait` seconds pass): no polling loop."""
    key = current_key(request.scope)
    if wait and await jobs.get(job_id, key) is not None:
        await jobs.records.wait_ended(job_id, wait)
    record = await jobs.get(job_id, key)
    if record is None:
        raise _not_found(job_id)
    return _answer(await _out(record, request, jobs))


@router.delete(
    "/v1/jobs/{job_id}", operation_id="cancelJob", response_model=JobOut, responses=_JOB_RESPONSES
)
async def cancel_job(job_id: JobId, request: Request, jobs: JobsDep) -> Response:
    """Cancel a job that has not ended: a queued one never runs, a running one is stopped.
    An ended job is answered as it is."""
    record = await jobs.cancel(job_id, current_key(request.scope))
    if record is None:
        raise _not_found(job_id)
    return _answer(await _out(record, request, jobs))


@router.get(
    "/v1/files/{name}",
    operation_id="getFile",
    response_class=Response,
    responses=_FILE_RESPONSES,
)
async def get_file(
    name: Annotated[str, Path(max_length=200)],
    jobs: JobsDep,
    expires: Annotated[str | None, Query(max_length=20)] = None,
    signature: Annotated[str | None, Query(max_length=128)] = None,
) -> Response:
    """A job's image, by the signed URL its status gives; no API key needed (the signature is
    the permission, as with a presigned S3 URL)."""
    why = jobs.urls.verify(name, expires, signature)
    if why is not None:
        raise BAD_SIGNATURE.error(detail=why)
    data = await jobs.store.get(name) if valid_name(name) else None
    if data is None:
        raise FILE_NOT_FOUND.error(
            detail=f"no file {name[:64]!r}: it is past retention",
        )
    mime = next((m for ext, m in _MIME.items() if name.endswith(ext)), "application/octet-stream")
    return Response(data, media_type=mime, headers={"Cache-Control": "private, max-age=3600"})
