"""Pure-ASGI middleware: a POST with an Idempotency-Key runs once per key and caller.

The first request of a key runs in a task of its own, fed the body this middleware has read:
its caller's hang-up (a client timeout before its retry) reaches neither that task nor the
disconnect watcher inside it, so the Bedrock calls finish and the answer is stored for the
retry. The caller still gets the answer as it is produced while it is there. A 2xx answer is
stored (up to `max_bytes`); any other is not, and the key is released: an error is worth a
fresh try, and a 4xx costs nothing to make again.

Placed inside the auth and capacity middleware (the key's owner is known, and a request waiting
for its answer holds its slot) and outside the disconnect watcher.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..auth.keys import ANONYMOUS
from ..idempotency.header import parse_key
from ..idempotency.service import Claim, Idempotency, StoredAnswer
from ..problems import ProblemError, problem_response

log = logging.getLogger(__name__)

REPLAYED = "Idempotent-Replayed"
# Headers that describe this exchange rather than the answer: not replayed (the quota headers
# would be stale, as a replay is not charged; a replay does not pass through the result cache).
_NOT_STORED = frozenset(
    {"x-request-id", "ratelimit", "ratelimit-policy", "retry-after", "date", "server",
     "content-length", "cache-status"}
)  # fmt: skip


class IdempotentRequests:
    """Replays stored answers and runs first requests to the end (scope state `idempotency`)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        answer: Callable[[ProblemError, Scope], Response] = problem_response,
    ) -> None:
        self.app = app
        self.answer = answer
        # The first requests running now: held so the loop does not lose them.
        self._runs: set[asyncio.Task[None]] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = scope.get("state", {}) if scope["type"] == "http" else {}
        service: Idempotency | None = state.get("idempotency")
        values = [v for n, v in scope.get("headers", ()) if n == b"idempotency-key"]
        if service is None or scope["method"] != "POST" or not values:
            await self.app(scope, receive, send)
            return
        try:
            key = parse_key(values)
            chunks = await _body(receive)
            if chunks is None:
                return  # the caller left before sending its body: nothing to run
            owner = state.get("api_key", ANONYMOUS).name
            outcome = await service.begin(owner, key, _fingerprint(scope, chunks))
        except ProblemError as problem:
            await self.answer(problem, scope)(scope, receive, send)
            return
        if isinstance(outcome, StoredAnswer):
            await _replay(outcome, send)
            return
        await self._first(scope, chunks, service, outcome, send)

    async def _first(
        self, scope: Scope, chunks: list[bytes], service: Idempotency, claim: Claim, send: Send
    ) -> None:
        messages: asyncio.Queue[Message | BaseException | None] = asyncio.Queue()
        run = asyncio.create_task(self._run(scope, chunks, service, claim, messages))
        self._runs.add(run)
        run.add_done_callback(self._runs.discard)
        listening = True
        while (message := await messages.get()) is not None:
            if isinstance(message, BaseException):
                raise message
            if listening:
                try:
                    await send(message)
                except OSError:
                    listening = False  # the caller hung up: the run goes on for its retry

    async def _run(
        self,
        scope: Scope,
        chunks: list[bytes],
        service: Idempotency,
        claim: Claim,
        messages: asyncio.Queue[Message | BaseException | None],
    ) -> None:
        pending = list(chunks)
        never = asyncio.Event()

        async def receive() -> Message:
            if pending:
                return {"type": "http.request", "body": pending.pop(0), "more_body": bool(pending)}
            # Never a disconnect: this run is not its caller's to end. (The watcher waiting here
            # is cancelled when the answer starts.)
            await never.wait()
            return {"type": "http.disconnect"}

        status = 0
        headers: list[tuple[str, str]] = []
        body: list[bytes] = []
        size = 0

        async def capture(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = message["status"]
                headers.extend(
                    (name.decode("latin-1"), value.decode("latin-1"))
                    for name, value in message.get("headers", ())
                    if name.decode("latin-1").lower() not in _NOT_STORED
                )
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
                if size <= service.max_bytes:
                    body.append(message.get("body", b""))
                else:
                    body.clear()  # too large to keep: the retry of this one runs again
            messages.put_nowait(message)

        try:
            await self.app(scope, receive, capture)
        except BaseException as exc:
            await _quietly(service.release(claim))
            messages.put_nowait(exc)
            return
        if 200 <= status < 300 and size <= service.max_bytes:
            await _quietly(service.finish(claim, StoredAnswer(status, headers, b"".join(body))))
        else:
            await _quietly(service.release(claim))
        messages.put_nowait(None)


async def _quietly(step: Awaitable[None]) -> None:
    """Run a storing step; a store or Redis failure costs the retry a new run, not this answer."""
    try:
        await step
    except Exception:
        log.exception("the idempotency record could not be written")


async def _body(receive: Receive) -> list[bytes] | None:
    """The request body's chunks, or None when the caller disconnects first."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return chunks


def _fingerprint(scope: Scope, chunks: list[bytes]) -> str:
    """What makes two requests the same one: method, path, query, the answer's format asked for,
    and the body. A multipart body's boundary is left out: a client picks a new one per attempt."""
    digest = hashlib.sha256()
    headers = dict(scope.get("headers", ()))
    content_type = headers.get(b"content-type", b"")
    for part in (
        scope["method"].encode(),
        scope["path"].encode(),
        scope.get("query_string", b""),
        headers.get(b"accept", b""),
    ):
        digest.update(part + b"\n")
    boundary = _boundary(content_type)
    if boundary is None:
        digest.update(content_type + b"\n")
        for chunk in chunks:
            digest.update(chunk)
    else:
        digest.update(content_type.split(b";")[0].strip() + b"\n")
        digest.update(b"".join(chunks).replace(boundary, b""))
    return digest.hexdigest()


def _boundary(content_type: bytes) -> bytes | None:
    if not content_type.lower().startswith(b"multipart/"):
        return None
    for parameter in content_type.split(b";")[1:]:
        name, _, value = parameter.strip().partition(b"=")
        if name.lower() == b"boundary" and value.strip(b'"'):
            return b"--" + value.strip(b'"')
    return None


async def _replay(answer: StoredAnswer, send: Send) -> None:
    headers = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in answer.headers]
    headers += [
        (b"content-length", str(len(answer.body)).encode()),
        (REPLAYED.lower().encode(), b"true"),
    ]
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})
