"""The worker: arq runs `run_job` for each queued job id, in `python -m app.worker` processes (and
in the gateway's own process in the embedded mode).

A job whose worker dies stays in arq's queue; once its in-progress mark expires (the job timeout
plus 10 s) another worker takes it. The images are stored under names fixed by the job id, and the
record changes once from running to ended, so a job run twice has its result written once.
Throttling and a busy gateway (429, 503) put the job back with a growing delay instead of failing
it: a batch slows down under throttling, it does not fail.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from arq import Retry
from arq.connections import ArqRedis
from arq.worker import Worker, func

from ..auth.keys import ANONYMOUS, ApiKey
from ..bedrock import blobs
from ..imaging.outputs import OUTPUT_MIME
from ..problems import ProblemError
from ..problems.types import FORBIDDEN, JOB_INPUT_GONE
from ..schemas.images import FinishReason
from ..schemas.requests import Task
from ..settings import Settings
from ..store import ResultStore
from ..tasks.runner import TaskResult, TaskRunner
from . import webhooks
from .batch_worker import CancelWatch, run_line
from .batches import LINE_FUNCTION
from .records import Status
from .service import DELIVER, FUNCTION, QUEUE, Jobs, input_name, redis_settings
from .stats import count_webhook

log = logging.getLogger("app.jobs")
_EXTENSIONS = {mime: fmt for fmt, mime in OUTPUT_MIME.items()}
# Statuses that mean "not now" rather than "never": throttling, quota, a busy or unready gateway.
_RETRYABLE = frozenset({429, 503})


@dataclass
class JobRunner:
    """Runs one job by id: the parts a worker needs."""

    jobs: Jobs
    runner: TaskRunner
    keys: Mapping[str, ApiKey]
    settings: Settings

    def __post_init__(self) -> None:
        # Cancellations of batches, heard once per worker.
        self.watch = CancelWatch(self.jobs.redis)

    async def run(self, job_id: str, attempt: int) -> None:
        """Run the job unless it has ended (cancelled, or finished by another worker)."""
        records = self.jobs.records

        def started(record: dict[str, Any]) -> dict[str, Any]:
            return {
                **record,
                "status": Status.RUNNING.value,
                "started_at": record["started_at"] or int(time.time()),
                "attempts": attempt,
            }

        record = await records.change(job_id, started)
        if record is None or record["status"] != Status.RUNNING.value:
            return
        log.info("job %s: attempt %d of %s", job_id, attempt, record["task"], extra=_id(job_id))
        body = await self.jobs.store.get(input_name(job_id))
        if body is None:
            await self._fail(job_id, _lost(job_id))
            return
        key = self.keys.get(record["owner"], ANONYMOUS if not self.keys else None)
        if key is None:
            await self._fail(job_id, _key_gone(record["owner"]))
            return
        try:
            result = await self.runner.run(Task(record["task"]), orjson.loads(body), key=key)
        except ProblemError as problem:
            if problem.status in _RETRYABLE and attempt < self.settings.jobs_max_tries:
                delay = random.uniform(0, min(60.0, self.settings.retry_base_s * 2**attempt))
                log.info(
                    "job %s: %s; again in %.1f s", job_id, problem.slug, delay, extra=_id(job_id)
                )
                raise Retry(defer=delay) from problem
            await self._fail(job_id, problem, task=record["task"])
            return
        images = await store_images(self.jobs.store, job_id, result)

        def succeeded(record: dict[str, Any]) -> dict[str, Any]:
            return {
                **record,
                "status": Status.SUCCEEDED.value,
                "model": result.model_id,
                "images": images,
                "finished_at": int(time.time()),
            }

        await self.queue_webhook(await records.change(job_id, succeeded))
        await self.jobs.store.delete(input_name(job_id))
        log.info("job %s: succeeded, %d images", job_id, len(result.produced), extra=_id(job_id))

    async def queue_webhook(self, record: dict[str, Any] | None) -> None:
        """Queue the webhook of a job or batch that has just ended, when it has one (once: the
        delivery's arq id is the job's or batch's)."""
        if record is None or not record.get("webhook_url"):
            return
        await self.jobs.redis.enqueue_job(
            DELIVER, record["id"], _job_id=f"webhook:{record['id']}", _queue_name=QUEUE
        )

    async def deliver(self, job_id: str, attempt: int) -> None:
        """One attempt at the webhook of `job_id` (a job's or a batch's); a failed one is tried
        again later."""
        batch = job_id.startswith("batch_")
        if batch:
            record = await self.jobs.batches.get(job_id)
        else:
            record = await self.jobs.records.get(job_id)
        if record is None or not record.get("webhook_url"):
            return
        url: str = record["webhook_url"]
        secret = self.settings.webhook_secret
        redis = self.jobs.redis
        allowed = webhooks.allow_list(self.settings.webhook_allow)
        timeout_s = self.settings.webhook_timeout_s
        refused = await webhooks.unsafe(url, allowed, timeout_s)
        if refused is not None or secret is None:
            await count_webhook(redis, "refused")
            log.info("job %s: webhook refused: %s", job_id, refused, extra=_id(job_id))
            return
        if batch:
            payload = await self.jobs.batches.payload(record)
        else:
            payload = await self._payload(record)
        webhook_id = f"{job_id}.{record['status']}"
        why = await webhooks.post(url, secret, webhook_id, payload, timeout_s)
        if why is None:
            await count_webhook(redis, "delivered")
            log.info("job %s: webhook delivered", job_id, extra=_id(job_id))
            return
        if attempt >= webhooks.MAX_ATTEMPTS:
            await count_webhook(redis, "gave_up")
            log.info("job %s: webhook given up: %s", job_id, why, extra=_id(job_id))
            return
        await count_webhook(redis, "failed")
        delay = webhooks.retry_delay(attempt, self.settings.webhook_retry_base_s)
        log.info("job %s: webhook %s; again in %.0f s", job_id, why, delay, extra=_id(job_id))
        raise Retry(defer=delay)

    async def _payload(self, record: dict[str, Any]) -> dict[str, Any]:
        """The job's status as the webhook's body: Standard Webhooks' type, timestamp, data."""
        base = record.get("base_url") or ""
        images = [
            {
                "url": await self.jobs.store.url(image["file"], base) if image["file"] else None,
                "seed": image["seed"],
                "finish_reason": image["finish_reason"],
                "mime_type": image["mime_type"],
                "error": image["error"],
            }
            for image in record["images"]
        ]
        fields = ("id", "task", "status", "model", "created_at", "started_at", "finished_at")
        data = {name: record[name] for name in fields}
        data.update(images=images, error=record["error"])
        return {
            "type": f"job.{record['status']}",
            "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
            "data": data,
        }

    async def _fail(self, job_id: str, problem: ProblemError, task: str | None = None) -> None:
        error = problem.body(f"/v1/images/{task}" if task else None, job_id)

        def failed(record: dict[str, Any]) -> dict[str, Any]:
            return {
                **record,
                "status": Status.FAILED.value,
                "error": error,
                "finished_at": int(time.time()),
            }

        await self.queue_webhook(await self.jobs.records.change(job_id, failed))
        await self.jobs.store.delete(input_name(job_id))
        log.info("job %s: failed, %s", job_id, problem.slug, extra=_id(job_id))


async def store_images(store: ResultStore, prefix: str, result: TaskResult) -> list[dict[str, Any]]:
    """Put the images of `result` in the store, under names fixed by `prefix` (`<prefix>-<n>`:
    a run made twice writes the same names), and describe each for the record."""
    images = []
    for index, image in enumerate(result.images):
        stored = None
        if image.b64 is not None and image.finish_reason is FinishReason.SUCCESS:
            mime = image.mime_type or "image/png"
            stored = f"{prefix}-{index}.{_EXTENSIONS.get(mime, 'png')}"
            data = await asyncio.to_thread(blobs.decoded, image.b64)
            await store.put(stored, data)
        images.append(
            {
                "file": stored,
                "seed": image.seed,
                "finish_reason": image.finish_reason.value,
                "mime_type": image.mime_type,
                "error": image.error,
            }
        )
    return images


def _id(job_id: str) -> dict[str, str]:
    """A log record's extra: the JSON log line carries the job's id as its own field."""
    return {"job_id": job_id}


def _lost(job_id: str) -> ProblemError:
    return JOB_INPUT_GONE.error(
        detail=f"the body of {job_id} was removed from the result store before it ran",
    )


def _key_gone(name: str) -> ProblemError:
    return FORBIDDEN.error(
        detail=f"the API key '{name}' that made this job is no longer configured",
    )


async def _run_job(ctx: dict[str, Any], job_id: str) -> None:
    runner: JobRunner = ctx["gateway"]
    await runner.run(job_id, int(ctx["job_try"]))


async def _deliver(ctx: dict[str, Any], job_id: str) -> None:
    runner: JobRunner = ctx["gateway"]
    await runner.deliver(job_id, int(ctx["job_try"]))


async def _run_line(ctx: dict[str, Any], batch_id: str, index: int) -> None:
    runner: JobRunner = ctx["gateway"]
    await run_line(runner, runner.watch, batch_id, index, int(ctx["job_try"]))


async def _sweep(ctx: dict[str, Any]) -> None:
    runner: JobRunner = ctx["gateway"]
    gone = await runner.jobs.store.sweep(runner.settings.results_retention_s)
    if gone:
        log.info("results: %d past retention deleted", gone)


@asynccontextmanager
async def in_process_worker(
    jobs: Jobs | None, runner: TaskRunner, keys: Iterable[ApiKey], settings: Settings
) -> AsyncIterator[None]:
    """A worker in this process for as long as the block runs, when `jobs_worker_in_process`
    (the embedded mode `python -m app` starts); nothing otherwise."""
    if jobs is None or not settings.jobs_worker_in_process:
        yield
        return
    by_name = {key.name: key for key in keys}
    # On the gateway's own pool: a worker stopped while it still opens its pool (a gateway
    # stopped as soon as started) would leave that connection behind.
    worker = make_worker(
        JobRunner(jobs, runner, by_name, settings), handle_signals=False, redis_pool=jobs.redis
    )
    task = asyncio.create_task(worker.async_run())
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
        await close_worker(worker)


async def close_worker(worker: Worker) -> None:
    """Stop `worker`'s jobs (arq puts them back in the queue) and close its connections.

    arq's own close() gathers the job tasks it has just cancelled, and so raises CancelledError
    before it closes its pool: they are awaited, and forgotten, here first.
    """
    running = list(worker.tasks.values())
    for job in running:
        job.cancel()
    await asyncio.gather(*running, return_exceptions=True)
    worker.tasks.clear()
    runner: JobRunner = worker.ctx["gateway"]
    await runner.watch.stop()
    await worker.close()


def make_worker(
    runner: JobRunner, *, handle_signals: bool, redis_pool: ArqRedis | None = None
) -> Worker:
    """An arq worker running `runner`'s jobs, and the retention sweep every minute; on
    `redis_pool` when given (else it opens its own as it starts)."""
    from arq.cron import cron

    settings = runner.settings
    assert settings.jobs_redis_url is not None
    return Worker(
        functions=[
            func(_run_job, name=FUNCTION),
            func(_deliver, name=DELIVER, max_tries=webhooks.MAX_ATTEMPTS),
            func(_run_line, name=LINE_FUNCTION),
        ],
        cron_jobs=[cron(_sweep, name="sweep-results", second=0, run_at_startup=True)],
        queue_name=QUEUE,
        redis_settings=redis_settings(settings.jobs_redis_url),
        redis_pool=redis_pool,
        ctx={"gateway": runner},
        max_jobs=settings.jobs_per_worker,
        job_timeout=settings.jobs_timeout_s,
        max_tries=settings.jobs_max_tries,
        keep_result=0,
        allow_abort_jobs=True,
        handle_signals=handle_signals,
        # A worker takes new jobs when it polls: between polls its free slots stay idle.
        poll_delay=0.05,
    )
