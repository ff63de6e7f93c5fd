"""POST /openai/v1/images/{generations,edits,variations}, answered as OpenAI's Images API answers.

Each request is translated into the native vocabulary and run by the native task runner, so every
validation, limit, retry and replacement rule is the native API's; only the shapes differ. Errors
are answered in OpenAI's shape from inside the endpoints, so the app's problem+json handlers never
see them.

Not in openapi/openapi.json: callers of this surface use the OpenAI SDK and OpenAI's own spec.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.exceptions import HTTPException
from starlette.responses import Response

from ...auth.keys import current_key
from ...http.handlers import unexpected
from ...http.json_bounds import JsonBounds
from ...http.services import BoundsDep, MaybeJobsDep, RunnerDep, ValidatorDep
from ...jobs.service import Jobs
from ...problems import ProblemError, request_id_of
from ...tasks.runner import TaskRunner
from ...tasks.validation import RequestValidator
from .answers import render
from .body import read_body
from .errors import OpenAIError, from_problem
from .requests import map_edit, map_generation, map_variation
from .vocabulary import Mapped

router = APIRouter(prefix="/openai/v1", include_in_schema=False)

Mapper = Callable[[RequestValidator, dict[str, Any]], Mapped]


@dataclass(frozen=True)
class OpenAIServices:
    """What an OpenAI image route uses."""

    runner: TaskRunner
    validator: RequestValidator
    bounds: JsonBounds
    jobs: Jobs | None


async def _services(
    runner: RunnerDep, validator: ValidatorDep, bounds: BoundsDep, jobs: MaybeJobsDep
) -> OpenAIServices:
    return OpenAIServices(runner, validator, bounds, jobs)


_Services = Annotated[OpenAIServices, Depends(_services)]


@router.post("/images/generations")
async def generations(request: Request, services: _Services) -> Response:
    """Images from a prompt (JSON)."""
    return await _serve(request, services, map_generation, multipart=False)


@router.post("/images/edits")
async def edits(request: Request, services: _Services) -> Response:
    """An edit of one image by a mask or its transparency, else variations of the images
    (multipart with `image` / `image[]` files, or JSON with data URLs)."""
    return await _serve(request, services, map_edit, multipart=True)


@router.post("/images/variations")
async def variations(request: Request, services: _Services) -> Response:
    """Variations of one image (multipart; JSON with a data URL also works)."""
    return await _serve(request, services, map_variation, multipart=True)


async def _serve(
    request: Request, services: OpenAIServices, mapper: Mapper, *, multipart: bool
) -> Response:
    request_id = request_id_of(request.scope)
    try:
        response = await _run(request, services, mapper, multipart=multipart)
    except OpenAIError as error:
        return error.response(request_id)
    except Exception:
        failed = OpenAIError(500, "The gateway failed unexpectedly.", code="internal_error")
        return unexpected(request, lambda: failed.response(request_id))
    return response


async def _run(
    request: Request, services: OpenAIServices, mapper: Mapper, *, multipart: bool
) -> Response:
    runner = services.runner
    mapped: Mapped | None = None
    try:
        fields = await read_body(request, services.bounds, multipart=multipart)
        mapped = await asyncio.to_thread(mapper, services.validator, fields)
        del fields  # mapped.raw has what is needed; the run empties it once the calls are built
        key = current_key(request.scope)
        result = await runner.run(mapped.task, mapped.raw, key=key)
    except ProblemError as problem:
        raise from_problem(problem, mapped.param_of if mapped else _as_sent) from None
    except HTTPException as exc:  # Starlette's answer to a malformed multipart body
        raise OpenAIError(exc.status_code, str(exc.detail), code="invalid_body") from None
    jobs = services.jobs
    links = jobs.links(str(request.base_url)) if jobs is not None else None
    return await render(runner, result, mapped, key, links)


def _as_sent(name: str) -> str | None:
    return None if name == "body" else name
