"""The guided tools of §4b: control by sketch or structure, style guide, style transfer.

Each draws from its prompt and follows a guide image; the strength knob (control_strength, fidelity,
style_strength) measurably moves the output toward the guide's edges or colours.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ...imaging.edit import blend_towards
from ...imaging.style import follow_structure, trace_sketch, transfer_colors
from ...imaging.synth import text_to_image
from ..base import Invocation
from ..vocab import ASPECT_RATIO_SIZES
from .form import ServiceForm, rgb

CONTROL_KEYS = (
    "image", "prompt", "control_strength", "negative_prompt", "seed", "output_format",
    "style_preset",
)  # fmt: skip
STYLE_GUIDE_KEYS = (
    "image", "prompt", "aspect_ratio", "fidelity", "negative_prompt", "seed", "output_format",
    "style_preset",
)  # fmt: skip
STYLE_TRANSFER_KEYS = (
    "init_image", "style_image", "prompt", "negative_prompt", "style_strength",
    "composition_fidelity", "change_strength", "seed", "output_format",
)  # fmt: skip

Follow = Callable[[np.ndarray, np.ndarray, float], np.ndarray]


def control_sketch(invocation: Invocation) -> dict[str, Any]:
    """The prompt's picture at the sketch's size, its edges drawn in as control_strength rises."""
    return _control(invocation, trace_sketch)


def control_structure(invocation: Invocation) -> dict[str, Any]:
    """The prompt's colours over the input's light and shade, more so as control_strength rises."""
    return _control(invocation, follow_structure)


def style_guide(invocation: Invocation) -> dict[str, Any]:
    """The prompt at aspect_ratio's size in the style image's colours, more as fidelity rises."""
    form = ServiceForm(invocation, STYLE_GUIDE_KEYS)
    style = form.image("image")
    prompt = form.text("prompt")
    aspect = form.check.enum(
        invocation.body, "aspect_ratio", "#", tuple(ASPECT_RATIO_SIZES), default="1:1"
    )
    width, height = ASPECT_RATIO_SIZES[aspect or "1:1"]
    fidelity = form.number("fidelity", 0.0, 1.0, 0.5)
    form.variety()
    fmt = form.output_format()
    filtered = form.finish()
    if filtered is not None:
        return filtered
    drawn = _draw(form, prompt, width, height)
    guided = blend_towards(transfer_colors(drawn, rgb(style)), drawn, fidelity)
    return form.respond(form.styled(guided), fmt)


def style_transfer(invocation: Invocation) -> dict[str, Any]:
    """init_image at its size, moved toward style_image's colours as style_strength rises."""
    form = ServiceForm(invocation, STYLE_TRANSFER_KEYS)
    init = form.image("init_image")
    style = form.image("style_image")
    prompt = form.optional_text("prompt")
    style_strength = form.number("style_strength", 0.0, 1.0, 1.0)
    composition = form.number("composition_fidelity", 0.0, 1.0, 0.9)
    change = form.number("change_strength", 0.1, 1.0, 0.9)
    form.variety()
    fmt = form.output_format()
    filtered = form.finish()
    if filtered is not None:
        return filtered
    content, palette = rgb(init), rgb(style)
    height, width = content.shape[:2]
    # Low composition fidelity lets invented shapes (in the style's colours) into the layout.
    invented = transfer_colors(_draw(form, prompt or "", width, height), palette)
    styled = blend_towards(transfer_colors(content, palette), invented, composition)
    return form.respond(blend_towards(content, styled, 1.0 - style_strength * change), fmt)


def _control(invocation: Invocation, follow: Follow) -> dict[str, Any]:
    form = ServiceForm(invocation, CONTROL_KEYS)
    guide = form.image("image")
    prompt = form.text("prompt")
    strength = form.number("control_strength", 0.0, 1.0, 0.7)
    form.variety()
    fmt = form.output_format()
    filtered = form.finish()
    if filtered is not None:
        return filtered
    height, width = guide.shape[:2]
    followed = follow(_draw(form, prompt, width, height), rgb(guide), strength)
    return form.respond(form.styled(followed), fmt)


def _draw(form: ServiceForm, prompt: str, width: int, height: int) -> np.ndarray:
    seed, salt = form.pixel_seed, form.invocation.model_id
    return text_to_image(prompt, form.negative_prompt, width, height, seed, salt=salt)
