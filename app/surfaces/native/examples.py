"""Request examples for the spec: one or more per task, each naming the model it is meant for.

Image fields show a shortened base64 PNG: base64 or a data URL in JSON, a file part in multipart.
"""

from __future__ import annotations

from typing import Any

from ...schemas.requests import Task

_PNG = "iVBORw0KGgoAAAANSUhEUgAA..."
_MASK = "iVBORw0KGgoAAAANSUhEUgAB..."


def _example(summary: str, value: dict[str, Any]) -> dict[str, Any]:
    return {"summary": summary, "value": value}


EXAMPLES: dict[Task, dict[str, dict[str, Any]]] = {
    Task.TEXT_TO_IMAGE: {
        "titan": _example(
            "Titan G1: two 1152x768 images",
            {
                "model": "titan",
                "prompt": "a lighthouse at dusk, photograph",
                "n": 2,
                "width": 1152,
                "height": 768,
            },
        ),
        "sd35": _example(
            "SD3.5 Large at 16:9, as JPEG",
            {
                "model": "sd3.5-large",
                "prompt": "a lighthouse at dusk, photograph",
                "aspect_ratio": "16:9",
                "output_format": "jpeg",
            },
        ),
        "ultra": _example(
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
    Task.INPAINT: {
        "titan": _example(
            "Titan: replace what a mask prompt names",
            {
                "model": "titan",
                "image": _PNG,
                "mask_prompt": "the windows",
                "prompt": "stained-glass windows",
            },
        ),
        "stability": _example(
            "Stability inpaint with a white-is-edit mask",
            {
                "model": "stability-inpaint",
                "image": _PNG,
                "mask": _MASK,
                "mask_convention": "white-is-edit",
                "prompt": "a bowl of oranges",
                "grow_mask": 5,
            },
        ),
    },
    Task.OUTPAINT: {
        "titan": _example(
            "Titan: generate around the kept region",
            {
                "model": "titan",
                "image": _PNG,
                "mask": _MASK,
                "prompt": "a sunny garden",
                "outpainting_mode": "PRECISE",
            },
        ),
        "stability": _example(
            "Stability outpaint: 256 px more on each side",
            {
                "model": "stability-outpaint",
                "image": _PNG,
                "left": 256,
                "right": 256,
                "prompt": "a wide beach",
                "creativity": 0.5,
            },
        ),
    },
    Task.VARIATIONS: {
        "titan": _example(
            "Titan: three variations of one image",
            {"model": "titan", "images": [_PNG], "n": 3, "similarity_strength": 0.7},
        ),
        "sd35": _example(
            "SD3.5 Large: a variation of one image, from a prompt",
            {"model": "sd3.5-large", "images": [_PNG], "prompt": "the same scene at night"},
        ),
    },
    Task.IMAGE_TO_IMAGE: {
        "sd35": _example(
            "SD3.5 Large image-to-image",
            {"model": "sd3.5-large", "image": _PNG, "prompt": "as a watercolour", "strength": 0.6},
        ),
        "sdxl": _example(
            "SDXL image-to-image",
            {"model": "sdxl", "image": _PNG, "prompt": "a space ship", "image_strength": 0.35},
        ),
    },
    Task.ERASE: {
        "mask": _example(
            "Erase what a black-is-edit mask marks",
            {"image": _PNG, "mask": _MASK, "grow_mask": 5},
        ),
        "alpha": _example(
            "Erase the image's transparent pixels",
            {"image": _PNG, "mask_convention": "alpha-is-edit"},
        ),
    },
    Task.SEARCH_REPLACE: {
        "default": _example(
            "Replace the cup with a teapot",
            {"image": _PNG, "search_prompt": "the cup", "prompt": "a porcelain teapot"},
        ),
    },
    Task.SEARCH_RECOLOR: {
        "default": _example(
            "Make the car red",
            {"image": _PNG, "select_prompt": "the car", "prompt": "a glossy red car"},
        ),
    },
    Task.REMOVE_BACKGROUND: {
        "default": _example(
            "A transparent background, as WebP", {"image": _PNG, "output_format": "webp"}
        ),
    },
    Task.UPSCALE: {
        "fast": _example("Fast 4x upscale", {"image": _PNG}),
        "creative": _example(
            "Creative upscale to about 4 megapixels",
            {"image": _PNG, "mode": "creative", "prompt": "a detailed portrait", "creativity": 0.3},
        ),
    },
    Task.STYLE_TRANSFER: {
        "default": _example(
            "Redraw a photo in the style of a painting",
            {
                "init_image": _PNG,
                "style_image": _PNG,
                "style_strength": 0.8,
                "change_strength": 0.9,
            },
        ),
    },
    Task.STYLE_GUIDE: {
        "default": _example(
            "A new image in a reference's style",
            {"image": _PNG, "prompt": "a mountain village", "aspect_ratio": "3:2", "fidelity": 0.5},
        ),
    },
    Task.CONTROL: {
        "sketch": _example(
            "Follow a sketch",
            {"image": _PNG, "control": "sketch", "prompt": "a castle", "control_strength": 0.7},
        ),
    },
    Task.COLOR_GUIDED: {
        "default": _example(
            "Titan v2 in a palette of two colours",
            {"model": "titan-v2", "prompt": "a living room", "colors": ["#FF8800", "#0044AA"]},
        ),
    },
    Task.EDIT: {
        "default": _example(
            "Nova 2 Omni: an instruction, no mask",
            {
                "images": [_PNG],
                "prompt": "remove the cup from the table",
                "width": 1200,
                "height": 800,
            },
        ),
    },
}
