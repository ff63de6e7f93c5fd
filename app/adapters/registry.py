"""The models the gateway serves: built-in entries per family, overridden or extended by settings.

Each family module exports its adapter (`ADAPTER`) and its built-in entries (`MODELS`). A model of a
known family is configuration (`GATEWAY_MODELS`); a new family is one module added to `FAMILIES`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import ModuleType
from typing import Any

from pydantic import ValidationError

from ..schemas.requests import Task
from . import sdxl, stability, stability_edits, stability_guided, titan
from .base import ModelAdapter, ModelEntry

FAMILIES: tuple[ModuleType, ...] = (stability, stability_edits, stability_guided, titan, sdxl)

ADAPTERS: dict[str, ModelAdapter] = {module.ADAPTER.family: module.ADAPTER for module in FAMILIES}
BUILTIN_MODELS: tuple[ModelEntry, ...] = tuple(
    entry for module in FAMILIES for entry in module.MODELS
)
_GEO_PREFIXES = ("us.", "eu.", "apac.", "global.")


class RegistryError(ValueError):
    """A model entry from settings that cannot be served."""


class ModelRegistry:
    """Looks models up by Bedrock id, alias, inference-profile id or ARN."""

    def __init__(
        self,
        models: Iterable[ModelEntry] = BUILTIN_MODELS,
        overrides: Iterable[Mapping[str, Any]] = (),
    ) -> None:
        entries = {entry.id: entry for entry in models}
        for raw in overrides:
            entry = _merge(entries, raw)
            entries[entry.id] = entry
        self.models = tuple(_with_checked_limits(entry) for entry in entries.values())
        self._by_name: dict[str, ModelEntry] = {}
        for entry in self.models:
            for name in (entry.id, entry.target, *entry.aliases):
                self._by_name.setdefault(name.lower(), entry)

    def resolve(self, name: str) -> ModelEntry | None:
        """The model an id, alias, profile id or ARN names, or None."""
        key = name.strip().lower()
        if key in self._by_name:
            return self._by_name[key]
        if key.startswith("arn:"):
            # arn:aws:bedrock:<region>:<account>:foundation-model/<id> or inference-profile/<id>
            key = key.rsplit("/", 1)[-1]
            if key in self._by_name:
                return self._by_name[key]
        for prefix in _GEO_PREFIXES:
            if key.startswith(prefix):
                return self._by_name.get(key[len(prefix) :])
        return None

    @property
    def families(self) -> tuple[str, ...]:
        """The families the registry can serve."""
        return tuple(ADAPTERS)

    def adapter(self, entry: ModelEntry) -> ModelAdapter:
        """The adapter that speaks `entry`'s schema."""
        return ADAPTERS[entry.family]

    def for_task(self, task: Task) -> list[ModelEntry]:
        """The models that can do `task`."""
        return [entry for entry in self.models if task in entry.tasks]


def _merge(entries: Mapping[str, ModelEntry], raw: Mapping[str, Any]) -> ModelEntry:
    """A settings entry: a new model, or changes to the built-in one with the same id.

    A built-in entry's `limits` are changed field by field (an image rule's too): overriding
    one limit keeps the others.
    """
    model_id = raw.get("id")
    base = entries.get(model_id) if isinstance(model_id, str) else None
    data = dict(raw)
    if base is not None:
        data = {**base.model_dump(), **raw}
        if isinstance(raw.get("limits"), Mapping):
            data["limits"] = _merged(base.limits, raw["limits"])
    try:
        return ModelEntry.model_validate(data)
    except ValidationError as exc:
        raise RegistryError(_one_line(model_id, exc, ())) from None


def _merged(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """`over` on `base`, objects merged key by key, anything else replaced."""
    merged = dict(base)
    for key, value in over.items():
        below = merged.get(key)
        if isinstance(value, Mapping) and isinstance(below, Mapping):
            merged[key] = _merged(below, value)
        else:
            merged[key] = value
    return merged


def _with_checked_limits(entry: ModelEntry) -> ModelEntry:
    """`entry` once its family is known and its `limits` fit the family's typed limits model;
    they are kept as validated (normalised, only the keys given), for the adapter to read."""
    adapter = ADAPTERS.get(entry.family)
    if adapter is None:
        known = ", ".join(sorted(ADAPTERS))
        raise RegistryError(
            f"GATEWAY_MODELS entry {entry.id!r}: family: unknown family {entry.family!r}; "
            f"known: {known}"
        )
    try:
        limits = adapter.limits_model.model_validate(entry.limits)
    except ValidationError as exc:
        raise RegistryError(_one_line(entry.id, exc, ("limits",))) from None
    checked = limits.model_dump(mode="json", exclude_unset=True)
    return entry.model_copy(update={"limits": checked})


def _one_line(model_id: Any, exc: ValidationError, prefix: tuple[str, ...]) -> str:
    """The error as one line, each bad field named: the gateway prints it and exits at start."""
    problems = "; ".join(
        f"{'.'.join(str(part) for part in (*prefix, *error['loc']))}: {error['msg']}"
        for error in exc.errors()
    )
    return f"GATEWAY_MODELS entry {model_id!r}: {problems}"
