"""Where the images jobs make are kept, and the URLs they are fetched at: a local directory with
gateway-signed URLs (the default), or an S3 bucket with presigned URLs."""

from __future__ import annotations

from typing import Protocol

from .local import LocalStore, SignedUrls


class ResultStore(Protocol):
    """What jobs and answers need of a store."""

    async def put(self, name: str, data: bytes) -> None: ...

    async def get(self, name: str) -> bytes | None: ...

    async def delete(self, name: str) -> None: ...

    async def names(self, prefix: str) -> list[str]: ...

    async def sweep(self, older_than_s: float, now: float | None = None) -> int: ...

    async def check(self) -> str | None: ...

    async def url(self, name: str, base_url: str, ttl_s: int | None = None) -> str: ...


__all__ = ["LocalStore", "ResultStore", "SignedUrls"]
