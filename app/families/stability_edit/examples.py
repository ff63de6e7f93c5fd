"""The spec's request examples for Stability's editing Image Services."""

from ...schemas.requests import Task
from ..examples import MASK, PNG, Examples, example

EXAMPLES: Examples = {
    Task.INPAINT: {
        "stability": example(
            "Stability inpaint with a white-is-edit mask",
            {
                "model": "stability-inpaint",
                "image": PNG,
                "mask": MASK,
                "mask_convention": "white-is-edit",
                "prompt": "a bowl of oranges",
                "grow_mask": 5,
            },
        ),
    },
    Task.OUTPAINT: {
        "stability": example(
            "Stability outpaint: 256 px more on each side",
            {
                "model": "stability-outpaint",
                "image": PNG,
                "left": 256,
                "right": 256,
                "prompt": "a wide beach",
                "creativity": 0.5,
            },
        ),
    },
    Task.ERASE: {
        "mask": example(
            "Erase what a black-is-edit mask marks",
            {"image": PNG, "mask": MASK, "grow_mask": 5},
        ),
        "alpha": example(
            "Erase the image's transparent pixels",
            {"image": PNG, "mask_convention": "alpha-is-edit"},
        ),
    },
    Task.SEARCH_REPLACE: {
        "default": example(
            "Replace the cup with a teapot",
            {"image": PNG, "search_prompt": "the cup", "prompt": "a porcelain teapot"},
        ),
    },
    Task.SEARCH_RECOLOR: {
        "default": example(
            "Make the car red",
            {"image": PNG, "select_prompt": "the car", "prompt": "a glossy red car"},
        ),
    },
    Task.REMOVE_BACKGROUND: {
        "default": example(
            "A transparent background, as WebP", {"image": PNG, "output_format": "webp"}
        ),
    },
}
