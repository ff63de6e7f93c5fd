"""The services the lifespan opens, as typed request state, and the dependencies that hand each
to a route (`CatalogueDep` as the FastAPI template's `SessionDep`): a route names what it uses."""

from __future__ import annotations

from typing import Annotated, TypedDict

from fastapi import Depends, Request

from ..bedrock.client import BedrockClient
from ..cache.service import ResultCache
from ..families.registry import ModelRegistry
from ..idempotency.service import Idempotency
from ..jobs.service import Jobs
from ..quotas import Quotas
from ..settings import Settings
from ..spend.budgets import Spend
from ..surfaces.json_bounds import JsonBounds
from ..tasks.runner import TaskRunner
from ..tasks.validation import RequestValidator


class Services(TypedDict):
    """What the lifespan yields: every request finds each service in `request.state`."""

    settings: Settings
    # The models the gateway serves, their names and families.
    catalogue: ModelRegistry
    validator: RequestValidator
    # The Bedrock client: the runner calls it, and the Bedrock surface passes bodies through it.
    invoker: BedrockClient
    runner: TaskRunner
    quotas: Quotas
    spend: Spend
    cache: ResultCache | None
    # None when no job queue is configured.
    jobs: Jobs | None
    idempotency: Idempotency


def _settings(request: Request) -> Settings:
    settings: Settings = request.state.settings
    return settings


def _catalogue(request: Request) -> ModelRegistry:
    catalogue: ModelRegistry = request.state.catalogue
    return catalogue


def _validator(request: Request) -> RequestValidator:
    validator: RequestValidator = request.state.validator
    return validator


def _invoker(request: Request) -> BedrockClient:
    invoker: BedrockClient = request.state.invoker
    return invoker


def _runner(request: Request) -> TaskRunner:
    runner: TaskRunner = request.state.runner
    return runner


def _quotas(request: Request) -> Quotas:
    quotas: Quotas = request.state.quotas
    return quotas


def _spend(request: Request) -> Spend:
    spend: Spend = request.state.spend
    return spend


def _jobs(request: Request) -> Jobs | None:
    jobs: Jobs | None = getattr(request.state, "jobs", None)
    return jobs


def _bounds(request: Request) -> JsonBounds:
    return JsonBounds.of(_settings(request))


SettingsDep = Annotated[Settings, Depends(_settings)]
CatalogueDep = Annotated[ModelRegistry, Depends(_catalogue)]
ValidatorDep = Annotated[RequestValidator, Depends(_validator)]
InvokerDep = Annotated[BedrockClient, Depends(_invoker)]
RunnerDep = Annotated[TaskRunner, Depends(_runner)]
QuotasDep = Annotated[Quotas, Depends(_quotas)]
SpendDep = Annotated[Spend, Depends(_spend)]
# The job queue when one is configured (a route that needs one refuses without it).
MaybeJobsDep = Annotated[Jobs | None, Depends(_jobs)]
# The JSON bounds (depth, keys, numbers) every JSON body is read within.
BoundsDep = Annotated[JsonBounds, Depends(_bounds)]
