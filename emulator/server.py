"""The emulator's ASGI app: Bedrock's InvokeModel path plus a control API under `/_emulator/`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import unquote

import anyio
import anyio.to_thread
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .faults import DROP_CONNECTION, SLOW_RESPONSE, FaultConfigError, FaultInjector, fault_error
from .models import Registry, all_specs
from .models.base import BedrockError, Invocation, ModelSpec, validation_error
from .models.checks import schema_error
from .protocol import error_answer, json_answer, new_request_id
from .recorder import Recorder
from .settings import EmulatorSettings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

MALFORMED = "Malformed input request, please reformat your input and try again."


class ConnectionDropped(Exception):
    """Raised after a partial answer so that the server aborts the connection (a fault)."""


class EmulatorState:
    """Everything a control call can change; `reset()` brings it back to the settings."""

    def __init__(self, settings: EmulatorSettings) -> None:
        self.settings = settings
        self.registry = Registry(all_specs())
        self.faults = FaultInjector()
        self.recorder = Recorder(settings.max_recorded)
        self.retired: set[str] = set(settings.retired_models)
        self.blocked_words = tuple(word.lower() for word in settings.blocked_words)

    def reset(self) -> None:
        """Faults, latency, records, counters and retired models back to the settings."""
        self.faults.reset()
        self.recorder.reset()
        self.retired = set(self.settings.retired_models)


class InvokeEndpoint:
    """`POST /model/{modelId}/invoke`, as a raw ASGI app: it routes on the undecoded path."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer one InvokeModel call."""
        request_id = new_request_id()
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        path = raw_path.decode("latin-1").split("?", 1)[0]
        requested, action = _split_model_path(path)
        body, size = await _read_body(receive, self.state.settings.max_body_bytes)
        found = self.state.registry.lookup(requested)
        resolved_id = found.spec.model_id if found else None
        entry = self.state.recorder.record(
            {
                "model_id": requested,
                "resolved_model_id": resolved_id,
                "headers": {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]},
                "body": _parse_or_none(body),
                "body_bytes": size,
                "status": None,
                "error_code": None,
            }
        )
        self.state.recorder.enter()
        try:
            status, headers, payload = await self._answer(
                requested, resolved_id, action, body, size, request_id, receive, send
            )
        except ConnectionDropped:
            entry["error_code"] = DROP_CONNECTION
            raise
        finally:
            self.state.recorder.leave()
        entry["status"] = status
        entry["error_code"] = _error_code(headers)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    async def _answer(
        self,
        requested: str,
        resolved_id: str | None,
        action: str,
        body: bytes | None,
        size: int,
        request_id: str,
        receive: Receive,
        send: Send,
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        ids = (requested,) if resolved_id is None else (requested, resolved_id)
        latency = self.state.faults.latency_ms(ids)
        if latency:
            await asyncio.sleep(latency / 1000)
        fault = self.state.faults.draw(ids)
        try:
            if fault is not None and fault.fault == DROP_CONNECTION:
                await _drop_connection(send, request_id)
            if fault is not None and fault.fault == SLOW_RESPONSE:
                await _wait_or_disconnect(receive, self.state.faults.slow_ms / 1000)
            elif fault is not None:
                raise fault_error(fault, resolved_id or requested, self.state.settings.region)
            spec = self.state.registry.resolve(requested, self.state.retired)
            if action != "invoke":
                raise validation_error("The model is unsupported for streaming.")
            parsed = _parse_body(body, size, self.state.settings.max_body_bytes)
            invocation = Invocation(spec.model_id, requested, parsed, self.state.blocked_words)
            result = await anyio.to_thread.run_sync(_invoke, spec, invocation)
            return json_answer(200, result, request_id)
        except BedrockError as error:
            return error_answer(error, request_id)


def create_app(settings: EmulatorSettings | None = None) -> Starlette:
    """The emulator as an ASGI app; its state lives on `app.state.emulator`."""
    state = EmulatorState(settings or EmulatorSettings())

    async def reset(request: Request) -> Response:
        state.reset()
        return JSONResponse({"reset": True})

    async def requests(request: Request) -> Response:
        return Response(
            orjson.dumps({"requests": state.recorder.requests()}), media_type="application/json"
        )

    async def stats(request: Request) -> Response:
        return JSONResponse(state.recorder.stats())

    async def faults(request: Request) -> Response:
        if request.method == "PUT":
            try:
                state.faults.configure(_json_object(await request.body()))
            except FaultConfigError as error:
                return JSONResponse({"message": str(error)}, status_code=400)
        return JSONResponse(state.faults.snapshot())

    async def retired(request: Request) -> Response:
        if request.method == "PUT":
            try:
                models = _json_object(await request.body()).get("models")
            except FaultConfigError as error:
                return JSONResponse({"message": str(error)}, status_code=400)
            if not isinstance(models, list) or not all(isinstance(m, str) for m in models):
                return JSONResponse({"message": "models must be a list of ids"}, status_code=400)
            state.retired = set(models)
        return JSONResponse({"models": sorted(state.retired)})

    async def models(request: Request) -> Response:
        return JSONResponse(
            {
                "models": [
                    {"model_id": s.model_id, "family": s.family, "profile_only": s.profile_only}
                    for s in state.registry.specs.values()
                ]
            }
        )

    app = Starlette(
        routes=[
            Route("/model/{rest:path}", InvokeEndpoint(state), methods=["POST"]),
            Route("/_emulator/reset", reset, methods=["POST"]),
            Route("/_emulator/requests", requests, methods=["GET"]),
            Route("/_emulator/stats", stats, methods=["GET"]),
            Route("/_emulator/faults", faults, methods=["GET", "PUT"]),
            Route("/_emulator/retired", retired, methods=["GET", "PUT"]),
            Route("/_emulator/models", models, methods=["GET"]),
        ]
    )
    app.state.emulator = state
    return app


def _invoke(spec: ModelSpec, invocation: Invocation) -> dict[str, Any]:
    return spec.invoke(invocation)


def _split_model_path(path: str) -> tuple[str, str]:
    """`/model/<percent-encoded id>/<action>` -> (decoded id, action)."""
    rest = path.removeprefix("/model/")
    encoded, _, action = rest.rpartition("/")
    return unquote(encoded), action


async def _read_body(receive: Receive, limit: int) -> tuple[bytes | None, int]:
    """The request body, or None (with its size) once it is past `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size <= limit:
            chunks.append(chunk)
        more = message.get("more_body", False)
    return (b"".join(chunks) if size <= limit else None), size


def _parse_body(body: bytes | None, size: int, limit: int) -> dict[str, Any]:
    if body is None:
        raise validation_error(
            f"Malformed input request: request body of {size} bytes exceeds the limit "
            f"of {limit} bytes."
        )
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise validation_error(MALFORMED) from None
    if not isinstance(parsed, dict):
        raise schema_error(["#: expected type: JSONObject, found: " + type(parsed).__name__])
    return parsed


def _parse_or_none(body: bytes | None) -> Any:
    if body is None:
        return None
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return None


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        parsed = orjson.loads(body or b"{}")
    except orjson.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, dict):
        raise FaultConfigError("the body must be a JSON object")
    return parsed


def _error_code(headers: list[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name == b"x-amzn-errortype":
            return value.decode().split(":", 1)[0]
    return None


async def _drop_connection(send: Send, request_id: str) -> None:
    """Promise a body, send part of it, then abort: the client sees a broken connection."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", b"1000"),
                (b"x-amzn-requestid", request_id.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b'{"images": ["iVBOR', "more_body": True})
    raise ConnectionDropped("fault injected: DropConnection")


async def _wait_or_disconnect(receive: Receive, seconds: float) -> None:
    """Sleep `seconds`, or less if the client hangs up first (it usually does: it timed out)."""
    deadline = time.monotonic() + seconds
    with anyio.move_on_after(seconds):
        while time.monotonic() < deadline:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
