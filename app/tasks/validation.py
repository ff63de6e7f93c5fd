"""Turning a raw body into a task request for one model, listing every bad field in one answer."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from ..adapters.base import ModelAdapter, ModelEntry
from ..adapters.registry import ModelRegistry
from ..problems import FieldProblem, field_name, invalid
from ..schemas.requests import REQUEST_MODELS, ImageLimits, Task, TaskRequest
from ..settings import Settings


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

    def validate(
        self, task: Task, raw: dict[str, Any]
    ) -> tuple[TaskRequest, ModelEntry, ModelAdapter]:
        """The request, its model and adapter; or a ProblemError listing every bad field."""
        schema = REQUEST_MODELS[task]
        problems: list[FieldProblem] = []
        unsupported = False
        request: Any = None
        try:
            request = schema.model_validate(raw, context=self.context)
        except ValidationError as exc:
            for error in exc.errors():
                problems.append(
                    FieldProblem(field=field_name(tuple(error["loc"])), message=error["msg"])
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

        name = raw.get("model") if isinstance(raw.get("model"), str) else None
        entry = self.registry.resolve(name or self.default_model(task))
        if entry is None or task not in entry.tasks:
            problems.append(
                FieldProblem(field="model", message=self._model_message(task, name, entry))
            )
            raise invalid(problems, status=415 if unsupported else 422)

        adapter = self.registry.adapter(entry)
        if request is not None:
            reported = {p.field for p in problems}
            for problem in adapter.untaken(task, request) + adapter.check(entry, task, request):
                if problem.field not in reported:
                    problems.append(problem)
                    reported.add(problem.field)
        if problems:
            count = len(problems)
            detail = f"{count} field{'s are' if count != 1 else ' is'} not valid for {entry.id}"
            raise invalid(problems, detail=detail, status=415 if unsupported else 422)
        assert request is not None
        return request, entry, adapter

    def _model_message(self, task: Task, name: str | None, entry: ModelEntry | None) -> str:
        fitting = ", ".join(
            f"{e.aliases[0]} ({e.id})" if e.aliases else e.id for e in self.registry.for_task(task)
        )
        if entry is None:
            return f"unknown model {name!r}; models for {task}: {fitting}"
        return f"{entry.id} cannot do {task}; models that can: {fitting}"
