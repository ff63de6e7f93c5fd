"""The images in a Bedrock answer the gateway passed through untouched (the Bedrock surface), read
only to price it: how many came out, how many were filtered, the tokens a Converse call used.

Every family's answer names its images in one of a few shapes: `images` (Titan, Nova Canvas,
Stability, with `finish_reasons` when Stability filtered one), `artifacts` (SDXL, each with its
`finishReason`), or a Converse message whose `image` blocks are the images and whose `usage`
counts the tokens. A binary answer (Accept: image/png) is one image.
"""

from __future__ import annotations

from typing import Any

import orjson

from ..http.media import JSON
from ..schemas.images import FinishReason, GeneratedImage


def answered_images(answer: bytes, media: str) -> list[GeneratedImage]:
    """The images `answer` holds (data left out but for a PNG's header), each with its finish
    reason; a Converse answer's tokens on its first (CPU work for big answers: run in a
    thread)."""
    if not media.startswith(JSON):
        return [_image(None)]
    try:
        body = orjson.loads(answer)
    except orjson.JSONDecodeError:
        return []
    if not isinstance(body, dict):
        return []
    if "artifacts" in body:
        return [_artifact(a) for a in body["artifacts"] if isinstance(a, dict)]
    if "output" in body:
        return _converse(body)
    images = [i for i in body.get("images") or [] if isinstance(i, str) and i]
    reasons = body.get("finish_reasons") or []
    filtered = sum(1 for reason in reasons if reason is not None)
    out = [_image(text) for text in images]
    out += [_image(None, FinishReason.CONTENT_FILTERED)] * filtered
    return out


def _image(b64: str | None, reason: FinishReason = FinishReason.SUCCESS) -> GeneratedImage:
    # 44 characters of base64 hold a PNG's signature and size: enough to price it.
    return GeneratedImage(b64=b64[:44] if b64 else None, seed=None, finish_reason=reason)


def _artifact(artifact: dict[str, Any]) -> GeneratedImage:
    if artifact.get("finishReason", "SUCCESS") == "SUCCESS":
        return _image(artifact.get("base64"))
    return _image(None, FinishReason.CONTENT_FILTERED)


def _converse(body: dict[str, Any]) -> list[GeneratedImage]:
    usage = body.get("usage") or {}
    tokens = (int(usage.get("inputTokens", 0)), int(usage.get("outputTokens", 0)))
    content = ((body.get("output") or {}).get("message") or {}).get("content") or []
    count = sum(1 for block in content if isinstance(block, dict) and "image" in block)
    images = [_image(None) for _ in range(count)]
    if images:
        images[0] = GeneratedImage(None, None, FinishReason.SUCCESS, usage=tokens)
        return images
    return [GeneratedImage(None, None, FinishReason.CONTENT_FILTERED, usage=tokens)]
