"""Stability's guided Image Services: control, style guide, style transfer and the upscalers."""

from ..base import Family
from ..stability_shapes import read_native, write_stability
from .adapter import ADAPTER, MODELS
from .examples import EXAMPLES

FAMILY = Family(
    adapter=ADAPTER,
    models=MODELS,
    reader=read_native,
    writer=write_stability,
    examples=EXAMPLES,
)
