"""The result cache: entries keyed by a hash of what the Bedrock calls would be (the model, the
task, the validated fields and the input images' bytes, all in the calls' bodies), kept in the
result store, listed in an index bounded by size (least recently used evicted) and age.

The key's owner is part of the hash: a key never sees another's results unless the operator
shares the cache (GATEWAY_CACHE_SHARED). Failures of the index or the store are logged and
answered as a miss: the cache can make a request cheaper, never fail it.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import orjson
from redis.exceptions import RedisError

from ..store import ResultStore
from . import entries
from .exchange import current
from .index import EntryIndex

if TYPE_CHECKING:
    from ..tasks.runner import TaskResult

log = logging.getLogger(__name__)

# Above this many bytes of calls, the hash is computed in a thread.
_HASH_INLINE_BYTES = 1024 * 1024
_FAILURES = (OSError, RedisError, ValueError, KeyError)


class ResultCache:
    """Results in `store`, listed in `index`."""

    def __init__(
        self,
        index: EntryIndex,
        store: ResultStore,
        *,
        max_bytes: int,
        max_age_s: float,
        shared: bool,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.index = index
        self.store = store
        self.max_bytes = max_bytes
        self.max_age_s = max_age_s
        self.shared = shared
        self.clock = clock

    async def serve(
        self,
        owner: str,
        parts: list[bytes] | None,
        compute: Callable[[], Awaitable[TaskResult]],
    ) -> TaskResult:
        """The cached result of the request whose calls are `parts` (None: not reproducible),
        else `compute()`'s, stored; as the request's Cache-Control allows. The outcome goes to
        the request's Cache-Status."""
        exchange = current()
        if parts is None:
            exchange.report("fwd=bypass")
            return await compute()
        entry_id = await self._entry_id("*" if self.shared else owner, parts)
        forward = "request"
        if exchange.read:
            found, forward = await self._lookup(entry_id)
            if found is not None:
                result, ttl = found
                exchange.report(f"hit; ttl={ttl}")
                return result
        result = await compute()
        stored = exchange.write and await self._store(entry_id, result)
        exchange.report(f"fwd={forward}; stored" if stored else f"fwd={forward}")
        return result

    async def sweep(self) -> int:
        """Delete stored results older than the age bound; how many went."""
        return await self.store.sweep(self.max_age_s)

    async def _entry_id(self, owner: str, parts: list[bytes]) -> str:
        def digest() -> str:
            hashed = hashlib.sha256(owner.encode() + b"\n")
            for part in parts:
                hashed.update(len(part).to_bytes(8, "big"))
                hashed.update(part)
            return hashed.hexdigest()

        if sum(len(part) for part in parts) > _HASH_INLINE_BYTES:
            return await asyncio.to_thread(digest)
        return digest()

    async def _lookup(self, entry_id: str) -> tuple[tuple[TaskResult, int] | None, str]:
        """The entry's result and its seconds left, or None and why (RFC 9211's fwd)."""
        now = self.clock()
        try:
            record = await self.index.get(entry_id, now)
            if record is None:
                return None, "uri-miss"
            stored_at = orjson.loads(record)["stored_at"]
            if stored_at + self.max_age_s <= now:
                await self._forget([entry_id], drop=True)
                return None, "stale"
            data = await self.store.get(_name(entry_id))
            if data is None:
                await self.index.drop(entry_id)
                return None, "uri-miss"
            ttl = int(stored_at + self.max_age_s - now)
            return (entries.decode(data), ttl), "uri-miss"
        except _FAILURES:
            log.exception("the result cache could not be read")
            return None, "uri-miss"

    async def _store(self, entry_id: str, result: TaskResult) -> bool:
        if not entries.storable(result):
            return False
        data = entries.encode(result)
        if len(data) > self.max_bytes:
            return False
        try:
            await self.store.put(_name(entry_id), data)
            record = orjson.dumps({"stored_at": self.clock(), "size": len(data)}).decode()
            evicted = await self.index.put(
                entry_id, record, len(data), self.clock(), self.max_bytes, self.max_age_s
            )
            await self._forget(evicted, drop=False)
        except _FAILURES:
            log.exception("the result cache could not be written")
            return False
        return True

    async def _forget(self, entry_ids: list[str], *, drop: bool) -> None:
        for entry_id in entry_ids:
            if drop:
                await self.index.drop(entry_id)
            await self.store.delete(_name(entry_id))


def _name(entry_id: str) -> str:
    return f"entry_{entry_id}.json"
