"""The one Bedrock Runtime client the gateway shares: aioboto3 over HTTP, capped per model."""

from __future__ import annotations

import asyncio
import io
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aioboto3
import orjson
from aiobotocore.config import AioConfig

from ..settings import Backend, Settings

# The emulator checks no credentials; giving some keeps botocore from searching the chain
# (environment, profile files, instance metadata), which would slow the first call.
_EMULATOR_CREDENTIALS = {"aws_access_key_id": "emulator", "aws_secret_access_key": "emulator"}


class BedrockClient:
    """Invokes models through one shared aioboto3 client, at most N calls in flight per model."""

    def __init__(self, client: Any, *, max_concurrency_per_model: int) -> None:
        self._client = client
        self._limit = max_concurrency_per_model
        self._slots: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(self._limit)
        )

    async def invoke(self, model_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST the body to `model/{model_id}/invoke` and return the parsed JSON answer.

        botocore exceptions propagate; `bedrock.errors.upstream_problem` turns them into answers.
        """
        # A file object, not bytes: aiohttp then streams a multi-megabyte body in chunks instead of
        # one write (and warns when given raw bytes over 1 MB).
        payload = io.BytesIO(orjson.dumps(body))
        async with self._slots[model_id]:
            response = await self._client.invoke_model(
                modelId=model_id,
                body=payload,
                contentType="application/json",
                accept="application/json",
            )
            async with response["body"] as stream:
                raw = await stream.read()
        parsed: dict[str, Any] = orjson.loads(raw)
        return parsed


@asynccontextmanager
async def open_bedrock(settings: Settings) -> AsyncIterator[BedrockClient]:
    """Open the shared client for the app's lifetime."""
    config = AioConfig(
        connect_timeout=settings.connect_timeout_s,
        read_timeout=settings.read_timeout_s,
        # One retry layer: botocore's standard mode (throttling, 5xx, transient network errors).
        retries={"mode": "standard", "total_max_attempts": settings.max_attempts},
        max_pool_connections=max(64, settings.max_concurrency_per_model * 4),
        tcp_keepalive=True,
    )
    kwargs: dict[str, Any] = {
        "region_name": settings.region,
        "endpoint_url": settings.endpoint(),
        "config": config,
    }
    if settings.backend is Backend.EMULATOR:
        # Also for another endpoint under the emulator backend: a Bedrock-compatible server that
        # checks signatures is the `aws` backend's case, with real credentials from the chain.
        kwargs.update(_EMULATOR_CREDENTIALS)
    session = aioboto3.Session()
    async with session.client("bedrock-runtime", **kwargs) as client:
        yield BedrockClient(client, max_concurrency_per_model=settings.max_concurrency_per_model)
