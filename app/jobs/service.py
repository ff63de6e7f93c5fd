"""Submitting, reading and cancelling jobs: what the routes of /v1/jobs call.

A job is validated by the runner exactly as the synchronous request would be before anything is
queued; its body goes to the result store (not Redis: it may hold 25 MB of images), its record to
Redis, and its id to arq's queue, under the job's own id so it is queued once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from typing import Any

import orjson
import pybase64
from arq.connections import ArqRedis, RedisSettings, create_pool
from arq.jobs import Job
from redis.exceptions import RedisError

from ..auth.keys import ApiKey
from ..schemas.requests import Task
from ..settings import Settings
from ..store import LocalStore, ResultStore, SignedUrls
from ..store.links import ResultLinks
from ..store.s3 import open_s3_store
from ..tasks.runner import TaskRunner
from . import webhooks
from .batches import Batches
from .records import JobRecords, Status, new_id, new_record
from .stats import JobsCollector, snapshot

QUEUE = "gateway:jobs"
FUNCTION = "run_job"
DELIVER = "deliver_webhook"


def input_name(job_id: str) -> str:
    """The store name of a job's body."""
    return f"{job_id}.input.json"


def portable(raw: dict[str, Any]) -> dict[str, Any]:
    """`raw` as JSON can carry it: file parts of a multipart body (bytes) become base64 text,
    which the task schemas take in place of a file, as in a JSON body."""

    def value(item: Any) -> Any:
        if isinstance(item, bytes | bytearray | memoryview):
            return pybase64.b64encode(bytes(item)).decode()
        if isinstance(item, list):
            return [value(v) for v in item]
        return item

    return {name: value(item) for name, item in raw.items()}


class Jobs:
    """The job queue as the gateway sees it."""

    def __init__(
        self, settings: Settings, redis: ArqRedis, store: ResultStore, urls: SignedUrls
    ) -> None:
        self.redis = redis
        self.records = JobRecords(redis, settings.results_retention_s)
        self.store = store
        # /v1/files verifies with it (the local store's URLs).
        self.urls = urls
        self.timeout_s = settings.redis_timeout_s
        self.collector = JobsCollector()
        self.webhook_secret = settings.webhook_secret
        self.webhook_allow = webhooks.allow_list(settings.webhook_allow)
        self.batches = Batches(redis, store, QUEUE, settings.results_retention_s)

    async def submit(
        self,
        runner: TaskRunner,
        task: Task,
        raw: dict[str, Any],
        key: ApiKey,
        *,
        base_url: str,
        webhook_url: str | None = None,
    ) -> dict[str, Any]:
        """Validate `raw` (and the webhook URL) as the synchronous call would (raising its
        ProblemError), then queue it; the new job's record. `base_url` is where the gateway is
        read, for the URLs a webhook carries."""
        entry, named = await runner.check(task, raw, key=key)
        if webhook_url is not None:
            if self.webhook_secret is None:
                raise webhooks.unavailable()
            await webhooks.check_url(webhook_url, self.webhook_allow)
        job_id = new_id()
        # The model is settled here: a worker configured with another default must run the job
        # the gateway accepted, not its own idea of it.
        settled = raw if raw.get("model") is not None else {**raw, "model": named.id}
        await self.store.put(input_name(job_id), orjson.dumps(portable(settled)))
        record = new_record(job_id, key.name, task.value, entry.id)
        record.update(webhook_url=webhook_url, base_url=base_url)
        await self.records.create(record)
        await self.redis.enqueue_job(FUNCTION, job_id, _job_id=job_id, _queue_name=QUEUE)
        return record

    def links(self, base_url: str) -> ResultLinks:
        """Signed links into this store, for answers read at `base_url`."""
        return ResultLinks(self.store, base_url)

    async def refresh_metrics(self) -> None:
        """Read the shared job counts and the queue's depth for the scrape about to be made."""
        self.collector.last = await snapshot(self.redis, QUEUE)

    async def unready(self) -> str | None:
        """Why jobs cannot be served (Redis or the store), or None when they can (/readyz)."""
        try:
            async with asyncio.timeout(self.timeout_s):
                await self.redis.ping()
        except (OSError, RedisError, TimeoutError) as exc:
            return f"the job queue's Redis does not answer: {exc or 'timed out'}"
        return await self.store.check()

    async def get(self, job_id: str, key: ApiKey) -> dict[str, Any] | None:
        """The job's record if `key` made it; None otherwise (another key's job is not there)."""
        record = await self.records.get(job_id)
        if record is None or record["owner"] != key.name:
            return None
        return record

    async def cancel(self, job_id: str, key: ApiKey) -> dict[str, Any] | None:
        """Cancel a job that has not ended (a running one is stopped where it is); its record."""
        if await self.get(job_id, key) is None:
            return None

        def cancelled(record: dict[str, Any]) -> dict[str, Any]:
            return {**record, "status": Status.CANCELLED.value, "finished_at": int(time.time())}

        record = await self.records.change(job_id, cancelled)
        if record is not None and record["status"] == Status.CANCELLED.value:
            # arq's abort: a queued job is never started, a running one's task is cancelled.
            job = Job(job_id, self.redis, _queue_name=QUEUE)
            # The worker acts on it when it next polls; the record already says so.
            with suppress(TimeoutError):
                await job.abort(timeout=0, poll_delay=0.05)
            await self.store.delete(input_name(job_id))
        return record


def redis_settings(url: str) -> RedisSettings:
    """arq's connection settings for a redis:// URL."""
    return RedisSettings.from_dsn(url)


@asynccontextmanager
async def open_jobs(settings: Settings) -> AsyncIterator[Jobs | None]:
    """The jobs service when a queue is configured (`jobs_redis_url`), None otherwise; results
    in the S3 bucket when one is configured, else in the local directory."""
    if settings.jobs_redis_url is None:
        yield None
        return
    urls = SignedUrls(settings.results_secret, settings.results_url_ttl_s)
    redis = await create_pool(redis_settings(settings.jobs_redis_url), default_queue_name=QUEUE)
    try:
        async with AsyncExitStack() as stack:
            store: ResultStore = LocalStore(settings.results_dir, urls)
            if settings.results_s3_bucket is not None:
                store = await stack.enter_async_context(
                    open_s3_store(
                        settings.results_s3_bucket,
                        settings.results_s3_prefix,
                        settings.results_s3_endpoint_url,
                        settings.region,
                        settings.results_url_ttl_s,
                    )
                )
            yield Jobs(settings, redis, store, urls)
    finally:
        await redis.aclose(close_connection_pool=True)
