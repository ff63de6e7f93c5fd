"""The full decode every caller image gets before any Bedrock call.

The header and structure checks (`inputs.parse_image`) cost nothing, but pixel data can be
corrupt behind valid chunk CRCs, and a PNG's metadata (an ICC profile) can inflate past what
Pillow reads. Found later, that is an error after validation (a 500 where the gateway converts the
image) or a body Bedrock fails on (a 5xx, retried, then a 502). So every image is decoded in full
once, during validation, which runs off the event loop; the pixel budget (max_image_pixels) has
already been checked from the header, so the decode's memory is bounded. The pixels are dropped:
the adapters that convert an image decode it again (a later optimisation may keep them).
"""

from __future__ import annotations

from .inputs import InputImage, decoded


def verify_decodes(image: InputImage) -> None:
    """Decode every pixel of `image`; ImageInputError when its pixel data or metadata is corrupt
    or more than this server decodes."""
    with decoded(image):
        pass
