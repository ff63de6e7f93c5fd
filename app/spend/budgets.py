"""The Spend facade: hold a request's price against the key's budgets before any Bedrock call,
settle to what it really cost after, and record the usage.

A request holds n x the image price (or, priced per token, n x the price's `reserve`) in each of
the key's windows; once its calls are done it is settled to the cost of the images actually
returned (a failed or filtered image costs nothing; a token-priced call what its tokens cost), and
a request that made no call gives everything back. A request cancelled while its calls were in
flight is charged what it held: Bedrock may well have made those images.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from pydantic import ValidationError
from redis.exceptions import RedisError

from ..auth.keys import ApiKey, Budget
from ..observability import facts
from ..problems import ProblemError
from ..problems.types import BUDGET_EXCEEDED, SPEND_UNAVAILABLE
from ..quotas.quotas import Outage
from ..schemas.requests import Task
from ..settings import Settings
from .ledger import DAY, MONTH, Ledger, MemoryLedger, UsageRow, Windows
from .prices import FREE, MICROS, Cost, PriceTable, Quote
from .redis_ledger import RedisLedger

log = logging.getLogger("app.spend")

_WINDOW_WORDS = {DAY: "daily", MONTH: "monthly", "total": "total"}
# How long an answer waits for its cost to be settled before going out anyway (the settlement then
# goes on in the background, bounded by the store's own timeout).
SETTLE_GRACE_S = 1.0


class BudgetConfigError(ValueError):
    """GATEWAY_DEFAULT_BUDGET is not a valid budget (raised at start-up)."""


class SpendObserver(Protocol):
    """What counts settled spend (the metrics)."""

    def spent(self, key: str, model: str, task: str, usd: float, images: int) -> None:
        """A request of `key` cost `usd` for `images` images of `model` doing `task`."""


def default_budget(settings: Settings) -> Budget:
    """The gateway-wide budget of keys without their own; BudgetConfigError naming what is bad."""
    try:
        return Budget.model_validate(settings.default_budget)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'entry'}: {e['msg']}" for e in exc.errors()
        )
        raise BudgetConfigError(
            f"GATEWAY_DEFAULT_BUDGET is not a valid budget: {problems}"
        ) from None


def effective_budget(key: ApiKey, defaults: Budget) -> tuple[int | None, int | None, int | None]:
    """The key's limits per window (day, month, total) in micro-dollars, each unset one from the
    defaults; None: no limit."""
    own = key.budget

    def limit(mine: float | None, default: float | None) -> int | None:
        usd = mine if mine is not None else default
        return None if usd is None else round(usd * MICROS)

    return (
        limit(own.usd_per_day, defaults.usd_per_day),
        limit(own.usd_per_month, defaults.usd_per_month),
        limit(own.usd_total, defaults.usd_total),
    )


def windows_at(now: float) -> Windows:
    """The UTC day and month of unix time `now`."""
    moment = datetime.fromtimestamp(now, UTC)
    return Windows(day=moment.strftime("%Y-%m-%d"), month=moment.strftime("%Y-%m"))


def resets_at(window: str, now: float) -> datetime | None:
    """When `window` next starts over after `now` (UTC midnight, the first of next month);
    None for the total, which never does."""
    moment = datetime.fromtimestamp(now, UTC)
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if window == DAY:
        return midnight + timedelta(days=1)
    if window == MONTH:
        first = midnight.replace(day=1)
        return (first + timedelta(days=32)).replace(day=1)
    return None


class Spend:
    """Prices, the key's budgets and the usage records, on one ledger.

    `clock` is the wall clock in seconds (windows are UTC days and months of it); tests pass
    their own.
    """

    def __init__(
        self,
        prices: PriceTable,
        ledger: Ledger | None = None,
        defaults: Budget | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.prices = prices
        self.ledger: Ledger = ledger or MemoryLedger()
        self.defaults = defaults or Budget()
        self.clock = clock
        self.observer: SpendObserver | None = None
        self.outage = Outage(
            log,
            "the spend store",
            "requests of keys with budgets get 503 spend-unavailable, and costs go unrecorded,",
        )
        self._settling: set[asyncio.Task[None]] = set()

    def quote(self, model_id: str, task: Task | None, fields: Mapping[str, Any]) -> Quote:
        """The price of a request (see PriceTable.quote)."""
        return self.prices.quote(model_id, task, fields)

    async def hold(self, key: ApiKey, model: str, task: str, quote: Quote, images: int) -> Charge:
        """Reserve `images` images at `quote` against `key`'s budgets, or raise 402
        budget-exceeded naming the window; 503 spend-unavailable when the ledger cannot be
        reached (no key spends unchecked)."""
        now = self.clock()
        windows = windows_at(now)
        limits = effective_budget(key, self.defaults)
        amount = quote.hold(images)
        charge = Charge(self, key.name, model, task, windows, 0)
        if all(limit is None for limit in limits):
            return charge  # nothing to check: the settlement records the cost
        try:
            reserved = await self.ledger.reserve(key.name, windows, amount, limits)
        except RedisError as exc:
            self.outage.failed(exc)
            raise _unavailable() from exc
        self.outage.succeeded()
        if not reserved.admitted:
            assert reserved.refused_by is not None
            raise _exceeded(key.name, reserved.refused_by, limits, reserved.spent, amount, now)
        charge.held = amount
        return charge

    async def record(self, charge: Charge, cost: Cost) -> None:
        """Settle `charge` to `cost` in a task of its own (a cancelled request still settles),
        waiting for it at most SETTLE_GRACE_S: a healthy store is done by then, so the key's
        next request sees this one's cost; a frozen one does not hold the answer."""
        task = asyncio.create_task(self._settle(charge, cost))
        self._settling.add(task)
        task.add_done_callback(self._settling.discard)
        await asyncio.wait({task}, timeout=SETTLE_GRACE_S)

    async def _settle(self, charge: Charge, cost: Cost) -> None:
        micros = cost.micros or 0
        row = None
        if micros or cost.images:
            row = UsageRow(
                charge.windows.day, charge.key, charge.model, charge.task, micros, cost.images, 1
            )
        delta = micros - charge.held
        if delta or row is not None:
            try:
                await self.ledger.settle(charge.key, charge.windows, delta, row)
            except RedisError as exc:
                # The answer goes out: what it held stays held (the safe side), its usage is
                # not recorded, and the outage is logged once.
                self.outage.failed(exc)
            else:
                self.outage.succeeded()
        if self.observer is not None and (micros or cost.images):
            self.observer.spent(charge.key, charge.model, charge.task, micros / MICROS, cost.images)

    async def usage(self, days: list[str], key: str | None) -> list[UsageRow]:
        """The usage rows of `days` (`key`'s, or every key's); 503 spend-unavailable when the
        ledger cannot be reached."""
        try:
            return await self.ledger.usage(days, key)
        except RedisError as exc:
            raise _unavailable() from exc

    async def close(self) -> None:
        """Let the settlements under way finish, then close the ledger."""
        if self._settling:
            await asyncio.gather(*self._settling, return_exceptions=True)
        await self.ledger.close()


@dataclass
class Charge:
    """A request's hold on its key's budgets, until settled."""

    spend: Spend
    key: str
    model: str
    task: str
    windows: Windows
    held: int
    done: bool = False

    async def settle(self, cost: Cost) -> None:
        """Charge `cost` instead of what was held (once) and note it on the request."""
        if self.done:
            return
        self.done = True
        facts.note_cost(cost.micros)
        await self.spend.record(self, cost)

    async def __aenter__(self) -> Charge:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if exc_type is not None and issubclass(exc_type, asyncio.CancelledError):
            # Its calls were abandoned in flight: Bedrock may have made the images.
            await self.settle(Cost(self.held, 0))
        else:
            await self.settle(FREE)


def _usd(micros: int) -> float:
    return round(micros / MICROS, 6)


def _exceeded(
    key: str,
    window: str,
    limits: tuple[int | None, ...],
    spent: tuple[int, int, int],
    amount: int,
    now: float,
) -> ProblemError:
    index = ("day", "month", "total").index(window)
    limit = limits[index]
    assert limit is not None
    left = max(0, limit - spent[index])
    reset = resets_at(window, now)
    when = f"; it resets at {reset.isoformat().replace('+00:00', 'Z')}" if reset else ""
    extra: dict[str, Any] = {
        "window": window,
        "limit_usd": _usd(limit),
        "remaining_usd": _usd(left),
        "requested_usd": _usd(amount),
        "resets_at": reset.isoformat().replace("+00:00", "Z") if reset else None,
    }
    return BUDGET_EXCEEDED.error(
        detail=(
            f"the API key '{key}' has ${_usd(left):.2f} left of its ${_usd(limit):.2f} "
            f"{_WINDOW_WORDS[window]} budget and this request needs ${_usd(amount):.2f}{when}"
        ),
        extra=extra,
    )


def _unavailable() -> ProblemError:
    return SPEND_UNAVAILABLE.error(
        detail="the gateway cannot reach its spend store; try again shortly",
        headers={"Retry-After": "1"},
    )


@asynccontextmanager
async def open_spend(settings: Settings, prices: PriceTable) -> AsyncIterator[Spend]:
    """The spend ledger `settings` configure (the quotas' backend: memory or Redis), closed on
    exit."""
    ledger: Ledger
    if settings.quota_backend == "redis":
        ledger = RedisLedger.from_url(settings.redis_url, settings.redis_timeout_s)
    else:
        ledger = MemoryLedger()
    spend = Spend(prices, ledger, default_budget(settings))
    try:
        yield spend
    finally:
        await spend.close()
