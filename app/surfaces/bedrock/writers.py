"""A task's result written in the caller's family shape, as the model it called answers."""

from __future__ import annotations

from ...bedrock import blobs
from ...families.base import Family
from ...tasks.runner import TaskResult


def write(family: Family, result: TaskResult) -> bytes:
    """The JSON answer body a model of `family` gives for these images (its package's writer)."""
    # One buffer: this surface's answers go out whole (a pass-through answer is bytes too).
    return b"".join(blobs.dumps(family.writer(result.images)))
