"""The Bedrock Runtime clients the gateway shares: aioboto3 over HTTP, capped per model.

botocore fixes the region and read timeout per client, and models differ in both (Stability's
current models are served from us-west-2 and can take long), so there is one client per
(region, read timeout) pair, opened on first use and closed with the app.
"""

from __future__ import annotations

import asyncio
import io
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any, Protocol

import aioboto3
import orjson
from aiobotocore.config import AioConfig

from ..settings import Backend, Settings

# The emulator checks no credentials; giving some keeps botocore from searching the chain
# (environment, profile files, instance metadata), which would slow the first call.
_EMULATOR_CREDENTIALS = {"aws_access_key_id": "emulator", "aws_secret_access_key": "emulator"}


class Target(Protocol):
    """Where a model is called: what the registry's entries provide."""

    @property
    def target(self) -> str: ...

    @property
    def region(self) -> str | None: ...

    @property
    def read_timeout_s(self) -> float | None: ...


class BedrockClient:
    """Invokes models, at most N calls in flight per model."""

    def __init__(self, settings: Settings, stack: AsyncExitStack) -> None:
        self._settings = settings
        self._stack = stack
        self._session = aioboto3.Session()
        self._clients: dict[tuple[str, float], Any] = {}
        self._opening = asyncio.Lock()
        limit = settings.max_concurrency_per_model
        self._slots: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(limit)
        )

    async def invoke(self, model: Target, body: dict[str, Any]) -> dict[str, Any]:
        """POST the body to `model/{target}/invoke` and return the parsed JSON answer.

        botocore exceptions propagate; `bedrock.errors.upstream_problem` turns them into answers.
        """
        client = await self._client_for(model)
        # A file object, not bytes: aiohttp then streams a multi-megabyte body in chunks instead of
        # one write (and warns when given raw bytes over 1 MB).
        payload = io.BytesIO(orjson.dumps(body))
        async with self._slots[model.target]:
            response = await client.invoke_model(
                modelId=model.target,
                body=payload,
                contentType="application/json",
                accept="application/json",
            )
            async with response["body"] as stream:
                raw = await stream.read()
        parsed: dict[str, Any] = orjson.loads(raw)
        return parsed

    async def invoke_raw(self, model: Target, body: bytes, accept: str) -> tuple[bytes, str]:
        """POST `body` unchanged and return the answer's bytes and content type, untouched.

        For callers that speak Bedrock's own schema: nothing is parsed or re-serialised either way.
        """
        client = await self._client_for(model)
        async with self._slots[model.target]:
            response = await client.invoke_model(
                modelId=model.target,
                body=io.BytesIO(body),
                contentType="application/json",
                accept=accept,
            )
            async with response["body"] as stream:
                raw: bytes = await stream.read()
        return raw, str(response.get("contentType") or "application/json")

    async def _client_for(self, model: Target) -> Any:
        key = (
            model.region or self._settings.region,
            model.read_timeout_s or self._settings.read_timeout_s,
        )
        client = self._clients.get(key)
        if client is None:
            async with self._opening:
                client = self._clients.get(key)
                if client is None:
                    client = await self._stack.enter_async_context(self._open(*key))
                    self._clients[key] = client
        return client

    def _open(self, region: str, read_timeout_s: float) -> Any:
        settings = self._settings
        config = AioConfig(
            connect_timeout=settings.connect_timeout_s,
            read_timeout=read_timeout_s,
            # One retry layer: botocore's standard mode (throttling, 5xx, transient network errors).
            retries={"mode": "standard", "total_max_attempts": settings.max_attempts},
            max_pool_connections=max(64, settings.max_concurrency_per_model * 4),
            tcp_keepalive=True,
        )
        kwargs: dict[str, Any] = {
            "region_name": region,
            "endpoint_url": settings.endpoint(),
            "config": config,
        }
        if settings.backend is Backend.EMULATOR:
            # Also for another endpoint under the emulator backend: a Bedrock-compatible server
            # that checks signatures is the `aws` backend's case, with credentials from the chain.
            kwargs.update(_EMULATOR_CREDENTIALS)
        return self._session.client("bedrock-runtime", **kwargs)


@asynccontextmanager
async def open_bedrock(settings: Settings) -> AsyncIterator[BedrockClient]:
    """The shared clients for the app's lifetime; each is closed when the app stops."""
    async with AsyncExitStack() as stack:
        yield BedrockClient(settings, stack)
