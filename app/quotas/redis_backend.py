"""Quotas counted in Redis, so every replica spends from one budget.

One Lua script checks every limit and charges all of them or none, atomically (Redis runs a
script alone). Requests and images per minute are fixed windows: a counter per key and window
(`<prefix><key>:rpm:<window number>`) that expires two windows later. Concurrent requests are a
sorted set of lease ids scored by their expiry: a replica that crashes without releasing its
leases frees them when they expire, so no slot leaks for longer than the lease TTL.

Windows are numbered from the caller's clock (the replicas' clocks, kept by NTP); a skew of a
fraction of a second only moves a window's edge for that replica.
"""

from __future__ import annotations

import math
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from ..auth.keys import Limits
from .policy import Usage

PREFIX = "gateway:quota:"

# KEYS: requests counter, images counter, leases set.
# ARGV: now, window_s, rpm, ipm, images, concurrent, lease id, lease expiry, lease TTL (limits -1 =
# none). Keys expire by Redis's own clock, relative; scores and windows use the caller's.
# Returns {admitted, requests, images, leases held}, counts after the charge when admitted.
_ACQUIRE = """
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local rpm = tonumber(ARGV[3])
local ipm = tonumber(ARGV[4])
local images = tonumber(ARGV[5])
local conc = tonumber(ARGV[6])
local requests = tonumber(redis.call('GET', KEYS[1]) or '0')
local used = tonumber(redis.call('GET', KEYS[2]) or '0')
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
local held = redis.call('ZCARD', KEYS[3])
if (rpm >= 0 and requests + 1 > rpm) or (ipm >= 0 and used + images > ipm)
    or (conc >= 0 and held >= conc) then
  return {0, requests, used, held}
end
if rpm >= 0 then
  requests = redis.call('INCR', KEYS[1])
  redis.call('EXPIRE', KEYS[1], window * 2)
end
if ipm >= 0 then
  used = redis.call('INCRBY', KEYS[2], images)
  redis.call('EXPIRE', KEYS[2], window * 2)
end
if conc >= 0 then
  local expiry = tonumber(ARGV[8])
  redis.call('ZADD', KEYS[3], expiry, ARGV[7])
  held = held + 1
  redis.call('EXPIRE', KEYS[3], math.ceil(tonumber(ARGV[9])) + 1)
end
return {1, requests, used, held}
"""


class RedisBackend:
    """Quota counters shared through one Redis (`redis_url`)."""

    def __init__(self, client: Redis, prefix: str = PREFIX) -> None:
        self._redis = client
        self._prefix = prefix
        self._acquire = client.register_script(_ACQUIRE)

    @classmethod
    def from_url(cls, url: str, timeout_s: float = 1.0) -> RedisBackend:
        """A backend on the Redis at `url` (connections are made on first use); every command
        waits at most `timeout_s`, and is not retried (redis-py's default retries a timeout three
        times, with pauses): a frozen Redis is a prompt 503, not a held request."""
        client = Redis.from_url(
            url,
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
            retry=Retry(NoBackoff(), 0),
        )
        return cls(client)

    async def acquire(
        self,
        key: str,
        limits: Limits,
        images: int,
        *,
        now: float,
        window_s: int,
        lease: str,
        lease_ttl_s: float,
    ) -> Usage:
        """Charge one request of `images` images to `key` if every limit allows it."""
        window = math.floor(now / window_s)
        base = self._prefix + key
        keys = [f"{base}:rpm:{window}", f"{base}:ipm:{window}", f"{base}:leases"]
        args: list[Any] = [
            repr(now),
            window_s,
            _limit(limits.requests_per_minute),
            _limit(limits.images_per_minute),
            images,
            _limit(limits.concurrent_requests),
            lease,
            repr(now + lease_ttl_s),
            lease_ttl_s,
        ]
        admitted, requests, used, held = await self._acquire(keys=keys, args=args)
        return Usage(bool(admitted), int(requests), int(used), int(held))

    async def release(self, key: str, lease: str) -> None:
        """Give back the concurrency slot `lease` holds."""
        await self._redis.zrem(f"{self._prefix}{key}:leases", lease)

    async def close(self) -> None:
        """Close the connection pool."""
        await self._redis.aclose()


def _limit(value: int | None) -> int:
    return -1 if value is None else value
