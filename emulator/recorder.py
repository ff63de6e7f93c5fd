"""What reached the emulator: request records and the concurrency high-water mark."""

from __future__ import annotations

from collections import deque
from typing import Any


class Recorder:
    """Keeps the last requests and counts concurrent invocations (all on the event loop thread)."""

    def __init__(self, max_recorded: int) -> None:
        self._records: deque[dict[str, Any]] = deque(maxlen=max_recorded)
        self.in_flight = 0
        self.max_in_flight = 0
        self.total = 0

    def reset(self) -> None:
        """Forget every record and counter."""
        self._records.clear()
        self.in_flight = self.max_in_flight = self.total = 0

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

    def leave(self) -> None:
        """An invocation has answered (or failed)."""
        self.in_flight -= 1

    def stats(self) -> dict[str, int]:
        """Counters for `GET /_emulator/stats`."""
        return {
            "in_flight": self.in_flight,
            "max_in_flight": self.max_in_flight,
            "total": self.total,
        }
