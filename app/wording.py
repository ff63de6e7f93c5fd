"""Wording shared by error messages: "did you mean" suggestions and byte sizes people can read."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

_UNITS = ("KiB", "MiB", "GiB")


def did_you_mean(given: str, choices: Iterable[str]) -> str:
    """`did you mean 'x'?` for the choice closest to `given` (case aside), or "" when none is
    close enough to be a likely typo."""
    by_lower = {choice.lower(): choice for choice in choices}
    close = difflib.get_close_matches(given.strip().lower(), by_lower, n=1, cutoff=0.75)
    return f"did you mean {by_lower[close[0]]!r}?" if close else ""


def byte_size(count: int) -> str:
    """`26 MiB (27262976 bytes)`: binary units beside the exact number (bytes alone below 1 KiB)."""
    if count < 1024:
        return f"{count} bytes"
    value = count / 1024
    power = 0
    while value >= 1024 and power < len(_UNITS) - 1:
        value /= 1024
        power += 1
    shown = f"{value:.1f}".removesuffix(".0")
    return f"{shown} {_UNITS[power]} ({count} bytes)"
