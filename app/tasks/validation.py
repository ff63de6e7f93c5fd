"""Turning a raw body into a task request for one model, listing every bad field in one answer."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from ..families.base import ModelAdapter, ModelEntry
from ..families.registry import ModelRegistry
from ..problems import MAX_LISTED_ERRORS, FieldProblem, field_name, invalid
from ..schemas.requests import REQUEST_MODELS, ImageLimits, Task, TaskRequest
from ..settings import Settings
from ..wording import did_you_mean

_NAME_SHOWN = 100


class RequestValidator:
    """Checks a body against the task schema, then against the chosen model's limits."""

    def __init__(self, registry: ModelRegistry, settings: Settings) -> None:
        self.registry = registry
        self.settings = settings
        self.context = {
            "image_limits": ImageLimits(
                max_bytes=settings.max_image_bytes, max_pixels=settings.max_image_pixels
            )
        }

    def default_model(self, task: Task) -> str:
        """The model a request without `model` goes to."""
        return self.settings.default_models.get(task.value, self.settings.default_model)

    def default_entry(self, task: Task) -> ModelEntry | None:
        """The model a request without `model` (and without a selecting field) goes to."""
        return self._choose(task, {})[0]

    def validate(
        self, task: Task, raw: dict[str, Any]
    ) -> tuple[TaskRequest, ModelEntry, ModelAdapter]:
        """The request, its model and adapter; or a ProblemError listing every bad field."""
        schema = REQUEST_MODELS[task]
        problems: list[FieldProblem] = []
        unsupported = False
        raw, unlisted = _unknown_keys_listed(schema, raw)
        request: Any = None
        try:
            request = schema.model_validate(raw, context=self.context)
        except ValidationError as exc:
            for error in exc.errors():
                message = error["msg"]
                if error["type"] == "extra_forbidden" and len(error["loc"]) == 1:
                    hint = did_you_mean(str(error["loc"][0]), schema.model_fields)
                    message = f"{message}; {hint}" if hint else message
                problems.append(
                    FieldProblem(field=field_name(tuple(error["loc"])), message=message)
                )
                unsupported |= error["type"] == "unsupported_image"
            # Validate again without the broken fields, so the model's own limits can still be
            # checked on the rest and the caller learns everything in one answer.
            broken = {error["loc"][0] for error in exc.errors() if error["loc"]}
            try:
                request = schema.model_validate(
                    {k: v for k, v in raw.items() if k not in broken}, context=self.context
                )
            except ValidationError:
                request = None

        entry, choice_problem = self._choose(task, raw)
        if choice_problem is not None:
            problems = [p for p in problems if p.field != choice_problem.field] + [choice_problem]
        if entry is None:
            count = len(problems) + unlisted
            raise invalid(problems, status=415 if unsupported else 422, count=count)

        adapter = self.registry.adapter(entry)
        if request is not None:
            reported = {p.field for p in problems}
            handler = self.registry.handler(entry, task)
            for problem in adapter.untaken(entry, task, request) + handler.check(entry, request):
                if problem.field not in reported:
                    problems.append(problem)
                    reported.add(problem.field)
        if problems:
            count = len(problems) + unlisted
            detail = f"{count} field{'s are' if count != 1 else ' is'} not valid for {entry.id}"
            status = 415 if unsupported else 422
            raise invalid(problems, detail=detail, status=status, count=count)
        assert request is not None
        return request, entry, adapter

    def _choose(
        self, task: Task, raw: dict[str, Any]
    ) -> tuple[ModelEntry | None, FieldProblem | None]:
        """The model for the request, and a problem when the choice is not valid."""
        name = raw.get("model") if isinstance(raw.get("model"), str) else None
        if name is not None:
            entry = self.registry.resolve(name)
            if entry is None or task not in entry.tasks:
                return None, FieldProblem(
                    field="model", message=self._model_message(task, name, entry)
                )
            return entry, self._selector_conflict(task, entry, raw)
        candidates = self.registry.for_task(task)
        selecting = {key for entry in candidates for key in entry.selector}
        if selecting:
            # Several models serve the task (the upscalers, the control models): a request field
            # picks one, unless the operator set a default for the task.
            configured = self.settings.default_models.get(task.value)
            if configured is None:
                return self._select(task, candidates, sorted(selecting)[0], raw)
        default = self.default_model(task)
        entry = self.registry.resolve(default)
        if entry is not None and task in entry.tasks:
            return entry, self._selector_conflict(task, entry, raw)
        if task.value in self.settings.default_models:
            message = f"the default model for {task}, {default!r}, cannot do it; name a model"
            return None, FieldProblem(field="model", message=message)
        if candidates:
            return candidates[0], None
        return None, FieldProblem(field="model", message=self._model_message(task, None, None))

    def _select(
        self, task: Task, candidates: list[ModelEntry], key: str, raw: dict[str, Any]
    ) -> tuple[ModelEntry | None, FieldProblem | None]:
        value = raw.get(key, _SELECTOR_DEFAULTS.get(task))
        options = {entry.selector[key]: entry for entry in candidates if key in entry.selector}
        if (
            isinstance(value, str) and value in options
        ):  # any JSON type may come: lists are unhashable
            return options[value], None
        listing = ", ".join(sorted(options))
        if value is None:
            return None, FieldProblem(field=key, message=f"required: one of {listing}")
        return None, FieldProblem(field=key, message=f"must be one of {listing}")

    def _selector_conflict(
        self, task: Task, entry: ModelEntry, raw: dict[str, Any]
    ) -> FieldProblem | None:
        for key, value in entry.selector.items():
            given = raw.get(key)
            if given is not None and given != value:
                others = [e for e in self.registry.for_task(task) if e.selector.get(key) == given]
                hint = f"; {key}={given} is {others[0].name}" if others else ""
                return FieldProblem(
                    field=key, message=f"{entry.name} does {key}={value}, not {given}{hint}"
                )
        return None

    def _model_message(self, task: Task, name: str | None, entry: ModelEntry | None) -> str:
        fitting = ", ".join(
            f"{e.aliases[0]} ({e.id})" if e.aliases else e.id for e in self.registry.for_task(task)
        )
        if entry is None:
            # The name is the caller's, of any length: quote enough of it to recognise.
            text = name or ""
            shown = text if len(text) <= _NAME_SHOWN else f"{text[:_NAME_SHOWN]}..."
            names = [n for e in self.registry.for_task(task) for n in (*e.aliases, e.id)]
            hint = did_you_mean(text, names) if text else ""
            return (
                f"unknown model {shown!r}; {hint + ' ' if hint else ''}models for {task}: {fitting}"
            )
        return f"{entry.id} cannot do {task}; models that can: {fitting}"


def _unknown_keys_listed(
    schema: type[BaseModel], raw: dict[str, Any]
) -> tuple[dict[str, Any], int]:
    """`raw` with no more unknown keys than an answer lists, and how many others it had.

    Pydantic makes an error object per unknown key; past the few an answer lists they are only
    counted, by a set lookup each.
    """
    known = schema.model_fields
    unknown = [key for key in raw if key not in known]
    if len(unknown) <= MAX_LISTED_ERRORS:
        return raw, 0
    dropped = set(unknown[MAX_LISTED_ERRORS:])
    return {key: value for key, value in raw.items() if key not in dropped}, len(dropped)


# What a task's selecting field means when the caller leaves it out.
_SELECTOR_DEFAULTS: dict[Task, str] = {Task.UPSCALE: "fast"}
