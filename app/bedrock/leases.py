"""The per-model concurrency cap held in Redis: one budget for every gateway and worker process.

A slot is a lease: a member of the sorted set `gateway:slots:<target>` scored by when it expires
(Redis's own clock, read in the script). Taking one is a Lua script that first drops the expired
leases, then adds one if fewer than the limit are held, atomically. A holder renews its lease
while its call runs; a holder that crashes stops renewing, and its slot comes free when the lease
expires (LEASE_TTL_MS), so no crash leaks a slot for longer than that.

A release pushes a token on `gateway:slots:<target>:free`; callers waiting for a slot block on
that list (BLPOP) and try again when a token comes, or every WAKE_S in any case (a lease that
expired sends no token). Waiting is bounded as in the in-process gate: at most `queue_limit`
callers of this process wait (more get 429 `overloaded`), none longer than its wait (then 503
`queue-timeout`).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from ..problems import ProblemError, ProblemType
from ..problems.types import ADMISSION_UNAVAILABLE, OVERLOADED, QUEUE_TIMEOUT

PREFIX = "gateway:slots:"
LEASE_TTL_MS = 30_000
# A holder renews well before its lease could expire.
_RENEW_S = LEASE_TTL_MS / 3000
# How long a waiter blocks for a token before trying again anyway.
WAKE_S = 0.2
_SMOOTHING = 0.2
_MAX_RETRY_AFTER_S = 60

# KEYS: leases, tokens. ARGV: limit, lease id, TTL ms. 1 when the lease was taken.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return 1
end
return 0
"""
# KEYS: leases. ARGV: lease id, TTL ms. Moves the lease's expiry on, if it is still held.
_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local renewed = redis.call('ZADD', KEYS[1], 'XX', 'CH', now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return renewed
"""
# KEYS: leases, tokens. ARGV: lease id, limit, TTL ms. Frees the slot and wakes one waiter.
_RELEASE = """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('LPUSH', KEYS[2], '1')
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[2]) - 1)
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return 1
"""


class RedisGate:
    """The shared slots of one model target, as ModelGate's interface (slot, retry_after,
    describe); `in_flight` and `waiting` count this process's callers."""

    def __init__(self, redis: Redis, target: str, limit: int, queue_limit: int) -> None:
        self.redis = redis
        self.target = target
        self.limit = limit
        self.queue_limit = queue_limit
        self.in_flight = 0
        self.waiting = 0
        self.max_waiting = 0
        self._leases = PREFIX + target
        self._tokens = PREFIX + target + ":free"
        self._mean_hold_s = 1.0
        self._take = redis.register_script(_ACQUIRE)
        self._extend = redis.register_script(_RENEW)
        self._give_back = redis.register_script(_RELEASE)

    @asynccontextmanager
    async def slot(self, wait_s: float) -> AsyncIterator[None]:
        """Hold one shared slot for the body of the `async with`, waiting at most `wait_s`."""
        lease = secrets.token_hex(8)
        try:
            await self._acquire(lease, wait_s)
        except asyncio.CancelledError:
            # The script may have taken the lease before the caller left: give it back.
            await asyncio.shield(self._release(lease))
            raise
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            # A cancellation redis-py swallowed (its connection check reads under
            # asyncio.timeout(0), which can take the caller's cancel for its own): honour it here,
            # before any call is made.
            await asyncio.shield(self._release(lease))
            raise asyncio.CancelledError
        self.in_flight += 1
        renewing = asyncio.create_task(self._renew(lease))
        started = time.monotonic()
        try:
            yield
        finally:
            renewing.cancel()
            with suppress(asyncio.CancelledError):
                await renewing
            self.in_flight -= 1
            self._mean_hold_s += _SMOOTHING * (time.monotonic() - started - self._mean_hold_s)
            # Shielded: a cancelled caller still gives its slot back (else it waits out the TTL).
            await asyncio.shield(self._release(lease))

    def retry_after(self) -> str:
        """Seconds until the calls ahead of a newcomer have likely drained."""
        estimate = self._mean_hold_s * (self.limit + self.waiting) / self.limit
        return str(min(_MAX_RETRY_AFTER_S, max(1, round(estimate))))

    def describe(self) -> dict[str, Any]:
        """This process's share of the gate, as metrics read it."""
        return {
            "target": self.target,
            "in_flight": self.in_flight,
            "waiting": self.waiting,
            "max_waiting": self.max_waiting,
        }

    async def _try(self, lease: str) -> bool:
        taken = await self._take(
            keys=[self._leases, self._tokens], args=[self.limit, lease, LEASE_TTL_MS]
        )
        return bool(taken)

    async def _acquire(self, lease: str, wait_s: float) -> None:
        try:
            if await self._try(lease):
                return
            if self.waiting >= self.queue_limit:
                raise self._refusal(OVERLOADED, "its wait queue is full")
            if wait_s <= 0:
                raise self._queue_timeout(wait_s)
            self.waiting += 1
            self.max_waiting = max(self.max_waiting, self.waiting)
            try:
                deadline = time.monotonic() + wait_s
                while True:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise self._queue_timeout(wait_s)
                    await self.redis.blpop([self._tokens], timeout=min(WAKE_S, left))  # type: ignore[arg-type, misc]
                    if await self._try(lease):
                        return
            finally:
                self.waiting -= 1
        except RedisError as exc:
            raise ADMISSION_UNAVAILABLE.error(
                f"the Redis that holds {self.target}'s call slots does not answer: {exc}",
                headers={"Retry-After": "1"},
            ) from None

    async def _renew(self, lease: str) -> None:
        while True:
            await asyncio.sleep(_RENEW_S)
            with suppress(RedisError):
                await self._extend(keys=[self._leases], args=[lease, LEASE_TTL_MS])

    async def _release(self, lease: str) -> None:
        # A Redis that does not answer now lets the lease expire instead.
        with suppress(RedisError):
            await self._give_back(
                keys=[self._leases, self._tokens], args=[lease, self.limit, LEASE_TTL_MS]
            )

    def _queue_timeout(self, wait_s: float) -> ProblemError:
        return self._refusal(
            QUEUE_TIMEOUT,
            f"no call slot came free within {max(0.0, wait_s):.3g} s",
        )

    def _refusal(self, kind: ProblemType, why: str) -> ProblemError:
        return kind.error(
            (
                f"{self.target} has every one of its {self.limit} shared call slots taken and "
                f"{self.waiting} callers of this process waiting: {why}; retry later"
            ),
            headers={"Retry-After": self.retry_after()},
        )
