"""Publishing an image the gateway made outside a job (the OpenAI surface's `response_format:
url`) in the result store, under a signed URL, like a job's."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from . import ResultStore


@dataclass(frozen=True)
class ResultLinks:
    """The store, and the base URL answers are read at."""

    store: ResultStore
    base_url: str

    async def publish(self, data: bytes, extension: str) -> str:
        """Store `data` under a fresh name and return its signed URL."""
        name = f"img_{secrets.token_hex(16)}.{extension}"
        await self.store.put(name, data)
        return await self.store.url(name, self.base_url)
