"""Where spend is counted: per key and window (UTC day, UTC month, all time) for budgets, and per
day, key, model and task for GET /v1/usage. In this process (exact for one replica) by default.

Amounts are micro-dollars. A reservation checks every window of the key and charges all of them
or none; a settlement moves them by the difference to the real cost and records the usage.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
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

    def __init__(self, keep_days: int = 400) -> None:
        self._spent: dict[tuple[str, str], int] = defaultdict(int)
        self._rows: dict[tuple[str, str, str, str], list[int]] = {}
        self._keep_days = keep_days
        self._today = ""

    async def reserve(
        self, key: str, windows: Windows, amount: int, limits: tuple[int | None, ...]
    ) -> Reserved:
        """Charge `amount` to every window of `key` if none would pass its limit."""
        self._prune(windows)
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
        self._prune(windows)
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

    def _prune(self, windows: Windows) -> None:
        """On the first charge of a day, forget the windows that can no longer be charged (days
        before yesterday, months before last) and usage older than `keep_days`: memory stays
        bounded in a process that runs for years, as Redis's keys expire."""
        if windows.day <= self._today:
            return
        self._today = windows.day
        today = date.fromisoformat(windows.day)
        oldest_day = (today - timedelta(days=1)).isoformat()
        last_month = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
        oldest_row = (today - timedelta(days=self._keep_days)).isoformat()

        def live(window: str) -> bool:
            kind, _, when = window.partition(":")
            return (
                kind == TOTAL
                or (kind == DAY and when >= oldest_day)
                or (kind == MONTH and when >= last_month)
            )

        self._spent = defaultdict(int, {k: v for k, v in self._spent.items() if live(k[1])})
        self._rows = {k: v for k, v in self._rows.items() if k[0] >= oldest_row}
