"""Readiness: credentials resolved and Bedrock reachable, checked at most once per cache period.

Reachability is a TCP connection to the default region's endpoint (the emulator, a configured
endpoint, or `bedrock-runtime.<region>.amazonaws.com:443`): cheap, free of charge, and it proves
DNS, routing and a listener. No model is invoked, since every invocation costs money. Credentials
are botocore's own chain (environment, profiles, SSO, container and instance roles), resolved in a
thread because the instance metadata lookup blocks; the emulator backend uses placeholder keys, so
there is nothing to resolve.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import botocore.session

from ..settings import Backend, Settings


@dataclass(frozen=True)
class Readiness:
    """One check's outcome: ready, or the reason it is not."""

    ready: bool
    reason: str | None
    endpoint: str


class ReadinessCheck:
    """Checks readiness for `settings`, reusing an outcome for `readiness_cache_s` seconds.

    Concurrent probes during a check wait for that one check rather than starting their own.
    """

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.clock = clock
        self._last: tuple[float, Readiness] | None = None
        self._lock = asyncio.Lock()

    async def check(self) -> Readiness:
        """The current readiness (cached)."""
        async with self._lock:
            now = self.clock()
            if self._last is not None and now - self._last[0] < self.settings.readiness_cache_s:
                return self._last[1]
            outcome = await self._check()
            self._last = (self.clock(), outcome)
            return outcome

    async def _check(self) -> Readiness:
        settings = self.settings
        url = settings.endpoint(settings.region) or (
            f"https://bedrock-runtime.{settings.region}.amazonaws.com"
        )
        if settings.backend is Backend.AWS:
            found = await asyncio.to_thread(_credentials_found)
            if not found:
                return Readiness(False, "no AWS credentials found (botocore's chain)", url)
        host, port = _host_port(url)
        try:
            async with asyncio.timeout(settings.connect_timeout_s):
                _, writer = await asyncio.open_connection(host, port)
        except (OSError, TimeoutError) as exc:
            why = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
            return Readiness(False, f"Bedrock is not reachable at {url}: {why}", url)
        writer.close()
        # The connection was made: how its closing goes is no concern of readiness.
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return Readiness(True, None, url)


def _credentials_found() -> bool:
    credentials = botocore.session.get_session().get_credentials()
    return credentials is not None and bool(credentials.get_frozen_credentials().access_key)


def _host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    return host, parts.port or (443 if parts.scheme == "https" else 80)
