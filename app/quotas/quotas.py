"""The Quotas facade: admit a key's request against its limits, hold its slot while it runs."""

from __future__ import annotations

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
from ..problems import ProblemError
from ..settings import Settings
from .memory import MemoryBackend
from .policy import Decision, Usage, effective_limits, window_reset
from .redis_backend import RedisBackend

log = logging.getLogger("app.quotas")

WINDOW_S = 60
# How long a concurrency slot outlives a replica that died holding it, past the request deadline.
LEASE_MARGIN_S = 60.0


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
        """Free the slot (once; later calls do nothing)."""
        lease, self._lease = self._lease, None
        if lease is not None:
            try:
                await self._quotas.backend.release(self._key, lease)
            except RedisError:
                # The lease expires on its own: the slot comes back after the TTL.
                log.warning("could not release a quota lease of %r", self._key, exc_info=True)


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
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.backend = backend
        self.defaults = defaults or Limits()
        self.lease_ttl_s = lease_ttl_s
        self.clock = clock

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
            log.error("the quota backend failed: %s", exc)
            raise ProblemError(
                status=503,
                slug="quota-unavailable",
                title="Quotas cannot be checked",
                detail="the gateway cannot reach its quota store; try again shortly",
                headers={"Retry-After": "1"},
            ) from exc
        decision = Decision(key.name, limits, usage, images, window_reset(now, WINDOW_S))
        if not usage.admitted:
            problem = decision.problem()
            # Metrics and the access line count refusals by type, whichever surface shapes it.
            note_problem(problem.slug)
            raise problem
        held = lease if limits.concurrent_requests is not None else None
        return Lease(self, key.name, held, decision.headers())

    async def close(self) -> None:
        """Release the backend's connections."""
        await self.backend.close()


@asynccontextmanager
async def open_quotas(settings: Settings) -> AsyncIterator[Quotas]:
    """The quotas `settings` configure (`quota_backend`, `redis_url`, `default_limits`), closed
    on exit."""
    backend: Backend
    if settings.quota_backend == "redis":
        backend = RedisBackend.from_url(settings.redis_url)
    else:
        backend = MemoryBackend()
    quotas = Quotas(
        backend,
        Limits(**settings.default_limits),
        lease_ttl_s=settings.request_deadline_s + LEASE_MARGIN_S,
    )
    try:
        yield quotas
    finally:
        await quotas.close()
