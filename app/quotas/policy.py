"""What a key may spend and how the answer says so: limits, decisions, RateLimit headers.

Headers follow draft-ietf-httpapi-ratelimit-headers-09 (March 2025): `RateLimit-Policy` lists
each quota as a String item with `q` (the quota) and `w` (the window in seconds), and `RateLimit`
the same items with `r` (what is left) and `t` (seconds until the window resets):

    RateLimit-Policy: "rpm";q=60;w=60, "ipm";q=20;w=60, "concurrent";q=4;qu="concurrent-requests"
    RateLimit: "rpm";r=12;t=30, "ipm";r=3;t=30, "concurrent";r=3

"ipm" counts images (a request with n=4 spends 4); the draft registers no unit for that, so the
name says it. "concurrent" has no window: a slot frees when a request ends.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..auth.keys import ApiKey, Limits
from ..problems import ProblemError
from ..problems.types import QUOTA_EXCEEDED

RPM = "rpm"
IPM = "ipm"
CONCURRENT = "concurrent"
# A refused concurrent request may try again as soon as one of the key's requests ends; a second
# is a fair guess that does not hammer.
CONCURRENT_RETRY_S = 1


def effective_limits(key: ApiKey, defaults: Limits) -> Limits:
    """The key's own limits, each unset one taken from the defaults (None: no limit)."""
    own = key.limits
    return Limits(
        requests_per_minute=own.requests_per_minute or defaults.requests_per_minute,
        images_per_minute=own.images_per_minute or defaults.images_per_minute,
        concurrent_requests=own.concurrent_requests or defaults.concurrent_requests,
    )


@dataclass(frozen=True)
class Usage:
    """What a backend counted for one key: admitted or not, and the counts after the decision
    (the new request included when admitted)."""

    admitted: bool
    requests: int
    images: int
    concurrent: int


@dataclass(frozen=True)
class Decision:
    """One admission: the key's limits, what it has used, when the window resets."""

    key: str
    limits: Limits
    usage: Usage
    images: int
    reset_s: int  # whole seconds to the end of the current window, at least 1

    def exceeded(self) -> list[str]:
        """The quotas this request would break (empty when admitted)."""
        if self.usage.admitted:
            return []
        found = []
        lim = self.limits
        if (
            lim.requests_per_minute is not None
            and self.usage.requests + 1 > lim.requests_per_minute
        ):
            found.append(RPM)
        if (
            lim.images_per_minute is not None
            and self.usage.images + self.images > lim.images_per_minute
        ):
            found.append(IPM)
        if lim.concurrent_requests is not None and self.usage.concurrent >= lim.concurrent_requests:
            found.append(CONCURRENT)
        return found

    def headers(self) -> dict[str, str]:
        """RateLimit-Policy and RateLimit for the key's quotas; none when it has no limits."""
        lim, use = self.limits, self.usage
        policies: list[str] = []
        states: list[str] = []
        if lim.requests_per_minute is not None:
            policies.append(f'"{RPM}";q={lim.requests_per_minute};w=60')
            states.append(
                f'"{RPM}";r={max(0, lim.requests_per_minute - use.requests)};t={self.reset_s}'
            )
        if lim.images_per_minute is not None:
            policies.append(f'"{IPM}";q={lim.images_per_minute};w=60')
            states.append(
                f'"{IPM}";r={max(0, lim.images_per_minute - use.images)};t={self.reset_s}'
            )
        if lim.concurrent_requests is not None:
            policies.append(f'"{CONCURRENT}";q={lim.concurrent_requests};qu="concurrent-requests"')
            states.append(f'"{CONCURRENT}";r={max(0, lim.concurrent_requests - use.concurrent)}')
        if not policies:
            return {}
        return {"RateLimit-Policy": ", ".join(policies), "RateLimit": ", ".join(states)}

    def problem(self) -> ProblemError:
        """The 429 quota-exceeded problem for a refused request."""
        exceeded = self.exceeded()
        lim = self.limits
        reasons = []
        if RPM in exceeded:
            reasons.append(f"its {lim.requests_per_minute} requests per minute")
        if IPM in exceeded:
            assert lim.images_per_minute is not None
            if self.images > lim.images_per_minute:
                reasons.append(
                    f"its {lim.images_per_minute} images per minute (this request asks for "
                    f"{self.images}, more than a minute allows: ask for fewer)"
                )
            else:
                left = max(0, lim.images_per_minute - self.usage.images)
                reasons.append(
                    f"its {lim.images_per_minute} images per minute ({left} left, this request "
                    f"asks for {self.images})"
                )
        if CONCURRENT in exceeded:
            reasons.append(f"its {lim.concurrent_requests} concurrent requests")
        windowed = bool({RPM, IPM} & set(exceeded))
        retry = self.reset_s if windowed else CONCURRENT_RETRY_S
        extra: dict[str, Any] = {"quota": exceeded}
        return QUOTA_EXCEEDED.error(
            detail=f"the API key '{self.key}' has used {' and '.join(reasons)}",
            headers={"Retry-After": str(retry), **self.headers()},
            extra=extra,
        )


def window_reset(now: float, window_s: int) -> int:
    """Whole seconds from `now` to the end of its fixed window, at least 1."""
    end = (math.floor(now / window_s) + 1) * window_s
    return max(1, math.ceil(end - now))
