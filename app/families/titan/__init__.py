"""Amazon Titan Image Generator v1 and v2 and Nova Canvas: one schema,
each entry's limits over v1's."""

from ..base import Family
from . import bedrock
from .adapter import ADAPTER, MODELS
from .examples import EXAMPLES
from .retirement import RETIREMENT
from .vocabulary import OPENAI

FAMILY = Family(
    adapter=ADAPTER,
    models=MODELS,
    reader=bedrock.read,
    writer=bedrock.write,
    retirement=RETIREMENT,
    openai=OPENAI,
    examples=EXAMPLES,
)
