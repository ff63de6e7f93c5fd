"""Batches: many requests submitted at once, each line run as its own arq job, one result file.

A batch's accepted lines are stored in the result store as they arrive (`<batch id>-<n>.input.json`,
never all in memory), and queued only once every line is known valid (`Draft`). Its record is JSON
under `gateway:batch:<id>`; each line's outcome goes once into the hash `gateway:batch:<id>:results`
(HSETNX, in a Lua script that also counts it in `gateway:batch:<id>:counts`), so a line run twice
(its worker died) or cancelled while it ran is reported once. Whoever records the last line writes
the result file (`<batch id>-results.jsonl`) and ends the batch.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import orjson
from arq.connections import ArqRedis
from arq.constants import job_key_prefix
from arq.jobs import serialize_job
from arq.utils import timestamp_ms
from redis.asyncio.client import Pipeline

from ..store import ResultStore
from . import redis_records

PREFIX = "gateway:batch:"
LINE_FUNCTION = "run_batch_line"
# Published with a batch's id when it is cancelled: workers stop its lines' calls.
CANCELLED_CHANNEL = "gateway:batch-cancelled"
_ENDED_CHANNEL = "gateway:batch-ended:"
# Lines stored at once while a batch is read, and queued at once after.
_PARALLEL = 16
_ENQUEUE_CHUNK = 500

# KEYS: results, counts. ARGV: line index, result line, status.
# The lines ended so far, or -1 when the line already had its outcome.
_RECORD = """
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return -1 end
redis.call('HINCRBY', KEYS[2], ARGV[3], 1)
return redis.call('HINCRBY', KEYS[2], 'ended', 1)
"""


class BatchStatus(StrEnum):
    """Where a batch is."""

    IN_PROGRESS = "in_progress"
    CANCELLING = "cancelling"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class LineStatus(StrEnum):
    """How one line ended."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


BATCH_ENDED = frozenset({BatchStatus.COMPLETED, BatchStatus.CANCELLED})


def new_batch_id() -> str:
    """A batch id: unguessable."""
    return f"batch_{secrets.token_hex(16)}"


def line_input(batch_id: str, index: int) -> str:
    """The store name of a batch line's request."""
    return f"{batch_id}-{index}.input.json"


def result_file(batch_id: str) -> str:
    """The store name of a batch's result file."""
    return f"{batch_id}-results.jsonl"


def line_job_id(batch_id: str, index: int) -> str:
    """The arq id of a line's job (one per line: queued once)."""
    return f"{batch_id}:{index}"


class Draft:
    """A batch being read: its lines stored as they come, a few at a time, and their custom_ids
    in Redis (`gateway:batch:<id>:ids`, for the report of lines cancelled before they ran);
    nothing queued."""

    def __init__(self, store: ResultStore, redis: ArqRedis, batch_id: str) -> None:
        self.store = store
        self.redis = redis
        self.id = batch_id
        self.count = 0
        self._pending: set[asyncio.Task[None]] = set()
        self._ids: dict[int, str] = {}

    async def add(self, line: dict[str, Any]) -> None:
        """Store one accepted line (at most _PARALLEL writes in flight)."""
        name = line_input(self.id, self.count)
        self._ids[self.count] = line["custom_id"]
        self.count += 1
        if len(self._ids) >= _ENQUEUE_CHUNK:
            await self._save_ids()
        if len(self._pending) >= _PARALLEL:
            done, self._pending = await asyncio.wait(
                self._pending, return_when=asyncio.FIRST_COMPLETED
            )
            for task in done:
                task.result()
        self._pending.add(asyncio.create_task(self.store.put(name, orjson.dumps(line))))

    async def _save_ids(self) -> None:
        ids, self._ids = self._ids, {}
        if ids:
            await self.redis.hset(f"{PREFIX}{self.id}:ids", mapping=ids)  # type: ignore[misc]

    async def flush(self) -> None:
        """Wait for every write."""
        await self._save_ids()
        if self._pending:
            pending, self._pending = self._pending, set()
            for task in pending:
                await task

    async def discard(self) -> None:
        """Remove every line stored (the batch is refused, or its request failed)."""
        pending, self._pending = self._pending, set()
        await asyncio.gather(*pending, return_exceptions=True)
        self._ids.clear()
        await self.redis.delete(f"{PREFIX}{self.id}:ids")
        for index in range(self.count):
            await self.store.delete(line_input(self.id, index))


class Batches:
    """Batch records, line outcomes and result files, in the queue's Redis and the store."""

    def __init__(self, redis: ArqRedis, store: ResultStore, queue: str, retention_s: int) -> None:
        self.redis = redis
        self.store = store
        self.queue = queue
        self.retention_s = retention_s
        self._record = redis.register_script(_RECORD)

    async def create(
        self, draft: Draft, owner: str, *, base_url: str, webhook_url: str | None
    ) -> dict[str, Any]:
        """Record the batch of `draft` (every line stored) and queue its lines."""
        await draft.flush()
        record = {
            "id": draft.id,
            "owner": owner,
            "status": BatchStatus.IN_PROGRESS.value,
            "total": draft.count,
            "created_at": int(time.time()),
            "finished_at": None,
            "webhook_url": webhook_url,
            "base_url": base_url,
            "result_file": None,
        }
        await self.redis.set(PREFIX + draft.id, orjson.dumps(record), nx=True)
        await self._enqueue(draft)
        return record

    async def _enqueue(self, draft: Draft) -> None:
        """Queue one arq job per line, as `ArqRedis.enqueue_job` writes them (the job, then its
        id in the queue), pipelined: the ids are fresh, so the check enqueue_job makes first
        (that no job has the id already) can go, and with it three round trips a line."""
        now = timestamp_ms()
        serializer = self.redis.job_serializer
        for start in range(0, draft.count, _ENQUEUE_CHUNK):
            async with self.redis.pipeline(transaction=False) as pipe:
                for index in range(start, min(draft.count, start + _ENQUEUE_CHUNK)):
                    job_id = line_job_id(draft.id, index)
                    job = serialize_job(
                        LINE_FUNCTION, (draft.id, index), {}, None, now, serializer=serializer
                    )
                    pipe.psetex(job_key_prefix + job_id, self.redis.expires_extra_ms, job)
                    pipe.zadd(self.queue, {job_id: now})
                await pipe.execute()

    async def get(self, batch_id: str) -> dict[str, Any] | None:
        """The batch's record, None when there is none."""
        raw = await self.redis.get(PREFIX + batch_id)
        if raw is None:
            return None
        record: dict[str, Any] = orjson.loads(raw)
        return record

    async def counts(self, batch_id: str) -> dict[str, int]:
        """Its lines by how they ended."""
        raw = await self.redis.hgetall(f"{PREFIX}{batch_id}:counts")  # type: ignore[misc]
        return {k.decode(): int(v) for k, v in raw.items()}

    async def line_state(self, batch_id: str, index: int) -> tuple[dict[str, Any] | None, bool]:
        """The batch's record, and whether line `index` already has its outcome (one round
        trip)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.get(PREFIX + batch_id)
            pipe.hexists(f"{PREFIX}{batch_id}:results", str(index))
            raw, recorded = await pipe.execute()
        return (None if raw is None else orjson.loads(raw)), bool(recorded)

    async def record_line(
        self, batch_id: str, index: int, outcome: dict[str, Any], total: int
    ) -> dict[str, Any] | None:
        """Record line `index`'s outcome unless it has one; the batch's ended record when this
        was the last of its `total` lines (the caller then queues its webhook), else None."""
        ended = await self._record(
            keys=[f"{PREFIX}{batch_id}:results", f"{PREFIX}{batch_id}:counts"],
            args=[index, orjson.dumps(outcome), outcome["status"]],
        )
        if int(ended) != total:
            return None
        record = await self.get(batch_id)
        return None if record is None else await self.finish(record)

    async def cancel(self, record: dict[str, Any]) -> dict[str, Any]:
        """Stop the batch: its lines not yet ended end as cancelled now (workers stop the calls
        of those running); the record as it is after."""
        batch_id = record["id"]
        changed = await self._change(
            batch_id,
            lambda r: (
                {**r, "status": BatchStatus.CANCELLING.value}
                if r["status"] == BatchStatus.IN_PROGRESS.value
                else None
            ),
        )
        if changed is None or changed["status"] != BatchStatus.CANCELLING.value:
            return changed or record
        await self.redis.publish(CANCELLED_CHANNEL, batch_id)
        results = f"{PREFIX}{batch_id}:results"
        done = {int(i) for i in await self.redis.hkeys(results)}  # type: ignore[misc]
        left = [index for index in range(record["total"]) if index not in done]
        last = False
        for start in range(0, len(left), _ENQUEUE_CHUNK):
            async with self.redis.pipeline(transaction=False) as pipe:
                for index in left[start : start + _ENQUEUE_CHUNK]:
                    outcome = {"custom_id": None, "status": LineStatus.CANCELLED.value}
                    await self._record(
                        keys=[results, f"{PREFIX}{batch_id}:counts"],
                        args=[index, orjson.dumps(outcome), LineStatus.CANCELLED.value],
                        client=pipe,
                    )
                ended = await pipe.execute()
            last = last or record["total"] in [int(n) for n in ended]
        if last:
            fresh = await self.get(batch_id)
            if fresh is not None:
                return await self.finish(fresh)
        return await self.get(batch_id) or changed

    async def finish(self, record: dict[str, Any]) -> dict[str, Any]:
        """Write the result file and end the batch (completed, or cancelled when cancelling)."""
        batch_id = record["id"]
        lines = await self._result_lines(record)
        name = result_file(batch_id)
        await self.store.put(name, lines)
        status = (
            BatchStatus.CANCELLED
            if record["status"] == BatchStatus.CANCELLING.value
            else BatchStatus.COMPLETED
        )

        def ended(r: dict[str, Any]) -> dict[str, Any]:
            return {
                **r,
                "status": status.value,
                "finished_at": int(time.time()),
                "result_file": name,
            }

        changed = await self._change(batch_id, ended)
        async with self.redis.pipeline(transaction=False) as pipe:
            for suffix in ("", ":results", ":counts", ":ids"):
                pipe.expire(PREFIX + batch_id + suffix, self.retention_s)
            pipe.publish(_ENDED_CHANNEL + batch_id, status.value)
            await pipe.execute()
        return changed or record

    async def _result_lines(self, record: dict[str, Any]) -> bytes:
        """The result file: one JSON line per request, image URLs signed for the retention."""
        base = record.get("base_url") or ""
        ids = f"{PREFIX}{record['id']}:ids"
        out = bytearray()
        async for index, raw in self.redis.hscan_iter(f"{PREFIX}{record['id']}:results"):
            outcome = orjson.loads(raw)
            custom_id = outcome.get("custom_id")
            if custom_id is None:
                # Cancelled before it ran: its custom_id as the batch was read.
                custom_id = (await self.redis.hget(ids, index) or b"").decode()  # type: ignore[misc]
            images = [
                {
                    "url": await self.store.url(i["file"], base, self.retention_s)
                    if i["file"]
                    else None,
                    "seed": i["seed"],
                    "finish_reason": i["finish_reason"],
                    "mime_type": i["mime_type"],
                    "error": i["error"],
                }
                for i in outcome.get("images", [])
            ]
            line = {
                "custom_id": custom_id,
                "status": outcome["status"],
                "model": outcome.get("model"),
                "images": images,
                "error": outcome.get("error"),
            }
            out += orjson.dumps(line) + b"\n"
        return bytes(out)

    async def payload(self, record: dict[str, Any]) -> dict[str, Any]:
        """The batch's status as a webhook's body: Standard Webhooks' type, timestamp, data."""
        data = await self.describe(record, record.get("base_url") or "")
        return {
            "type": f"batch.{record['status']}",
            "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
            "data": data,
        }

    async def describe(self, record: dict[str, Any], base_url: str) -> dict[str, Any]:
        """The batch as callers read it: status, counts by status, and its result file's URL."""
        counts = await self.counts(record["id"])
        ended = counts.get("ended", 0)
        name = record.get("result_file")
        return {
            "id": record["id"],
            "object": "batch",
            "status": record["status"],
            "created_at": record["created_at"],
            "finished_at": record["finished_at"],
            "counts": {
                "total": record["total"],
                "pending": record["total"] - ended,
                **{status.value: counts.get(status.value, 0) for status in LineStatus},
            },
            "result_url": await self.store.url(name, base_url) if name else None,
            "status_url": f"{base_url.rstrip('/')}/v1/batches/{record['id']}",
        }

    async def wait_ended(self, batch_id: str, timeout_s: float) -> None:
        """Return once the batch has ended, or after `timeout_s`."""

        async def has_ended() -> bool:
            record = await self.get(batch_id)
            return record is None or BatchStatus(record["status"]) in BATCH_ENDED

        await redis_records.wait_for_end(
            self.redis, _ENDED_CHANNEL + batch_id, has_ended, timeout_s
        )

    async def _change(
        self, batch_id: str, update: Callable[[dict[str, Any]], dict[str, Any] | None]
    ) -> dict[str, Any] | None:
        """Apply `update` to a record that has not ended, atomically (WATCH/MULTI)."""
        key = PREFIX + batch_id

        def write(pipe: Pipeline, record: dict[str, Any], changed: dict[str, Any]) -> None:
            pipe.set(key, orjson.dumps(changed))

        return await redis_records.change(
            self.redis,
            key,
            update,
            ended=lambda record: BatchStatus(record["status"]) in BATCH_ENDED,
            write=write,
        )
