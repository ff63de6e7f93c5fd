"""The spend settings checked at start-up: prices, required prices and the default budget."""

from __future__ import annotations

from ..families.registry import ModelRegistry
from ..settings import Settings
from .budgets import default_budget
from .prices import PriceTable


def price_table(settings: Settings, registry: ModelRegistry) -> PriceTable:
    """The prices `settings` give over the built-in table, each checked; with
    `require_prices`, every served model priced. Raises PriceConfigError or BudgetConfigError
    (one line naming the bad entry)."""
    prices = PriceTable(settings.prices, resolve=registry.resolve)
    if settings.require_prices:
        prices.require(registry.models)
    default_budget(settings)
    return prices
