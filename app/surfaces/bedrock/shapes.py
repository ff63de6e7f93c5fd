"""Every model family must be readable and writable on the Bedrock surface.

A family without a reader or a writer would have its bodies misread or its answers written in
another family's shape; the gateway refuses to start instead, naming the family.
"""

from __future__ import annotations

from collections.abc import Iterable

from ...adapters.registry import RegistryError
from .readers import READERS
from .writers import WRITERS


def check_families(families: Iterable[str]) -> None:
    """Raise RegistryError naming each family that lacks a Bedrock-surface reader or writer."""
    problems = [
        f"{family} has no Bedrock-surface {part}"
        for family in sorted(families)
        for part, known in (("reader", READERS), ("writer", WRITERS))
        if family not in known
    ]
    if problems:
        raise RegistryError("; ".join(problems))
