"""Colour words: the names a prompt can use to steer the emulator's procedural images."""

from __future__ import annotations

import re

RGB = tuple[int, int, int]

COLOR_WORDS: dict[str, RGB] = {
    "red": (210, 30, 35),
    "crimson": (190, 20, 60),
    "maroon": (128, 20, 30),
    "orange": (245, 130, 20),
    "yellow": (245, 220, 40),
    "gold": (215, 170, 40),
    "golden": (215, 170, 40),
    "green": (40, 170, 60),
    "lime": (150, 220, 40),
    "olive": (110, 120, 40),
    "teal": (20, 140, 140),
    "turquoise": (60, 210, 200),
    "cyan": (30, 210, 230),
    "blue": (30, 70, 215),
    "navy": (20, 30, 110),
    "purple": (130, 50, 170),
    "violet": (150, 90, 220),
    "magenta": (220, 40, 180),
    "pink": (245, 140, 180),
    "brown": (120, 75, 40),
    "beige": (225, 210, 170),
    "white": (245, 245, 245),
    "silver": (190, 195, 200),
    "grey": (128, 128, 128),
    "gray": (128, 128, 128),
    "black": (15, 15, 15),
}

_WORD = re.compile(r"[a-z]+")


def colors_in(text: str | None) -> list[RGB]:
    """The colours named in `text`, in order of first mention, without repeats."""
    if not text:
        return []
    found: list[RGB] = []
    for word in _WORD.findall(text.lower()):
        rgb = COLOR_WORDS.get(word)
        if rgb is not None and rgb not in found:
            found.append(rgb)
    return found
