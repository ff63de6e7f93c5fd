"""The official OpenAI SDK pointed at the gateway's /openai/v1, in-process (ASGI) or over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx2
import openai
from starlette.types import Receive, Scope, Send

from app.main import create_app
from app.settings import Settings

API_KEY = "x"  # the gateway does not check it; the SDK insists on one


@asynccontextmanager
async def openai_client(
    settings: Settings, *, max_retries: int = 0
) -> AsyncIterator[openai.AsyncOpenAI]:
    """An AsyncOpenAI on the app (lifespan running), through the SDK's own HTTP stack."""
    app = create_app(settings)
    async with app.router.lifespan_context(app) as state:

        async def serve(scope: Scope, receive: Receive, send: Send) -> None:
            # What uvicorn does with lifespan state: a shallow copy into every request's scope.
            scope["state"] = dict(state or {})
            await app(scope, receive, send)

        transport = httpx2.ASGITransport(app=serve)
        async with (
            httpx2.AsyncClient(transport=transport, base_url="http://gateway") as http,
            openai.AsyncOpenAI(
                base_url="http://gateway/openai/v1",
                api_key=API_KEY,
                http_client=http,
                max_retries=max_retries,
            ) as client,
        ):
            yield client
