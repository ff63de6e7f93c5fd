"""Enumerations that several Stability models share (reference §3, §4, §4b)."""

from __future__ import annotations

# SDXL's style presets; Ultra, Core and the Image Services that take `style_preset` use the same 17.
STYLE_PRESETS: tuple[str, ...] = (
    "3d-model",
    "analog-film",
    "anime",
    "cinematic",
    "comic-book",
    "digital-art",
    "enhance",
    "fantasy-art",
    "isometric",
    "line-art",
    "low-poly",
    "modeling-compound",
    "neon-punk",
    "origami",
    "photographic",
    "pixel-art",
    "tile-texture",
)

# aspect_ratio → the output size the emulator draws: about one megapixel, sides divisible by 64,
# as Stability's SD3-generation models answer.
ASPECT_RATIO_SIZES: dict[str, tuple[int, int]] = {
    "16:9": (1344, 768),
    "1:1": (1024, 1024),
    "21:9": (1536, 640),
    "2:3": (832, 1216),
    "3:2": (1216, 832),
    "4:5": (896, 1088),
    "5:4": (1088, 896),
    "9:16": (768, 1344),
    "9:21": (640, 1536),
}

OUTPUT_FORMATS: tuple[str, ...] = ("png", "jpeg", "webp")

# Stability's seeds: 0 means "pick one at random".
STABILITY_SEED_MAX = 4_294_967_294

FILTER_PROMPT = "Filter reason: prompt"
FILTER_OUTPUT = "Filter reason: output image"
FILTER_INPUT = "Filter reason: input image"
