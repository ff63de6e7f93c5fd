"""Where the records of idempotency keys are: in this process, or in Redis for every replica.

A record is a JSON string under an id. `claim` writes one only where there is none (the first
request of a key wins it); `swap` replaces or removes one only if it is still the value the
caller read, so a run whose lease ran out cannot overwrite the run that took its place.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Protocol

from redis.asyncio import Redis

PREFIX = "gateway:idempotency:"

# KEYS: the record. ARGV: expected value, new value ('' removes it), TTL in ms.
_SWAP = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1])
else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
return 1
"""


class RecordIndex(Protocol):
    """Records by id, with a time to live."""

    async def claim(self, record_id: str, value: str, ttl_s: float) -> str | None:
        """Store `value` if `record_id` has no record; else the record it has."""
        ...

    async def get(self, record_id: str) -> str | None:
        """The record, or None."""
        ...

    async def swap(self, record_id: str, expected: str, value: str | None, ttl_s: float) -> bool:
        """Replace (None: remove) the record if it is still `expected`; whether it was."""
        ...


class MemoryIndex:
    """Records in a dict, expired by `clock` as they are read."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._records: dict[str, tuple[str, float]] = {}
        # Records nobody reads again are dropped when the dict has doubled since the last prune.
        self._prune_at = 1024

    def _live(self, record_id: str) -> str | None:
        held = self._records.get(record_id)
        if held is None:
            return None
        if held[1] <= self.clock():
            del self._records[record_id]
            return None
        return held[0]

    async def claim(self, record_id: str, value: str, ttl_s: float) -> str | None:
        """Store `value` if `record_id` has no record; else the record it has."""
        existing = self._live(record_id)
        if existing is None:
            self._records[record_id] = (value, self.clock() + ttl_s)
            if len(self._records) >= self._prune_at:
                self._prune()
        return existing

    async def get(self, record_id: str) -> str | None:
        """The record, or None."""
        return self._live(record_id)

    def _prune(self) -> None:
        now = self.clock()
        self._records = {k: held for k, held in self._records.items() if held[1] > now}
        self._prune_at = max(1024, 2 * len(self._records))

    async def swap(self, record_id: str, expected: str, value: str | None, ttl_s: float) -> bool:
        """Replace (None: remove) the record if it is still `expected`; whether it was."""
        if self._live(record_id) != expected:
            return False
        if value is None:
            del self._records[record_id]
        else:
            self._records[record_id] = (value, self.clock() + ttl_s)
        return True


class RedisIndex:
    """Records as Redis strings under PREFIX, expired by Redis."""

    def __init__(self, client: Redis, prefix: str = PREFIX) -> None:
        self._redis = client
        self._prefix = prefix
        self._swap = client.register_script(_SWAP)

    async def claim(self, record_id: str, value: str, ttl_s: float) -> str | None:
        """Store `value` if `record_id` has no record; else the record it has."""
        name = self._prefix + record_id
        while True:
            if await self._redis.set(name, value, px=_ms(ttl_s), nx=True):
                return None
            existing = await self._redis.get(name)
            if existing is not None:
                return _text(existing)
            # Expired between the two commands: try again.

    async def get(self, record_id: str) -> str | None:
        """The record, or None."""
        value = await self._redis.get(self._prefix + record_id)
        return None if value is None else _text(value)

    async def swap(self, record_id: str, expected: str, value: str | None, ttl_s: float) -> bool:
        """Replace (None: remove) the record if it is still `expected`; whether it was."""
        done = await self._swap(
            keys=[self._prefix + record_id], args=[expected, value or "", _ms(ttl_s)]
        )
        return bool(done)


def _ms(seconds: float) -> int:
    return max(1, math.ceil(seconds * 1000))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
