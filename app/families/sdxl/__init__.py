"""Stable Diffusion XL 1.0."""

from ..base import Family
from . import bedrock
from .adapter import ADAPTER, MODELS

FAMILY = Family(adapter=ADAPTER, models=MODELS, reader=bedrock.read, writer=bedrock.write)
