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

import io

from PIL import Image

from .formats import CORRUPT, ImageInputError
from .inputs import BOMB_ERRORS, DECODE_ERRORS, InputImage


def verify_decodes(image: InputImage) -> None:
    """Decode every pixel of `image`; ImageInputError when its pixel data or metadata is corrupt
    or more than this server decodes."""
    try:
        with Image.open(io.BytesIO(image.data), formats=[image.format.name]) as im:
            if im.size != (image.width, image.height):
                raise ImageInputError(CORRUPT)  # Pillow read another header than we did
            im.load()
    except ImageInputError:
        raise
    except BOMB_ERRORS as err:
        raise ImageInputError(
            f"is {image.width}x{image.height} pixels, more than this server can decode"
        ) from err
    except DECODE_ERRORS as err:
        raise ImageInputError(CORRUPT) from err
