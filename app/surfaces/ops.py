"""Operators' endpoints: /metrics (Prometheus), /healthz (alive), /readyz (able to serve).

Kept out of the image API's OpenAPI document: they are for scrapers and orchestrators, not API
callers, and their shapes are Prometheus's and the probes' own.
"""

from __future__ import annotations

import math
from dataclasses import replace

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from ..http.media import JSON
from ..http.services import InvokerDep, MaybeJobsDep
from ..observability.metrics import Metrics
from ..observability.readiness import ReadinessCheck
from ..problems import problem_response
from ..problems.types import NOT_READY

router = APIRouter(include_in_schema=False)


@router.get("/metrics")
async def metrics(request: Request, jobs: MaybeJobsDep) -> Response:
    """Every metric in Prometheus's text format."""
    registry: Metrics = request.app.state.metrics
    if jobs is not None:
        await jobs.refresh_metrics()
    body, content_type = registry.exposition()
    return Response(body, media_type=content_type)


@router.get("/healthz")
async def healthz() -> Response:
    """200 while the process serves requests: the liveness probe."""
    return Response(orjson.dumps({"status": "ok"}), media_type=JSON)


@router.get("/readyz")
async def readyz(request: Request, jobs: MaybeJobsDep, invoker: InvokerDep) -> Response:
    """200 when credentials resolve and Bedrock is reachable; else 503 problem+json saying why.

    Either way the answer lists the circuits that are not closed (`open_circuits`: target,
    region, state and the seconds left of the cool-down), which fail calls to those models at
    once. They do not make the replica unready: every replica shares the same Bedrock, so taking
    this one out of rotation would only move its callers to replicas whose circuits open too, and
    the cool-down ends (one probe call decides) only if calls keep coming.
    """
    check: ReadinessCheck = request.app.state.readiness
    outcome = await check.check()
    if outcome.ready and jobs is not None:
        # The job queue's Redis and the result store, when jobs are on: each ask is cheap.
        reason = await jobs.unready()
        if reason is not None:
            outcome = replace(outcome, ready=False, reason=reason)
    circuits = [c for c in invoker.circuits() if c["state"] != "closed"]
    if outcome.ready:
        body = {"status": "ready", "endpoint": outcome.endpoint, "open_circuits": circuits}
        return Response(orjson.dumps(body), media_type=JSON)
    retry_after = max(1, math.ceil(check.settings.readiness_cache_s))
    problem = NOT_READY.error(
        detail=outcome.reason or "not ready",
        headers={"Retry-After": str(retry_after)},
        extra={"endpoint": outcome.endpoint, "open_circuits": circuits},
    )
    return problem_response(problem, request.scope)
