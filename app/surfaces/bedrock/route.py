"""POST /model/{modelId}/invoke: Bedrock's InvokeModel, served for boto3 and every Bedrock client.

The body is read into the native vocabulary and validated by the gateway's own rules, so a bad
body is refused before any call, naming each field by the caller's JSON path. Then either the
replacement map sends the task to a successor model and the answer is written in the caller's
family shape, or the ORIGINAL bytes go to Bedrock and its answer comes back byte for byte.
The caller's API key (a bearer token: boto3 sends AWS_BEARER_TOKEN_BEDROCK) is checked by the
auth middleware; here, whether it may use the model and the task the body asks for.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass
from typing import Annotated

import orjson
from botocore.exceptions import ClientError
from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from ...auth.keys import current_key
from ...bedrock.client import BedrockClient
from ...bedrock.errors import is_end_of_life, retired_problem
from ...families.base import Lifecycle, ModelEntry
from ...families.reading import Reading
from ...families.registry import ModelRegistry
from ...http.handlers import unexpected
from ...http.json_bounds import JsonBounds
from ...http.json_bounds import check as check_bounds
from ...http.media import JSON
from ...http.result_headers import answer_headers
from ...http.services import (
    CatalogueDep,
    InvokerDep,
    QuotasDep,
    RunnerDep,
    SettingsDep,
    SpendDep,
    ValidatorDep,
)
from ...http.upload import read_upload
from ...problems import ProblemError, request_id_of
from ...quotas import Quotas
from ...settings import Settings
from ...spend.answers import answered_images
from ...spend.budgets import Spend
from ...tasks.runner import TaskRunner
from ...tasks.validation import RequestValidator
from ...wording import byte_size
from .errors import (
    BedrockError,
    from_problem,
    from_upstream,
    invalid_model,
    validation_error,
)
from .readers import read
from .writers import write

router = APIRouter(tags=["bedrock"])

MAX_BODY_BYTES = 25_000_000  # InvokeModel's own cap
INVOKE = "InvokeModel"
CONVERSE = "Converse"
# The usage records' task of a pass-through body whose task the gateway cannot tell.
UNKNOWN_TASK = "unknown"


@dataclass(frozen=True)
class PassThrough:
    """What the Bedrock surface uses: the catalogue and validator to read a body, quotas and
    spend to admit and charge it, the invoker to pass it through, and the task runner for a
    retired model's requests (a successor serves them)."""

    settings: Settings
    catalogue: ModelRegistry
    validator: RequestValidator
    runner: TaskRunner
    invoker: BedrockClient
    quotas: Quotas
    spend: Spend


async def _services(
    settings: SettingsDep,
    catalogue: CatalogueDep,
    validator: ValidatorDep,
    runner: RunnerDep,
    invoker: InvokerDep,
    quotas: QuotasDep,
    spend: SpendDep,
) -> PassThrough:
    return PassThrough(settings, catalogue, validator, runner, invoker, quotas, spend)


_Services = Annotated[PassThrough, Depends(_services)]


@router.post("/model/{model_id:path}/invoke", include_in_schema=False)
async def invoke_model(request: Request, model_id: str, services: _Services) -> Response:
    """InvokeModel: any Content-Type (botocore may send none); Accept is JSON by default."""
    return await _answer(request, services, model_id, INVOKE)


@router.post("/model/{model_id:path}/converse", include_in_schema=False)
async def converse(request: Request, model_id: str, services: _Services) -> Response:
    """Converse: validated as InvokeModel bodies are (the model's family reads it), then passed
    through, its answer and errors as Bedrock's."""
    return await _answer(request, services, model_id, CONVERSE)


async def _answer(
    request: Request, services: PassThrough, model_id: str, operation: str
) -> Response:
    request_id = request_id_of(request.scope)
    try:
        body, media, headers = await _invoke(request, services, model_id, operation)
    except BedrockError as error:
        return error.response(request_id)
    except Exception:
        failed = BedrockError("InternalServerException", "The gateway failed unexpectedly.")
        return unexpected(request, lambda: failed.response(request_id))
    if request_id:
        headers["x-amzn-RequestId"] = request_id
    return Response(body, media_type=media, headers=headers)


async def _invoke(
    request: Request, services: PassThrough, model_id: str, operation: str
) -> tuple[bytes, str, dict[str, str]]:
    runner = services.runner
    deadline = time.monotonic() + services.settings.request_deadline_s
    raw = await _read_body(request)
    entry = services.catalogue.resolve(model_id)
    if entry is None:
        raise invalid_model()
    served_by = services.catalogue.adapter(entry).operation
    if served_by != operation:
        raise BedrockError(
            "ValidationException",
            f"{entry.id} is called with {served_by}, not {operation}: "
            f"POST /model/{{modelId}}/{'converse' if served_by == CONVERSE else 'invoke'}.",
        )
    reading, digest = await asyncio.to_thread(_checked, services, entry, raw, operation)
    key = current_key(request.scope)
    try:
        key.permit(entry, reading.task)
    except ProblemError as problem:
        raise from_problem(problem) from None
    if reading.task is not None and runner.replaced(entry, reading.task):
        try:
            result = await runner.run(reading.task, reading.fields, key=key)
        except ProblemError as problem:
            raise from_problem(problem) from None
        family = services.catalogue.family(entry)
        return write(family, result), JSON, answer_headers(result)
    accept = request.headers.get("accept") or JSON
    images = _images(reading)
    quote = services.spend.quote(entry.id, reading.task, reading.fields)
    task = reading.task.value if reading.task is not None else UNKNOWN_TASK
    try:
        charge = await services.spend.hold(key, entry.id, task, quote, images)
        async with charge, await services.quotas.admit(key, images) as lease:
            answer, media = await _pass_through(
                services, entry, raw, digest, accept, deadline, operation
            )
            made = await asyncio.to_thread(answered_images, answer, media)
            await charge.settle(quote.cost(made))
    except ProblemError as problem:
        raise from_problem(problem) from None
    return answer, media, {"Served-Model": entry.id, **lease.headers}


def _images(reading: Reading) -> int:
    """The images a pass-through body asks for (1 when the gateway cannot tell)."""
    n = reading.fields.get("n", 1)
    return n if isinstance(n, int) and not isinstance(n, bool) and n >= 1 else 1


async def _pass_through(
    services: PassThrough,
    entry: ModelEntry,
    raw: bytes,
    digest: str | None,
    accept: str,
    deadline: float,
    operation: str,
) -> tuple[bytes, str]:
    """The caller's bytes to the model's target, its answer back untouched (Converse's: as the
    wire carries it, through botocore)."""
    try:
        if operation == CONVERSE:
            answer = await services.invoker.converse(entry, raw, deadline=deadline)
            return orjson.dumps(answer), JSON
        return await services.invoker.invoke_raw(
            entry, raw, accept, deadline=deadline, payload_sha256=digest
        )
    except ProblemError as problem:  # the client's own refusals: overloaded, circuit open, ...
        raise from_problem(problem) from None
    except Exception as exc:
        if isinstance(exc, ClientError) and is_end_of_life(
            exc, retired=entry.status is Lifecycle.RETIRED
        ):
            # Retired means retired: say what to move to and how the gateway can serve it meanwhile.
            message = str(exc.response.get("Error", {}).get("Message", ""))
            gone = retired_problem(entry.id, services.runner.successor_names(entry), message)
            raise from_problem(gone) from exc
        raise from_upstream(exc) from exc


async def _read_body(request: Request) -> bytes:
    try:
        raw = await read_upload(request)
    except ProblemError as problem:  # the body cap, its deadline, a hang-up, a busy gateway
        raise from_problem(problem) from None
    if len(raw) > MAX_BODY_BYTES:
        raise BedrockError(
            "ValidationException",
            f"The request body is {byte_size(len(raw))}; InvokeModel takes at most "
            f"{byte_size(MAX_BODY_BYTES)}.",
        )
    return raw


def _checked(
    services: PassThrough, entry: ModelEntry, raw: bytes, operation: str
) -> tuple[Reading, str | None]:
    """The body read and validated for `entry`, every violation raised at once, and, for an
    InvokeModel body (sent as these bytes), its SHA-256 for the call's signature (CPU work: in a
    thread, not on the event loop)."""
    try:
        check_bounds(raw, JsonBounds.of(services.settings))
    except ProblemError as problem:
        detail = f"Malformed input request: {problem.detail}"
        raise BedrockError("ValidationException", detail) from None
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BedrockError("ValidationException", f"Malformed input request: {exc}") from None
    reading = read(services.catalogue, entry, body)
    if reading.task is not None:
        try:
            services.validator.validate(reading.task, reading.fields)
        except ProblemError as problem:
            for error in problem.errors:
                reading.fail(reading.path_of(error.field), error.message)
            if not problem.errors:
                reading.fail(reading.whole, problem.detail)
    if reading.violations:
        raise validation_error(reading.violations)
    return reading, None if operation == CONVERSE else hashlib.sha256(raw).hexdigest()
