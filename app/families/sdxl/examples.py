"""The spec's request examples for SDXL."""

from ...schemas.requests import Task
from ..examples import PNG, Examples, example

EXAMPLES: Examples = {
    Task.IMAGE_TO_IMAGE: {
        "sdxl": example(
            "SDXL image-to-image",
            {"model": "sdxl", "image": PNG, "prompt": "a space ship", "image_strength": 0.35},
        ),
    },
}
