"""Where spend is counted: per key and window (UTC day, UTC month, all time) for budgets, and per
day, key, model and task for GET /v1/usage. In this process (exact for one replica) by default.

Amounts are micro-dollars. A reservation checks every window of the key and charges all of them
or none; a settlement moves them by the difference to the real cost and records the usage.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

# Windows in the order a refusal names the first one exceeded.
DAY, MONTH, TOTAL = "day", "month", "total"
WINDOWS = (DAY, MONTH, TOTAL)


@dataclass(frozen=True)
class Windows:
    """The windows a charge falls in: the UTC day (`2026-12-05`) and month (`2026-12`)."""

    day: str
    month: str

    def ids(self) -> tuple[str, str, str]:
        """The id of each window, in WINDOWS order."""
        return (f"{DAY}:{self.day}", f"{MONTH}:{self.month}", TOTAL)


@dataclass(frozen=True)
class Reserved:
    """A reservation's outcome: admitted or not, the window that refused it, and what each
    window holds (after the charge when admitted)."""

    admitted: bool
    refused_by: str | None
    spent: tuple[int, int, int]


@dataclass(frozen=True)
class UsageRow:
    """What one key spent on one model and task on one UTC day."""

    day: str
    key: str
    model: str
    task: str
    micros: int
    images: int
    requests: int


class Ledger(Protocol):
    """A store of spend: this process's memory, or Redis shared by every replica."""

    async def reserve(
        self, key: str, windows: Windows, amount: int, limits: tuple[int | None, ...]
    ) -> Reserved:
        """Charge `amount` to every window of `key` if none would pass its limit."""

    async def settle(self, key: str, windows: Windows, delta: int, row: UsageRow | None) -> None:
        """Move every window of `key` by `delta`; add `row` to the usage records."""

    async def usage(self, days: Iterable[str], key: str | None) -> list[UsageRow]:
        """The usage rows of `days` (of `key` only, or of every key)."""

    async def close(self) -> None:
        """Release connections."""


class MemoryLedger:
    """Counts in dicts; every method runs without awaiting, so a check and its charge cannot
    interleave with another request's on one event loop."""

    def __init__(self) -> None:
        self._spent: dict[tuple[str, str], int] = defaultdict(int)
        self._rows: dict[tuple[str, str, str, str], list[int]] = {}

    async def reserve(
        self, key: str, windows: Windows, amount: int, limits: tuple[int | None, ...]
    ) -> Reserved:
        """Charge `amount` to every window of `key` if none would pass its limit."""
        ids = windows.ids()
        spent = tuple(self._spent[(key, w)] for w in ids)
        for name, used, limit in zip(WINDOWS, spent, limits, strict=True):
            if limit is not None and used + amount > limit:
                return Reserved(False, name, (spent[0], spent[1], spent[2]))
        for window in ids:
            self._spent[(key, window)] += amount
        return Reserved(True, None, (spent[0] + amount, spent[1] + amount, spent[2] + amount))

    async def settle(self, key: str, windows: Windows, delta: int, row: UsageRow | None) -> None:
        """Move every window of `key` by `delta`; add `row` to the usage records."""
        for window in windows.ids():
            self._spent[(key, window)] += delta
        if row is not None:
            counts = self._rows.setdefault((row.day, row.key, row.model, row.task), [0, 0, 0])
            counts[0] += row.micros
            counts[1] += row.images
            counts[2] += row.requests

    async def usage(self, days: Iterable[str], key: str | None) -> list[UsageRow]:
        """The usage rows of `days` (of `key` only, or of every key)."""
        wanted = set(days)
        return [
            UsageRow(day, name, model, task, *counts)
            for (day, name, model, task), counts in self._rows.items()
            if day in wanted and (key is None or name == key)
        ]

    async def close(self) -> None:
        """Nothing to close."""
