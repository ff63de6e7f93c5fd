"""Spend: prices, what each answer cost, per-key budgets in dollars and the usage records."""
