"""What families' spec examples are made of: a summary and a request body in the native
vocabulary, image fields shown as a shortened base64 PNG (base64 or a data URL in JSON, a file
part in multipart)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..schemas.requests import Task

PNG = "iVBORw0KGgoAAAANSUhEUgAA..."
MASK = "iVBORw0KGgoAAAANSUhEUgAB..."

# A family's examples: per task, named request bodies with a summary each.
Examples = Mapping[Task, Mapping[str, Mapping[str, Any]]]


def example(summary: str, value: dict[str, Any]) -> dict[str, Any]:
    """One named example of a request body, as OpenAPI's Example Object."""
    return {"summary": summary, "value": value}
