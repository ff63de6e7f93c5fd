"""Circuit breakers: a model target in a region that keeps failing is skipped for a cool-down.

Closed: calls pass; `threshold` outages in a row (5xx, timeouts, connection failures) open it.
Open: calls are refused without reaching Bedrock until `cooldown_s` has passed. Half-open: exactly
one probe call passes; its success closes the circuit, its failure opens it for another
cool-down. Answers that prove the region is up (a success, a validation error) reset the count;
throttling and cancelled calls leave it as it was.

A failure one body causes is counted once: a 5xx answer carries the digest of the body Bedrock
failed on, and a body already counted in the current run of failures (the same request's retries,
or the same body sent again) adds nothing, and as a half-open probe it neither closes nor reopens
the circuit. A poisoned image thus costs its own caller its retries, but cannot open the circuit
for everyone: that takes `threshold` different bodies failing in a row, as in an outage. Timeouts
and connection failures say nothing about the body and count every time.

Time is passed in by the caller (monotonic seconds), so the breaker has no clock of its own and
tests move time without sleeping.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from enum import StrEnum
from typing import Any

# Bodies remembered per run of failures: a run opens the circuit after `threshold` of them, and
# only probes add more while it is open, so this is never reached but in a very long outage.
_BODIES_KEPT = 1024


class State(StrEnum):
    """A circuit's state."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """The circuit of one (model target, region)."""

    def __init__(
        self,
        threshold: int,
        cooldown_s: float,
        on_change: Callable[[State], None] | None = None,
    ) -> None:
        self.threshold = threshold
        self.cooldown_s = cooldown_s
        self.state = State.CLOSED
        self.failures = 0
        self._opened_at = 0.0
        self._probing = False
        self._on_change = on_change
        # Digests of the bodies counted in the current run of failures, oldest first.
        self._bodies: dict[bytes, None] = {}

    def allow(self, now: float) -> bool:
        """Whether a call may go now. In half-open, True only for the one probe: its outcome
        (success, failure or release) must be reported."""
        if self.state is State.OPEN:
            if now < self._opened_at + self.cooldown_s:
                return False
            self._move(State.HALF_OPEN)
        if self.state is State.HALF_OPEN:
            if self._probing:
                return False
            self._probing = True
        return True

    def succeeded(self) -> None:
        """The region answered: close the circuit and forget past failures."""
        self._probing = False
        self.failures = 0
        self._bodies.clear()
        if self.state is not State.CLOSED:
            self._move(State.CLOSED)

    def failed(self, now: float, body: bytes | None = None) -> None:
        """An outage: count it; at the threshold (or on a failed probe) open the circuit.

        `body`: the digest of the body an answer failed on; one counted already in this run of
        failures is not counted again.
        """
        self._probing = False
        if body is not None:
            if body in self._bodies:
                return
            self._bodies[body] = None
            if len(self._bodies) > _BODIES_KEPT:
                del self._bodies[next(iter(self._bodies))]
        self.failures += 1
        if self.state is State.HALF_OPEN or self.failures >= self.threshold:
            self._opened_at = now
            self._move(State.OPEN)

    def released(self) -> None:
        """The call ended saying nothing about the region's health (throttled, cancelled):
        a probe's turn passes to the next call."""
        self._probing = False

    def retry_after(self, now: float) -> int:
        """Whole seconds until the cool-down ends (at least 1)."""
        left = self._opened_at + self.cooldown_s - now
        return max(1, math.ceil(left))

    def describe(self, now: float) -> dict[str, Any]:
        """The circuit as metrics read it."""
        left = self._opened_at + self.cooldown_s - now
        open_for = max(0, math.ceil(left)) if self.state is State.OPEN else 0
        return {"state": self.state.value, "failures": self.failures, "retry_after_s": open_for}

    def _move(self, state: State) -> None:
        self.state = state
        if self._on_change is not None:
            self._on_change(state)
