"""The URL an answer gives for an image (`response_format: url`).

One function decides it, so a result store can plug in here: with one, the URL will be the
stored image's. There is none yet, so the image travels in the URL itself, as a `data:` URL,
which works wherever a browser or an HTTP client takes a URL.
"""

from __future__ import annotations

from ...bedrock import blobs
from ...imaging.outputs import OUTPUT_MIME
from ...schemas.images import B64


def image_url(b64: B64, fmt: str) -> str:
    """The URL of an image of the answer: its base64 `b64` in format `fmt` (png, jpeg, webp)."""
    return f"data:{OUTPUT_MIME[fmt]};base64,{blobs.text_of(b64)}"
