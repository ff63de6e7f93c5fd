"""Seeded text-to-image synthesis: soft abstract compositions whose colours follow the prompt."""

from __future__ import annotations

import numpy as np
from PIL import Image

from .codec import rng_for
from .colors import colors_in

# Compositions are drawn at 1/_SCALE of the output size and upsampled: smooth shapes need no more,
# and it keeps a 1024x1024 image to a few milliseconds.
_SCALE = 4


def smooth_noise(rng: np.random.Generator, height: int, width: int, cells: int) -> np.ndarray:
    """A float32 (height, width) field in about [0, 1]: `cells` random values per side, bicubic."""
    grid = rng.random((cells, cells), dtype=np.float32)
    field = Image.fromarray(grid, mode="F").resize((width, height), Image.Resampling.BICUBIC)
    return np.asarray(field, dtype=np.float32)


def _palette(prompt: str, negative_prompt: str | None, salt: str) -> np.ndarray:
    """Base colours (n, 3) float32: those the prompt names, less the negative's, else seeded."""
    unwanted = set(colors_in(negative_prompt))
    named = [c for c in colors_in(prompt) if c not in unwanted]
    if named:
        return np.array(named, dtype=np.float32)
    rng = rng_for("palette", prompt, negative_prompt, salt)
    return rng.integers(30, 230, size=(3, 3)).astype(np.float32)


def _shade(base: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A variant of a base colour: darker or slightly washed out, keeping its hue."""
    darker = base * rng.uniform(0.55, 1.0)
    return darker + (255.0 - darker) * rng.uniform(0.0, 0.2)


def _compose(palette: np.ndarray, rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Float32 (height, width, 3): a gradient background, soft blobs and seeded texture."""
    ys = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    xs = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :]
    angle = rng.uniform(0, 2 * np.pi)
    ramp = np.clip(0.5 + (xs - 0.5) * np.cos(angle) + (ys - 0.5) * np.sin(angle), 0.0, 1.0)
    top = _shade(palette[rng.integers(len(palette))], rng)
    bottom = _shade(palette[rng.integers(len(palette))], rng)
    canvas = top + (bottom - top) * ramp[..., None]
    if rng.random() < 0.6:
        # A wavy horizon: a ground band in another shade, as in a landscape.
        level = rng.uniform(0.45, 0.8) + (smooth_noise(rng, 1, width, 4) - 0.5) * 0.15
        ground = _shade(palette[rng.integers(len(palette))], rng) * 0.8
        below = np.clip((ys - level) * height / 3.0, 0.0, 1.0)[..., None]
        canvas = canvas + (ground - canvas) * below
    for _ in range(int(rng.integers(3, 8))):
        colour = _shade(palette[rng.integers(len(palette))], rng)
        cy, cx = rng.uniform(0.1, 0.9, size=2)
        ry, rx = rng.uniform(0.05, 0.3, size=2)
        dist = ((ys - cy) / ry) ** 2 + ((xs - cx) / rx) ** 2
        wobble = smooth_noise(rng, height, width, 5) * rng.uniform(0.0, 0.6)
        # Hardness from soft glow to crisp edge, so shapes read as objects, not only haze.
        hardness = rng.uniform(2.0, 20.0)
        weight = np.clip((1.0 + wobble - dist) * hardness, 0.0, 1.0)[..., None]
        canvas = canvas + (colour - canvas) * weight * rng.uniform(0.7, 1.0)
    light = 0.8 + 0.35 * smooth_noise(rng, height, width, 4)
    grain = 0.9 + 0.2 * smooth_noise(rng, height, width, max(8, min(height, width) // 6))
    shaded: np.ndarray = canvas * (light * grain)[..., None]
    return shaded


def _upsample(small: np.ndarray, width: int, height: int) -> np.ndarray:
    pixels = np.clip(small, 0, 255).astype(np.uint8)
    image = Image.fromarray(pixels).resize((width, height), Image.Resampling.BICUBIC)
    return np.asarray(image, dtype=np.uint8)


def text_to_image(
    prompt: str,
    negative_prompt: str | None,
    width: int,
    height: int,
    seed: int,
    *,
    salt: str = "",
) -> np.ndarray:
    """RGB seeded by (prompt, negative, seed, salt); colours the prompt names dominate."""
    rng = rng_for("text_to_image", prompt, negative_prompt, seed, salt)
    palette = _palette(prompt, negative_prompt, salt)
    small_h, small_w = max(8, height // _SCALE), max(8, width // _SCALE)
    return _upsample(_compose(palette, rng, small_h, small_w), width, height)


def palette_image(
    colors: list[tuple[int, int, int]], width: int, height: int, seed: int, *, salt: str = ""
) -> np.ndarray:
    """An RGB image whose every pixel is one of `colors`, in seeded organic regions."""
    rng = rng_for("palette_image", tuple(colors), seed, salt)
    table = np.array(colors, dtype=np.uint8).reshape(-1, 3)
    # Half resolution, then nearest-neighbour: region borders stay exact palette colours.
    half_h, half_w = max(4, height // 2), max(4, width // 2)
    fields = np.stack([smooth_noise(rng, half_h, half_w, 6) for _ in range(len(table))])
    index = np.argmax(fields, axis=0).astype(np.uint8)
    full = Image.fromarray(index, mode="L").resize((width, height), Image.Resampling.NEAREST)
    pixels: np.ndarray = table[np.asarray(full)]
    return pixels
