"""Pure-ASGI middleware: request ids and a hard cap on body size.

Pure ASGI rather than BaseHTTPMiddleware: it adds no task per request and lets the body cap act
while the body streams in, so an oversized upload is refused without ever being held in memory.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..problems import ProblemError, problem_response
from ..problems.types import PAYLOAD_TOO_LARGE
from ..wording import byte_size

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


# Both bases define `headers`; ProblemError's (first in the MRO) is the one used.
class BodyTooLarge(ProblemError, HTTPException):  # type: ignore[misc]
    """413: the body passed the configured cap.

    Also an HTTPException: FastAPI turns any other error met while it reads a route's body or form
    parameters into a plain 400, but lets HTTPExceptions through, and the ProblemError handler
    (first in the MRO) answers them. Code that reads the body itself catches it as a ProblemError.
    """

    def __init__(self, limit: int) -> None:
        ProblemError.__init__(
            self,
            *PAYLOAD_TOO_LARGE.head,
            detail=f"the body is over the limit of {byte_size(limit)}",
        )
        self.status_code = 413


class RequestContextMiddleware:
    """Accepts `X-Request-ID` (or makes one), echoes it, and caps the request body.

    `answer` renders the 413 this middleware sends itself (problem+json by default), e.g. in the
    shape of the surface the path belongs to.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        answer: Callable[[ProblemError, Scope], Response] = problem_response,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.answer = answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        limit = self.max_body_bytes

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["x-request-id"] = request_id
            await send(message)

        declared = content_length(scope)
        if declared is not None and declared > limit:
            # Refuse before reading a byte; the handler stack is bypassed, so answer here.
            await self.answer(BodyTooLarge(limit), scope)(scope, receive, send_with_id)
            return

        received = 0
        started = False

        async def capped_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # The rest of the body is never read: the server drops the connection after
                    # the answer.
                    raise BodyTooLarge(limit)
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started |= message["type"] == "http.response.start"
            await send_with_id(message)

        try:
            await self.app(scope, capped_receive, tracked_send)
        except BodyTooLarge as exc:
            # Met outside any route's handlers: answered here, unless an answer has begun.
            if started:
                raise
            await self.answer(exc, scope)(scope, receive, send_with_id)


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if _SAFE_REQUEST_ID.match(text) else None
    return None


def content_length(scope: Scope) -> int | None:
    """The Content-Length the request announces, if any and a number."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
