"""What reached the emulator: request records, concurrency counters, and waits on those counters."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

# The error code a record gets when its client hung up before the answer (no HTTP status: none was
# sent). Not a Bedrock code: Bedrock never sees its own answer go unread.
CLIENT_DISCONNECTED = "ClientDisconnected"

COUNTERS = ("in_flight", "max_in_flight", "total", "disconnected")


class Recorder:
    """Keeps the last requests and counts invocations (all on the event loop thread)."""

    def __init__(self, max_recorded: int) -> None:
        self._records: deque[dict[str, Any]] = deque(maxlen=max_recorded)
        self.in_flight = 0
        self.max_in_flight = 0
        self.total = 0
        self.disconnected = 0
        # Set, then replaced, on every change: a waiter holds the one current when it started.
        self._changed = asyncio.Event()

    def reset(self) -> None:
        """Forget every record and counter."""
        self._records.clear()
        self.in_flight = self.max_in_flight = self.total = self.disconnected = 0
        self._notify()

    def record(self, entry: dict[str, Any]) -> dict[str, Any]:
        """Keep `entry`; the caller fills in its `status` and `error_code` once answered."""
        self._records.append(entry)
        return entry

    def requests(self) -> list[dict[str, Any]]:
        """Every kept record, oldest first."""
        return list(self._records)

    def enter(self) -> None:
        """An invocation starts."""
        self.total += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        self._notify()

    def leave(self) -> None:
        """An invocation has answered (or failed, or lost its client)."""
        self.in_flight -= 1
        self._notify()

    def hang_up(self, entry: dict[str, Any]) -> None:
        """The client of `entry` disconnected before its answer was sent."""
        entry["status"] = None
        entry["error_code"] = CLIENT_DISCONNECTED
        self.disconnected += 1
        self._notify()

    def stats(self) -> dict[str, int]:
        """Counters for `GET /_emulator/stats`."""
        return {
            "in_flight": self.in_flight,
            "max_in_flight": self.max_in_flight,
            "total": self.total,
            "disconnected": self.disconnected,
        }

    async def wait_for(self, wanted: dict[str, int]) -> dict[str, int]:
        """The counters, once each one named in `wanted` equals its value (bound it with a
        timeout: this waits as long as it takes)."""
        while True:
            stats = self.stats()
            if all(stats[name] == value for name, value in wanted.items()):
                return stats
            await self._changed.wait()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()
