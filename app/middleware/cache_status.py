"""Pure-ASGI middleware: the request's Cache-Control bound for the result cache, and the cache's
outcome put in the answer's `Cache-Status` (app.cache.exchange)."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..cache.exchange import NAME, exchanging


class CacheStatusHeader:
    """Binds the request's CacheExchange and reports its outcome as `Cache-Status`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        control = ", ".join(
            v.decode("latin-1") for n, v in scope["headers"] if n == b"cache-control"
        )
        with exchanging(control) as exchange:

            async def send_status(message: Message) -> None:
                if message["type"] == "http.response.start" and exchange.outcome is not None:
                    MutableHeaders(scope=message)["Cache-Status"] = f"{NAME}; {exchange.outcome}"
                await send(message)

            await self.app(scope, receive, send_status)
