"""Spend counted in Redis, so every replica spends from one budget.

One Lua script checks every window of a key and charges all of them or none (Redis runs a
script alone), so two replicas cannot both take the last dollars; another moves them to the real
cost and records the usage in the same step. Windows: `<prefix>budget:<key>:day:<YYYY-MM-DD>`
(kept three days), `...:month:<YYYY-MM>` (kept 70 days), `...:total` (kept). Usage: one hash per
UTC day, `<prefix>usage:<YYYY-MM-DD>`, fields the JSON [key, model, task, counter], kept
USAGE_TTL_S.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from .ledger import WINDOWS, Reserved, UsageRow, Windows

PREFIX = "gateway:spend:"
DAY_TTL_S = 3 * 86_400
MONTH_TTL_S = 70 * 86_400
USAGE_TTL_S = 400 * 86_400
_COUNTERS = ("micros", "images", "requests")

# KEYS: day, month, total. ARGV: amount, then a limit per window (-1: none), day TTL, month TTL.
# Returns {admitted, index of the window that refused (0: none), spent per window}.
_RESERVE = """
local amount = tonumber(ARGV[1])
local spent = {}
for i = 1, 3 do spent[i] = tonumber(redis.call('GET', KEYS[i]) or '0') end
for i = 1, 3 do
  local limit = tonumber(ARGV[i + 1])
  if limit >= 0 and spent[i] + amount > limit then
    return {0, i, spent[1], spent[2], spent[3]}
  end
end
for i = 1, 3 do spent[i] = redis.call('INCRBY', KEYS[i], amount) end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[5]))
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[6]))
return {1, 0, spent[1], spent[2], spent[3]}
"""

# KEYS: day, month, total, usage hash. ARGV: delta, usage TTL, then (field, increment) pairs.
_SETTLE = """
local delta = tonumber(ARGV[1])
if delta ~= 0 then
  for i = 1, 3 do redis.call('INCRBY', KEYS[i], delta) end
end
for i = 3, #ARGV, 2 do
  redis.call('HINCRBY', KEYS[4], ARGV[i], ARGV[i + 1])
end
if #ARGV > 2 then redis.call('EXPIRE', KEYS[4], tonumber(ARGV[2])) end
return 1
"""


class RedisLedger:
    """Spend shared through one Redis (`redis_url`)."""

    def __init__(self, client: Redis, prefix: str = PREFIX) -> None:
        self._redis = client
        self._prefix = prefix
        self._reserve = client.register_script(_RESERVE)
        self._settle = client.register_script(_SETTLE)

    @classmethod
    def from_url(cls, url: str, timeout_s: float = 1.0) -> RedisLedger:
        """A ledger on the Redis at `url`; every command waits at most `timeout_s`, unretried
        (as the quotas': a frozen Redis is a prompt 503, not a held request)."""
        client = Redis.from_url(
            url,
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
            retry=Retry(NoBackoff(), 0),
        )
        return cls(client)

    def _windows(self, key: str, windows: Windows) -> list[str]:
        return [f"{self._prefix}budget:{key}:{window}" for window in windows.ids()]

    async def reserve(
        self, key: str, windows: Windows, amount: int, limits: tuple[int | None, ...]
    ) -> Reserved:
        """Charge `amount` to every window of `key` if none would pass its limit."""
        args: list[Any] = [amount, *(-1 if x is None else x for x in limits)]
        args += [DAY_TTL_S, MONTH_TTL_S]
        admitted, index, *spent = await self._reserve(keys=self._windows(key, windows), args=args)
        refused = WINDOWS[int(index) - 1] if int(index) else None
        day, month, total = (int(x) for x in spent)
        return Reserved(bool(admitted), refused, (day, month, total))

    async def settle(self, key: str, windows: Windows, delta: int, row: UsageRow | None) -> None:
        """Move every window of `key` by `delta`; add `row` to the usage records."""
        keys = [*self._windows(key, windows), f"{self._prefix}usage:{windows.day}"]
        args: list[Any] = [delta, USAGE_TTL_S]
        if row is not None:
            for counter, value in zip(
                _COUNTERS, (row.micros, row.images, row.requests), strict=True
            ):
                args += [orjson.dumps([row.key, row.model, row.task, counter]), value]
        await self._settle(keys=keys, args=args)

    async def usage(self, days: Iterable[str], key: str | None) -> list[UsageRow]:
        """The usage rows of `days` (of `key` only, or of every key)."""
        listed = list(days)
        async with self._redis.pipeline(transaction=False) as pipe:
            for day in listed:
                pipe.hgetall(f"{self._prefix}usage:{day}")
            hashes: list[dict[bytes, bytes]] = await pipe.execute()
        rows = []
        for day, fields in zip(listed, hashes, strict=True):
            grouped: dict[tuple[str, str, str], dict[str, int]] = {}
            for field, value in fields.items():
                name, model, task, counter = orjson.loads(field)
                if key is None or name == key:
                    grouped.setdefault((name, model, task), {})[counter] = int(value)
            for (name, model, task), counts in grouped.items():
                rows.append(
                    UsageRow(day, name, model, task, *(counts.get(c, 0) for c in _COUNTERS))
                )
        return rows

    async def close(self) -> None:
        """Close the connection pool."""
        await self._redis.aclose()
