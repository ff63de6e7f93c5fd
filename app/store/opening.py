"""A result store of its own for a part of the gateway (stored answers, the result cache), in the
place the operator configured for job results: a folder under `results_dir`, or a prefix under
`results_s3_prefix` in the bucket."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from ..settings import Settings
from . import LocalStore, ResultStore, SignedUrls
from .s3 import open_s3_store


@asynccontextmanager
async def open_store(settings: Settings, folder: str) -> AsyncIterator[ResultStore]:
    """The store under `folder` of the configured result store, open as long as the block."""
    if settings.results_s3_bucket is None:
        # These objects are never linked to: the signer is there because the store needs one.
        urls = SignedUrls(settings.results_secret, settings.results_url_ttl_s)
        yield LocalStore(Path(settings.results_dir) / folder, urls)
        return
    async with open_s3_store(
        settings.results_s3_bucket,
        f"{settings.results_s3_prefix}{folder}/",
        settings.results_s3_endpoint_url,
        settings.region,
        settings.results_url_ttl_s,
    ) as store:
        yield store
