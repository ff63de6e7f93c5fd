"""A job's record in Redis: who owns it, its status and timestamps, the model, its results.

Records are JSON under `gateway:job:<id>`. Every change goes through `change`, a WATCH/MULTI
transaction, and a record that has ended (succeeded, failed, cancelled) never changes again: a
second worker finishing a job the first one already finished writes nothing, so a job's result is
written once. An ended record expires after the retention period, with its stored images.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from enum import StrEnum
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from . import redis_records
from .stats import count_status, observe_latency

_PREFIX = "gateway:job:"
# Published to when a job ends, for callers waiting on it (GET /v1/jobs/{id}?wait=).
_ENDED_CHANNEL = "gateway:job-ended:"


class Status(StrEnum):
    """Where a job is."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


ENDED = frozenset({Status.SUCCEEDED, Status.FAILED, Status.CANCELLED})


def new_id() -> str:
    """A job id: unguessable, so an id says nothing about other jobs."""
    return f"job_{secrets.token_hex(16)}"


def new_record(job_id: str, owner: str, task: str, model: str) -> dict[str, Any]:
    """The record of a job just accepted."""
    return {
        "id": job_id,
        "owner": owner,
        "task": task,
        "status": Status.QUEUED.value,
        "model": model,
        "created_at": int(time.time()),
        "started_at": None,
        "finished_at": None,
        "attempts": 0,
        "images": [],
        "error": None,
    }


class JobRecords:
    """Job records in one Redis."""

    def __init__(self, redis: Redis, retention_s: int) -> None:
        self.redis = redis
        self.retention_s = retention_s

    async def create(self, record: dict[str, Any]) -> None:
        """Store a new record (its id is fresh, so nothing is overwritten)."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(_PREFIX + record["id"], orjson.dumps(record), nx=True)
            count_status(pipe, record["status"])
            await pipe.execute()

    async def get(self, job_id: str) -> dict[str, Any] | None:
        """The record, None when there is none (never made, or past retention)."""
        raw = await self.redis.get(_PREFIX + job_id)
        if raw is None:
            return None
        record: dict[str, Any] = orjson.loads(raw)
        return record

    async def wait_ended(self, job_id: str, timeout_s: float) -> None:
        """Return once the job has ended, or after `timeout_s`, whichever is first."""

        async def has_ended() -> bool:
            record = await self.get(job_id)
            return record is None or Status(record["status"]) in ENDED

        await redis_records.wait_for_end(self.redis, _ENDED_CHANNEL + job_id, has_ended, timeout_s)

    async def change(
        self, job_id: str, update: Callable[[dict[str, Any]], dict[str, Any] | None]
    ) -> dict[str, Any] | None:
        """Apply `update` to a record that has not ended, atomically; the record as it is after.

        `update` returns the new record, or None to leave it. An ended record is left as it is.
        """

        def write(pipe: Pipeline, record: dict[str, Any], changed: dict[str, Any]) -> None:
            ended = Status(changed["status"]) in ENDED
            expiry = self.retention_s if ended else None
            pipe.set(_PREFIX + job_id, orjson.dumps(changed), ex=expiry)
            if changed["status"] != record["status"]:
                count_status(pipe, changed["status"])
            if ended:
                pipe.publish(_ENDED_CHANNEL + job_id, changed["status"])
                observe_latency(pipe, max(0.0, time.time() - record["created_at"]))

        return await redis_records.change(
            self.redis,
            _PREFIX + job_id,
            update,
            ended=lambda record: Status(record["status"]) in ENDED,
            write=write,
        )
