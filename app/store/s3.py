"""The S3 result store: objects in a bucket under a prefix, through aioboto3, on AWS or any
S3-compatible endpoint; results are fetched by presigned GET URLs, and retention is the sweep's
(or the bucket's own lifecycle rule, which operators may prefer)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aioboto3
from aiobotocore.config import AioConfig
from botocore.exceptions import BotoCoreError, ClientError

from .local import valid_name

_MIME = {
    "png": "image/png",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "json": "application/json",
    "jsonl": "application/jsonl",
}


class S3Store:
    """Objects under `prefix` in `bucket`, through one open aioboto3 client."""

    def __init__(self, client: Any, bucket: str, prefix: str, url_ttl_s: int) -> None:
        self._s3 = client
        self.bucket = bucket
        self.prefix = prefix
        self.url_ttl_s = url_ttl_s

    def _key(self, name: str) -> str:
        if not valid_name(name):
            raise ValueError(f"not a store name: {name[:50]!r}")
        return self.prefix + name

    async def put(self, name: str, data: bytes) -> None:
        """Store `data` as `name` (S3 replaces an object whole)."""
        content_type = _MIME.get(name.rsplit(".", 1)[-1], "application/octet-stream")
        await self._s3.put_object(
            Bucket=self.bucket, Key=self._key(name), Body=data, ContentType=content_type
        )

    async def get(self, name: str) -> bytes | None:
        """The object's bytes; None when there is no such object."""
        try:
            answer = await self._s3.get_object(Bucket=self.bucket, Key=self._key(name))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        async with answer["Body"] as body:
            data: bytes = await body.read()
        return data

    async def delete(self, name: str) -> None:
        """Remove the object, if it is there."""
        await self._s3.delete_object(Bucket=self.bucket, Key=self._key(name))

    async def names(self, prefix: str) -> list[str]:
        """The stored names that start with `prefix`."""
        return [name async for name, _ in self._objects(prefix)]

    async def _objects(self, prefix: str) -> AsyncIterator[tuple[str, float]]:
        pages = self._s3.get_paginator("list_objects_v2")
        async for page in pages.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
            for item in page.get("Contents", []):
                yield item["Key"][len(self.prefix) :], item["LastModified"].timestamp()

    async def sweep(self, older_than_s: float, now: float | None = None) -> int:
        """Delete every object stored more than `older_than_s` seconds ago; how many went."""
        cutoff = (time.time() if now is None else now) - older_than_s
        old = [name async for name, modified in self._objects("") if modified < cutoff]
        for name in old:
            await self.delete(name)
        return len(old)

    async def check(self) -> str | None:
        """Why the bucket cannot be reached, or None when it can (for /readyz)."""
        try:
            await self._s3.head_bucket(Bucket=self.bucket)
        except (ClientError, BotoCoreError) as exc:
            return f"the result bucket {self.bucket} cannot be reached: {exc}"
        return None

    async def url(self, name: str, base_url: str, ttl_s: int | None = None) -> str:
        """A presigned GET URL of `name`, valid for `ttl_s` (else `url_ttl_s`; SigV4 allows at
        most 7 days); `base_url` is not needed."""
        url: str = await self._s3.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": self._key(name)},
            ExpiresIn=min(ttl_s or self.url_ttl_s, 7 * 24 * 3600),
        )
        return url


@asynccontextmanager
async def open_s3_store(
    bucket: str, prefix: str, endpoint_url: str | None, region: str, url_ttl_s: int
) -> AsyncIterator[S3Store]:
    """An S3Store whose client lives as long as the block."""
    session = aioboto3.Session()
    config = AioConfig(signature_version="s3v4", retries={"mode": "standard"})
    async with session.client(
        "s3", endpoint_url=endpoint_url, region_name=region, config=config
    ) as client:
        yield S3Store(client, bucket, prefix, url_ttl_s)
