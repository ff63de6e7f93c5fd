"""The spec's request examples for Titan and Nova Canvas."""

from ...schemas.requests import Task
from ..examples import MASK, PNG, Examples, example

EXAMPLES: Examples = {
    Task.TEXT_TO_IMAGE: {
        "titan": example(
            "Titan G1: two 1152x768 images",
            {
                "model": "titan",
                "prompt": "a lighthouse at dusk, photograph",
                "n": 2,
                "width": 1152,
                "height": 768,
            },
        ),
    },
    Task.INPAINT: {
        "titan": example(
            "Titan: replace what a mask prompt names",
            {
                "model": "titan",
                "image": PNG,
                "mask_prompt": "the windows",
                "prompt": "stained-glass windows",
            },
        ),
    },
    Task.OUTPAINT: {
        "titan": example(
            "Titan: generate around the kept region",
            {
                "model": "titan",
                "image": PNG,
                "mask": MASK,
                "prompt": "a sunny garden",
                "outpainting_mode": "PRECISE",
            },
        ),
    },
    Task.VARIATIONS: {
        "titan": example(
            "Titan: three variations of one image",
            {"model": "titan", "images": [PNG], "n": 3, "similarity_strength": 0.7},
        ),
    },
    Task.COLOR_GUIDED: {
        "default": example(
            "Titan v2 in a palette of two colours",
            {"model": "titan-v2", "prompt": "a living room", "colors": ["#FF8800", "#0044AA"]},
        ),
    },
    Task.VIRTUAL_TRY_ON: {
        "garment": example(
            "Nova Canvas: a shirt on the person's upper body",
            {
                "model": "nova-canvas",
                "image": PNG,
                "reference_image": PNG,
                "garment_class": "UPPER_BODY",
                "merge_style": "BALANCED",
            },
        ),
        "mask": example(
            "Nova Canvas: the garment where a black-is-edit mask marks",
            {"model": "nova-canvas", "image": PNG, "reference_image": PNG, "mask": MASK},
        ),
    },
}
