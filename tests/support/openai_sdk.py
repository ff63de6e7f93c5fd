"""The official OpenAI SDK pointed at the gateway's /openai/v1, in-process (ASGI) or over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx2
import openai

from app.settings import Settings
from tests.support.gateway import data, pixels, running_app

COFFEE = data("coffee.png")  # 600x400, the edits' photo
ALPHA_EDIT = data("coffee-mask-alpha-edit.png")  # the photo, alpha 0 on the ellipse to edit
EDIT_AREA = pixels(ALPHA_EDIT)[..., 3] < 128

API_KEY = "x"  # the gateway does not check it; the SDK insists on one


@asynccontextmanager
async def openai_client(
    settings: Settings, *, max_retries: int = 0
) -> AsyncIterator[openai.AsyncOpenAI]:
    """An AsyncOpenAI on the app (lifespan running), through the SDK's own HTTP stack."""
    async with running_app(settings) as (serve, _):
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
