"""The models the gateway serves: its families' built-in entries, changed or added to by settings.

Each family is a package exporting `FAMILY` (app.families.base.Family): its adapter, its built-in
entries, its Bedrock-surface reader and writer. A model of a known family is configuration
(`GATEWAY_MODELS`); a new family is one package, added to `BUILTIN_FAMILIES` or named by
`GATEWAY_FAMILIES` (any importable module).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from ..schemas.requests import REQUEST_MODELS, Task
from . import nova_omni, sdxl, stability, stability_edit, stability_guided, titan
from .base import Family, ModelAdapter, ModelEntry, TaskHandler

BUILTIN_FAMILIES: tuple[Family, ...] = (
    stability.FAMILY,
    stability_edit.FAMILY,
    stability_guided.FAMILY,
    titan.FAMILY,
    sdxl.FAMILY,
    nova_omni.FAMILY,
)
_GEO_PREFIXES = ("us.", "eu.", "apac.", "global.")


class RegistryError(ValueError):
    """A family or model entry that cannot be served: the gateway does not start."""


def load_family(name: str) -> Family:
    """The family the package or module `name` exports as `FAMILY`, checked whole: a family
    without a reader or a writer would be misread or answered in another family's shape."""
    where = f"GATEWAY_FAMILIES entry {name!r}"
    try:
        module = importlib.import_module(name)
    except ImportError as exc:
        raise RegistryError(f"{where}: cannot import it ({exc})") from None
    family = getattr(module, "FAMILY", None)
    if not isinstance(family, Family):
        raise RegistryError(f"{where}: it exports no FAMILY (an app.families.base.Family)")
    check_family(family, where)
    return family


def check_family(family: Family, where: str) -> None:
    """Raise RegistryError unless `family` has an adapter, a reader and a writer."""
    if not isinstance(family.adapter, ModelAdapter):
        raise RegistryError(f"{where}: adapter: not a ModelAdapter")
    for part in ("reader", "writer"):
        if not callable(getattr(family, part, None)):
            raise RegistryError(f"{where}: {family.name} has no Bedrock-surface {part}")
    for task, handler in family.adapter.handlers.items():
        if not isinstance(handler, TaskHandler):
            raise RegistryError(f"{where}: handlers: {task}: not a TaskHandler")
        if handler.request_type is not REQUEST_MODELS[task]:
            raise RegistryError(
                f"{where}: handlers: {task}: typed to {handler.request_type.__name__}, "
                f"the task's request is {REQUEST_MODELS[task].__name__}"
            )


class ModelRegistry:
    """The families and their models; looks models up by Bedrock id, alias, profile id or ARN."""

    def __init__(
        self,
        overrides: Iterable[Mapping[str, Any]] = (),
        families: Iterable[str | Family] = (),
    ) -> None:
        known = list(BUILTIN_FAMILIES)
        known += [load_family(f) if isinstance(f, str) else f for f in families]
        self._families: dict[str, Family] = {}
        self._examples: dict[Task, dict[str, Mapping[str, Any]]] = {}
        for family in known:
            check_family(family, f"family {family.name!r}")
            if family.name in self._families:
                raise RegistryError(f"family {family.name!r}: defined twice")
            self._families[family.name] = family
            self._add_examples(family)
        entries = {entry.id: entry for family in known for entry in family.models}
        for raw in overrides:
            entry = _merge(entries, raw)
            entries[entry.id] = entry
        self.models = tuple(self._checked(entry) for entry in entries.values())
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

    def family(self, entry: ModelEntry) -> Family:
        """The family whose schema `entry` speaks."""
        return self._families[entry.family]

    def adapter(self, entry: ModelEntry) -> ModelAdapter:
        """The adapter that speaks `entry`'s schema."""
        return self._families[entry.family].adapter

    def handler(self, entry: ModelEntry, task: Task) -> TaskHandler[Any]:
        """The handler of `entry`'s family for `task` (one `entry` does: the registry checked)."""
        return self._families[entry.family].adapter.handlers[task]

    def examples(self, task: Task) -> dict[str, Mapping[str, Any]]:
        """The spec's request examples for `task`, as the families give them, in their order."""
        return dict(self._examples.get(task, {}))

    def _add_examples(self, family: Family) -> None:
        for task, named in family.examples.items():
            known = self._examples.setdefault(task, {})
            for name, value in named.items():
                if name in known:
                    raise RegistryError(
                        f"family {family.name!r}: examples: {task}: {name!r} is another "
                        "family's example name"
                    )
                known[name] = value

    def for_task(self, task: Task) -> list[ModelEntry]:
        """The models that can do `task`."""
        return [entry for entry in self.models if task in entry.tasks]

    def _checked(self, entry: ModelEntry) -> ModelEntry:
        """`entry` once its family is known and its `limits` fit the family's typed limits
        model; they are kept as validated (normalised, only the keys given) for the adapter."""
        family = self._families.get(entry.family)
        if family is None:
            known = ", ".join(sorted(self._families))
            raise RegistryError(
                f"GATEWAY_MODELS entry {entry.id!r}: family: unknown family {entry.family!r}; "
                f"known: {known}"
            )
        unhandled = [task.value for task in entry.tasks if task not in family.adapter.handlers]
        if unhandled:
            raise RegistryError(
                f"GATEWAY_MODELS entry {entry.id!r}: tasks: family {entry.family!r} does not do "
                f"{', '.join(unhandled)}"
            )
        try:
            limits = family.adapter.limits_model.model_validate(entry.limits)
        except ValidationError as exc:
            raise RegistryError(_one_line(entry.id, exc, ("limits",))) from None
        checked = limits.model_dump(mode="json", exclude_unset=True)
        return entry.model_copy(update={"limits": checked})


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


def _one_line(model_id: Any, exc: ValidationError, prefix: tuple[str, ...]) -> str:
    """The error as one line, each bad field named: the gateway prints it and exits at start."""
    problems = "; ".join(
        f"{'.'.join(str(part) for part in (*prefix, *error['loc']))}: {error['msg']}"
        for error in exc.errors()
    )
    return f"GATEWAY_MODELS entry {model_id!r}: {problems}"
