"""The models the gateway serves, their aliases, and the adapter that speaks each one's schema."""

from __future__ import annotations

from collections.abc import Iterable

from ..schemas.requests import Task
from .base import ModelAdapter, ModelEntry
from .sdxl import SdxlAdapter
from .titan import TitanAdapter

ALL_TASKS = tuple(Task)

BUILTIN_MODELS: tuple[ModelEntry, ...] = (
    ModelEntry(
        id="amazon.titan-image-generator-v1",
        family="titan",
        aliases=("titan", "titan-v1"),
        tasks=ALL_TASKS,
        description="Amazon Titan Image Generator G1",
    ),
    ModelEntry(
        id="stability.stable-diffusion-xl-v1",
        family="sdxl",
        aliases=("sdxl",),
        tasks=ALL_TASKS,
        description="Stability SDXL 1.0",
    ),
)

ADAPTERS: dict[str, ModelAdapter] = {
    adapter.family: adapter for adapter in (TitanAdapter(), SdxlAdapter())
}


class ModelRegistry:
    """Looks models up by Bedrock id or alias."""

    def __init__(self, models: Iterable[ModelEntry] = BUILTIN_MODELS) -> None:
        self.models = tuple(models)
        self._by_name: dict[str, ModelEntry] = {}
        for entry in self.models:
            for name in (entry.id, *entry.aliases):
                self._by_name[name.lower()] = entry

    def resolve(self, name: str) -> ModelEntry | None:
        """The model a Bedrock id or alias names, or None."""
        return self._by_name.get(name.strip().lower())

    def adapter(self, entry: ModelEntry) -> ModelAdapter:
        """The adapter that speaks `entry`'s schema."""
        return ADAPTERS[entry.family]

    def for_task(self, task: Task) -> list[ModelEntry]:
        """The models that can do `task`."""
        return [entry for entry in self.models if task in entry.tasks]
