"""The Quotas facade: admit a key's request against its limits, hold its slot while it runs.

A slot is given back in a task of its own, under the store's own timeout; the answer waits for it
at most RELEASE_GRACE_S (a healthy store is done by then), so an answer whose images are ready goes
out even when the store is slow or frozen (the slot then comes back when the release gets through,
or when its lease expires). An unreachable store is logged once when the outage
begins and once when it ends, however many requests meet it in between (each is a 503).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Protocol

from redis.exceptions import RedisError

from ..auth.keys import ApiKey, Limits
from ..observability.facts import note_problem
from ..problems.types import QUOTA_UNAVAILABLE
from ..settings import Settings
from .memory import MemoryBackend
from .policy import Decision, Usage, effective_limits, window_reset
from .redis_backend import RedisBackend

log = logging.getLogger("app.quotas")

WINDOW_S = 60
# How long a concurrency slot outlives a replica that died holding it, past the request deadline.
LEASE_MARGIN_S = 60.0
# How long a finished request waits for its slot to be given back before answering anyway: a
# healthy store answers within it, so the caller's next request finds the slot free.
RELEASE_GRACE_S = 0.05


class Backend(Protocol):
    """Where the counts live (this process, or Redis)."""

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
        """Charge one request if every limit allows it; the counts either way."""

    async def release(self, key: str, lease: str) -> None:
        """Free the concurrency slot held by `lease`."""

    async def close(self) -> None:
        """Release connections."""


class Lease:
    """An admitted request: its RateLimit headers, and its concurrency slot until exit."""

    def __init__(self, quotas: Quotas, key: str, lease: str | None, headers: dict[str, str]):
        self._quotas = quotas
        self._key = key
        self._lease = lease
        self.headers = headers

    async def __aenter__(self) -> Lease:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.release()

    async def release(self) -> None:
        """Free the slot (once; later calls do nothing), waiting for it no longer than
        RELEASE_GRACE_S: past that the release goes on in the background."""
        lease, self._lease = self._lease, None
        if lease is not None:
            task = self._quotas.release_later(self._key, lease)
            await asyncio.wait({task}, timeout=RELEASE_GRACE_S)


class Outage:
    """Whether a store (the quotas', the budgets') is failing, so that an outage is logged once,
    not per request: `store` names it, `effect` says what callers get meanwhile."""

    def __init__(
        self,
        logger: logging.Logger = log,
        store: str = "the quota store",
        effect: str = "requests that quotas apply to get 503 quota-unavailable",
    ) -> None:
        self.since: float | None = None
        self.failures = 0
        self._log = logger
        self._store = store
        self._effect = effect

    def failed(self, exc: BaseException) -> None:
        """A call to the store failed: the first failure of an outage is logged."""
        self.failures += 1
        if self.since is None:
            self.since = time.monotonic()
            self._log.error(
                "%s cannot be reached (%s): %s until it is back",
                self._store,
                str(exc) or type(exc).__name__,
                self._effect,
            )

    def succeeded(self) -> None:
        """A call to the store succeeded: the end of an outage is logged."""
        if self.since is not None:
            self._log.warning(
                "%s is reachable again after %.1f s (%d calls failed)",
                self._store,
                time.monotonic() - self.since,
                self.failures,
            )
            self.since = None
            self.failures = 0


class Quotas:
    """Requests and images per minute (fixed one-minute windows) and concurrent requests, per key.

    `clock` is the wall clock in seconds (windows are aligned to it, so every replica shares
    them); tests pass their own.
    """

    def __init__(
        self,
        backend: Backend,
        defaults: Limits | None = None,
        *,
        lease_ttl_s: float = 180.0 + LEASE_MARGIN_S,
        release_timeout_s: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.backend = backend
        self.defaults = defaults or Limits()
        self.lease_ttl_s = lease_ttl_s
        self.release_timeout_s = release_timeout_s
        self.clock = clock
        self.outage = Outage()
        self._releasing: set[asyncio.Task[None]] = set()

    async def admit(self, key: ApiKey, images: int) -> Lease:
        """Charge one request of `images` images to `key`, or raise 429 quota-exceeded (with
        Retry-After, RateLimit and RateLimit-Policy); 503 quota-unavailable when the backend
        cannot be reached (no key spends unchecked)."""
        limits = effective_limits(key, self.defaults)
        if (
            limits.requests_per_minute is None
            and limits.images_per_minute is None
            and limits.concurrent_requests is None
        ):
            return Lease(self, key.name, None, {})
        now = self.clock()
        lease = uuid.uuid4().hex
        try:
            usage = await self.backend.acquire(
                key.name,
                limits,
                images,
                now=now,
                window_s=WINDOW_S,
                lease=lease,
                lease_ttl_s=self.lease_ttl_s,
            )
        except RedisError as exc:
            self.outage.failed(exc)
            raise QUOTA_UNAVAILABLE.error(
                detail="the gateway cannot reach its quota store; try again shortly",
                headers={"Retry-After": "1"},
            ) from exc
        self.outage.succeeded()
        decision = Decision(key.name, limits, usage, images, window_reset(now, WINDOW_S))
        if not usage.admitted:
            problem = decision.problem()
            # Metrics and the access line count refusals by type, whichever surface shapes it.
            note_problem(problem.slug)
            raise problem
        held = lease if limits.concurrent_requests is not None else None
        return Lease(self, key.name, held, decision.headers())

    def release_later(self, key: str, lease: str) -> asyncio.Task[None]:
        """Give the slot `lease` holds back in a task of its own (kept here until it ends)."""
        task = asyncio.create_task(self._release(key, lease))
        self._releasing.add(task)
        task.add_done_callback(self._releasing.discard)
        return task

    async def _release(self, key: str, lease: str) -> None:
        try:
            async with asyncio.timeout(self.release_timeout_s):
                await self.backend.release(key, lease)
        except (RedisError, TimeoutError) as exc:
            # The lease expires on its own: the slot comes back after the TTL.
            self.outage.failed(exc)
        else:
            self.outage.succeeded()

    async def close(self) -> None:
        """Let the releases under way finish (each is bounded), then close the backend."""
        if self._releasing:
            await asyncio.gather(*self._releasing, return_exceptions=True)
        await self.backend.close()


@asynccontextmanager
async def open_quotas(settings: Settings) -> AsyncIterator[Quotas]:
    """The quotas `settings` configure (`quota_backend`, `redis_url`, `default_limits`), closed
    on exit."""
    backend: Backend
    if settings.quota_backend == "redis":
        backend = RedisBackend.from_url(settings.redis_url, settings.redis_timeout_s)
    else:
        backend = MemoryBackend()
    quotas = Quotas(
        backend,
        Limits(**settings.default_limits),
        lease_ttl_s=settings.request_deadline_s + LEASE_MARGIN_S,
        release_timeout_s=settings.redis_timeout_s,
    )
    try:
        yield quotas
    finally:
        await quotas.close()
