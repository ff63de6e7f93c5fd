"""Quotas counted in this process: exact for one replica, and the default."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..auth.keys import Limits
from .policy import Usage


@dataclass
class _Counts:
    window: int = -1
    requests: int = 0
    images: int = 0
    leases: set[str] = field(default_factory=set)


class MemoryBackend:
    """Fixed windows and a slot count per key, in a dict.

    Every method runs to completion without awaiting anything, so on one event loop a check and
    its charge cannot interleave with another request's.
    """

    def __init__(self) -> None:
        self._keys: dict[str, _Counts] = {}

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
        del lease_ttl_s  # a slot in this process dies with it: nothing to expire
        counts = self._keys.setdefault(key, _Counts())
        window = math.floor(now / window_s)
        if counts.window != window:
            counts.window, counts.requests, counts.images = window, 0, 0
        fits = (
            (
                limits.requests_per_minute is None
                or counts.requests + 1 <= limits.requests_per_minute
            )
            and (
                limits.images_per_minute is None
                or counts.images + images <= limits.images_per_minute
            )
            and (
                limits.concurrent_requests is None
                or len(counts.leases) < limits.concurrent_requests
            )
        )
        if fits:
            counts.requests += 1
            counts.images += images
            counts.leases.add(lease)
        return Usage(fits, counts.requests, counts.images, len(counts.leases))

    async def release(self, key: str, lease: str) -> None:
        """Give back the concurrency slot `lease` holds."""
        counts = self._keys.get(key)
        if counts is not None:
            counts.leases.discard(lease)

    async def close(self) -> None:
        """Nothing to close."""
