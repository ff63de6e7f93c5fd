"""The spec's request examples for SD3.5 Large, Stable Image Ultra and Core."""

from ...schemas.requests import Task
from ..examples import PNG, Examples, example

EXAMPLES: Examples = {
    Task.TEXT_TO_IMAGE: {
        "sd35": example(
            "SD3.5 Large at 16:9, as JPEG",
            {
                "model": "sd3.5-large",
                "prompt": "a lighthouse at dusk, photograph",
                "aspect_ratio": "16:9",
                "output_format": "jpeg",
            },
        ),
        "ultra": example(
            "Stable Image Ultra with a style preset, from a width and height",
            {
                "model": "ultra",
                "prompt": "a fox in the snow",
                "style_preset": "photographic",
                "width": 1200,
                "height": 800,
            },
        ),
    },
    Task.VARIATIONS: {
        "sd35": example(
            "SD3.5 Large: a variation of one image, from a prompt",
            {"model": "sd3.5-large", "images": [PNG], "prompt": "the same scene at night"},
        ),
    },
    Task.IMAGE_TO_IMAGE: {
        "sd35": example(
            "SD3.5 Large image-to-image",
            {"model": "sd3.5-large", "image": PNG, "prompt": "as a watercolour", "strength": 0.6},
        ),
    },
}
