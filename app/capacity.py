"""Pure-ASGI middleware: caps on the requests, and on the body bytes, the whole gateway holds.

Each admitted request may hold a body of up to max_body_bytes and the images decoded from it, so
capping their number bounds the gateway's memory under any burst. A request over the cap is
refused before its body is read: the gateway neither buffers nor parses it (the server discards
the bytes as they arrive, so a client that sends its whole body first still reads the answer).

Uploads are bounded by bytes as well: a request weighs its Content-Length (the body cap when it
sends none), and while the bodies admitted weigh max_body_bytes_in_flight, the next waits in
line, unread, for up to queue_timeout_s; then it gets the same 503 gateway-busy. A body that
waits stays in the kernel's socket buffers and the client's, not in the gateway: 64 concurrent
2 MB uploads take what 20 take, while Bedrock, which serves 16 calls per model at a time,
stays as busy.

Only methods that carry work count: GET, HEAD and OPTIONS (the model list, the spec, the docs)
read no body and call no model, so they are always served, and a busy gateway still says what it
serves.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from .problems import ProblemError, problem_response
from .wording import byte_size

_UNCOUNTED_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# A slot frees as soon as any request ends, so a caller may come back right away.
_RETRY_AFTER_S = 1


class GatewayBusy(ProblemError):
    """503 gateway-busy: max_requests_in_flight requests are already in the gateway, or their
    bodies' bytes stayed at max_body_bytes_in_flight for as long as a request may wait."""

    def __init__(self, limit: int, *, waited_s: float | None = None) -> None:
        if waited_s is None:
            detail = (
                f"the gateway is already handling its limit of {limit} "
                f"request{'' if limit == 1 else 's'}; retry after a moment"
            )
        else:
            detail = (
                f"the gateway held its limit of {byte_size(limit)} of request bodies for "
                f"{waited_s:g} s while this one waited; retry after a moment"
            )
        super().__init__(
            status=503,
            slug="gateway-busy",
            title="The gateway is busy",
            detail=detail,
            headers={"Retry-After": str(_RETRY_AFTER_S)},
        )


class ByteBudget:
    """A first-come, first-served weighted semaphore: bytes taken and given back.

    A weight over the whole budget is taken as the whole budget, so any request runs eventually
    (alone). A waiter is served only when every earlier one has been: a large upload is not
    starved by a stream of small ones.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.used = 0
        self._waiters: deque[tuple[int, asyncio.Future[None]]] = deque()

    @property
    def waiting(self) -> int:
        """Requests waiting for bytes."""
        return len(self._waiters)

    def weight(self, size: int) -> int:
        """What a body of `size` bytes takes from the budget."""
        return max(1, min(size, self.capacity))

    async def acquire(self, weight: int, timeout_s: float) -> bool:
        """Take `weight` bytes, waiting up to `timeout_s`; False when the wait ran out."""
        if not self._waiters and self.used + weight <= self.capacity:
            self.used += weight
            return True
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (weight, granted)
        self._waiters.append(entry)
        try:
            async with asyncio.timeout(timeout_s):
                await granted
        except TimeoutError:
            self._withdraw(entry)
            return False
        except BaseException:
            self._withdraw(entry)
            raise
        return True

    def release(self, weight: int) -> None:
        """Give `weight` bytes back and admit the waiters that now fit, in order."""
        self.used -= weight
        self._admit()

    def _withdraw(self, entry: tuple[int, asyncio.Future[None]]) -> None:
        weight, granted = entry
        if granted.done() and not granted.cancelled():
            self.release(weight)  # granted just as the wait ended: give it back
        else:
            self._waiters.remove(entry)
            self._admit()  # the head may have been blocking smaller ones behind it

    def _admit(self) -> None:
        while self._waiters:
            weight, granted = self._waiters[0]
            if self.used + weight > self.capacity:
                return
            self._waiters.popleft()
            self.used += weight
            granted.set_result(None)


class CapacityLimit:
    """Admits at most `limit` requests, and `body_bytes` of their bodies, at once; answers the
    next ones 503 gateway-busy (at once for the count, after `wait_s` for the bytes).

    `max_body_bytes` weighs a body of unknown length; `answer` renders the refusal for the
    request's surface (problem+json by default).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        limit: int,
        body_bytes: int | None = None,
        max_body_bytes: int | None = None,
        wait_s: float = 30.0,
        answer: Callable[[ProblemError, Scope], Response] = problem_response,
    ) -> None:
        self.app = app
        self.limit = limit
        self.answer = answer
        self.in_flight = 0
        self.budget = ByteBudget(body_bytes) if body_bytes is not None else None
        self.max_body_bytes = max_body_bytes
        self.wait_s = wait_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _UNCOUNTED_METHODS:
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            await self.answer(GatewayBusy(self.limit), scope)(scope, receive, send)
            return
        self.in_flight += 1
        try:
            if self.budget is None:
                await self.app(scope, receive, send)
                return
            weight = self.budget.weight(_size(scope, self.max_body_bytes or self.budget.capacity))
            if not await self.budget.acquire(weight, self.wait_s):
                busy = GatewayBusy(self.budget.capacity, waited_s=self.wait_s)
                await self.answer(busy, scope)(scope, receive, send)
                return
            try:
                await self.app(scope, receive, send)
            finally:
                self.budget.release(weight)
        finally:
            self.in_flight -= 1


def _size(scope: Scope, unknown: int) -> int:
    """The body's size from its Content-Length; `unknown` when it sends none."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                break  # RequestContext answers a malformed length
    return unknown
