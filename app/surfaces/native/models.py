"""GET /v1/models (optionally for one task) and GET /v1/models/{model_id}: what each model can do,
its limits and defaults.

Indented JSON for a browser (`Accept: text/html`) or `?pretty`; compact otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from ...families.base import Lifecycle, ModelEntry
from ...families.registry import ModelRegistry
from ...http.media import JSON, asks_for_html
from ...http.services import CatalogueDep, RunnerDep, SettingsDep, SpendDep, ValidatorDep
from ...http.spec import MODEL_RESPONSES
from ...problems.types import MODEL_NOT_FOUND
from ...schemas.requests import Task
from ...settings import Settings
from ...spend.prices import PriceTable
from ...tasks.replacement import ReplacementMap
from ...tasks.validation import RequestValidator
from ...wording import did_you_mean

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
    price: dict[str, Any] | None = Field(
        description="What Bedrock charges, in USD, as GATEWAY_PRICES writes it (docs/spend.md): "
        "`image` per image, `tiers` by size with `premium`, or `input_tokens`/`output_tokens` "
        "per million; null when unknown.",
        examples=[{"image": 0.14, "source": "AWS Bedrock price list"}],
    )
    price_known: bool = Field(
        description="False when some task of the model has no known price: its answers report "
        "`cost_usd: null` and no budget is charged for them."
    )


class ModelList(BaseModel):
    """Every model the gateway serves."""

    models: list[ModelInfo]


_PRETTY = Query(
    description="Indent the JSON (any value but `false` or `0`; a browser gets it indented anyway)."
)


@router.get(
    "/models",
    operation_id="listModels",
    summary="List models, their tasks and limits",
    response_model=ModelList,
    responses={401: MODEL_RESPONSES[401], 422: MODEL_RESPONSES[422]},
)
async def list_models(
    request: Request,
    catalogue: CatalogueDep,
    describe: DescriberDep,
    task: Annotated[Task | None, Query(description="Only the models that do this task.")] = None,
    pretty: Annotated[str | None, _PRETTY] = None,
) -> Response:
    """Models with their tasks, the fields each task takes, limits and defaults."""
    entries = catalogue.models if task is None else catalogue.for_task(task)
    listing = ModelList(models=[describe(entry) for entry in entries])
    return _json(request, listing, pretty)


@router.get(
    "/models/{model_id:path}",
    operation_id="getModel",
    summary="One model, its tasks and limits",
    response_model=ModelInfo,
    responses=MODEL_RESPONSES,
)
async def get_model(
    request: Request,
    catalogue: CatalogueDep,
    describe: DescriberDep,
    model_id: Annotated[
        str, Path(description="An id, alias, inference-profile id or ARN, as `model` takes.")
    ],
    pretty: Annotated[str | None, _PRETTY] = None,
) -> Response:
    """The model any of its names stands for."""
    entry = catalogue.resolve(model_id)
    if entry is None:
        names = [name for e in catalogue.models for name in (*e.aliases, e.id)]
        shown = model_id if len(model_id) <= 100 else f"{model_id[:100]}..."
        hint = did_you_mean(model_id, names)
        raise MODEL_NOT_FOUND.error(
            detail=f"no model is named {shown!r}{f' ({hint})' if hint else ''}; "
            "GET /v1/models lists them",
        )
    return _json(request, describe(entry), pretty)


def _json(request: Request, answer: BaseModel, pretty: str | None) -> Response:
    """The answer as JSON, indented when a browser or `?pretty` asks."""
    indent = asks_for_html(request) or (pretty is not None and pretty.lower() not in {"false", "0"})
    option = orjson.OPT_INDENT_2 if indent else 0
    return Response(orjson.dumps(answer.model_dump(mode="json"), option=option), media_type=JSON)


@dataclass(frozen=True)
class ModelDescriber:
    """What GET /v1/models says of one model, from the services that know each part."""

    catalogue: ModelRegistry
    validator: RequestValidator
    settings: Settings
    prices: PriceTable
    replacements: ReplacementMap

    def __call__(self, entry: ModelEntry) -> ModelInfo:
        """`entry` described."""
        return _info(self, entry)


async def _describer(
    catalogue: CatalogueDep,
    validator: ValidatorDep,
    settings: SettingsDep,
    spend: SpendDep,
    runner: RunnerDep,
) -> ModelDescriber:
    return ModelDescriber(catalogue, validator, settings, spend.prices, runner.replacements)


DescriberDep = Annotated[ModelDescriber, Depends(_describer)]


def _info(describer: ModelDescriber, entry: ModelEntry) -> ModelInfo:
    settings = describer.settings
    adapter = describer.catalogue.adapter(entry)
    tasks = [
        TaskInfo(
            task=task.value,
            fields=sorted(adapter.fields_for(entry, task) | {"model", "n"}),
            default=describer.validator.default_entry(task) == entry,
        )
        for task in entry.tasks
    ]
    return ModelInfo(
        id=entry.id,
        aliases=list(entry.aliases),
        family=entry.family,
        status=entry.status,
        legacy_date=entry.legacy_date,
        end_of_life=entry.end_of_life,
        successors=list(entry.successors),
        replacement=_replacement(describer.replacements, entry),
        invoke_id=entry.target,
        region=entry.region or settings.region,
        fallback_regions=list(entry.fallback_regions),
        read_timeout_s=entry.read_timeout_s or settings.read_timeout_s,
        selector=entry.selector,
        description=entry.description,
        tasks=tasks,
        limits=adapter.describe(entry),
        price=describer.prices.describe(entry),
        price_known=describer.prices.known(entry),
    )


def _replacement(replacements: ReplacementMap, entry: ModelEntry) -> Replacement | None:
    mapped = replacements.successors(entry)
    if mapped is None:
        return None
    return Replacement(successors={task.value: s.id if s else None for task, s in mapped.items()})
