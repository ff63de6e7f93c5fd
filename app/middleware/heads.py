"""Request heads (the request line and headers), bounded in size, count and time.

Two layers, one answer. The server's HTTP protocol (`BoundedHeadProtocol`, what `python -m app`
serves with) stops reading a head once it passes max_header_bytes, or once it has taken longer
than header_read_timeout_s, so neither a 128 MiB header nor a head trickled a byte at a time
holds memory or a connection; it then hands the app the request as far as it was read, marked.
The app's `HeaderLimit` answers a marked request, or one whose head is over either bound (under
any server), with 431 or 408 in the shape of the surface the path belongs to, and closes the
connection: the rest of the head is never read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httptools
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from ..problems import ProblemError, problem_response
from ..problems.types import HEADER_TIMEOUT, HEADERS_TOO_LARGE
from ..wording import byte_size

# The scope key the protocol marks a request with: "too-large" or "timeout".
HEAD_REFUSED = "gateway.head_refused"
_TOO_LARGE = "too-large"
_TIMEOUT = "timeout"


def headers_too_large(max_bytes: int, max_count: int) -> ProblemError:
    """431: the request's head is over a bound."""
    return HEADERS_TOO_LARGE.error(
        detail=(
            f"the request line and headers are over the limit of {byte_size(max_bytes)} or "
            f"{max_count} headers"
        ),
        headers={"Connection": "close"},
    )


def head_timeout(timeout_s: float) -> ProblemError:
    """408: the request's head did not arrive in time."""
    return HEADER_TIMEOUT.error(
        detail=f"the request line and headers did not arrive within {timeout_s:g} s",
        headers={"Connection": "close"},
    )


class HeaderLimit:
    """Answers 431 (head over `max_bytes` or `max_count` headers) or 408 (the server gave up
    waiting for the head) before anything else reads the headers."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        max_count: int,
        timeout_s: float,
        answer: Callable[[ProblemError, Scope], Response] = problem_response,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_count = max_count
        self.timeout_s = timeout_s
        self.answer = answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refused = scope.get(HEAD_REFUSED)
        if refused == _TIMEOUT:
            problem: ProblemError | None = head_timeout(self.timeout_s)
        elif refused == _TOO_LARGE or self._over(scope):
            problem = headers_too_large(self.max_bytes, self.max_count)
        else:
            problem = None
        if problem is None:
            await self.app(scope, receive, send)
            return
        await self.answer(problem, scope)(scope, receive, send)

    def _over(self, scope: Scope) -> bool:
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        if len(headers) > self.max_count:
            return True
        # As sent: "name: value\r\n" per header, after the request line.
        size = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
        size += sum(len(name) + len(value) + 4 for name, value in headers)
        return size > self.max_bytes


def bounded_head_protocol(max_bytes: int, timeout_s: float) -> type[BoundedHeadProtocol]:
    """uvicorn's `http` protocol class for these bounds."""
    return type(
        "BoundedHeadProtocol",
        (BoundedHeadProtocol,),
        {"max_head_bytes": max_bytes, "head_timeout_s": timeout_s},
    )


class BoundedHeadProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, reading no more than `max_head_bytes` of a request's head
    and waiting no longer than `head_timeout_s` for it.

    The clock starts when the connection opens and when a request's first byte arrives (between
    requests, uvicorn's keep-alive timeout closes an idle connection). A connection that sends
    nothing in time is closed; a head cut short is handed to the app marked (HEAD_REFUSED), so
    the answer is the app's, in the surface's shape, logged and counted like any other.
    """

    max_head_bytes = 32 * 1024
    head_timeout_s = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Bytes of the head being read; None once its headers are complete.
        self._head_bytes: int | None = 0
        self._began = False  # a request's first byte has arrived
        self._began_in_chunk = False
        self._refused = False
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # the answer closes the connection; what else comes is not read
        self._began_in_chunk = False
        super().data_received(data)
        # Counted once the parser has seen the chunk, so a body in the same chunk as the end of
        # its head is not counted as head. A chunk in which a head began counts from the next.
        if self._head_bytes is not None and self._began and not self._began_in_chunk:
            self._head_bytes += len(data)
            if self._head_bytes > self.max_head_bytes:
                self._refuse(_TOO_LARGE)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_bytes = 0
        self._began = True
        self._began_in_chunk = True
        self._arm_head_timer()

    def on_headers_complete(self) -> None:
        self._head_bytes = None
        self._disarm_head_timer()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._head_bytes = 0
        self._began = False

    def _arm_head_timer(self) -> None:
        self._disarm_head_timer()
        loop = asyncio.get_running_loop()
        self._head_timer = loop.call_later(self.head_timeout_s, self._head_expired)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_expired(self) -> None:
        self._head_timer = None
        if self._head_bytes is None or self.transport.is_closing():
            return
        if not self._began:
            # Nothing of a request yet: there is no one to answer.
            self.transport.close()
            return
        self._refuse(_TIMEOUT)

    def _refuse(self, reason: str) -> None:
        """Stop reading and hand the app the request as read so far, marked with `reason`."""
        # Reading goes on, discarding: a socket closed with unread bytes is reset, and the reset
        # can destroy the answer before the client reads it.
        self._refused = True
        self._disarm_head_timer()
        self.scope[HEAD_REFUSED] = reason  # type: ignore[literal-required]
        try:
            httptools.parse_url(self.url)
        except httptools.HttpParserError:
            self.url = b"/"  # cut inside the URL: only the path's surface matters, and it is lost
        self._head_bytes = None
        try:
            super().on_headers_complete()
        except httptools.HttpParserError:  # no method read yet: nothing to answer
            self.transport.close()
            return
        # The head is cut: no body follows it, and the connection ends with the answer.
        self.cycle.more_body = False
        self.cycle.keep_alive = False
        self.cycle.message_event.set()
