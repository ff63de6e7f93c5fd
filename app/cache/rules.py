"""Which requests the cache may answer: those whose answer is reproducible."""

from __future__ import annotations

from ..families.base import ModelAdapter, ModelEntry
from ..schemas.requests import Task, TaskRequest


def reproducible(
    task: Task, entry: ModelEntry, adapter: ModelAdapter, request: TaskRequest
) -> bool:
    """Whether the same request gives the same images again: it names its seed, or the model is
    a deterministic tool (background removal, which takes no seed on any model, and the tools
    the registry describes as deterministic, e.g. the fast upscale). A model that merely takes
    no seed is not enough: Nova 2 Omni takes none and answers differently every time."""
    if "seed" in request.given():
        return True
    return task is Task.REMOVE_BACKGROUND or adapter.describe(entry).get("deterministic") is True
