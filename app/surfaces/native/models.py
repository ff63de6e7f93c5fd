"""GET /v1/models: what each model can do, its limits and defaults."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from ...adapters.base import Lifecycle, ModelEntry
from ...tasks.runner import TaskRunner

router = APIRouter(prefix="/v1", tags=["models"])


class TaskInfo(BaseModel):
    """One task of a model and the fields it takes for it."""

    task: str = Field(examples=["text-to-image"])
    fields: list[str]
    default: bool = Field(description="Whether requests without `model` go to this model.")


class Replacement(BaseModel):
    """How the gateway serves a retired model's requests (the replacement map)."""

    successors: dict[str, str | None] = Field(
        description="Task -> the model that serves it; null: refused, no live model does it.",
        examples=[{"text-to-image": "stability.sd3-5-large-v1:0"}],
    )


class ModelInfo(BaseModel):
    """A model the gateway serves."""

    id: str = Field(examples=["amazon.titan-image-generator-v1"])
    aliases: list[str]
    family: str
    status: Lifecycle
    legacy_date: date | None
    end_of_life: date | None
    successors: list[str] = Field(description="Models to move to when this one is retired.")
    replacement: Replacement | None = Field(
        description="Set when GATEWAY_REPLACEMENTS serves this model's requests with others."
    )
    invoke_id: str = Field(description="What InvokeModel is called with: id, profile id or ARN.")
    region: str
    fallback_regions: list[str] = Field(
        description="Regions the call moves to, in order, when the first is throttling or down."
    )
    read_timeout_s: float
    selector: dict[str, str] = Field(
        description="For tasks several models serve: the request field value that picks this one."
    )
    description: str
    tasks: list[TaskInfo]
    limits: dict[str, Any]


class ModelList(BaseModel):
    """Every model the gateway serves."""

    models: list[ModelInfo]


@router.get("/models", operation_id="listModels", summary="List models, their tasks and limits")
async def list_models(request: Request) -> ModelList:
    """Models with their tasks, the fields each task takes, limits and defaults."""
    runner: TaskRunner = request.state.runner
    registry = runner.validator.registry
    settings = runner.validator.settings
    out = []
    for entry in registry.models:
        adapter = registry.adapter(entry)
        tasks = [
            TaskInfo(
                task=task.value,
                fields=sorted(adapter.fields_for(entry, task) | {"model", "n"}),
                default=runner.validator.default_entry(task) == entry,
            )
            for task in entry.tasks
        ]
        out.append(
            ModelInfo(
                id=entry.id,
                aliases=list(entry.aliases),
                family=entry.family,
                status=entry.status,
                legacy_date=entry.legacy_date,
                end_of_life=entry.end_of_life,
                successors=list(entry.successors),
                replacement=_replacement(runner, entry),
                invoke_id=entry.target,
                region=entry.region or settings.region,
                fallback_regions=list(entry.fallback_regions),
                read_timeout_s=entry.read_timeout_s or settings.read_timeout_s,
                selector=entry.selector,
                description=entry.description,
                tasks=tasks,
                limits=adapter.describe(entry),
            )
        )
    return ModelList(models=out)


def _replacement(runner: TaskRunner, entry: ModelEntry) -> Replacement | None:
    mapped = runner.replacements.successors(entry)
    if mapped is None:
        return None
    return Replacement(successors={task.value: s.id if s else None for task, s in mapped.items()})
