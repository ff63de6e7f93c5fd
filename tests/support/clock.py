"""A clock the test moves by hand, for the code that takes one (breakers, gates, quotas, stores)."""

from __future__ import annotations


class FakeClock:
    """Seconds (monotonic or wall, as the code under test reads them) that move only when the
    test says."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += seconds
