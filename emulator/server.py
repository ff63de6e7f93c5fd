"""The emulator's ASGI app: Bedrock's InvokeModel path plus a control API under `/_emulator/`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, TypeVar
from urllib.parse import unquote

import anyio
import anyio.to_thread
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .faults import (
    CONTENT_FILTERED,
    DROP_CONNECTION,
    SLOW_RESPONSE,
    FaultConfigError,
    FaultInjector,
    fault_error,
)
from .models import Registry, all_specs
from .models.base import ANY_WORD, BedrockError, Handler, Invocation, ModelSpec, validation_error
from .models.checks import schema_error
from .protocol import error_answer, json_answer, new_request_id
from .recorder import COUNTERS, Recorder
from .settings import EmulatorSettings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

T = TypeVar("T")

MALFORMED = "Malformed input request, please reformat your input and try again."
# The longest a control call may wait for the counters (`GET /_emulator/stats?...`).
MAX_WAIT_S = 120.0


class ConnectionDropped(Exception):
    """Raised after a partial answer so that the server aborts the connection (a fault)."""


class ClientDisconnected(Exception):
    """The client hung up before its answer was sent; the invocation was abandoned."""


class EmulatorState:
    """Everything a control call can change; `reset()` brings it back to the settings."""

    def __init__(self, settings: EmulatorSettings) -> None:
        self.settings = settings
        self.registry = Registry(all_specs())
        self.faults = FaultInjector()
        self.recorder = Recorder(settings.max_recorded)
        self.retired: set[str] = set(settings.retired_models)
        self.blocked_words = tuple(word.lower() for word in settings.blocked_words)
        # Cleared while invocations are held (`POST /_emulator/hold`): they wait until it is set.
        self.released = asyncio.Event()
        self.released.set()

    def reset(self) -> None:
        """Faults, latency, records, counters, holds and retired models back to the settings."""
        self.faults.reset()
        self.recorder.reset()
        self.released.set()
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
            status, headers, payload = await _unless_hung_up(
                self._answer(requested, resolved_id, action, body, size, request_id, send), receive
            )
        except ConnectionDropped:
            entry["error_code"] = DROP_CONNECTION
            raise
        except ClientDisconnected:
            self.state.recorder.hang_up(entry)
            return
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
        send: Send,
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        await self.state.released.wait()
        ids = (requested,) if resolved_id is None else (requested, resolved_id)
        latency = self.state.faults.latency_ms(ids)
        if latency:
            await asyncio.sleep(latency / 1000)
        fault = self.state.faults.draw(ids, body)
        try:
            if fault is not None and fault.fault == DROP_CONNECTION:
                await _drop_connection(send, request_id)
            blocked = self.state.blocked_words
            if fault is not None and fault.fault == SLOW_RESPONSE:
                await asyncio.sleep(self.state.faults.slow_ms / 1000)
            elif fault is not None and fault.fault == CONTENT_FILTERED:
                blocked = (ANY_WORD,)
            elif fault is not None:
                raise fault_error(fault, resolved_id or requested, self.state.settings.region)
            spec = self.state.registry.resolve(requested, self.state.retired)
            handler = _handler(spec, action)
            parsed = _parse_body(body, size, self.state.settings.max_body_bytes)
            invocation = Invocation(spec.model_id, requested, parsed, blocked)
            # Abandoned, not awaited, when the client hangs up: the thread finishes on its own.
            result = await anyio.to_thread.run_sync(handler, invocation, abandon_on_cancel=True)
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
        try:
            wanted, timeout_s = _wait_query(request.query_params)
        except FaultConfigError as error:
            return JSONResponse({"message": str(error)}, status_code=400)
        if not wanted:
            return JSONResponse(state.recorder.stats())
        with anyio.move_on_after(timeout_s):
            return JSONResponse(await state.recorder.wait_for(wanted))
        return JSONResponse(state.recorder.stats(), status_code=408)

    async def hold(request: Request) -> Response:
        state.released.clear()
        return JSONResponse({"held": True})

    async def release(request: Request) -> Response:
        state.released.set()
        return JSONResponse({"held": False})

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
            Route("/_emulator/hold", hold, methods=["POST"]),
            Route("/_emulator/release", release, methods=["POST"]),
            Route("/_emulator/faults", faults, methods=["GET", "PUT"]),
            Route("/_emulator/retired", retired, methods=["GET", "PUT"]),
            Route("/_emulator/models", models, methods=["GET"]),
        ]
    )
    app.state.emulator = state
    return app


def _handler(spec: ModelSpec, action: str) -> Handler:
    """What answers `action` (invoke, converse) for `spec`, or the error Bedrock gives."""
    if action == "invoke":
        return spec.invoke
    if action == "converse":
        if spec.converse is None:
            raise validation_error(
                "This action doesn't support the model that you provided. Try again with a "
                "supported text or chat model."
            )
        return spec.converse
    raise validation_error("The model is unsupported for streaming.")


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


async def _unless_hung_up(answer: Awaitable[T], receive: Receive) -> T:
    """Await `answer`, or abandon it (cancelled) and raise ClientDisconnected as soon as the client
    hangs up: every wait of an invocation (hold, latency, SlowResponse, the image work) ends then.

    The body has been read, so the only message left to receive is `http.disconnect`.
    """
    task = asyncio.current_task()
    assert task is not None
    hung_up = False

    async def watch() -> None:
        nonlocal hung_up
        while (await receive())["type"] != "http.disconnect":
            pass
        hung_up = True
        task.cancel()

    watcher = asyncio.create_task(watch())
    try:
        return await answer
    except asyncio.CancelledError:
        # Ours to turn into ClientDisconnected only when nobody else (server shutdown) cancelled.
        if hung_up and task.uncancel() == 0:
            raise ClientDisconnected from None
        raise
    finally:
        watcher.cancel()


def _wait_query(query: Any) -> tuple[dict[str, int], float]:
    """`?in_flight=0&disconnected=3&timeout_s=10` -> ({counter: value}, timeout)."""
    wanted: dict[str, int] = {}
    timeout_s = 10.0
    for name, value in query.items():
        if name != "timeout_s" and name not in COUNTERS:
            raise FaultConfigError(f"unknown counter {name!r}; known: {', '.join(COUNTERS)}")
        try:
            if name == "timeout_s":
                timeout_s = min(float(value), MAX_WAIT_S)
            else:
                wanted[name] = int(value)
        except ValueError:
            raise FaultConfigError(f"{name} must be a number") from None
    return wanted, timeout_s
