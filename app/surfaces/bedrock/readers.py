"""Bedrock request bodies read into the native vocabulary, by the reader of the model's family.

Each family's package has its reader (app.families.<family>); what they share, `Reading`, is in
app.families.reading. Here only what precedes any family: the body must be a JSON object.
"""

from __future__ import annotations

from typing import Any

from ...families.base import ModelEntry
from ...families.reading import Reading, json_type
from ...families.registry import ModelRegistry


def read(registry: ModelRegistry, entry: ModelEntry, body: Any) -> Reading:
    """The native task and fields of `body`, written in `entry`'s family schema."""
    if not isinstance(body, dict):
        reading = Reading(task=None)
        reading.fail("#", f"expected type: JSONObject, found: {json_type(body)}")
        return reading
    reading = registry.family(entry).reader(entry, body)
    reading.fields["model"] = entry.id
    return reading
