"""What job and batch records share: a JSON record under one Redis key, changed only while it
has not ended, and waited on through the channel its end is published to."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

Record = dict[str, Any]


async def change(
    redis: Redis,
    key: str,
    update: Callable[[Record], Record | None],
    *,
    ended: Callable[[Record], bool],
    write: Callable[[Pipeline, Record, Record], None],
) -> Record | None:
    """Apply `update` to the record at `key` unless it has ended, atomically (WATCH/MULTI, run
    again if another writer got in between); the record as it is after, None when there is none.

    `update` returns the new record, or None to leave it; `write(pipe, before, after)` queues the
    writes of a change (the record itself and whatever goes with it)."""
    result: Record | None = None

    async def attempt(pipe: Pipeline) -> None:
        nonlocal result
        raw = await pipe.get(key)
        if raw is None:
            result = None
            return
        record: Record = orjson.loads(raw)
        changed = None if ended(record) else update(dict(record))
        result = record if changed is None else changed
        if changed is not None:
            pipe.multi()  # type: ignore[no-untyped-call]
            write(pipe, record, changed)

    await redis.transaction(attempt, key)
    return result


async def wait_for_end(
    redis: Redis, channel: str, has_ended: Callable[[], Awaitable[bool]], timeout_s: float
) -> None:
    """Return once a message comes on `channel` or `has_ended()` says so, or after `timeout_s`."""
    pubsub = redis.pubsub()
    try:
        # Subscribed before the record is read: an end published in between is not missed.
        await pubsub.subscribe(channel)
        if await has_ended():
            return
        async with asyncio.timeout(timeout_s):
            async for message in pubsub.listen():
                if message["type"] == "message":
                    return
    except TimeoutError:
        return
    finally:
        await pubsub.aclose()  # type: ignore[no-untyped-call]
