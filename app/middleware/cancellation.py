"""Pure-ASGI middleware: a request whose caller hangs up is cancelled, its Bedrock calls included.

While a handler waits for Bedrock nobody reads the connection, so a caller's disconnect would go
unnoticed until the answer is ready, and its Bedrock calls would run to the end for nobody. A
watcher listens for it instead and cancels the handler's task: the fan-out's gather cancels every
call, and each aioboto3 call closes its connection, so Bedrock sees the call end.

The watcher is a task, started only once the app has received the last body chunk (before that
the app's own reads see a disconnect, and no body message can be taken from it) and stopped when
the response starts (from then on the answer goes out whatever happens). A request whose body the
app never reads (GET /v1/models) gets no watcher at all.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class CancelOnDisconnect:
    """Cancels a request's handler when its client disconnects before the response starts."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        handler = asyncio.current_task()
        assert handler is not None
        watch = _Watch(handler, receive, send)
        try:
            await self.app(scope, watch.receive, watch.send)
        except asyncio.CancelledError:
            # Ours (the caller is gone, so nobody is left to answer) unless someone else, e.g.
            # the server at the end of its shutdown grace, cancelled the task too.
            if watch.cancelled and handler.uncancel() == 0:
                return
            raise
        else:
            if watch.cancelled:
                handler.uncancel()  # the app swallowed our cancellation: leave no count behind
        finally:
            watch.stop()


class _Watch:
    """One request's receive and send, and the watcher that listens for its client hanging up."""

    def __init__(self, handler: asyncio.Task[object], receive: Receive, send: Send) -> None:
        self._handler = handler
        self._receive = receive
        self._send = send
        self._watcher: asyncio.Task[None] | None = None
        self._responding = False
        self.cancelled = False

    async def receive(self) -> Message:
        message = await self._receive()
        if (
            message["type"] == "http.request"
            and not message.get("more_body", False)
            and self._watcher is None
            and not self._responding
        ):
            self._watcher = asyncio.create_task(self._watch())
        return message

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self._responding = True
            self.stop()
        await self._send(message)

    def stop(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()

    async def _watch(self) -> None:
        # After the last body chunk the server has nothing left to deliver but the disconnect
        # (and it keeps answering `http.disconnect` to every later call, the app's included).
        while (await self._receive())["type"] != "http.disconnect":
            pass
        if not self._responding:
            self.cancelled = True
            self._handler.cancel()
