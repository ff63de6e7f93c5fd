"""Stable Diffusion XL 1.0."""

from ..base import Family
from . import bedrock
from .adapter import ADAPTER, MODELS
from .examples import EXAMPLES
from .retirement import RETIREMENT

FAMILY = Family(
    adapter=ADAPTER,
    models=MODELS,
    reader=bedrock.read,
    writer=bedrock.write,
    retirement=RETIREMENT,
    examples=EXAMPLES,
)
