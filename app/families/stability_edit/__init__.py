"""Stability's editing Image Services: inpaint, outpaint, erase,
search-and-replace, search-and-recolor, remove background."""

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
