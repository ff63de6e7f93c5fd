"""Seeded image edits: region fills, blends, masks from prompts, background removal, resizing."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter

from .codec import rng_for
from .colors import colors_in
from .synth import text_to_image


def _bbox(region: np.ndarray, margin: int) -> tuple[slice, slice]:
    rows = np.flatnonzero(region.any(axis=1))
    cols = np.flatnonzero(region.any(axis=0))
    height, width = region.shape
    top, bottom = max(0, rows[0] - margin), min(height, rows[-1] + 1 + margin)
    left, right = max(0, cols[0] - margin), min(width, cols[-1] + 1 + margin)
    return slice(int(top), int(bottom)), slice(int(left), int(right))


def _halve(values: np.ndarray) -> np.ndarray:
    """Sum 2x2 blocks (odd edges padded by repetition)."""
    height, width = values.shape[:2]
    if height % 2:
        values = np.concatenate([values, values[-1:]], axis=0)
    if width % 2:
        values = np.concatenate([values, values[:, -1:]], axis=1)
    total: np.ndarray = (
        values[0::2, 0::2] + values[1::2, 0::2] + values[0::2, 1::2] + values[1::2, 1::2]
    )
    return total


def _grow(values: np.ndarray, height: int, width: int) -> np.ndarray:
    """Bilinear upsampling of a (h, w, c) float32 array to (height, width, c)."""
    channels = [
        np.asarray(
            Image.fromarray(np.ascontiguousarray(values[..., c]), mode="F").resize(
                (width, height), Image.Resampling.BILINEAR
            ),
            dtype=np.float32,
        )
        for c in range(values.shape[2])
    ]
    return np.stack(channels, axis=-1)


def push_pull_fill(image: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Float32 RGB where unknown pixels are smoothly interpolated from the known ones.

    Push-pull (a multiscale diffusion): average known colours down a pyramid, then fill each
    level's holes from the coarser level. It behaves like a diffusion fill from the region's border.
    """
    weight = known.astype(np.float32)
    colour = image.astype(np.float32) * weight[..., None]
    levels: list[tuple[np.ndarray, np.ndarray]] = []
    while min(weight.shape) > 1 and weight.min() < 1.0:
        levels.append((colour, weight))
        total = _halve(weight)
        colour = _halve(colour * weight[..., None]) / np.maximum(total, 1e-6)[..., None]
        weight = np.minimum(total, 1.0)
    if weight.min() < 1.0:
        # Tiny leftover level: fill holes with the mean of what is known there.
        mean = (colour * weight[..., None]).sum(axis=(0, 1)) / max(float(weight.sum()), 1e-6)
        colour = colour + (mean - colour) * (1.0 - weight)[..., None]
    for fine_colour, fine_weight in reversed(levels):
        coarse = _grow(colour, *fine_weight.shape)
        colour = fine_colour * fine_weight[..., None] + coarse * (1.0 - fine_weight)[..., None]
    return colour


def _feather(region: np.ndarray, radius: float) -> np.ndarray:
    """Float32 0..1: how deep inside the region a pixel lies (0 outside, 1 well inside)."""
    mask = Image.fromarray(region.astype(np.uint8) * 255, mode="L")
    soft = np.asarray(mask.filter(ImageFilter.GaussianBlur(radius)), dtype=np.float32) / 255.0
    depth: np.ndarray = np.clip((soft - 0.5) * 2.0, 0.0, 1.0) * region
    return depth


# Fills bigger than this many pixels are computed on a reduced copy and upsampled: a fill is
# smooth, so nothing is lost, and an outpaint of 2000 px per side stays well under a second.
_FILL_MAX_PIXELS = 1_500_000


def _fill_crop(crop: np.ndarray, inside: np.ndarray, prompt: str | None, seed: int) -> np.ndarray:
    """Uint8 RGB of the crop's size: border colours diffused inward, blended with a composition."""
    height, width = inside.shape
    size = max(8, int(np.sqrt(inside.sum())) // 4)
    diffused = push_pull_fill(crop, ~inside)
    generated = text_to_image(prompt or "", None, width, height, seed, salt="fill_region")
    depth = _feather(inside, max(2.0, size / 2.0))[..., None]
    mix = 0.35 + 0.5 * depth if colors_in(prompt) else 0.25 + 0.4 * depth
    filled = diffused + (generated.astype(np.float32) - diffused) * mix
    pixels: np.ndarray = np.clip(filled + 0.5, 0, 255).astype(np.uint8)
    return pixels


def fill_region(image: np.ndarray, region: np.ndarray, prompt: str | None, seed: int) -> np.ndarray:
    """RGB, same size; pixels outside `region` byte-identical, inside filled from the border.

    The fill diffuses the border's colours inward (push-pull), then blends in a seeded composition
    tinted by the prompt's colours, more strongly deeper inside: neither flat nor the original.
    """
    rgb = image[..., :3]
    region = np.asarray(region, dtype=bool)  # a 0/1 uint8 mask would break `~` below
    out = rgb.copy()
    if not region.any():
        return out
    margin = max(8, int(np.sqrt(region.sum())) // 4)
    rows, cols = _bbox(region, margin)
    crop, inside = rgb[rows, cols], region[rows, cols]
    height, width = inside.shape
    factor = float(np.sqrt(height * width / _FILL_MAX_PIXELS))
    if factor > 1.0:
        small_size = (max(1, round(width / factor)), max(1, round(height / factor)))
        small_crop = resize(crop, *small_size)
        small_inside = resize(inside.astype(np.uint8) * 255, *small_size) > 127
        filled = resize(_fill_crop(small_crop, small_inside, prompt, seed), width, height)
    else:
        filled = _fill_crop(crop, inside, prompt, seed)
    out[rows, cols] = np.where(inside[..., None], filled, crop)
    return out


def blend_towards(source: np.ndarray, generated: np.ndarray, keep: float) -> np.ndarray:
    """Mix two same-size RGB images: keep=1 gives the source, keep=0 the generated image."""
    keep = min(1.0, max(0.0, keep))
    src = source[..., :3].astype(np.float32)
    mixed = src * keep + generated[..., :3].astype(np.float32) * (1.0 - keep)
    return np.clip(mixed + 0.5, 0, 255).astype(np.uint8)


def resize(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resample RGB or RGBA pixels to exactly (width, height)."""
    if image.shape[1] == width and image.shape[0] == height:
        return image.copy()
    pil = Image.fromarray(np.ascontiguousarray(image))
    return np.asarray(pil.resize((width, height), Image.Resampling.BICUBIC), dtype=np.uint8)


def region_from_prompt(height: int, width: int, prompt: str) -> np.ndarray:
    """A bool ellipse covering 5-40% of the image, placed and shaped by the prompt alone."""
    rng = rng_for("region_from_prompt", prompt)
    fraction = rng.uniform(0.08, 0.3)
    aspect = rng.uniform(0.6, 1.6)
    # Semi-axes as fractions of each side: area = pi * ry * rx * H * W.
    ry = min(0.49, float(np.sqrt(fraction / np.pi * aspect)))
    rx = min(0.49, fraction / np.pi / ry)
    cy = rng.uniform(ry, 1.0 - ry)
    cx = rng.uniform(rx, 1.0 - rx)
    ys = (np.arange(height, dtype=np.float32)[:, None] + 0.5) / height
    xs = (np.arange(width, dtype=np.float32)[None, :] + 0.5) / width
    mask: np.ndarray = ((ys - cy) / ry) ** 2 + ((xs - cx) / rx) ** 2 <= 1.0
    return mask


# Background removal works on a copy this size (longer side): enough for a mask, and fast.
_MASK_SIDE = 192
# Euclidean RGB distance within which a pixel counts as the border's colour.
_BACKGROUND_TOLERANCE = 28.0


def _dilate(mask: np.ndarray) -> np.ndarray:
    grown = mask.copy()
    grown[1:] |= mask[:-1]
    grown[:-1] |= mask[1:]
    grown[:, 1:] |= mask[:, :-1]
    grown[:, :-1] |= mask[:, 1:]
    return grown


def _background_mask(small: np.ndarray) -> np.ndarray:
    """Bool: pixels of the border's colours that connect to the border (a geodesic flood)."""
    height, width = small.shape[:2]
    border = np.concatenate([small[0], small[-1], small[:, 0], small[:, -1]])
    samples = border[np.linspace(0, len(border) - 1, 48).astype(int)]
    dist = np.sqrt(((small[:, :, None, :] - samples[None, None]) ** 2).sum(-1)).min(-1)
    ys = np.linspace(-1.0, 1.0, height, dtype=np.float32)[:, None]
    xs = np.linspace(-1.0, 1.0, width, dtype=np.float32)[None, :]
    # The subject sits mid-frame: only near-exact matches count as background toward the centre,
    # none at its very middle, the full tolerance toward the edges.
    centrality = np.sqrt(ys**2 + xs**2)
    ramp = np.clip((centrality - 0.4) / 0.4, 0.1, 1.0)
    similar = dist < _BACKGROUND_TOLERANCE * np.where(centrality < 0.1, 0.0, ramp)
    edge = np.zeros((height, width), dtype=bool)
    edge[0] = edge[-1] = True
    edge[:, 0] = edge[:, -1] = True
    reached = edge & similar
    for _ in range(height + width):
        grown = _dilate(reached) & similar
        if np.array_equal(grown, reached):
            break
        reached = grown
    background: np.ndarray = reached | edge
    return background


def remove_background(image: np.ndarray) -> np.ndarray:
    """RGBA: alpha 0 on the border and the border-coloured area joined to it, 255 on the subject.

    The subject is taken to sit mid-frame: the centre always stays opaque.
    """
    rgb = image[..., :3]
    height, width = rgb.shape[:2]
    factor = max(1.0, max(height, width) / _MASK_SIDE)
    small_w, small_h = max(1, round(width / factor)), max(1, round(height / factor))
    small = Image.fromarray(np.ascontiguousarray(rgb)).resize(
        (small_w, small_h), Image.Resampling.BOX
    )
    background = _background_mask(np.asarray(small, dtype=np.float32))
    mask = Image.fromarray(background.astype(np.uint8) * 255, mode="L")
    mask = mask.filter(ImageFilter.MedianFilter(5)).resize(
        (width, height), Image.Resampling.BILINEAR
    )
    is_background = np.asarray(mask) > 127
    is_background[[0, 0, -1, -1], [0, -1, 0, -1]] = True
    alpha = np.where(is_background, 0, 255).astype(np.uint8)
    return np.dstack([rgb, alpha])


def extend_canvas(
    image: np.ndarray,
    left: int,
    right: int,
    up: int,
    down: int,
    prompt: str | None,
    seed: int,
) -> np.ndarray:
    """RGB grown by the given margins; the original sits byte-identical at (up, left)."""
    rgb = image[..., :3]
    height, width = rgb.shape[:2]
    canvas = np.zeros((height + up + down, width + left + right, 3), dtype=np.uint8)
    canvas[up : up + height, left : left + width] = rgb
    region = np.ones(canvas.shape[:2], dtype=bool)
    region[up : up + height, left : left + width] = False
    return fill_region(canvas, region, prompt, seed)


def upscale(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Smoothly resample to exactly (width, height)."""
    pil = Image.fromarray(np.ascontiguousarray(image))
    return np.asarray(pil.resize((width, height), Image.Resampling.LANCZOS), dtype=np.uint8)


def recolor(image: np.ndarray, region: np.ndarray, prompt: str, seed: int) -> np.ndarray:
    """RGB; inside `region` pixels take the colour the prompt names (a seeded one if none)."""
    rgb = image[..., :3]
    region = np.asarray(region, dtype=bool)
    named = colors_in(prompt)
    if named:
        target = np.array(named[0], dtype=np.float32)
    else:
        target = rng_for("recolor", prompt, seed).integers(30, 230, size=3).astype(np.float32)
    luma = rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    shade = 0.35 + 0.9 * luma / 255.0
    tinted = np.clip(target[None, None] * shade[..., None] + 0.5, 0, 255).astype(np.uint8)
    return np.where(region[..., None], tinted, rgb)


def edges(image: np.ndarray) -> np.ndarray:
    """(H, W) float32 edge magnitude in 0..1 (Sobel on luminance, normalised to its maximum)."""
    luma = image[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    padded = np.pad(luma, 1, mode="edge")
    gx = (
        padded[:-2, 2:]
        + 2 * padded[1:-1, 2:]
        + padded[2:, 2:]
        - padded[:-2, :-2]
        - 2 * padded[1:-1, :-2]
        - padded[2:, :-2]
    )
    gy = (
        padded[2:, :-2]
        + 2 * padded[2:, 1:-1]
        + padded[2:, 2:]
        - padded[:-2, :-2]
        - 2 * padded[:-2, 1:-1]
        - padded[:-2, 2:]
    )
    magnitude = np.hypot(gx, gy)
    peak = float(magnitude.max())
    result: np.ndarray = (magnitude / peak if peak > 0 else magnitude).astype(np.float32)
    return result
