"""Amazon Nova 2 Omni through Converse: images from text, instruction edits without a mask."""

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
