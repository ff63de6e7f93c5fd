"""What Bedrock charges per image (or per token), by model id, task, size and quality.

The built-in table was gathered on PRICES_DATE from AWS's Bedrock price list (PRICES_SOURCE) for
on-demand use in us-east-1 / us-west-2; AWS changes prices, so every entry can be replaced or
added to with GATEWAY_PRICES. A model missing here has no known price: its answers report a cost
of null, GET /v1/models flags it, and GATEWAY_REQUIRE_PRICES refuses to start with it served.

Amounts are kept in micro-dollars (integers) so that sums across replicas are exact.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pybase64
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..families.base import Lifecycle, ModelEntry
from ..schemas.images import FinishReason, GeneratedImage
from ..schemas.requests import Task

PRICES_DATE = "2026-12-05"
PRICES_SOURCE = "https://aws.amazon.com/bedrock/pricing/ (on-demand, us-east-1 / us-west-2)"
MICROS = 1_000_000


class Tier(BaseModel):
    """A price for images of at most `max_pixels` pixels (width x height)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_pixels: int = Field(ge=1)
    image: float = Field(ge=0, description="USD per standard-quality image.")
    premium: float | None = Field(default=None, ge=0, description="USD per premium image.")


class Price(BaseModel):
    """One model's (or one of its tasks') price: per image, per image by size, or per token."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    image: float | None = Field(default=None, ge=0, description="USD per image.")
    premium: float | None = Field(default=None, ge=0, description="USD per premium image.")
    tiers: tuple[Tier, ...] = Field(default=(), description="Prices by size, smallest first.")
    input_tokens: float | None = Field(default=None, ge=0, description="USD per million.")
    output_tokens: float | None = Field(default=None, ge=0, description="USD per million.")
    reserve: float | None = Field(
        default=None, ge=0, description="Token-priced models: USD held per image before a call."
    )
    estimate: bool = Field(default=False, description="Not from AWS's price list.")
    source: str | None = None

    @property
    def kinds(self) -> int:
        """How many of the three ways to price it are given (one, when valid)."""
        return sum([self.image is not None, bool(self.tiers), self.output_tokens is not None])

    @model_validator(mode="after")
    def _one_kind(self) -> Price:
        if self.kinds != 1 and not self._may_be_empty():
            raise ValueError("give exactly one of image, tiers, or input_tokens/output_tokens")
        if self.output_tokens is not None and self.reserve is None:
            raise ValueError("a token price needs `reserve`, the USD held per image before a call")
        if list(self.tiers) != sorted(self.tiers, key=lambda t: t.max_pixels):
            raise ValueError("tiers: smallest max_pixels first")
        return self

    def _may_be_empty(self) -> bool:
        return False


class ModelPrice(Price):
    """A model's entry: its price, and prices of its own for some tasks."""

    tasks: dict[Task, Price] = Field(default_factory=dict)

    def _may_be_empty(self) -> bool:
        # An entry may price only some tasks (the others then have no known price).
        return self.kinds == 0 and bool(self.tasks)


_LIST = "AWS Bedrock price list"
_ESTIMATE = "estimate: AWS publishes no per-token input price for the Nova 2 Omni preview"


def _image(usd: float) -> dict[str, Any]:
    return {"image": usd, "source": _LIST}


def _sized(*tiers: tuple[int, float, float]) -> dict[str, Any]:
    return {
        "tiers": [{"max_pixels": p, "image": s, "premium": q} for p, s, q in tiers],
        "source": _LIST,
    }


_TITAN = _sized((512 * 512, 0.008, 0.01), (1024 * 1024, 0.01, 0.012))
_NOVA_CANVAS = _sized((1024 * 1024, 0.04, 0.06), (2048 * 2048, 0.06, 0.08))

# Models absent here (Outpaint, Erase, Search and Recolor, Control Structure, Style Guide, the
# retired SD3 Large and Stable Image v1:0 models, SDXL 0.8) had no price in the list: unknown.
BUILTIN: dict[str, dict[str, Any]] = {
    "stability.stable-image-ultra-v1:1": _image(0.14),
    "stability.sd3-5-large-v1:0": _image(0.08),
    "stability.stable-image-core-v1:1": _image(0.04),
    "stability.stable-fast-upscale-v1:0": _image(0.03),
    "stability.stable-conservative-upscale-v1:0": _image(0.40),
    "stability.stable-creative-upscale-v1:0": _image(0.60),
    "stability.stable-image-inpaint-v1:0": _image(0.07),
    "stability.stable-image-remove-background-v1:0": _image(0.07),
    "stability.stable-image-control-sketch-v1:0": _image(0.07),
    "stability.stable-image-search-replace-v1:0": _image(0.07),
    "stability.stable-style-transfer-v1:0": _image(0.08),
    # SDXL's premium price is for more than 50 steps, which the gateway does not allow.
    "stability.stable-diffusion-xl-v1": _image(0.04),
    "amazon.titan-image-generator-v1": _TITAN,
    "amazon.titan-image-generator-v2:0": _TITAN,
    "amazon.nova-canvas-v1:0": _NOVA_CANVAS,
    # Image output tokens at the geo profile's $44 per million (global: $40), the higher one so
    # budgets err on the safe side; input at an estimated $0.30 per million; $0.10 held per image
    # (about 2,000 output tokens, a 1024x1024 image being about 1,300) until the call reports its
    # tokens.
    "amazon.nova-2-omni-v1:0": {
        "input_tokens": 0.30,
        "output_tokens": 44.0,
        "reserve": 0.10,
        "estimate": True,
        "source": f"{_LIST} (output); {_ESTIMATE}",
    },
}


class PriceConfigError(ValueError):
    """GATEWAY_PRICES holds an entry that is not a valid price, or a served model has none when
    GATEWAY_REQUIRE_PRICES is set (raised at start-up)."""


@dataclass(frozen=True)
class Quote:
    """A request's price, known before its calls: what to hold per image, how to settle."""

    price: Price | None
    premium: bool = False
    pixels: int | None = None

    @property
    def by_token(self) -> bool:
        """Whether the model is priced per token."""
        return self.price is not None and self.price.output_tokens is not None

    def hold(self, images: int) -> int:
        """Micro-dollars to reserve for `images` images: their price, or the bound per image."""
        if self.price is None:
            return 0
        if self.by_token:
            return images * _micros(self.price.reserve or 0.0)
        return images * self._per_image(self.pixels)

    def cost(self, images: Iterable[GeneratedImage]) -> Cost:
        """What the images actually returned cost: produced images at their price (a filtered or
        failed one is not charged), or the tokens each call reported."""
        listed = list(images)
        produced = [i for i in listed if i.finish_reason is FinishReason.SUCCESS]
        if self.price is None:
            return Cost(None, len(produced))
        if self.by_token:
            spent = made = 0
            for usage in (i.usage for i in listed if i.usage is not None):
                spent, made = spent + usage[0], made + usage[1]
            micros = round(
                spent * (self.price.input_tokens or 0.0) + made * (self.price.output_tokens or 0.0)
            )
            return Cost(micros, len(produced), spent, made)
        micros = sum(self._per_image(_pixels_of(i) or self.pixels) for i in produced)
        return Cost(micros, len(produced))

    def _per_image(self, pixels: int | None) -> int:
        price = self.price
        assert price is not None
        if price.tiers:
            # Unknown size: the largest tier (the settlement reads the size of each image).
            tier = next(
                (t for t in price.tiers if pixels is not None and pixels <= t.max_pixels),
                price.tiers[-1],
            )
            usd = tier.premium if self.premium and tier.premium is not None else tier.image
            return _micros(usd)
        if self.premium and price.premium is not None:
            return _micros(price.premium)
        return _micros(price.image or 0.0)


@dataclass(frozen=True)
class Cost:
    """What one answer cost: micro-dollars (None: price unknown), images and tokens."""

    micros: int | None
    images: int
    input_tokens: int | None = None
    output_tokens: int | None = None

    @property
    def usd(self) -> float | None:
        """The cost in dollars, None when the price is unknown."""
        return None if self.micros is None else self.micros / MICROS


FREE = Cost(0, 0)


class PriceTable:
    """The built-in prices with the operator's entries (GATEWAY_PRICES) over them."""

    def __init__(
        self,
        overrides: Mapping[str, Any] | None = None,
        resolve: Callable[[str], ModelEntry | None] | None = None,
    ) -> None:
        """The built-in table with `overrides` (GATEWAY_PRICES) over it, each named model
        resolved to its id by `resolve` (the registry's); PriceConfigError for a bad entry."""
        entries = {model: ModelPrice.model_validate(raw) for model, raw in BUILTIN.items()}
        for name, raw in (overrides or {}).items():
            label = f"GATEWAY_PRICES[{name[:100]!r}]"
            model = name
            if resolve is not None:
                entry = resolve(name)
                if entry is None:
                    raise PriceConfigError(f"{label}: no model is named {name[:100]!r}")
                model = entry.id
            try:
                entries[model] = ModelPrice.model_validate(raw)
            except ValidationError as exc:
                problems = "; ".join(
                    f"{'.'.join(str(p) for p in e['loc']) or 'entry'}: {e['msg']}"
                    for e in exc.errors()
                )
                raise PriceConfigError(f"{label} is not a valid price: {problems}") from None
        self._entries = entries

    def price(self, model_id: str, task: Task | None) -> Price | None:
        """The price of `task` on `model_id` (its task's own, else the model's), or None."""
        entry = self._entries.get(model_id)
        if entry is None:
            return None
        if task is not None and task in entry.tasks:
            return entry.tasks[task]
        if entry.kinds == 0:  # an entry pricing some tasks only
            return None
        return Price.model_validate(entry.model_dump(exclude={"tasks"}))

    def quote(self, model_id: str, task: Task | None, fields: Mapping[str, Any]) -> Quote:
        """The price of a request for `task` on `model_id`, its fields (`quality`, `width`,
        `height`) picking the tier."""
        width, height = fields.get("width"), fields.get("height")
        pixels = width * height if isinstance(width, int) and isinstance(height, int) else None
        premium = fields.get("quality") == "premium"
        return Quote(self.price(model_id, task), premium=premium, pixels=pixels)

    def describe(self, entry: ModelEntry) -> dict[str, Any] | None:
        """The model's prices as GET /v1/models shows them; None when none is known."""
        found = self._entries.get(entry.id)
        if found is None:
            return None
        return found.model_dump(exclude_none=True, exclude_defaults=True, mode="json")

    def require(self, models: Iterable[ModelEntry]) -> None:
        """Raise PriceConfigError naming the served models without a price (require_prices)."""
        missing = self.unpriced(models)
        if missing:
            raise PriceConfigError(
                f"GATEWAY_REQUIRE_PRICES: no price for {', '.join(missing)}; give them in "
                "GATEWAY_PRICES"
            )

    def unpriced(self, models: Iterable[ModelEntry]) -> list[str]:
        """The ids of the served (not retired) models without a price for some task."""
        return [e.id for e in models if e.status is not Lifecycle.RETIRED and not self.known(e)]

    def known(self, entry: ModelEntry) -> bool:
        """Whether every task of `entry` has a price."""
        return all(self.price(entry.id, task) is not None for task in entry.tasks)


def _micros(usd: float) -> int:
    return round(usd * MICROS)


def _pixels_of(image: GeneratedImage) -> int | None:
    """Width x height of a PNG from its header (the first 32 base64 characters); None for any
    other format."""
    if image.b64 is None:
        return None
    head = image.b64[:32]
    text = head if isinstance(head, str) else str(head, "ascii")
    raw = pybase64.b64decode(text)
    if not raw.startswith(b"\x89PNG\r\n\x1a\n") or len(raw) < 24:
        return None
    width, height = struct.unpack(">II", raw[16:24])
    return int(width) * int(height)
