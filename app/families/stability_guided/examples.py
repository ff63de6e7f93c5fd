"""The spec's request examples for Stability's guided and upscaling Image Services."""

from ...schemas.requests import Task
from ..examples import PNG, Examples, example

EXAMPLES: Examples = {
    Task.UPSCALE: {
        "fast": example("Fast 4x upscale", {"image": PNG}),
        "creative": example(
            "Creative upscale to about 4 megapixels",
            {"image": PNG, "mode": "creative", "prompt": "a detailed portrait", "creativity": 0.3},
        ),
    },
    Task.STYLE_TRANSFER: {
        "default": example(
            "Redraw a photo in the style of a painting",
            {
                "init_image": PNG,
                "style_image": PNG,
                "style_strength": 0.8,
                "change_strength": 0.9,
            },
        ),
    },
    Task.STYLE_GUIDE: {
        "default": example(
            "A new image in a reference's style",
            {"image": PNG, "prompt": "a mountain village", "aspect_ratio": "3:2", "fidelity": 0.5},
        ),
    },
    Task.CONTROL: {
        "sketch": example(
            "Follow a sketch",
            {"image": PNG, "control": "sketch", "prompt": "a castle", "control_strength": 0.7},
        ),
    },
}
