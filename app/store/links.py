"""Publishing an image the gateway made outside a job (the OpenAI surface's `response_format:
url`) in the result store, under a signed URL, like a job's."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from .local import LocalStore, SignedUrls


@dataclass(frozen=True)
class ResultLinks:
    """The store, its URL signer, and the base URL answers are read at."""

    store: LocalStore
    urls: SignedUrls
    base_url: str

    async def publish(self, data: bytes, extension: str) -> str:
        """Store `data` under a fresh name and return its signed URL."""
        name = f"img_{secrets.token_hex(16)}.{extension}"
        await self.store.put(name, data)
        return self.base_url.rstrip("/") + self.urls.path(name)
