"""The FastAPI application: lifespan, middleware, error handlers, routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.responses import Response
from starlette.types import Scope

from .auth.keys import load_keys
from .bedrock.client import open_bedrock
from .families.registry import ModelRegistry
from .http.handlers import install_error_handlers
from .http.services import Services
from .http.spec import (
    TaskDefault,
    component_schemas,
    problem_examples,
    with_examples,
)
from .idempotency.spec import document_reuse
from .jobs.service import open_jobs
from .jobs.worker import in_process_worker
from .middleware import install_middleware
from .observability.metrics import Metrics
from .observability.readiness import ReadinessCheck
from .problems import ProblemError, problem_response, request_id_of
from .quotas import open_quotas
from .reuse import open_reuse
from .schemas.requests import Task
from .settings import Settings, get_settings
from .spend.budgets import open_spend
from .spend.setup import price_table
from .surfaces import home, ops
from .surfaces.bedrock import route as bedrock
from .surfaces.bedrock.errors import from_problem as bedrock_error
from .surfaces.jobs import batches as batch_routes
from .surfaces.jobs import routes as jobs_routes
from .surfaces.native import images, models, usage
from .surfaces.openai import routes as openai
from .surfaces.openai.errors import from_problem as openai_error
from .tasks.runner import TaskRunner
from .tasks.validation import RequestValidator
from .web.pages import PAGE_POLICIES, install_pages


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the gateway for `settings` (the environment's when omitted)."""
    settings = settings or get_settings()
    registry = ModelRegistry(overrides=settings.models, families=settings.families)
    # A bad key entry stops the start here, naming the entry.
    keys = load_keys(settings.api_keys, resolve=registry.resolve)
    # So does a bad price, a served model without one (GATEWAY_REQUIRE_PRICES), a bad budget.
    prices = price_table(settings, registry)

    # One registry per app: two apps in one process (tests) never mix their counts.
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[Services]:
        async with open_bedrock(settings) as bedrock:
            bedrock.observer = metrics
            metrics.watch(bedrock)
            validator = RequestValidator(registry, settings)
            async with (
                open_quotas(settings) as quotas,
                open_spend(settings, prices) as spend,
                open_jobs(settings) as jobs,
                open_reuse(settings) as reuse,
            ):
                spend.observer = metrics
                runner = TaskRunner(validator, bedrock, quotas, spend, reuse.cache)
                with metrics.jobs(jobs):
                    # The worker runs on this very runner (its Bedrock client's gates, quotas,
                    # spend ledger): in the embedded mode that alone keeps requests and jobs
                    # under one per-model cap and one budget per key, without Redis.
                    async with in_process_worker(jobs, runner, keys, settings):
                        yield Services(
                            settings=settings,
                            catalogue=registry,
                            validator=validator,
                            invoker=bedrock,
                            runner=runner,
                            quotas=quotas,
                            spend=spend,
                            cache=reuse.cache,
                            jobs=jobs,
                            idempotency=reuse.idempotency,
                        )

    app = FastAPI(
        title="Bedrock image gateway",
        version="0.1.0",
        summary="One HTTP API in front of Amazon Bedrock's image models.",
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
        # The docs pages are the gateway's own (app.web.pages): FastAPI's load from a CDN.
        docs_url=None,
        redoc_url=None,
    )
    app.include_router(images.router)
    app.include_router(models.router)
    app.include_router(usage.router)
    app.include_router(bedrock.router)
    app.include_router(openai.router)
    app.include_router(jobs_routes.router)
    app.include_router(batch_routes.router)
    app.include_router(ops.router)
    app.include_router(home.router)
    install_pages(app)
    app.state.metrics = metrics
    app.state.readiness = ReadinessCheck(settings)
    install_error_handlers(app)
    install_middleware(
        app, settings, keys=keys, metrics=metrics, pages=PAGE_POLICIES, answer=_refusal
    )
    _attach_spec_schemas(app, registry, _default_models(registry, settings))
    return app


def _refusal(problem: ProblemError, scope: Scope) -> Response:
    """A refusal made before routing, in the shape of the surface the path belongs to."""
    path: str = scope["path"]
    if path.startswith("/model/"):
        return bedrock_error(problem).response(request_id_of(scope))
    if path.startswith("/openai/"):
        return openai_error(problem, lambda _: None).response(request_id_of(scope))
    return problem_response(problem, scope)


def _operation_id(route: APIRoute) -> str:
    return route.operation_id or route.name


def _default_models(registry: ModelRegistry, settings: Settings) -> dict[Task, TaskDefault]:
    """Each task's default model; for a task whose model a field picks (control), the first
    that serves it: the spec's examples name a model that takes the request as it is."""
    validator = RequestValidator(registry, settings)
    defaults = {}
    for task in Task:
        entry = validator.default_entry(task) or next(iter(registry.for_task(task)), None)
        if entry is not None:
            fields = registry.adapter(entry).fields_for(entry, task)
            defaults[task] = TaskDefault(entry.name, fields, registry.examples(task))
    return defaults


def _attach_spec_schemas(
    app: FastAPI, registry: ModelRegistry, default_models: dict[Task, TaskDefault]
) -> None:
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = original()
            with_examples(schema, registry)
            components = schema.setdefault("components", {})
            components.setdefault("schemas", {}).update(component_schemas(default_models))
            components["examples"] = problem_examples()
            document_reuse(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
