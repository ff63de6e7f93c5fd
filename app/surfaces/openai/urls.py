"""The URL an answer gives for an image (`response_format: url`).

One function decides it. With a result store (jobs configured: docs/jobs.md) the image is stored
and the URL is its signed `/v1/files` URL, valid for `GATEWAY_RESULTS_URL_TTL_S`; without one the
image travels in the URL itself, as a `data:` URL, which works wherever a browser or an HTTP
client takes a URL.
"""

from __future__ import annotations

import asyncio

from ...bedrock import blobs
from ...imaging.outputs import OUTPUT_MIME
from ...schemas.images import B64
from ...store.links import ResultLinks


async def image_url(b64: B64, fmt: str, links: ResultLinks | None) -> str:
    """The URL of an image of the answer: its base64 `b64` in format `fmt` (png, jpeg, webp),
    stored through `links` when there is a store."""
    if links is None:
        return f"data:{OUTPUT_MIME[fmt]};base64,{blobs.text_of(b64)}"
    data = await asyncio.to_thread(blobs.decoded, b64)
    return await links.publish(data, fmt)
