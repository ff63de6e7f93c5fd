"""What the thirteen Image Services share (reference §4b): common fields, input images and masks,
the seed, the content filter, and the `{"seeds", "finish_reasons", "images"}` answer.

A tool builds one `ServiceForm` per call and reads each field through it: every violation is
collected, named by its JSON path, and a field that fails reads as a placeholder. `finish()` then
raises the violations as one ValidationException, or answers a filtered prompt, so no placeholder
ever reaches the pixel work.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from ...imaging.codec import ImageDecodeError, decode_b64, encode_b64, image_info
from ...imaging.presets import apply_style_preset
from ..base import Invocation, is_blocked
from ..checks import Checker
from ..vocab import FILTER_PROMPT, OUTPUT_FORMATS, STABILITY_SEED_MAX, STYLE_PRESETS

PROMPT_MAX = 10_000
# The text fields the content filter reads.
_FILTERED_FIELDS = frozenset({"prompt", "negative_prompt", "search_prompt", "select_prompt"})
_PLACEHOLDER = np.zeros((1, 1, 3), dtype=np.uint8)


@dataclass(frozen=True)
class ImageLimits:
    """Size limits on an input image; the defaults are §4b's "unless stated" ones."""

    min_side: int = 64
    max_side: int | None = None
    min_pixels: int = 0
    max_pixels: int = 9_437_184
    max_aspect: float = 2.5

    def problems(self, width: int, height: int) -> list[str]:
        """Why a width x height image is refused (empty when it is accepted)."""
        size, pixels = f"{width}x{height}", width * height
        found = []
        if min(width, height) < self.min_side:
            found.append(f"{size} image: each side must be at least {self.min_side} pixels")
        if self.max_side is not None and max(width, height) > self.max_side:
            found.append(f"{size} image: each side must be at most {self.max_side} pixels")
        if pixels < self.min_pixels:
            found.append(
                f"{size} image has {pixels} pixels, fewer than the minimum {self.min_pixels}"
            )
        if pixels > self.max_pixels:
            found.append(
                f"{size} image has {pixels} pixels, more than the maximum {self.max_pixels}"
            )
        if max(width, height) > self.max_aspect * min(width, height):
            found.append(f"{size} image: aspect ratio must be between 1:2.5 and 2.5:1")
        return found


DEFAULT_LIMITS = ImageLimits()
# A mask only has to match its image, which is checked separately.
_MASK_LIMITS = ImageLimits(min_side=1, max_pixels=2**62, max_aspect=float("inf"))


class ServiceForm:
    """One Image Services body under validation, then the answer built from it."""

    def __init__(self, invocation: Invocation, allowed: Collection[str]) -> None:
        self.invocation = invocation
        self.body = invocation.body
        self.check = Checker()
        self.allowed = frozenset(allowed)
        self.check.unknown(self.body, allowed, "#")
        self.seed = 0  # the seed reported back; resolved by finish()
        self.negative_prompt: str | None = None
        self.style_preset: str | None = None
        self._texts: list[str] = []

    def image(self, key: str, *, limits: ImageLimits = DEFAULT_LIMITS) -> np.ndarray:
        """A required raw-base64 input image within `limits`, decoded (RGB, or RGBA with alpha)."""
        decoded = self._decode(key, limits)
        return _PLACEHOLDER if decoded is None else decoded

    def text(self, key: str) -> str:
        """A required prompt-like field of 1..10,000 characters."""
        return self._text(key, required=True) or ""

    def optional_text(self, key: str) -> str | None:
        """An optional prompt-like field of at most 10,000 characters."""
        return self._text(key, required=False)

    def integer(self, key: str, lo: int, hi: int, default: int) -> int:
        """An optional integer field within [lo, hi]."""
        value = self.check.integer(self.body, key, "#", lo=lo, hi=hi, default=default)
        return default if value is None else value

    def number(self, key: str, lo: float, hi: float, default: float) -> float:
        """An optional number field within [lo, hi]."""
        value = self.check.number(self.body, key, "#", lo=lo, hi=hi, default=default)
        return default if value is None else value

    def output_format(self, choices: tuple[str, ...] = OUTPUT_FORMATS) -> str:
        """`output_format`, png by default."""
        return self.check.enum(self.body, "output_format", "#", choices, default="png") or "png"

    def variety(self) -> None:
        """Read what varies the picture without steering it: seed, style_preset, negative_prompt.

        Call it for every tool; each field is read only where the tool takes it.
        """
        if "seed" in self.allowed:
            self.seed = self.integer("seed", 0, STABILITY_SEED_MAX, 0)
        if "style_preset" in self.allowed:
            self.style_preset = self.check.enum(self.body, "style_preset", "#", STYLE_PRESETS)
        if "negative_prompt" in self.allowed:
            self.negative_prompt = self.optional_text("negative_prompt")

    def edit_region(self, image: np.ndarray) -> np.ndarray:
        """The area to change: `mask` (white = change), else the image alpha (transparent = change).

        `image` is what `image()` returned for the image field.
        """
        if "mask" in self.body:
            mask = self._decode("mask", _MASK_LIMITS)
            if mask is None or image is _PLACEHOLDER:
                return np.zeros(image.shape[:2], dtype=bool)
            if mask.shape[:2] != image.shape[:2]:
                self.check.fail(
                    "#/mask",
                    f"mask is {mask.shape[1]}x{mask.shape[0]} but image is "
                    f"{image.shape[1]}x{image.shape[0]}; they must be the same size",
                )
            return np.asarray(_luminance(mask) >= 128)
        if image.shape[2] == 4:
            return np.asarray(image[..., 3] < 128)
        if image is not _PLACEHOLDER:
            self.check.fail("#", "required key [mask] not found, and image has no alpha channel")
        return np.zeros(image.shape[:2], dtype=bool)

    def finish(self) -> dict[str, Any] | None:
        """Raise every violation found; resolve the seed; answer a filtered prompt, else None."""
        self.check.done()
        if self.seed == 0:
            self.seed = _seed_from_body(self.invocation)
        if is_blocked(self.invocation.blocked_words, *self._texts):
            return {"seeds": [self.seed], "finish_reasons": [FILTER_PROMPT], "images": []}
        return None

    @property
    def pixel_seed(self) -> int:
        """The seed the pixels are drawn with: the request's, mixed with what varies the picture."""
        parts = (self.invocation.model_id, self.seed, self.style_preset, self.negative_prompt)
        digest = hashlib.sha256(repr(parts).encode()).digest()
        return int.from_bytes(digest[:4], "big")

    def styled(self, result: np.ndarray, region: np.ndarray | None = None) -> np.ndarray:
        """`result` in the requested style_preset; only inside `region` when one is given, so that
        what the tool keeps stays byte-identical."""
        if self.style_preset is None:
            return result
        restyled = apply_style_preset(result, self.style_preset)
        return restyled if region is None else np.where(region[..., None], restyled, result)

    def respond(self, pixels: np.ndarray, fmt: str) -> dict[str, Any]:
        """The §4 answer: one image in `fmt`, its seed, no finish reason."""
        return {"seeds": [self.seed], "finish_reasons": [None], "images": [encode_b64(pixels, fmt)]}

    def _text(self, key: str, *, required: bool) -> str | None:
        value = self.check.string(
            self.body, key, "#", required=required, min_len=int(required), max_len=PROMPT_MAX
        )
        if value is not None and key in _FILTERED_FIELDS:
            self._texts.append(value)
        return value

    def _decode(self, key: str, limits: ImageLimits) -> np.ndarray | None:
        value = self.check.string(self.body, key, "#", required=True, min_len=1)
        if not value:
            return None
        where = f"#/{key}"
        if value.startswith("data:"):
            self.check.fail(where, "expected raw base64 image data, found a data: URI prefix")
            return None
        try:
            _, width, height, _, _ = image_info(value)
        except ImageDecodeError as err:
            self.check.fail(where, f"invalid image: {err}")
            return None
        problems = limits.problems(width, height)
        for problem in problems:
            self.check.fail(where, problem)
        if problems:
            return None
        try:
            return decode_b64(value)
        except ImageDecodeError as err:
            self.check.fail(where, f"invalid image: {err}")
            return None


def rgb(image: np.ndarray) -> np.ndarray:
    """The colour channels of an RGB or RGBA image, as a contiguous RGB array."""
    return np.ascontiguousarray(image[..., :3])


def _luminance(image: np.ndarray) -> np.ndarray:
    channels = image[..., :3].astype(np.uint16)
    return (channels[..., 0] * 77 + channels[..., 1] * 150 + channels[..., 2] * 29) >> 8


def _seed_from_body(invocation: Invocation) -> int:
    """Seed 0 means "random": derive one from the body so the answer stays deterministic."""
    encoded = orjson.dumps(invocation.body, option=orjson.OPT_SORT_KEYS)
    digest = hashlib.sha256(invocation.model_id.encode() + b"\0" + encoded).digest()
    return 1 + int.from_bytes(digest[:8], "big") % STABILITY_SEED_MAX
