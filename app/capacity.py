"""Pure-ASGI middleware: a cap on the requests the whole gateway holds at once.

Each admitted request may hold a body of up to max_body_bytes and the images decoded from it, so
capping their number bounds the gateway's memory under any burst. A request over the cap is
refused before its body is read: the gateway neither buffers nor parses it (the server discards
the bytes as they arrive, so a client that sends its whole body first still reads the answer).

Only methods that carry work count: GET, HEAD and OPTIONS (the model list, the spec, the docs)
read no body and call no model, so they are always served, and a busy gateway still says what it
serves.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from .problems import ProblemError, problem_response

_UNCOUNTED_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# A slot frees as soon as any request ends, so a caller may come back right away.
_RETRY_AFTER_S = 1


class GatewayBusy(ProblemError):
    """503 gateway-busy: max_requests_in_flight requests are already in the gateway."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            status=503,
            slug="gateway-busy",
            title="The gateway is busy",
            detail=f"the gateway is already handling its limit of {limit} "
            f"request{'' if limit == 1 else 's'}; retry after a moment",
            headers={"Retry-After": str(_RETRY_AFTER_S)},
        )


class CapacityLimit:
    """Admits at most `limit` requests at once; answers the next ones 503 gateway-busy.

    `answer` renders the refusal for the request's surface (problem+json by default).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        limit: int,
        answer: Callable[[ProblemError, Scope], Response] = problem_response,
    ) -> None:
        self.app = app
        self.limit = limit
        self.answer = answer
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _UNCOUNTED_METHODS:
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            await self.answer(GatewayBusy(self.limit), scope)(scope, receive, send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
