"""Stability text-to-image: SD3.5 Large, Stable Image Ultra and Core
(and their retired versions).
"""

from ..base import Family
from . import bedrock
from .adapter import ADAPTER, MODELS
from .examples import EXAMPLES

FAMILY = Family(
    adapter=ADAPTER,
    models=MODELS,
    reader=bedrock.read,
    writer=bedrock.write,
    examples=EXAMPLES,
)
