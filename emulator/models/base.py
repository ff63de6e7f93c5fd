"""What every emulated model is: a validator and image maker behind one `invoke` callable."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class BedrockError(Exception):
    """An error Bedrock answers with: `x-amzn-ErrorType: <code>` and a `{"message": ...}` body."""

    def __init__(
        self, code: str, status: int, message: str, extra: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.message = message
        self.extra = extra or {}


def validation_error(message: str) -> BedrockError:
    """A 400 ValidationException; the message names the offending field, as Bedrock's do."""
    return BedrockError("ValidationException", 400, message)


@dataclass(frozen=True)
class Invocation:
    """One InvokeModel call as a model handler sees it."""

    model_id: str  # the canonical foundation-model id, after profile/ARN resolution
    requested_id: str  # the id exactly as the caller sent it (decoded)
    body: dict[str, Any]  # the parsed JSON body
    blocked_words: tuple[str, ...] = ()  # content filter: lower-case words that trip it


Handler = Callable[[Invocation], dict[str, Any]]


@dataclass(frozen=True)
class ModelSpec:
    """A model the emulator serves."""

    model_id: str
    family: str  # "titan", "sdxl", "stability-t2i", "stability-service"
    invoke: Handler  # validates the body (raising BedrockError) and returns the response JSON
    # The Converse operation, for models that serve it; None answers Converse's refusal.
    converse: Handler | None = None
    profile_only: bool = False  # callable only through a geo inference profile (us., eu., ...)
    tasks: tuple[str, ...] = field(default=())


# A blocked word that every text contains: the ContentFiltered fault's filter.
ANY_WORD = "*"


def is_blocked(blocked_words: tuple[str, ...], *texts: str | None) -> bool:
    """The content filter: whether any text contains a blocked word (whole word, any case)."""
    if ANY_WORD in blocked_words:
        return True
    joined = " ".join(text for text in texts if text).lower()
    return any(re.search(rf"\b{re.escape(word.lower())}\b", joined) for word in blocked_words)
