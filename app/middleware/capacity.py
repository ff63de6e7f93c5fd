"""Pure-ASGI middleware: caps on the requests, and on the body bytes, the whole gateway holds, and
the deadline for reading a body.

Each request at work (its body read) may hold a body of up to max_body_bytes and the images
decoded from it, so capping their number bounds the gateway's memory under any burst. The count
is of requests at work, not of uploads: a request takes its slot when its last body byte arrives.
One that arrives while every slot is taken is refused at once, before its body is read (the server
discards the bytes as they arrive, so a client that sends its whole body first still reads the
answer); one whose body completes while every slot is taken is refused then. Slow uploads
therefore never fill the slots: 256 connections trickling a byte a second delay only themselves.

Uploads are bounded by bytes as well: while the bodies admitted weigh max_body_bytes_in_flight,
the next waits, unread, for up to queue_timeout_s (then 503 gateway-busy). A chunk that waits stays
in the kernel's socket buffers and the client's, not in the gateway. A body whose length is
announced is admitted whole: when its first chunk arrives, the whole announced length is taken
from the budget, and the rest of it then flows without waiting. Charged a chunk at a time instead,
a burst of uploads each took part of the budget and all waited for more, and only the one let over
the budget went on: sixteen 3 MB image-to-image calls at once ran one after the other (12 requests a
second, against 37 admitted whole).

An announced length is a promise the client keeps only by sending: an upload that falls behind the
pace that would bring its whole body within body_read_timeout_s gives back the part not yet
received, and from then on its chunks are charged as they arrive, behind everyone else. So a client
that announces 25 MB and trickles holds no more of the budget than it has sent, and slow clients
still delay only themselves. Bodies of unknown length (chunked), and bodies announced larger than
the whole budget, are charged as they arrive from the start. Uploads that each hold part of the
budget and all wait for more would wait forever: one of them is let over the budget (`ByteBudget`),
so the bytes held stay within the budget plus one body.

A body must arrive within body_read_timeout_s, counting only the time spent waiting for the
client (not for the budget); past it the request is answered 408 and its connection closed, so a
slow client holds its bytes and its connection no longer than that.

Only methods that carry work count: GET, HEAD and OPTIONS (the model list, the spec, the docs)
read no body and call no model, so they are always served, and a busy gateway still says what it
serves.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable

from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..problems import ProblemError, problem_response
from ..problems.types import BODY_TIMEOUT, GATEWAY_BUSY
from ..wording import byte_size
from .request_context import content_length

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
            *GATEWAY_BUSY.head,
            detail=detail,
            headers={"Retry-After": str(_RETRY_AFTER_S)},
        )


# Both bases define `headers`; ProblemError's (first in the MRO) is the one used.
class BodyReadTimeout(ProblemError, HTTPException):  # type: ignore[misc]
    """408: the body did not arrive within body_read_timeout_s.

    Also an HTTPException, as BodyTooLarge is: FastAPI lets it through its own body reading. The
    answer closes the connection, since the rest of the body will not be read.
    """

    def __init__(self, timeout_s: float) -> None:
        ProblemError.__init__(
            self,
            *BODY_TIMEOUT.head,
            detail=f"the body did not arrive within {timeout_s:g} s",
            headers={"Connection": "close"},
        )
        self.status_code = 408


class ByteBudget:
    """A first-come, first-served weighted semaphore: bytes taken by owners (requests) and given
    back all at once when they end.

    A waiter is served only when every earlier one has been: a large upload is not starved by a
    stream of small ones. Uploads take their bytes a chunk at a time, so two of them that each
    hold part of the budget could both wait for the rest forever: when every owner holding bytes
    waits for more (none can go on, and none will give any back), one of them, the first in line,
    is let over the budget, and stays the only one until it gives its bytes back. So the bytes
    held stay within the budget plus one body.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.used = 0
        self._held: dict[object, int] = {}
        # The one owner let over the budget, until it gives its bytes back.
        self._over: object | None = None
        self._waiters: deque[tuple[object, int, asyncio.Future[None]]] = deque()

    @property
    def waiting(self) -> int:
        """Requests waiting for bytes."""
        return len(self._waiters)

    @property
    def holders(self) -> int:
        """Requests holding bytes."""
        return len(self._held)

    async def acquire(self, owner: object, weight: int, timeout_s: float) -> bool:
        """Take `weight` more bytes for `owner`, waiting up to `timeout_s`; False when the wait
        ran out."""
        if not self._waiters and self.used + weight <= self.capacity:
            self._take(owner, weight)
            return True
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (owner, weight, granted)
        self._waiters.append(entry)
        self._admit()  # this waiter may be the last holder still going
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

    def release(self, owner: object) -> None:
        """Give back every byte `owner` holds and admit the waiters that now fit, in order."""
        self.used -= self._held.pop(owner, 0)
        if self._over is owner:
            self._over = None
        self._admit()

    def give_back(self, owner: object, weight: int) -> None:
        """Give back `weight` of the bytes `owner` holds (a promise not kept), keeping the rest."""
        weight = min(weight, self._held.get(owner, 0))
        if weight <= 0:
            return
        self.used -= weight
        self._held[owner] -= weight
        self._admit()

    def _take(self, owner: object, weight: int) -> None:
        self.used += weight
        self._held[owner] = self._held.get(owner, 0) + weight

    def _withdraw(self, entry: tuple[object, int, asyncio.Future[None]]) -> None:
        granted = entry[2]
        if granted.done() and not granted.cancelled():
            # Granted just as the wait ended: the owner holds those bytes until it releases.
            return
        if entry in self._waiters:
            self._waiters.remove(entry)
        self._admit()  # the head may have been blocking smaller ones behind it

    def _admit(self) -> None:
        while self._waiters:
            entry = self._waiters[0]
            owner, weight, granted = entry
            if granted.done():  # cancelled, its withdrawal not run yet
                self._waiters.popleft()
                continue
            # A body larger than the whole budget goes in when nothing else is held.
            if self.used + weight > self.capacity and self.used > 0:
                self._unstick()
                return
            self._waiters.popleft()
            self._take(owner, weight)
            granted.set_result(None)

    def _unstick(self) -> None:
        # Every holder waits: nothing will be given back, so let one over (the one already over,
        # else the first in line).
        stuck = [e for e in self._waiters if e[0] in self._held and not e[2].done()]
        if not stuck or len({e[0] for e in stuck}) < len(self._held):
            return
        if self._over is None:
            self._over = stuck[0][0]
        entry = next(e for e in stuck if e[0] is self._over)
        self._waiters.remove(entry)
        self._take(entry[0], entry[1])
        entry[2].set_result(None)


class CapacityLimit:
    """Admits at most `limit` requests at work, and `body_bytes` of received bodies, at once;
    reads each body within `read_timeout_s`. Refusals are 503 gateway-busy (at once for the
    count, after `wait_s` for the bytes) and 408 body-timeout.

    The refusals met while the app reads the body are raised from its `receive`, so each surface
    answers them in its own shape; one that escapes the app unanswered is answered here with
    `answer` (problem+json by default, or the request's surface's shape).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        limit: int,
        body_bytes: int | None = None,
        wait_s: float = 30.0,
        read_timeout_s: float | None = None,
        answer: Callable[[ProblemError, Scope], Response] = problem_response,
    ) -> None:
        self.app = app
        self.limit = limit
        self.answer = answer
        self.in_flight = 0
        self.budget = ByteBudget(body_bytes) if body_bytes is not None else None
        self.wait_s = wait_s
        self.read_timeout_s = read_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _UNCOUNTED_METHODS:
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            await self.answer(GatewayBusy(self.limit), scope)(scope, receive, send)
            return
        upload = _Upload(self, receive, content_length(scope))
        started = False

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started |= message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, upload.receive, tracked_send)
        except (GatewayBusy, BodyReadTimeout) as refusal:
            if started:
                raise
            await self.answer(refusal, scope)(scope, receive, send)
        finally:
            upload.end()


class _Upload:
    """One request's body as it arrives: its bytes charged to the budget (an announced length
    whole, at its first chunk), its slot taken once it is complete, its reads under the deadline."""

    def __init__(self, limit: CapacityLimit, receive: Receive, announced: int | None) -> None:
        self._limit = limit
        self._receive = receive
        self._announced = announced
        self._working = False
        # Time spent waiting for the client's bytes; the budget's waits do not count.
        self._reading_s = 0.0
        self._received = 0
        # Bytes of the announced body taken from the budget ahead of their arrival, and when
        # they were granted: kept while the client keeps pace (`_keep_pace`).
        self._promised = 0
        self._promised_at = 0.0
        self._lapse: asyncio.TimerHandle | None = None

    async def receive(self) -> Message:
        limit = self._limit
        message = await self._next()
        if message["type"] != "http.request":
            return message
        if limit.budget is not None:
            await self._charge(limit.budget, len(message.get("body", b"")))
        if not message.get("more_body", False) and not self._working:
            if limit.in_flight >= limit.limit:
                raise GatewayBusy(limit.limit)
            limit.in_flight += 1
            self._working = True
        return message

    async def _next(self) -> Message:
        timeout_s = self._limit.read_timeout_s
        if timeout_s is None or self._working:
            return await self._receive()
        began = time.monotonic()
        try:
            async with asyncio.timeout(max(0.0, timeout_s - self._reading_s)):
                return await self._receive()
        except TimeoutError:
            raise BodyReadTimeout(timeout_s) from None
        finally:
            self._reading_s += time.monotonic() - began

    async def _charge(self, budget: ByteBudget, size: int) -> None:
        first = self._received == 0
        self._received += size
        if not size:
            return
        announced = self._announced
        if first and announced is not None and size < announced <= budget.capacity:
            # The whole announced body at once: none of it waits again once it is let in. A body
            # larger than the whole budget is charged as it arrives: waiting for the budget to
            # empty, it would hold up the line behind it.
            if not await budget.acquire(self, announced, self._limit.wait_s):
                raise GatewayBusy(budget.capacity, waited_s=self._limit.wait_s)
            self._promised = announced - size
            self._promised_at = asyncio.get_running_loop().time()
            self._keep_pace()
            return
        covered = min(size, self._promised)
        self._promised -= covered
        if covered:
            self._keep_pace()
        if size > covered and not await budget.acquire(self, size - covered, self._limit.wait_s):
            raise GatewayBusy(budget.capacity, waited_s=self._limit.wait_s)

    def _keep_pace(self) -> None:
        """Time the promise out when the client falls behind the pace that would bring its whole
        body within the read deadline (`_received` of `_announced` by the same share of it)."""
        if self._lapse is not None:
            self._lapse.cancel()
            self._lapse = None
        timeout_s = self._limit.read_timeout_s
        if not self._promised or timeout_s is None or self._announced is None:
            return
        due = self._promised_at + timeout_s * self._received / self._announced
        self._lapse = asyncio.get_running_loop().call_at(due, self._break_promise)

    def _break_promise(self) -> None:
        self._lapse = None
        budget = self._limit.budget
        if budget is not None and self._promised:
            budget.give_back(self, self._promised)
        self._promised = 0

    def end(self) -> None:
        """The request is over: give back its bytes and its slot."""
        if self._lapse is not None:
            self._lapse.cancel()
            self._lapse = None
        if self._limit.budget is not None:
            self._limit.budget.release(self)
        if self._working:
            self._limit.in_flight -= 1
            self._working = False
