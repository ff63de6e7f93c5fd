"""Pixel operations for guided generation: follow a sketch or a structure, adopt a style's colours.

They stand in for the Image Services' control and style tools, so that each of their strength knobs
has a measurable effect: the output tracks the guide's edges, or the style image's colours, more
closely as the knob rises.
"""

from __future__ import annotations

import numpy as np

from .edit import edges

# ITU-R BT.601 luma weights.
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def luminance(image: np.ndarray) -> np.ndarray:
    """(H, W) float32 luminance 0..255 of an RGB(A) image."""
    return np.asarray(image[..., :3], dtype=np.float32) @ _LUMA


def trace_sketch(generated: np.ndarray, guide: np.ndarray, strength: float) -> np.ndarray:
    """Draw the guide's edges as dark strokes over `generated`, darker as `strength` (0..1) rises.

    Both images are RGB of the same size; the result is RGB of that size.
    """
    magnitude = edges(guide)
    peak = float(magnitude.max())
    if peak > 0:
        magnitude = magnitude / peak
    shade = 1.0 - strength * magnitude[..., None]
    return _to_uint8(generated.astype(np.float32) * shade)


def follow_structure(generated: np.ndarray, guide: np.ndarray, strength: float) -> np.ndarray:
    """Move each pixel's luminance toward the guide's (0: unchanged, 1: the guide's shading).

    The colours stay `generated`'s, the shapes become the guide's. Same-size RGB in and out.
    """
    shift = strength * (luminance(guide) - luminance(generated))
    return _to_uint8(generated.astype(np.float32) + shift[..., None])


def transfer_colors(image: np.ndarray, style: np.ndarray) -> np.ndarray:
    """`image` recoloured to the style image's per-channel mean and spread (Reinhard-style).

    The content keeps its layout; its palette becomes the style's. RGB in (any two sizes), RGB out
    at `image`'s size.
    """
    source = image[..., :3].reshape(-1, 3).astype(np.float32)
    target = style[..., :3].reshape(-1, 3).astype(np.float32)
    scale = (target.std(axis=0) + 1.0) / (source.std(axis=0) + 1.0)
    moved = (source - source.mean(axis=0)) * scale + target.mean(axis=0)
    return _to_uint8(moved).reshape(image.shape[0], image.shape[1], 3)


def _to_uint8(values: np.ndarray) -> np.ndarray:
    clipped: np.ndarray = np.clip(np.rint(values), 0, 255).astype(np.uint8)
    return clipped
