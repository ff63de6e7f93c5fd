"""Stability's 17 style presets as cheap, recognisable filters over a drawn image."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import Image, ImageFilter

_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)

Filter = Callable[[np.ndarray], np.ndarray]


def _f32(pixels: np.ndarray) -> np.ndarray:
    return pixels.astype(np.float32)


def _u8(values: np.ndarray) -> np.ndarray:
    pixels: np.ndarray = np.clip(values + 0.5, 0, 255).astype(np.uint8)
    return pixels


def _luma(values: np.ndarray) -> np.ndarray:
    luma: np.ndarray = values @ _LUMA
    return luma[..., None]


def _saturate(values: np.ndarray, amount: float) -> np.ndarray:
    grey = _luma(values)
    saturated: np.ndarray = grey + (values - grey) * amount
    return saturated


def _contrast(values: np.ndarray, amount: float) -> np.ndarray:
    stretched: np.ndarray = 128.0 + (values - 128.0) * amount
    return stretched


def _posterize(values: np.ndarray, levels: int) -> np.ndarray:
    step = 255.0 / (levels - 1)
    banded: np.ndarray = np.round(values / step) * step
    return banded


def _edges(pixels: np.ndarray) -> np.ndarray:
    """(H, W, 1) float32 0..1 edge strength, from PIL's edge filter on luminance."""
    grey = Image.fromarray(pixels).convert("L").filter(ImageFilter.FIND_EDGES)
    strength = np.asarray(grey, dtype=np.float32) / 255.0
    boosted: np.ndarray = np.clip(strength * 6.0, 0.0, 1.0)[..., None]
    return boosted


def _blocks(pixels: np.ndarray, cell: int, smooth: bool = False) -> np.ndarray:
    height, width = pixels.shape[:2]
    image = Image.fromarray(pixels)
    small = image.resize((max(1, width // cell), max(1, height // cell)), Image.Resampling.BOX)
    method = Image.Resampling.BILINEAR if smooth else Image.Resampling.NEAREST
    return np.asarray(small.resize((width, height), method))


def _blur(pixels: np.ndarray, radius: float) -> np.ndarray:
    """A Gaussian blur computed on a quarter-size copy: same look, a fraction of the cost."""
    height, width = pixels.shape[:2]
    small = Image.fromarray(pixels).resize(
        (max(1, width // 4), max(1, height // 4)), Image.Resampling.BOX
    )
    blurred = small.filter(ImageFilter.GaussianBlur(radius / 4.0))
    return np.asarray(blurred.resize((width, height), Image.Resampling.BILINEAR))


def _grade(
    values: np.ndarray, shadows: tuple[float, ...], highlights: tuple[float, ...]
) -> np.ndarray:
    """Tint dark tones toward `shadows` and light tones toward `highlights` (RGB multipliers)."""
    light = _luma(values) / 255.0
    tint = np.array(shadows, np.float32) * (1.0 - light) + np.array(highlights, np.float32) * light
    graded: np.ndarray = values * tint
    return graded


def _three_d_model(p: np.ndarray) -> np.ndarray:
    return _u8(_contrast(_f32(_blur(p, 4.0)), 1.35))


def _analog_film(p: np.ndarray) -> np.ndarray:
    values = _grade(_f32(p), (1.05, 1.0, 0.9), (1.08, 1.02, 0.88))
    rows = np.arange(p.shape[0], dtype=np.float32)[:, None, None]
    grain = 6.0 * np.sin(rows * 2.7 + np.arange(p.shape[1], dtype=np.float32)[None, :, None] * 1.3)
    return _u8(20.0 + values * 0.88 + grain)


def _anime(p: np.ndarray) -> np.ndarray:
    return _u8(_posterize(_saturate(_f32(p), 1.4), 6))


def _cinematic(p: np.ndarray) -> np.ndarray:
    return _u8(_contrast(_grade(_f32(p), (0.8, 1.0, 1.15), (1.15, 1.0, 0.8)), 1.2))


def _comic_book(p: np.ndarray) -> np.ndarray:
    return _u8(_posterize(_saturate(_f32(p), 1.3), 4) * (1.0 - _edges(p)))


def _digital_art(p: np.ndarray) -> np.ndarray:
    return _u8(_contrast(_saturate(_f32(p), 1.35), 1.15))


def _enhance(p: np.ndarray) -> np.ndarray:
    values = _f32(p)
    sharpened = values + (values - _f32(_blur(p, 4.0))) * 0.8
    return _u8(_contrast(sharpened, 1.1))


def _fantasy_art(p: np.ndarray) -> np.ndarray:
    glow = _f32(_blur(p, 12.0))
    values = _grade(_f32(p), (1.0, 0.85, 1.2), (1.15, 1.05, 0.85))
    return _u8(values * 0.75 + glow * 0.35)


def _isometric(p: np.ndarray) -> np.ndarray:
    height, width = p.shape[:2]
    ys = np.arange(height)[:, None]
    xs = np.arange(width)[None, :]
    grid = ((xs + 2 * ys) % 48 < 2) | ((xs - 2 * ys) % 48 < 2)
    values = _posterize(_f32(p), 7)
    return _u8(np.where(grid[..., None], values * 0.7, values))


def _line_art(p: np.ndarray) -> np.ndarray:
    return _u8(np.repeat(255.0 * (1.0 - _edges(p)), 3, axis=2))


def _low_poly(p: np.ndarray) -> np.ndarray:
    return _blocks(p, max(8, min(p.shape[:2]) // 24))


def _modeling_compound(p: np.ndarray) -> np.ndarray:
    return _u8(_saturate(_posterize(_f32(_blur(p, 4.0)), 5), 1.2))


def _neon_punk(p: np.ndarray) -> np.ndarray:
    glow = _edges(p) * np.array([255.0, 40.0, 230.0], np.float32)
    return _u8(_saturate(_f32(p), 1.6) * 0.55 + glow)


def _origami(p: np.ndarray) -> np.ndarray:
    return _u8(_posterize(_f32(_blocks(p, max(6, min(p.shape[:2]) // 32), smooth=True)), 4))


def _photographic(p: np.ndarray) -> np.ndarray:
    """A little contrast and a lens vignette."""
    ys = np.linspace(-1.0, 1.0, p.shape[0], dtype=np.float32)[:, None]
    xs = np.linspace(-1.0, 1.0, p.shape[1], dtype=np.float32)[None, :]
    vignette = 1.0 - 0.3 * (ys**2 + xs**2) / 2.0
    return _u8(_contrast(_f32(p), 1.1) * vignette[..., None])


def _pixel_art(p: np.ndarray) -> np.ndarray:
    return _u8(_posterize(_f32(_blocks(p, max(4, min(p.shape[:2]) // 64))), 8))


def _tile_texture(p: np.ndarray) -> np.ndarray:
    """Mirror the top-left quarter into all four: the result tiles seamlessly."""
    height, width = p.shape[:2]
    quarter = p[: (height + 1) // 2, : (width + 1) // 2]
    top = np.concatenate([quarter, quarter[:, ::-1]], axis=1)[:, :width]
    return np.ascontiguousarray(np.concatenate([top, top[::-1]], axis=0)[:height])


PRESET_FILTERS: dict[str, Filter] = {
    "3d-model": _three_d_model,
    "analog-film": _analog_film,
    "anime": _anime,
    "cinematic": _cinematic,
    "comic-book": _comic_book,
    "digital-art": _digital_art,
    "enhance": _enhance,
    "fantasy-art": _fantasy_art,
    "isometric": _isometric,
    "line-art": _line_art,
    "low-poly": _low_poly,
    "modeling-compound": _modeling_compound,
    "neon-punk": _neon_punk,
    "origami": _origami,
    "photographic": _photographic,
    "pixel-art": _pixel_art,
    "tile-texture": _tile_texture,
}


def apply_style_preset(pixels: np.ndarray, preset: str | None) -> np.ndarray:
    """RGB restyled by one of the 17 presets (None or an unknown name: unchanged)."""
    rgb = np.ascontiguousarray(pixels[..., :3])
    style = PRESET_FILTERS.get(preset) if preset else None
    return style(rgb) if style is not None else rgb
