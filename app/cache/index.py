"""Where the cache's entries are listed: in this process, or in Redis for every replica.

An entry is a small JSON record (its stored object's name, size and time); the bytes are in the
result store. The index keeps the total size and evicts the least recently used entries past
the bound, returning their ids so their objects can be deleted.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Protocol

from redis.asyncio import Redis

PREFIX = "gateway:cache:"

# KEYS: the entry, the LRU set, the sizes hash, the total. ARGV: id, record, size, now, max
# bytes, TTL in ms, the entries' key prefix. Returns the ids evicted.
_PUT = """
local old = redis.call('HGET', KEYS[3], ARGV[1])
if old then redis.call('DECRBY', KEYS[4], old) end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[6])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[3])
local total = redis.call('INCRBY', KEYS[4], ARGV[3])
local evicted = {}
while total > tonumber(ARGV[5]) do
  local oldest = redis.call('ZPOPMIN', KEYS[2])
  if #oldest == 0 then break end
  local id = oldest[1]
  local size = tonumber(redis.call('HGET', KEYS[3], id) or '0')
  redis.call('HDEL', KEYS[3], id)
  redis.call('DEL', ARGV[7] .. id)
  total = redis.call('DECRBY', KEYS[4], size)
  table.insert(evicted, id)
end
return evicted
"""

# KEYS: the entry, the LRU set, the sizes hash, the total. ARGV: id.
_DROP = """
local size = redis.call('HGET', KEYS[3], ARGV[1])
if size then redis.call('DECRBY', KEYS[4], size) end
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('DEL', KEYS[1])
return 1
"""


class EntryIndex(Protocol):
    """Cache entries by id, bounded in total size."""

    async def get(self, entry_id: str, now: float) -> str | None:
        """The entry's record (marked used at `now`), or None."""
        ...

    async def put(
        self, entry_id: str, record: str, size: int, now: float, max_bytes: int, ttl_s: float
    ) -> list[str]:
        """List the entry; the ids evicted to keep the total within `max_bytes`."""
        ...

    async def drop(self, entry_id: str) -> None:
        """Forget the entry."""
        ...


class MemoryEntries:
    """Entries in an ordered dict, least recently used first (expiry is the caller's check)."""

    def __init__(self) -> None:
        self._entries: OrderedDict[str, tuple[str, int]] = OrderedDict()
        self.total = 0

    async def get(self, entry_id: str, now: float) -> str | None:
        """The entry's record (marked used), or None."""
        held = self._entries.get(entry_id)
        if held is None:
            return None
        self._entries.move_to_end(entry_id)
        return held[0]

    async def put(
        self, entry_id: str, record: str, size: int, now: float, max_bytes: int, ttl_s: float
    ) -> list[str]:
        """List the entry; the ids evicted to keep the total within `max_bytes`."""
        await self.drop(entry_id)
        self._entries[entry_id] = (record, size)
        self.total += size
        evicted = []
        while self.total > max_bytes and self._entries:
            oldest, (_, freed) = self._entries.popitem(last=False)
            self.total -= freed
            evicted.append(oldest)
        return evicted

    async def drop(self, entry_id: str) -> None:
        """Forget the entry."""
        held = self._entries.pop(entry_id, None)
        if held is not None:
            self.total -= held[1]


class RedisEntries:
    """Entries in Redis: a string per entry (expired by Redis too), an LRU sorted set, a hash of
    sizes and their total, changed together by scripts."""

    def __init__(self, client: Redis, prefix: str = PREFIX) -> None:
        self._redis = client
        self._prefix = prefix
        self._put = client.register_script(_PUT)
        self._drop = client.register_script(_DROP)

    def _keys(self, entry_id: str) -> list[str]:
        p = self._prefix
        return [f"{p}e:{entry_id}", f"{p}lru", f"{p}sizes", f"{p}bytes"]

    async def get(self, entry_id: str, now: float) -> str | None:
        """The entry's record (marked used at `now`), or None."""
        entry, lru, _, _ = self._keys(entry_id)
        record = await self._redis.get(entry)
        if record is None:
            return None
        await self._redis.zadd(lru, {entry_id: now}, xx=True)
        return record.decode() if isinstance(record, bytes) else str(record)

    async def put(
        self, entry_id: str, record: str, size: int, now: float, max_bytes: int, ttl_s: float
    ) -> list[str]:
        """List the entry; the ids evicted to keep the total within `max_bytes`."""
        evicted = await self._put(
            keys=self._keys(entry_id),
            args=[entry_id, record, size, now, max_bytes, int(ttl_s * 1000), f"{self._prefix}e:"],
        )
        return [i.decode() if isinstance(i, bytes) else str(i) for i in evicted]

    async def drop(self, entry_id: str) -> None:
        """Forget the entry."""
        await self._drop(keys=self._keys(entry_id), args=[entry_id])
