"""The services the lifespan opens, as typed request state, and the dependencies that hand each
to a route (`CatalogueDep` as the FastAPI template's `SessionDep`): a route names what it uses."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any, TypedDict

from fastapi import Depends, Request

from ..bedrock.client import BedrockClient
from ..cache.service import ResultCache
from ..families.registry import ModelRegistry
from ..idempotency.service import Idempotency
from ..jobs.service import Jobs
from ..quotas import Quotas
from ..settings import Settings
from ..spend.budgets import Spend
from ..tasks.runner import TaskRunner
from ..tasks.validation import RequestValidator
from .json_bounds import JsonBounds

# Every dependency here is `async def`, though none awaits: FastAPI runs a plain `def` dependency
# in its thread pool, a thread hop per dependency per request (measured: c=16 text-to-image
# throughput fell from 0.89x to about 0.5x of the direct call).


def _from_state(name: str) -> Callable[[Request], Coroutine[Any, Any, Any]]:
    """The dependency that hands a route the service the lifespan named `name`."""

    async def service(request: Request) -> Any:
        return getattr(request.state, name)

    return service


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


async def _jobs(request: Request) -> Jobs | None:
    jobs: Jobs | None = getattr(request.state, "jobs", None)
    return jobs


SettingsDep = Annotated[Settings, Depends(_from_state("settings"))]
CatalogueDep = Annotated[ModelRegistry, Depends(_from_state("catalogue"))]
ValidatorDep = Annotated[RequestValidator, Depends(_from_state("validator"))]
InvokerDep = Annotated[BedrockClient, Depends(_from_state("invoker"))]
RunnerDep = Annotated[TaskRunner, Depends(_from_state("runner"))]
QuotasDep = Annotated[Quotas, Depends(_from_state("quotas"))]
SpendDep = Annotated[Spend, Depends(_from_state("spend"))]
# The job queue when one is configured (a route that needs one refuses without it).
MaybeJobsDep = Annotated[Jobs | None, Depends(_jobs)]


async def _bounds(settings: SettingsDep) -> JsonBounds:
    return JsonBounds.of(settings)


# The JSON bounds (depth, keys, numbers) every JSON body is read within.
BoundsDep = Annotated[JsonBounds, Depends(_bounds)]
