"""What the caller asked of the cache (`Cache-Control`) and what it did (RFC 9211 `Cache-Status`).

A pure-ASGI middleware (app.middleware.cache_status) binds one CacheExchange per request to a
context variable; the cache, deep
in the runner, reads the directives from it and writes its outcome to it, and the middleware puts
that in the answer's Cache-Status header. Outside a request (a job run by a worker) there is
none: the cache is read and written, and the outcome goes nowhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

# The cache's name in Cache-Status (RFC 9211 section 2: the cache that handled the request).
NAME = "bedrock-gateway"


@dataclass
class CacheExchange:
    """One request's `Cache-Control` directives, and the cache's outcome for Cache-Status."""

    read: bool = True
    write: bool = True
    outcome: str | None = None

    def report(self, outcome: str) -> None:
        """Set the parameters after the cache's name, e.g. `hit; ttl=60`."""
        self.outcome = outcome


_current: ContextVar[CacheExchange | None] = ContextVar("cache_exchange", default=None)


def current() -> CacheExchange:
    """The request's exchange; outside a request, a fresh one that reads and writes."""
    return _current.get() or CacheExchange()


def from_cache_control(value: str) -> CacheExchange:
    """The directives of a request's Cache-Control: `no-cache` (answer fresh, but store it) and
    `no-store` (neither read nor store); others do not concern a cache of results."""
    names = {part.split("=", 1)[0].strip().lower() for part in value.split(",")}
    no_store = "no-store" in names
    return CacheExchange(read=not (no_store or "no-cache" in names), write=not no_store)


@contextmanager
def exchanging(cache_control: str) -> Iterator[CacheExchange]:
    """The exchange for a request with this Cache-Control, bound for the block (the cache reads
    it through `current()`)."""
    exchange = from_cache_control(cache_control)
    token = _current.set(exchange)
    try:
        yield exchange
    finally:
        _current.reset(token)
