"""How OpenAI's `quality` maps onto Titan's and Nova Canvas's (the only models with one)."""

from ..vocabulary import OpenAIVocabulary

OPENAI = OpenAIVocabulary(
    quality={
        "standard": "standard",
        "low": "standard",
        "medium": "standard",
        "hd": "premium",
        "high": "premium",
        "xhigh": "premium",
        "max": "premium",
    },
    # Titan's quality as OpenAI names the quality an answer was drawn at.
    drawn_quality={"standard": "medium", "premium": "high"},
    default_quality="standard",
)
