"""Answers reused instead of made again: the stored answers of idempotency keys and the result
cache, opened for the app's lifetime, and swept of what outlived its retention.

Their indexes live where the quotas do: in Redis (`redis_url`) when quota_backend is redis, so
every replica sees the same keys and entries; in this process otherwise. Their bytes live in the
result store (a folder of `results_dir`, or a prefix in the S3 bucket): images are megabytes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from .cache.index import EntryIndex, MemoryEntries, RedisEntries
from .cache.service import ResultCache
from .idempotency.index import MemoryIndex, RecordIndex, RedisIndex
from .idempotency.service import Idempotency
from .settings import Settings
from .store.opening import open_store

log = logging.getLogger(__name__)

# A run's claim on its key outlives the longest request by this much.
LEASE_MARGIN_S = 60.0
# How often stored objects past their retention are deleted.
SWEEP_EVERY_S = 600.0


@dataclass(frozen=True)
class Reuse:
    """The idempotency store, and the result cache when it is on."""

    idempotency: Idempotency
    cache: ResultCache | None


@asynccontextmanager
async def open_reuse(settings: Settings) -> AsyncIterator[Reuse]:
    """Both, open as long as the block, swept every SWEEP_EVERY_S."""
    async with AsyncExitStack() as stack:
        records: RecordIndex = MemoryIndex()
        entries: EntryIndex = MemoryEntries()
        if settings.quota_backend == "redis":
            client = Redis.from_url(
                settings.redis_url,
                socket_timeout=settings.redis_timeout_s,
                socket_connect_timeout=settings.redis_timeout_s,
                retry=Retry(NoBackoff(), 0),
            )
            stack.push_async_callback(client.aclose)
            records, entries = RedisIndex(client), RedisEntries(client)
        idempotency = Idempotency(
            records,
            await stack.enter_async_context(open_store(settings, "idempotency")),
            ttl_s=settings.idempotency_ttl_s,
            lease_s=settings.request_deadline_s + LEASE_MARGIN_S,
            max_bytes=settings.idempotency_max_bytes,
        )
        cache = None
        if settings.cache:
            cache = ResultCache(
                entries,
                await stack.enter_async_context(open_store(settings, "cache")),
                max_bytes=settings.cache_max_bytes,
                max_age_s=settings.cache_max_age_s,
                shared=settings.cache_shared,
            )
        reuse = Reuse(idempotency, cache)
        sweeper = asyncio.create_task(_sweep(reuse))
        try:
            yield reuse
        finally:
            sweeper.cancel()
            with suppress(asyncio.CancelledError):
                await sweeper


async def _sweep(reuse: Reuse) -> None:
    while True:
        await asyncio.sleep(SWEEP_EVERY_S)
        try:
            await reuse.idempotency.sweep()
            if reuse.cache is not None:
                await reuse.cache.sweep()
        except Exception:
            log.exception("stored answers could not be swept")
