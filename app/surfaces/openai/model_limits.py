"""What the OpenAI surface needs to know of a model to adapt a request to it: the sizes it draws,
the longest prompt and the largest input image it takes, as its family tells them (through the
registry), so every family and every configured model is covered alike."""

from __future__ import annotations

from ...families.base import ModelEntry
from ...families.vocabulary import OpenAIVocabulary, SizeRule, Sizing
from ...tasks.validation import RequestValidator

ModelLimits = Sizing
__all__ = ["ModelLimits", "SizeRule", "limits_of", "vocabulary_of"]


def limits_of(validator: RequestValidator, entry: ModelEntry | None) -> ModelLimits:
    """`entry`'s limits; none known for no model (validation then names what is missing)."""
    if entry is None:
        return ModelLimits()
    return validator.registry.adapter(entry).sizing(entry)


def vocabulary_of(validator: RequestValidator, entry: ModelEntry | None) -> OpenAIVocabulary:
    """How OpenAI's parameters map onto `entry`'s family; the defaults for no model."""
    if entry is None:
        return OpenAIVocabulary()
    return validator.registry.family(entry).openai
