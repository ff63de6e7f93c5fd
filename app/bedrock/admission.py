"""Backpressure per model: a few calls in flight, a bounded queue behind them, and fast refusals.

A caller finding the queue full is refused at once (429 `overloaded`); one that waits longer than
the queue timeout or its deadline allows is refused then (503 `queue-timeout`). Nothing else
waits, so a burst of any size holds at most `limit + queue` calls' worth of memory per model.

Retry-After is the time the calls ahead of a newcomer need to drain: the mean time a slot has
been held (1 s before the first call ends) times the calls in flight and waiting, over the slots;
whole seconds, from 1 to 60.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from ..problems import ProblemError, ProblemType
from ..problems.types import OVERLOADED, QUEUE_TIMEOUT
from ..settings import Settings
from .leases import WAKE_S, RedisGate

_FIRST_GUESS_S = 1.0
_SMOOTHING = 0.2  # weight of the newest hold time in the moving mean
_MAX_RETRY_AFTER_S = 60


class ModelGate:
    """The slots and wait queue of one model target (FIFO: the longest waiter is served first)."""

    def __init__(
        self,
        target: str,
        limit: int,
        queue_limit: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.target = target
        self.limit = limit
        self.queue_limit = queue_limit
        self.in_flight = 0
        self.max_waiting = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._mean_hold_s = _FIRST_GUESS_S
        # Monotonic seconds; a parameter so tests can measure hold times without waiting.
        self._clock = clock

    @property
    def waiting(self) -> int:
        """Callers queued for a slot."""
        return len(self._waiters)

    @asynccontextmanager
    async def slot(self, wait_s: float) -> AsyncIterator[None]:
        """Hold one slot for the body of the `async with`, waiting at most `wait_s` for it."""
        await self._acquire(wait_s)
        started = self._clock()
        try:
            yield
        finally:
            held = self._clock() - started
            self._mean_hold_s += _SMOOTHING * (held - self._mean_hold_s)
            self._release()

    def retry_after(self) -> str:
        """Seconds until the calls ahead of a newcomer have likely drained (see module doc)."""
        ahead = self.in_flight + self.waiting
        estimate = math.ceil(self._mean_hold_s * ahead / self.limit)
        return str(min(_MAX_RETRY_AFTER_S, max(1, estimate)))

    def describe(self) -> dict[str, Any]:
        """The gate as metrics read it."""
        return {
            "target": self.target,
            "in_flight": self.in_flight,
            "waiting": self.waiting,
            "max_waiting": self.max_waiting,
        }

    async def _acquire(self, wait_s: float) -> None:
        if self.in_flight < self.limit and not self._waiters:
            self.in_flight += 1
            return
        if self.waiting >= self.queue_limit:
            raise self._refusal(OVERLOADED, "its wait queue is full")
        if wait_s <= 0:
            raise self._queue_timeout(wait_s)
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        self.max_waiting = max(self.max_waiting, self.waiting)
        try:
            async with asyncio.timeout(wait_s):
                await waiter
        except TimeoutError:
            if _granted(waiter):
                return  # the slot came just as the wait ended: keep it
            if waiter in self._waiters:
                self._waiters.remove(waiter)
            raise self._queue_timeout(wait_s) from None
        except BaseException:
            if _granted(waiter):
                self._release()  # handed over, but the caller is gone: pass it on
            elif waiter in self._waiters:
                self._waiters.remove(waiter)
            raise

    def _release(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot goes straight to the waiter: in_flight stays
                return
        self.in_flight -= 1

    def _queue_timeout(self, wait_s: float) -> ProblemError:
        return self._refusal(
            QUEUE_TIMEOUT,
            f"no call slot came free within {max(0.0, wait_s):.3g} s",
        )

    def _refusal(self, kind: ProblemType, why: str) -> ProblemError:
        return kind.error(
            (
                f"{self.target} has {self.in_flight} calls in flight and {self.waiting} waiting: "
                f"{why}; retry later"
            ),
            headers={"Retry-After": self.retry_after()},
        )


def _granted(waiter: asyncio.Future[None]) -> bool:
    return waiter.done() and not waiter.cancelled()


class Admission:
    """One gate per model target, created on first use: in this process, or, given a Redis (the
    job queue's), held there and shared by every gateway and worker process (`leases.RedisGate`)."""

    def __init__(self, limit: int, queue_limit: int, redis: Redis | None = None) -> None:
        self.limit = limit
        self.queue_limit = queue_limit
        self.redis = redis
        self._gates: dict[str, ModelGate | RedisGate] = {}

    def gate(self, target: str) -> ModelGate | RedisGate:
        """The gate of `target`."""
        gate = self._gates.get(target)
        if gate is None:
            if self.redis is None:
                gate = ModelGate(target, self.limit, self.queue_limit)
            else:
                gate = RedisGate(self.redis, target, self.limit, self.queue_limit)
            self._gates[target] = gate
        return gate

    async def aclose(self) -> None:
        """Close the shared gates' Redis connections, if any."""
        if self.redis is not None:
            await self.redis.aclose()

    def describe(self) -> list[dict[str, Any]]:
        """Every gate's state."""
        return [gate.describe() for gate in self._gates.values()]


def shared_slots(settings: Settings) -> Redis | None:
    """The Redis the per-model cap is held in, shared by the gateway and every worker: the job
    queue's, when there is one (else None: each process caps its own calls).

    Not in the embedded mode (`jobs_embedded`): that Redis is this process's own and its worker
    runs here on the same Bedrock client, so the in-process gates already bound requests and
    jobs together, without two Redis round trips a call."""
    if settings.jobs_redis_url is None or settings.jobs_embedded:
        return None
    timeout_s = settings.redis_timeout_s
    # BLPOP waits up to leases.WAKE_S: the socket timeout must outlast it.
    redis: Redis = Redis.from_url(
        settings.jobs_redis_url,
        socket_timeout=timeout_s + WAKE_S,
        socket_connect_timeout=timeout_s,
        retry=Retry(NoBackoff(), 0),
    )
    return redis
