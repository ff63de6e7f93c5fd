"""Converse requests and answers as JSON on the wire, and as botocore's parameters.

Converse's REST body is JSON whose blobs (`source.bytes` of image, document and video blocks) are
base64 text; botocore takes and returns them as raw bytes. The gateway keeps the wire form (its
surfaces speak it, its bodies are serialised once), and converts at the client's edge.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

_BLOCKS_WITH_BYTES = ("image", "document", "video")


def to_params(body: dict[str, Any]) -> dict[str, Any]:
    """The wire body as botocore's `converse` parameters: every content blob decoded."""
    params = dict(body)
    params["messages"] = [
        {**message, "content": [_blob(block, base64.b64decode) for block in message["content"]]}
        for message in body.get("messages", [])
    ]
    return params


def to_wire(response: dict[str, Any]) -> dict[str, Any]:
    """botocore's `converse` answer as the wire's JSON: blobs base64, response metadata dropped."""
    answer = {key: value for key, value in response.items() if key != "ResponseMetadata"}
    message = answer.get("output", {}).get("message")
    if isinstance(message, dict):
        content = [_blob(block, _b64) for block in message.get("content", [])]
        answer["output"] = {**answer["output"], "message": {**message, "content": content}}
    return answer


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _blob(block: Any, convert: Callable[[Any], Any]) -> Any:
    """`block` with its `<kind>.source.bytes` converted, any other block unchanged."""
    if not isinstance(block, dict):
        return block
    for kind in _BLOCKS_WITH_BYTES:
        inner = block.get(kind)
        if not isinstance(inner, dict):
            continue
        source = inner.get("source")
        if isinstance(source, dict) and "bytes" in source:
            converted = {**source, "bytes": convert(source["bytes"])}
            return {**block, kind: {**inner, "source": converted}}
    return block
