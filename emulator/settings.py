"""The emulator's settings, read from `EMULATOR_*` environment variables."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class EmulatorSettings(BaseSettings):
    """Where the emulator listens and how it behaves before any control call changes it."""

    model_config = SettingsConfigDict(env_prefix="EMULATOR_")

    host: str = "127.0.0.1"
    port: int = 8001
    region: str = "us-east-1"  # only used to spell ARNs in error bodies
    # Models answered as end-of-life (404), for migration tests; comma-separated in the environment.
    retired_models: Annotated[list[str], NoDecode] = []
    # The content filter: a prompt containing one of these words (case-insensitive) is blocked.
    blocked_words: Annotated[list[str], NoDecode] = ["forbidden"]
    max_body_bytes: int = 25_000_000
    # Requests kept for GET /_emulator/requests; the oldest are dropped past this.
    max_recorded: int = 1000

    @field_validator("retired_models", "blocked_words", mode="before")
    @classmethod
    def _split_commas(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value
